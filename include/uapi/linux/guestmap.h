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
#define GUESTMAP_API_VERSION	2

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
 * The mirror maps with 2 MiB and 1 GiB entries where the CPU does
 * (GUESTMAP_PAGE_SIZE_*, &guestmap_stats.entries_2m).
 */
#define GUESTMAP_CAP_HUGE	(1ULL << 3)

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
 * @pages_faulted:	pages installed or upgraded by faults.
 * @retries:		fault attempts redone because an invalidation raced.
 * @entries_zapped:	pages whose entries invalidations and memslot
 *			deletion removed.
 * @entries_wrprotected: pages whose writable entries were made read-only
 *			in place.
 * @tables_allocated:	mirror table pages allocated ...
 * @tables_freed:	... and taken out of the table (freed, or kept as a
 *			spare); the root table is not counted.
 * @entries_present:	pages mapped now.  The counters above count 4 KiB
 *			pages, so that a 2 MiB entry counts 512 of them.
 * @entries_2m:		2 MiB entries present now.
 * @entries_1g:		1 GiB entries present now.
 * @huge_partial:	invalidations that covered only part of a huge entry,
 *			and so acted on the whole entry.
 * @huge_splits:	huge entries split into entries of the next size
 *			down, to install a smaller entry inside one.
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
	__u64 entries_2m;
	__u64 entries_1g;
	__u64 huge_partial;
	__u64 huge_splits;
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
 * ``GUESTMAP_PAGE_SIZE_MASK``
 *	the size of the entry that maps the page, from bit
 *	``GUESTMAP_PAGE_SIZE_SHIFT``: ``GUESTMAP_PAGE_SIZE_4K``,
 *	``GUESTMAP_PAGE_SIZE_2M`` or ``GUESTMAP_PAGE_SIZE_1G``.  Each page
 *	under a huge entry is reported on its own, with its own pfn.
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
#define GUESTMAP_PAGE_SIZE_SHIFT	4
#define GUESTMAP_PAGE_SIZE_MASK		(3ULL << GUESTMAP_PAGE_SIZE_SHIFT)
#define GUESTMAP_PAGE_SIZE_4K		0
#define GUESTMAP_PAGE_SIZE_2M		1
#define GUESTMAP_PAGE_SIZE_1G		2
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

/* Nested SVM: GUESTMAP_SVM_CREATE_VCPU onwards. */
#define GUESTMAP_CAP_NESTED_SVM	(1ULL << 2)

/* Nested vCPUs per context: ids 0 to GUESTMAP_MAX_VCPUS - 1. */
#define GUESTMAP_MAX_VCPUS	8
/* As KVM_MAX_CPUID_ENTRIES. */
#define GUESTMAP_CPUID_MAX	256

/**
 * struct guestmap_cpuid_entry - one CPUID leaf of the guest CPU model
 * @function:	EAX input.
 * @index:	ECX input; 0 for leaves that take none.
 * @eax:	EAX output.
 * @ebx:	EBX output.
 * @ecx:	ECX output.
 * @edx:	EDX output.
 *
 * As &struct kvm_cpuid_entry2, without its flags: a leaf that depends on
 * ECX is given once per index.  A leaf absent from the model reads as 0,
 * as for KVM's guest_cpuid_has().
 */
struct guestmap_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 eax;
	__u32 ebx;
	__u32 ecx;
	__u32 edx;
};

/* L0 runs without nested paging, as kvm_amd with npt=0. */
#define GUESTMAP_SVM_VCPU_NO_NPT	(1U << 0)

/**
 * struct guestmap_svm_vcpu - create or destroy a nested SVM vCPU
 * @vcpu:	id, below GUESTMAP_MAX_VCPUS.
 * @nent:	number of CPUID entries, 1 to GUESTMAP_CPUID_MAX; 0 destroys
 *		vCPU @vcpu.
 * @entries:	user pointer to @nent &struct guestmap_cpuid_entry: the L1
 *		guest's CPUID, as KVM_SET_CPUID2 takes it.
 * @flags:	GUESTMAP_SVM_VCPU_NO_NPT.
 * @pad:	must be zero.
 *
 * The vCPU's CPU model is derived from @entries as KVM derives it
 * (arch/x86/kvm/cpuid.c): MAXPHYADDR from leaf 0x80000008 (36 without
 * it), the CR4 bits that leaves 1 and 7 allow, the EFER bits that leaves
 * 0x80000001 and 0x80000021 allow, each further limited to what the
 * host CPU has, as KVM limits them; nested paging is offered if the host
 * has it and @flags does not say otherwise (KVM's npt_enabled), whatever
 * the guest's CPUID says.  EINVAL
 * for a MAXPHYADDR outside 32 to 52.  The vCPU starts with its L1 state all zero (EFER.SVME clear, so VMRUN
 * is #UD) and L0 intercepting every MSR.  EEXIST: @vcpu exists; EINVAL:
 * destroying one that does not.  Destroying a vCPU in guest mode drops
 * L2 with it.
 */
