// SPDX-License-Identifier: GPL-2.0

//! The mirror: a secondary page table of guest frames, kept coherent with
//! the address space by the memslots' MMU notifiers.
//!
//! The table ([`table`]) holds no reference on any page: an entry stays
//! correct because every change to the CPU's page tables under it is
//! announced first to the invalidate callback, which takes the mirror
//! lock, so an entry seen under the lock is backed by the page it names.
//! Everything that reads a frame through the mirror does so under the
//! lock, through a [`Frame`](crate::sys::frame::Frame) lent by the lock's
//! guard ([`frame`]): that is the one place in the driver's logic where the
//! protocol becomes a safety argument.
//!
//! Locks, outermost first (nothing takes them in another order):
//!
//! 1. the context's slot-table semaphore (`Context::slots`), held shared
//!    by every fault and access for its whole run (walks take the mmap
//!    lock inside it), exclusively by `GUESTMAP_SET_MEMSLOT` and close
//!    (which take the mmap lock, inserting and removing a notifier, and
//!    3, each on its own);
//! 2. the context's remap mutex (`Context::remaps`), held by an access of
//!    PFN-only memory while it maps the frame (which sleeps), then 3;
//! 3. the mirror lock, a spinlock: taken by invalidations (from reclaim,
//!    under the mmap lock, maybe from the OOM reaper) and by faults to
//!    install what they walked.  Nothing sleeps or allocates under it.
//!
//! The context's reserve mutex (`src/reserve.rs`) is a leaf: held only to
//! move kept allocations in or out, with none of these taken inside.
//!
//! Faults of a context hold 1 only shared while they walk the CPU page
//! tables (which takes the mmap lock and may wait for user space): they
//! run in parallel, as KVM's and dmirror's do, and meet only at 3.

/// What the table is allocated with: single pages from the page allocator
/// (the host tests put `Box`es behind the same names).
pub(crate) mod alloc {
    pub(crate) use crate::ext::page_box::{PageBox, PageSlot, Slot, SlotMut, SlotRef};
    pub(crate) use kernel::{error::Error as AllocError, init::Zeroable};
}

pub(crate) mod frame;
#[forbid(unsafe_code)]
pub(crate) mod stats;
#[forbid(unsafe_code)]
pub(crate) mod table;

use crate::{
    memslot::Memslot,
    pfncache::Views,
    policy::Action,
    pte::{span, GfnRange, PfnClass, Pte},
    slots::SlotDesc,
    sys::{
        trace::{self, Acted, CacheDrop},
        walk::{CpuPte, Walked},
    },
    uapi,
};
use kernel::{new_spinlock, prelude::*, sync::SpinLock};
use stats::Stats;
use table::{Counts, SetError, Spare, Tree, Walk, ALL};

/// Why [`Mirror::install`] installed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Install {
    /// Done: the walk's pages are in the mirror.
    Done,
    /// An invalidation ran since the walk, which must be redone.
    Stale,
}

/// The mirror's state, under its lock.
pub(crate) struct State {
    tree: Tree,
    stats: Stats,
    released: bool,
    views: Views,
    /// Bumped by every memslot creation and deletion: a pfn cache's view
    /// is good only for the layout it was made under.
    slots_gen: u64,
}

impl State {
    /// Invalidates every pfn cache of a page in the user range
    /// `start..end`, whatever the event: a cache holds no reference and
    /// no permission it could keep.
    pub(crate) fn invalidate_caches(&mut self, mirror: &Mirror, start: u64, end: u64) {
        self.views.invalidate(start, end, |cache, gfn| {
            trace::cache_invalidate(mirror, cache, gfn, CacheDrop::Event)
        });
    }

    /// Records a memslot creation: views made before it are stale.
    pub(crate) fn add_slot(&mut self, mirror: &Mirror) {
        self.slots_gen += 1;
        self.views.outdate(self.slots_gen, |cache, gfn| {
            trace::cache_invalidate(mirror, cache, gfn, CacheDrop::SlotsChanged)
        });
    }

    /// Records the deletion of the slot of guest frames `gfns`: its cache
    /// views go.  Once the slot's notifier is gone nothing would tell them
    /// that their page was unmapped or freed; [`Mirror::apply`] with
    /// [`Action::ZapAndFree`] removes its entries and tables.
    pub(crate) fn remove_slot(&mut self, mirror: &Mirror, gfns: GfnRange) {
        self.slots_gen += 1;
        self.views.remove_gfns(gfns, |cache, gfn| {
            trace::cache_invalidate(mirror, cache, gfn, CacheDrop::SlotDeleted)
        });
        self.views.outdate(self.slots_gen, |cache, gfn| {
            trace::cache_invalidate(mirror, cache, gfn, CacheDrop::SlotsChanged)
        });
    }

