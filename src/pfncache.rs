// SPDX-License-Identifier: GPL-2.0

//! Pfn caches: a guest page kept mapped in the kernel, holding no pin,
//! made invalid by the memslot's notifier on any event touching it, as
//! KVM's `gfn_to_pfn_cache` (virt/kvm/pfncache.c).
//!
//! The views ([`Views`]: valid, gfn, pfn, the mapping of a bare pfn) live
//! in the mirror's state, under the mirror lock, which the invalidate
//! callback takes; a refresh that finds the same pfn keeps the mapping:
//! PFN-only memory pays for mapping once, not per access.
//!
//! Check: under the mirror lock, the view is valid, was made under the
//! current memslot layout, is for this gfn (and writable for a write) ->
//! use it, still under the lock.  Refresh: with no lock held,
//! `read_begin`, walk the CPU page table, map; then under the lock install
//! only if `read_retry` says no invalidation ran.  Two refreshes of one
//! cache may run at once (two threads of the context); the later one
//! displaces the earlier one's view, as two vCPUs sharing one
//! `gfn_to_pfn_cache` would.
//!
//! What ends a view's page, and why a stale view is never used:
//!
//! * munmap, mremap, mprotect, fork, reclaim, migration, exit (RELEASE):
//!   the memslot's notifier clears the view under the lock before the
//!   CPU's page tables change;
//! * the memslot deleted (and perhaps re-created at the same gpa on other
//!   memory, perhaps READONLY): deletion waits for every access of the
//!   context (`src/slot_table.rs`), clears the views of the slot's frames
//!   under the lock while its notifier still watches, and bumps the layout
//!   generation that every check compares, as `kvm_gpc_check()` compares
//!   the memslots generation;
//! * the context closed or the module unloaded: the caches live in the
//!   context, which an open file keeps, and an open file pins the module.

use crate::{
    memslot::Memslot,
    pte::{GfnRange, PAGE_SHIFT},
    sys::{
        frame::{Access, Frame, FrameError, Remap},
        trace,
        walk::{self, CpuPte, WalkError, Walked},
    },
    uapi,
};
use kernel::prelude::*;

/// Gives up after this many refreshes undone by invalidations.
const MAX_TRIES: u32 = 1000;

/// How many caches `GUESTMAP_ACCESS` names.
pub(crate) const NR_CACHES: usize = uapi::GUESTMAP_NR_CACHES as usize;

/// The caches a nested vCPU has besides its first: room for the pages a
/// running L2 uses in place (nested VMX's virtual-APIC page,
/// posted-interrupt descriptor and APIC-access page) and its current
/// enlightened VMCS.
pub(crate) const VCPU_EXTRA_VIEWS: usize = 4;

/// The caches of the guest page-table walk cache: one per level
/// (`src/nested/walk/`).
pub(crate) const WALK_VIEWS: usize = uapi::GUESTMAP_WALK_MAX_LEVELS as usize;

/// How many caches a context has: those, then one per nested vCPU, then
/// each vCPU's extra ones (`src/nested/vcpus.rs`), then the walk cache's.
pub(crate) const NR_VIEWS: usize =
    NR_CACHES + (1 + VCPU_EXTRA_VIEWS) * uapi::GUESTMAP_MAX_VCPUS as usize + WALK_VIEWS;

/// The walk cache's view of the tables of `level` (1 to
/// [`WALK_VIEWS`]; the walker has no other levels).
pub(crate) fn walk_view(level: u32) -> usize {
    debug_assert!((1..=WALK_VIEWS).contains(&(level as usize)));
    NR_VIEWS - WALK_VIEWS + (level as usize).clamp(1, WALK_VIEWS) - 1
}

/// One pfn cache's view of its page (what `gfn_to_pfn_cache` keeps under
/// its rwlock) and the mapping of a bare pfn it reads the page through.
/// The mapping lives here, with the view, so that the view can never
/// outlive it: a mapping is taken out only under the lock, with the view
/// already invalid, and dropped (which sleeps) after the lock is released.
#[derive(Default)]
pub(crate) struct View {
    /// The invalidate callback clears this for any event on the page, and
    /// deleting the memslot clears it for the slot's frames.
    valid: bool,
    /// The memslot layout generation when the view was made.
    gen: u64,
    /// Writable: made by a write walk of a writable pte.
    writable: bool,
    /// The guest frame cached.
    gfn: u64,
    /// Its user address.
    hva: u64,
    /// The page frame.
    pfn: u64,
    /// For a bare pfn, its mapping; `None` for a page with a struct page,
    /// reached through the direct map.
    map: Option<Remap>,
    /// The shared zero page.
    zero: bool,
}

