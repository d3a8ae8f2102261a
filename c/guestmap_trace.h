/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM guestmap

#if !defined(_GUESTMAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GUESTMAP_TRACE_H

#include <linux/mmu_notifier.h>
#include <linux/tracepoint.h>
#include <uapi/linux/guestmap.h>

#include "guestmap.h"

/*
 * The ioctls, the invalidations, the fault rounds and the maps each have a
 * *_start event and an end event with the result, both from the same
 * task, never nested in themselves: a hist trigger keyed on common_pid
 * pairs them into a latency (Documentation/profiling.rst,
 * scripts/profile.sh).  The other events mark steps inside those.
 * Addresses are identities, printed hashed.
 */

/*
 * The enums print by name in user space too (trace-cmd, KernelShark):
 * TRACE_DEFINE_ENUM exports their values.  The GUESTMAP_* numbers are
 * macros of the UAPI header, which the format file shows as numbers.
 */
TRACE_DEFINE_ENUM(MMU_NOTIFY_UNMAP);
TRACE_DEFINE_ENUM(MMU_NOTIFY_CLEAR);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_VMA);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_PAGE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_SOFT_DIRTY);
TRACE_DEFINE_ENUM(MMU_NOTIFY_RELEASE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_MIGRATE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_EXCLUSIVE);

TRACE_DEFINE_ENUM(GM_ACTION_ZAP_FREE);
TRACE_DEFINE_ENUM(GM_ACTION_ZAP);
TRACE_DEFINE_ENUM(GM_ACTION_WRPROTECT);
TRACE_DEFINE_ENUM(GM_ACTION_IGNORE);
TRACE_DEFINE_ENUM(GM_ACTION_RELEASE);

TRACE_DEFINE_ENUM(GM_CACHE_DROP_EVENT);
TRACE_DEFINE_ENUM(GM_CACHE_DROP_SLOT_DELETED);
TRACE_DEFINE_ENUM(GM_CACHE_DROP_SLOTS_CHANGED);
TRACE_DEFINE_ENUM(GM_CACHE_DROP_FORGOTTEN);

#define gm_show_event(e) __print_symbolic(e,				\
	{ MMU_NOTIFY_UNMAP,		"unmap" },			\
	{ MMU_NOTIFY_CLEAR,		"clear" },			\
	{ MMU_NOTIFY_PROTECTION_VMA,	"protection_vma" },		\
	{ MMU_NOTIFY_PROTECTION_PAGE,	"protection_page" },		\
	{ MMU_NOTIFY_SOFT_DIRTY,	"soft_dirty" },			\
	{ MMU_NOTIFY_RELEASE,		"release" },			\
	{ MMU_NOTIFY_MIGRATE,		"migrate" },			\
	{ MMU_NOTIFY_EXCLUSIVE,		"exclusive" })

#define gm_show_action(a) __print_symbolic(a,				\
	{ GM_ACTION_ZAP_FREE,	"zap_free" },				\
	{ GM_ACTION_ZAP,	"zap" },				\
	{ GM_ACTION_WRPROTECT,	"wrprotect" },				\
	{ GM_ACTION_IGNORE,	"ignore" },				\
	{ GM_ACTION_RELEASE,	"release" })

#define gm_show_cache_drop(r) __print_symbolic(r,			\
	{ GM_CACHE_DROP_EVENT,		"event" },			\
	{ GM_CACHE_DROP_SLOT_DELETED,	"slot_deleted" },		\
	{ GM_CACHE_DROP_SLOTS_CHANGED,	"slots_changed" },		\
	{ GM_CACHE_DROP_FORGOTTEN,	"forgotten" })

/* How a guest frame was reached: GUESTMAP_VIA_*, as GUESTMAP_ACCESS says. */
#define gm_show_path(p) __print_symbolic(p,				\
	{ 0,				"none" },			\
	{ GUESTMAP_VIA_PAGE,		"pinned" },			\
	{ GUESTMAP_VIA_REMAP,		"memremap" },			\
	{ GUESTMAP_VIA_CACHE,		"cache_hit" },			\
	{ GUESTMAP_VIA_CACHE_REFRESH,	"cache_refresh" })

