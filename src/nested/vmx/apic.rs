// SPDX-License-Identifier: GPL-2.0

//! The pages a running L2 uses in place: the virtual-APIC page, the
//! posted-interrupt descriptor and the APIC-access page, attached at VM
//! entry and detached at VM exit, in one of two modes a vCPU chooses:
//!
//! * **held**, 6.12's `kvm_vcpu_map()` semantics
//!   (nested_get_vmcs12_pages()): the page is mapped at entry and kept
//!   until exit, with no MMU-notifier coverage.  A page with a `struct
//!   page` is pinned, so it is never freed under the mapping, but if user
//!   space migrates, remaps or unmaps it meanwhile, the vCPU goes on using
//!   the old frame, which user space no longer sees.  A bare pfn is held
//!   only if it has no `struct page` (`HostMap::held_frame()`): memory the
//!   kernel never allocates, so the staleness is the same and nothing
//!   else is touched.  Detaching unpins, marking the page dirty where
//!   `kvm_pfn_may_mark_dirty()` allows.
//! * **cached**, guestmap's pfn cache (the 2025 upstream series moved
//!   these pages to `gfn_to_pfn_cache`): nothing is held; each use checks
//!   the vCPU's cache view under the mirror lock and refreshes it if the
//!   memslot's notifier invalidated it, as KVM's
//!   `KVM_REQ_GET_NESTED_STATE_PAGES` makes the next entry map again.  So
//!   every use reaches the page user space maps now, and one after munmap
//!   or slot deletion fails cleanly.
//!
//! What ends a held page's validity, and why each is handled: the pin
//! (or the no-struct-page rule) keeps the frame through munmap, mremap,
//! fork, exit and slot deletion; the `HostMap` lives in the vCPU, which
//! lives in the context, which an open file keeps (and the file pins the
//! module); destroying the vCPU or closing the context drops it, which
//! unpins.

use super::abi::Mode;
use crate::{
    nested::vcpus::extra_cache_of,
    pfncache::CacheAccess,
    pte::{GfnRange, PAGE_SHIFT},
    refcount::{classify, Facts},
    slot_table::SlotTable,
    sys::{
        frame::{Frame, FrameError},
        map::HostMap,
        walk::CpuPte,
    },
};
use kernel::{page::PAGE_SIZE, prelude::*};

/// Gives up an atomic update of a descriptor word after this many
/// exchanges lost to concurrent writers.
const MAX_CMPXCHG_TRIES: u32 = 1000;

/// Which of the pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApicPage {
    /// The virtual-APIC page (VIRTUAL_APIC_PAGE_ADDR).
    Vapic,
    /// The posted-interrupt descriptor (POSTED_INTR_DESC_ADDR).
    PiDesc,
    /// The APIC-access page (APIC_ACCESS_ADDR).
    ApicAccess,
}

impl ApicPage {
    /// Its pfn cache view among vCPU `id`'s extra ones.
    fn view(self, id: usize) -> usize {
        extra_cache_of(
            id,
            match self {
                ApicPage::Vapic => 0,
                ApicPage::PiDesc => 1,
                ApicPage::ApicAccess => 2,
            },
        )
    }
}

enum How {
    Held(HostMap),
    Cached(usize),
}

/// A page attached for L2's run.
pub(crate) struct Attached {
    /// Its guest physical address; the PI descriptor may start inside
    /// the page.
    gpa: u64,
    how: How,
}

/// Finds the slot of `gfn`.
fn slot_of(slots: &SlotTable, gfn: u64) -> Result<&crate::memslot::Memslot> {
    slots.find(GfnRange {
        start: gfn,
        end: gfn + 1,
    })
}

