// SPDX-License-Identifier: GPL-2.0

//! Frames lent under the mirror lock.
//!
//! This is where the MMU-notifier protocol becomes a safety argument, and
//! the one file of the driver's logic allowed `unsafe` (the others forbid
//! it; `src/sys/` wraps the C part).  Each function lends a
//! [`Frame`] borrowed from the held mirror lock, as upstream's
//! `MmapReadGuard::vma_lookup()` lends a `&VmaRef` tied to its guard, so
//! the frame cannot be used once the lock is released.
//!
//! Why a frame lent here stays the memory it names while the lock is held:
//! every change to the CPU page tables that could unmap, free, migrate or
//! write-protect it (munmap, mremap, mprotect, fork, reclaim, migration,
//! KSM, exit) first calls the memslot's invalidate callback, which takes
//! this lock and removes the entry (or the view, or publishes its
//! sequence count) before the change; deleting a slot does the same under
//! this lock while the slot's notifier still watches.  A present entry, a
//! valid view or an unchanged sequence count seen under the lock therefore
//! names a frame the CPU still maps, with the permission it had.

#![allow(unsafe_code)]

use super::{State, StateGuard};
use crate::{
    ext::mmu_notifier::Seq,
    memslot::Memslot,
    pte::PfnClass,
    refcount::{classify, Facts},
    sys::{
        frame::{direct_map, Frame, Remap},
        map::HostMap,
        pfn,
    },
};

/// Whether the page of `pfn` may be marked dirty (`src/refcount.rs`).
///
/// # Safety
///
/// `pfn` is named by a mirror entry present, or a pfn cache view valid,
/// under the mirror lock the caller holds: the CPU maps it, so the page
/// keeps its identity for the call.
unsafe fn may_dirty(pfn: u64) -> bool {
    // SAFETY: the page keeps its identity (the caller's contract).
    let facts = unsafe { pfn::facts(pfn) };
    classify(Facts::from_raw(facts)).may_dirty
}