/* What the CPU maps there: GUESTMAP_CLASS_*, as GUESTMAP_QUERY says. */
#define gm_show_kind(k) __print_symbolic(k,				\
	{ 0,				"unknown" },			\
	{ GUESTMAP_CLASS_PAGE,		"page" },			\
	{ GUESTMAP_CLASS_ZERO,		"zero" },			\
	{ GUESTMAP_CLASS_PFNMAP,	"pfnmap" })

#define gm_show_svm_result(r) __print_symbolic(r,			\
	{ 0,				"none" },			\
	{ GUESTMAP_SVM_ENTERED,		"entered" },			\
	{ GUESTMAP_SVM_EXCEPTION,	"exception" },			\
	{ GUESTMAP_SVM_VMEXIT_INVALID,	"vmexit_invalid" })

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

/* An invalidation reached a memslot's notifier: start..end are user addresses. */
TRACE_EVENT(guestmap_invalidate_start,
	TP_PROTO(const void *mirror, unsigned int event, unsigned long start,
		 unsigned long end, bool blockable),
	TP_ARGS(mirror, event, start, end, blockable),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(unsigned int, event)
		__field(bool, blockable)
		__field(unsigned long, start)
		__field(unsigned long, end)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->event = event;
		__entry->blockable = blockable;
		__entry->start = start;
		__entry->end = end;
	),
	TP_printk("mirror=%p event=%s start=0x%lx end=0x%lx blockable=%d",
		  __entry->mirror, gm_show_event(__entry->event),
		  __entry->start, __entry->end, __entry->blockable)
);

/*
 * ... and what the mirror did: entries zapped and write-protected (in
 * 4 KiB pages), table pages freed, huge entries acted on whole.
 */
TRACE_EVENT(guestmap_invalidate,
	TP_PROTO(const void *mirror, unsigned int event, unsigned long start,
		 unsigned long end, enum gm_action action,
		 const struct gm_trace_acted *acted),
	TP_ARGS(mirror, event, start, end, action, acted),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(unsigned int, event)
		__field(unsigned int, action)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(u64, zapped)
		__field(u64, wrprotected)
		__field(u64, tables_freed)
		__field(u64, huge_partial)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->event = event;
		__entry->action = action;
		__entry->start = start;
		__entry->end = end;
		__entry->zapped = acted->zapped;
		__entry->wrprotected = acted->wrprotected;
		__entry->tables_freed = acted->tables_freed;
		__entry->huge_partial = acted->huge_partial;
	),
	TP_printk("mirror=%p event=%s start=0x%lx end=0x%lx action=%s zapped=%llu wrprotected=%llu tables_freed=%llu huge_partial=%llu",
		  __entry->mirror, gm_show_event(__entry->event),
		  __entry->start, __entry->end,
		  gm_show_action(__entry->action), __entry->zapped,
		  __entry->wrprotected, __entry->tables_freed,
		  __entry->huge_partial)
);

/* A fault round (up to 8 MiB) or a map of guest frames begins. */
DECLARE_EVENT_CLASS(guestmap_gfns_start,
	TP_PROTO(const void *mirror, u64 gfn, u64 npages, bool write),
	TP_ARGS(mirror, gfn, npages, write),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(u64, npages)
		__field(bool, write)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->npages = npages;
		__entry->write = write;
	),
	TP_printk("mirror=%p gfn=0x%llx npages=%llu write=%d",
		  __entry->mirror, __entry->gfn, __entry->npages,
		  __entry->write)
);

DEFINE_EVENT(guestmap_gfns_start, guestmap_fault_start,
	TP_PROTO(const void *mirror, u64 gfn, u64 npages, bool write),
	TP_ARGS(mirror, gfn, npages, write));

DEFINE_EVENT(guestmap_gfns_start, guestmap_map_start,
	TP_PROTO(const void *mirror, u64 gfn, u64 npages, bool write),
	TP_ARGS(mirror, gfn, npages, write));

