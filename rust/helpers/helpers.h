/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C part of guestmap: what Rust cannot reach in 6.12 because it is a
 * static inline, a macro, or a structure bindgen was never asked about.
 * Each function is a thin shim; the Rust wrappers in rust/kernel/ are the
 * only callers, and they carry the safety arguments.
 */
#ifndef _GUESTMAP_HELPERS_H
#define _GUESTMAP_HELPERS_H

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

/* misc.c */
int gm_misc_register(const char *name, const struct file_operations *fops,
		     struct miscdevice **out);
void gm_misc_deregister(struct miscdevice *misc);
bool gm_file_opener_sys_admin(const struct file *file);

/* mm.c */
struct mm_struct *gm_current_mm(void);
void gm_mmgrab(struct mm_struct *mm);
void gm_mmdrop(struct mm_struct *mm);
void gm_mmget(struct mm_struct *mm);
bool gm_mmget_not_zero(struct mm_struct *mm);
void gm_mmput(struct mm_struct *mm);
void *gm_get_zeroed_page_account(void);
void gm_free_page(void *addr);
unsigned long gm_task_size(void);
pid_t gm_current_tgid(void);
void gm_cond_resched(void);
void gm_mutex_init(struct mutex *lock);
void gm_mutex_lock(struct mutex *lock);
int gm_mutex_lock_killable(struct mutex *lock);
void gm_mutex_unlock(struct mutex *lock);

/* mirror.c */

/*
 * What gm_mirror_walk() reports per page: the pfn in the low bits and
 * these flags (rust/kernel/mmu_notifier.rs has the same values).
 */
#define GM_PFN_VALID	BIT_ULL(63)
#define GM_PFN_WRITE	BIT_ULL(62)
/* From a VM_PFNMAP or VM_IO mapping: not a page hmm vouched for. */
#define GM_PFN_SPECIAL	BIT_ULL(61)
#define GM_PFN_ZERO	BIT_ULL(60)
#define GM_PFN_FLAGS	(0xfULL << 60)

unsigned long gm_interval_read_begin(struct mmu_interval_notifier *mni);
bool gm_interval_read_retry(struct mmu_interval_notifier *mni,
			    unsigned long seq);
void gm_interval_set_seq(struct mmu_interval_notifier *mni,
			 unsigned long seq);
bool gm_range_blockable(const struct mmu_notifier_range *range);
bool gm_range_still_readable(const struct mmu_notifier_range *range);
int gm_mirror_walk(struct mmu_interval_notifier *mni, unsigned long start,
		   unsigned long end, bool write, void *owner,
		   unsigned long seq, u64 *out);
void gm_frame_copy(void *dst, const void *src, size_t len);
void gm_pfn_mark_dirty(unsigned long pfn);
void *gm_pfn_to_kva(unsigned long pfn);

/* frame.c */
int gm_frame_map(unsigned long pfn, void **kva, bool *aliased);
void gm_frame_unmap(void *kva, bool aliased);

/* pfn.c */

/* What gm_pfn_facts() reports (src/refcount.rs decodes the same bits). */
#define GM_FACT_VALID		BIT(0)	/* pfn_valid(): a struct page */
#define GM_FACT_RESERVED	BIT(1)	/* PG_reserved */
#define GM_FACT_ZERO		BIT(2)	/* the zero page */
#define GM_FACT_COMPOUND	BIT(3)	/* part of a large folio */
#define GM_FACT_ZONE_DEVICE	BIT(4)
#define GM_FACT_PGMAP_SHIFT	8	/* enum memory_type, if ZONE_DEVICE */

u32 gm_pfn_facts(unsigned long pfn);

/* Defined in Rust: src/refcount.rs's two answers for a pfn. */
#define GM_VERDICT_REFCOUNTED	BIT(0)
#define GM_VERDICT_MAY_DIRTY	BIT(1)
u32 gm_pfn_verdict(unsigned long pfn);
int gm_classify_user(unsigned long addr, unsigned long *pfn, u32 *facts,
		     bool *pfnmap);

/* map.c */

/* One page of guest memory mapped into the kernel; rust/kernel/map.rs. */
struct gm_map {
	void *kva;		/* kernel address of the page */
	unsigned long pfn;
	struct page *page;	/* pinned (FOLL_PIN), or NULL */
	u32 flags;		/* GM_MAP_* */
	u32 facts;		/* gm_pfn_facts(pfn), read while held */
	u64 reserved;
};

#define GM_MAP_PINNED	BIT(0)	/* a pinned page, by its direct map */
#define GM_MAP_REMAPPED	BIT(1)	/* gm_frame_map() of a bare pfn */
#define GM_MAP_WRITABLE	BIT(2)
#define GM_MAP_ALIASED	BIT(3)	/* gm_frame_map() made a vmap() alias */

int gm_map_hva(unsigned long hva, bool write, struct gm_map *m);
void gm_unmap(struct gm_map *m, bool dirty);
u64 gm_cmpxchg64(void *p, u64 old, u64 new);
u64 gm_ktime_ns(void);

/* debugfs.c */
void gm_debugfs_init(void);
void gm_debugfs_exit(void);
struct dentry *gm_debugfs_create(const char *name, void *data,
				 int (*show)(struct seq_file *m, void *data));
void gm_debugfs_remove(struct dentry *dentry);
void gm_seq_write(struct seq_file *m, const char *s, size_t len);

/* trace.c */
void gm_trace_ioctl_enter(const void *ctx, unsigned int cmd);
void gm_trace_ioctl_exit(const void *ctx, unsigned int cmd, long ret);
void gm_trace_ctx_create(const void *ctx, const void *mm);
void gm_trace_ctx_destroy(const void *ctx);
void gm_trace_invalidate(const void *mirror, unsigned int event,
			 unsigned long start, unsigned long end,
			 unsigned int action);
void gm_trace_fault(const void *mirror, unsigned long gfn,
		    unsigned long npages, bool write, int ret);

#endif /* _GUESTMAP_HELPERS_H */
