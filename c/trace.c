// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace cannot see Rust functions in 6.12 (rustc gets no fentry flags), so
 * guestmap's tracepoints are defined here and fired from Rust through these
 * calls.  The trace_*() bodies are static keys: disabled, each call costs a
 * call and a not-taken branch.
 */
#define CREATE_TRACE_POINTS
#include "guestmap_trace.h"

#include "guestmap.h"

void gm_trace_ioctl_enter(const void *ctx, unsigned int cmd)
{
	trace_guestmap_ioctl_enter(ctx, cmd);
}

void gm_trace_ioctl_exit(const void *ctx, unsigned int cmd, long ret)
{
	trace_guestmap_ioctl_exit(ctx, cmd, ret);
}

void gm_trace_ctx_create(const void *ctx, const void *mm)
{
	trace_guestmap_ctx_create(ctx, mm);
}

void gm_trace_ctx_destroy(const void *ctx)
{
	trace_guestmap_ctx_destroy(ctx);
}

void gm_trace_invalidate(const void *mirror, unsigned int event,
			 unsigned long start, unsigned long end,
			 unsigned int action)
{
	trace_guestmap_invalidate(mirror, event, start, end, action);
}

void gm_trace_fault(const void *mirror, unsigned long gfn,
		    unsigned long npages, bool write, int ret)
{
	trace_guestmap_fault(mirror, gfn, npages, write, ret);
}
