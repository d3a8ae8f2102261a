// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel mappings of page frames named only by a pfn: what VM_PFNMAP and
 * VM_IO mappings (/dev/mem, a driver's remap_pfn_range()) hand out, with
 * or without a struct page (rust/kernel/pfn.rs, Remap).
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <asm/pgtable_types.h>

#include "helpers.h"

/*
 * Whether the direct map maps @pfn, and if so a kernel protection with the
 * same memory type in *@prot.  Secret memory and the free pages
 * DEBUG_PAGEALLOC keeps unmapped are RAM the direct map lacks.  The memory
 * type matters: a driver may have made its pages write-combining or
 * uncached (set_memory_wc(), as TTM does) before mapping them to user
 * space, and a write-back alias of such a page is an x86 memory-type
 * conflict (Documentation/arch/x86/pat.rst).
 */
static bool gm_direct_map_prot(unsigned long pfn, pgprot_t *prot)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)pfn_to_kaddr(pfn), &level);
	pgprot_t p;

	if (!pte || !pte_present(*pte))
		return false;
	p = pte_pgprot(*pte);
	/* A large page keeps its PAT bit elsewhere. */
	if (level != PG_LEVEL_4K)
		p = pgprot_large_2_4k(p);
	*prot = __pgprot((pgprot_val(PAGE_KERNEL) & ~_PAGE_CACHE_MASK) |
			 (pgprot_val(p) & _PAGE_CACHE_MASK));
	return true;
}

/*
 * Maps @pfn for the kernel, write-back.
 *
 * memremap() of RAM returns the direct-map address, which faults if the
 * page is not there; and whether it is can change at any time, since the
 * pfn is not ours (the page may be freed under DEBUG_PAGEALLOC, or become
 * secret memory).  RAM with a struct page is therefore mapped through a
 * vmap() alias of its own, which stays valid whatever happens to the
 * direct map; a page that is not in the direct map when it is looked up
 * is refused (EFAULT), as /dev/mem's read() refuses it.  Anything else
 * (RAM the kernel never took, reserved RAM, device memory) is what
 * memremap() is for.
 */
int gm_frame_map(unsigned long pfn, void **kva, bool *aliased)
{
	if (pfn_valid(pfn) && page_is_ram(pfn)) {
		struct page *page = pfn_to_page(pfn);
		pgprot_t prot;

		if (!gm_direct_map_prot(pfn, &prot))
			return -EFAULT;
		*kva = vmap(&page, 1, VM_MAP, prot);
		*aliased = true;
		return *kva ? 0 : -ENOMEM;
	}
	*kva = memremap(PFN_PHYS(pfn), PAGE_SIZE, MEMREMAP_WB);
	*aliased = false;
	/* memremap() fails for what cannot be mapped write-back. */
	return *kva ? 0 : -EFAULT;
}

void gm_frame_unmap(void *kva, bool aliased)
{
	if (aliased)
		vunmap(kva);
	else
		memunmap(kva);
}
