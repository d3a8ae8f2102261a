/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between guestmap's C part (this directory) and its Rust
 * part: the one definition of every function, structure and constant the
 * two share.  The Rust declarations are generated from this header by
 * bindgen at build time (src/sys/mod.rs), and the host tests generate the
 * constants from it too; nothing is kept in step by hand.
 *
 * The C part is what Rust cannot do in 6.12, or should not: the walk of
 * the CPU page tables under the mmap lock (walk.c), kernel mappings of
 * page frames (frame.c, map.c), the facts about a pfn and the exported
 * kvm_is_refcounted_pfn() family (pfn.c), the host CPU's features
 * (cpu.c), and the tracepoints (trace.c).
 */
#ifndef _GUESTMAP_C_H
#define _GUESTMAP_C_H

#include "../rust/helpers/ctypes.h"

struct mmu_interval_notifier;
struct page;

/* devnode.c */

/*
 * The misc minor of /dev/guestmap (major 10), fixed rather than dynamic so
 * that opening the node loads the module: misc_open() asks for
 * "char-major-10-<minor>", which devnode.c's aliases answer.  Upstream
 * assigns these numbers (include/linux/miscdevice.h); a module outside
 * the tree may only take one of 243-254, which
 * Documentation/admin-guide/devices.txt reserves for local use, and which
 * no driver in 6.12 registers.  249 is left alone: OpenZFS takes it for
 * /dev/zfs, common on virtualisation hosts.  6.12 allocates dynamic
 * minors from 256 up, so only another out-of-tree driver can hold this
 * one; misc_register() then fails with EBUSY, and so does the load.
 */
#define GM_MISC_MINOR	246

/* walk.c */

/*
 * What gm_mirror_walk() reports per page: the pfn in the low bits and
 * these flags.
 */
#define GM_PFN_VALID	(1ULL << 63)
#define GM_PFN_WRITE	(1ULL << 62)
/* From a VM_PFNMAP or VM_IO mapping: not a page hmm vouched for. */
#define GM_PFN_SPECIAL	(1ULL << 61)
#define GM_PFN_ZERO	(1ULL << 60)
/*
 * log2 of the pages of the CPU's mapping of the page (9 for a PMD, 18 for
 * a PUD): it maps the naturally aligned block of that size around it.
 */
#define GM_PFN_ORDER_SHIFT	52
#define GM_PFN_ORDER_MASK	(0x3fULL << GM_PFN_ORDER_SHIFT)
#define GM_PFN_FLAGS	(0xfffULL << GM_PFN_ORDER_SHIFT)

/*
 * Most pages one gm_mirror_walk() reports: 8 MiB, four 2 MiB blocks, so
 * that a walk's fixed costs (the mmap lock, the vma lookup, hmm's set-up)
 * are shared by four huge pages.
 */
#define GM_WALK_MAX	2048

/* -EBUSY: an invalidation raced the walk, which must begin again. */
int gm_mirror_walk(struct mmu_interval_notifier *mni, unsigned long start,
		   unsigned long end, bool write, void *owner,
		   unsigned long seq, u64 *out);

/* frame.c */
int gm_frame_map(unsigned long pfn, void **kva, bool *aliased);
void gm_frame_unmap(void *kva, bool aliased);
void *gm_pfn_to_kva(unsigned long pfn);
void gm_frame_copy(void *dst, const void *src, unsigned long len);
u64 gm_frame_read64(const void *p);
u64 gm_frame_cmpxchg64(void *p, u64 old, u64 new);
u64 gm_frame_fetch_or64(void *p, u64 bits);
void gm_pfn_mark_dirty(unsigned long pfn);

/* pfn.c */

