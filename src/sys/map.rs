// SPDX-License-Identifier: GPL-2.0

//! One page of the calling task's memory, mapped into the kernel the way
//! `kvm_vcpu_map()` maps a guest frame (`c/map.c`).
//!
//! Memory with a `struct page` is pinned (`FOLL_PIN`) and reached through
//! the direct map (64-bit has no highmem).  A `VM_PFNMAP`/`VM_IO` mapping
//! is looked up with `follow_pfnmap_start()` and its frame mapped with
//! [`super::frame::Remap`]'s rules; no reference is taken (as KVM since
//! Linux 6.13), so nothing but the caller's MMU notifier keeps such a frame
//! what it was: [`HostMap::pinned_frame`] lends only a pinned page, and the
//! caller makes a [`Frame`] of an unpinned one itself, under its notifier's
//! lock.

use super::{
    bindings::{gm_map, gm_map_hva, gm_unmap, GM_MAP_PINNED, GM_MAP_REMAPPED, GM_MAP_WRITABLE},
    frame::Frame,
};
use core::ptr::NonNull;
use kernel::{error::to_result, ffi::c_ulong, prelude::*};

/// A page mapped into the kernel; [`HostMap::unmap`] (or drop, clean)
/// undoes it.
///
/// # Invariants
///
/// `raw` was filled by a successful `gm_map_hva` and not yet unmapped:
/// `kva` is `raw.kva`, which maps `PAGE_SIZE` bytes of `raw.pfn`; that pfn
/// is pinned if `GM_MAP_PINNED` is set (for writing if `GM_MAP_WRITABLE`
/// is too), and otherwise a bare pfn of a `VM_PFNMAP`/`VM_IO` mapping
/// mapped by [`super::frame::Remap`]'s rules (a `vmap()` alias for RAM,
/// `memremap()` for the rest), so the mapping itself is always valid
/// memory to touch; what that memory is, only the caller can vouch for.
pub(crate) struct HostMap {
    raw: gm_map,
    kva: NonNull<u8>,
    unmapped: bool,
}

impl HostMap {
    /// Maps the page holding `hva` of the calling task, for writing if
    /// `write` (then write permission is required).  Sleeps.
    pub(crate) fn new(hva: u64, write: bool) -> Result<HostMap> {
        Self::map(hva, write, false)
    }

    /// [`HostMap::new`], for a mapping kept for as long as user space
    /// likes: a page is pinned `FOLL_LONGTERM` (migrated out of movable
    /// memory first; refused where a long pin is not allowed).
    pub(crate) fn new_longterm(hva: u64, write: bool) -> Result<HostMap> {
        Self::map(hva, write, true)
    }

    fn map(hva: u64, write: bool, longterm: bool) -> Result<HostMap> {
        let mut raw = gm_map {
            kva: core::ptr::null_mut(),
            pfn: 0,
            page: core::ptr::null_mut(),
            flags: 0,
            facts: 0,
        };
        // SAFETY: `raw` is a valid out-parameter; the helper works on the
        // calling task's own memory.
        to_result(unsafe { gm_map_hva(hva as c_ulong, write, longterm, &mut raw) })?;
        let Some(kva) = NonNull::new(raw.kva.cast()) else {
            // SAFETY: mapped, and never used again.
            unsafe { gm_unmap(&mut raw, false) };
            return Err(EFAULT);
        };
        // INVARIANT: `gm_map_hva` succeeded and filled `raw`.
        Ok(HostMap {
            raw,
            kva,
            unmapped: false,
        })
    }

    /// `gm_pfn_facts()` of the pfn, read while it was looked up.
    pub(crate) fn facts(&self) -> u32 {
        self.raw.facts
    }

    /// Whether the page is pinned: then it stays the guest's page for as
    /// long as the mapping exists, whatever user space does.
    pub(crate) fn is_pinned(&self) -> bool {
        self.raw.flags & GM_MAP_PINNED != 0
    }

    /// Whether the page is reached through [`super::frame::Remap`]'s rules
    /// (a bare pfn; no struct page was pinned).
    pub(crate) fn is_remapped(&self) -> bool {
        self.raw.flags & GM_MAP_REMAPPED != 0
    }

    /// Whether the mapping may be written.
    pub(crate) fn is_writable(&self) -> bool {
        self.raw.flags & GM_MAP_WRITABLE != 0
    }

    /// The kernel address of the page, valid while `self` lives.
    pub(crate) fn kva(&self) -> NonNull<u8> {
        self.kva
    }

    /// The page, if it is pinned: the pin keeps it the guest's for as long
    /// as the mapping lives.  A pinned page is marked dirty when it is
    /// unpinned ([`HostMap::unmap`]), not per write.
    pub(crate) fn pinned_frame(&self) -> Option<Frame<'_>> {
        if !self.is_pinned() {
            return None;
        }
        // SAFETY: `kva` maps the pinned page (type invariants), which the
        // pin keeps for as long as `self`, and so the borrow, lives; the
        // pin was taken for writing if the mapping is writable.
        Some(unsafe { Frame::new(self.kva, self.is_writable(), None) })
    }

    /// Unmaps, marking a pinned page dirty if `dirty`: the caller decides
    /// whether the page may be dirtied (`src/refcount.rs`).  A bare pfn is
    /// left alone: it belongs to whoever mapped it.
    pub(crate) fn unmap(mut self, dirty: bool) {
        // SAFETY: mapped (type invariants); `unmapped` stops drop from
        // doing it again.
        unsafe { gm_unmap(&mut self.raw, dirty) };
        self.unmapped = true;
    }
}

impl Drop for HostMap {
    fn drop(&mut self) {
        if !self.unmapped {
            // SAFETY: mapped (type invariants), and never again after this.
            unsafe { gm_unmap(&mut self.raw, false) };
        }
    }
}

// SAFETY: the mapping may be used and undone from any thread.
unsafe impl Send for HostMap {}
