// SPDX-License-Identifier: GPL-2.0

//! The bytes of a page frame, through a kernel mapping (`c/frame.c`).
//!
//! A [`Frame`] is a window onto one mapped page frame for a lifetime in
//! which the frame is known to stay the memory it was: whoever makes one
//! (`unsafe`) proves that, with a pin or with the MMU-notifier protocol
//! under the mirror lock, and ties the lifetime to the pin or the lock
//! guard.  Every access to guest memory through a kernel mapping goes
//! through [`Frame::read`], [`Frame::write`] or [`Frame::cmpxchg_u64`],
//! which share one bounds check ([`Frame::window`]).

use super::bindings::{
    gm_frame_cmpxchg64, gm_frame_copy, gm_frame_fetch_or64, gm_frame_map, gm_frame_read64,
    gm_frame_unmap, gm_pfn_mark_dirty, gm_pfn_to_kva,
};
use core::{ffi::c_void, marker::PhantomData, ptr::NonNull};
use kernel::{error::to_result, ffi::c_ulong, page::PAGE_SIZE, prelude::*};

/// Why an access through a [`Frame`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The bytes do not lie in the page.
    OutOfPage,
    /// A compare-exchange of a u64 that is not 8-byte aligned.
    Misaligned,
    /// A write through a read-only frame.
    ReadOnly,
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Error {
        match e {
            FrameError::OutOfPage | FrameError::Misaligned => EINVAL,
            FrameError::ReadOnly => EPERM,
        }
    }
}

/// A guest access: the buffer to fill or to copy from.
pub(crate) enum Access<'a> {
    /// Guest read, into the buffer.
    Read(&'a mut [u8]),
    /// Guest write, from the buffer.
    Write(&'a [u8]),
}

impl Access<'_> {
    /// Whether the access writes the frame.
    pub(crate) fn is_write(&self) -> bool {
        matches!(self, Access::Write(_))
    }
}

/// One page frame, mapped and known to be the memory it was, for `'a`.
///
/// # Invariants
///
/// For all of `'a`: `kva` maps the `PAGE_SIZE` bytes of one page frame,
/// which stays the memory it was when the frame was made; if `writable`,
/// its owner allows the kernel to write it; if `dirty` is `Some(pfn)`,
/// `pfn` is that frame, with a `struct page` whose folio may be marked
/// dirty and cannot be freed or truncated for all of `'a`.
pub(crate) struct Frame<'a> {
    kva: NonNull<u8>,
    writable: bool,
    dirty: Option<u64>,
    _frame: PhantomData<&'a ()>,
}

