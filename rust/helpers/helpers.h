/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims for the generic abstractions in rust/kernel/: what Rust cannot
 * reach in 6.12 because it is a static inline, a macro, or a structure
 * 6.12's bindings lack.  Each is a thin shim that knows nothing of
 * guestmap.  The Rust declarations are generated from this header by
 * bindgen at build time (rust/kernel/bindings.rs); the wrappers in
 * rust/kernel/ are the only callers, and carry the safety arguments.
 */
#ifndef _GUESTMAP_HELPERS_H
#define _GUESTMAP_HELPERS_H

#include "ctypes.h"

/* The Rust side uses the kernel crate's definition of those it knows. */
struct dentry;
struct file;
struct lock_class_key;
struct miscdevice;
struct mm_struct;
struct mmu_interval_notifier;
struct mmu_notifier_range;
struct mutex;
struct rw_semaphore;
struct seq_file;

/* debugfs.c */
void gm_debugfs_init(void);
void gm_debugfs_exit(void);
struct dentry *gm_debugfs_create(const char *name, void *data,
				 int (*show)(struct seq_file *m, void *data));
void gm_debugfs_remove(struct dentry *dentry);
void gm_seq_write(struct seq_file *m, const char *s, unsigned long len);

/* miscdevice.c */
/* @fops: a const struct file_operations, which only the Rust side makes. */
int gm_misc_register(const char *name, int minor, const void *fops,
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
unsigned long gm_task_size(void);

/* mmu_notifier.c */
unsigned long gm_interval_read_begin(struct mmu_interval_notifier *mni);
bool gm_interval_read_retry(struct mmu_interval_notifier *mni,
			    unsigned long seq);
void gm_interval_set_seq(struct mmu_interval_notifier *mni,
			 unsigned long seq);
bool gm_range_blockable(const struct mmu_notifier_range *range);
bool gm_range_still_readable(const struct mmu_notifier_range *range);

/* mutex.c */
void gm_mutex_init(struct mutex *lock, const char *name,
		   struct lock_class_key *key);
void gm_mutex_lock(struct mutex *lock);
int gm_mutex_lock_killable(struct mutex *lock);
void gm_mutex_unlock(struct mutex *lock);
void gm_init_rwsem(struct rw_semaphore *sem, const char *name,
		   struct lock_class_key *key);
int gm_down_read_killable(struct rw_semaphore *sem);
void gm_up_read(struct rw_semaphore *sem);
int gm_down_write_killable(struct rw_semaphore *sem);
void gm_down_write(struct rw_semaphore *sem);
void gm_up_write(struct rw_semaphore *sem);

/* page.c */
void *gm_get_zeroed_page_account(void);
void gm_free_page(void *addr);
void gm_account_pgtable_page(void *addr, int nr);

/* task.c */
int gm_current_tgid(void);
void gm_cond_resched(void);
u64 gm_ktime_ns(void);

#endif /* _GUESTMAP_HELPERS_H */
