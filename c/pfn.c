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

#include "guestmap.h"

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
 *   - the pfns of a ZONE_DEVICE range that is being torn down or was
 *     (memunmap_pages() kills the pgmap's reference, then poisons the
 *     memmap under DEBUG_VM, then clears the subsections), or set up
 *     (memremap_pages() publishes the pgmap before it initialises the
 *     memmap);
 *   - the first pfns of a live ZONE_DEVICE range whose memmap lives on the
 *     device (the altmap): memmap_init_zone_device() never initialises
 *     them, as they hold the memmap itself.
 *
 * A ZONE_DEVICE pfn is vouched for by get_dev_pagemap() while it holds the
 * pgmap, as memory_failure() uses it, if it is past the altmap and in a
 * range memremap_pages() has counted in nr_range, which it does once the
 * range's memmap is initialised (pagemap_range()): a store ordered after
 * those on x86, the one architecture this module builds for.  Anything
 * else goes through pfn_to_online_page(), and is refused if it is
 * ZONE_DEVICE after all: a pgmap whose reference is dead, going away.
 * pfn_to_online_page() also refuses the holes of boot memory (memmap=$
 * reserved RAM) although init_unavailable_range() initialised their
 * struct pages, PG_reserved; those are taken when the page proves it: an
 * early, online section, and a reserved page of a zone other than
 * ZONE_DEVICE.
 *
 * What is decided is decided on @snap, one copy of the struct page, as
 * dump_page() reads pages it does not own: the checks look at its flags
 * only, which setup and teardown never make look initialised before they
 * are, and no pointer is followed out of it but to a head within a
 * folio's reach, whose flags are read once.  Memory can go offline right
 * after the check, even under a pte lock: offlining does not look for
 * VM_PFNMAP ptes (/dev/mem) before it migrates a page away and poisons
 * its struct page.  Hot-remove can also unmap a hot-added section's
 * memmap right after pfn_valid(), a window /proc/kpageflags has too; a
 * caller that needs more holds a reference, which offlining waits for.
 */
static bool gm_pgmap_ready(struct dev_pagemap *pgmap, unsigned long pfn)
{
	struct vmem_altmap *altmap = pgmap_altmap(pgmap);
	int i, nr = READ_ONCE(pgmap->nr_range);

	if (altmap && pfn >= altmap->base_pfn &&
	    pfn < altmap->base_pfn + vmem_altmap_offset(altmap))
		return false;
	for (i = 0; i < nr; i++) {
		if (pfn >= PHYS_PFN(pgmap->ranges[i].start) &&
		    pfn <= PHYS_PFN(pgmap->ranges[i].end))
			return true;
	}
	return false;
}

static struct page *gm_pfn_page(unsigned long pfn, struct dev_pagemap **pgmap,
				struct page *snap)
{
	struct mem_section *ms;
	struct page *page;

	*pgmap = get_dev_pagemap(pfn, NULL);
	if (*pgmap) {
		page = pfn_to_page(pfn);
		if (gm_pgmap_ready(*pgmap, pfn)) {
			memcpy(snap, page, sizeof(*snap));
			if (!PagePoisoned(snap) && is_zone_device_page(snap))
				return page;
		}
		put_dev_pagemap(*pgmap);
		*pgmap = NULL;
		return NULL;
	}
	page = pfn_to_online_page(pfn);
	if (page) {
		memcpy(snap, page, sizeof(*snap));
		if (PagePoisoned(snap) || is_zone_device_page(snap))
			return NULL;
		return page;
	}
	ms = __pfn_to_section(pfn);
	if (!early_section(ms) || !online_section(ms))
		return NULL;
	page = pfn_to_page(pfn);
	memcpy(snap, page, sizeof(*snap));
	if (PagePoisoned(snap) || is_zone_device_page(snap) || !PageReserved(snap))
		return NULL;
	return page;
}

/*
 * PG_reserved of @page's folio, from @snap, its copy.  Nothing keeps the
 * page online for every caller (offlining migrates a page away without
 * asking /dev/mem's ptes, which rmap does not know, and then poisons its
 * struct page), so the head is taken from the copy, as __dump_page() takes
 * it, checked to be within a folio's reach, and its flags read once: a
 * poisoned head is no folio.
 */
static bool gm_head_reserved(struct page *page, const struct page *snap)
{
	unsigned long head = snap->compound_head, flags;
	struct page *h;

	if (!(head & 1))
		return PageReserved(snap);
	h = (struct page *)(head - 1);
	if (h > page || page - h >= MAX_FOLIO_NR_PAGES)
		return false;
	flags = READ_ONCE(h->flags);
	return flags != PAGE_POISON_PATTERN && (flags & BIT(PG_reserved));
}

u32 gm_pfn_facts(unsigned long pfn)
{
	struct dev_pagemap *pgmap;
	struct page *page, snap;
	u32 f = GM_FACT_VALID;

	if (!pfn_valid(pfn))
		return 0;
	page = gm_pfn_page(pfn, &pgmap, &snap);
	if (!page)
		return 0;
	/*
	 * The huge zero page cannot be recognised here: 6.12 does not export
	 * huge_zero_folio.  It is not PG_reserved, so it classifies as a
	 * normal compound page (Documentation/guest-memory.rst).
	 */
	if (is_zero_pfn(pfn))
		f |= GM_FACT_ZERO;
	if (PageCompound(&snap))
		f |= GM_FACT_COMPOUND;
	if (pgmap) {
		/*
		 * get_dev_pagemap()'s: a tail page's pgmap field is its
		 * compound_head.  __init_zone_device_page() makes every page
		 * of a pgmap PG_reserved, tails included, so the page's own
		 * flag is the folio's.
		 */
		BUILD_BUG_ON((int)GM_PGMAP_PRIVATE != (int)MEMORY_DEVICE_PRIVATE);
		BUILD_BUG_ON((int)GM_PGMAP_COHERENT != (int)MEMORY_DEVICE_COHERENT);
		BUILD_BUG_ON((int)GM_PGMAP_FS_DAX != (int)MEMORY_DEVICE_FS_DAX);
		BUILD_BUG_ON((int)GM_PGMAP_GENERIC != (int)MEMORY_DEVICE_GENERIC);
		BUILD_BUG_ON((int)GM_PGMAP_PCI_P2PDMA != (int)MEMORY_DEVICE_PCI_P2PDMA);
		f |= GM_FACT_ZONE_DEVICE | ((u32)pgmap->type << GM_FACT_PGMAP_SHIFT);
		if (PageReserved(&snap))
			f |= GM_FACT_RESERVED;
		put_dev_pagemap(pgmap);
	} else if (gm_head_reserved(page, &snap)) {
		f |= GM_FACT_RESERVED;
	}
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

/* The answers are the Rust classifier's (src/sys/export.rs). */
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
