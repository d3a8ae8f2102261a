// SPDX-License-Identifier: GPL-2.0
/*
 * The mirror's walk of the CPU page tables: what hmm_range_fault() and
 * follow_pfnmap_start() find under the mmap lock, for the pages of one
 * memslot.  The protocol around it (sequence counts, the mirror lock,
 * what to install) is in Rust: src/sys/walk.rs and src/fault.rs.
 */
#include <linux/hmm.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/userfaultfd_k.h>
#include <uapi/linux/magic.h>

#include "guestmap.h"

/*
 * The order of the CPU's mapping follow_pfnmap_start() found, called with
 * its lock held.  6.12 reports no level, but it leaves @args->ptep NULL
 * for a leaf above the pte level (pfnmap_args_setup()): then it is a PUD
 * leaf or a PMD one, which the PUD, stable under that lock, tells.
 */
static unsigned int gm_pfnmap_order(struct follow_pfnmap_args *args)
{
	struct mm_struct *mm = args->vma->vm_mm;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	if (args->ptep)
		return 0;
	pgd = pgd_offset(mm, args->address);
	p4d = p4d_offset(pgd, args->address);
	pud = pud_offset(p4d, args->address);
	return pud_leaf(pudp_get(pud)) ? PUD_SHIFT - PAGE_SHIFT :
					 PMD_SHIFT - PAGE_SHIFT;
}

/* VM_PFNMAP and VM_IO pages, one mapping at a time; see gm_mirror_walk(). */
static int gm_walk_pfnmap(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, bool write, u64 *out)
{
	unsigned long addr, next;
	int tries;

	mmap_assert_locked(vma->vm_mm);
	/*
	 * On x86 a PROT_NONE pte is pte_present(), and follow_pfnmap_start()
	 * hands it back like any other: the vma's permissions are the check,
	 * as for the hmm walk and GUP.
	 */
	if (!(vma->vm_flags & VM_READ) || (write && !(vma->vm_flags & VM_WRITE)))
		return -EFAULT;
	for (addr = start; addr < end; addr = next) {
		next = addr + PAGE_SIZE;
		for (tries = 0;; tries++) {
			struct follow_pfnmap_args args = {
				.vma = vma, .address = addr,
			};
			bool unlocked = false;
			int ret;

			if (!follow_pfnmap_start(&args)) {
				bool ok = args.writable || !write;
				unsigned int order = gm_pfnmap_order(&args);
				u64 flags = GM_PFN_VALID | GM_PFN_SPECIAL |
					    (args.writable ? GM_PFN_WRITE : 0) |
					    ((u64)order << GM_PFN_ORDER_SHIFT);
				unsigned long i;

				/* One huge leaf maps the rest of its block. */
				if (ok) {
					next = min(end, ALIGN(addr + 1,
							      PAGE_SIZE << order));
					for (i = 0; addr + (i << PAGE_SHIFT) < next; i++)
						*out++ = (args.pfn + i) | flags;
				}
				follow_pfnmap_end(&args);
				if (ok)
					break;
			}
			/* As hva_to_pfn_remapped(): let the vma fault it. */
			if (tries)
				return -EFAULT;
			ret = fixup_user_fault(vma->vm_mm, addr,
					       write ? FAULT_FLAG_WRITE : 0,
					       &unlocked);
			if (ret)
				return ret;
			/* The lock was dropped: the vma may be gone. */
			if (unlocked)
				return -EBUSY;
		}
	}
	return 0;
}

/*
 * Secret memory (memfd_secret()) is removed from the kernel's direct map:
 * reading it through a mirror entry would fault.  GUP refuses it, and so
 * must the mirror; hmm_range_fault() does not.  vma_is_secretmem() is not
 * exported, but its files live on the secretmem pseudo-filesystem.
 */
static bool gm_vma_is_secretmem(struct vm_area_struct *vma)
{
	return vma->vm_file &&
	       file_inode(vma->vm_file)->i_sb->s_magic == SECRETMEM_MAGIC;
}

/* Whether hmm's snapshot entry @h needs a fault for the access asked. */
static bool gm_hmm_needs_fault(unsigned long h, bool write)
{
	return !(h & HMM_PFN_VALID) || (h & HMM_PFN_ERROR) ||
	       (write && !(h & HMM_PFN_WRITE));
}

/*
 * The index in @pfns, hmm's look from @addr, of the first page past the
 * CPU mapping of page @i: hmm reports every page of a huge mapping alike.
 */
