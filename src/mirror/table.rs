// SPDX-License-Identifier: GPL-2.0

//! The mirror's table: a 4-level radix tree of page-sized tables over
//! guest frame numbers (`src/pte.rs` has the entry format and the index
//! maths), and the batched walks that zap and write-protect it.
//!
//! As in x86's page tables, an entry of a level-2 or level-3 table is
//! either a pointer to a table one level down or a leaf: a 2 MiB or 1 GiB
//! entry, installed where the CPU maps a huge page ([`super::huge_entry`] says
//! when).  An invalidation acts on a huge entry whole, even one that
//! covers only part of it: zapping or write-protecting more than asked is
//! always safe for a secondary MMU, costs no allocation under the lock,
//! and the kernel splits its own huge mapping with an invalidation of all
//! of it before it changes part of it anyway.  Installing a smaller entry
//! inside a huge one splits it into the next size down, as KVM's
//! `tdp_mmu_split_huge_page()` does: the other pages stay mapped.
//!
//! Nothing here takes a lock or sleeps: the mirror calls it under its
//! spinlock, with the tables a fault needs allocated beforehand
//! ([`Spare`]), and frees what a batch took out ([`Graveyard`]) after it
//! gives the lock back.
//!
//! Pure `core` code over an allocator seam ([`super::alloc`]): in the
//! kernel a table is a page from the page allocator, in the host tests
//! (`rust/host/table_tests.rs`) a `Box`.

use super::alloc::{AllocError, PageBox, PageSlot, Slot, SlotMut, SlotRef, Zeroable};
use crate::pte::{self, index, span, GfnRange, Pte, LEVELS, MAX_LEAF_LEVEL, TABLE_ENTRIES};

/// Why [`Tree::set`] installed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetError {
    /// A table was needed and none was at hand in the [`Spare`].
    NoSpare,
    /// A 1 GiB entry would replace a table with more than
    /// [`BATCH_TABLES`] tables below it: counting out what hangs there is
    /// too much for a section under a spinlock, so the caller installs
    /// smaller entries instead.
    Occupied,
    /// An entry with no level the tree holds.
    BadLevel,
}

/// Counts taken while walking the tree, folded into the statistics.
/// Entries zapped, write-protected and faulted are counted in 4 KiB pages.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) zapped: u64,
    pub(crate) wrprotected: u64,
    pub(crate) tables_freed: u64,
    pub(crate) tables_allocated: u64,
    /// Pages installed or changed by [`Tree::set`].
    pub(crate) faulted: u64,
    /// The leaf entries installed or changed, of each size.
    pub(crate) installed: [u64; MAX_LEAF_LEVEL as usize],
    /// The change in present entries of each size: 4 KiB, 2 MiB, 1 GiB.
    pub(crate) present: [i64; MAX_LEAF_LEVEL as usize],
    /// Huge entries acted on whole by a walk that covered part of them.
    pub(crate) huge_partial: u64,
    /// Huge entries split to install a smaller entry inside.
    pub(crate) huge_splits: u64,
}

impl Counts {
    /// Counts `old` replaced by `new`, both entries of one place.
    fn replaced(&mut self, old: Pte, new: Pte) {
        if old.is_present() {
            self.present[old.level() as usize - 1] -= 1;
        }
        if new.is_present() {
            self.present[new.level() as usize - 1] += 1;
            if old != new {
                self.faulted += span(new.level());
                self.installed[new.level() as usize - 1] += 1;
            }
        }
    }

