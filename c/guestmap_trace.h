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

/* Numbered as enum mmu_notifier_event, and as src/policy.rs's Action. */
#define gm_show_event(e) __print_symbolic(e,				\
	{ 0, "unmap" }, { 1, "clear" }, { 2, "protection_vma" },	\
	{ 3, "protection_page" }, { 4, "soft_dirty" }, { 5, "release" },\
	{ 6, "migrate" }, { 7, "exclusive" })
#define gm_show_action(a) __print_symbolic(a,				\
	{ 0, "zap_free" }, { 1, "zap" }, { 2, "wrprotect" },		\
	{ 3, "ignore" }, { 4, "release" })

TRACE_EVENT(guestmap_invalidate,
	TP_PROTO(const void *mirror, unsigned int event, unsigned long start,
		 unsigned long end, unsigned int action),
	TP_ARGS(mirror, event, start, end, action),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(unsigned int, event)
		__field(unsigned int, action)
		__field(unsigned long, start)
		__field(unsigned long, end)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->event = event;
		__entry->action = action;
		__entry->start = start;
		__entry->end = end;
	),
	TP_printk("mirror=%p event=%s start=0x%lx end=0x%lx action=%s",
		  __entry->mirror, gm_show_event(__entry->event),
		  __entry->start, __entry->end,
		  gm_show_action(__entry->action))
);

TRACE_EVENT(guestmap_fault,
	TP_PROTO(const void *mirror, unsigned long gfn, unsigned long npages,
		 bool write, int ret),
	TP_ARGS(mirror, gfn, npages, write, ret),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(unsigned long, gfn)
		__field(unsigned long, npages)
		__field(bool, write)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->npages = npages;
		__entry->write = write;
		__entry->ret = ret;
	),
	TP_printk("mirror=%p gfn=0x%lx npages=%lu write=%d ret=%d",
		  __entry->mirror, __entry->gfn, __entry->npages,
		  __entry->write, __entry->ret)
);

#endif /* _GUESTMAP_TRACE_H */

/* The header lives beside trace.c, outside include/trace/events/. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE guestmap_trace
#include <trace/define_trace.h>
