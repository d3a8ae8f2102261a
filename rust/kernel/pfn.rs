// SPDX-License-Identifier: GPL-2.0

//! Access to the bytes of a page frame, by pfn.
//!
//! A pfn alone says nothing about whether the frame is still the memory
//! it was: these functions are `unsafe`, and their callers (the mirror)
//! rely on the MMU-notifier protocol to know it is.

use kernel::{error::Result, ffi::c_ulong, page::PAGE_SIZE, prelude::*};

extern "C" {
    fn gm_pfn_read(pfn: c_ulong, off: u32, buf: *mut c_void, len: u32);
    fn gm_pfn_write(pfn: c_ulong, off: u32, buf: *const c_void, len: u32);
    fn gm_memremap_pfn(pfn: c_ulong) -> *mut c_void;
    fn gm_memunmap(addr: *mut c_void);
}

use core::ffi::c_void;

fn check(off: usize, len: usize) {
    assert!(off <= PAGE_SIZE && len <= PAGE_SIZE - off);
}

/// Copies `buf.len()` bytes at `off` of the page frame `pfn` into `buf`.
///
/// # Safety
///
/// `pfn` has a `struct page` in the kernel's direct map (it is not a
/// bare `VM_PFNMAP` pfn), and stays allocated to its current owner for
/// the duration of the call.
pub(crate) unsafe fn read(pfn: u64, off: usize, buf: &mut [u8]) {
    check(off, buf.len());
    // SAFETY: the frame is live (the caller's contract), and `off` and the
    // length keep the copy inside it.
    unsafe {
        gm_pfn_read(
            pfn as c_ulong,
            off as u32,
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
        )
    };
}

/// Copies `buf` to `off` of the page frame `pfn`.
///
/// # Safety
///
/// As for [`read`], and the frame's owner allows writes to it.
pub(crate) unsafe fn write(pfn: u64, off: usize, buf: &[u8]) {
    check(off, buf.len());
    // SAFETY: as for `read`.
    unsafe {
        gm_pfn_write(
            pfn as c_ulong,
            off as u32,
            buf.as_ptr().cast(),
            buf.len() as u32,
        )
    };
}

/// A write-back mapping of one page frame of any kind, made with
/// `memremap()`: frames with no `struct page`, or outside the direct map,
/// are reached this way.
///
/// # Invariants
///
/// `addr` is a live `memremap()` mapping of `PAGE_SIZE` bytes.
pub(crate) struct Remap {
    addr: *mut u8,
    pfn: u64,
}

impl Remap {
    /// Maps `pfn`; sleeps.  Making the mapping touches no memory.
    pub(crate) fn new(pfn: u64) -> Result<Remap> {
        // SAFETY: memremap() checks the range itself and touches nothing.
        let addr = unsafe { gm_memremap_pfn(pfn as c_ulong) };
        if addr.is_null() {
            return Err(ENOMEM);
        }
        Ok(Remap {
            addr: addr.cast(),
            pfn,
        })
    }

    /// The frame mapped.
    pub(crate) fn pfn(&self) -> u64 {
        self.pfn
    }

    /// Copies `buf.len()` bytes at `off` into `buf`.
    ///
    /// # Safety
    ///
    /// The frame is the memory it was when its pfn was looked up, for the
    /// duration of the call.
    pub(crate) unsafe fn read(&self, off: usize, buf: &mut [u8]) {
        check(off, buf.len());
        // SAFETY: `addr` maps `PAGE_SIZE` bytes (type invariants), the
        // range is inside them, and `buf` is a distinct kernel buffer.
        unsafe { core::ptr::copy_nonoverlapping(self.addr.add(off), buf.as_mut_ptr(), buf.len()) };
    }

    /// Copies `buf` to `off`.
    ///
    /// # Safety
    ///
    /// As for [`Remap::read`], and the frame's owner allows writes.
    pub(crate) unsafe fn write(&self, off: usize, buf: &[u8]) {
        check(off, buf.len());
        // SAFETY: as for `read`.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), self.addr.add(off), buf.len()) };
    }
}

impl Drop for Remap {
    fn drop(&mut self) {
        // SAFETY: `addr` came from memremap() (type invariants).
        unsafe { gm_memunmap(self.addr.cast()) };
    }
}