struct guestmap_svm_vcpu {
	__u32 vcpu;
	__u32 nent;
	__u64 entries;
	__u32 flags;
	__u32 pad;
};

#define GUESTMAP_SVM_CREATE_VCPU \
	_IOW(GUESTMAP_IO, 0x0a, struct guestmap_svm_vcpu)

/* L1 is in System Management Mode: VMRUN is #UD. */
#define GUESTMAP_SVM_L1_SMM	(1U << 0)

/**
 * struct guestmap_svm_l1 - the L1 state VMRUN depends on
 * @vcpu:	id.
 * @cpl:	L1's current privilege level, 0 to 3.
 * @efer:	L1's EFER.
 * @cr0:	L1's CR0.
 * @hsave_pa:	L1's MSR_VM_HSAVE_PA.
 * @flags:	GUESTMAP_SVM_L1_SMM.
 * @pad:	must be zero.
 *
 * What L1 could not have set is refused with EINVAL, as KVM refuses the
 * WRMSR or MOV with a #GP: an EFER the CPU model does not allow
 * (kvm_valid_efer()), a CR0 kvm_is_valid_cr0() refuses (bits 63:32 set,
 * NW without CD, PG without PE), an HSAVE_PA not page
 * aligned or beyond MAXPHYADDR.  EBUSY in guest mode: L1 is not running.
 */
struct guestmap_svm_l1 {
	__u32 vcpu;
	__u32 cpl;
	__u64 efer;
	__u64 cr0;
	__u64 hsave_pa;
	__u32 flags;
	__u32 pad;
};

#define GUESTMAP_SVM_SET_L1 \
	_IOW(GUESTMAP_IO, 0x0b, struct guestmap_svm_l1)

/* &guestmap_svm_l0_msr.intercept and &guestmap_svm_intercept.op bits. */
#define GUESTMAP_SVM_MSR_READ	(1U << 0)
#define GUESTMAP_SVM_MSR_WRITE	(1U << 1)

/**
 * struct guestmap_svm_l0_msr - L0's own interception of one MSR
 * @vcpu:	id.
 * @msr:	the MSR, in one of the three ranges an MSR permission map
 *		covers (0-0x1fff, 0xc0000000-0xc0001fff,
 *		0xc0010000-0xc0011fff), else EINVAL.
 * @intercept:	GUESTMAP_SVM_MSR_READ and GUESTMAP_SVM_MSR_WRITE: which
 *		accesses L0 itself intercepts.
 * @pad:	must be zero.
 *
 * L0's map is OR-ed into L1's at the next VMRUN, as KVM merges its own
 * msrpm into nested.msrpm: an MSR L0 lets L1 use directly reaches L2
 * directly only if L1's map lets it, and an MSR L0 intercepts exits to L0
 * whatever L1's map says.  A new vCPU's L0 intercepts every access.
 * EBUSY in guest mode.
 */
struct guestmap_svm_l0_msr {
	__u32 vcpu;
	__u32 msr;
	__u32 intercept;
	__u32 pad;
};

#define GUESTMAP_SVM_SET_L0_MSR \
	_IOW(GUESTMAP_IO, 0x0c, struct guestmap_svm_l0_msr)

/**
 * DOC: VMRUN results
 *
 * &guestmap_svm_vmrun.result, as hardware (and KVM) would end VMRUN:
 *
 * ``GUESTMAP_SVM_ENTERED``
 *	every check passed: the vCPU is in guest mode, running L2.
 * ``GUESTMAP_SVM_EXCEPTION``
 *	VMRUN faulted in L1 with exception &guestmap_svm_vmrun.vector
 *	(6, #UD, or 13, #GP).
 * ``GUESTMAP_SVM_VMEXIT_INVALID``
 *	a consistency check of VMCB12 failed: VMRUN "exited" at once with
 *	exit code VMEXIT_INVALID (-1), written into VMCB12 with
 *	exit_code_hi -1, exit_info_1, exit_info_2 and event_inj 0.
 */
#define GUESTMAP_SVM_ENTERED		1
#define GUESTMAP_SVM_EXCEPTION		2
#define GUESTMAP_SVM_VMEXIT_INVALID	3

