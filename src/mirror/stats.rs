// SPDX-License-Identifier: GPL-2.0

//! The mirror's statistics: what `GUESTMAP_GET_STATS` reports and
//! `/sys/kernel/debug/guestmap/ctx-*` shows.

use super::{table::Counts, Mirror};
use crate::{
    ext::debugfs,
    policy::Event,
    pte::{span, MAX_LEAF_LEVEL},
    uapi,
};
use core::fmt::Write;

/// The counters, kept under the mirror lock.
#[derive(Default)]
pub(crate) struct Stats(uapi::guestmap_stats);

impl Stats {
    /// Folds in what a walk of the tree did.
    pub(crate) fn account(&mut self, c: Counts) {
        let s = &mut self.0;
        s.entries_zapped += c.zapped;
        s.entries_wrprotected += c.wrprotected;
        s.tables_allocated += c.tables_allocated;
        s.tables_freed += c.tables_freed;
        s.pages_faulted += c.faulted;
        s.huge_partial += c.huge_partial;
        s.huge_splits += c.huge_splits;
        // Present pages, and present entries of each huge size.
        let pages: i64 = (1..=MAX_LEAF_LEVEL)
            .map(|l| c.present[l as usize - 1] * span(l) as i64)
            .sum();
        s.entries_present = s.entries_present.wrapping_add_signed(pages);
        s.entries_2m = s.entries_2m.wrapping_add_signed(c.present[1]);
        s.entries_1g = s.entries_1g.wrapping_add_signed(c.present[2]);
    }

    /// Counts an invalidation of `event` (`None`: unknown to us).
    pub(crate) fn count_invalidation(&mut self, event: Option<Event>, blockable: bool) {
        if let Some(e) = event {
            self.0.invalidations[e as usize] += 1;
        }
        if !blockable {
            self.0.nonblocking += 1;
        }
    }

    /// Counts a fault request.
    pub(crate) fn count_fault(&mut self) {
        self.0.faults += 1;
    }

    /// Counts a fault attempt redone because an invalidation raced it.
    pub(crate) fn count_retry(&mut self) {
        self.0.retries += 1;
    }

    /// The counters, as the UAPI has them.
    pub(crate) fn snapshot(&self) -> uapi::guestmap_stats {
        self.0
    }
}

impl debugfs::Show for Mirror {
    fn show(&self, m: &mut debugfs::SeqFile<'_>) -> core::fmt::Result {
        let s = self.lock().stats().snapshot();
        for e in Event::ALL {
            writeln!(
                m,
                "invalidations.{}: {}",
                e.name(),
                s.invalidations[e as usize]
            )?;
        }
        writeln!(m, "nonblocking: {}", s.nonblocking)?;
        writeln!(m, "faults: {}", s.faults)?;
        writeln!(m, "pages_faulted: {}", s.pages_faulted)?;
        writeln!(m, "retries: {}", s.retries)?;
        writeln!(m, "entries_zapped: {}", s.entries_zapped)?;
        writeln!(m, "entries_wrprotected: {}", s.entries_wrprotected)?;
        writeln!(m, "tables_allocated: {}", s.tables_allocated)?;
        writeln!(m, "tables_freed: {}", s.tables_freed)?;
        writeln!(m, "entries_present: {}", s.entries_present)?;
        writeln!(m, "entries_2m: {}", s.entries_2m)?;
        writeln!(m, "entries_1g: {}", s.entries_1g)?;
        writeln!(m, "huge_partial: {}", s.huge_partial)?;
        writeln!(m, "huge_splits: {}", s.huge_splits)
    }
}
