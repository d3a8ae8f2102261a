// SPDX-License-Identifier: GPL-2.0

//! Guest memory the ways a hypervisor reaches it, by gpa:
//!
//! * [`GuestPage`], like `kvm_vcpu_map()`/`kvm_vcpu_unmap()`: the page is
//!   pinned and kmapped if it has a `struct page`, memremapped if not;
//!   unmapping marks it dirty only where `src/refcount.rs` allows;
//! * [`read`]/[`write`], like `kvm_read_guest()`: a copy through the user
//!   mapping, no kernel mapping at all;
//! * [`GuestPage::cmpxchg_u64`], like `emulator_cmpxchg_emulated()`;
//! * pfn caches (`src/pfncache.rs`), like `gfn_to_pfn_cache`.

use crate::{
    ext::map::HostMap,
    pte::{GfnRange, PAGE_SHIFT},
    refcount::{classify, Facts},
    slots::SlotDesc,
};
use kernel::{page::PAGE_SIZE, prelude::*, uaccess::UserSlice};

/// A guest frame mapped into the kernel.
pub(crate) struct GuestPage {
    map: HostMap,
}

impl GuestPage {
    /// Maps guest frame `gfn` of `slot`, for writing if `write`; a write
    /// mapping of a READONLY slot is `EPERM`.
    pub(crate) fn map(slot: &SlotDesc, gfn: u64, write: bool) -> Result<GuestPage> {
        if write && slot.readonly {
            return Err(EPERM);
        }
        let gfns = GfnRange {
            start: gfn,
            end: gfn + 1,
        };
        if !slot.map.contains(gfns) {
            return Err(ENOENT);
        }
        let map = HostMap::new(slot.map.gfn_to_hva(gfn), write)?;
        Ok(GuestPage { map })
    }

    /// Whether the page is reached through `memremap()`.
    pub(crate) fn is_remapped(&self) -> bool {
        self.map.is_remapped()
    }

    /// Copies bytes `off..off + buf.len()` of the page into `buf`.
    pub(crate) fn read(&self, off: usize, buf: &mut [u8]) -> Result {
        self.map.read(off, buf)
    }

    /// Copies `buf` to `off`.
    pub(crate) fn write(&self, off: usize, buf: &[u8]) -> Result {
        self.map.write(off, buf)
    }

    /// Atomic compare-exchange of the u64 at `off`; the value found.
    pub(crate) fn cmpxchg_u64(&self, off: usize, old: u64, new: u64) -> Result<u64> {
        self.map.cmpxchg_u64(off, old, new)
    }

    /// Unmaps; `dirty` asks for the page to be marked dirty, which is
    /// done only if the page may be (never the zero page, a `PG_reserved`
    /// page or ZONE_DEVICE memory), as the refcount series asked.
    pub(crate) fn unmap(self, dirty: bool) {
        let may_dirty = classify(Facts::from_raw(self.map.facts())).may_dirty;
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
