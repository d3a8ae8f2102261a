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

/* misc.c */
int gm_misc_register(const char *name, const struct file_operations *fops,
		     struct miscdevice **out);
void gm_misc_deregister(struct miscdevice *misc);

/* mm.c */
struct mm_struct *gm_current_mm(void);
void gm_mmgrab(struct mm_struct *mm);
void gm_mmdrop(struct mm_struct *mm);

/* trace.c */
void gm_trace_ioctl_enter(const void *ctx, unsigned int cmd);
void gm_trace_ioctl_exit(const void *ctx, unsigned int cmd, long ret);
void gm_trace_ctx_create(const void *ctx, const void *mm);
void gm_trace_ctx_destroy(const void *ctx);

#endif /* _GUESTMAP_HELPERS_H */
