// SPDX-License-Identifier: GPL-2.0

//! The mirror's table: a 4-level radix tree of page-sized tables over
//! guest frame numbers (`src/pte.rs` has the entry format and the index
//! maths), and the batched walks that zap and write-protect it.
//!
//! Nothing here takes a lock or sleeps: the mirror calls it under its
//! spinlock, with the tables a fault needs allocated beforehand
//! ([`Spare`]), and frees what a batch took out ([`Graveyard`]) after it
//! gives the lock back.
//!
//! Pure `core` code over an allocator seam ([`super::alloc`]): in the
//! kernel a table is a page from the page allocator, in the host tests
//! (`rust/host/table_tests.rs`) a `Box`.

use super::alloc::{AllocError, PageBox, PageSlot, Zeroable};
use crate::pte::{self, index, span, GfnRange, Pte, LEVELS, TABLE_ENTRIES};

/// A fault needed a table and none was at hand in its [`Spare`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NoSpare;

/// Counts taken while walking the tree, folded into the statistics.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) zapped: u64,
    pub(crate) wrprotected: u64,
    pub(crate) tables_freed: u64,
    pub(crate) tables_allocated: u64,
}

/// Most tables one batch of a zap or write-protection visits.  The mirror
/// lock is a spinlock, so a batch is a section with preemption off; the
/// lock is given back between batches, which bounds that section whatever
/// the size of the range (a RELEASE of a terabyte-sized mirror, the
/// deletion of a 64 GiB slot).  A table visit touches at most 512 entries.
pub(crate) const BATCH_TABLES: u32 = 8;

/// A zap or write-protection of a range, done in batches.
///
/// The walk visits gfns in increasing order, so when a batch stops, every
/// gfn of the range below `from` is done.
pub(crate) struct Walk {
    /// The whole range: tables wholly inside it are freed.
    range: GfnRange,
    /// Where the next batch starts.
    from: u64,
    /// Tables visited in this batch.
    work: u32,
    /// What this batch did.
    pub(crate) counts: Counts,
    /// Tables the batch took out of the tree, to be freed once the lock
    /// is given back: `kfree()` is not for a preempt-off section.
    pub(crate) dead: Graveyard,
}

impl Walk {
    pub(crate) fn new(range: GfnRange) -> Walk {
        Walk {
            range,
            from: range.start,
            work: 0,
            counts: Counts::default(),
            dead: Graveyard::default(),
        }
    }

    /// What is left to do.
    fn todo(&self) -> GfnRange {
        GfnRange {
            start: self.from,
            end: self.range.end,
        }
    }

    /// Starts the next batch.
    pub(crate) fn next_batch(&mut self) {
        self.work = 0;
    }

    /// Accounts a table visit; `false` if the batch is over, and the walk
    /// must stop before `next`, the first gfn not yet done.
    fn visit(&mut self, next: u64) -> bool {
        if self.work >= BATCH_TABLES {
            self.from = self.from.max(next);
            return false;
        }
        self.work += 1;
        true
    }
}

/// An empty table taken out of the tree, held only to be dropped.
#[allow(dead_code)]
enum Dead {
    Leaf(PageBox<Leaf>),
    L2(PageBox<L2>),
    L3(PageBox<L3>),
}

/// The tables one batch frees.  A batch frees only tables it visited, so
/// [`BATCH_TABLES`] places always suffice.
#[derive(Default)]
pub(crate) struct Graveyard {
    tables: [Option<Dead>; BATCH_TABLES as usize],
}

impl Graveyard {
    fn bury(&mut self, t: Dead) {
        match self.tables.iter_mut().find(|t| t.is_none()) {
            Some(place) => *place = Some(t),
            // Cannot happen (see above); freeing here is merely slower.
            None => drop(t),
        }
    }
}

/// One level of the tree.
trait Table: Zeroable + Sized {
    /// 1 for the leaf table.
    const LEVEL: u32;

    /// Removes the entries of `w.todo()`; with `free`, also frees every
    /// table whose whole span lies in `w.range`.  `base` is the first gfn
    /// of `self`.  `false` if the batch ended before the walk did.
    fn zap(&mut self, base: u64, free: bool, w: &mut Walk) -> bool;

    /// Makes the entries of `w.todo()` read-only; `false` as for `zap`.
    fn wrprotect(&mut self, base: u64, w: &mut Walk) -> bool;

