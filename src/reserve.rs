// SPDX-License-Identifier: GPL-2.0

//! What a context keeps between its faults and accesses: spare tables, a
//! walk buffer and a bounce page, so that a call that needs nothing new
//! allocates and frees nothing.  Freeing is not free: under
//! DEBUG_PAGEALLOC each page freed is unmapped from the direct map, with
//! a TLB flush of every CPU, and a bounce page allocated and freed per
//! `READ_GUEST` made as many IPIs as the kept mappings of `src/remaps.rs`
//! save.
//!
//! A call takes what it needs from the reserve under its mutex (held only
//! to move boxes, never while allocating or freeing), and gives it back
//! when it is done; calls that run in parallel while the reserve is empty
//! allocate their own, and what the reserve already has when they give
//! theirs back is freed, outside the mutex.

use crate::{ext::mutex::Mutex, mirror::table::Spare, sys::walk::WalkBuf};
use kernel::{page::PAGE_SIZE, prelude::*};

/// A page-sized buffer between user space and guest frames: user memory
/// is never touched under the mirror lock (it may fault).
pub(crate) type BouncePage = [u8; PAGE_SIZE];

/// How many calls' worth the reserve keeps: enough for the threads of a
/// context that fault at once on a small machine, each without
/// allocating.
const KEPT: usize = 4;

/// The kept allocations of a context.
#[derive(Default)]
pub(crate) struct Reserve {
    spares: [Spare; KEPT],
    walks: [Option<KBox<WalkBuf>>; KEPT],
    bounces: [Option<KBox<BouncePage>>; KEPT],
}

/// Takes one of `kept`, if any.
fn take<T>(kept: &mut [Option<T>; KEPT]) -> Option<T> {
    kept.iter_mut().find_map(Option::take)
}

/// Keeps `v` if there is room; else gives it back, for the caller to drop
/// once the mutex is released.
fn keep<T>(kept: &mut [Option<T>; KEPT], v: T) -> Option<T> {
    match kept.iter_mut().find(|k| k.is_none()) {
        Some(place) => {
            *place = Some(v);
            None
        }
        None => Some(v),
    }
}

/// Takes a set of the reserve's spare tables (an empty one, if other
/// calls have them all).
pub(crate) fn take_spare(reserve: &Mutex<Reserve>) -> Spare {
    let mut r = reserve.lock();
    match r.spares.iter_mut().find(|s| !s.is_empty()) {
        Some(spare) => core::mem::take(spare),
        None => Spare::default(),
    }
}

/// Gives spare tables back; the ones the reserve has no room for are
/// freed when `spare` is dropped, after the mutex is released.
pub(crate) fn put_spare(reserve: &Mutex<Reserve>, mut spare: Spare) {
    {
        let mut r = reserve.lock();
        match r.spares.iter_mut().find(|s| s.is_empty()) {
            Some(place) => core::mem::swap(place, &mut spare),
            None => r.spares[0].keep_from(&mut spare),
        }
    }
    drop(spare);
}

/// A walk buffer: one of the reserve's, or a new one.
pub(crate) fn take_walk(reserve: &Mutex<Reserve>) -> Result<KBox<WalkBuf>> {
    // The guard goes at the end of the statement: allocate without it.
    let taken = take(&mut reserve.lock().walks);
    match taken {
        Some(walk) => Ok(walk),
        None => KBox::init(kernel::init::zeroed(), GFP_KERNEL),
    }
}

/// Gives a walk buffer back, or frees it if the reserve is full.
pub(crate) fn put_walk(reserve: &Mutex<Reserve>, walk: KBox<WalkBuf>) {
    let extra = keep(&mut reserve.lock().walks, walk);
    drop(extra);
}

/// Runs `f` with a bounce page: one of the reserve's, or a new one, given
/// back (or freed, if the reserve is full) whatever `f` returns.
pub(crate) fn with_bounce<R>(
    reserve: &Mutex<Reserve>,
    f: impl FnOnce(&mut BouncePage) -> Result<R>,
) -> Result<R> {
    let taken = take(&mut reserve.lock().bounces);
    // Allocated without the mutex (its guard went with the statement).
    let mut page = match taken {
        Some(page) => page,
        None => KBox::init(kernel::init::zeroed(), GFP_KERNEL)?,
    };
    let ret = f(&mut page);
    let extra = keep(&mut reserve.lock().bounces, page);
    drop(extra);
    ret
}