static unsigned long gm_hmm_next(const unsigned long *pfns, unsigned long i,
				 unsigned long addr)
{
	unsigned long va = addr + (i << PAGE_SHIFT);
	unsigned int order = hmm_pfn_to_map_order(pfns[i]);

	return i + ((ALIGN(va + 1, PAGE_SIZE << order) - va) >> PAGE_SHIFT);
}

/*
 * hmm_range_fault()'s answer for the pages from @start, as gm_mirror_walk()
 * reports it.  The pages of a huge mapping are converted as a run: hmm
 * reports them alike, with consecutive pfns, which the run's last page
 * confirms (else they go one by one).
 */
static int gm_hmm_to_out(const unsigned long *hmm_pfns, unsigned long start,
			 unsigned long n, u64 *out)
{
	unsigned long i = 0, j, next;

	while (i < n) {
		unsigned long h = hmm_pfns[i];
		unsigned long pfn = h & ~HMM_PFN_FLAGS;
		u64 flags;

		if (!(h & HMM_PFN_VALID) || (h & HMM_PFN_ERROR))
			return -EFAULT;
		flags = GM_PFN_VALID | (h & HMM_PFN_WRITE ? GM_PFN_WRITE : 0) |
			(is_zero_pfn(pfn) ? GM_PFN_ZERO : 0) |
			((u64)hmm_pfn_to_map_order(h) << GM_PFN_ORDER_SHIFT);
		next = min(n, gm_hmm_next(hmm_pfns, i, start));
		if (hmm_pfns[next - 1] != h + (next - 1 - i))
			next = i + 1;
		for (j = i; j < next; j++)
			out[j] = (pfn + (j - i)) | flags;
		i = next;
	}
	return 0;
}

/*
 * Whether the fault that @pfns[0], hmm's look at @addr, needs may map a
 * huge page: the CPU maps one there already (a write to a write-protected
 * THP or hugetlb page), or the whole 2 MiB block from @addr to @next is
 * empty (a THP or hugetlb page may fill it).
 */
static bool gm_hmm_may_fault_huge(const unsigned long *pfns,
				  unsigned long addr, unsigned long next)
{
	unsigned long i;

	if (hmm_pfn_to_map_order(pfns[0]))
		return true;
	if (next - addr != PMD_SIZE)
		return false;
	for (i = 0; i < PMD_SIZE >> PAGE_SHIFT; i++)
		if (pfns[i] & (HMM_PFN_VALID | HMM_PFN_ERROR))
			return false;
	return true;
}

/*
 * hmm_range_fault() faults what is missing page by page: for a THP or a
 * hugetlb page that is 512 handle_mm_fault() calls per 2 MiB, each but
 * the first finding the work done (hmm_vma_fault()).  So look first; where
 * the fault may map a huge page, fault its first page with one
 * handle_mm_fault() (through fixup_user_fault(), which checks the vma's
 * permissions and, with no @unlocked, never drops the mmap lock;
 * FAULT_FLAG_REMOTE as hmm's) and, if the CPU then maps a huge page
 * there, look again.  The rest of a 2 MiB block of ptes goes to hmm,
 * which faults all of it before it fails on an invalidation its own
 * faults sent (copy-on-write does), as one fault per look would fail on
 * each.  Each look and each fault is under @seq: an invalidation
 * meanwhile fails the walk (-EBUSY).
 */