    /// Forgets pfn cache view `i`, whose user is gone.
    pub(crate) fn forget_view(&mut self, mirror: &Mirror, i: usize) {
        if let Some(gfn) = self.views.forget(i) {
            trace::cache_invalidate(mirror, i, gfn, CacheDrop::Forgotten);
        }
    }

    /// The memslot layout generation.
    pub(crate) fn slots_gen(&self) -> u64 {
        self.slots_gen
    }

    /// The pfn caches' views.
    pub(crate) fn views(&self) -> &Views {
        &self.views
    }

    /// The pfn caches' views, to change.
    pub(crate) fn views_mut(&mut self) -> &mut Views {
        &mut self.views
    }

    /// Refuses further faults: the address space is gone.
    pub(crate) fn release(&mut self) {
        self.released = true;
    }

    /// Whether the address space is gone (RELEASE was seen).
    pub(crate) fn is_released(&self) -> bool {
        self.released
    }

    /// The entry for `gfn`.
    pub(crate) fn get(&self, gfn: u64) -> Pte {
        self.tree.get(gfn)
    }

    /// Whether every entry of `gfns` is present, and writable if `write`:
    /// then a fault of `gfns` has nothing to do.
    pub(crate) fn is_mapped(&self, gfns: GfnRange, write: bool) -> bool {
        let mut gfn = gfns.start;
        while gfn < gfns.end {
            let pte = self.get(gfn);
            if !pte.is_present() || (write && !pte.is_writable()) {
                return false;
            }
            // The rest of a huge entry is the same.
            gfn = (gfn | (span(pte.level()) - 1)) + 1;
        }
        true
    }

    /// The statistics.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The statistics, to count in.
    pub(crate) fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// The guest frames of the huge entries that map the ends of `gfns`
    /// too: what an invalidation of `gfns` acts on.
    pub(crate) fn huge_cover(&self, gfns: GfnRange) -> GfnRange {
        let first = self.get(gfns.start);
        let last = self.get(gfns.end - 1);
        GfnRange {
            start: gfns.start & !(span(first.level()) - 1),
            end: ((gfns.end - 1) | (span(last.level()) - 1)) + 1,
        }
    }

    /// Installs what `walked` found from `gfn` on (for writing if `write`),
    /// with the huge entry `huge` (of the block holding `gfn`) if there is
    /// one and the tree can take it there, counting into `c`.  Under the
    /// lock, after the walk was found current.
    fn install_walked(
        &mut self,
        walked: &Walked<'_>,
        gfn: u64,
        write: bool,
        huge: Option<Pte>,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result {
        if let Some(pte) = huge {
            if self.keeps_write(gfn, pte) {
                return Ok(());
            }
            match self.tree.set(gfn, pte, spare, c) {
                Ok(()) => return Ok(()),
                // A 1 GiB entry over tables: map with smaller ones.
                Err(SetError::Occupied) => {}
                Err(_) => return Err(ENOMEM),
            }
            if pte.level() == 3 {
                if let Some(pte2) = pte.page(gfn & (span(3) - 1) & !(span(2) - 1)).at_level(2) {
                    if self.keeps_write(gfn, pte2) {
                        return Ok(());
                    }
                    if self.tree.set(gfn, pte2, spare, c).is_ok() {
                        return Ok(());
                    }
                }
            }
        }
        let mut ret = Ok(());
        for (gfn, cpu) in (gfn..).zip(walked.ptes()) {
            let pte = match cpu_entry(*cpu, write) {
                Ok(pte) => pte,
                Err(e) => {
                    ret = Err(e);
                    break;
                }
            };
            if self.keeps_write(gfn, pte) {
                continue;
            }
            if self.tree.set(gfn, pte, spare, c).is_err() {
                ret = Err(ENOMEM);
                break;
            }
        }
        ret
    }

    /// Whether installing `pte` (read-only) for `gfn` would take back the
    /// write permission a racing write fault installed: an entry present
    /// under the lock is still what the CPU maps (any change since would
    /// have zapped or write-protected it), so a writable one for the same
    /// frame, of the same size, stays as it is.
    fn keeps_write(&self, gfn: u64, pte: Pte) -> bool {
        if pte.is_writable() {
            return false;
        }
        let old = self.get(gfn);
        let offset = gfn & (span(pte.level()) - 1);
        old.is_writable() && old == pte.with_write().page(offset)
    }

    /// Does one batch of `action` on `w`; `false` if there is more.
    fn apply_batch(&mut self, action: Action, w: &mut Walk, acted: &mut Acted) -> bool {
        let done = match action {
            Action::ZapAndFree | Action::Release => self.tree.zap(true, w),
            Action::Zap => self.tree.zap(false, w),
            Action::WriteProtect => self.tree.wrprotect(w),
            Action::Ignore => true,
        };
        let c = core::mem::take(&mut w.counts);
        acted.zapped += c.zapped;
        acted.wrprotected += c.wrprotected;
        acted.tables_freed += c.tables_freed;
        acted.huge_partial += c.huge_partial;
        self.stats.account(c);
        w.next_batch();
        done
    }
}

/// The mirror lock, held.
pub(crate) type StateGuard<'a> =
    kernel::sync::lock::Guard<'a, State, kernel::sync::lock::spinlock::SpinLockBackend>;

/// The mirror, shared by the context and its memslots' notifiers.
#[pin_data]
pub(crate) struct Mirror {
    #[pin]
    state: SpinLock<State>,
}

impl Mirror {
    /// A mirror with an empty root table.
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let state = State {
            tree: Tree::new()?,
            stats: Stats::default(),
            released: false,
            views: Views::default(),
            slots_gen: 0,
        };
        Ok(try_pin_init!(Self {
            state <- new_spinlock!(state, "guestmap_mirror"),
        }? Error))
    }

