// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace cannot see Rust functions in 6.12 (rustc gets no fentry flags), so
 * guestmap's tracepoints are defined here and fired from Rust through these
 * calls.  Rust calls them only for an enabled event, which it tells from
 * gm_trace_keys[] without a call: with lockdep, even a disabled
 * trace_*() call checks cpu_online() and rcu_is_watching(), and make
 * bench measures every call.  TP_fast_assign, which reads the structures
 * passed by pointer, runs only when the event is enabled.
 */
#define CREATE_TRACE_POINTS
#include "guestmap_trace.h"

#define GM_KEY(name) (&__tracepoint_guestmap_##name.key.enabled.counter)

const int *const gm_trace_keys[GM_TRACE_NR] = {
	[GM_TRACE_IOCTL_ENTER] = GM_KEY(ioctl_enter),
	[GM_TRACE_IOCTL_EXIT] = GM_KEY(ioctl_exit),
	[GM_TRACE_CTX_CREATE] = GM_KEY(ctx_create),
	[GM_TRACE_CTX_DESTROY] = GM_KEY(ctx_destroy),
	[GM_TRACE_INVALIDATE_START] = GM_KEY(invalidate_start),
	[GM_TRACE_INVALIDATE] = GM_KEY(invalidate),
	[GM_TRACE_FAULT_START] = GM_KEY(fault_start),
	[GM_TRACE_FAULT] = GM_KEY(fault),
	[GM_TRACE_MAP_START] = GM_KEY(map_start),
	[GM_TRACE_MAP] = GM_KEY(map),
	[GM_TRACE_UNMAP] = GM_KEY(unmap),
	[GM_TRACE_CACHE_INVALIDATE] = GM_KEY(cache_invalidate),
	[GM_TRACE_SLOT_DELETE] = GM_KEY(slot_delete),
	[GM_TRACE_SVM_VMRUN] = GM_KEY(svm_vmrun),
	[GM_TRACE_SVM_MSRPM_MERGE] = GM_KEY(svm_msrpm_merge),
	[GM_TRACE_SVM_VMEXIT] = GM_KEY(svm_vmexit),
};

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

void gm_trace_invalidate_start(const void *mirror, unsigned int event,
			       unsigned long start, unsigned long end,
			       bool blockable)
{
	trace_guestmap_invalidate_start(mirror, event, start, end, blockable);
}

void gm_trace_invalidate(const void *mirror, unsigned int event,
			 unsigned long start, unsigned long end,
			 enum gm_action action,
			 const struct gm_trace_acted *acted)
{
	trace_guestmap_invalidate(mirror, event, start, end, action, acted);
}

void gm_trace_fault_start(const void *mirror, u64 gfn, u64 npages,
			  bool write)
{
	trace_guestmap_fault_start(mirror, gfn, npages, write);
}

void gm_trace_fault(const void *mirror, u64 gfn, u64 npages, bool write,
		    const struct gm_trace_installed *installed,
		    unsigned int retries, int ret)
{
	trace_guestmap_fault(mirror, gfn, npages, write, installed, retries,
			     ret);
}

void gm_trace_map_start(const void *mirror, u64 gfn, bool write)
{
	trace_guestmap_map_start(mirror, gfn, 1, write);
}

void gm_trace_map(const void *mirror, u64 gfn, bool write,
		  unsigned int kind, unsigned int path, int ret)
{
	trace_guestmap_map(mirror, gfn, write, kind, path, ret);
}

void gm_trace_unmap(const void *mirror, u64 gfn, unsigned int kind,
		    unsigned int path, bool dirty)
{
	trace_guestmap_unmap(mirror, gfn, kind, path, dirty);
}

void gm_trace_cache_invalidate(const void *mirror, unsigned int cache,
			       u64 gfn, enum gm_cache_drop reason)
{
	trace_guestmap_cache_invalidate(mirror, cache, gfn, reason);
}

void gm_trace_slot_delete(const void *mirror, u64 gfn, u64 npages,
			  const struct gm_trace_acted *acted)
{
	trace_guestmap_slot_delete(mirror, gfn, npages, acted);
}

void gm_trace_svm_vmrun(unsigned int vcpu, u64 vmcb12, unsigned int result,
			unsigned int vector, unsigned int check, int ret)
{
	trace_guestmap_svm_vmrun(vcpu, vmcb12, result, vector, check, ret);
}

void gm_trace_svm_msrpm_merge(unsigned int vcpu, u64 msrpm,
			      unsigned int words, int ret)
{
	trace_guestmap_svm_msrpm_merge(vcpu, msrpm, words, ret);
}

void gm_trace_svm_vmexit(unsigned int vcpu, u64 vmcb12, u64 exit_code,
			 bool cached, int ret)
{
	trace_guestmap_svm_vmexit(vcpu, vmcb12, exit_code, cached, ret);
}
