// SPDX-License-Identifier: GPL-2.0

//! guestmap's tracepoints, defined in C (`c/guestmap_trace.h`): ftrace
//! cannot see Rust functions in 6.12.
//!
//! The tracepoint arguments are identities (addresses, printed hashed and
//! never followed) and plain numbers; the two structures passed by
//! pointer are read during the call only.  So calling them is safe
//! whatever the values.
//!
//! A build with `GM_NO_TRACE=1` (Kbuild: `--cfg gm_no_trace`, no
//! `c/trace.o`) has none of them: `make bench` measures the cost of the
//! disabled tracepoints against it.

#[cfg(not(gm_no_trace))]
use super::bindings as c;
use crate::{ext::mm::Mm, policy::Action};
use kernel::ffi::{c_uint, c_ulong, c_void};

pub(crate) use super::bindings::{gm_trace_acted as Acted, gm_trace_installed as Installed};

impl Acted {
    /// Nothing done.
    pub(crate) const NONE: Acted = Acted {
        zapped: 0,
        wrprotected: 0,
        tables_freed: 0,
        huge_partial: 0,
    };
}

/// Why a pfn cache view was dropped (`enum gm_cache_drop`).
#[derive(Clone, Copy)]
#[repr(u32)]
pub(crate) enum CacheDrop {
    /// An MMU notifier event on its page.
    Event = super::bindings::gm_cache_drop_GM_CACHE_DROP_EVENT,
    /// Its memslot was deleted.
    SlotDeleted = super::bindings::gm_cache_drop_GM_CACHE_DROP_SLOT_DELETED,
    /// The memslots changed: a view made before must not be used after.
    SlotsChanged = super::bindings::gm_cache_drop_GM_CACHE_DROP_SLOTS_CHANGED,
    /// Its user (a vCPU) is gone.
    Forgotten = super::bindings::gm_cache_drop_GM_CACHE_DROP_FORGOTTEN,
}

/// The events, as `gm_trace_keys` numbers them.
#[cfg(not(gm_no_trace))]
mod ev {
    pub(super) use super::c::{
        gm_trace_event_GM_TRACE_CACHE_INVALIDATE as CACHE_INVALIDATE,
        gm_trace_event_GM_TRACE_CTX_CREATE as CTX_CREATE,
        gm_trace_event_GM_TRACE_CTX_DESTROY as CTX_DESTROY, gm_trace_event_GM_TRACE_FAULT as FAULT,
        gm_trace_event_GM_TRACE_FAULT_START as FAULT_START,
        gm_trace_event_GM_TRACE_INVALIDATE as INVALIDATE,
        gm_trace_event_GM_TRACE_INVALIDATE_START as INVALIDATE_START,
        gm_trace_event_GM_TRACE_IOCTL_ENTER as IOCTL_ENTER,
        gm_trace_event_GM_TRACE_IOCTL_EXIT as IOCTL_EXIT, gm_trace_event_GM_TRACE_MAP as MAP,
        gm_trace_event_GM_TRACE_MAP_START as MAP_START,
        gm_trace_event_GM_TRACE_SLOT_DELETE as SLOT_DELETE,
        gm_trace_event_GM_TRACE_SVM_MSRPM_MERGE as SVM_MSRPM_MERGE,
        gm_trace_event_GM_TRACE_SVM_VMEXIT as SVM_VMEXIT,
        gm_trace_event_GM_TRACE_SVM_VMRUN as SVM_VMRUN, gm_trace_event_GM_TRACE_UNMAP as UNMAP,
    };
}

