// SPDX-License-Identifier: GPL-2.0

//! Access to the bytes of a page frame, by pfn.
//!
//! A pfn alone says nothing about whether the frame is still the memory
//! it was: these functions are `unsafe`, and their callers (the mirror)
//! rely on the MMU-notifier protocol to know it is.

use core::ffi::c_void;
use kernel::{
    error::{to_result, Result},
    ffi::{c_int, c_ulong},
    page::PAGE_SIZE,
    prelude::*,
};

extern "C" {
    fn gm_pfn_facts(pfn: c_ulong) -> u32;
    fn gm_classify_user(
        addr: c_ulong,
        pfn: *mut c_ulong,
        facts: *mut u32,
        pfnmap: *mut bool,
    ) -> c_int;
    fn gm_frame_map(pfn: c_ulong, kva: *mut *mut c_void, aliased: *mut bool) -> c_int;
    fn gm_frame_unmap(kva: *mut c_void, aliased: bool);
    fn gm_pfn_to_kva(pfn: c_ulong) -> *mut c_void;
    fn gm_frame_copy(dst: *mut c_void, src: *const c_void, len: usize);
    fn gm_pfn_mark_dirty(pfn: c_ulong);
}

/// The direct-map address of `pfn`, which must have a `struct page` (a
/// pfn `hmm_range_fault()` returned).  Computing it touches nothing.
pub(crate) fn direct_map_address(pfn: u64) -> usize {
    // SAFETY: page_address() of a lowmem page is arithmetic on the pfn.
    unsafe { gm_pfn_to_kva(pfn as c_ulong) as usize }
}

/// Copies `buf.len()` bytes at `kva + off` into `buf`; `EINVAL` if the
/// range leaves the page.
///
/// The frame is guest memory that user space (and other CPUs) may write
/// while it is copied, so the copy is the kernel's C `memcpy()`, as for any
/// kernel access to memory shared with user space: Rust's
/// `copy_nonoverlapping` would make such a race undefined behaviour.  No
/// Rust reference to the frame is ever made.
///
/// # Safety
///
/// `kva` maps a whole page that stays the memory it was for the call.
pub(crate) unsafe fn read_kva(kva: usize, off: usize, buf: &mut [u8]) -> Result {
    check(off, buf.len())?;
    // SAFETY: the range is inside a live page mapping (the caller's
    // contract, and the check above); `buf` is a distinct kernel buffer;
    // the C copy tolerates concurrent writers of the frame.
    unsafe {
        gm_frame_copy(
            buf.as_mut_ptr().cast(),
            (kva + off) as *const c_void,
            buf.len(),
        )
    };
    Ok(())
}

/// Copies `buf` to `kva + off`; `EINVAL` if the range leaves the page.
///
/// As for [`read_kva`], the copy is C's `memcpy()`: the frame may be read
/// and written concurrently by user space.
///
/// # Safety
///
/// As for [`read_kva`], and the page's owner allows the write.
pub(crate) unsafe fn write_kva(kva: usize, off: usize, buf: &[u8]) -> Result {
    check(off, buf.len())?;
    // SAFETY: as for `read_kva`.
    unsafe { gm_frame_copy((kva + off) as *mut c_void, buf.as_ptr().cast(), buf.len()) };
    Ok(())
}

/// Marks the folio of `pfn` dirty (`folio_mark_dirty()`), after the kernel
/// wrote it through a kernel mapping.
///
/// A CPU write through a pte sets the pte's dirty bit, which reclaim and
/// writeback fold into the folio; a kernel write through the direct map
/// or a pfn cache sets nothing.  A pte may be writable but clean (after
/// MADV_FREE, a read fault of shmem, a swap-in), so without this the
/// folio stays clean and reclaim discards the write.
///
/// # Safety
///
/// `pfn` has a `struct page` that may be dirtied (`src/refcount.rs`), and
/// it is mapped, for the whole call, by a pte the caller's MMU notifier
/// watches while the caller holds the lock its invalidations take: the
/// folio can then be neither freed nor truncated (truncation unmaps it
/// first), which is what `folio_mark_dirty()` asks of a caller that does
/// not hold the folio lock.
pub(crate) unsafe fn mark_dirty(pfn: u64) {
    // SAFETY: the folio is pinned in place by the caller's contract.
    unsafe { gm_pfn_mark_dirty(pfn as c_ulong) };
}

/// The one bounds check of every frame copy: `off..off + len` must lie in
/// one page.
fn check(off: usize, len: usize) -> Result {
    if off > PAGE_SIZE || len > PAGE_SIZE - off {
        return Err(EINVAL);
    }
    Ok(())
}

