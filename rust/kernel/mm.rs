// SPDX-License-Identifier: GPL-2.0

//! Address spaces (`struct mm_struct`).
//!
//! C header: [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h)

use super::bindings::{
    gm_current_mm, gm_mmdrop, gm_mmget, gm_mmget_not_zero, gm_mmgrab, gm_mmput, gm_task_size,
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// The end of the calling task's user address space (`TASK_SIZE`).
pub(crate) fn task_size() -> u64 {
    // SAFETY: reads the calling task's own address-space limit.
    unsafe { gm_task_size() as u64 }
}

/// A process's address space.
///
/// `ARef<Mm>` holds an `mmgrab` reference: it keeps the `mm_struct` itself
/// alive, so it can be compared with other address spaces, but not the
/// address space's contents (that is `mmget`'s `mm_users`).
///
/// # Invariants
///
/// Values of this type are always refcounted with `mmgrab`.
#[repr(transparent)]
pub(crate) struct Mm(Opaque<bindings::mm_struct>);

// SAFETY: `mmdrop` may be called on any thread, whichever thread took the
// reference.
unsafe impl Send for Mm {}
// SAFETY: the methods of `Mm` only compare addresses, which any number of
// threads may do at once.
unsafe impl Sync for Mm {}

// SAFETY: by the type invariants, `Mm` is always refcounted with
// `mmgrab`/`mmdrop`.
unsafe impl AlwaysRefCounted for Mm {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live `mm_struct`, so one more grab is fine.
        unsafe { gm_mmgrab(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a reference it owns.
        unsafe { gm_mmdrop(obj.cast().as_ptr()) };
    }
}

impl Mm {
    /// The calling task's address space, or `None` in a kernel thread.
    pub(crate) fn current() -> Option<ARef<Mm>> {
        // SAFETY: reading `current->mm` of one's own task is always safe.
        let mm = unsafe { gm_current_mm() };
        if mm.is_null() {
            return None;
        }
        // SAFETY: `current->mm` stays valid while the task runs, and no
        // task runs this code after exit_mm(); the `ARef` takes its own
        // reference before the borrow ends.
        let mm = unsafe { &*mm.cast::<Mm>() };
        // INVARIANT: `ARef::from` takes an `mmgrab` reference (`inc_ref`).
        Some(ARef::from(mm))
    }

    /// Whether the calling task runs in this address space.
    pub(crate) fn is_current(&self) -> bool {
        // SAFETY: reading `current->mm` of one's own task is always safe.
        let current = unsafe { gm_current_mm() };
        core::ptr::eq(current, self.0.get())
    }

    /// The address, for tracing; never dereferenced by callers.
    pub(crate) fn as_ptr(&self) -> *const core::ffi::c_void {
        self.0.get().cast()
    }

    /// The address space with a user reference (`mmget`), or `None` if it
    /// has no users left: it has exited, or is exiting.
    pub(crate) fn mmget_not_zero(&self) -> Option<ARef<MmWithUser>> {
        // SAFETY: `self` is a live `mm_struct` (type invariants).
        if !unsafe { gm_mmget_not_zero(self.0.get()) } {
            return None;
        }
        // INVARIANT: the call above took the `mm_users` reference the
        // `ARef` now owns, so `mm_users` stays above zero while it lives.
        // SAFETY: `MmWithUser` is a transparent wrapper of `Mm`, and the
        // call above took the `mm_users` reference the `ARef` now owns.
        Some(unsafe { ARef::from_raw(NonNull::from(self).cast()) })
    }
}

/// An address space whose contents are alive: it has users.
///
/// Registering an MMU notifier or walking page tables needs this, not
/// [`Mm`]: `mmu_notifier_register()` BUG()s on an address space with no
/// users, and an exiting one has no page tables to walk.  Taking the type
/// as argument makes the wrong call fail to compile (upstream's
/// `kernel::mm::MmWithUser`).
///
/// # Invariants
///
/// Values of this type are always refcounted with `mmget`: while one
/// exists, `mm_users` is not zero.
#[repr(transparent)]
pub(crate) struct MmWithUser(Mm);

// SAFETY: `mmput` may be called from any thread, in process context.
unsafe impl Send for MmWithUser {}
// SAFETY: as for `Mm`, the methods only compare addresses or call C
// functions that may run concurrently.
unsafe impl Sync for MmWithUser {}

// SAFETY: by the type invariants, `MmWithUser` is always refcounted with
// `mmget`/`mmput`.
unsafe impl AlwaysRefCounted for MmWithUser {
    fn inc_ref(&self) {
        // SAFETY: `self` holds a user reference (type invariants), so
        // `mm_users` is not zero and one more `mmget` is allowed.
        unsafe { gm_mmget(self.0 .0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a user reference it owns.  `mmput`
        // may sleep; `ARef<MmWithUser>` is only dropped in process context.
        unsafe { gm_mmput(obj.cast().as_ptr()) };
    }
}

impl core::ops::Deref for MmWithUser {
    type Target = Mm;

    fn deref(&self) -> &Mm {
        &self.0
    }
}
