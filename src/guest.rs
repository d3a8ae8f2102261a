// SPDX-License-Identifier: GPL-2.0

//! Guest memory the ways a hypervisor reaches it, by gpa:
//!
//! * [`GuestPage`], like `kvm_vcpu_map()`/`kvm_vcpu_unmap()`: the page is
//!   pinned if it has a `struct page` GUP can pin; a bare pfn of a
//!   `VM_PFNMAP`/`VM_IO` mapping is mapped without a reference (as KVM
//!   since Linux 6.13) and guarded by the memslot's MMU notifier instead;
//!   unmapping marks a pinned page dirty only where `src/refcount.rs`
//!   allows;
//! * [`read`]/[`write`](fn@write), like `kvm_read_guest()`: a copy
//!   through the user mapping, no kernel mapping at all;
//! * [`GuestPage::cmpxchg_u64`], like `emulator_cmpxchg_emulated()`;
//! * pfn caches (`src/pfncache.rs`), like `gfn_to_pfn_cache`.

use crate::{
    ext::mmu_notifier::Seq,
    memslot::Memslot,
    mirror,
    pte::{GfnRange, PAGE_SHIFT},
    refcount::{classify, Facts, Kind},
    slots::SlotDesc,
    sys::{
        frame::{Access, Frame, FrameError},
        map::HostMap,
        trace,
    },
    uapi,
};
use kernel::{page::PAGE_SIZE, prelude::*, uaccess::UserSlice};

/// [`GuestPage::map`] gives up after this many lookups undone by
/// invalidations, as a pfn cache's refresh does.
const MAX_TRIES: u32 = 1000;

/// Runs `f` until it gets past an invalidation (`Ok(None)`: map again),
/// up to [`MAX_TRIES`] times; `EINTR` if a signal is pending.  A retry
/// that can succeed is the kernel's to make, not user space's.
pub(crate) fn until_current<T>(mut f: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    for _ in 0..MAX_TRIES {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
    }
    Err(EAGAIN)
}

/// A guest frame mapped into the kernel, let go with
/// [`GuestPage::unmap`] (which the `guestmap_unmap` tracepoint records;
/// a drop unmaps too, unrecorded, not marked dirty).
///
/// What keeps the frame the guest's while it is used:
///
/// * a pinned page: the pin, whatever user space does (munmap, mremap,
///   fork, exit) and whatever the memslot does (deleted, re-created);
/// * a bare pfn: the memslot's notifier.  `seq` is read before the pfn is
///   looked up, and every access runs under the mirror lock after checking
///   that no invalidation of the slot ran since (munmap, mremap, mprotect,
///   exit all invalidate first, under that lock:
///   [`mirror::frame::with_unpinned`]).  The slot is not deleted meanwhile:
///   `'a` borrows it from the slot table, which the caller holds shared.
pub(crate) struct GuestPage<'a> {
    map: HostMap,
    guard: Option<(&'a Memslot, Seq)>,
    /// For the tracepoints: the mirror, and the frame.
    mirror: &'a mirror::Mirror,
    gfn: u64,
}