/**
 * DOC: VMRUN checks
 *
 * &guestmap_svm_vmrun.check: the first check VMRUN failed, in the order
 * KVM 6.12 makes them (arch/x86/kvm/svm/nested.c); 0 when VMRUN entered.
 *
 * The exceptions, from nested_svm_check_permissions() and
 * nested_svm_vmrun(): ``GUESTMAP_SVM_CHECK_L1_SVME`` (L1's EFER.SVME
 * clear, #UD), ``_L1_PAGING`` (L1's CR0.PG clear, #UD), ``_L1_CPL`` (CPL
 * not 0, #GP), ``_HSAVE`` (HSAVE_PA 0, #GP), ``_SMM`` (#UD).
 *
 * VMEXIT_INVALID, from __nested_vmcb_check_save() on VMCB12's save area:
 * ``_EFER_SVME`` (EFER.SVME clear), ``_CR0_NW`` (CR0.NW without CR0.CD),
 * ``_CR0_HIGH`` (CR0 bits 63:32), ``_DR6`` and ``_DR7`` (bits 63:32),
 * then with EFER.LME and CR0.PG: ``_LONG_PAE`` (CR4.PAE clear),
 * ``_LONG_PE`` (CR0.PE clear), ``_LONG_CR3`` (CR3 beyond MAXPHYADDR),
 * ``_CS_L_D`` (CS.L with CS.D); then ``_CR4`` (a reserved CR4 bit) and
 * ``_EFER`` (an EFER bit the model does not allow).
 *
 * Then from __nested_vmcb_check_controls(): ``_VMRUN_INTERCEPT`` (VMRUN
 * not intercepted), ``_ASID`` (ASID 0), ``_NP`` (nested paging asked of
 * a host without it), ``_NCR3`` (nested paging with nCR3 beyond
 * MAXPHYADDR), ``_MSRPM`` and ``_IOPM`` (the map, its low 12 bits
 * ignored, not wholly below MAXPHYADDR), ``_V_NMI`` (virtual NMI without
 * the NMI intercept).
 *
 * Then while entering: ``_CR3`` (CR3 beyond MAXPHYADDR whatever the
 * mode, nested_svm_load_cr3()) and ``_MSRPM_READ`` (a word of L1's MSR
 * permission map that the merge needs could not be read).
 */
#define GUESTMAP_SVM_CHECK_L1_SVME		1
#define GUESTMAP_SVM_CHECK_L1_PAGING		2
#define GUESTMAP_SVM_CHECK_L1_CPL		3
#define GUESTMAP_SVM_CHECK_HSAVE		4
#define GUESTMAP_SVM_CHECK_SMM			5
#define GUESTMAP_SVM_CHECK_EFER_SVME		6
#define GUESTMAP_SVM_CHECK_CR0_NW		7
#define GUESTMAP_SVM_CHECK_CR0_HIGH		8
#define GUESTMAP_SVM_CHECK_DR6			9
#define GUESTMAP_SVM_CHECK_DR7			10
#define GUESTMAP_SVM_CHECK_LONG_PAE		11
#define GUESTMAP_SVM_CHECK_LONG_PE		12
#define GUESTMAP_SVM_CHECK_LONG_CR3		13
#define GUESTMAP_SVM_CHECK_CS_L_D		14
#define GUESTMAP_SVM_CHECK_CR4			15
#define GUESTMAP_SVM_CHECK_EFER			16
#define GUESTMAP_SVM_CHECK_VMRUN_INTERCEPT	17
#define GUESTMAP_SVM_CHECK_ASID			18
#define GUESTMAP_SVM_CHECK_NP			19
#define GUESTMAP_SVM_CHECK_NCR3			20
#define GUESTMAP_SVM_CHECK_MSRPM		21
#define GUESTMAP_SVM_CHECK_IOPM			22
#define GUESTMAP_SVM_CHECK_V_NMI		23
#define GUESTMAP_SVM_CHECK_CR3			24
#define GUESTMAP_SVM_CHECK_MSRPM_READ		25

/* Map VMCB12 through the vCPU's pfn cache, not per VMRUN. */
#define GUESTMAP_SVM_RUN_CACHED	(1U << 0)

/**
 * struct guestmap_svm_vmrun - VMRUN in L1
 * @vcpu:	id.
 * @flags:	GUESTMAP_SVM_RUN_CACHED.
 * @vmcb12_gpa:	L1's rAX: VMCB12's guest physical address, page aligned
 *		(EINVAL otherwise).
 * @result:	GUESTMAP_SVM_ENTERED, _EXCEPTION or _VMEXIT_INVALID (out).
 * @vector:	for _EXCEPTION, the vector (out).
 * @check:	GUESTMAP_SVM_CHECK_* of the first check that failed, 0 if
 *		VMRUN entered (out).
 * @pad:	must be zero.
 *
 * Maps VMCB12 (kvm_vcpu_map(), or the vCPU's pfn cache), copies its
 * control and save areas into the vCPU and judges the copy, so that L1
 * changing VMCB12 meanwhile changes nothing; on success merges L1's MSR
 * permission map with L0's (see &struct guestmap_svm_l0_msr), from guest
 * memory, into the vCPU's own.  ENOENT: VMCB12 is in no memslot (KVM
 * injects #GP); EPERM: the memslot is READONLY; EFAULT: nothing the
 * process may write is mapped there (VMCB12 is mapped for writing, as
 * kvm_vcpu_map() maps it); EBUSY: the vCPU is in guest mode already;
 * EINTR: a signal is pending; EAGAIN: 1000 races with invalidations lost
 * in a row.  The argument is written back once before VMRUN does
 * anything, so that an argument that cannot be written fails with EFAULT
 * with nothing done; another thread unmapping it meanwhile can still
 * lose the verdict.
 */
struct guestmap_svm_vmrun {
	__u32 vcpu;
	__u32 flags;
	__u64 vmcb12_gpa;
	__u32 result;
	__u32 vector;
	__u32 check;
	__u32 pad;
};

