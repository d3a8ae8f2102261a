// SPDX-License-Identifier: GPL-2.0

//! Interval MMU notifiers.
//!
//! C header: [`include/linux/mmu_notifier.h`](srctree/include/linux/mmu_notifier.h)
//!
//! An [`IntervalNotifier`] watches one range of an address space.  Its
//! owner keeps a secondary MMU coherent with the sequence protocol of
//! `mmu_interval_read_begin()`: [`IntervalNotifier::read_begin`], then a
//! walk of the CPU page tables (`hmm_range_fault()`, which takes the
//! notifier and the sequence count: [`IntervalNotifier::as_raw`],
//! [`Seq::as_raw`]), then the owner's lock and
//! [`IntervalNotifier::read_retry`]; the invalidate callback
//! ([`IntervalOps::invalidate`]) calls [`Invalidation::set_seq`] under the
//! same lock.

use super::{
    bindings::{
        gm_interval_read_begin, gm_interval_read_retry, gm_interval_set_seq, gm_range_blockable,
        gm_range_still_readable,
    },
    mm::MmWithUser,
};
use core::{ffi::c_void, marker::PhantomPinned};
use kernel::{
    bindings,
    error::to_result,
    ffi::c_ulong,
    init::{self, PinInit},
    prelude::*,
    types::Opaque,
};

/// A sequence count from [`IntervalNotifier::read_begin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seq(c_ulong);

impl Seq {
    /// The count, for `hmm_range.notifier_seq`.
    pub(crate) fn as_raw(self) -> c_ulong {
        self.0
    }
}

/// An invalidation in progress: what `invalidate` is told.
pub(crate) struct Invalidation<'a> {
    mni: *mut bindings::mmu_interval_notifier,
    range: &'a bindings::mmu_notifier_range,
    cur_seq: c_ulong,
}

impl Invalidation<'_> {
    /// First user address of the range.
    pub(crate) fn start(&self) -> u64 {
        self.range.start as u64
    }

    /// One past the last user address of the range.
    pub(crate) fn end(&self) -> u64 {
        self.range.end as u64
    }

    /// `enum mmu_notifier_event`.
    pub(crate) fn event(&self) -> u32 {
        self.range.event
    }

    /// Whether the callback may sleep.  It may not in the OOM reaper.
    pub(crate) fn is_blockable(&self) -> bool {
        // SAFETY: `range` is the live range the callback was given.
        unsafe { gm_range_blockable(self.range) }
    }

    /// Whether `owner` is the range's owner.  `None` for events whose
    /// senders leave `owner` uninitialised (all but MIGRATE and EXCLUSIVE),
    /// so that it is never read for them.
    pub(crate) fn owner_is(&self, owner: *const c_void) -> Option<bool> {
        match self.range.event {
            bindings::mmu_notifier_event_MMU_NOTIFY_MIGRATE
            | bindings::mmu_notifier_event_MMU_NOTIFY_EXCLUSIVE => {
                Some(core::ptr::eq(self.range.owner, owner))
            }
            _ => None,
        }
    }

    /// For `MMU_NOTIFY_PROTECTION_VMA`, whether the range stays readable
    /// (mprotect to `PROT_READ`) or not (`PROT_NONE`); `false` for other
    /// events.
    pub(crate) fn still_readable(&self) -> bool {
        // SAFETY: `range` is live, and the helper reads the vma only for
        // PROTECTION_VMA, whose senders all hold the mmap lock.
        unsafe { gm_range_still_readable(self.range) }
    }

    /// Publishes the invalidation to concurrent faults.  Must be called
    /// under the lock that guards [`IntervalNotifier::read_retry`].
    pub(crate) fn set_seq(&self) {
        // SAFETY: `mni` is the notifier the callback runs for.
        unsafe { gm_interval_set_seq(self.mni, self.cur_seq) };
    }
}

/// The owner's side of an [`IntervalNotifier`].
pub(crate) trait IntervalOps: Send + Sync + Sized + 'static {
    /// Called before the CPU page tables of part of the interval change.
    /// Upon return the secondary MMU must no longer use what the event
    /// takes away.  Return `false` only if the work needs to sleep and
    /// [`Invalidation::is_blockable`] is `false`.
    fn invalidate(&self, inv: &Invalidation<'_>) -> bool;
}