    /// Counts the removal of the present entry `old`.
    fn removed(&mut self, old: Pte) {
        self.zapped += span(old.level());
        self.present[old.level() as usize - 1] -= 1;
    }
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

/// A table taken out of the tree, dropped once the lock is given back.
#[must_use]
pub(crate) struct DeadTable(Option<Dead>);

impl Drop for DeadTable {
    fn drop(&mut self) {
        self.0.take();
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

    /// Sets the entry of `pte`'s level for `gfn`, taking missing tables
    /// from `spare` and leaving there a table it replaced.
    fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<(), SetError>;

    /// Fills the empty `self` with the entries `huge`, an entry of the
    /// level above, splits into: same pfns, same permissions, one size
    /// down.
    fn split_from(&mut self, huge: Pte);

    /// Counts out the present entries of `self`, a table a huge entry
    /// replaces, and the tables below it, which go with it.  `None`, and
    /// nothing changed, if that is too much work for a section under the
    /// mirror spinlock (see [`SetError::Occupied`]).
    fn clear_for_huge(&mut self, c: &mut Counts) -> Option<()>;

    /// The present entries of `self` if it is a leaf table.
    fn leaf_entries(&self) -> Option<i64>;
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
            let pte = Pte::from_raw(*p);
            if pte.is_present() {
                w.counts.removed(pte);
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
        c: &mut Counts,
    ) -> Result<(), SetError> {
        if pte.is_present() && pte.level() != Self::LEVEL {
            return Err(SetError::BadLevel);
        }
        let slot = &mut self.ptes[index(gfn, 1)];
        c.replaced(Pte::from_raw(*slot), pte);
        *slot = pte.raw();
        Ok(())
    }

    fn split_from(&mut self, huge: Pte) {
        for (i, p) in self.ptes.iter_mut().enumerate() {
            *p = huge.page(i as u64).at_level(1).unwrap_or(Pte::NONE).raw();
        }
    }

    fn clear_for_huge(&mut self, c: &mut Counts) -> Option<()> {
        // Cleared, so that the table may serve as a fault's spare.
        for p in &mut self.ptes {
            let pte = Pte::from_raw(*p);
            if pte.is_present() {
                c.present[0] -= 1;
            }
            *p = 0;
        }
        Some(())
    }

    fn leaf_entries(&self) -> Option<i64> {
        Some(
            self.ptes
                .iter()
                .filter(|p| Pte::from_raw(**p).is_present())
                .count() as i64,
        )
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
            match self.next[i].get_mut() {
                SlotMut::Empty => continue,
                SlotMut::Leaf(raw) => {
                    // A huge entry goes whole (see the file's comment).
                    if !w.range.covers(child_base, child_span) {
                        w.counts.huge_partial += 1;
                    }
                    w.counts.removed(Pte::from_raw(raw));
                    self.next[i].take();
                    continue;
                }
                SlotMut::Table(child) => {
                    if !w.visit(child_base) || !child.zap(child_base, free, w) {
                        return false;
                    }
                }
            }
            // Emptied by the walk: every table below it was inside the
            // range too, and went first.
            if free && w.range.covers(child_base, child_span) {
                if let Slot::Table(t) = self.next[i].take() {
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
            match self.next[i].get_mut() {
                SlotMut::Empty => {}
                SlotMut::Leaf(raw) => {
                    let pte = Pte::from_raw(raw);
                    if pte.is_writable() {
                        if !w.range.covers(child_base, child_span) {
                            w.counts.huge_partial += 1;
                        }
                        w.counts.wrprotected += child_span;
                        self.next[i].replace(Slot::Leaf(pte.wrprotect().raw()));
                    }
                }
                SlotMut::Table(child) => {
                    if !w.visit(child_base) || !child.wrprotect(child_base, w) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn get(&self, gfn: u64) -> Pte {
        match self.next[index(gfn, Self::LEVEL)].get() {
            SlotRef::Table(child) => child.get(gfn),
            SlotRef::Leaf(raw) => Pte::from_raw(raw).page(gfn & (span(Self::LEVEL) - 1)),
            SlotRef::Empty => Pte::NONE,
        }
    }

    fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<(), SetError> {
        let slot = &mut self.next[index(gfn, Self::LEVEL)];
        if pte.is_present() && pte.level() == Self::LEVEL {
            // A huge entry in this table.
            if let SlotMut::Table(child) = slot.get_mut() {
                child.clear_for_huge(c).ok_or(SetError::Occupied)?;
            }
            match slot.replace(Slot::Leaf(pte.raw())) {
                Slot::Empty => c.replaced(Pte::NONE, pte),
                Slot::Leaf(old) => c.replaced(Pte::from_raw(old), pte),
                Slot::Table(t) => {
                    c.replaced(Pte::NONE, pte);
                    c.tables_freed += 1;
                    spare.bury(T::dead(t));
                }
            }
            return Ok(());
        }
        if pte.is_present() && pte.level() > Self::LEVEL {
            return Err(SetError::BadLevel);
        }
        match slot.get() {
            SlotRef::Table(_) => {}
            SlotRef::Empty if !pte.is_present() => return Ok(()),
            SlotRef::Empty => {
                let t = T::spare(spare).take().ok_or(SetError::NoSpare)?;
                c.tables_allocated += 1;
                slot.replace(Slot::Table(t));
            }
            SlotRef::Leaf(raw) => {
                // Split: the other pages of the huge entry stay mapped.
                let mut t = T::spare(spare).take().ok_or(SetError::NoSpare)?;
                let huge = Pte::from_raw(raw);
                t.split_from(huge);
                c.tables_allocated += 1;
                c.huge_splits += 1;
                c.present[huge.level() as usize - 1] -= 1;
                c.present[huge.level() as usize - 2] += TABLE_ENTRIES as i64;
                slot.replace(Slot::Table(t));
            }
        }
        match slot.get_mut() {
            SlotMut::Table(child) => child.set(gfn, pte, spare, c),
            _ => Ok(()),
        }
    }

    fn split_from(&mut self, huge: Pte) {
        let child_span = span(Self::LEVEL);
        for (i, slot) in self.next.iter_mut().enumerate() {
            if let Some(pte) = huge.page(i as u64 * child_span).at_level(Self::LEVEL) {
                slot.replace(Slot::Leaf(pte.raw()));
            }
        }
    }

    fn clear_for_huge(&mut self, c: &mut Counts) -> Option<()> {
        // Leaf tables below it are scanned to count their entries out: at
        // most a batch's worth, as a zap visits (a GiB once mapped with
        // small entries, then cleared, keeps a few empty ones).
        let mut tables = 0;
        for slot in &self.next {
            if let SlotRef::Table(t) = slot.get() {
                tables += 1;
                if tables > BATCH_TABLES || t.leaf_entries().is_none() {
                    return None;
                }
            }
        }
        for slot in &mut self.next {
            match slot.get() {
                SlotRef::Empty => {}
                SlotRef::Leaf(_) => {
                    c.present[Self::LEVEL as usize - 1] -= 1;
                    slot.take();
                }
                SlotRef::Table(t) => {
                    // Freed with `self`, once the lock is given back.
                    c.present[0] -= t.leaf_entries().unwrap_or(0);
                    c.tables_freed += 1;
                }
            }
        }
        Some(())
    }

    fn leaf_entries(&self) -> Option<i64> {
        None
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
    /// A table a huge entry replaced, to be freed with the lock given
    /// back ([`Spare::take_dead`]).
    dead: Option<Dead>,
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
        self.l3.is_none() && self.l2.is_none() && self.l1.is_none() && self.dead.is_none()
    }

    /// Keeps `t`, emptied, for freeing later: a leaf table the fault has
    /// no more use for is kept as its spare instead.
    fn bury(&mut self, t: Dead) {
        match t {
            Dead::Leaf(t) if self.l1.is_none() => self.l1 = Some(t),
            t => self.dead = Some(t),
        }
    }

    /// What must be freed once the lock is given back.
    pub(crate) fn take_dead(&mut self) -> DeadTable {
        DeadTable(self.dead.take())
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

    /// Sets the entry of `pte`'s level for `gfn` (any gfn it covers),
    /// taking missing tables from `spare`.  A huge entry replaces a leaf
    /// table, which goes to `spare` (free it with the lock given back:
    /// [`Spare::take_dead`]); a smaller entry inside a huge one splits it
    /// first.  No entry changes on an error.
    pub(crate) fn set(
        &mut self,
        gfn: u64,
        pte: Pte,
        spare: &mut Spare,
        c: &mut Counts,
    ) -> Result<(), SetError> {
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
