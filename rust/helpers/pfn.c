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
 * pfn_valid() is not enough to read a struct page.  It is true for the
 * whole of an early (boot) section, and a section can hold several kinds
 * of struct page that must not be read:
 *   - a memory block that was offlined: its struct pages are poisoned
 *     (compound_head() of one is garbage);
 *   - the pfns of a ZONE_DEVICE range that was torn down
 *     (memunmap_pages()): poisoned by remove_pfn_range_from_zone() under
 *     DEBUG_VM, stale ZONE_DEVICE pages pointing at a freed pgmap without;
 *   - the first pfns of a live ZONE_DEVICE range whose memmap lives on the
 *     device (the altmap): memmap_init_zone_device() never initialises
 *     them, as they hold the memmap itself.
 * pfn_to_online_page() sorts out all but one case for memory that is not
 * ZONE_DEVICE: the holes of boot memory (memmap=$ reserved RAM), which it
 * refuses as their subsections are not valid, although
 * init_unavailable_range() initialised their struct pages, PG_reserved.
 * Those are taken when the page proves it: an early, online section, and
 * an initialised, reserved page of a zone other than ZONE_DEVICE.
 * ZONE_DEVICE pages come first: get_dev_pagemap() vouches for one while it
 * holds the pgmap, as memory_failure() uses it, past the altmap.
 *
 * Memory can go offline right after the check: the caller's reference, or
 * a mapping of the page that offlining would have to migrate away first,
 * is what keeps it online.
 */
static struct page *gm_pfn_page(unsigned long pfn, struct dev_pagemap **pgmap)
{
	struct vmem_altmap *altmap;
	struct mem_section *ms;
	struct page *page;

	*pgmap = get_dev_pagemap(pfn, NULL);
	if (*pgmap) {
		altmap = pgmap_altmap(*pgmap);
		if (altmap && pfn >= altmap->base_pfn &&
		    pfn < altmap->base_pfn + vmem_altmap_offset(altmap)) {
			put_dev_pagemap(*pgmap);
			*pgmap = NULL;
			return NULL;
		}
		return pfn_to_page(pfn);
	}
	page = pfn_to_online_page(pfn);
	if (page)
		return page;
	ms = __pfn_to_section(pfn);
	if (!early_section(ms) || !online_section(ms))
		return NULL;
	page = pfn_to_page(pfn);
	if (PagePoisoned(page) || is_zone_device_page(page) ||
	    !PageReserved(page))
		return NULL;
	return page;
}

u32 gm_pfn_facts(unsigned long pfn)
{
	struct dev_pagemap *pgmap;
	struct page *page;
	u32 f = GM_FACT_VALID;

	if (!pfn_valid(pfn))
		return 0;
	page = gm_pfn_page(pfn, &pgmap);
	if (!page)
		return 0;
	/* get_dev_pagemap()'s: a tail page's pgmap field is its compound_head. */
	if (pgmap)
		f |= GM_FACT_ZONE_DEVICE | ((u32)pgmap->type << GM_FACT_PGMAP_SHIFT);
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