/*
 * A fault round ended: the leaf entries it installed or changed by size,
 * the walks it redid because an invalidation ran meanwhile, and 0 or a
 * negative errno.
 */
TRACE_EVENT(guestmap_fault,
	TP_PROTO(const void *mirror, u64 gfn, u64 npages, bool write,
		 const struct gm_trace_installed *installed,
		 unsigned int retries, int ret),
	TP_ARGS(mirror, gfn, npages, write, installed, retries, ret),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(u64, npages)
		__field(u64, entries_4k)
		__field(u64, entries_2m)
		__field(u64, entries_1g)
		__field(unsigned int, retries)
		__field(bool, write)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->npages = npages;
		__entry->entries_4k = installed->entries_4k;
		__entry->entries_2m = installed->entries_2m;
		__entry->entries_1g = installed->entries_1g;
		__entry->retries = retries;
		__entry->write = write;
		__entry->ret = ret;
	),
	TP_printk("mirror=%p gfn=0x%llx npages=%llu write=%d entries_4k=%llu entries_2m=%llu entries_1g=%llu retries=%u ret=%d",
		  __entry->mirror, __entry->gfn, __entry->npages,
		  __entry->write, __entry->entries_4k, __entry->entries_2m,
		  __entry->entries_1g, __entry->retries, __entry->ret)
);

/*
 * A guest frame was mapped (pinned page or memremap, kvm_vcpu_map()'s
 * two ways), or accessed through a pfn cache (hit, or refreshed first);
 * kind 0 and path 0 when it failed.
 */
TRACE_EVENT(guestmap_map,
	TP_PROTO(const void *mirror, u64 gfn, bool write, unsigned int kind,
		 unsigned int path, int ret),
	TP_ARGS(mirror, gfn, write, kind, path, ret),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(unsigned int, kind)
		__field(unsigned int, path)
		__field(bool, write)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->kind = kind;
		__entry->path = path;
		__entry->write = write;
		__entry->ret = ret;
	),
	TP_printk("mirror=%p gfn=0x%llx write=%d kind=%s path=%s ret=%d",
		  __entry->mirror, __entry->gfn, __entry->write,
		  gm_show_kind(__entry->kind), gm_show_path(__entry->path),
		  __entry->ret)
);

/* A mapped guest frame was unmapped, and marked dirty or not. */
TRACE_EVENT(guestmap_unmap,
	TP_PROTO(const void *mirror, u64 gfn, unsigned int kind,
		 unsigned int path, bool dirty),
	TP_ARGS(mirror, gfn, kind, path, dirty),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(unsigned int, kind)
		__field(unsigned int, path)
		__field(bool, dirty)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->kind = kind;
		__entry->path = path;
		__entry->dirty = dirty;
	),
	TP_printk("mirror=%p gfn=0x%llx kind=%s path=%s dirty=%d",
		  __entry->mirror, __entry->gfn, gm_show_kind(__entry->kind),
		  gm_show_path(__entry->path), __entry->dirty)
);

/*
 * A pfn cache's view of guest frame gfn was dropped: by an MMU notifier
 * event on its page, the deletion of its memslot, a change of the
 * memslots (which a view made before must not outlive), or its vCPU
 * going away.
 */
TRACE_EVENT(guestmap_cache_invalidate,
	TP_PROTO(const void *mirror, unsigned int cache, u64 gfn,
		 enum gm_cache_drop reason),
	TP_ARGS(mirror, cache, gfn, reason),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(unsigned int, cache)
		__field(unsigned int, reason)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->cache = cache;
		__entry->reason = reason;
	),
	TP_printk("mirror=%p cache=%u gfn=0x%llx reason=%s",
		  __entry->mirror, __entry->cache, __entry->gfn,
		  gm_show_cache_drop(__entry->reason))
);

/*
 * A memslot of npages guest frames from gfn was deleted: its entries
 * zapped (4 KiB pages) and its table pages freed, outside any MMU
 * notifier event.
 */