    /// Takes the mirror lock.  Never sleeps, so invalidations that may not
    /// sleep (the OOM reaper's) can always take it: they never have to
    /// fail.
    pub(crate) fn lock(&self) -> StateGuard<'_> {
        self.state.lock()
    }

    /// Applies `action` to the guest frames `gfns` (all of them for
    /// [`Action::Release`]), starting under `state`, in batches of at most
    /// [`table::BATCH_TABLES`] tables with the lock given back in between;
    /// with `may_sleep`, also yields the CPU between batches.
    ///
    /// Giving the lock back in the middle is safe:
    ///
    /// * in an invalidation, the caller has already published it
    ///   ([`Invalidation::set_seq`](crate::ext::mmu_notifier::Invalidation::set_seq))
    ///   under this lock, so a fault that walked before it fails
    ///   `read_retry` and one that starts after it waits in `read_begin`
    ///   until the invalidation ends: nothing is installed in the range
    ///   meanwhile.  An entry not yet zapped is still good, since the CPU
    ///   page tables change only after the callback returns;
    /// * for a deleted slot, no fault or access of it runs (the caller
    ///   holds the slot table exclusively), and its notifier still
    ///   watches;
    /// * the walk keeps no pointer into the tree across batches: each one
    ///   starts again from the root at the first gfn not yet done.
    ///
    /// Returns what was done, for the `guestmap_invalidate` tracepoint.
    pub(crate) fn apply<'a>(
        &'a self,
        mut state: StateGuard<'a>,
        action: Action,
        gfns: GfnRange,
        may_sleep: bool,
    ) -> Acted {
        let range = match action {
            Action::Release => {
                state.release();
                ALL
            }
            _ => gfns,
        };
        let mut w = Walk::new(range);
        let mut acted = Acted::NONE;
        loop {
            let done = state.apply_batch(action, &mut w, &mut acted);
            let dead = core::mem::take(&mut w.dead);
            drop(state);
            drop(dead);
            if done {
                return acted;
            }
            if may_sleep {
                crate::ext::task::cond_resched();
            }
            state = self.lock();
        }
    }

    /// Installs what `walked` found at guest frames from `gfn` of `slot`,
    /// mapped for writing if `write`, with tables from `spare`, adding the
    /// leaf entries it installs or changes to `installed` (4 KiB, 2 MiB,
    /// 1 GiB; on failure too, for what went in before).  The one way
    /// entries get into the mirror, so none is ever made from a stale
    /// walk, another slot's, or a deleted slot's.
    pub(crate) fn install(
        &self,
        slot: &Memslot,
        walked: &Walked<'_>,
        gfn: u64,
        write: bool,
        spare: &mut Spare,
        installed: &mut [u64; 3],
    ) -> Result<Install> {
        let desc = slot.data().desc();
        let n = walked.ptes().len() as u64;
        if !core::ptr::eq(slot.data().mirror(), self)
            || !desc.map.contains(GfnRange {
                start: gfn,
                end: gfn + n,
            })
            || walked.start() != desc.map.gfn_to_hva(gfn)
            || (write && !walked.is_write())
        {
            return Err(EINVAL);
        }
        if write && desc.readonly {
            return Err(EPERM);
        }
        // The largest entry the walk allows, decided before the lock.
        let huge = huge_entry(desc, walked, gfn, write)?;
        let mut state = self.lock();
        if state.is_released() {
            return Err(ESRCH);
        }
        if !walked.is_current(slot) {
            state.stats.count_retry();
            return Ok(Install::Stale);
        }
        // Counted once for the lot: installing is the whole cost of
        // restoring 4 KiB entries.
        let mut c = Counts::default();
        let ret = state.install_walked(walked, gfn, write, huge, spare, &mut c);
        for (sum, n) in installed.iter_mut().zip(c.installed) {
            *sum += n;
        }
        state.stats.account(c);
        drop(state);
        // A leaf table a huge entry replaced is freed with the lock given
        // back.
        drop(spare.take_dead());
        ret.map(|()| Install::Done)
    }

    /// Drops the mappings of pfn caches whose views are gone.
    pub(crate) fn trim_caches(&self) {
        let stale = {
            let mut state = self.lock();
            let gen = state.slots_gen;
            state.views.take_stale(gen)
        };
        drop(stale);
    }

    /// An identity for `mmu_notifier_range.owner` comparisons.
    pub(crate) fn owner(&self) -> *const core::ffi::c_void {
        core::ptr::from_ref(self).cast()
    }
}