impl View {
    /// The pfn.
    pub(crate) fn pfn(&self) -> u64 {
        self.pfn
    }

    /// The mapping of a bare pfn; `None` for the direct map.
    pub(crate) fn map(&self) -> Option<&Remap> {
        self.map.as_ref()
    }
}

/// What one [`Views::install`] makes a view of.
pub(crate) struct NewView {
    /// The memslot layout generation it was checked under.
    pub(crate) gen: u64,
    /// Writable.
    pub(crate) writable: bool,
    /// Guest frame, user address and pfn.
    pub(crate) gfn: u64,
    /// The user address of `gfn`.
    pub(crate) hva: u64,
    /// The pfn the walk found.
    pub(crate) pfn: u64,
    /// Whether it is a bare pfn, read through a mapping.
    pub(crate) special: bool,
    /// Whether it is the shared zero page.
    pub(crate) zero: bool,
}

/// The views of a context's pfn caches, under the mirror lock.
pub(crate) struct Views([View; NR_VIEWS]);

impl Default for Views {
    fn default() -> Self {
        Views(core::array::from_fn(|_| View::default()))
    }
}

/// The mappings [`Views::take_stale`] took out, dropped (which sleeps)
/// wherever this is dropped: after the mirror lock is released.
pub(crate) struct Stale([Option<Remap>; NR_VIEWS]);

impl Default for Stale {
    fn default() -> Self {
        Stale(core::array::from_fn(|_| None))
    }
}

impl Views {
    /// Invalidates every view of a page in the user range `start..end`,
    /// telling `each` the cache and the guest frame of each.
    pub(crate) fn invalidate(&mut self, start: u64, end: u64, mut each: impl FnMut(usize, u64)) {
        for (i, c) in self.0.iter_mut().enumerate() {
            if c.valid && c.hva < end && start < c.hva + (1 << PAGE_SHIFT) {
                c.valid = false;
                each(i, c.gfn);
            }
        }
    }

    /// Invalidates every view of a frame of `gfns` (a deleted slot's), as
    /// [`Views::invalidate`] does.
    pub(crate) fn remove_gfns(&mut self, gfns: GfnRange, mut each: impl FnMut(usize, u64)) {
        for (i, c) in self.0.iter_mut().enumerate() {
            if gfns.start <= c.gfn && c.gfn < gfns.end {
                if c.valid {
                    each(i, c.gfn);
                }
                c.valid = false;
            }
        }
    }

    /// What the CPU maps where view `i` looks, `GUESTMAP_CLASS_*`.
    pub(crate) fn kind(&self, i: usize) -> u32 {
        match self.0.get(i) {
            Some(c) if c.map.is_some() => uapi::GUESTMAP_CLASS_PFNMAP,
            Some(c) if c.zero => uapi::GUESTMAP_CLASS_ZERO,
            Some(_) => uapi::GUESTMAP_CLASS_PAGE,
            None => 0,
        }
    }

    /// Takes out the mappings of the views no longer valid in layout
    /// `gen`, for the caller to drop once it has released the lock.  A
    /// mapping of a page nobody may use through it any more should not
    /// stay: the page may be freed and reused with another memory type.
    pub(crate) fn take_stale(&mut self, gen: u64) -> Stale {
        let mut stale = Stale::default();
        for (c, s) in self.0.iter_mut().zip(stale.0.iter_mut()) {
            if !c.valid || c.gen != gen {
                *s = c.map.take();
            }
        }
        stale
    }

    /// Invalidates view `i`: its user is gone.  Its mapping goes with the
    /// next [`Views::take_stale`].  Returns the guest frame it was valid
    /// for, if it was.
    pub(crate) fn forget(&mut self, i: usize) -> Option<u64> {
        let c = self.0.get_mut(i)?;
        let was = c.valid.then_some(c.gfn);
        c.valid = false;
        was
    }

    /// Invalidates the views made before memslot layout `gen`, as
    /// [`Views::invalidate`] does: they are unusable from now on anyway
    /// ([`Views::usable`]), and this says so.
    pub(crate) fn outdate(&mut self, gen: u64, mut each: impl FnMut(usize, u64)) {
        for (i, c) in self.0.iter_mut().enumerate() {
            if c.valid && c.gen != gen {
                c.valid = false;
                each(i, c.gfn);
            }
        }
    }

