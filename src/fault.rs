// SPDX-License-Identifier: GPL-2.0

//! The fault protocol: filling the mirror from the CPU page tables.
//!
//! As `mmu_interval_read_begin()` asks: read the slot's sequence count,
//! walk the CPU page tables with no lock of ours held, then take the
//! mirror lock and install only if no invalidation ran meanwhile (and the
//! slot is still live); else walk again.  No context-wide lock is held:
//! the faults of a context run in parallel and meet only at the mirror
//! lock, for the install.

use crate::{
    ext::mutex::Mutex,
    ext::task,
    memslot::Memslot,
    mirror::{table::Spare, Install, Mirror},
    pte::{GfnRange, TABLE_ENTRIES},
    reserve::{self, Reserve},
    sys::{
        trace::{self, Installed},
        walk::{self, CpuPte, WalkBuf, WalkError, WALK_MAX},
    },
};
use kernel::prelude::*;

/// What one round of a fault (one walk's worth) did, for the
/// `guestmap_fault` tracepoint.
#[derive(Default)]
struct Round {
    /// Leaf entries installed or changed: 4 KiB, 2 MiB, 1 GiB.
    installed: [u64; 3],
    /// Walks redone because an invalidation ran meanwhile.
    retries: u32,
}

/// One fault request: faults `gfns` of one slot into its mirror, a walk
/// of up to [`WALK_MAX`] pages at a time, installed a leaf table's worth
/// at a time, so that one set of spare tables always suffices.  Owns what
/// a fault needs beyond the locks: the spare tables and the walk's output, taken from the context's reserve when a walk is
/// needed (allocated with no lock held if the reserve has none), and
/// given back when the fault is done.
pub(crate) struct Fault<'a> {
    slot: &'a Memslot,
    write: bool,
    reserve: &'a Mutex<Reserve>,
    spare: Option<Spare>,
    walk: Option<KBox<WalkBuf>>,
}

impl<'a> Fault<'a> {
    /// A fault of `slot`, for writing if `write`, with the context's
    /// `reserve`: `EPERM` for a write to a READONLY slot.
    pub(crate) fn new(
        slot: &'a Memslot,
        write: bool,
        reserve: &'a Mutex<Reserve>,
    ) -> Result<Fault<'a>> {
        if write && slot.data().desc().readonly {
            return Err(EPERM);
        }
        Ok(Fault {
            slot,
            write,
            reserve,
            spare: None,
            walk: None,
        })
    }

    /// The slot faulted.
    pub(crate) fn slot(&self) -> &'a Memslot {
        self.slot
    }

    fn mirror(&self) -> &'a Mirror {
        self.slot.data().mirror()
    }

    /// Faults `gfns`, which lie in the slot, into the mirror.
    pub(crate) fn run(&mut self, gfns: GfnRange) -> Result {
        let mirror = self.mirror();
        mirror.lock().stats_mut().count_fault();
        let mut start = gfns.start;
        while start < gfns.end {
            // A slot may span terabytes: stay killable and preemptible.
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            task::cond_resched();
            let end = gfns.end.min((start | (WALK_MAX as u64 - 1)) + 1);
            trace::fault_start(mirror, start, end - start, self.write);
            let mut round = Round::default();
            let ret = self.chunk(GfnRange { start, end }, &mut round);
            let installed = Installed {
                entries_4k: round.installed[0],
                entries_2m: round.installed[1],
                entries_1g: round.installed[2],
            };
            trace::fault(
                mirror,
                start,
                end - start,
                self.write,
                &installed,
                round.retries,
                ret.err().map_or(0, |e| e.to_errno()),
            );
            ret?;
            start = end;
        }
        Ok(())
    }

    /// Faults `gfns`, at most [`WALK_MAX`] pages: one walk, installed a
    /// leaf table's worth at a time, so that one set of spare tables
    /// always suffices.
    fn chunk(&mut self, gfns: GfnRange, round: &mut Round) -> Result {
        let slot = self.slot;
        let mirror = self.mirror();
        let desc = slot.data().desc();
        // What an event left in place (write-protection keeps entries)
        // needs no walk: this is where keeping them pays.  Looked up a
        // leaf table's worth per hold of the spinlock.
        let mut at = gfns.start;
        while at < gfns.end {
            let end = gfns.end.min((at | (TABLE_ENTRIES as u64 - 1)) + 1);
            if !mirror
                .lock()
                .is_mapped(GfnRange { start: at, end }, self.write)
            {
                break;
            }
            at = end;
        }
        if at >= gfns.end {
            return Ok(());
        }
        if self.walk.is_none() {
            self.walk = Some(reserve::take_walk(self.reserve)?);
        }
        let spare = self
            .spare
            .get_or_insert_with(|| reserve::take_spare(self.reserve));
        let buf: &mut [CpuPte] = match &mut self.walk {
            Some(walk) => &mut walk[..],
            None => return Err(ENOMEM),
        };
        // From the first part not mapped yet.
        let mut from = at;
        'walk: loop {
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            let n = (gfns.end - from) as usize;
            let hva = desc.map.gfn_to_hva(from);
            let hva_end = hva + (n as u64 * kernel::page::PAGE_SIZE as u64);
            let out = buf.get_mut(..n).ok_or(EINVAL)?;
            let seq = slot.read_begin();
            let walked = match walk::walk(slot, seq, hva, hva_end, self.write, mirror.owner(), out)
            {
                Err(WalkError::Raced) => {
                    mirror.lock().stats_mut().count_retry();
                    round.retries += 1;
                    continue;
                }
                ret => ret?,
            };
            let mut at = from;
            while at < gfns.end {
                let end = gfns.end.min((at | (TABLE_ENTRIES as u64 - 1)) + 1);
                // Allocates, with no lock held: the walk stays good until
                // an invalidation, which the install sees.
                spare.fill()?;
                let part = walked
                    .part((at - from) as usize, (end - at) as usize)
                    .ok_or(EINVAL)?;
                match mirror.install(slot, &part, at, self.write, spare, &mut round.installed)? {
                    Install::Done => at = end,
                    // Walk again from what is not installed yet.
                    Install::Stale => {
                        round.retries += 1;
                        from = at;
                        continue 'walk;
                    }
                }
            }
            return Ok(());
        }
    }
}

impl Drop for Fault<'_> {
    fn drop(&mut self) {
        // What the fault took from the reserve, and what it allocated, go
        // back to it for the next fault (or are freed, if it has its own).
        if let Some(spare) = self.spare.take() {
            reserve::put_spare(self.reserve, spare);
        }
        if let Some(walk) = self.walk.take() {
            reserve::put_walk(self.reserve, walk);
        }
    }
}
