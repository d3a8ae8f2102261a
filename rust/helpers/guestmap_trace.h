/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM guestmap

#if !defined(_GUESTMAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GUESTMAP_TRACE_H

#include <linux/tracepoint.h>

/*
 * ioctl entry and exit are separate events so that a hist trigger can pair
 * them into a latency histogram per command (Documentation/profiling.rst).
 */
TRACE_EVENT(guestmap_ioctl_enter,
	TP_PROTO(const void *ctx, unsigned int cmd),
	TP_ARGS(ctx, cmd),
	TP_STRUCT__entry(
		__field(const void *, ctx)
		__field(unsigned int, cmd)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->cmd = cmd;
	),
	TP_printk("ctx=%p cmd=0x%x", __entry->ctx, __entry->cmd)
);

TRACE_EVENT(guestmap_ioctl_exit,
	TP_PROTO(const void *ctx, unsigned int cmd, long ret),
	TP_ARGS(ctx, cmd, ret),
	TP_STRUCT__entry(
		__field(const void *, ctx)
		__field(unsigned int, cmd)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->cmd = cmd;
		__entry->ret = ret;
	),
	TP_printk("ctx=%p cmd=0x%x ret=%ld",
		  __entry->ctx, __entry->cmd, __entry->ret)
);

TRACE_EVENT(guestmap_ctx_create,
	TP_PROTO(const void *ctx, const void *mm),
	TP_ARGS(ctx, mm),
	TP_STRUCT__entry(
		__field(const void *, ctx)
		__field(const void *, mm)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->mm = mm;
	),
	TP_printk("ctx=%p mm=%p", __entry->ctx, __entry->mm)
);

TRACE_EVENT(guestmap_ctx_destroy,
	TP_PROTO(const void *ctx),
	TP_ARGS(ctx),
	TP_STRUCT__entry(
		__field(const void *, ctx)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
	),
	TP_printk("ctx=%p", __entry->ctx)
);

#endif /* _GUESTMAP_TRACE_H */

/* The header lives beside trace.c, outside include/trace/events/. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE guestmap_trace
#include <trace/define_trace.h>
