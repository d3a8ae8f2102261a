/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmap: map a process's memory the way a hypervisor maps guest memory.
 *
 * This header is the single definition of the ioctl ABI of /dev/guestmap.
 * The module's Rust code is generated from it with bindgen, and the
 * selftests include it directly.
 *
 * Each open() of /dev/guestmap creates a context bound to the opener's
 * address space (mm), the way a KVM VM fd is.  Every ioctl on the fd must
 * come from that address space: from any other (a forked child, a process
 * the fd was passed to) the ioctl fails with EIO.
 */
#ifndef _UAPI_LINUX_GUESTMAP_H
#define _UAPI_LINUX_GUESTMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change to this file. */
#define GUESTMAP_API_VERSION	1

/* ioctl type, registered as 0xB9 in ioctl-number.rst terms. */
#define GUESTMAP_IO		0xB9

/**
 * struct guestmap_api_version - what GUESTMAP_GET_API_VERSION reports
 * @version:	GUESTMAP_API_VERSION of the running module.
 * @page_size:	the host page size: the unit of every guest physical
 *		address, size and alignment in this ABI.
 * @caps:	GUESTMAP_CAP_* bits of the optional features the module offers.
 */
struct guestmap_api_version {
	__u32 version;
	__u32 page_size;
	__u64 caps;
};

#define GUESTMAP_GET_API_VERSION \
	_IOR(GUESTMAP_IO, 0x00, struct guestmap_api_version)

/* Memslots, the mirror and guest access (GUESTMAP_SET_MEMSLOT onwards). */
#define GUESTMAP_CAP_MIRROR	(1ULL << 0)

/*
 * Guest physical addresses are 48 bits wide, as with 4-level paging: the
 * mirror's page table has four levels of 512 entries.
 */
#define GUESTMAP_GPA_BITS	48
#define GUESTMAP_MAX_MEMSLOTS	32

/* The slot maps memory the guest may read but never write. */
#define GUESTMAP_MEM_READONLY	(1U << 0)

/**
 * struct guestmap_memslot - one region of guest physical memory
 * @slot:		slot id, below GUESTMAP_MAX_MEMSLOTS.
 * @flags:		GUESTMAP_MEM_* bits.
 * @guest_phys_addr:	first guest physical address of the slot.
 * @memory_size:	bytes; 0 deletes slot @slot.
 * @userspace_addr:	where the slot's memory is in the caller's address
 *			space.
 *
 * Like KVM_SET_USER_MEMORY_REGION.  Addresses and size must be page
 * aligned (EINVAL), the guest range must fit in GUESTMAP_GPA_BITS and the
 * user range in the user address space (EINVAL), and the guest range must
 * not overlap another slot's (EEXIST).  A slot id already in use must be
 * deleted before it is set again (EEXIST); deleting a slot that does not
 * exist is EINVAL.  The user range need not be mapped yet: the slot
 * follows whatever is mapped there, as the mirror is kept coherent with
 * the address space.
 */
struct guestmap_memslot {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
};

#define GUESTMAP_SET_MEMSLOT \
	_IOW(GUESTMAP_IO, 0x01, struct guestmap_memslot)

/* Fault for write: the mirror entries become writable. */
#define GUESTMAP_FAULT_WRITE	(1U << 0)

/**
 * struct guestmap_fault - populate the mirror, like a device's page fault
 * @gpa:	first guest physical address, page aligned.
 * @size:	bytes, page aligned, not 0; the range must lie in one slot.
 * @flags:	GUESTMAP_FAULT_* bits.
 * @pad:	must be zero.
 *
 * Faults the range in on the CPU side as needed (hmm_range_fault(), or
 * follow_pfnmap_start() for VM_PFNMAP and VM_IO mappings) and installs it
 * in the mirror.  ENOENT: no slot maps @gpa, or the range leaves the slot.
 * EPERM: write to a READONLY slot.  EFAULT: nothing mapped at the user
 * address, or a write fault on memory the process cannot write.
 */
struct guestmap_fault {
	__u64 gpa;
	__u64 size;
	__u32 flags;
	__u32 pad;
};

#define GUESTMAP_MIRROR_FAULT \
	_IOW(GUESTMAP_IO, 0x02, struct guestmap_fault)

/**
 * DOC: invalidation events
 *
 * The index into &guestmap_stats.invalidations: the event of an
 * invalidation, numbered as the kernel's enum mmu_notifier_event.
 * ``GUESTMAP_EVENT_UNMAP`` is ``MMU_NOTIFY_UNMAP``, ``GUESTMAP_EVENT_CLEAR``
 * is ``MMU_NOTIFY_CLEAR``, and so on to ``GUESTMAP_EVENT_EXCLUSIVE``;
 * ``GUESTMAP_NR_EVENTS`` is their number.
 */