static int gm_walk_hmm(struct mmu_interval_notifier *mni, unsigned long start,
		       unsigned long end, bool write, void *owner,
		       unsigned long seq, u64 *out)
{
	unsigned long *pfns = (unsigned long *)out;
	struct hmm_range range = {
		.notifier = mni,
		.notifier_seq = seq,
		.dev_private_owner = owner,
	};
	unsigned int fault_flags = FAULT_FLAG_REMOTE |
				   (write ? FAULT_FLAG_WRITE : 0);
	unsigned long addr = start;
	int ret;

	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(u64));
	mmap_assert_locked(mni->mm);
	while (addr < end) {
		unsigned long i, n = (end - addr) >> PAGE_SHIFT, next;

		range.start = addr;
		range.end = end;
		range.hmm_pfns = pfns + ((addr - start) >> PAGE_SHIFT);
		range.default_flags = 0;
		ret = hmm_range_fault(&range);
		if (ret)
			return ret;
		for (i = 0; i < n; i = gm_hmm_next(range.hmm_pfns, i, addr))
			if (gm_hmm_needs_fault(range.hmm_pfns[i], write))
				break;
		if (i >= n)
			break;
		addr += i << PAGE_SHIFT;
		range.hmm_pfns += i;
		next = min(end, ALIGN(addr + 1, PMD_SIZE));
		if (gm_hmm_may_fault_huge(range.hmm_pfns, addr, next)) {
			ret = fixup_user_fault(mni->mm, addr, fault_flags,
					       NULL);
			if (ret)
				return ret;
			range.start = addr;
			range.end = addr + PAGE_SIZE;
			ret = hmm_range_fault(&range);
			if (ret)
				return ret;
			if (!gm_hmm_needs_fault(range.hmm_pfns[0], write) &&
			    hmm_pfn_to_map_order(range.hmm_pfns[0]))
				continue;
		}
		range.start = addr;
		range.end = next;
		range.default_flags = HMM_PFN_REQ_FAULT |
				      (write ? HMM_PFN_REQ_WRITE : 0);
		ret = hmm_range_fault(&range);
		if (ret)
			return ret;
		addr = next;
	}
	return gm_hmm_to_out(pfns, start, (end - start) >> PAGE_SHIFT, out);
}

/*
 * A userfaultfd-registered vma, page by page.  hmm_range_fault() faults
 * without FAULT_FLAG_ALLOW_RETRY, which such a vma cannot serve:
 * handle_userfault() then gives SIGBUS at once (with a stack dump under
 * DEBUG_VM) instead of waiting for user space to resolve the fault, which
 * is what a guest access needs (postcopy migration works so).  So look
 * without faulting, and fault in what is missing with fixup_user_fault(),
 * which waits for user space killably, with the mmap lock dropped: then
 * the caller starts over (-EBUSY) and finds the page mapped.
 */
static int gm_walk_uffd(struct vm_area_struct *vma,
			struct mmu_interval_notifier *mni, unsigned long start,
			unsigned long end, bool write, void *owner,
			unsigned long seq, u64 *out)
{
	struct hmm_range range = {
		.notifier = mni,
		.notifier_seq = seq,
		.start = start,
		.end = end,
		.hmm_pfns = (unsigned long *)out,
		.dev_private_owner = owner,
	};
	unsigned long i, n = (end - start) >> PAGE_SHIFT;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	/*
	 * hmm reports every page of a vma the process may not read as an
	 * error, and fixup_user_fault() would still grant a write fault on a
	 * write-only one: that would be a retry that never ends.
	 */
	if (!(vma->vm_flags & VM_READ))
		return -EFAULT;
	ret = hmm_range_fault(&range);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		unsigned long h = range.hmm_pfns[i];
		unsigned long addr = start + (i << PAGE_SHIFT);
		bool unlocked = false;

		if (h & HMM_PFN_ERROR)
			return -EFAULT;
		if ((h & HMM_PFN_VALID) && (!write || (h & HMM_PFN_WRITE)))
			continue;
		ret = fixup_user_fault(vma->vm_mm, addr,
				       write ? FAULT_FLAG_WRITE : 0, &unlocked);
		return ret ? ret : -EBUSY;
	}
	/* All there: the snapshot is the answer, under the same sequence. */
	return gm_hmm_to_out(range.hmm_pfns, start, n, out);
}

int gm_mirror_walk(struct mmu_interval_notifier *mni, unsigned long start,
		   unsigned long end, bool write, void *owner,
		   unsigned long seq, u64 *out)
{
	struct mm_struct *mm = mni->mm;
	unsigned long addr = start;
	int ret = 0;

	/* The address space may be exiting; then there is nothing to mirror. */
	if (!mmget_not_zero(mm))
		return -ESRCH;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	while (addr < end) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		unsigned long next;
		u64 *o = out + ((addr - start) >> PAGE_SHIFT);

		if (!vma) {
			ret = -EFAULT;
			break;
		}
		next = min(end, vma->vm_end);
		if (gm_vma_is_secretmem(vma))
			ret = -EFAULT;
		else if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			ret = gm_walk_pfnmap(vma, addr, next, write, o);
		else if (userfaultfd_armed(vma))
			ret = gm_walk_uffd(vma, mni, addr, next, write, owner,
					   seq, o);
		else
			ret = gm_walk_hmm(mni, addr, next, write, owner, seq, o);
		if (ret)
			break;
		addr = next;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}
