// SPDX-License-Identifier: GPL-2.0

//! Guest page tables in guest memory, for the walker: each entry read
//! with one load and each A/D update a cmpxchg, through guestmap's own
//! kernel mapping of the table page, never through a `struct page` the
//! memory may not have (PFN-only memory, `VM_PFNMAP`, RAM above `mem=`).
//!
//! Two ways to reach a table page:
//!
//! * mapped for the one access, as `kvm_vcpu_map()` (`src/guest.rs`): a
//!   page with a `struct page` is pinned for it, a bare pfn is mapped
//!   (memremap) for it and guarded by the slot's notifier;
//! * through the walk cache: one pfn cache per level (`src/pfncache.rs`),
//!   kept coherent by the slot's notifier and the memslot generation, so
//!   a walk that revisits the tables of the last one maps nothing.
//!
//! The slot table is held shared for the whole walk: no slot is deleted
//! or re-created under it, so every [`Memslot`] found stays valid until
//! the walk returns.  What happens to the memory meanwhile (munmap,
//! mremap, mprotect, migration, exit) is the mapping API's to catch: a
//! mapped page is pinned or notifier-guarded, a cache view invalidated.

use super::walker::{Entry, Tables};
use crate::{
    guest::{until_current, GuestPage},
    memslot::Memslot,
    pfncache::{walk_view, CacheAccess},
    pte::{GfnRange, PAGE_SHIFT},
    slot_table::SlotTable,
    sys::walk::CpuPte,
};
use kernel::{page::PAGE_SIZE, prelude::*};

/// The tables of a context's guest memory.
pub(crate) struct GuestTables<'a> {
    slots: &'a SlotTable,
    cached: bool,
    /// Room for the one-page CPU walk of a cache refresh.
    walk_buf: [CpuPte; 1],
}

impl<'a> GuestTables<'a> {
    /// The tables in `slots`, through the walk cache if `cached`.
    pub(crate) fn new(slots: &'a SlotTable, cached: bool) -> Self {
        GuestTables {
            slots,
            cached,
            walk_buf: [CpuPte::default(); 1],
        }
    }

    /// The slot holding `gpa`, or `None` if none does.
    fn slot(&self, gpa: u64) -> Result<Option<&'a Memslot>> {
        let gfn = gpa >> PAGE_SHIFT;
        match self.slots.find(GfnRange {
            start: gfn,
            end: gfn + 1,
        }) {
            Ok(slot) => Ok(Some(slot)),
            Err(e) if e == ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The frame and offset of the entry at `gpa`, and the walk cache's view
/// of it as a table of `level` of `slot`.
fn entry_at(slot: &Memslot, level: u32, gpa: u64) -> (u64, usize, CacheAccess<'_>) {
    let gfn = gpa >> PAGE_SHIFT;
    let off = (gpa as usize) & (PAGE_SIZE - 1);
    let cache = CacheAccess {
        slot,
        cache: walk_view(level),
        gfn,
        off,
    };
    (gfn, off, cache)
}

impl Tables for GuestTables<'_> {
    type Error = Error;

    fn read(&mut self, level: u32, gpa: u64) -> Result<Option<Entry>> {
        let Some(slot) = self.slot(gpa)? else {
            return Ok(None);
        };
        let (gfn, off, cache) = entry_at(slot, level, gpa);
        let value = if self.cached {
            cache
                .with_frame(&mut self.walk_buf, false, |f| f.read_u64(off))?
                .0
        } else {
            until_current(|| {
                let page = GuestPage::map(slot, gfn, false)?;
                let ret = page.read_u64(off);
                page.unmap(false);
                Ok(ret?)
            })?
        };
        Ok(Some(Entry {
            value,
            writable: !slot.data().desc().readonly,
        }))
    }

    fn cmpxchg(&mut self, level: u32, gpa: u64, old: u64, new: u64) -> Result<bool> {
        // The slot was there for the read, and the table is held.
        let slot = self.slot(gpa)?.ok_or(ENOENT)?;
        let (gfn, off, cache) = entry_at(slot, level, gpa);
        let found = if self.cached {
            cache
                .with_frame(&mut self.walk_buf, true, |f| f.cmpxchg_u64(off, old, new))?
                .0
        } else {
            until_current(|| {
                let page = GuestPage::map(slot, gfn, true)?;
                let found = page.cmpxchg_u64(off, old, new);
                // A kernel write must never be lost to reclaim: the page
                // is marked dirty if the exchange stored anything.
                let stored = matches!(found, Ok(Some(f)) if f == old);
                page.unmap(stored);
                Ok(found?)
            })?
        };
        if found != old && kernel::current!().signal_pending() {
            // The walk would start again; a signal ends it instead.
            return Err(EINTR);
        }
        Ok(found == old)
    }
}
