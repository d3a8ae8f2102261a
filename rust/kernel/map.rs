// SPDX-License-Identifier: GPL-2.0

//! One page of the calling task's memory, mapped into the kernel the way
//! `kvm_vcpu_map()` maps a guest frame.
//!
//! Memory with a `struct page` is pinned (`FOLL_PIN`) and reached through
//! the direct map (64-bit has no highmem); a `VM_PFNMAP`/`VM_IO` mapping is looked up with
//! `follow_pfnmap_start()` and reached through `memremap()`, holding a
//! reference if the pfn is refcounted (as `kvm_try_get_pfn()` does).  A
//! bare pfn without a refcounted page is device or reserved memory, which
//! the page allocator never hands out again: as for KVM, the mapping stays
//! valid memory whatever user space does with its own mapping.

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
    refpage: *mut c_void,
    flags: u32,
    facts: u32,
    reserved: u64,
}

const _: () = assert!(core::mem::size_of::<RawMap>() == 48);

// GM_MAP_* of rust/helpers/helpers.h.
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
/// `raw.kva` maps `PAGE_SIZE` bytes of `raw.pfn`, which is pinned,
/// referenced, or not allocator memory.
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
            refpage: core::ptr::null_mut(),
            flags: 0,
            facts: 0,
            reserved: 0,
        };
        // SAFETY: `raw` is a valid out-parameter; the helper works on the
        // calling task's own memory.
        to_result(unsafe { gm_map_hva(hva as c_ulong, write, &mut raw) })?;
        Ok(HostMap {
            raw,
            unmapped: false,
        })
    }

    /// `gm_pfn_facts()` of the pfn, read while it was held.
    pub(crate) fn facts(&self) -> u32 {
        self.raw.facts
    }

    /// Whether the page is reached through `memremap()` (no struct page
    /// was pinned).
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
    pub(crate) fn read(&self, off: usize, buf: &mut [u8]) -> Result {
        // SAFETY: `kva` maps a whole live page (type invariants); user
        // space may write it concurrently, which the C copy behind
        // `read_kva` tolerates.
        unsafe { super::pfn::read_kva(self.raw.kva as usize, off, buf) }
    }

    /// Copies `buf` to `off`; `EPERM` if the mapping is read-only.
    pub(crate) fn write(&self, off: usize, buf: &[u8]) -> Result {
        if !self.is_writable() {
            return Err(EPERM);
        }
        // SAFETY: as for `read`, and the mapping is writable.
        unsafe { super::pfn::write_kva(self.raw.kva as usize, off, buf) }
    }

    /// Atomically replaces the u64 at `off` (8-byte aligned) with `new` if
    /// it holds `old`; returns the value found.
    pub(crate) fn cmpxchg_u64(&self, off: usize, old: u64, new: u64) -> Result<u64> {
        if !self.is_writable() {
            return Err(EPERM);
        }
        if off % 8 != 0 {
            return Err(EINVAL);
        }
        let p = self.ptr(off, 8)?;
        // SAFETY: `p` is an aligned, writable u64 of a live mapping.
        Ok(unsafe { gm_cmpxchg64(p.cast(), old, new) })
    }

    /// Unmaps, marking the page dirty if `dirty`: the caller decides
    /// whether the page may be dirtied (`src/refcount.rs`).
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