#define GUESTMAP_EVENT_UNMAP		0
#define GUESTMAP_EVENT_CLEAR		1
#define GUESTMAP_EVENT_PROTECTION_VMA	2
#define GUESTMAP_EVENT_PROTECTION_PAGE	3
#define GUESTMAP_EVENT_SOFT_DIRTY	4
#define GUESTMAP_EVENT_RELEASE		5
#define GUESTMAP_EVENT_MIGRATE		6
#define GUESTMAP_EVENT_EXCLUSIVE	7
#define GUESTMAP_NR_EVENTS		8

/**
 * struct guestmap_stats - what the mirror has done, since open()
 * @invalidations:	invalidate callbacks per GUESTMAP_EVENT_*, counted
 *			once per memslot the range touched.
 * @nonblocking:	of those, how many could not sleep (OOM reaper).
 * @faults:		fault requests: MIRROR_FAULT calls, and misses of
 *			READ_GUEST and WRITE_GUEST.
 * @pages_faulted:	mirror entries installed or upgraded by faults.
 * @retries:		fault attempts redone because an invalidation raced.
 * @entries_zapped:	mirror entries removed by invalidations and by
 *			memslot deletion.
 * @entries_wrprotected: writable entries made read-only in place.
 * @tables_allocated:	mirror table pages allocated ...
 * @tables_freed:	... and freed; the root table is not counted.
 * @entries_present:	mirror entries present now.
 */
struct guestmap_stats {
	__u64 invalidations[GUESTMAP_NR_EVENTS];
	__u64 nonblocking;
	__u64 faults;
	__u64 pages_faulted;
	__u64 retries;
	__u64 entries_zapped;
	__u64 entries_wrprotected;
	__u64 tables_allocated;
	__u64 tables_freed;
	__u64 entries_present;
};

#define GUESTMAP_GET_STATS \
	_IOR(GUESTMAP_IO, 0x03, struct guestmap_stats)

/**
 * DOC: page state
 *
 * GUESTMAP_QUERY reports the state of each page as one __u64, 0 for a
 * page not mirrored:
 *
 * ``GUESTMAP_PAGE_PRESENT``
 *	the page is mirrored.
 * ``GUESTMAP_PAGE_WRITABLE``
 *	its mirror entry is writable.
 * ``GUESTMAP_PAGE_CLASS_MASK``
 *	the class, from bit ``GUESTMAP_PAGE_CLASS_SHIFT``:
 *	``GUESTMAP_CLASS_PAGE``, an ordinary page, with a struct page the
 *	kernel refcounts; ``GUESTMAP_CLASS_ZERO``, the shared zero page;
 *	``GUESTMAP_CLASS_PFNMAP``, from a VM_PFNMAP or VM_IO mapping: a bare
 *	pfn, maybe with no struct page.
 * bits ``GUESTMAP_PAGE_PFN_SHIFT`` (12) and up
 *	the pfn, for CAP_SYS_ADMIN only; zero for others.
 */
#define GUESTMAP_PAGE_PRESENT		(1ULL << 0)
#define GUESTMAP_PAGE_WRITABLE		(1ULL << 1)
#define GUESTMAP_PAGE_CLASS_SHIFT	2
#define GUESTMAP_PAGE_CLASS_MASK	(3ULL << GUESTMAP_PAGE_CLASS_SHIFT)
#define GUESTMAP_CLASS_PAGE		1
#define GUESTMAP_CLASS_ZERO		2
#define GUESTMAP_CLASS_PFNMAP		3
#define GUESTMAP_PAGE_PFN_SHIFT		12

/**
 * struct guestmap_query - read the mirror's entries
 * @gpa:	first guest physical address, page aligned.
 * @npages:	number of pages, 1 to GUESTMAP_QUERY_MAX.
 * @entries:	user pointer to @npages __u64 that receive the state of
 *		each page: GUESTMAP_PAGE_* bits and the class, 0 if not
 *		mirrored.
 *
 * Reads only; never faults.  The answer may be stale by the time it
 * reaches user space, as with any read of a live page table.
 */
struct guestmap_query {
	__u64 gpa;
	__u64 npages;
	__u64 entries;
};

#define GUESTMAP_QUERY_MAX	4096
#define GUESTMAP_QUERY \
	_IOW(GUESTMAP_IO, 0x04, struct guestmap_query)

/**
 * struct guestmap_rw - access guest memory through the mirror
 * @gpa:	first guest physical address; any alignment.
 * @len:	bytes, 1 to GUESTMAP_RW_MAX; the range must lie in one
 *		slot.
 * @buf:	user buffer to fill (READ) or to copy from (WRITE).
 *
 * A page missing from the mirror, or read-only for a write, is faulted in
 * first, as a guest access through a real MMU would be.  Errors as for
 * GUESTMAP_MIRROR_FAULT.
 */