#define GUESTMAP_SVM_VMRUN \
	_IOWR(GUESTMAP_IO, 0x0d, struct guestmap_svm_vmrun)

/* &guestmap_svm_intercept.op */
#define GUESTMAP_SVM_RDMSR	1
#define GUESTMAP_SVM_WRMSR	2
#define GUESTMAP_SVM_IN		3
#define GUESTMAP_SVM_OUT	4

/* &guestmap_svm_intercept.exits bits */
#define GUESTMAP_SVM_EXIT_L0	(1U << 0)
#define GUESTMAP_SVM_EXIT_L1	(1U << 1)

/**
 * struct guestmap_svm_intercept - would an access by L2 exit, and to whom
 * @vcpu:	id; the vCPU must be in guest mode (EINVAL).
 * @op:		GUESTMAP_SVM_RDMSR, _WRMSR, _IN or _OUT.
 * @index:	the MSR (RDMSR, WRMSR), or the port, below 0x10000 (IN,
 *		OUT).
 * @size:	IN, OUT: 1, 2 or 4 bytes; 0 for MSRs.
 * @exits:	(out) ``GUESTMAP_SVM_EXIT_L0``: the CPU exits to L0, by the
 *		MSR map merged at VMRUN, or L0's own map if L1 did not
 *		intercept MSR_PROT then (an MSR outside the three ranges
 *		always exits; L0 intercepts every port).
 *		``GUESTMAP_SVM_EXIT_L1``: and L0 reflects the exit to L1, by
 *		L1's maps as they are in guest memory now, as KVM's
 *		nested_svm_exit_handled_msr() and nested_svm_intercept_ioio()
 *		read them: L1 intercepts MSR_PROT or IOIO_PROT and the bit is
 *		set, or the MSR is in no range, or the map cannot be read.
 * @pad:	must be zero.
 */
struct guestmap_svm_intercept {
	__u32 vcpu;
	__u32 op;
	__u32 index;
	__u32 size;
	__u32 exits;
	__u32 pad;
};

#define GUESTMAP_SVM_INTERCEPT \
	_IOWR(GUESTMAP_IO, 0x0e, struct guestmap_svm_intercept)

/**
 * struct guestmap_svm_vmexit - #VMEXIT from L2 to L1
 * @vcpu:	id; the vCPU must be in guest mode (EINVAL).
 * @pad:	must be zero.
 * @exit_code:	the exit code, written as exit_code and exit_code_hi.
 * @exit_info_1: EXITINFO1.
 * @exit_info_2: EXITINFO2.
 * @exit_int_info: EXITINTINFO (low 32 bits) and its error code (high 32
 *		bits).
 *
 * Maps VMCB12 again, writes these, clears event_inj and event_inj_err,
 * writes back the L2 state nested_svm_vmexit() writes (ES, CS, SS, DS,
 * GDTR, IDTR, CPL, EFER, CR0, CR2, CR3, CR4, DR6, DR7, RFLAGS, RIP, RSP,
 * RAX, and int_ctl) as VMRUN copied it (nothing here runs L2), and
 * unmaps it, marking the page dirty where it may be
 * (kvm_pfn_may_mark_dirty()); the vCPU is back in L1.  ENOENT, EPERM or
 * EFAULT if VMCB12 can no longer be mapped for writing (as for VMRUN): the
 * vCPU stays in guest mode, as in KVM.
 */
struct guestmap_svm_vmexit {
	__u32 vcpu;
	__u32 pad;
	__u64 exit_code;
	__u64 exit_info_1;
	__u64 exit_info_2;
	__u64 exit_int_info;
};

#define GUESTMAP_SVM_VMEXIT \
	_IOW(GUESTMAP_IO, 0x0f, struct guestmap_svm_vmexit)

/* Nested VMX: GUESTMAP_VMX_CREATE_VCPU onwards. */
#define GUESTMAP_CAP_NESTED_VMX	(1ULL << 4)

/* At most this many capability MSRs in &guestmap_vmx_vcpu.msrs. */
#define GUESTMAP_VMX_MSRS_MAX	32

/**
 * struct guestmap_vmx_msr - one VMX capability MSR of the guest CPU model
 * @index:	the MSR, IA32_VMX_BASIC (0x480) to IA32_VMX_VMFUNC (0x491).
 * @pad:	must be zero.
 * @value:	its value.
 */
struct guestmap_vmx_msr {
	__u32 index;
	__u32 pad;
	__u64 value;
};

