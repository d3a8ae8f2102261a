// SPDX-License-Identifier: GPL-2.0

//! guestmap's tracepoints, defined in C (`rust/helpers/guestmap_trace.h`).
//!
//! The tracepoint arguments are identities (addresses printed hashed) and
//! plain numbers, so calling them is safe whatever their values.

use super::mm::Mm;
use core::ffi::c_void;
use kernel::ffi::{c_long, c_uint};

extern "C" {
    fn gm_trace_ioctl_enter(ctx: *const c_void, cmd: c_uint);
    fn gm_trace_ioctl_exit(ctx: *const c_void, cmd: c_uint, ret: c_long);
    fn gm_trace_ctx_create(ctx: *const c_void, mm: *const c_void);
    fn gm_trace_ctx_destroy(ctx: *const c_void);
}

/// `guestmap:guestmap_ioctl_enter`.
pub(crate) fn ioctl_enter<T>(ctx: &T, cmd: u32) {
    // SAFETY: the tracepoint only records the address, never follows it.
    unsafe { gm_trace_ioctl_enter(core::ptr::from_ref(ctx).cast(), cmd) };
}

/// `guestmap:guestmap_ioctl_exit`; `ret` is what the syscall returns.
pub(crate) fn ioctl_exit<T>(ctx: &T, cmd: u32, ret: isize) {
    // SAFETY: as for `ioctl_enter`.
    unsafe { gm_trace_ioctl_exit(core::ptr::from_ref(ctx).cast(), cmd, ret) };
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
