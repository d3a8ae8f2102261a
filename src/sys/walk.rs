// SPDX-License-Identifier: GPL-2.0

//! The walk of the CPU page tables that feeds the mirror (`c/walk.c`).
//!
//! Between an interval notifier's `read_begin` and its owner's lock, the
//! walk says what the CPU maps at a range of user addresses, faulting it
//! in (for writing, if asked): `hmm_range_fault()` for normal mappings,
//! `follow_pfnmap_start()` for `VM_PFNMAP`/`VM_IO` ones, page by page with
//! `fixup_user_fault()` for userfaultfd-registered ones.  It takes the mmap
//! lock itself, and no lock of the caller's may be held across it.

use super::bindings::{
    gm_mirror_walk, GM_PFN_FLAGS, GM_PFN_ORDER_MASK, GM_PFN_ORDER_SHIFT, GM_PFN_SPECIAL,
    GM_PFN_VALID, GM_PFN_WRITE, GM_PFN_ZERO, GM_WALK_MAX,
};
use crate::ext::mmu_notifier::{IntervalNotifier, IntervalOps, Seq};
use core::{ffi::c_void, marker::PhantomData};
use kernel::{bindings, ffi::c_ulong, page::PAGE_SIZE, prelude::*};

// bindgen evaluates `1ULL << 63` to a negative i64 whatever the options
// say; the bits are the C macros', taken as u64.
const VALID: u64 = GM_PFN_VALID as u64;
const FLAGS: u64 = GM_PFN_FLAGS as u64;

/// Most pages one [`walk`] reports.
pub(crate) const WALK_MAX: usize = GM_WALK_MAX as usize;

/// One page as the CPU maps it, from [`walk`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Zeroable)]
#[repr(transparent)]
pub(crate) struct CpuPte {
    raw: u64,
}

impl CpuPte {
    /// The page frame number.
    pub(crate) fn pfn(self) -> u64 {
        self.raw & !FLAGS
    }

    /// Whether the walk found the page mapped.
    pub(crate) fn is_valid(self) -> bool {
        self.raw & VALID != 0
    }

    /// Whether the CPU may write the page.
    pub(crate) fn is_writable(self) -> bool {
        self.raw & GM_PFN_WRITE != 0
    }

    /// Whether it is a bare pfn of a `VM_PFNMAP` or `VM_IO` mapping, which
    /// need not have a `struct page` at all.
    pub(crate) fn is_special(self) -> bool {
        self.raw & GM_PFN_SPECIAL != 0
    }

    /// Whether it is the shared zero page.
    pub(crate) fn is_zero(self) -> bool {
        self.raw & GM_PFN_ZERO != 0
    }

    /// log2 of the pages of the CPU's mapping of the page: 0 for a pte,
    /// 9 for a PMD, 18 for a PUD.  The mapping covers the naturally
    /// aligned block of that size around the page.
    pub(crate) fn order(self) -> u32 {
        ((self.raw & GM_PFN_ORDER_MASK) >> GM_PFN_ORDER_SHIFT) as u32
    }
}

/// Room for the largest walk: one [`CpuPte`] per page of [`WALK_MAX`].
pub(crate) type WalkBuf = [CpuPte; WALK_MAX];

/// Why a [`walk`] found nothing to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalkError {
    /// An invalidation of the interval raced the walk: begin again.  Never
    /// an answer to user space.
    Raced,
    /// Nothing is mapped there that the process may read (or write, for a
    /// write walk): to a guest, there is no memory at that address.
    NotMapped,
    /// The address space is exiting.
    Exiting,
    /// A fatal signal is pending.
    Killed,
    /// The kernel could not fault the memory in (`ENOMEM`, ...).
    Kernel(Error),
}

impl From<WalkError> for Error {
    fn from(e: WalkError) -> Error {
        match e {
            // Callers retry; if one ever let it out, it means "try again".
            WalkError::Raced => EAGAIN,
            WalkError::NotMapped => EFAULT,
            WalkError::Exiting => ESRCH,
            WalkError::Killed => EINTR,
            WalkError::Kernel(e) => e,
        }
    }
}