/**
 * struct guestmap_vmx_vcpu - create or destroy a nested VMX vCPU
 * @vcpu:	id, below GUESTMAP_MAX_VCPUS, shared with the SVM vCPUs.
 * @nent:	number of CPUID entries, 1 to GUESTMAP_CPUID_MAX; 0 destroys
 *		vCPU @vcpu.
 * @entries:	user pointer to @nent &struct guestmap_cpuid_entry: the L1
 *		guest's CPUID (MAXPHYADDR comes from it, as for SVM).
 * @nmsrs:	number of capability MSRs at @msrs, up to
 *		GUESTMAP_VMX_MSRS_MAX.
 * @flags:	GUESTMAP_VMX_VCPU_CACHED.
 * @msrs:	user pointer to @nmsrs &struct guestmap_vmx_msr: the VMX
 *		capability MSRs of the CPU model, each set in turn over
 *		KVM's defaults (nested_vmx_setup_ctls_msrs()) with KVM's rules
 *		(vmx_set_vmx_msr()): a value may only take features away.
 *
 * EINVAL for an MSR KVM would refuse; EEXIST: @vcpu exists.  The vCPU
 * starts outside VMX operation with its L1 state all zero (CR4.VMXE
 * clear, so VMXON is #UD) and L0 intercepting every MSR.
 *
 * The virtual-APIC page, the posted-interrupt descriptor and the
 * APIC-access page of a running L2 are held from VM entry to VM exit, as
 * 6.12's kvm_vcpu_map() holds them (a page is pinned, FOLL_LONGTERM, and
 * goes stale if user space moves, remaps or unmaps it meanwhile; a
 * PFN-only frame is never used stale: after any invalidation in its
 * memslot, or any memslot change, its uses fail with EFAULT until VM
 * exit), or, with
 * GUESTMAP_VMX_VCPU_CACHED, reached through the vCPU's pfn caches, which
 * the memslot's notifier invalidates (every use reaches the page user
 * space maps now).
 */
struct guestmap_vmx_vcpu {
	__u32 vcpu;
	__u32 nent;
	__u64 entries;
	__u32 nmsrs;
	__u32 flags;
	__u64 msrs;
};

/* &guestmap_vmx_vcpu.flags: L2's pages through the pfn caches. */
#define GUESTMAP_VMX_VCPU_CACHED	(1U << 0)

#define GUESTMAP_VMX_CREATE_VCPU \
	_IOW(GUESTMAP_IO, 0x10, struct guestmap_vmx_vcpu)

/**
 * struct guestmap_vmx_l1 - the L1 state the VMX instructions depend on
 * @vcpu:	id.
 * @cpl:	L1's current privilege level, 0 to 3.
 * @cr0:	L1's CR0.
 * @cr4:	L1's CR4.
 * @feature_control: L1's IA32_FEATURE_CONTROL.
 * @efer:	L1's EFER: VM entry checks the host address-space size
 *		control against EFER.LMA.
 * @flags:	GUESTMAP_VMX_L1_X2APIC.
 * @pad:	must be zero.
 *
 * Not checked against the CPU model: VMXON itself checks CR0 and CR4
 * against IA32_VMX_CR0_FIXED0/1 and IA32_VMX_CR4_FIXED0/1.  EBUSY in
 * guest mode.
 */
struct guestmap_vmx_l1 {
	__u32 vcpu;
	__u32 cpl;
	__u64 cr0;
	__u64 cr4;
	__u64 feature_control;
	__u64 efer;
	__u32 flags;
	__u32 pad;
};

/* &guestmap_vmx_l1.flags: L1's local APIC is in x2APIC mode. */
#define GUESTMAP_VMX_L1_X2APIC	(1U << 0)

#define GUESTMAP_VMX_SET_L1 \
	_IOW(GUESTMAP_IO, 0x11, struct guestmap_vmx_l1)

/* &guestmap_vmx_insn.insn: the instruction L1 executes. */
#define GUESTMAP_VMX_VMXON	1
#define GUESTMAP_VMX_VMXOFF	2
#define GUESTMAP_VMX_VMPTRLD	3
#define GUESTMAP_VMX_VMPTRST	4
#define GUESTMAP_VMX_VMCLEAR	5
#define GUESTMAP_VMX_VMREAD	6
#define GUESTMAP_VMX_VMWRITE	7
#define GUESTMAP_VMX_VMLAUNCH	8
#define GUESTMAP_VMX_VMRESUME	9

/* &guestmap_vmx_insn.result: how it ended (SDM vol. 3C, 31.2). */
#define GUESTMAP_VMX_SUCCEED		1
#define GUESTMAP_VMX_FAIL_INVALID	2
#define GUESTMAP_VMX_FAIL_VALID		3
#define GUESTMAP_VMX_EXCEPTION		4
/* VMLAUNCH, VMRESUME: L2 runs. */
#define GUESTMAP_VMX_ENTERED		5
/* VMLAUNCH, VMRESUME: a VM-entry failure VM exit to L1. */
#define GUESTMAP_VMX_ENTRY_FAILED	6
/* In guest mode, L2's VMREAD or VMWRITE exits to L1. */
#define GUESTMAP_VMX_REFLECTED		7