/// Whether `event` is enabled, from its static key's count, without a
/// call: `static_key_enabled()` is that atomic read (nonzero: enabled, or
/// being enabled, which the C side checks again).
#[cfg(not(gm_no_trace))]
fn on(event: c::gm_trace_event) -> bool {
    use core::sync::atomic::{AtomicI32, Ordering};
    // SAFETY: `gm_trace_keys` is a constant table of the C part.
    let keys = unsafe { &c::gm_trace_keys };
    keys.get(event as usize).is_some_and(|&key| {
        // A table entry left out is NULL: never enabled.
        !key.is_null()
            // SAFETY: `key` points to the `enabled` count of the static key
            // of one of this module's tracepoints: an aligned `int` that
            // lives as long as the module and that the kernel changes only
            // atomically.
            && unsafe { AtomicI32::from_ptr(key.cast_mut()) }.load(Ordering::Relaxed) != 0
    })
}

/// Calls tracepoint function `$f` with `$arg`s if `$event` is enabled.
/// The arguments are plain local variables: every expression is
/// evaluated before, outside the `unsafe` block.  A build without
/// tracepoints only uses the variables.
macro_rules! fire {
    ($event:ident => $f:ident($($arg:ident),*)) => {
        #[cfg(not(gm_no_trace))]
        if on(ev::$event) {
            // SAFETY: see the module documentation: the C side records the
            // arguments and follows no pointer but the structures', during
            // the call.
            unsafe { c::$f($($arg),*) };
        }
        #[cfg(gm_no_trace)]
        let _ = ($($arg,)*);
    };
}

/// An object's address, which the tracepoints record as its identity.
fn id<T>(obj: &T) -> *const c_void {
    core::ptr::from_ref(obj).cast()
}

/// `guestmap:guestmap_ioctl_enter`.
pub(crate) fn ioctl_enter<T>(ctx: &T, cmd: u32) {
    let ctx = id(ctx);
    fire!(IOCTL_ENTER => gm_trace_ioctl_enter(ctx, cmd));
}

/// `guestmap:guestmap_ioctl_exit`; `ret` is what the syscall returns.
pub(crate) fn ioctl_exit<T>(ctx: &T, cmd: u32, ret: isize) {
    let (ctx, ret) = (id(ctx), ret as kernel::ffi::c_long);
    fire!(IOCTL_EXIT => gm_trace_ioctl_exit(ctx, cmd, ret));
}

/// `guestmap:guestmap_ctx_create`, with the address space it is bound to.
pub(crate) fn ctx_create<T>(ctx: &T, mm: &Mm) {
    let (ctx, mm) = (id(ctx), mm.as_ptr());
    fire!(CTX_CREATE => gm_trace_ctx_create(ctx, mm));
}

/// `guestmap:guestmap_ctx_destroy`.
pub(crate) fn ctx_destroy<T>(ctx: &T) {
    let ctx = id(ctx);
    fire!(CTX_DESTROY => gm_trace_ctx_destroy(ctx));
}

/// `guestmap:guestmap_invalidate_start`: an invalidation of the user
/// addresses `start..end` reached a memslot of `mirror`.
pub(crate) fn invalidate_start<T>(mirror: &T, event: u32, start: u64, end: u64, blockable: bool) {
    let (mirror, start, end) = (id(mirror), start as c_ulong, end as c_ulong);
    fire!(INVALIDATE_START => gm_trace_invalidate_start(
        mirror, event, start, end, blockable
    ));
}

/// `guestmap:guestmap_invalidate`: what the mirror did about it.
pub(crate) fn invalidate<T>(
    mirror: &T,
    event: u32,
    start: u64,
    end: u64,
    action: Action,
    acted: &Acted,
) {
    let (mirror, start, end, action) = (
        id(mirror),
        start as c_ulong,
        end as c_ulong,
        action as c_uint,
    );
    fire!(INVALIDATE => gm_trace_invalidate(
        mirror, event, start, end, action, acted
    ));
}

/// `guestmap:guestmap_fault_start`: a fault round of `npages` from `gfn`.
pub(crate) fn fault_start<T>(mirror: &T, gfn: u64, npages: u64, write: bool) {
    let mirror = id(mirror);
    fire!(FAULT_START => gm_trace_fault_start(mirror, gfn, npages, write));
}