    /// The pfn cache `i` keeps a mapping of, if any.
    pub(crate) fn map_pfn(&self, i: usize) -> Option<u64> {
        self.0.get(i)?.map.as_ref().map(Remap::pfn)
    }

    /// View `i`, if it may be used for `gfn` (for writing if `write`) in
    /// memslot layout `gen`: the check of `kvm_gpc_check()`.
    pub(crate) fn usable(&self, i: usize, gen: u64, gfn: u64, write: bool) -> Option<&View> {
        let c = self.0.get(i)?;
        (c.valid && c.gen == gen && c.gfn == gfn && (c.writable || !write)).then_some(c)
    }

    /// Makes view `i` the view `new`.  A bare pfn needs a mapping: the one
    /// the view keeps if it maps the same pfn, else `map`, which must then
    /// map it.  Returns what the caller drops once the lock is released
    /// (the displaced mapping, or `map` unused), or gives `map` back if it
    /// does not map the pfn.
    fn install(
        &mut self,
        i: usize,
        new: NewView,
        mut map: Option<Remap>,
    ) -> Result<[Option<Remap>; 2], Option<Remap>> {
        let Some(c) = self.0.get_mut(i) else {
            return Err(map);
        };
        let displaced = if !new.special {
            c.map.take()
        } else if c.map.as_ref().map(Remap::pfn) == Some(new.pfn) {
            None
        } else if map.as_ref().map(Remap::pfn) == Some(new.pfn) {
            // The old view goes with its mapping.
            c.valid = false;
            core::mem::replace(&mut c.map, map.take())
        } else {
            return Err(map);
        };
        // A read refresh racing a write refresh of the same page keeps the
        // write permission: a view still valid under the lock is what the
        // CPU maps (any change would have invalidated it).
        let keep_write =
            c.valid && c.writable && c.gen == new.gen && c.gfn == new.gfn && c.pfn == new.pfn;
        c.valid = true;
        c.gen = new.gen;
        c.writable = new.writable || keep_write;
        c.gfn = new.gfn;
        c.hva = new.hva;
        c.pfn = new.pfn;
        c.zero = new.zero;
        Ok([displaced, map])
    }
}

/// One pfn cache access: cache `cache` of `slot`'s mirror, guest frame
/// `gfn`, bytes from `off`.
pub(crate) struct CacheAccess<'a> {
    /// The slot holding `gfn`.
    pub(crate) slot: &'a Memslot,
    /// Which cache, below [`NR_VIEWS`].
    pub(crate) cache: usize,
    /// The guest frame.
    pub(crate) gfn: u64,
    /// The first byte in it.
    pub(crate) off: usize,
}

