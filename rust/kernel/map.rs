// SPDX-License-Identifier: GPL-2.0

//! One page of the calling task's memory, mapped into the kernel the way
//! `kvm_vcpu_map()` maps a guest frame.
//!
//! Memory with a `struct page` is pinned (`FOLL_PIN`) and reached through
//! the direct map (64-bit has no highmem).  A `VM_PFNMAP`/`VM_IO` mapping
//! is looked up with `follow_pfnmap_start()` and its frame mapped with
//! [`super::pfn::Remap`]'s rules; no reference is taken (as KVM since
//! Linux 6.13), so nothing but the caller's MMU notifier keeps such a frame
//! what it was: [`HostMap::is_pinned`] says which kind a mapping is, and
//! the accessors of an unpinned one are `unsafe`.

use core::ffi::c_void;
use kernel::{
    error::{to_result, Result},
    ffi::c_ulong,
    page::PAGE_SIZE,
    prelude::*,
};

#[repr(C)]
struct RawMap {
    kva: *mut c_void,
    pfn: c_ulong,
    page: *mut c_void,
    flags: u32,
    facts: u32,
    reserved: u64,
}

const _: () = assert!(core::mem::size_of::<RawMap>() == 40);

// GM_MAP_* of rust/helpers/helpers.h.
const PINNED: u32 = 1 << 0;
const REMAPPED: u32 = 1 << 1;
const WRITABLE: u32 = 1 << 2;

extern "C" {
    fn gm_map_hva(hva: c_ulong, write: bool, m: *mut RawMap) -> core::ffi::c_int;
    fn gm_unmap(m: *mut RawMap, dirty: bool);
    fn gm_cmpxchg64(p: *mut c_void, old: u64, new: u64) -> u64;
    fn gm_ktime_ns() -> u64;
}

/// Monotonic time in nanoseconds, for in-kernel benchmark loops.
pub(crate) fn ktime_ns() -> u64 {
    // SAFETY: reads the clock.
    unsafe { gm_ktime_ns() }
}

/// A page mapped into the kernel; [`HostMap::unmap`] (or drop, clean)
/// undoes it.
///
/// # Invariants
///
/// `raw` was filled by a successful `gm_map_hva` and not yet unmapped:
/// `raw.kva` maps `PAGE_SIZE` bytes of `raw.pfn`, which is pinned if
/// `PINNED` is set, and otherwise a bare pfn of a `VM_PFNMAP`/`VM_IO`
/// mapping mapped by [`super::pfn::Remap`]'s rules (a `vmap()` alias for
/// RAM, `memremap()` for the rest), so the mapping itself is always valid
/// memory to touch; what that memory is, only the caller can vouch for.
pub(crate) struct HostMap {
    raw: RawMap,
    unmapped: bool,
}

impl HostMap {
    /// Maps the page holding `hva` of the calling task, for writing if
    /// `write` (then write permission is required).  Sleeps.
    pub(crate) fn new(hva: u64, write: bool) -> Result<HostMap> {
        let mut raw = RawMap {
            kva: core::ptr::null_mut(),
            pfn: 0,
            page: core::ptr::null_mut(),
            flags: 0,
            facts: 0,
            reserved: 0,
        };
        // SAFETY: `raw` is a valid out-parameter; the helper works on the
        // calling task's own memory.
        to_result(unsafe { gm_map_hva(hva as c_ulong, write, &mut raw) })?;
        // INVARIANT: `gm_map_hva` succeeded and filled `raw`.
        Ok(HostMap {
            raw,
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
        self.raw.flags & PINNED != 0
    }

    /// Whether the page is reached through [`super::pfn::Remap`]'s rules
    /// (a bare pfn; no struct page was pinned).
    pub(crate) fn is_remapped(&self) -> bool {
        self.raw.flags & REMAPPED != 0
    }

    /// Whether the mapping may be written.
    pub(crate) fn is_writable(&self) -> bool {
        self.raw.flags & WRITABLE != 0
    }

    fn ptr(&self, off: usize, len: usize) -> Result<*mut u8> {
        if off > PAGE_SIZE || len > PAGE_SIZE - off {
            return Err(EINVAL);
        }
        // SAFETY: in bounds of the page `kva` maps (type invariants).
        Ok(unsafe { self.raw.kva.cast::<u8>().add(off) })
    }

    /// Copies bytes `off..off + buf.len()` of the page into `buf`.
    ///
    /// # Safety
    ///
    /// If the page is not [pinned](Self::is_pinned), it is still the frame
    /// the guest's memory was when it was looked up, for the whole call:
    /// the MMU notifier watching that memory has not invalidated it since
    /// before the lookup, and cannot until this returns.
    pub(crate) unsafe fn read(&self, off: usize, buf: &mut [u8]) -> Result {
        // SAFETY: `kva` maps a whole page (type invariants), which is the
        // guest's (pinned, or the caller's contract); user space may write
        // it concurrently, which the C copy behind `read_kva` tolerates.
        unsafe { super::pfn::read_kva(self.raw.kva as usize, off, buf) }
    }

    /// Copies `buf` to `off`; `EPERM` if the mapping is read-only.
    ///
    /// # Safety
    ///
    /// As for [`HostMap::read`].
    pub(crate) unsafe fn write(&self, off: usize, buf: &[u8]) -> Result {
        if !self.is_writable() {
            return Err(EPERM);
        }
        // SAFETY: as for `read`, and the mapping is writable.
        unsafe { super::pfn::write_kva(self.raw.kva as usize, off, buf) }
    }

    /// Atomically replaces the u64 at `off` (8-byte aligned) with `new` if
    /// it holds `old`; returns the value found.
    ///
    /// # Safety
    ///
    /// As for [`HostMap::read`].
    pub(crate) unsafe fn cmpxchg_u64(&self, off: usize, old: u64, new: u64) -> Result<u64> {
        if !self.is_writable() {
            return Err(EPERM);
        }
        if off % 8 != 0 {
            return Err(EINVAL);
        }
        let p = self.ptr(off, 8)?;
        // SAFETY: `p` is an aligned, writable u64 of the guest's page (as
        // for `read`).
        Ok(unsafe { gm_cmpxchg64(p.cast(), old, new) })
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