/// `guestmap:guestmap_fault`: the round ended with `ret` (0 or a negative
/// errno), having installed `installed` and redone `retries` walks.
pub(crate) fn fault<T>(
    mirror: &T,
    gfn: u64,
    npages: u64,
    write: bool,
    installed: &Installed,
    retries: u32,
    ret: i32,
) {
    let mirror = id(mirror);
    fire!(FAULT => gm_trace_fault(
        mirror, gfn, npages, write, installed, retries, ret
    ));
}

/// Whether `guestmap_map` or `guestmap_unmap` records: the memory kind is
/// worked out only then.
pub(crate) fn map_enabled() -> bool {
    #[cfg(not(gm_no_trace))]
    return on(ev::MAP) || on(ev::UNMAP);
    #[cfg(gm_no_trace)]
    false
}

/// `guestmap:guestmap_map_start`: guest frame `gfn` is about to be
/// mapped, or accessed through a pfn cache.
pub(crate) fn map_start<T>(mirror: &T, gfn: u64, write: bool) {
    let mirror = id(mirror);
    fire!(MAP_START => gm_trace_map_start(mirror, gfn, write));
}

/// `guestmap:guestmap_map`: `kind` is a `GUESTMAP_CLASS_*`, `path` a
/// `GUESTMAP_VIA_*`, both 0 on failure; `ret` 0 or a negative errno.
pub(crate) fn map<T>(mirror: &T, gfn: u64, write: bool, kind: u32, path: u32, ret: i32) {
    let mirror = id(mirror);
    fire!(MAP => gm_trace_map(mirror, gfn, write, kind, path, ret));
}

/// `guestmap:guestmap_unmap`, as for [`map`].
pub(crate) fn unmap<T>(mirror: &T, gfn: u64, kind: u32, path: u32, dirty: bool) {
    let mirror = id(mirror);
    fire!(UNMAP => gm_trace_unmap(mirror, gfn, kind, path, dirty));
}

/// `guestmap:guestmap_cache_invalidate`: the view of `gfn` of pfn cache
/// `cache` was dropped, for `reason`.
pub(crate) fn cache_invalidate<T>(mirror: &T, cache: usize, gfn: u64, reason: CacheDrop) {
    let (mirror, cache, reason) = (id(mirror), cache as c_uint, reason as c_uint);
    fire!(CACHE_INVALIDATE => gm_trace_cache_invalidate(mirror, cache, gfn, reason));
}

/// `guestmap:guestmap_slot_delete`: the slot of `npages` frames from `gfn`
/// went, and with it what `acted` says.
pub(crate) fn slot_delete<T>(mirror: &T, gfn: u64, npages: u64, acted: &Acted) {
    let mirror = id(mirror);
    fire!(SLOT_DELETE => gm_trace_slot_delete(mirror, gfn, npages, acted));
}

/// `guestmap:guestmap_svm_vmrun`: `result`, `vector` and `check` as
/// `GUESTMAP_SVM_VMRUN` reports them (all 0 if the call failed with `ret`).
pub(crate) fn svm_vmrun(vcpu: u32, vmcb12: u64, result: u32, vector: u32, check: u32, ret: i32) {
    fire!(SVM_VMRUN => gm_trace_svm_vmrun(vcpu, vmcb12, result, vector, check, ret));
}

/// `guestmap:guestmap_svm_msrpm_merge`: `words` of L1's map at `msrpm` read.
pub(crate) fn svm_msrpm_merge(vcpu: u32, msrpm: u64, words: u32, ret: i32) {
    fire!(SVM_MSRPM_MERGE => gm_trace_svm_msrpm_merge(vcpu, msrpm, words, ret));
}

/// `guestmap:guestmap_svm_vmexit`: `exit_code` written to VMCB12 at
/// `vmcb12`, through the pfn cache if `cached`.
pub(crate) fn svm_vmexit(vcpu: u32, vmcb12: u64, exit_code: u64, cached: bool, ret: i32) {
    fire!(SVM_VMEXIT => gm_trace_svm_vmexit(vcpu, vmcb12, exit_code, cached, ret));
}
