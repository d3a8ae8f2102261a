// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_vcpu_map()-style mapping of one page of the caller's memory into
 * the kernel, with or without a struct page (src/sys/map.rs).
 */
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "guestmap.h"

/*
 * The pfn a VM_PFNMAP/VM_IO mapping has at @addr, faulting it in (or
 * making it writable) as hva_to_pfn_remapped() does.  No reference is
 * taken, as since Linux 6.13 ("KVM: Stop grabbing references to PFNMAP'd
 * pages"): a PFNMAP'd page need not be refcounted at all (a THP tail, a
 * non-compound higher-order page, device memory), and trying to take one
 * made such pages fail forever.  The caller protects its use with the
 * memslot's MMU notifier instead.
 *
 * -EAGAIN if the mmap lock was dropped (the vma may have changed): the
 * caller looks it up again.
 */
static int gm_follow_pfnmap(struct vm_area_struct *vma, unsigned long addr,
			    bool write, struct gm_map *m)
{
	int tries;

	mmap_assert_locked(vma->vm_mm);
	/* A PROT_NONE pte is present on x86: the vma says what is allowed. */
	if (!(vma->vm_flags & VM_READ) || (write && !(vma->vm_flags & VM_WRITE)))
		return -EFAULT;
	for (tries = 0; tries < 2; tries++) {
		struct follow_pfnmap_args args = { .vma = vma, .address = addr };
		bool unlocked = false;
		int ret;

		if (!follow_pfnmap_start(&args)) {
			bool ok = args.writable || !write;

			if (ok) {
				m->pfn = args.pfn;
				m->facts = gm_pfn_facts(args.pfn);
				if (args.writable)
					m->flags |= GM_MAP_WRITABLE;
			}
			follow_pfnmap_end(&args);
			if (ok)
				return 0;
		}
		ret = fixup_user_fault(vma->vm_mm, addr,
				       write ? FAULT_FLAG_WRITE : 0, &unlocked);
		if (ret)
			return ret;
		if (unlocked)
			return -EAGAIN;
	}
	return -EFAULT;
}

/*
 * @longterm: the mapping may be kept for as long as user space likes (a
 * held page of nested VMX, src/nested/vmx/apic.rs), so the pin is
 * FOLL_LONGTERM where GUP allows it: GUP then first migrates the page out
 * of ZONE_MOVABLE and CMA.  Where it refuses (fsdax, a writable shared
 * mapping of most filesystems, a page that would not migrate), the page
 * is pinned as kvm_vcpu_map() pins it in 6.12, for the same length of
 * time, rather than refused.
 */
int gm_map_hva(unsigned long hva, bool write, bool longterm, struct gm_map *m)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct page *page;
	bool aliased;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = -EFAULT;
	if (longterm)
		ret = pin_user_pages_fast(hva & PAGE_MASK, 1,
					  (write ? FOLL_WRITE : 0) | FOLL_LONGTERM,
					  &page);
	if (ret != 1)
		ret = pin_user_pages_fast(hva & PAGE_MASK, 1,
					  write ? FOLL_WRITE : 0, &page);
	if (ret == 1) {
		m->page = page;
		m->pfn = page_to_pfn(page);
		m->facts = gm_pfn_facts(m->pfn);
		/*
		 * The mapping lives across sleeps, so not kmap_local_page();
		 * without highmem (64-bit) every page is in the direct map.
		 */
		BUILD_BUG_ON(IS_ENABLED(CONFIG_HIGHMEM));
		m->kva = page_address(page);
		m->flags = GM_MAP_PINNED | (write ? GM_MAP_WRITABLE : 0);
		return 0;
	}

	/*
	 * GUP refuses VM_IO and VM_PFNMAP: as hva_to_pfn_remapped().  A fault
	 * that drops the mmap lock is retried, with the vma looked up again,
	 * for as long as no fatal signal is pending: that is a retry that can
	 * succeed, which user space could not tell from one that cannot.
	 */
	do {
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		vma = vma_lookup(mm, hva);
		if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)))
			ret = ret < 0 && ret != -EAGAIN ? ret : -EFAULT;
		else
			ret = gm_follow_pfnmap(vma, hva & PAGE_MASK, write, m);
		mmap_read_unlock(mm);
		if (ret == -EAGAIN && fatal_signal_pending(current))
			return -EINTR;
	} while (ret == -EAGAIN);
	if (ret)
		return ret;
	ret = gm_frame_map(m->pfn, &m->kva, &aliased);
	if (ret)
		return ret;
	m->flags |= GM_MAP_REMAPPED | (aliased ? GM_MAP_ALIASED : 0);
	return 0;
}

void gm_unmap(struct gm_map *m, bool dirty)
{
	if (m->flags & GM_MAP_PINNED) {
		unpin_user_pages_dirty_lock(&m->page, 1, dirty);
		return;
	}
	/*
	 * A bare pfn held no reference and belongs to whoever mapped it, so
	 * its flags are left alone, as KVM leaves them.
	 */
	gm_frame_unmap(m->kva, m->flags & GM_MAP_ALIASED);
}