/* What gm_pfn_facts() reports (src/refcount.rs decodes it). */
#define GM_FACT_VALID		(1U << 0)	/* pfn_valid(): a struct page */
#define GM_FACT_RESERVED	(1U << 1)	/* PG_reserved */
#define GM_FACT_ZERO		(1U << 2)	/* the zero page */
#define GM_FACT_COMPOUND	(1U << 3)	/* part of a large folio */
#define GM_FACT_ZONE_DEVICE	(1U << 4)
#define GM_FACT_PGMAP_SHIFT	8		/* enum gm_pgmap, if ZONE_DEVICE */

/*
 * A ZONE_DEVICE page's pgmap type: the kernel's enum memory_type, whose
 * values pfn.c checks these against at build time (memremap.h is not a
 * header bindgen can read here).
 */
enum gm_pgmap {
	GM_PGMAP_PRIVATE = 1,
	GM_PGMAP_COHERENT = 2,
	GM_PGMAP_FS_DAX = 3,
	GM_PGMAP_GENERIC = 4,
	GM_PGMAP_PCI_P2PDMA = 5,
};

u32 gm_pfn_facts(unsigned long pfn);
int gm_classify_user(unsigned long addr, unsigned long *pfn, u32 *facts,
		     bool *pfnmap);

/* Defined in Rust (src/sys/export.rs): src/refcount.rs's answers. */
#define GM_VERDICT_REFCOUNTED	(1U << 0)
#define GM_VERDICT_MAY_DIRTY	(1U << 1)
u32 gm_pfn_verdict(unsigned long pfn);

/* map.c */

/* One page of guest memory mapped into the kernel; src/sys/map.rs. */
struct gm_map {
	void *kva;		/* kernel address of the page */
	unsigned long pfn;
	struct page *page;	/* pinned (FOLL_PIN), or NULL */
	u32 flags;		/* GM_MAP_* */
	u32 facts;		/* gm_pfn_facts(pfn), read while held */
};

#define GM_MAP_PINNED	(1U << 0)	/* a pinned page, by its direct map */
#define GM_MAP_REMAPPED	(1U << 1)	/* gm_frame_map() of a bare pfn */
#define GM_MAP_WRITABLE	(1U << 2)
#define GM_MAP_ALIASED	(1U << 3)	/* gm_frame_map() made a vmap() alias */

int gm_map_hva(unsigned long hva, bool write, bool longterm, struct gm_map *m);
void gm_unmap(struct gm_map *m, bool dirty);

/* cpu.c */

/*
 * The CPU features nested virtualization's CPU model depends on
 * (src/nested/cpu.rs): one bit each, for the guest's CPUID and for what
 * gm_host_cpu_features() reports of the host.
 */
#define GM_FEAT_XSAVE		(1U << 0)
#define GM_FEAT_VMX		(1U << 1)
#define GM_FEAT_PCID		(1U << 2)
#define GM_FEAT_FSGSBASE	(1U << 3)
#define GM_FEAT_SMEP		(1U << 4)
#define GM_FEAT_SMAP		(1U << 5)
#define GM_FEAT_UMIP		(1U << 6)
#define GM_FEAT_PKU		(1U << 7)
#define GM_FEAT_LA57		(1U << 8)
#define GM_FEAT_LAM		(1U << 9)
#define GM_FEAT_SVM		(1U << 10)
#define GM_FEAT_NX		(1U << 11)
#define GM_FEAT_FXSR_OPT	(1U << 12)
#define GM_FEAT_LM		(1U << 13)
#define GM_FEAT_NPT		(1U << 14)
#define GM_FEAT_AUTOIBRS	(1U << 15)

u32 gm_host_cpu_features(void);

/* trace.c: the tracepoints of guestmap_trace.h, fired from Rust. */

/*
 * What the mirror does to an invalidated range (src/policy.rs Action),
 * as guestmap_invalidate records it.
 */
enum gm_action {
	GM_ACTION_ZAP_FREE,
	GM_ACTION_ZAP,
	GM_ACTION_WRPROTECT,
	GM_ACTION_IGNORE,
	GM_ACTION_RELEASE,
};