impl Attached {
    /// Attaches page `which` at `gpa` for vCPU `id` in `mode`.  Mapped
    /// for writing either way, as `kvm_vcpu_map()` maps: `EPERM` for a
    /// read-only slot, `EFAULT` for memory user space may not write.
    pub(crate) fn attach(
        slots: &SlotTable,
        which: ApicPage,
        gpa: u64,
        mode: Mode,
        id: usize,
    ) -> Result<Attached> {
        let gfn = gpa >> PAGE_SHIFT;
        let slot = slot_of(slots, gfn)?;
        let desc = slot.data().desc();
        if desc.readonly {
            return Err(EPERM);
        }
        let how = match mode {
            Mode::Held => {
                let map = HostMap::new(desc.map.gfn_to_hva(gfn), true)?;
                // A bare pfn with a struct page cannot be held safely.
                if map.held_frame().is_none() {
                    return Err(EFAULT);
                }
                How::Held(map)
            }
            Mode::Cached => {
                let cache = which.view(id);
                // Fill the view now, as the entry's map would: a page that
                // cannot be reached fails the entry, not a later use.
                let mut walk = [CpuPte::default(); 1];
                CacheAccess {
                    slot,
                    cache,
                    gfn,
                    off: 0,
                }
                .with_frame(&mut walk, true, |_| Ok(()))?;
                How::Cached(cache)
            }
        };
        Ok(Attached { gpa, how })
    }

    /// Runs `f` on the page's frame: the held one, or the cache's,
    /// refreshed if need be.  `f` must not sleep.
    fn with_frame<R>(
        &self,
        slots: &SlotTable,
        mut f: impl FnMut(&Frame<'_>) -> Result<R, FrameError>,
    ) -> Result<R> {
        match &self.how {
            How::Held(map) => Ok(f(&map.held_frame().ok_or(EFAULT)?)?),
            How::Cached(cache) => {
                let gfn = self.gpa >> PAGE_SHIFT;
                let mut walk = [CpuPte::default(); 1];
                let access = CacheAccess {
                    slot: slot_of(slots, gfn)?,
                    cache: *cache,
                    gfn,
                    off: 0,
                };
                Ok(access.with_frame(&mut walk, true, f)?.0)
            }
        }
    }

    /// The byte of the page `rel` bytes past `gpa` is, if `len` bytes
    /// from there stay in it.
    fn offset(&self, rel: usize, len: usize) -> Result<usize> {
        let off = (self.gpa as usize & (PAGE_SIZE - 1))
            .checked_add(rel)
            .ok_or(EINVAL)?;
        match off.checked_add(len) {
            Some(end) if end <= PAGE_SIZE => Ok(off),
            _ => Err(EINVAL),
        }
    }

    /// Reads `buf.len()` bytes `rel` bytes past the page's address.
    pub(crate) fn read(&self, slots: &SlotTable, rel: usize, buf: &mut [u8]) -> Result {
        let off = self.offset(rel, buf.len())?;
        self.with_frame(slots, |frame| frame.read(off, buf))
    }

    /// Writes `buf` `rel` bytes past the page's address.
    pub(crate) fn write(&self, slots: &SlotTable, rel: usize, buf: &[u8]) -> Result {
        let off = self.offset(rel, buf.len())?;
        self.with_frame(slots, |frame| frame.write(off, buf))
    }

    /// Atomically ORs `bits` into the u64 `rel` bytes past the page's
    /// address (aligned), as `set_bit()` on the descriptor would; returns
    /// the value before.
    pub(crate) fn or_u64(&self, slots: &SlotTable, rel: usize, bits: u64) -> Result<u64> {
        let off = self.offset(rel, 8)?;
        self.with_frame(slots, |frame| {
            let mut buf = [0u8; 8];
            frame.read(off, &mut buf)?;
            let mut old = u64::from_le_bytes(buf);
            // User space may change the word between the read and the
            // exchange, as another CPU posting would: retry with what it
            // found, a bounded number of times (this runs under a
            // spinlock for a cached page).
            for _ in 0..MAX_CMPXCHG_TRIES {
                let seen = frame.cmpxchg_u64(off, old, old | bits)?;
                if seen == old {
                    return Ok(Some(old));
                }
                old = seen;
            }
            Ok(None)
        })?
        .ok_or(EAGAIN)
    }

    /// Detaches the page at VM exit: a held page is unmapped and marked
    /// dirty where `kvm_pfn_may_mark_dirty()` allows (a cached one is
    /// marked dirty per write, by its view).
    pub(crate) fn detach(self) {
        if let How::Held(map) = self.how {
            let dirty = classify(Facts::from_raw(map.facts())).may_dirty;
            map.unmap(dirty);
        }
    }
}