TRACE_EVENT(guestmap_slot_delete,
	TP_PROTO(const void *mirror, u64 gfn, u64 npages,
		 const struct gm_trace_acted *acted),
	TP_ARGS(mirror, gfn, npages, acted),
	TP_STRUCT__entry(
		__field(const void *, mirror)
		__field(u64, gfn)
		__field(u64, npages)
		__field(u64, zapped)
		__field(u64, tables_freed)
	),
	TP_fast_assign(
		__entry->mirror = mirror;
		__entry->gfn = gfn;
		__entry->npages = npages;
		__entry->zapped = acted->zapped;
		__entry->tables_freed = acted->tables_freed;
	),
	TP_printk("mirror=%p gfn=0x%llx npages=%llu zapped=%llu tables_freed=%llu",
		  __entry->mirror, __entry->gfn, __entry->npages,
		  __entry->zapped, __entry->tables_freed)
);

/*
 * The nested SVM steps of vCPU vcpu, inside the ioctl that runs them
 * (whose enter and exit time them).  VMRUN with VMCB12 at vmcb12: its
 * result, the vector of the exception it raised in L1, the
 * GUESTMAP_SVM_CHECK_* that failed; the call's 0 or -errno.
 */
TRACE_EVENT(guestmap_svm_vmrun,
	TP_PROTO(unsigned int vcpu, u64 vmcb12, unsigned int result,
		 unsigned int vector, unsigned int check, int ret),
	TP_ARGS(vcpu, vmcb12, result, vector, check, ret),
	TP_STRUCT__entry(
		__field(u64, vmcb12)
		__field(unsigned int, vcpu)
		__field(unsigned int, result)
		__field(unsigned int, vector)
		__field(unsigned int, check)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->vmcb12 = vmcb12;
		__entry->vcpu = vcpu;
		__entry->result = result;
		__entry->vector = vector;
		__entry->check = check;
		__entry->ret = ret;
	),
	TP_printk("vcpu=%u vmcb12=0x%llx result=%s vector=%u check=%u ret=%d",
		  __entry->vcpu, __entry->vmcb12,
		  gm_show_svm_result(__entry->result), __entry->vector,
		  __entry->check, __entry->ret)
);

/* The merge of L1's MSRPM at msrpm: the 32-bit words of it read. */
TRACE_EVENT(guestmap_svm_msrpm_merge,
	TP_PROTO(unsigned int vcpu, u64 msrpm, unsigned int words, int ret),
	TP_ARGS(vcpu, msrpm, words, ret),
	TP_STRUCT__entry(
		__field(u64, msrpm)
		__field(unsigned int, vcpu)
		__field(unsigned int, words)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->msrpm = msrpm;
		__entry->vcpu = vcpu;
		__entry->words = words;
		__entry->ret = ret;
	),
	TP_printk("vcpu=%u msrpm=0x%llx words=%u ret=%d",
		  __entry->vcpu, __entry->msrpm, __entry->words, __entry->ret)
);

/* #VMEXIT written back to VMCB12, reached through the pfn cache or not. */
TRACE_EVENT(guestmap_svm_vmexit,
	TP_PROTO(unsigned int vcpu, u64 vmcb12, u64 exit_code, bool cached,
		 int ret),
	TP_ARGS(vcpu, vmcb12, exit_code, cached, ret),
	TP_STRUCT__entry(
		__field(u64, vmcb12)
		__field(u64, exit_code)
		__field(unsigned int, vcpu)
		__field(bool, cached)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->vmcb12 = vmcb12;
		__entry->exit_code = exit_code;
		__entry->vcpu = vcpu;
		__entry->cached = cached;
		__entry->ret = ret;
	),
	TP_printk("vcpu=%u vmcb12=0x%llx exit_code=0x%llx cached=%d ret=%d",
		  __entry->vcpu, __entry->vmcb12, __entry->exit_code,
		  __entry->cached, __entry->ret)
);

#endif /* _GUESTMAP_TRACE_H */

/* The header lives beside trace.c, outside include/trace/events/. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE guestmap_trace
#include <trace/define_trace.h>
