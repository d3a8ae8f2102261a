/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmap's answers about a pfn, for other modules.
 */
#ifndef _GUESTMAP_PFN_H
#define _GUESTMAP_PFN_H

#include <linux/types.h>

/**
 * DOC: pfn answers
 *
 * PG_reserved has two meanings to KVM, which these two answers keep apart
 * (the "Fix KVM misinterpreting Reserved page as an MMIO" series):
 * whether a pfn's page is refcounted and may be pinned, and whether it
 * may be marked dirty or accessed.
 *
 * An answer describes the pfn's page as it is during the call: the
 * caller keeps it from changing identity (a reference on the page, the
 * lock of a pte that maps it, or an MMU-notifier protected section for a
 * mapping of it, as for KVM's own kvm_pfn_to_refcounted_page()).  Memory
 * that is offline, or ZONE_DEVICE memory being set up or torn down, has
 * no struct page as far as these answers go: neither refcounted nor
 * dirtiable.  Only a reference keeps memory online: offlining migrates a
 * page away without asking the ptes of VM_PFNMAP mappings.  Without one,
 * the answer may describe memory that has since gone offline; the call
 * itself stays safe but for hot-remove unmapping a hot-added section's
 * memmap under it, as /proc/kpageflags can see.
 */

/**
 * kvm_is_refcounted_pfn() - whether a pfn's page is refcounted
 * @pfn: the page frame number to ask about.
 *
 * Context: the caller keeps @pfn's page from changing identity for the
 * call: it holds a reference on the page, the lock of a pte that maps it,
 * or an MMU-notifier protected section for a mapping of it.
 *
 * Return: %true if @pfn has a struct page that is refcounted and may be
 * pinned: ordinary pages, the zero page, and ZONE_DEVICE pages whose pgmap
 * supports pinning (FS_DAX, GENERIC i.e. device-dax, COHERENT).  %false
 * for pfns without a struct page, other PG_reserved pages, and
 * DEVICE_PRIVATE and P2PDMA pages.
 */
bool kvm_is_refcounted_pfn(unsigned long pfn);

/**
 * kvm_pfn_may_mark_dirty() - whether a pfn's page may be marked dirty
 * @pfn: the page frame number to ask about.
 *
 * Context: as for kvm_is_refcounted_pfn().
 *
 * Return: %true if @pfn's page may be marked dirty or accessed: it is
 * refcounted (kvm_is_refcounted_pfn()) and not PG_reserved, and not the
 * zero page.  ZONE_DEVICE pages are PG_reserved in 6.12, so %false for
 * every one of them.
 */
bool kvm_pfn_may_mark_dirty(unsigned long pfn);

#endif /* _GUESTMAP_PFN_H */