/// A write-back kernel mapping of one page frame named only by its pfn,
/// as a `VM_PFNMAP`/`VM_IO` mapping hands them out (`gm_frame_map()`):
///
/// * RAM with a `struct page` is mapped through a `vmap()` alias of its
///   own, never through the direct map, which need not map it (secret
///   memory, a free page DEBUG_PAGEALLOC unmapped) and can stop mapping it
///   at any time, since the page is not ours; a page the direct map lacks
///   when it is looked up is refused (`EFAULT`), as `/dev/mem`'s `read()`
///   refuses it;
/// * anything else (RAM the kernel never took, reserved RAM, device
///   memory) through `memremap()`.
///
/// # Invariants
///
/// `addr` is a live mapping of `PAGE_SIZE` bytes of `pfn` made by
/// `gm_frame_map()`, which said whether it is an alias (`aliased`).
pub(crate) struct Remap {
    addr: *mut u8,
    pfn: u64,
    aliased: bool,
}

impl Remap {
    /// Maps `pfn`; sleeps.  Making the mapping touches no memory.
    pub(crate) fn new(pfn: u64) -> Result<Remap> {
        let mut addr = core::ptr::null_mut();
        let mut aliased = false;
        // SAFETY: the helper checks the pfn itself and touches no memory;
        // the out pointers are valid locals.
        to_result(unsafe { gm_frame_map(pfn as c_ulong, &mut addr, &mut aliased) })?;
        // INVARIANT: the helper succeeded, so `addr` maps the frame.
        Ok(Remap {
            addr: addr.cast(),
            pfn,
            aliased,
        })
    }

    /// The frame mapped.
    pub(crate) fn pfn(&self) -> u64 {
        self.pfn
    }

    /// Whether this is a `vmap()` alias of RAM with a struct page, rather
    /// than a `memremap()` of memory the page allocator never hands out.
    pub(crate) fn is_alias(&self) -> bool {
        self.aliased
    }

    /// Copies `buf.len()` bytes at `off` into `buf`.
    ///
    /// # Safety
    ///
    /// The frame is the memory it was when its pfn was looked up, for the
    /// duration of the call.
    pub(crate) unsafe fn read(&self, off: usize, buf: &mut [u8]) -> Result {
        // SAFETY: `addr` maps a whole page (type invariants), which is
        // live (the caller's contract).
        unsafe { read_kva(self.address(), off, buf) }
    }

    /// Copies `buf` to `off`.
    ///
    /// # Safety
    ///
    /// As for [`Remap::read`], and the frame's owner allows writes.
    pub(crate) unsafe fn write(&self, off: usize, buf: &[u8]) -> Result {
        // SAFETY: as for `read`.
        unsafe { write_kva(self.address(), off, buf) }
    }
}

impl Remap {
    /// The kernel address of the mapping.
    pub(crate) fn address(&self) -> usize {
        self.addr as usize
    }
}

// SAFETY: a memremap() mapping may be used and undone from any thread.
unsafe impl Send for Remap {}

impl Drop for Remap {
    fn drop(&mut self) {
        // SAFETY: `addr` came from `gm_frame_map()`, which said whether it
        // is an alias (type invariants), and is not used again.
        unsafe { gm_frame_unmap(self.addr.cast(), self.aliased) };
    }
}

/// The facts `src/refcount.rs` classifies a pfn by, as `gm_pfn_facts()`
/// reports them.
///
/// # Safety
///
/// The pfn's page, if it has one, keeps its identity for the call: the
/// caller holds a reference, or the pte lock of a pte mapping it, or the
/// pfn is protected by an MMU notifier.  ZONE_DEVICE metadata is only
/// valid then.
pub(crate) unsafe fn facts(pfn: u64) -> u32 {
    // SAFETY: the page is stable (the caller's contract).
    unsafe { gm_pfn_facts(pfn as c_ulong) }
}

/// What backs a user address of the calling task.
pub(crate) struct UserPfn {
    /// The pfn mapped there.
    pub(crate) pfn: u64,
    /// Its facts (see [`facts`]), read while the page was held.
    pub(crate) facts: u32,
    /// Whether it came from a `VM_PFNMAP` or `VM_IO` mapping.
    pub(crate) pfnmap: bool,
}

/// Looks up what `addr` of the calling task's address space maps, holding
/// the page (a GUP reference, or the pte lock for pfnmaps) while its facts
/// are read.  `EFAULT` if nothing is there.
pub(crate) fn classify_user(addr: u64) -> Result<UserPfn> {
    let mut out = UserPfn {
        pfn: 0,
        facts: 0,
        pfnmap: false,
    };
    let mut pfn: c_ulong = 0;
    // SAFETY: the out pointers are valid locals; the helper works on the
    // calling task's own address space under its mmap lock.
    to_result(unsafe {
        gm_classify_user(addr as c_ulong, &mut pfn, &mut out.facts, &mut out.pfnmap)
    })?;
    out.pfn = pfn as u64;
    Ok(out)
}
