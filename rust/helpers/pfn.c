// SPDX-License-Identifier: GPL-2.0
/*
 * Facts about a pfn for the refcount classifier (src/refcount.rs), and the
 * exported kvm_is_refcounted_pfn() family (include/guestmap/pfn.h), whose
 * answers come from that classifier in Rust.
 */
#include <linux/mm.h>
#include <linux/memremap.h>
#include <linux/mmzone.h>
#include <linux/sched/mm.h>
#include <guestmap/pfn.h>

#include "helpers.h"

/*
 * The caller keeps the page from changing identity: it holds a reference
 * (GUP), the pte lock of a pte mapping it, or, for callers of
 * kvm_is_refcounted_pfn(), whatever KVM's callers hold (an MMU-notifier
 * protected mapping).  ZONE_DEVICE metadata is valid only then.
 *
 * pfn_valid() is not enough to read a struct page: it stays true for a
 * memory block that was offlined, whose struct pages are poisoned
 * (compound_head() of one is garbage).  pfn_to_online_page() is too much:
 * it refuses the holes of boot memory (memmap=$ reserved RAM), whose
 * struct pages are initialised, PG_reserved.  What tells is whether the
 * pfn's section is online; offlining works on whole memory blocks, which
 * are whole sections.  ZONE_DEVICE pages come first: get_dev_pagemap()
 * vouches for one while it holds the pgmap, as memory_failure() uses it.
 * Offline memory is reported as having no usable struct page.  Memory can
 * go offline right after the check: the caller's reference, or a mapping
 * of the page that offlining would have to migrate away first, is what
 * keeps it online.
 */
u32 gm_pfn_facts(unsigned long pfn)
{
	struct dev_pagemap *pgmap;
	struct page *page;
	u32 f = GM_FACT_VALID;

	if (!pfn_valid(pfn))
		return 0;
	pgmap = get_dev_pagemap(pfn, NULL);
	if (pgmap) {
		/* A tail page's pgmap field is its compound_head. */
		f |= GM_FACT_ZONE_DEVICE | ((u32)pgmap->type << GM_FACT_PGMAP_SHIFT);
	} else if (!online_section(__pfn_to_section(pfn))) {
		return 0;
	}
	page = pfn_to_page(pfn);
	/*
	 * The huge zero page cannot be recognised here: 6.12 does not export
	 * huge_zero_folio.  It is not PG_reserved, so it classifies as a
	 * normal compound page (Documentation/guest-memory.rst).
	 */
	if (is_zero_pfn(pfn))
		f |= GM_FACT_ZERO;
	if (PageReserved(compound_head(page)))
		f |= GM_FACT_RESERVED;
	if (PageCompound(page))
		f |= GM_FACT_COMPOUND;
	if (pgmap)
		put_dev_pagemap(pgmap);
	return f;
}

/* Classifies what @addr of the caller's address space maps. */
int gm_classify_user(unsigned long addr, unsigned long *pfn, u32 *facts,
		     bool *pfnmap)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct page *page;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	if (!vma) {
		ret = -EFAULT;
		goto out;
	}
	*pfnmap = vma->vm_flags & (VM_IO | VM_PFNMAP);
	if (*pfnmap) {
		struct follow_pfnmap_args args = { .vma = vma, .address = addr };

		/* As GUP: what the process may not read is not there. */
		if (!(vma->vm_flags & VM_READ)) {
			ret = -EFAULT;
			goto out;
		}

		ret = follow_pfnmap_start(&args);
		if (ret) {
			ret = -EFAULT;
			goto out;
		}
		*pfn = args.pfn;
		*facts = gm_pfn_facts(args.pfn);
		follow_pfnmap_end(&args);
		goto out;
	}
	/*
	 * FOLL_NOFAULT: classify what is mapped, never fault it in (the
	 * UAPI's promise).  GUP also refuses what the process may not read,
	 * and secret memory.
	 */
	if (get_user_pages(addr, 1, FOLL_NOFAULT, &page) != 1) {
		ret = -EFAULT;
		goto out;
	}
	*pfn = page_to_pfn(page);
	*facts = gm_pfn_facts(*pfn);
	put_page(page);
out:
	mmap_read_unlock(mm);
	return ret;
}

/* The answers are the Rust classifier's (rust/kernel/export.rs). */
bool kvm_is_refcounted_pfn(unsigned long pfn)
{
	return gm_pfn_verdict(pfn) & GM_VERDICT_REFCOUNTED;
}
EXPORT_SYMBOL_GPL(kvm_is_refcounted_pfn);

bool kvm_pfn_may_mark_dirty(unsigned long pfn)
{
	return gm_pfn_verdict(pfn) & GM_VERDICT_MAY_DIRTY;
}
EXPORT_SYMBOL_GPL(kvm_pfn_may_mark_dirty);