impl State {
    /// The frame of `gfn`'s entry, for writing if `write`, if the entry
    /// allows it and the frame is in the direct map (a struct page);
    /// `None` otherwise: fault it, or map a bare pfn and use
    /// [`State::remapped_frame`].
    pub(crate) fn entry_frame(&self, gfn: u64, write: bool) -> Option<Frame<'_>> {
        let pte = self.get(gfn);
        match pte.class()? {
            PfnClass::Page if write && !pte.is_writable() => None,
            PfnClass::Page => {
                let kva = direct_map(pte.pfn())?;
                // The pte may be writable but clean (MADV_FREE, a read
                // fault of shmem, a swap-in): only the folio's dirty flag
                // keeps reclaim from discarding what the kernel writes.
                // SAFETY: the entry is present under the mirror lock, which
                // `&self` borrows.
                let dirty = (write && unsafe { may_dirty(pte.pfn()) }).then_some(pte.pfn());
                // SAFETY: the entry is present under the mirror lock, which
                // the frame borrows: its page is the one the CPU maps, in
                // the direct map (it has a struct page).  A writable entry
                // was made from a write walk of a writable pte, and every
                // write-protection reaches the mirror first; the folio of
                // `dirty` may be dirtied and is mapped by that pte.
                Some(unsafe { Frame::new(kva, write, dirty) })
            }
            PfnClass::Zero if !write => {
                let kva = direct_map(pte.pfn())?;
                // SAFETY: as above; the zero page is only ever read.
                Some(unsafe { Frame::new(kva, false, None) })
            }
            PfnClass::Zero | PfnClass::PfnMap => None,
        }
    }

    /// The frame of `gfn`'s entry through `map`, a mapping of its bare
    /// pfn, if the entry still names that pfn (and is writable, for a
    /// write).
    pub(crate) fn remapped_frame<'s>(
        &'s self,
        gfn: u64,
        map: &'s Remap,
        write: bool,
    ) -> Option<Frame<'s>> {
        let pte = self.get(gfn);
        if pte.class() != Some(PfnClass::PfnMap)
            || pte.pfn() != map.pfn()
            || (write && !pte.is_writable())
        {
            return None;
        }
        // SAFETY: the entry still maps this pfn under the mirror lock, so
        // the CPU still maps it there: zapping the pfnmap reaches the
        // mirror first.  `map` maps the pfn for as long as it lives, which
        // the borrow covers.  A bare pfn's flags belong to its owner: it
        // is never marked dirty.
        Some(unsafe { Frame::new(map.kva(), write, None) })
    }

    /// The frame of pfn cache `i`'s view, if it may be used for `gfn` (for
    /// writing if `write`); `None` if the cache must be refreshed.
    pub(crate) fn view_frame(&self, i: usize, gfn: u64, write: bool) -> Option<Frame<'_>> {
        let view = self.views.usable(i, self.slots_gen, gfn, write)?;
        let kva = match view.map() {
            Some(map) => map.kva(),
            None => direct_map(view.pfn())?,
        };
        // A bare pfn's flags belong to its owner; a page with a struct
        // page is dirtied if it may be.
        //
        // SAFETY: the view is valid under the mirror lock, which `&self`
        // borrows.
        let dirty = (write && view.map().is_none() && unsafe { may_dirty(view.pfn()) })
            .then_some(view.pfn());
        // SAFETY: the view is valid and of the current memslot layout under
        // the mirror lock, so its page is still what the CPU maps at its
        // user address in a slot that still exists: the slot's notifier
        // clears the view under this lock before any change, and deleting
        // the slot clears it and bumps the generation.  The mapping is the
        // direct map of a struct page or the view's own, which lives as
        // long as the view.  A view is writable only if made by a write
        // walk of a writable pte; `dirty` names its page only if it may be
        // dirtied.
        Some(unsafe { Frame::new(kva, write, dirty) })
    }
}

/// Runs `f` on the frame `map` maps (a bare pfn, not pinned) under the
/// mirror lock of `slot`, if no invalidation of `slot` ran since `seq`,
/// which was read before `map`'s pfn was looked up; `None` if one did (map
/// again).
pub(crate) fn with_unpinned<R>(
    slot: &Memslot,
    seq: Seq,
    map: &HostMap,
    f: impl FnOnce(&Frame<'_>) -> R,
) -> Option<R> {
    with_unpinned_since(slot, None, seq, map, f)
}

/// [`with_unpinned`], for a mapping made while the memslot layout was
/// `gen`, if given: `None` as well if the layout changed since, for
/// `slot` may then not be the slot `seq` was read from (deleted and
/// re-created at the same guest address, with a notifier of its own).
pub(crate) fn with_unpinned_since<R>(
    slot: &Memslot,
    gen: Option<u64>,
    seq: Seq,
    map: &HostMap,
    f: impl FnOnce(&Frame<'_>) -> R,
) -> Option<R> {
    let state: StateGuard<'_> = slot.data().mirror().lock();
    if gen.is_some_and(|g| g != state.slots_gen()) || slot.read_retry(seq) {
        return None;
    }
    // SAFETY: the slot's invalidations publish their sequence count under
    // this lock (`SlotWatch::invalidate`), and none ran since before the
    // pfn was looked up (`seq` is this slot's: the caller borrowed the
    // slot from the table it read `seq` under, or the layout is still
    // `gen`, so the slot is the one `seq` was read from), so the CPU
    // still maps it at the slot's address (munmap, mremap, mprotect and
    // exit all invalidate first).  `map`
    // maps it for as long as it lives, which outlasts `f`; it is writable
    // only if the pte was.  A bare pfn is never marked dirty.
    let frame = unsafe { Frame::new(map.kva(), map.is_writable(), None) };
    let ret = f(&frame);
    drop(state);
    Some(ret)
}