impl<'a> GuestPage<'a> {
    /// Maps guest frame `gfn` of `slot`, for writing if `write`; a write
    /// mapping of a READONLY slot is `EPERM`.
    pub(crate) fn map(slot: &'a Memslot, gfn: u64, write: bool) -> Result<GuestPage<'a>> {
        let mirror = slot.data().mirror();
        trace::map_start(mirror, gfn, write);
        let ret = Self::map_frame(slot, gfn, write);
        let (kind, path, errno) = match &ret {
            Ok(page) if trace::map_enabled() => (page.kind(), page.path(), 0),
            Ok(page) => (0, page.path(), 0),
            Err(e) => (0, 0, e.to_errno()),
        };
        trace::map(mirror, gfn, write, kind, path, errno);
        ret
    }

    fn map_frame(slot: &'a Memslot, gfn: u64, write: bool) -> Result<GuestPage<'a>> {
        let desc = slot.data().desc();
        if write && desc.readonly {
            return Err(EPERM);
        }
        let gfns = GfnRange {
            start: gfn,
            end: gfn + 1,
        };
        if !desc.map.contains(gfns) {
            return Err(ENOENT);
        }
        let hva = desc.map.gfn_to_hva(gfn);
        for _ in 0..MAX_TRIES {
            let seq = slot.read_begin();
            match HostMap::new(hva, write) {
                Ok(map) => {
                    let guard = (!map.is_pinned()).then_some((slot, seq));
                    return Ok(GuestPage {
                        map,
                        guard,
                        mirror: slot.data().mirror(),
                        gfn,
                    });
                }
                // A bare pfn may have changed between its lookup and its
                // mapping (a page freed meanwhile leaves the direct map
                // under DEBUG_PAGEALLOC, and is refused with EFAULT): look
                // it up again if an invalidation of the slot ran since,
                // else the failure is the frame's.  Other errors are the
                // memory's, whatever ran meanwhile.
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

    /// Whether the page is reached through a mapping of its bare pfn.
    pub(crate) fn is_remapped(&self) -> bool {
        self.map.is_remapped()
    }

    /// How the page is reached, as `GUESTMAP_ACCESS` reports it:
    /// `GUESTMAP_VIA_*`.
    pub(crate) fn path(&self) -> u32 {
        if self.is_remapped() {
            uapi::GUESTMAP_VIA_REMAP
        } else {
            uapi::GUESTMAP_VIA_PAGE
        }
    }

    /// What the CPU maps there, as `GUESTMAP_QUERY` reports it:
    /// `GUESTMAP_CLASS_*`.
    fn kind(&self) -> u32 {
        if self.is_remapped() {
            uapi::GUESTMAP_CLASS_PFNMAP
        } else if matches!(
            classify(Facts::from_raw(self.map.facts())).kind,
            Some(Kind::Zero)
        ) {
            uapi::GUESTMAP_CLASS_ZERO
        } else {
            uapi::GUESTMAP_CLASS_PAGE
        }
    }

    /// Runs `f` on the frame while it is known to be the guest's: pinned,
    /// or under the slot's mirror lock with no invalidation since the
    /// lookup.  `None` if one ran: map again.
    fn with_frame<R>(&self, f: impl FnOnce(&Frame<'_>) -> R) -> Option<R> {
        match self.guard {
            None => self.map.pinned_frame().map(|frame| f(&frame)),
            Some((slot, seq)) => mirror::frame::with_unpinned(slot, seq, &self.map, f),
        }
    }

    /// Performs `acc` at bytes `off..` of the page; `Ok(None)` if an
    /// invalidation raced the mapping (map again).
    pub(crate) fn access(
        &self,
        off: usize,
        acc: &mut Access<'_>,
    ) -> Result<Option<()>, FrameError> {
        self.with_frame(|frame| frame.access(off, acc)).transpose()
    }

    /// The u64 at `off` (8-byte aligned), read with one load; `Ok(None)`
    /// as for [`GuestPage::access`].
    pub(crate) fn read_u64(&self, off: usize) -> Result<Option<u64>, FrameError> {
        self.with_frame(|frame| frame.read_u64(off)).transpose()
    }

    /// Atomic compare-exchange of the u64 at `off`: the value found, or
    /// `Ok(None)` as for [`GuestPage::access`].
    pub(crate) fn cmpxchg_u64(
        &self,
        off: usize,
        old: u64,
        new: u64,
    ) -> Result<Option<u64>, FrameError> {
        self.with_frame(|frame| frame.cmpxchg_u64(off, old, new))
            .transpose()
    }

    /// Unmaps; `dirty` asks for the page to be marked dirty, which is
    /// done only if the page may be (never the zero page, a `PG_reserved`
    /// page or ZONE_DEVICE memory), as the refcount series asked.
    pub(crate) fn unmap(self, dirty: bool) {
        let may_dirty = classify(Facts::from_raw(self.map.facts())).may_dirty;
        if trace::map_enabled() {
            trace::unmap(
                self.mirror,
                self.gfn,
                self.kind(),
                self.path(),
                dirty && may_dirty,
            );
        }
        self.map.unmap(dirty && may_dirty);
    }
}

/// Copies guest memory from `gpa` into the user buffer `buf`, through
/// the slot's user mapping (`copy_from_user()` on the slot's addresses):
/// no kernel mapping, any kind of memory, any length within the slot.
pub(crate) fn read(slot: &SlotDesc, gpa: u64, len: usize, buf: u64, bounce: &mut [u8]) -> Result {
    copy(slot, gpa, len, buf, bounce, false)
}

/// Copies the user buffer `buf` to guest memory at `gpa`.
pub(crate) fn write(slot: &SlotDesc, gpa: u64, len: usize, buf: u64, bounce: &mut [u8]) -> Result {
    if slot.readonly {
        return Err(EPERM);
    }
    copy(slot, gpa, len, buf, bounce, true)
}

fn copy(
    slot: &SlotDesc,
    gpa: u64,
    len: usize,
    buf: u64,
    bounce: &mut [u8],
    to_guest: bool,
) -> Result {
    let mut done = 0usize;
    while done < len {
        let at = gpa + done as u64;
        let n = (len - done)
            .min(bounce.len())
            .min(PAGE_SIZE - (at as usize & (PAGE_SIZE - 1)));
        let hva = slot.map.gfn_to_hva(at >> PAGE_SHIFT) + (at & (PAGE_SIZE as u64 - 1));
        let user = UserSlice::new((buf + done as u64) as usize, n);
        let guest = UserSlice::new(hva as usize, n);
        let b = &mut bounce[..n];
        if to_guest {
            user.reader().read_slice(b)?;
            guest.writer().write_slice(b)?;
        } else {
            guest.reader().read_slice(b)?;
            user.writer().write_slice(b)?;
        }
        done += n;
    }
    Ok(())
}