/// A registered `struct mmu_interval_notifier` with its owner's data.
///
/// # Invariants
///
/// `mni` is inserted in the interval tree of an address space, with
/// `Self::OPS`, from initialisation until drop.
#[pin_data(PinnedDrop)]
pub(crate) struct IntervalNotifier<T: IntervalOps> {
    data: T,
    #[pin]
    mni: Opaque<bindings::mmu_interval_notifier>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the C notifier may be used and removed from any thread, and `T`
// is `Send + Sync`.
unsafe impl<T: IntervalOps> Send for IntervalNotifier<T> {}
// SAFETY: as above; `&self` only reads the sequence count through C.
unsafe impl<T: IntervalOps> Sync for IntervalNotifier<T> {}

impl<T: IntervalOps> IntervalNotifier<T> {
    const OPS: bindings::mmu_interval_notifier_ops = bindings::mmu_interval_notifier_ops {
        invalidate: Some(Self::invalidate_callback),
    };

    /// Watches `start..start + len` of `mm`.  Sleeps; must not be called
    /// with the mmap lock held.
    pub(crate) fn new(
        mm: &MmWithUser,
        start: u64,
        len: u64,
        data: T,
    ) -> impl PinInit<Self, Error> + '_ {
        let insert = move |slot: *mut bindings::mmu_interval_notifier| {
            // SAFETY: `slot` is pinned, uninitialised memory for the
            // notifier, which C initialises; `mm` has users (the type's
            // invariant), as `mmu_notifier_register()` requires; `OPS` is
            // 'static.
            to_result(unsafe {
                bindings::mmu_interval_notifier_insert(
                    slot,
                    mm.as_ptr().cast_mut().cast(),
                    start as c_ulong,
                    len as c_ulong,
                    &Self::OPS,
                )
            })
        };
        // SAFETY: the closure either initialises the notifier (insert
        // succeeded) or returns the error with nothing to clean up.
        let mni = unsafe {
            init::pin_init_from_closure::<Opaque<bindings::mmu_interval_notifier>, Error>(
                move |slot| insert(Opaque::raw_get(slot)),
            )
        };
        // INVARIANT: `mni` is inserted by the closure, with `Self::OPS`, or
        // the initialisation fails; `drop` removes it.
        try_pin_init!(Self {
            data,
            mni <- mni,
            _pin: PhantomPinned,
        }? Error)
    }

    /// The owner's data.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Starts a read-side critical section: walk, then check
    /// [`Self::read_retry`] under the owner's lock.  Sleeps while an
    /// invalidation of the interval is in progress.
    pub(crate) fn read_begin(&self) -> Seq {
        // SAFETY: by the type invariants `mni` is inserted.
        Seq(unsafe { gm_interval_read_begin(self.mni.get()) })
    }

    /// Whether an invalidation ran since `seq` was read; if so, what was
    /// walked is stale.  Call under the lock [`Invalidation::set_seq`] is
    /// called under.
    pub(crate) fn read_retry(&self, seq: Seq) -> bool {
        // SAFETY: by the type invariants `mni` is inserted.
        unsafe { gm_interval_read_retry(self.mni.get(), seq.0) }
    }

    /// The C notifier, for `hmm_range.notifier`: inserted for as long as
    /// `self` lives.
    pub(crate) fn as_raw(&self) -> *mut bindings::mmu_interval_notifier {
        self.mni.get()
    }

    /// # Safety
    ///
    /// Called by C with a notifier inserted by [`Self::new`].
    unsafe extern "C" fn invalidate_callback(
        mni: *mut bindings::mmu_interval_notifier,
        range: *const bindings::mmu_notifier_range,
        cur_seq: c_ulong,
    ) -> bool {
        // SAFETY: `mni` is the `mni` field of a live `IntervalNotifier<T>`:
        // only `new` inserts notifiers with `Self::OPS`, and `drop` removes
        // them, waiting for callbacks in flight.
        let this = unsafe { &*kernel::container_of!(mni, Self, mni) };
        let inv = Invalidation {
            mni,
            // SAFETY: C passes a range valid for the call.
            range: unsafe { &*range },
            cur_seq,
        };
        this.data.invalidate(&inv)
    }
}

#[pinned_drop]
impl<T: IntervalOps> PinnedDrop for IntervalNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: by the type invariants `mni` is inserted.  Removal waits
        // for callbacks in flight, so `data` outlives them all.
        unsafe { bindings::mmu_interval_notifier_remove(self.mni.get()) };
    }
}