/**
 * struct guestmap_vmx_insn - one VMX instruction of L1
 * @vcpu:	id.
 * @insn:	GUESTMAP_VMX_*.
 * @operand:	VMXON, VMPTRLD, VMCLEAR: the region's guest physical
 *		address; VMREAD, VMWRITE: the field encoding, the whole
 *		register (an encoding above bit 14 is no component).
 * @value:	VMWRITE: the value; VMREAD, VMPTRST: returned; for
 *		_ENTRY_FAILED, the exit qualification.
 * @result:	returned: GUESTMAP_VMX_SUCCEED, _FAIL_INVALID, _FAIL_VALID,
 *		_EXCEPTION, for VMLAUNCH and VMRESUME _ENTERED or
 *		_ENTRY_FAILED, for L2's VMREAD and VMWRITE _REFLECTED.
 * @error:	returned: for _FAIL_VALID, the VM-instruction error number
 *		(SDM vol. 3C, table 31-1), also written into the current
 *		vmcs12's VM-instruction error field; for _ENTRY_FAILED, the
 *		exit reason (bit 31 set), also written into vmcs12; for
 *		_REFLECTED, the exit reason L1 must see (23 VMREAD, 25
 *		VMWRITE), which GUESTMAP_VMX_OP_VMEXIT then delivers.
 * @vector:	returned: for _EXCEPTION, the vector (#UD 6, #GP 13).
 * @pad:	must be zero.
 *
 * Each instruction does what KVM 6.12's emulation does
 * (arch/x86/kvm/vmx/nested.c), on guest memory through the memslots:
 * VMXON reads the region's revision identifier; VMPTRLD reads the
 * vmcs12 header, writes the previous current vmcs12 back, then copies
 * the new one (4 KiB) into the vCPU; VMCLEAR writes the current vmcs12
 * back if it is the one named, then zeroes its launch state in guest
 * memory; VMREAD and VMWRITE act on the vCPU's copy; VMXOFF drops the
 * current vmcs12 without writing it back, as KVM's free_nested() does.
 * VMLAUNCH and VMRESUME make KVM's checks in its order
 * (nested_vmx_run(), nested_vmx_check_controls(), _host_state(),
 * _guest_state(), the MSR-load list), merge L1's MSR bitmap into the
 * vCPU's own (the page is mapped only while merging; if it cannot be,
 * every MSR exits), and attach the virtual-APIC page, the
 * posted-interrupt descriptor and the APIC-access page that vmcs12's
 * controls name (see &struct guestmap_vmx_vcpu); L2 then runs until
 * GUESTMAP_VMX_OP_VMEXIT.  In guest mode VMREAD and VMWRITE are L2's:
 * _REFLECTED if L1 wants them (no VMCS shadowing, an encoding above bit
 * 14, or the field's bit set in L1's VMREAD or VMWRITE bitmap, as
 * nested_vmx_exit_handled_vmcs_access() decides), else done on the shadow
 * vmcs12 that the VMCS link pointer names (copied at entry, written back
 * at exit); other instructions are EBUSY.  A page of L2 that cannot be
 * mapped is answered as nested_get_vmcs12_pages() answers it: the
 * APIC-access page fails the command (ENOENT, EFAULT, EPERM); the
 * virtual-APIC page, VMfailValid 7 unless CR8 loads and stores exit and
 * APIC accesses are not virtualized (then L2 runs without it); the
 * posted-interrupt descriptor, L2 runs without it.
 * Memory no slot holds reads as all ones (a VMPTRLD of it fails with
 * error 11), and writes to it are dropped, as KVM drops them; ENOENT is
 * never returned for guest memory.  EINVAL for an unknown @insn or a
 * non-zero @pad; ENOENT: no vCPU @vcpu; EINVAL: @vcpu is an SVM vCPU.
 */
struct guestmap_vmx_insn {
	__u32 vcpu;
	__u32 insn;
	__u64 operand;
	__u64 value;
	__u32 result;
	__u32 error;
	__u32 vector;
	__u32 pad;
};

#define GUESTMAP_VMX_INSN \
	_IOWR(GUESTMAP_IO, 0x12, struct guestmap_vmx_insn)

/* &guestmap_vmx_op.op. */
#define GUESTMAP_VMX_OP_L0_MSR		1
#define GUESTMAP_VMX_OP_MSR_EXITS	2
#define GUESTMAP_VMX_OP_POST_INTR	3
#define GUESTMAP_VMX_OP_VAPIC_READ	4
#define GUESTMAP_VMX_OP_VAPIC_WRITE	5
#define GUESTMAP_VMX_OP_PML_LOG		6
#define GUESTMAP_VMX_OP_VMEXIT		7
#define GUESTMAP_VMX_OP_EVMCS		8

/* &guestmap_vmx_op.value bits of _L0_MSR, _MSR_EXITS; _MSR_EXITS result. */
#define GUESTMAP_VMX_MSR_READ	(1U << 0)
#define GUESTMAP_VMX_MSR_WRITE	(1U << 1)
#define GUESTMAP_VMX_EXIT_L0	(1U << 0)
#define GUESTMAP_VMX_EXIT_L1	(1U << 1)

/* &guestmap_vmx_op.result of _PML_LOG: the log was full, nothing logged. */
#define GUESTMAP_VMX_PML_FULL	1

