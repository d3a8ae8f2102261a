// SPDX-License-Identifier: GPL-2.0

//! The pages a running L2 uses in place: the virtual-APIC page, the
//! posted-interrupt descriptor and the APIC-access page, attached at VM
//! entry and detached at VM exit, in one of two modes a vCPU chooses:
//!
//! * **held**, 6.12's `kvm_vcpu_map()` semantics
//!   (nested_get_vmcs12_pages()): the page is mapped at entry and kept
//!   until exit, with no MMU-notifier coverage.  A page with a `struct
//!   page` is pinned (`FOLL_LONGTERM` where GUP allows it: the pin lasts
//!   as long as user space likes), so it is never freed under the mapping; if user space
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

/// Byte offset of the descriptor's control word, whose bit 0 is ON
/// (outstanding notification), SDM vol. 3C, 30.6, table 30-3.
const PI_CONTROL: usize = 32;
/// ON.
const PI_ON: u64 = 1;

/// Which of the pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApicPage {
    /// The virtual-APIC page (VIRTUAL_APIC_PAGE_ADDR).
    Vapic,
    /// The posted-interrupt descriptor (POSTED_INTR_DESC_ADDR).
    PiDesc,
    /// The APIC-access page (APIC_ACCESS_ADDR).
    ApicAccess,
    /// The current enlightened VMCS, kept as L2's pages are while it is
    /// current (`src/nested/vmx/evmcs.rs`).
    Evmcs,
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
                ApicPage::Evmcs => 3,
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

/// Gives up a held mapping after this many lookups undone by
/// invalidations, as `GuestPage::map()` does.
const MAX_TRIES: u32 = 1000;

/// Maps frame `gfn` of `slot` to hold it: a pinned page, or a bare pfn
/// with the layout generation and the notifier sequence read before its
/// lookup, which its uses check.  A bare pfn that changed between its
/// lookup and its mapping (EFAULT, with an invalidation since) is looked
/// up again, as `GuestPage::map()` does.
fn hold(slot: &Memslot, gfn: u64) -> Result<(HostMap, Option<(u64, Seq)>)> {
    let hva = slot.data().desc().map.gfn_to_hva(gfn);
    for _ in 0..MAX_TRIES {
        let gen = slot.data().mirror().lock().slots_gen();
        let seq = slot.read_begin();
        match HostMap::new_longterm(hva, true) {
            Ok(map) => {
                let guard = (!map.is_pinned()).then_some((gen, seq));
                return Ok((map, guard));
            }
            Err(e) if e != EFAULT => return Err(e),
            Err(e) => {
                let changed = {
                    let _state = slot.data().mirror().lock();
                    slot.read_retry(seq)
                };
                if !changed {
                    return Err(e);
                }
                if kernel::current!().signal_pending() {
                    return Err(EINTR);
                }
            }
        }
    }
    Err(EAGAIN)
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
                let (map, guard) = hold(slot, gfn)?;
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

    /// Runs `f` on the page's frame and the byte of it at the page's
    /// address, in one use of the page (held, or the cache's under its
    /// lock, refreshed if need be).  `f` must not sleep.
    pub(crate) fn update<R>(
        &self,
        slots: &SlotTable,
        mut f: impl FnMut(&Frame<'_>, usize) -> Result<R, FrameError>,
    ) -> Result<R> {
        let base = self.offset(0, 0)?;
        self.with_frame(slots, |frame| f(frame, base))
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
    /// as `vmx_deliver_posted_interrupt()` does: sets the vector's PIR bit
    /// (`pi_test_and_set_pir()`), then, if it was clear, ON
    /// (`pi_test_and_set_on()`), each a locked OR, which cannot fail, both
    /// in one use of the frame (so no invalidation comes between them).
    /// Returns whether a notification is due: both bits were clear.
    pub(crate) fn post(&self, slots: &SlotTable, vector: u8) -> Result<bool> {
        let pir = self.offset(usize::from(vector / 64) * 8, 8)?;
        let control = self.offset(PI_CONTROL, 8)?;
        let bit = 1u64 << (vector % 64);
        self.with_frame(slots, |frame| {
            if frame.fetch_or_u64(pir, bit)? & bit != 0 {
                return Ok(false);
            }
            Ok(frame.fetch_or_u64(control, PI_ON)? & PI_ON == 0)
        })
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