struct guestmap_rw {
	__u64 gpa;
	__u64 len;
	__u64 buf;
};

#define GUESTMAP_RW_MAX		(1U << 20)
#define GUESTMAP_READ_GUEST \
	_IOW(GUESTMAP_IO, 0x05, struct guestmap_rw)
#define GUESTMAP_WRITE_GUEST \
	_IOW(GUESTMAP_IO, 0x06, struct guestmap_rw)

/* Guest memory mapping: GUESTMAP_CLASSIFY onwards. */
#define GUESTMAP_CAP_MAP	(1ULL << 1)

/**
 * DOC: pfn classes
 *
 * What a pfn is, by the rules of include/guestmap/pfn.h: the class
 * GUESTMAP_CLASSIFY reports in &guestmap_classify.class.
 *
 * ``GUESTMAP_PFN_NO_PAGE``
 *	no usable struct page: MMIO or memory the kernel never described,
 *	memory that is offline, ZONE_DEVICE memory being set up or torn
 *	down.
 * ``GUESTMAP_PFN_RESERVED``
 *	PG_reserved, and none of the classes below.
 * ``GUESTMAP_PFN_ZERO``
 *	the shared zero page.  The huge zero page cannot be told apart from
 *	a module in 6.12: it is ``GUESTMAP_PFN_NORMAL`` and
 *	``GUESTMAP_PFN_COMPOUND``.
 * ``GUESTMAP_PFN_NORMAL``
 *	an ordinary page, including the pages of THPs and hugetlb folios.
 * ``GUESTMAP_PFN_DEVICE_PRIVATE`` to ``GUESTMAP_PFN_P2PDMA``
 *	ZONE_DEVICE memory, by the type of its pgmap: DEVICE_PRIVATE,
 *	DEVICE_COHERENT, FS_DAX, DEVICE_GENERIC (device-dax) or P2PDMA.
 * 0
 *	ZONE_DEVICE memory of a type this module does not know.
 */
#define GUESTMAP_PFN_NO_PAGE		1
#define GUESTMAP_PFN_RESERVED		2
#define GUESTMAP_PFN_ZERO		3
#define GUESTMAP_PFN_NORMAL		4
#define GUESTMAP_PFN_DEVICE_PRIVATE	5
#define GUESTMAP_PFN_DEVICE_COHERENT	6
#define GUESTMAP_PFN_FS_DAX		7
#define GUESTMAP_PFN_DEVICE_GENERIC	8
#define GUESTMAP_PFN_P2PDMA		9

/**
 * DOC: pfn flags
 *
 * What else GUESTMAP_CLASSIFY says about a pfn, in
 * &guestmap_classify.flags:
 *
 * ``GUESTMAP_PFN_REFCOUNTED``
 *	kvm_is_refcounted_pfn(): refcounted, may be pinned.
 * ``GUESTMAP_PFN_MAY_DIRTY``
 *	kvm_pfn_may_mark_dirty(): may be marked dirty or accessed.
 * ``GUESTMAP_PFN_MAPPED_PFNMAP``
 *	found through a VM_PFNMAP or VM_IO mapping.
 * ``GUESTMAP_PFN_COMPOUND``
 *	part of a large folio (THP, hugetlb).
 */
#define GUESTMAP_PFN_REFCOUNTED		(1U << 0)
#define GUESTMAP_PFN_MAY_DIRTY		(1U << 1)
#define GUESTMAP_PFN_MAPPED_PFNMAP	(1U << 2)
#define GUESTMAP_PFN_COMPOUND		(1U << 3)

/**
 * struct guestmap_classify - what backs a user address
 * @addr:	user address in the caller's address space (in).
 * @class:	GUESTMAP_PFN_* class, 0 for ZONE_DEVICE memory of an
 *		unknown type (out).
 * @flags:	GUESTMAP_PFN_REFCOUNTED etc. (out).
 * @pfn:	the pfn, for CAP_SYS_ADMIN only; 0 for others (out).
 *
 * Nothing is faulted in: EFAULT if nothing is mapped at @addr (or, for
 * ordinary mappings, nothing could be read there).
 */
struct guestmap_classify {
	__u64 addr;
	__u32 class;
	__u32 flags;
	__u64 pfn;
};

#define GUESTMAP_CLASSIFY \
	_IOWR(GUESTMAP_IO, 0x07, struct guestmap_classify)