/**
 * struct guestmap_vmx_op - L0's side of a nested VMX vCPU
 * @vcpu:	id.
 * @op:		GUESTMAP_VMX_OP_*.
 * @arg:	_L0_MSR, _MSR_EXITS: the MSR; _POST_INTR: the vector;
 *		_VAPIC_READ, _VAPIC_WRITE: the register's offset in the
 *		virtual-APIC page (16-byte aligned, four bytes read or
 *		written); _PML_LOG: the guest physical address L2 wrote;
 *		_VMEXIT: the exit reason; _EVMCS: the enlightened VMCS's
 *		guest physical address, or ~0 for none.
 * @value:	_L0_MSR: GUESTMAP_VMX_MSR_READ and _WRITE, the accesses L0
 *		itself intercepts; _MSR_EXITS: GUESTMAP_VMX_MSR_WRITE for a
 *		WRMSR; _VAPIC_WRITE: the value; _VAPIC_READ: returned;
 *		_VMEXIT: the exit qualification.
 * @result:	returned: _MSR_EXITS: GUESTMAP_VMX_EXIT_L0 if the access
 *		exits to L0, with GUESTMAP_VMX_EXIT_L1 if it is L1's;
 *		_POST_INTR: 1 if the PIR bit and ON were both clear (a
 *		notification is due), else 0; _PML_LOG:
 *		GUESTMAP_VMX_PML_FULL or 0.
 * @pad:	must be zero.
 *
 * _L0_MSR sets L0's own interception of an MSR (EBUSY in guest mode,
 * EINVAL for an MSR outside the bitmap's ranges).  The others need guest
 * mode (EINVAL outside it): _MSR_EXITS answers whether an RDMSR/WRMSR of
 * L2 exits (the merged bitmap) and is reflected to L1 (L1's bitmap, read
 * now); _POST_INTR sets the vector's PIR bit and then ON in the
 * posted-interrupt descriptor, each atomically (EINVAL without "process
 * posted interrupts"); _VAPIC_READ and _WRITE reach the virtual-APIC
 * page (EINVAL without "use TPR shadow"); _PML_LOG appends the page of
 * @arg to L1's PML log as KVM's nested_vmx_write_pml_buffer() does,
 * with a direct write of guest memory at PML_ADDRESS + 8 * GUEST
 * PML_INDEX and the index decremented in vmcs12 (EINVAL without "enable
 * PML"); _VMEXIT writes the exit reason and qualification into vmcs12
 * (and, unless bit 31 of the reason says the entry failed, marks vmcs12
 * launched and clears the valid bit of its VM-entry interruption
 * information, as prepare_vmcs12() does), writes back the shadow vmcs12
 * and vmcs12, and detaches L2's pages (a held page is unpinned; the
 * virtual-APIC page and the descriptor are marked dirty where
 * kvm_pfn_may_mark_dirty() allows); the VM-exit interruption and
 * IDT-vectoring information are written as 0 (the op carries none: an
 * exit during event delivery is not modelled).  _POST_INTR does nothing
 * more if the vector's PIR bit was set already, as
 * vmx_deliver_posted_interrupt() does.  _EVMCS names an enlightened
 * VMCS, as L1 does in its VP assist page (EBUSY in guest mode); the next
 * VMLAUNCH or VMRESUME maps it as KVM's
 * nested_vmx_handle_enlightened_vmptrld() does (the current vmcs12 is
 * dropped; an unmappable page is #UD, a wrong revision VMfailInvalid)
 * and keeps it, held or cached as L2's pages are, until VMCLEAR of it,
 * VMXOFF or another one named.  A page that can no longer be reached
 * fails with ENOENT (its slot is gone), EFAULT or EPERM, and leaves the
 * vCPU as it was.
 */
struct guestmap_vmx_op {
	__u32 vcpu;
	__u32 op;
	__u64 arg;
	__u64 value;
	__u32 result;
	__u32 pad;
};

#define GUESTMAP_VMX_OP \
	_IOWR(GUESTMAP_IO, 0x13, struct guestmap_vmx_op)

/* Guest page-table walks: GUESTMAP_WALK. */
#define GUESTMAP_CAP_WALK	(1ULL << 5)

/* struct guestmap_walk @format. */
#define GUESTMAP_WALK_LONG	0	/* x86-64 paging, 4- or 5-level */
#define GUESTMAP_WALK_EPT	1	/* 4-level EPT */
#define GUESTMAP_WALK_NPT	2	/* NPT: x86-64 paging of an L2 gpa */

/* struct guestmap_walk @access: the #PF error code's bits for them. */
#define GUESTMAP_WALK_WRITE	(1U << 1)
#define GUESTMAP_WALK_USER	(1U << 2)
#define GUESTMAP_WALK_FETCH	(1U << 4)