impl CacheAccess<'_> {
    /// Performs `acc` through the cache, refreshing it first if needed;
    /// `walk` is room for a one-page walk.  Returns whether it had to be
    /// refreshed.
    pub(crate) fn run(&self, acc: &mut Access<'_>, walk: &mut [CpuPte]) -> Result<bool> {
        let write = acc.is_write();
        self.run_as(acc, walk, write)
    }

    /// [`CacheAccess::run`], through a view made for writing if `write`,
    /// whatever `acc` is: a reader that will write the page later (as
    /// `kvm_vcpu_map()` maps for writing) must not succeed on a page it
    /// could not write.
    pub(crate) fn run_as(
        &self,
        acc: &mut Access<'_>,
        walk: &mut [CpuPte],
        write: bool,
    ) -> Result<bool> {
        let write = write || acc.is_write();
        let off = self.off;
        self.with_frame(walk, write, |frame| frame.access(off, acc))
            .map(|((), refreshed)| refreshed)
    }

    /// Runs `f` on the cache's frame, under the mirror lock, through a
    /// view made for writing if `write`, refreshing the cache first if
    /// needed; `walk` is room for a one-page walk.  Returns what `f`
    /// returned and whether the cache had to be refreshed.  `f` runs
    /// under a spinlock: it must not sleep.
    pub(crate) fn with_frame<R>(
        &self,
        walk: &mut [CpuPte],
        write: bool,
        f: impl FnMut(&Frame<'_>) -> Result<R, FrameError>,
    ) -> Result<(R, bool)> {
        let mirror = self.slot.data().mirror();
        trace::map_start(mirror, self.gfn, write);
        let mut kind = 0;
        let ret = self.frame_or_refresh(walk, write, &mut kind, f);
        let (path, errno) = match &ret {
            Ok((_, false)) => (uapi::GUESTMAP_VIA_CACHE, 0),
            Ok((_, true)) => (uapi::GUESTMAP_VIA_CACHE_REFRESH, 0),
            Err(e) => (0, e.to_errno()),
        };
        trace::map(mirror, self.gfn, write, kind, path, errno);
        ret
    }

    /// [`CacheAccess::with_frame`], telling `kind` what the view looks at
    /// if the tracepoint wants to know.
    fn frame_or_refresh<R>(
        &self,
        walk: &mut [CpuPte],
        write: bool,
        kind: &mut u32,
        mut f: impl FnMut(&Frame<'_>) -> Result<R, FrameError>,
    ) -> Result<(R, bool)> {
        let mirror = self.slot.data().mirror();
        let want_kind = trace::map_enabled();
        let mut refreshed = false;
        for _ in 0..MAX_TRIES {
            {
                let state = mirror.lock();
                if let Some(frame) = state.view_frame(self.cache, self.gfn, write) {
                    let r = f(&frame)?;
                    if want_kind {
                        *kind = state.views().kind(self.cache);
                    }
                    return Ok((r, refreshed));
                }
            }
            self.refresh(write, walk)?;
            refreshed = true;
        }
        Err(EAGAIN)
    }

    fn refresh(&self, write: bool, walk: &mut [CpuPte]) -> Result {
        let slot = self.slot;
        let mirror = slot.data().mirror();
        let desc = slot.data().desc();
        if write && desc.readonly {
            return Err(EPERM);
        }
        let hva = desc.map.gfn_to_hva(self.gfn);
        let out = walk.get_mut(..1).ok_or(EINVAL)?;
        loop {
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            let seq = slot.read_begin();
            let walked = match walk::walk(
                slot,
                seq,
                hva,
                hva + (1 << PAGE_SHIFT),
                write,
                mirror.owner(),
                &mut *out,
            ) {
                Err(WalkError::Raced) => continue,
                ret => ret?,
            };
            let [cpu] = walked.ptes() else {
                return Err(EINVAL);
            };
            if !cpu.is_valid() {
                return Err(EFAULT);
            }
            // A bare pfn needs a mapping, made outside the lock (it sleeps)
            // unless the cache keeps one of the same pfn.
            let mut map = None;
            if cpu.is_special() && mirror.lock().views().map_pfn(self.cache) != Some(cpu.pfn()) {
                match Remap::new(cpu.pfn()) {
                    Ok(m) => map = Some(m),
                    // The frame may have changed since the walk (a free
                    // page leaves the direct map under DEBUG_PAGEALLOC):
                    // walk again if so, else the frame cannot be mapped.
                    Err(e) => {
                        let current = {
                            let _state = mirror.lock();
                            walked.is_current(slot)
                        };
                        if current {
                            return Err(e);
                        }
                        continue;
                    }
                }
            }
            if self.install(&walked, write, map)? {
                return Ok(());
            }
        }
    }

    /// Makes the cache a view of what `walked` found (one page), writable
    /// if `write`, with `map` for a bare pfn the cache has no mapping of.
    /// `Ok(false)` if the walk must be redone (an invalidation ran since,
    /// or no mapping of the pfn is at hand).  Whatever mapping this
    /// displaces is dropped after the lock is released.
    fn install(&self, walked: &Walked<'_>, write: bool, map: Option<Remap>) -> Result<bool> {
        let slot = self.slot;
        let mirror = slot.data().mirror();
        let desc = slot.data().desc();
        let hva = desc.map.gfn_to_hva(self.gfn);
        let [cpu] = walked.ptes() else {
            return Err(EINVAL);
        };
        if !desc.map.contains(GfnRange {
            start: self.gfn,
            end: self.gfn + 1,
        }) || walked.start() != hva
            || self.cache >= NR_VIEWS
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
        let mut state = mirror.lock();
        if !walked.is_current(slot) {
            return Ok(false);
        }
        let special = cpu.is_special();
        let new = NewView {
            gen: state.slots_gen(),
            writable: write && cpu.is_writable(),
            gfn: self.gfn,
            hva,
            pfn: cpu.pfn(),
            special,
            zero: cpu.is_zero(),
        };
        let ret = state.views_mut().install(self.cache, new, map);
        drop(state);
        // Unmapping sleeps: only now, with the lock released.
        Ok(ret.is_ok())
    }
}
