// SPDX-License-Identifier: GPL-2.0

//! The mirror: a secondary page table of guest frames, kept coherent with
//! the address space by the memslots' MMU notifiers.
//!
//! The table is a 4-level radix tree of page-sized tables (`src/pte.rs`
//! has the format).  It holds no reference on any page: an entry stays
//! correct because every change to the CPU's page tables under it is
//! announced first to the invalidate callback, which takes the mirror
//! lock, so an entry seen under the lock is backed by the page it names.
//! Everything that reads a frame through the mirror does so under the
//! lock; that is the safety argument of the accesses in [`State::access`].

use crate::{
    ext::{
        debugfs,
        mmu_notifier::Walked,
        page_box::{PageBox, PageSlot},
        pfn, task,
    },
    memslot::Memslot,
    policy::{Action, Event},
    pte::{self, index, span, GfnRange, Pte, LEVELS, TABLE_ENTRIES},
    refcount::{classify, Facts},
    uapi,
};
use core::fmt::Write;
use kernel::{init::Zeroable, new_spinlock, prelude::*, sync::SpinLock};

/// Counts taken while walking the tree, folded into the statistics.
#[derive(Default)]
struct Counts {
    zapped: u64,
    wrprotected: u64,
    tables_freed: u64,
    tables_allocated: u64,
}

/// Most tables one batch of a zap or write-protection visits.  The mirror
/// lock is a spinlock, so a batch is a section with preemption off; the
/// lock is given back between batches, which bounds that section whatever
/// the size of the range (a RELEASE of a terabyte-sized mirror, the
/// deletion of a 64 GiB slot).  A table visit touches at most 512 entries.
const BATCH_TABLES: u32 = 8;

/// A zap or write-protection of a range, done in batches.
///
/// The walk visits gfns in increasing order, so when a batch stops, every
/// gfn of the range below `from` is done.
struct Walk {
    /// The whole range: tables wholly inside it are freed.
    range: GfnRange,
    /// Where the next batch starts.
    from: u64,
    /// Tables visited in this batch.
    work: u32,
    counts: Counts,
    /// Tables the batch took out of the tree, to be freed once the lock
    /// is given back: `kfree()` is not for a preempt-off section.
    dead: Graveyard,
}

