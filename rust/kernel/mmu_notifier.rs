// SPDX-License-Identifier: GPL-2.0

//! Interval MMU notifiers, and the CPU-side walk that feeds a mirror.
//!
//! C header: [`include/linux/mmu_notifier.h`](srctree/include/linux/mmu_notifier.h)
//!
//! An [`IntervalNotifier`] watches one range of an address space.  Its
//! owner keeps a secondary MMU coherent with the sequence protocol of
//! `mmu_interval_read_begin()`: [`IntervalNotifier::read_begin`], then
//! [`IntervalNotifier::walk`] with the mmap lock taken inside, then the
//! owner's lock and [`IntervalNotifier::read_retry`]; the invalidate
//! callback ([`IntervalOps::invalidate`]) calls [`Invalidation::set_seq`]
//! under the same lock.

use super::mm::MmWithUser;
use core::{
    ffi::c_void,
    marker::{PhantomData, PhantomPinned},
};
use kernel::{
    bindings,
    error::{to_result, Result},
    ffi::c_ulong,
    init::{self, PinInit},
    page::PAGE_SIZE,
    prelude::*,
    types::Opaque,
};

#[allow(improper_ctypes)]
extern "C" {
    fn gm_interval_read_begin(mni: *mut bindings::mmu_interval_notifier) -> c_ulong;
    fn gm_interval_read_retry(mni: *mut bindings::mmu_interval_notifier, seq: c_ulong) -> bool;
    fn gm_interval_set_seq(mni: *mut bindings::mmu_interval_notifier, seq: c_ulong);
    fn gm_range_blockable(range: *const bindings::mmu_notifier_range) -> bool;
    fn gm_range_still_readable(range: *const bindings::mmu_notifier_range) -> bool;
    fn gm_mirror_walk(
        mni: *mut bindings::mmu_interval_notifier,
        start: c_ulong,
        end: c_ulong,
        write: bool,
        owner: *mut c_void,
        seq: c_ulong,
        out: *mut u64,
    ) -> core::ffi::c_int;
}

// `enum mmu_notifier_event` is passed through as `guestmap_stats` indexes
// it; the UAPI promises the kernel's numbering, checked here.
const _: () = {
    use crate::uapi as u;
    use bindings as b;
    assert!(b::mmu_notifier_event_MMU_NOTIFY_UNMAP == u::GUESTMAP_EVENT_UNMAP);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_CLEAR == u::GUESTMAP_EVENT_CLEAR);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_PROTECTION_VMA == u::GUESTMAP_EVENT_PROTECTION_VMA);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_PROTECTION_PAGE == u::GUESTMAP_EVENT_PROTECTION_PAGE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_SOFT_DIRTY == u::GUESTMAP_EVENT_SOFT_DIRTY);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_RELEASE == u::GUESTMAP_EVENT_RELEASE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_MIGRATE == u::GUESTMAP_EVENT_MIGRATE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_EXCLUSIVE == u::GUESTMAP_EVENT_EXCLUSIVE);
};

/// What `gm_mirror_walk` reports per page (`rust/helpers/helpers.h`).
mod walk_bits {
    pub(super) const VALID: u64 = 1 << 63;
    pub(super) const WRITE: u64 = 1 << 62;
    pub(super) const SPECIAL: u64 = 1 << 61;
    pub(super) const ZERO: u64 = 1 << 60;
    pub(super) const FLAGS: u64 = 0xf << 60;
}

/// Most pages one [`IntervalNotifier::walk`] reports.
pub(crate) const WALK_MAX: usize = 512;

/// One page as the CPU maps it, from [`IntervalNotifier::walk`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Zeroable)]
#[repr(transparent)]
pub(crate) struct CpuPte {
    raw: u64,
}

impl CpuPte {
    /// The page frame number.
    pub(crate) fn pfn(self) -> u64 {
        self.raw & !walk_bits::FLAGS
    }

    /// Whether the walk found the page mapped.
    pub(crate) fn is_valid(self) -> bool {
        self.raw & walk_bits::VALID != 0
    }