impl<'a> Frame<'a> {
    /// A window onto the page mapped at `kva`, writable if `writable`;
    /// writes mark the folio of `dirty` dirty, if given.
    ///
    /// # Safety
    ///
    /// For all of `'a`: `kva` maps the `PAGE_SIZE` bytes of one page frame,
    /// and that frame stays the memory the caller means (a pin, or the lock
    /// an MMU notifier's invalidation of it waits for, is held); if
    /// `writable`, the frame's owner allows the kernel to write it (the
    /// CPU's pte is writable, or the pin was taken for writing); if `dirty`
    /// is `Some(pfn)`, `pfn` is the frame, has a `struct page` that may be
    /// marked dirty (`src/refcount.rs`), and is mapped by a pte the
    /// caller's notifier watches, so that its folio can be neither freed
    /// nor truncated before the invalidation.
    pub(crate) unsafe fn new(kva: NonNull<u8>, writable: bool, dirty: Option<u64>) -> Frame<'a> {
        // INVARIANT: the caller's contract, word for word.
        Frame {
            kva,
            writable,
            dirty,
            _frame: PhantomData,
        }
    }

    /// The address of bytes `off..off + len`, if they lie in the page: the
    /// one bounds check of every access.
    fn window(&self, off: usize, len: usize) -> Result<*mut c_void, FrameError> {
        if off > PAGE_SIZE || len > PAGE_SIZE - off {
            return Err(FrameError::OutOfPage);
        }
        // SAFETY: `off <= PAGE_SIZE`, inside (or one past) the mapping of
        // one page (type invariants).
        Ok(unsafe { self.kva.as_ptr().add(off) }.cast())
    }

    /// Performs `acc` at bytes `off..` of the frame.
    pub(crate) fn access(&self, off: usize, acc: &mut Access<'_>) -> Result<(), FrameError> {
        match acc {
            Access::Read(buf) => self.read(off, buf),
            Access::Write(buf) => self.write(off, buf),
        }
    }

    /// Copies bytes `off..off + buf.len()` of the frame into `buf`.
    ///
    /// The frame is guest memory that user space (and other CPUs) may
    /// write while it is copied, so the copy is the kernel's C `memcpy()`,
    /// as for any kernel access to memory shared with user space: Rust's
    /// `copy_nonoverlapping` would make such a race undefined behaviour.
    /// No Rust reference to the frame is ever made.
    pub(crate) fn read(&self, off: usize, buf: &mut [u8]) -> Result<(), FrameError> {
        let src = self.window(off, buf.len())?;
        // SAFETY: `src..src + len` lies in the live mapping (type
        // invariants, and the window check); `buf` is a distinct kernel
        // buffer; the C copy tolerates concurrent writers of the frame.
        unsafe { gm_frame_copy(buf.as_mut_ptr().cast(), src, buf.len() as c_ulong) };
        Ok(())
    }

    /// Copies `buf` to bytes `off..` of the frame, then marks its folio
    /// dirty if it tracks dirtying.
    ///
    /// A CPU write through a pte sets the pte's dirty bit, which reclaim
    /// and writeback fold into the folio; a kernel write through a kernel
    /// mapping sets nothing.  A pte may be writable but clean (after
    /// MADV_FREE, a read fault of shmem, a swap-in), so without the mark
    /// the folio stays clean and reclaim discards the write.
    pub(crate) fn write(&self, off: usize, buf: &[u8]) -> Result<(), FrameError> {
        if !self.writable {
            return Err(FrameError::ReadOnly);
        }
        let dst = self.window(off, buf.len())?;
        // SAFETY: as for `read`, and the owner allows writes (type
        // invariants).
        unsafe { gm_frame_copy(dst, buf.as_ptr().cast(), buf.len() as c_ulong) };
        self.mark_dirty();
        Ok(())
    }

    /// The u64 at `off` (8-byte aligned), read with one load: never torn
    /// by a concurrent writer, as [`Frame::read`]'s copy may be.
    pub(crate) fn read_u64(&self, off: usize) -> Result<u64, FrameError> {
        if off % 8 != 0 {
            return Err(FrameError::Misaligned);
        }
        let p = self.window(off, 8)?;
        // SAFETY: `p` is an aligned u64 of the live mapping (type
        // invariants, and the window check).
        Ok(unsafe { gm_frame_read64(p) })
    }

    /// Atomically replaces the u64 at `off` (8-byte aligned) with `new` if
    /// it holds `old`; returns the value found.
    pub(crate) fn cmpxchg_u64(&self, off: usize, old: u64, new: u64) -> Result<u64, FrameError> {
        if !self.writable {
            return Err(FrameError::ReadOnly);
        }
        if off % 8 != 0 {
            return Err(FrameError::Misaligned);
        }
        let p = self.window(off, 8)?;
        // SAFETY: `p` is an aligned u64 of the live, writable mapping.
        let found = unsafe { gm_frame_cmpxchg64(p, old, new) };
        if found == old {
            self.mark_dirty();
        }
        Ok(found)
    }

    /// Atomically ORs `bits` into the u64 at `off` (8-byte aligned), as
    /// `set_bit()` does; returns the value before.
    pub(crate) fn fetch_or_u64(&self, off: usize, bits: u64) -> Result<u64, FrameError> {
        if !self.writable {
            return Err(FrameError::ReadOnly);
        }
        if off % 8 != 0 {
            return Err(FrameError::Misaligned);
        }
        let p = self.window(off, 8)?;
        // SAFETY: `p` is an aligned u64 of the live, writable mapping.
        let old = unsafe { gm_frame_fetch_or64(p, bits) };
        if old & bits != bits {
            self.mark_dirty();
        }
        Ok(old)
    }

    fn mark_dirty(&self) {
        if let Some(pfn) = self.dirty {
            // SAFETY: `pfn` has a struct page that may be dirtied, and its
            // folio can be neither freed nor truncated while the frame
            // lives (type invariants), which is what `folio_mark_dirty()`
            // asks of a caller without the folio lock.
            unsafe { gm_pfn_mark_dirty(pfn as c_ulong) };
        }
    }
}

/// The direct-map address of `pfn`, which must have a `struct page` (a
/// pfn `hmm_range_fault()` returned).  Computing it touches nothing.
/// 64-bit has no highmem, so only a pfn without a struct page has none.
pub(crate) fn direct_map(pfn: u64) -> Option<NonNull<u8>> {
    // SAFETY: page_address() of a lowmem page is arithmetic on the pfn.
    let kva = unsafe { gm_pfn_to_kva(pfn as c_ulong) };
    NonNull::new(kva.cast())
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
/// It is a mapping, not a frame: what the pfn is by the time the mapping
/// is used, only the MMU notifier of the memory it came from can say.
///
/// # Invariants
///
/// `addr` is a live mapping of `PAGE_SIZE` bytes of `pfn` made by
/// `gm_frame_map()`, which said whether it is an alias (`aliased`).
pub(crate) struct Remap {
    addr: NonNull<u8>,
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
        let addr = NonNull::new(addr.cast()).ok_or(EFAULT)?;
        // INVARIANT: the helper succeeded, so `addr` maps the frame.
        Ok(Remap { addr, pfn, aliased })
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

    /// The kernel address of the mapping, valid while `self` lives: what
    /// a [`Frame`] of the pfn is made from.
    pub(crate) fn kva(&self) -> NonNull<u8> {
        self.addr
    }
}

// SAFETY: a memremap() or vmap() mapping may be used and undone from any
// thread.
unsafe impl Send for Remap {}
// SAFETY: `&Remap` gives only the address and the pfn.
unsafe impl Sync for Remap {}

impl Drop for Remap {
    fn drop(&mut self) {
        // SAFETY: `addr` came from `gm_frame_map()`, which said whether it
        // is an alias (type invariants), and is not used again.
        unsafe { gm_frame_unmap(self.addr.as_ptr().cast(), self.aliased) };
    }
}