    /// The entry for `gfn`.
    fn get(&self, gfn: u64) -> Pte;

    /// Sets the entry for `gfn`, taking missing tables from `spare`;
    /// returns the old entry.
    fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<Pte, NoSpare>;
}

/// The indices of the entries of a table at `level` based at `base` that
/// `r` touches.
fn entries(level: u32, base: u64, r: GfnRange) -> core::ops::Range<usize> {
    let table_span = span(level) * TABLE_ENTRIES as u64;
    match r.clamp(base, table_span) {
        None => 0..0,
        Some(r) => index(r.start, level)..index(r.end - 1, level) + 1,
    }
}

/// A leaf table: 512 entries.
// The host tests implement their `Zeroable` for the tables themselves.
#[cfg_attr(CONFIG_RUST, derive(kernel::prelude::Zeroable))]
pub(crate) struct Leaf {
    ptes: [u64; TABLE_ENTRIES],
}

impl Table for Leaf {
    const LEVEL: u32 = 1;

    fn zap(&mut self, base: u64, _free: bool, w: &mut Walk) -> bool {
        for p in &mut self.ptes[entries(1, base, w.todo())] {
            if Pte::from_raw(*p).is_present() {
                w.counts.zapped += 1;
            }
            *p = 0;
        }
        true
    }

    fn wrprotect(&mut self, base: u64, w: &mut Walk) -> bool {
        for p in &mut self.ptes[entries(1, base, w.todo())] {
            let pte = Pte::from_raw(*p);
            if pte.is_writable() {
                w.counts.wrprotected += 1;
                *p = pte.wrprotect().raw();
            }
        }
        true
    }

    fn get(&self, gfn: u64) -> Pte {
        Pte::from_raw(self.ptes[index(gfn, 1)])
    }

    fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        _spare: &mut Spare,
        _c: &mut Counts,
    ) -> Result<Pte, NoSpare> {
        let slot = &mut self.ptes[index(gfn, 1)];
        let old = Pte::from_raw(*slot);
        *slot = pte.raw();
        Ok(old)
    }
}

/// A directory table: 512 pointers to tables of the level below.
// The host tests implement their `Zeroable` for the tables themselves.
#[cfg_attr(CONFIG_RUST, derive(kernel::prelude::Zeroable))]
pub(crate) struct Dir<T: Zeroable> {
    next: [PageSlot<T>; TABLE_ENTRIES],
}

type L2 = Dir<Leaf>;
type L3 = Dir<L2>;
type Root = Dir<L3>;

const _: () = assert!(core::mem::size_of::<Leaf>() == 4096);
const _: () = assert!(core::mem::size_of::<Root>() == 4096);

/// A table type that may be taken from [`Spare`].
trait Child: Table {
    fn spare(s: &mut Spare) -> &mut Option<PageBox<Self>>;
    fn dead(t: PageBox<Self>) -> Dead;
}

impl Child for Leaf {
    fn spare(s: &mut Spare) -> &mut Option<PageBox<Self>> {
        &mut s.l1
    }

    fn dead(t: PageBox<Self>) -> Dead {
        Dead::Leaf(t)
    }
}

impl Child for L2 {
    fn spare(s: &mut Spare) -> &mut Option<PageBox<Self>> {
        &mut s.l2
    }

    fn dead(t: PageBox<Self>) -> Dead {
        Dead::L2(t)
    }
}

impl Child for L3 {
    fn spare(s: &mut Spare) -> &mut Option<PageBox<Self>> {
        &mut s.l3
    }

    fn dead(t: PageBox<Self>) -> Dead {
        Dead::L3(t)
    }
}

impl<T: Child> Table for Dir<T> {
    const LEVEL: u32 = T::LEVEL + 1;

    fn zap(&mut self, base: u64, free: bool, w: &mut Walk) -> bool {
        let child_span = span(Self::LEVEL);
        for i in entries(Self::LEVEL, base, w.todo()) {
            let child_base = base + i as u64 * child_span;
            let Some(child) = self.next[i].as_mut() else {
                continue;
            };
            if !w.visit(child_base) || !child.zap(child_base, free, w) {
                return false;
            }
            // Emptied by the walk: every table below it was inside the
            // range too, and went first.
            if free && w.range.covers(child_base, child_span) {
                if let Some(t) = self.next[i].take() {
                    w.dead.bury(T::dead(t));
                    w.counts.tables_freed += 1;
                }
            }
        }
        true
    }