/// What one [`walk`] found: one [`CpuPte`] per page from `start`, walked
/// under sequence count `seq` of the notifier `mni`.
///
/// Only a walk makes one, and `CpuPte`s cannot be made otherwise, so the
/// pages named here are what the CPU mapped at the time: what a secondary
/// MMU may install once [`Walked::is_current`] says so, under its lock.
///
/// It borrows the notifier it was walked through, so it cannot outlive it
/// (and be compared against another notifier made at the same address).
///
/// # Invariants
///
/// `ptes` is what `gm_mirror_walk()` reported, one entry per page from
/// `start`, for a walk (for writing if `write`) of the notifier `mni`
/// under its sequence count `seq`.
pub(crate) struct Walked<'a> {
    mni: *mut bindings::mmu_interval_notifier,
    seq: Seq,
    start: u64,
    write: bool,
    ptes: &'a [CpuPte],
    _notifier: PhantomData<&'a bindings::mmu_interval_notifier>,
}

impl<'a> Walked<'a> {
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

    /// The pages `offset..offset + len` of the walk, as a walk of their
    /// own (under the same sequence count); `None` if they are not all in
    /// it.
    pub(crate) fn part(&self, offset: usize, len: usize) -> Option<Walked<'a>> {
        let ptes = self.ptes.get(offset..offset.checked_add(len)?)?;
        // INVARIANT: a part of what the walk reported, from the user
        // address of its first page.
        Some(Walked {
            mni: self.mni,
            seq: self.seq,
            start: self.start + (offset * PAGE_SIZE) as u64,
            write: self.write,
            ptes,
            _notifier: PhantomData,
        })
    }

    /// Whether what was walked is still what the CPU maps: it was walked
    /// through `notifier`, and no invalidation of the interval ran since
    /// its sequence count was read.  Call under the lock
    /// [`Invalidation::set_seq`] is called under; the answer holds for as
    /// long as that lock is held.
    ///
    /// [`Invalidation::set_seq`]: crate::ext::mmu_notifier::Invalidation::set_seq
    pub(crate) fn is_current<T: IntervalOps>(&self, notifier: &IntervalNotifier<T>) -> bool {
        core::ptr::eq(self.mni, notifier.as_raw()) && !notifier.read_retry(self.seq)
    }
}

/// Walks the CPU page tables for the pages of `start..end` (page aligned,
/// inside `notifier`'s interval, at most `out.len()` pages), faulting them
/// in for reading or for `write`, under sequence count `seq` from
/// `notifier.read_begin()`.  `owner` is compared with the owner of
/// device-private pages (`hmm_range.dev_private_owner`), never followed.
pub(crate) fn walk<'a, T: IntervalOps>(
    notifier: &'a IntervalNotifier<T>,
    seq: Seq,
    start: u64,
    end: u64,
    write: bool,
    owner: *const c_void,
    out: &'a mut [CpuPte],
) -> Result<Walked<'a>, WalkError> {
    let pages = end.saturating_sub(start) as usize / PAGE_SIZE;
    if (start | end) as usize % PAGE_SIZE != 0 || pages == 0 || out.len() < pages {
        return Err(WalkError::Kernel(EINVAL));
    }
    // SAFETY: `notifier` is inserted for as long as it lives; `out` has
    // room for one u64 per page (`CpuPte` is a transparent u64); `owner`
    // is only compared.
    let ret = unsafe {
        gm_mirror_walk(
            notifier.as_raw(),
            start as c_ulong,
            end as c_ulong,
            write,
            owner.cast_mut(),
            seq.as_raw(),
            out.as_mut_ptr().cast(),
        )
    };
    match kernel::error::to_result(ret) {
        Ok(()) => {}
        Err(e) if e == EBUSY => return Err(WalkError::Raced),
        // hmm's answer to a write fault on memory the process may not
        // write; to the guest that is the same as nothing mapped.
        Err(e) if e == EFAULT || e == EPERM => return Err(WalkError::NotMapped),
        Err(e) if e == ESRCH => return Err(WalkError::Exiting),
        Err(e) if e == EINTR => return Err(WalkError::Killed),
        Err(e) => return Err(WalkError::Kernel(e)),
    }
    // INVARIANT: the walk of `notifier` under `seq` succeeded and filled
    // the first `pages` entries of `out`.
    Ok(Walked {
        mni: notifier.as_raw(),
        seq,
        start,
        write,
        ptes: &out[..pages],
        _notifier: PhantomData,
    })
}
