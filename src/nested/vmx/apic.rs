// SPDX-License-Identifier: GPL-2.0

//! The pages a running L2 uses in place: the virtual-APIC page, the
//! posted-interrupt descriptor and the APIC-access page, attached at VM
//! entry and detached at VM exit, in one of two modes a vCPU chooses:
//!
//! * **held**, 6.12's `kvm_vcpu_map()` semantics
//!   (nested_get_vmcs12_pages()): the page is mapped at entry and kept
//!   until exit, with no MMU-notifier coverage.  A page with a `struct
//!   page` is pinned (`FOLL_LONGTERM`, the pin lasting as long as user
//!   space likes), so it is never freed under the mapping; if user space
//!   migrates, remaps or unmaps it meanwhile, the vCPU goes on using the
//!   old frame, which user space no longer sees.  Detaching unpins,
//!   marking the page dirty where `kvm_pfn_may_mark_dirty()` allows.
//!
//!   A bare pfn (PFN-only memory) cannot be held that way: nothing keeps
//!   such a frame what it was once user space lets go of it (memory
//!   hot-added over it, a device's memory handed to another user), so
//!   6.12's stale use of it is a use-after-free the kernel cannot vouch
//!   for.  Its mapping is kept from entry to exit, as 6.12 keeps it, but
//!   each use checks, under the mirror lock, that the memslot's notifier
//!   saw no invalidation since the entry looked the pfn up, and that the
//!   memslot layout is the same; if either changed, the use fails with
//!   `EFAULT` rather than touch a frame that may no longer be the guest's.
//! * **cached**, guestmap's pfn cache (the 2025 upstream series moved
//!   these pages to `gfn_to_pfn_cache`): nothing is held; each use checks
//!   the vCPU's cache view under the mirror lock and refreshes it if the
//!   memslot's notifier invalidated it, as KVM's
//!   `KVM_REQ_GET_NESTED_STATE_PAGES` makes the next entry map again.  So
//!   every use reaches the page user space maps now, and one after munmap
//!   or slot deletion fails cleanly.
//!
//! What ends a held page's validity, and why each is handled: a pinned
//! page stays through munmap, mremap, fork, exit and slot deletion (the
//! pin); a bare pfn's use is checked against every invalidation and
//! layout change (above); the `HostMap` lives in the vCPU, which lives in
//! the context, which an open file keeps (and the file pins the module);
//! destroying the vCPU or closing the context drops it, which unpins or
//! unmaps.

use super::abi::Mode;
use crate::{
    ext::mmu_notifier::Seq,
    memslot::Memslot,
    mirror::frame::with_unpinned_since,
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

/// Byte offset of the descriptor's control word, whose bit 0 is ON
/// (outstanding notification), SDM vol. 3C, 30.6, table 30-3.
const PI_CONTROL: usize = 32;
/// ON.
const PI_ON: u64 = 1;

/// Atomically ORs `bits` into the u64 at `off` of `frame`; the value
/// before, or `None` after [`MAX_CMPXCHG_TRIES`] exchanges lost to
/// concurrent writers (user space, as another CPU posting would be).
/// Runs under a spinlock for a cached page: bounded.
fn test_and_set(frame: &Frame<'_>, off: usize, bits: u64) -> Result<Option<u64>, FrameError> {
    let mut buf = [0u8; 8];
    frame.read(off, &mut buf)?;
    let mut old = u64::from_le_bytes(buf);
    for _ in 0..MAX_CMPXCHG_TRIES {
        if old & bits == bits {
            return Ok(Some(old));
        }
        let seen = frame.cmpxchg_u64(off, old, old | bits)?;
        if seen == old {
            return Ok(Some(old));
        }
        old = seen;
    }
    Ok(None)
}

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
    /// Mapped at entry.  For a bare pfn, the memslot layout generation
    /// and the notifier sequence read before its lookup.
    Held {
        map: HostMap,
        guard: Option<(u64, Seq)>,
    },
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
fn slot_of(slots: &SlotTable, gfn: u64) -> Result<&Memslot> {
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
                // The layout and the sequence first, then the lookup: a
                // bare pfn's uses check neither changed since.
                let gen = slot.data().mirror().lock().slots_gen();
                let seq = slot.read_begin();
                let map = HostMap::new_longterm(desc.map.gfn_to_hva(gfn), true)?;
                let guard = (!map.is_pinned()).then_some((gen, seq));
                How::Held { map, guard }
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
            How::Held { map, guard: None } => Ok(f(&map.pinned_frame().ok_or(EFAULT)?)?),
            How::Held {
                map,
                guard: Some((gen, seq)),
            } => {
                let slot = slot_of(slots, self.gpa >> PAGE_SHIFT)?;
                // An invalidation or a layout change since the entry: the
                // frame may no longer be the guest's (see the top).
                Ok(with_unpinned_since(slot, Some(*gen), *seq, map, f).ok_or(EFAULT)??)
            }
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

    /// Posts interrupt `vector` in the descriptor at the page's address,
    /// as `__vmx_deliver_posted_interrupt()` does: sets the vector's PIR
    /// bit, then, if it was clear, ON, each with an atomic update, both
    /// in one use of the frame (so an invalidation cannot come between
    /// them).  Returns whether a notification is due: both bits were
    /// clear.
    pub(crate) fn post(&self, slots: &SlotTable, vector: u8) -> Result<bool> {
        let pir = self.offset(usize::from(vector / 64) * 8, 8)?;
        let control = self.offset(PI_CONTROL, 8)?;
        let bit = 1u64 << (vector % 64);
        self.with_frame(slots, |frame| {
            let Some(old) = test_and_set(frame, pir, bit)? else {
                return Ok(None);
            };
            if old & bit != 0 {
                return Ok(Some(false));
            }
            Ok(test_and_set(frame, control, PI_ON)?.map(|old| old & PI_ON == 0))
        })?
        .ok_or(EAGAIN)
    }

    /// Detaches the page at VM exit: a held page is unmapped, marked dirty
    /// if `dirty` asks and `kvm_pfn_may_mark_dirty()` allows (a cached one
    /// is marked dirty per write, by its view).
    pub(crate) fn detach(self, dirty: bool) {
        if let How::Held { map, .. } = self.how {
            let may = classify(Facts::from_raw(map.facts())).may_dirty;
            map.unmap(dirty && may);
        }
    }
}