    fn wrprotect(&mut self, base: u64, w: &mut Walk) -> bool {
        let child_span = span(Self::LEVEL);
        for i in entries(Self::LEVEL, base, w.todo()) {
            let child_base = base + i as u64 * child_span;
            let Some(child) = self.next[i].as_mut() else {
                continue;
            };
            if !w.visit(child_base) || !child.wrprotect(child_base, w) {
                return false;
            }
        }
        true
    }

    fn get(&self, gfn: u64) -> Pte {
        match &*self.next[index(gfn, Self::LEVEL)] {
            Some(child) => child.get(gfn),
            None => Pte::NONE,
        }
    }

    fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<Pte, NoSpare> {
        let slot = &mut *self.next[index(gfn, Self::LEVEL)];
        if slot.is_none() {
            if !pte.is_present() {
                return Ok(Pte::NONE);
            }
            *slot = Some(T::spare(spare).take().ok_or(NoSpare)?);
            c.tables_allocated += 1;
        }
        match slot {
            Some(child) => child.set(gfn, pte, spare, c),
            None => Ok(Pte::NONE),
        }
    }
}

/// Tables allocated ahead of a fault, outside the mirror lock: the lock is
/// a spinlock that invalidations take from reclaim, so nothing under it
/// may allocate.  One of each level covers any fault of up to 512 pages
/// aligned to 512.
#[derive(Default)]
pub(crate) struct Spare {
    l3: Option<PageBox<L3>>,
    l2: Option<PageBox<L2>>,
    l1: Option<PageBox<Leaf>>,
}

impl Spare {
    /// Allocates what is missing; sleeps.
    pub(crate) fn fill(&mut self) -> Result<(), AllocError> {
        fn fill<T: Zeroable>(s: &mut Option<PageBox<T>>) -> Result<(), AllocError> {
            // Charged to the caller's memory cgroup, as KVM charges its
            // shadow pages: a process mirroring terabytes of zero pages
            // pays for the tables itself.
            if s.is_none() {
                *s = Some(PageBox::new_zeroed()?);
            }
            Ok(())
        }
        fill(&mut self.l3)?;
        fill(&mut self.l2)?;
        fill(&mut self.l1)
    }

    /// Whether it holds no table.
    pub(crate) fn is_empty(&self) -> bool {
        self.l3.is_none() && self.l2.is_none() && self.l1.is_none()
    }

    /// Moves the tables of `other` that `self` lacks into `self`; what
    /// `self` has already stays in `other`, for the caller to free.
    pub(crate) fn keep_from(&mut self, other: &mut Spare) {
        if self.l3.is_none() {
            self.l3 = other.l3.take();
        }
        if self.l2.is_none() {
            self.l2 = other.l2.take();
        }
        if self.l1.is_none() {
            self.l1 = other.l1.take();
        }
    }
}

/// Every gfn the tree can map.
pub(crate) const ALL: GfnRange = GfnRange {
    start: 0,
    end: 1 << (pte::TABLE_BITS * LEVELS),
};

/// The tree: a root table and what hangs from it.
pub(crate) struct Tree {
    root: PageBox<Root>,
}

impl Tree {
    /// An empty tree; sleeps.
    pub(crate) fn new() -> Result<Tree, AllocError> {
        Ok(Tree {
            root: PageBox::new_zeroed()?,
        })
    }

    /// The entry for `gfn`.
    pub(crate) fn get(&self, gfn: u64) -> Pte {
        self.root.get(gfn)
    }

    /// Sets the entry for `gfn`, taking missing tables from `spare`;
    /// returns the old entry.
    pub(crate) fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<Pte, NoSpare> {
        self.root.set(gfn, pte, spare, c)
    }

    /// One batch of a zap of `w`'s range, freeing the tables wholly inside
    /// it if `free`; `false` if there is more.
    pub(crate) fn zap(&mut self, free: bool, w: &mut Walk) -> bool {
        self.root.zap(0, free, w)
    }

    /// One batch of a write-protection of `w`'s range; `false` if there is
    /// more.
    pub(crate) fn wrprotect(&mut self, w: &mut Walk) -> bool {
        self.root.wrprotect(0, w)
    }
}