/* struct guestmap_walk @flags. */
#define GUESTMAP_WALK_AC	(1U << 0)	/* EFLAGS.AC */
#define GUESTMAP_WALK_IMPLICIT	(1U << 1)	/* implicit supervisor access */
#define GUESTMAP_WALK_NO_AD	(1U << 2)	/* set no A/D bit */
#define GUESTMAP_WALK_CACHED	(1U << 3)	/* through the walk cache */
#define GUESTMAP_WALK_AMD	(1U << 4)	/* AMD's reserved bits */
#define GUESTMAP_WALK_GBPAGES	(1U << 5)	/* 1 GiB pages exist */
#define GUESTMAP_WALK_EXECONLY	(1U << 6)	/* EPT execute-only pages */

/* struct guestmap_walk @fault. */
#define GUESTMAP_WALK_OK		0
#define GUESTMAP_WALK_PF		1	/* #PF, @error its error code */
#define GUESTMAP_WALK_GP		2	/* #GP(0): non-canonical @addr */
#define GUESTMAP_WALK_EPT_VIOLATION	3	/* @error: exit qualification */
#define GUESTMAP_WALK_EPT_MISCONFIG	4

/* Levels of the deepest walk: 5-level paging. */
#define GUESTMAP_WALK_MAX_LEVELS	5

/**
 * struct guestmap_walk - translate an address through guest page tables
 * @root:	in: CR3 for GUESTMAP_WALK_LONG, nCR3 for GUESTMAP_WALK_NPT,
 *		the EPT pointer for GUESTMAP_WALK_EPT.  A root with bits set
 *		that the format reserves is EINVAL.
 * @addr:	in: the guest virtual address for LONG; for NPT and EPT
 *		the L2 guest physical address, below 2^@maxphyaddr.
 * @cr0:	in: CR0 (PG and WP are used); for NPT, L1's; 0 for EPT.
 * @cr4:	in: CR4 (PAE, LA57, SMEP and SMAP are used; PKE, PKS and
 *		LAM_SUP are not modelled and are EINVAL); for NPT, L1's; 0
 *		for EPT.
 * @efer:	in: EFER (LMA and NXE are used); for NPT, L1's; 0 for EPT.
 * @format:	in: GUESTMAP_WALK_LONG, _NPT or _EPT.
 * @access:	in: GUESTMAP_WALK_WRITE, _USER and _FETCH, as KVM's
 *		walker takes them; no bit is a supervisor read.  An NPT
 *		walk is always a user access, as KVM's
 *		translate_nested_gpa() makes it; EPT takes no _USER.
 * @flags:	in: GUESTMAP_WALK_AC and _IMPLICIT say whether SMAP may be
 *		overridden (LONG only, EINVAL otherwise); _NO_AD translates without setting
 *		any A/D bit; _CACHED reads the tables through the walk
 *		cache; _AMD reserves bit 8 of PML5Es and PML4Es as KVM
 *		does for AMD CPUs; _GBPAGES allows 1 GiB pages;
 *		_EXECONLY allows execute-only EPT entries.  A flag the
 *		format does not take is EINVAL.
 * @maxphyaddr:	in: the guest's physical-address width, 32 to 52.
 * @gpa:	out: the translation, when @fault is GUESTMAP_WALK_OK.
 * @page_size:	out: the size of the page that maps @addr.
 * @fault:	out: GUESTMAP_WALK_OK or the fault the access takes.
 * @level:	out: the level of the leaf (1 for 4 KiB), or of the entry
 *		that faulted; 0 for GUESTMAP_WALK_GP.
 * @error:	out: for GUESTMAP_WALK_PF the #PF error code; for
 *		GUESTMAP_WALK_EPT_VIOLATION the exit qualification.
 * @ptes:	out: the entries walked, ``ptes[level - 1]`` for each level,
 *		the one that faulted included, as the walk's A/D updates
 *		left them; 0 for the levels not reached.
 * @retries:	out: how many times the walk restarted because an entry
 *		changed under its A/D update; the ioctl fails with EAGAIN
 *		when the update finds a changed entry for the 1000th time.
 * @pad:	must be 0.
 *
 * The walk is paging_tmpl.h's walk_addr_generic(): every level's entry
 * is read through guestmap's mapping of the table page; a table in no
 * slot is a not-present fault, as in KVM.  Unless _NO_AD, a successful
 * walk sets A in every entry walked and D in the leaf for a write, each
 * with a cmpxchg that restarts the walk if the entry changed; entries in
 * a READONLY slot are left as they are.  A table whose user memory is
 * gone fails with EFAULT; an error part way through the updates leaves
 * the A bits already set, as KVM's walk does.
 */
struct guestmap_walk {
	__u64 root;
	__u64 addr;
	__u64 cr0;
	__u64 cr4;
	__u64 efer;
	__u32 format;
	__u32 access;
	__u32 flags;
	__u32 maxphyaddr;
	__u64 gpa;
	__u64 page_size;
	__u32 fault;
	__u32 level;
	__u64 error;
	__u64 ptes[GUESTMAP_WALK_MAX_LEVELS];
	__u32 retries;
	__u32 pad;
};

#define GUESTMAP_WALK \
	_IOWR(GUESTMAP_IO, 0x14, struct guestmap_walk)

#endif /* _UAPI_LINUX_GUESTMAP_H */