    /// Whether the CPU may write the page.
    pub(crate) fn is_writable(self) -> bool {
        self.raw & walk_bits::WRITE != 0
    }

    /// Whether it is a bare pfn of a `VM_PFNMAP` or `VM_IO` mapping, which
    /// need not have a `struct page` at all.
    pub(crate) fn is_special(self) -> bool {
        self.raw & walk_bits::SPECIAL != 0
    }

    /// Whether it is the shared zero page.
    pub(crate) fn is_zero(self) -> bool {
        self.raw & walk_bits::ZERO != 0
    }
}

/// A sequence count from [`IntervalNotifier::read_begin`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seq(c_ulong);

/// What one [`IntervalNotifier::walk`] found: one [`CpuPte`] per page from
/// `start`, walked under sequence count `seq` of the notifier `mni`.
///
/// Only a walk makes one, and `CpuPte`s cannot be made otherwise, so the
/// pages named here are what the CPU mapped at the time: what a secondary
/// MMU may install once [`IntervalNotifier::is_current`] says so, under
/// its lock.
///
/// It borrows the notifier it was walked through, so it cannot outlive it
/// (and be compared against another notifier made at the same address).
pub(crate) struct Walked<'a> {
    mni: *mut bindings::mmu_interval_notifier,
    seq: Seq,
    start: u64,
    write: bool,
    ptes: &'a [CpuPte],
    _notifier: PhantomData<&'a bindings::mmu_interval_notifier>,
}

impl Walked<'_> {
    /// The user address of the first page.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Whether the pages were faulted in for writing: only then is a
    /// writable [`CpuPte`] the CPU's write permission (a read walk may see
    /// a writable pte that is clean, and must not hand out writes to it).
    pub(crate) fn is_write(&self) -> bool {
        self.write
    }

    /// One entry per page.
    pub(crate) fn ptes(&self) -> &[CpuPte] {
        self.ptes
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

    /// `enum mmu_notifier_event`, numbered as `GUESTMAP_EVENT_*`.
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

    /// Walks the CPU page tables for the pages of `start..end` (page
    /// aligned, inside the interval), faulting them in for reading or for
    /// `write`, filling `out` with one [`CpuPte`] per page.
    ///
    /// `hmm_range_fault()` walks normal mappings, `follow_pfnmap_start()`
    /// `VM_PFNMAP`/`VM_IO` ones.  Errors: `EBUSY` if an invalidation raced
    /// (begin again), `EFAULT` if nothing is mapped, `EPERM` for a write to
    /// memory the process may not write, `ESRCH` if the address space is
    /// exiting, `EINTR` on a fatal signal.
    pub(crate) fn walk<'a>(
        &'a self,
        seq: Seq,
        start: u64,
        end: u64,
        write: bool,
        owner: *const c_void,
        out: &'a mut [CpuPte],
    ) -> Result<Walked<'a>> {
        let pages = end.saturating_sub(start) as usize / PAGE_SIZE;
        if (start | end) as usize % PAGE_SIZE != 0 || pages == 0 || out.len() < pages {
            return Err(EINVAL);
        }
        // SAFETY: `mni` is inserted; `out` has room for one u64 per page
        // (`CpuPte` is a transparent u64); `owner` is only compared.
        to_result(unsafe {
            gm_mirror_walk(
                self.mni.get(),
                start as c_ulong,
                end as c_ulong,
                write,
                owner.cast_mut(),
                seq.0,
                out.as_mut_ptr().cast(),
            )
        })?;
        Ok(Walked {
            mni: self.mni.get(),
            seq,
            start,
            write,
            ptes: &out[..pages],
            _notifier: PhantomData,
        })
    }

    /// Whether what `walked` found is still what the CPU maps: it was
    /// walked through this notifier, and no invalidation of the interval
    /// ran since its sequence count was read.  Call under the lock
    /// [`Invalidation::set_seq`] is called under; the answer holds for as
    /// long as that lock is held.
    pub(crate) fn is_current(&self, walked: &Walked<'_>) -> bool {
        core::ptr::eq(walked.mni, self.mni.get()) && !self.read_retry(walked.seq)
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
