// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_vcpu_map()-style mapping of one page of the caller's memory into
 * the kernel, with or without a struct page (rust/kernel/map.rs), and the
 * atomic compare-exchange on such a mapping.
 */
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>

#include <guestmap/pfn.h>

#include "helpers.h"

static int gm_follow_pfnmap(struct vm_area_struct *vma, unsigned long addr,
			    bool write, struct gm_map *m)
{
	int tries;

	/* A PROT_NONE pte is present on x86: the vma says what is allowed. */
	if (!(vma->vm_flags & VM_READ) || (write && !(vma->vm_flags & VM_WRITE)))
		return -EFAULT;
	for (tries = 0; tries < 2; tries++) {
		struct follow_pfnmap_args args = { .vma = vma, .address = addr };
		bool unlocked = false;
		int ret;

		if (!follow_pfnmap_start(&args)) {
			if (args.writable || !write) {
				m->pfn = args.pfn;
				m->facts = gm_pfn_facts(args.pfn);
				if (args.writable)
					m->flags |= GM_MAP_WRITABLE;
				/*
				 * As kvm_try_get_pfn(): hold a reference on a
				 * refcounted page, so it outlives the mapping.
				 */
				if (kvm_is_refcounted_pfn(args.pfn)) {
					struct page *page = pfn_to_page(args.pfn);

					if (!get_page_unless_zero(page)) {
						follow_pfnmap_end(&args);
						return -EAGAIN;
					}
					m->ref = page;
				}
				follow_pfnmap_end(&args);
				return 0;
			}
			follow_pfnmap_end(&args);
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

int gm_map_hva(unsigned long hva, bool write, struct gm_map *m)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct page *page;
	int ret;

	BUILD_BUG_ON(sizeof(struct gm_map) != 48);
	memset(m, 0, sizeof(*m));
	ret = pin_user_pages_fast(hva & PAGE_MASK, 1, write ? FOLL_WRITE : 0,
				  &page);
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

	/* GUP refuses VM_IO and VM_PFNMAP: as hva_to_pfn_remapped(). */
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, hva);
	if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		ret = ret < 0 ? ret : -EFAULT;
	else
		ret = gm_follow_pfnmap(vma, hva & PAGE_MASK, write, m);
	mmap_read_unlock(mm);
	if (ret)
		return ret;
	m->kva = memremap(PFN_PHYS(m->pfn), PAGE_SIZE, MEMREMAP_WB);
	if (!m->kva) {
		if (m->ref)
			put_page(m->ref);
		return -EFAULT;
	}
	m->flags |= GM_MAP_REMAPPED;
	return 0;
}

void gm_unmap(struct gm_map *m, bool dirty)
{
	if (m->flags & GM_MAP_PINNED) {
		unpin_user_pages_dirty_lock(&m->page, 1, dirty);
		return;
	}
	memunmap(m->kva);
	if (m->ref) {
		if (dirty)
			set_page_dirty_lock(m->ref);
		put_page(m->ref);
	}
}

u64 gm_cmpxchg64(void *p, u64 old, u64 new)
{
	return cmpxchg((u64 *)p, old, new);
}

u64 gm_ktime_ns(void)
{
	return ktime_get_ns();
}
