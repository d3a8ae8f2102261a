// SPDX-License-Identifier: GPL-2.0

//! guestmap's tracepoints, defined in C (`c/guestmap_trace.h`): ftrace
//! cannot see Rust functions in 6.12.
//!
//! The tracepoint arguments are identities (addresses printed hashed) and
//! plain numbers, so calling them is safe whatever their values.

use super::bindings::{
    gm_trace_ctx_create, gm_trace_ctx_destroy, gm_trace_fault, gm_trace_invalidate,
    gm_trace_ioctl_enter, gm_trace_ioctl_exit,
};
use crate::ext::mm::Mm;
use kernel::ffi::c_ulong;

/// `guestmap:guestmap_ioctl_enter`.
pub(crate) fn ioctl_enter<T>(ctx: &T, cmd: u32) {
    // SAFETY: the tracepoint only records the address, never follows it.
    unsafe { gm_trace_ioctl_enter(core::ptr::from_ref(ctx).cast(), cmd) };
}

/// `guestmap:guestmap_ioctl_exit`; `ret` is what the syscall returns.
pub(crate) fn ioctl_exit<T>(ctx: &T, cmd: u32, ret: isize) {
    // SAFETY: as for `ioctl_enter`.
    unsafe { gm_trace_ioctl_exit(core::ptr::from_ref(ctx).cast(), cmd, ret as _) };
}

/// `guestmap:guestmap_ctx_create`, with the address space it is bound to.
pub(crate) fn ctx_create<T>(ctx: &T, mm: &Mm) {
    // SAFETY: as for `ioctl_enter`.
    unsafe { gm_trace_ctx_create(core::ptr::from_ref(ctx).cast(), mm.as_ptr()) };
}

/// `guestmap:guestmap_ctx_destroy`.
pub(crate) fn ctx_destroy<T>(ctx: &T) {
    // SAFETY: as for `ioctl_enter`.
    unsafe { gm_trace_ctx_destroy(core::ptr::from_ref(ctx).cast()) };
}

/// `guestmap:guestmap_invalidate`: an invalidation reached a memslot.
pub(crate) fn invalidate<T>(mirror: &T, event: u32, start: u64, end: u64, action: u32) {
    // SAFETY: as for `ioctl_enter`.
    unsafe {
        gm_trace_invalidate(
            core::ptr::from_ref(mirror).cast(),
            event,
            start as c_ulong,
            end as c_ulong,
            action,
        )
    };
}

/// `guestmap:guestmap_fault`: a fault of `npages` from `gfn` finished with
/// `ret` (0 or a negative errno).
pub(crate) fn fault<T>(mirror: &T, gfn: u64, npages: u64, write: bool, ret: i32) {
    // SAFETY: as for `ioctl_enter`.
    unsafe {
        gm_trace_fault(
            core::ptr::from_ref(mirror).cast(),
            gfn as c_ulong,
            npages as c_ulong,
            write,
            ret,
        )
    };
}