impl Walk {
    fn new(range: GfnRange) -> Walk {
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
struct Graveyard {
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
    fn set(&mut self, gfn: u64, pte: Pte, spare: &mut Spare, c: &mut Counts) -> Result<Pte>;
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
#[derive(Zeroable)]
struct Leaf {
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

    fn set(&mut self, gfn: u64, pte: Pte, _spare: &mut Spare, _c: &mut Counts) -> Result<Pte> {
        let slot = &mut self.ptes[index(gfn, 1)];
        let old = Pte::from_raw(*slot);
        *slot = pte.raw();
        Ok(old)
    }
}

/// A directory table: 512 pointers to tables of the level below.
#[derive(Zeroable)]
struct Dir<T: Zeroable> {
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

    fn set(&mut self, gfn: u64, pte: Pte, spare: &mut Spare, c: &mut Counts) -> Result<Pte> {
        let slot = &mut *self.next[index(gfn, Self::LEVEL)];
        if slot.is_none() {
            if !pte.is_present() {
                return Ok(Pte::NONE);
            }
            *slot = Some(T::spare(spare).take().ok_or(ENOMEM)?);
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
    pub(crate) fn fill(&mut self) -> Result {
        fn fill<T: Zeroable>(s: &mut Option<PageBox<T>>) -> Result {
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
}

/// Every gfn the tree can map.
const ALL: GfnRange = GfnRange {
    start: 0,
    end: 1 << (pte::TABLE_BITS * LEVELS),
};

/// A pfn cache, under the mirror lock: its view of its page (what
/// `gfn_to_pfn_cache` keeps under its rwlock) and the mapping of a bare
/// pfn it reads the page through.  The mapping lives here, with the view,
/// so that the view can never outlive it: a mapping is taken out only
/// under the lock, with the view already invalid, and dropped (which
/// sleeps) after the lock is released.
#[derive(Default)]
struct Cache {
    /// The invalidate callback clears this for any event on the page, and
    /// deleting the memslot clears it for the slot's frames.
    valid: bool,
    /// [`State::slots_gen`] when the view was made: the view is good only
    /// for the memslot layout it was made under, as a `gfn_to_pfn_cache`
    /// is for its `memslots` generation.
    gen: u64,
    /// Writable: made by a write walk.
    writable: bool,
    /// The guest frame cached.
    gfn: u64,
    /// Its user address.
    hva: u64,
    /// The page frame.
    pfn: u64,
    /// Whether a write must mark the page dirty: a struct page, reached
    /// through the direct map, that may be dirtied.
    dirty_tracked: bool,
    /// For a bare pfn, its mapping; `None` for a page with a struct page,
    /// reached through the direct map.
    map: Option<pfn::Remap>,
}

impl Cache {
    /// Whether the view may be used for `gfn` (for writing if `write`) in
    /// memslot layout `gen`.
    fn usable(&self, gen: u64, gfn: u64, write: bool) -> bool {
        self.valid && self.gen == gen && self.gfn == gfn && (self.writable || !write)
    }

    /// The kernel address of the page.
    fn kva(&self) -> usize {
        match &self.map {
            Some(map) => map.address(),
            None => pfn::direct_map_address(self.pfn),
        }
    }
}

/// The mirror's state, under its lock.
pub(crate) struct State {
    root: PageBox<Root>,
    stats: uapi::guestmap_stats,
    released: bool,
    caches: [Cache; uapi::GUESTMAP_NR_CACHES as usize],
    /// Bumped by every memslot creation and deletion.
    slots_gen: u64,
}

impl State {
    fn account(&mut self, c: Counts) {
        let s = &mut self.stats;
        s.entries_zapped += c.zapped;
        s.entries_wrprotected += c.wrprotected;
        s.tables_allocated += c.tables_allocated;
        s.tables_freed += c.tables_freed;
        s.entries_present -= c.zapped;
    }

    /// Invalidates every pfn cache of a page in the user range
    /// `start..end`, whatever the event: a cache holds no reference and
    /// no permission it could keep.
    pub(crate) fn invalidate_caches(&mut self, start: u64, end: u64) {
        for c in self.caches.iter_mut() {
            if c.valid && c.hva < end && start < c.hva + (1 << pte::PAGE_SHIFT) {
                c.valid = false;
            }
        }
    }

    /// Records a memslot creation: views made before it are stale.
    pub(crate) fn add_slot(&mut self) {
        self.slots_gen += 1;
    }

    /// The pfn pfn cache `i` keeps a mapping of, if any.
    pub(crate) fn cache_map_pfn(&self, i: usize) -> Option<u64> {
        self.caches.get(i)?.map.as_ref().map(pfn::Remap::pfn)
    }

    /// Reads or writes `off..off + len` of guest frame `gfn` through pfn
    /// cache `i`, the check of `kvm_gpc_check()` and the access under one
    /// hold of the lock; `EAGAIN` if the cache must be refreshed first.
    pub(crate) fn cache_access(&self, i: usize, gfn: u64, off: usize, buf: Access<'_>) -> Result {
        let c = self.caches.get(i).ok_or(EINVAL)?;
        let write = matches!(buf, Access::Write(_));
        if !c.usable(self.slots_gen, gfn, write) {
            return Err(EAGAIN);
        }
        match buf {
            Access::Read(b) => {
                // SAFETY: the view is valid and of the current memslot
                // layout under the mirror lock, so its page is still what
                // the CPU maps at `c.hva` of a slot that still exists: the
                // slot's notifier clears the view under this lock before
                // any change, and deleting the slot clears it and bumps
                // the generation.  The mapping it is read through is the
                // direct map of a struct page or `c.map`, which lives as
                // long as the view (`Cache`).
                #[allow(unsafe_code)]
                unsafe {
                    pfn::read_kva(c.kva(), off, b)
                }
            }
            Access::Write(b) => {
                // SAFETY: as for reads; the view is writable only if made
                // by a write walk, so the CPU pte is writable.
                #[allow(unsafe_code)]
                unsafe {
                    pfn::write_kva(c.kva(), off, b)?
                };
                if c.dirty_tracked {
                    // SAFETY: the view is valid under the mirror lock, so
                    // its page is mapped by the pte it was made from: it
                    // cannot be freed or truncated before the invalidation,
                    // which waits for this lock.  Dirty-tracked only if the
                    // page may be dirtied.
                    #[allow(unsafe_code)]
                    unsafe {
                        pfn::mark_dirty(c.pfn)
                    };
                }
                Ok(())
            }
        }
    }

    /// Takes out the mappings of the pfn caches whose views are no longer
    /// valid, for the caller to drop once it has released the lock.  A
    /// mapping of a page nobody may use through it any more should not
    /// stay: the page may be freed and reused with another memory type.
    pub(crate) fn take_stale_maps(&mut self) -> Stale {
        let gen = self.slots_gen;
        let mut stale = Stale::default();
        for (c, s) in self.caches.iter_mut().zip(stale.0.iter_mut()) {
            if !c.valid || c.gen != gen {
                *s = c.map.take();
            }
        }
        stale
    }

    /// Counts an invalidation of `event` (`None`: unknown to us).
    pub(crate) fn count_invalidation(&mut self, event: Option<Event>, blockable: bool) {
        if let Some(e) = event {
            self.stats.invalidations[e as usize] += 1;
        }
        if !blockable {
            self.stats.nonblocking += 1;
        }
    }

    /// Does one batch of `action` on `w`; `false` if there is more.
    fn apply_batch(&mut self, action: Action, w: &mut Walk) -> bool {
        let done = match action {
            Action::ZapAndFree | Action::Release => self.root.zap(0, true, w),
            Action::Zap => self.root.zap(0, false, w),
            Action::WriteProtect => self.root.wrprotect(0, w),
            Action::Ignore => true,
        };
        self.account(core::mem::take(&mut w.counts));
        w.work = 0;
        done
    }

    /// Removes a deleted slot's cache views.  Once the slot's notifier is
    /// gone nothing would tell them that their page was unmapped or freed;
    /// [`Mirror::apply`] with [`Action::ZapAndFree`] removes its entries
    /// and tables.
    pub(crate) fn remove_slot(&mut self, gfns: GfnRange) {
        self.slots_gen += 1;
        for c in self.caches.iter_mut() {
            if gfns.start <= c.gfn && c.gfn < gfns.end {
                c.valid = false;
            }
        }
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
        self.root.get(gfn)
    }

    /// Installs `pte` for `gfn` with tables from `spare`; returns whether
    /// the entry changed.  Private: only [`Mirror::install`] installs, from
    /// a walk it checked.
    fn set_entry(&mut self, gfn: u64, pte: Pte, spare: &mut Spare) -> Result<bool> {
        let mut c = Counts::default();
        let old = self.root.set(gfn, pte, spare, &mut c);
        self.account(c);
        let old = old?;
        if !old.is_present() {
            self.stats.entries_present += 1;
        }
        if old != pte {
            self.stats.pages_faulted += 1;
        }
        Ok(old != pte)
    }

    /// Whether every entry of `gfns` is present, and writable if `write`:
    /// then a fault of `gfns` has nothing to do.
    pub(crate) fn is_mapped(&self, gfns: GfnRange, write: bool) -> bool {
        (gfns.start..gfns.end).all(|gfn| {
            let pte = self.get(gfn);
            pte.is_present() && (pte.is_writable() || !write)
        })
    }

    /// Counts a fault request.
    pub(crate) fn count_fault(&mut self) {
        self.stats.faults += 1;
    }

    /// Counts a fault attempt redone because an invalidation raced it.
    pub(crate) fn count_retry(&mut self) {
        self.stats.retries += 1;
    }

    /// The statistics.
    pub(crate) fn stats(&self) -> uapi::guestmap_stats {
        self.stats
    }

    /// Reads or writes the bytes `off..off + len` of the frame mapped at
    /// `gfn`, if the entry allows it and the frame is in the direct map;
    /// `EAGAIN` otherwise (fault it, or use [`State::access_remapped`]).
    pub(crate) fn access(&self, gfn: u64, off: usize, buf: Access<'_>) -> Result {
        let pte = self.get(gfn);
        match (pte.class(), buf) {
            (Some(pte::PfnClass::Page | pte::PfnClass::Zero), Access::Read(b)) => {
                // SAFETY: the entry is present under the mirror lock, so
                // the page is still the one the CPU maps at that address:
                // before it could be unmapped or freed, the invalidation
                // would have removed the entry, and it waits for the lock.
                // Pages with a struct page are in the direct map.
                #[allow(unsafe_code)]
                unsafe {
                    pfn::read_kva(pfn::direct_map_address(pte.pfn()), off, b)
                }
            }
            (Some(pte::PfnClass::Page), Access::Write(b)) if pte.is_writable() => {
                // SAFETY: as for reads; and the entry is writable, so the
                // CPU's pte is writable too (write faults set both, and
                // every write-protection reaches the mirror first).
                #[allow(unsafe_code)]
                unsafe {
                    pfn::write_kva(pfn::direct_map_address(pte.pfn()), off, b)?
                };
                // The pte may be writable but clean (MADV_FREE, a read
                // fault of shmem, a swap-in): only the folio's dirty flag
                // keeps reclaim from discarding what was just written.
                //
                // SAFETY: the entry is present under the mirror lock.
                #[allow(unsafe_code)]
                if unsafe { may_dirty(pte.pfn()) } {
                    // SAFETY: the entry is present under the mirror lock,
                    // so the page is mapped by the pte it was made from,
                    // which the slot's notifier watches: it cannot be freed
                    // or truncated before the invalidation, which waits for
                    // this lock.
                    #[allow(unsafe_code)]
                    unsafe {
                        pfn::mark_dirty(pte.pfn())
                    };
                }
                Ok(())
            }
            _ => Err(EAGAIN),
        }
    }

    /// Like [`State::access`], through `map` for a bare pfn.
    pub(crate) fn access_remapped(
        &self,
        gfn: u64,
        map: &pfn::Remap,
        off: usize,
        buf: Access<'_>,
    ) -> Result {
        let pte = self.get(gfn);
        if pte.class() != Some(pte::PfnClass::PfnMap) || pte.pfn() != map.pfn() {
            return Err(EAGAIN);
        }
        match buf {
            Access::Read(b) => {
                // SAFETY: the entry still maps this pfn under the mirror
                // lock, so the CPU still maps it there: zapping the pfnmap
                // reaches the mirror first.
                #[allow(unsafe_code)]
                unsafe {
                    map.read(off, b)
                }
            }
            Access::Write(b) if pte.is_writable() => {
                // SAFETY: as for reads, and the CPU pte is writable.
                #[allow(unsafe_code)]
                unsafe {
                    map.write(off, b)
                }
            }
            Access::Write(_) => Err(EAGAIN),
        }
    }
}

/// Whether the page of `pfn` may be marked dirty (`src/refcount.rs`).
///
/// # Safety
///
/// `pfn` is the page of a mirror entry or cache view that is valid under
/// the mirror lock the caller holds, so the page keeps its identity for
/// the call.
#[allow(unsafe_code)]
unsafe fn may_dirty(pfn: u64) -> bool {
    // SAFETY: the page keeps its identity (the caller's contract).
    let facts = unsafe { pfn::facts(pfn) };
    classify(Facts::from_raw(facts)).may_dirty
}

/// The mappings [`State::take_stale_maps`] took out, dropped (which
/// sleeps) wherever this is dropped: after the mirror lock is released.
#[derive(Default)]
pub(crate) struct Stale([Option<pfn::Remap>; uapi::GUESTMAP_NR_CACHES as usize]);

/// A guest access: the buffer to fill or to copy from.
pub(crate) enum Access<'a> {
    /// Guest read, into the buffer.
    Read(&'a mut [u8]),
    /// Guest write, from the buffer.
    Write(&'a [u8]),
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
        let root = PageBox::new_zeroed()?;
        let state = State {
            root,
            stats: uapi::guestmap_stats::default(),
            released: false,
            caches: Default::default(),
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
    /// [`BATCH_TABLES`] tables with the lock given back in between; with
    /// `may_sleep`, also yields the CPU between batches.
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
    /// * for a deleted slot, faults are serialised by the context mutex
    ///   the caller holds, and the slot's notifier still watches;
    /// * the walk keeps no pointer into the tree across batches: each one
    ///   starts again from the root at the first gfn not yet done.
    pub(crate) fn apply<'a>(
        &'a self,
        mut state: StateGuard<'a>,
        action: Action,
        gfns: GfnRange,
        may_sleep: bool,
    ) {
        let range = match action {
            Action::Release => {
                state.release();
                ALL
            }
            _ => gfns,
        };
        let mut w = Walk::new(range);
        loop {
            let done = state.apply_batch(action, &mut w);
            let dead = core::mem::take(&mut w.dead);
            drop(state);
            drop(dead);
            if done {
                return;
            }
            if may_sleep {
                task::cond_resched();
            }
            state = self.lock();
        }
    }

    /// Installs what `walked` found at guest frames from `gfn` of `slot`,
    /// mapped for writing if `write`, with tables from `spare`: `Ok(false)`
    /// if an invalidation ran since the walk, which must be redone.  The
    /// one way entries get into the mirror, so none is ever made from a
    /// stale walk or another slot's.
    pub(crate) fn install(
        &self,
        slot: &Memslot,
        walked: &Walked<'_>,
        gfn: u64,
        write: bool,
        spare: &mut Spare,
    ) -> Result<bool> {
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
        let mut state = self.lock();
        if state.is_released() {
            return Err(ESRCH);
        }
        if !slot.is_current(walked) {
            state.count_retry();
            return Ok(false);
        }
        for (gfn, cpu) in (gfn..).zip(walked.ptes()) {
            if !cpu.is_valid() {
                return Err(EFAULT);
            }
            let class = if cpu.is_special() {
                pte::PfnClass::PfnMap
            } else if cpu.is_zero() {
                pte::PfnClass::Zero
            } else {
                pte::PfnClass::Page
            };
            // Writable only if asked for, and walked for write (checked
            // above): a read walk may see a writable but clean pte, and
            // only a write walk has the CPU's write permission behind it.
            let writable = write && cpu.is_writable() && class != pte::PfnClass::Zero;
            let pte = Pte::new(cpu.pfn(), writable, class).ok_or(EFAULT)?;
            state.set_entry(gfn, pte, spare)?;
        }
        Ok(true)
    }

    /// Makes pfn cache `i` a view of what `walked` found at guest frame
    /// `gfn` of `slot` (one page), writable if `write`.  A bare pfn needs a
    /// mapping: the one the cache keeps if it maps the same pfn, else
    /// `map`.  `Ok(false)` if the walk must be redone (an invalidation ran
    /// since, or no mapping of the pfn is at hand).  Whatever mapping this
    /// displaces is dropped after the lock is released.
    pub(crate) fn install_view(
        &self,
        slot: &Memslot,
        walked: &Walked<'_>,
        i: usize,
        gfn: u64,
        write: bool,
        mut map: Option<pfn::Remap>,
    ) -> Result<bool> {
        let desc = slot.data().desc();
        let hva = desc.map.gfn_to_hva(gfn);
        let [cpu] = walked.ptes() else {
            return Err(EINVAL);
        };
        if !core::ptr::eq(slot.data().mirror(), self)
            || !desc.map.contains(GfnRange {
                start: gfn,
                end: gfn + 1,
            })
            || walked.start() != hva
            || i >= uapi::GUESTMAP_NR_CACHES as usize
            || (write && !walked.is_write())
        {
            return Err(EINVAL);
        }
        if write && desc.readonly {
            return Err(EPERM);
        }
        if !cpu.is_valid() {
            return Err(EFAULT);
        }
        let mut state = self.lock();
        if !slot.is_current(walked) {
            return Ok(false);
        }
        let special = cpu.is_special();
        // SAFETY: `walked` is current under the mirror lock: the page is
        // mapped by the CPU pte it was walked from.
        #[allow(unsafe_code)]
        let dirty_tracked = !special && unsafe { may_dirty(cpu.pfn()) };
        let gen = state.slots_gen;
        let c = &mut state.caches[i];
        let displaced = if !special {
            c.map.take()
        } else if c.map.as_ref().map(pfn::Remap::pfn) == Some(cpu.pfn()) {
            None
        } else if map.as_ref().map(pfn::Remap::pfn) == Some(cpu.pfn()) {
            // The old view goes with its mapping.
            c.valid = false;
            core::mem::replace(&mut c.map, map.take())
        } else {
            return Ok(false);
        };
        c.valid = true;
        c.gen = gen;
        c.writable = write && cpu.is_writable();
        c.gfn = gfn;
        c.hva = hva;
        c.pfn = cpu.pfn();
        c.dirty_tracked = dirty_tracked;
        drop(state);
        drop(displaced);
        drop(map);
        Ok(true)
    }

    /// Drops the mappings of pfn caches whose views are gone.
    pub(crate) fn trim_caches(&self) {
        let stale = self.lock().take_stale_maps();
        drop(stale);
    }

    /// An identity for `mmu_notifier_range.owner` comparisons.
    pub(crate) fn owner(&self) -> *const core::ffi::c_void {
        core::ptr::from_ref(self).cast()
    }
}

impl debugfs::Show for Mirror {
    fn show(&self, m: &mut debugfs::SeqFile<'_>) -> core::fmt::Result {
        let s = self.lock().stats();
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
        writeln!(m, "entries_present: {}", s.entries_present)
    }
}