/**
 * DOC: access operations
 *
 * &guestmap_access.op, each done as the KVM function named:
 *
 * ``GUESTMAP_ACCESS_MAP_READ``
 *	kvm_vcpu_map(), copy out, kvm_vcpu_unmap(): map the page, copy out,
 *	unmap; one page.
 * ``GUESTMAP_ACCESS_MAP_WRITE``
 *	the same, copying in.  The page is marked dirty on unmap, where it
 *	may be; ``GUESTMAP_ACCESS_DIRTY`` marks it even when nothing was
 *	written.
 * ``GUESTMAP_ACCESS_READ``
 *	kvm_read_guest(): copy out, with no kernel mapping.
 * ``GUESTMAP_ACCESS_WRITE``
 *	kvm_write_guest(): copy in, with no kernel mapping.
 * ``GUESTMAP_ACCESS_CMPXCHG``
 *	emulator_cmpxchg_emulated(): map, compare and exchange 8 aligned
 *	bytes, unmap; &guestmap_access.old in, the value found out.
 * ``GUESTMAP_ACCESS_CACHE_READ``
 *	a gfn_to_pfn_cache: read through pfn cache &guestmap_access.cache
 *	(below ``GUESTMAP_NR_CACHES``); one page.
 * ``GUESTMAP_ACCESS_CACHE_WRITE``
 *	the same, writing.
 */
#define GUESTMAP_ACCESS_MAP_READ	1
#define GUESTMAP_ACCESS_MAP_WRITE	2
#define GUESTMAP_ACCESS_READ		3
#define GUESTMAP_ACCESS_WRITE		4
#define GUESTMAP_ACCESS_CMPXCHG		5
#define GUESTMAP_ACCESS_CACHE_READ	6
#define GUESTMAP_ACCESS_CACHE_WRITE	7

/**
 * DOC: access flags
 *
 * &guestmap_access.flags may have ``GUESTMAP_ACCESS_DIRTY``: mark the page
 * dirty on unmap even if nothing was written through a mapping made for
 * writing (a CMPXCHG that found another value, a failed MAP_WRITE copy),
 * as kvm_vcpu_unmap(map, true) does.  A write the kernel made always
 * marks the page dirty where the page may be dirtied
 * (``GUESTMAP_PFN_MAY_DIRTY``), whatever the flag: it must never be lost
 * to reclaim or writeback.  A MAP_READ mapping is never marked dirty: its
 * page was not made ready for writing.
 */
#define GUESTMAP_ACCESS_DIRTY		(1U << 0)

/**
 * DOC: access via
 *
 * How the page was reached, in &guestmap_access.via:
 *
 * ``GUESTMAP_VIA_PAGE``
 *	a pinned page, direct-mapped.
 * ``GUESTMAP_VIA_REMAP``
 *	memremap() of the pfn: a mapping of the bare pfn.
 * ``GUESTMAP_VIA_CACHE``
 *	a valid pfn cache.
 * ``GUESTMAP_VIA_CACHE_REFRESH``
 *	the pfn cache, refreshed first.
 */
#define GUESTMAP_VIA_PAGE		1
#define GUESTMAP_VIA_REMAP		2
#define GUESTMAP_VIA_CACHE		3
#define GUESTMAP_VIA_CACHE_REFRESH	4

#define GUESTMAP_NR_CACHES		8

/**
 * struct guestmap_access - access guest memory the ways a hypervisor does
 * @gpa:	guest physical address.  MAP_*, CMPXCHG and CACHE_* need
 *		@gpa .. @gpa + @len in one page; CMPXCHG needs @gpa 8-byte
 *		aligned and @len 8.
 * @len:	bytes, 1 to GUESTMAP_RW_MAX; the range must lie in one
 *		slot.
 * @buf:	user buffer to fill or copy from (not used by CMPXCHG).
 * @op:		GUESTMAP_ACCESS_*.
 * @flags:	GUESTMAP_ACCESS_DIRTY.
 * @old:	CMPXCHG: the expected value (in); the value found (out).
 * @new:	CMPXCHG: the value to store.
 * @cache:	CACHE_*: which pfn cache, below GUESTMAP_NR_CACHES.  A cache
 *		follows the page it last mapped and is retargeted by an
 *		access to another gpa.
 * @via:	GUESTMAP_VIA_* (out).
 *
 * MAP_* and CMPXCHG are kvm_vcpu_map()/kvm_vcpu_unmap(); READ and WRITE
 * are kvm_read_guest()/kvm_write_guest(); CACHE_* is a gfn_to_pfn_cache.
 * Writes to a READONLY slot fail with EPERM; a gpa in no slot with
 * ENOENT.
 */
struct guestmap_access {
	__u64 gpa;
	__u64 len;
	__u64 buf;
	__u32 op;
	__u32 flags;
	__u64 old;
	__u64 new;
	__u32 cache;
	__u32 via;
};

#define GUESTMAP_ACCESS \
	_IOWR(GUESTMAP_IO, 0x08, struct guestmap_access)

#endif /* _UAPI_LINUX_GUESTMAP_H */