/// The 4 KiB entry for the page the CPU maps as `cpu`, writable only if
/// `write` (see [`Mirror::install`]).
fn cpu_entry(cpu: CpuPte, write: bool) -> Result<Pte> {
    if !cpu.is_valid() {
        return Err(EFAULT);
    }
    let class = if cpu.is_special() {
        PfnClass::PfnMap
    } else if cpu.is_zero() {
        PfnClass::Zero
    } else {
        PfnClass::Page
    };
    // Writable only if asked for, and walked for write (checked by the
    // caller): a read walk may see a writable but clean pte, and only a
    // write walk has the CPU's write permission behind it.
    let writable = write && cpu.is_writable() && class != PfnClass::Zero;
    Pte::new(cpu.pfn(), writable, class).ok_or(EFAULT)
}

/// The huge entry for the block of guest frames holding `gfn` that the
/// walk from `gfn` allows, if any: the CPU maps the page with a huge page
/// the slot may map whole ([`SlotDesc::leaf_level`]), and the pages walked
/// are that huge page's, with the same permission.
fn huge_entry(desc: &SlotDesc, walked: &Walked<'_>, gfn: u64, write: bool) -> Result<Option<Pte>> {
    let ptes = walked.ptes();
    let first = match ptes.first() {
        Some(p) if p.is_valid() => *p,
        _ => return Ok(None),
    };
    let level = desc.leaf_level(gfn, first.order(), first.pfn());
    if level == 1 {
        return Ok(None);
    }
    let entry = cpu_entry(first, write)?;
    // The first and the last page tell for the pages between:
    // * one look of hmm reports every page of a huge mapping from one
    //   read of its PMD, PUD or hugetlb entry, alike (mm/hmm.c);
    // * the walk's looks never go back: a page was last written by a look
    //   no later than the one that wrote any page after it;
    // * the walk is current when this entry is installed, so between the
    //   looks the mapping could only gain (none to present, read-only to
    //   writable), never lose or change, which all take an invalidation.
    // So if the first and the last page are one huge mapping's, with the
    // same permission, so is every page between.
    let n = ptes.len() as u64 - 1;
    let same = ptes.last().is_some_and(|last| {
        last.is_valid()
            && last.order() == first.order()
            && cpu_entry(*last, write).ok() == Some(entry.page(n))
    });
    if !same {
        return Ok(None);
    }
    let offset = gfn & (span(level) - 1);
    Ok(Pte::new(
        entry.pfn() - offset,
        entry.is_writable(),
        entry.class().unwrap_or(PfnClass::Page),
    )
    .and_then(|p| p.at_level(level)))
}

/// Snapshot of the statistics for `GUESTMAP_GET_STATS`.
pub(crate) fn stats(mirror: &Mirror) -> uapi::guestmap_stats {
    mirror.lock().stats().snapshot()
}