/* Why a pfn cache view was dropped, as guestmap_cache_invalidate says. */
enum gm_cache_drop {
	GM_CACHE_DROP_EVENT,
	GM_CACHE_DROP_SLOT_DELETED,
	GM_CACHE_DROP_SLOTS_CHANGED,
	GM_CACHE_DROP_FORGOTTEN,
};

/* What an invalidation did, in 4 KiB pages except for the tables. */
struct gm_trace_acted {
	u64 zapped;
	u64 wrprotected;
	u64 tables_freed;
	u64 huge_partial;
};

/* Leaf entries a fault round installed or changed, by size. */
struct gm_trace_installed {
	u64 entries_4k;
	u64 entries_2m;
	u64 entries_1g;
};

/*
 * The events, and their static keys' counts (struct static_key.enabled):
 * Rust reads them (nonzero: enabled or being enabled, as
 * static_key_enabled() says) so that an event that is off costs no call
 * into this part and no arguments built.
 */
enum gm_trace_event {
	GM_TRACE_IOCTL_ENTER,
	GM_TRACE_IOCTL_EXIT,
	GM_TRACE_CTX_CREATE,
	GM_TRACE_CTX_DESTROY,
	GM_TRACE_INVALIDATE_START,
	GM_TRACE_INVALIDATE,
	GM_TRACE_FAULT_START,
	GM_TRACE_FAULT,
	GM_TRACE_MAP_START,
	GM_TRACE_MAP,
	GM_TRACE_UNMAP,
	GM_TRACE_CACHE_INVALIDATE,
	GM_TRACE_SLOT_DELETE,
	GM_TRACE_SVM_VMRUN,
	GM_TRACE_SVM_MSRPM_MERGE,
	GM_TRACE_SVM_VMEXIT,
	GM_TRACE_NR,
};

extern const int *const gm_trace_keys[GM_TRACE_NR];

void gm_trace_ioctl_enter(const void *ctx, unsigned int cmd);
void gm_trace_ioctl_exit(const void *ctx, unsigned int cmd, long ret);
void gm_trace_ctx_create(const void *ctx, const void *mm);
void gm_trace_ctx_destroy(const void *ctx);
void gm_trace_invalidate_start(const void *mirror, unsigned int event,
			       unsigned long start, unsigned long end,
			       bool blockable);
void gm_trace_invalidate(const void *mirror, unsigned int event,
			 unsigned long start, unsigned long end,
			 enum gm_action action,
			 const struct gm_trace_acted *acted);
void gm_trace_fault_start(const void *mirror, u64 gfn, u64 npages,
			  bool write);
void gm_trace_fault(const void *mirror, u64 gfn, u64 npages, bool write,
		    const struct gm_trace_installed *installed,
		    unsigned int retries, int ret);
void gm_trace_map_start(const void *mirror, u64 gfn, bool write);
void gm_trace_map(const void *mirror, u64 gfn, bool write,
		  unsigned int kind, unsigned int path, int ret);
void gm_trace_unmap(const void *mirror, u64 gfn, unsigned int kind,
		    unsigned int path, bool dirty);
void gm_trace_cache_invalidate(const void *mirror, unsigned int cache,
			       u64 gfn, enum gm_cache_drop reason);
void gm_trace_slot_delete(const void *mirror, u64 gfn, u64 npages,
			  const struct gm_trace_acted *acted);
void gm_trace_svm_vmrun(unsigned int vcpu, u64 vmcb12, unsigned int result,
			unsigned int vector, unsigned int check, int ret);
void gm_trace_svm_msrpm_merge(unsigned int vcpu, u64 msrpm,
			      unsigned int words, int ret);
void gm_trace_svm_vmexit(unsigned int vcpu, u64 vmcb12, u64 exit_code,
			 bool cached, int ret);

#endif /* _GUESTMAP_C_H */
