// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel mappings of page frames named only by a pfn: what VM_PFNMAP and
 * VM_IO mappings (/dev/mem, a driver's remap_pfn_range()) hand out, with
 * or without a struct page (src/sys/frame.rs), and the accesses through
 * them.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <asm/pgtable_types.h>

#include "guestmap.h"

/*
 * Whether the direct map maps @pfn, and if so a kernel protection with the
 * same memory type and encryption in *@prot.  Secret memory and the free
 * pages DEBUG_PAGEALLOC keeps unmapped are RAM the direct map lacks.  The
 * memory type matters: a driver may have made its pages write-combining
 * or uncached (set_memory_wc(), as TTM does) before mapping them to user
 * space, and a write-back alias of such a page is an x86 memory-type
 * conflict (Documentation/arch/x86/pat.rst).  So does encryption: in an
 * SEV or TDX guest, a page shared with the host (set_memory_decrypted())
 * read through an encrypted alias is garbage.
 */
static bool gm_direct_map_prot(unsigned long pfn, pgprot_t *prot)
{
	pgprotval_t keep = _PAGE_CACHE_MASK;
	int splits = 0;
	unsigned int level;
	pte_t *ptep;
	pteval_t v;
	pgprot_t p;

again:
	ptep = lookup_address((unsigned long)pfn_to_kaddr(pfn), &level);
	if (!ptep)
		return false;
	/*
	 * One read: set_memory_*() of a neighbour may split a large entry
	 * into a table meanwhile (then it is looked up again, once: a split
	 * leaves 4K entries).  A large page's flags are read at its own level
	 * (pte_flags() would take its PAT bit, bit 12, for an address bit),
	 * and its PAT bit moved to where a 4K pte keeps it.
	 */
	v = READ_ONCE(ptep->pte);
	switch (level) {
	case PG_LEVEL_4K:
		if (!pte_present(__pte(v)))
			return false;
		p = pte_pgprot(__pte(v));
		break;
	case PG_LEVEL_2M:
		if (!pmd_present(__pmd(v)))
			return false;
		if (!pmd_leaf(__pmd(v))) {
			if (splits++)
				return false;
			goto again;
		}
		p = pgprot_large_2_4k(__pgprot(pmd_flags(__pmd(v))));
		break;
	case PG_LEVEL_1G:
		if (!pud_present(__pud(v)))
			return false;
		if (!pud_leaf(__pud(v))) {
			if (splits++)
				return false;
			goto again;
		}
		p = pgprot_large_2_4k(__pgprot(pud_flags(__pud(v))));
		break;
	default:
		return false;
	}
	*prot = __pgprot((pgprot_val(PAGE_KERNEL) & ~keep) |
			 (pgprot_val(p) & keep));
	/*
	 * PAGE_KERNEL is private (encrypted) memory; make the alias shared if
	 * the direct map is, which is when decrypting its protection is a
	 * no-op although decrypting PAGE_KERNEL is not.
	 */
	if (pgprot_val(pgprot_decrypted(PAGE_KERNEL)) != pgprot_val(PAGE_KERNEL) &&
	    pgprot_val(pgprot_decrypted(p)) == pgprot_val(p))
		*prot = pgprot_decrypted(*prot);
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

/*
 * The copy of every access to a guest frame through a kernel mapping
 * (src/sys/frame.rs): user space may write the frame at the same time,
 * which the kernel's memcpy() tolerates as any copy of shared memory does,
 * and Rust's copies must not be asked to.
 */
void gm_frame_copy(void *dst, const void *src, unsigned long len)
{
	memcpy(dst, src, len);
}

/*
 * After a kernel write through a mirror entry or a pfn cache.  The caller
 * holds the mirror lock with the entry valid, so the page is mapped by a
 * pte whose invalidation waits for that lock: like a caller holding the
 * page-table lock, it keeps the folio from being truncated, which
 * folio_mark_dirty() requires of callers without the folio lock.
 */
void gm_pfn_mark_dirty(unsigned long pfn)
{
	struct folio *folio = page_folio(pfn_to_page(pfn));

	/*
	 * Most calls find the folio dirty already, and must not call into
	 * the filesystem then: its ->dirty_folio() need not be callable
	 * under a spinlock (iomap's allocates).  A writable pte of a file
	 * whose mapping tracks dirtying implies a dirty folio (page_mkwrite
	 * dirtied it, and writeback write-protects the pte, and so the
	 * mirror entry, before it cleans the folio); a clean folio with a
	 * writable pte is anonymous, swap cache or shmem, whose
	 * ->dirty_folio() only sets the flag.
	 */
	if (!folio_test_dirty(folio))
		folio_mark_dirty(folio);
}

/* The direct-map address of a pfn with a struct page (no highmem here). */
void *gm_pfn_to_kva(unsigned long pfn)
{
	return page_address(pfn_to_page(pfn));
}

/*
 * One load of an aligned u64 of guest memory: the guest page-table
 * walker reads each entry whole, as the CPU does, so that a concurrent
 * writer can never make it see half of an old entry and half of a new
 * one, which memcpy() may.
 */
u64 gm_frame_read64(const void *p)
{
	return READ_ONCE(*(const u64 *)p);
}

/* The guest page-table walker's and GUESTMAP_ACCESS's compare-exchange. */
u64 gm_frame_cmpxchg64(void *p, u64 old, u64 new)
{
	return cmpxchg((u64 *)p, old, new);
}

/*
 * set_bit() on a word of guest memory, returning the word before: a
 * locked OR cannot lose to concurrent writers as a cmpxchg loop can, so
 * it needs no bound (a posted interrupt's PIR bit and ON,
 * pi_test_and_set_pir() and pi_test_and_set_on()).
 */
u64 gm_frame_fetch_or64(void *p, u64 bits)
{
	return atomic64_fetch_or(bits, (atomic64_t *)p);
}
