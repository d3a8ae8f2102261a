// SPDX-License-Identifier: GPL-2.0

//! Copies to and from guest memory through the memslots' user mappings,
//! as `kvm_vcpu_read_guest()` and `kvm_vcpu_write_guest()` do: page by
//! page, each page in whatever slot holds it, with the caller holding
//! the slot table shared so no slot goes away under the copy.
//!
//! A copy that meets no slot fails with `ENOENT`; one whose user memory
//! is gone or inaccessible (munmap, PROT_NONE, a read-only mapping for a
//! write) fails with `EFAULT`, from the user copy itself; a write to a
//! read-only slot fails with `EPERM`, as KVM's write to a read-only
//! memslot fails.  Nothing here keeps a mapping or a page.

use crate::{
    pte::{GfnRange, PAGE_SHIFT},
    slot_table::SlotTable,
};
use kernel::{page::PAGE_SIZE, prelude::*, uaccess::UserSlice};

/// Runs `f(hva, start, len)` for each page-sized piece of `len` bytes of
/// guest memory at `gpa`, where `start` is the piece's offset in the
/// copy; `write` refuses read-only slots.
fn each_piece(
    slots: &SlotTable,
    gpa: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(usize, usize, usize) -> Result,
) -> Result {
    let mut done = 0usize;
    while done < len {
        let at = gpa.checked_add(done as u64).ok_or(EFAULT)?;
        let gfn = at >> PAGE_SHIFT;
        let off = (at as usize) & (PAGE_SIZE - 1);
        let n = (len - done).min(PAGE_SIZE - off);
        let slot = slots.find(GfnRange {
            start: gfn,
            end: gfn + 1,
        })?;
        if write && slot.data().desc().readonly {
            return Err(EPERM);
        }
        let hva = slot.data().desc().map.gfn_to_hva(gfn) + off as u64;
        f(hva as usize, done, n)?;
        done += n;
    }
    Ok(())
}

/// Copies guest memory at `gpa` into `buf`.
pub(crate) fn read(slots: &SlotTable, gpa: u64, buf: &mut [u8]) -> Result {
    each_piece(slots, gpa, buf.len(), false, |hva, at, n| {
        let chunk = buf.get_mut(at..at + n).ok_or(EINVAL)?;
        UserSlice::new(hva, n).reader().read_slice(chunk)
    })
}

/// Copies `buf` into guest memory at `gpa`.  A copy that fails part way
/// has written the pages before the one that failed, as KVM's does.
pub(crate) fn write(slots: &SlotTable, gpa: u64, buf: &[u8]) -> Result {
    each_piece(slots, gpa, buf.len(), true, |hva, at, n| {
        let chunk = buf.get(at..at + n).ok_or(EINVAL)?;
        UserSlice::new(hva, n).writer().write_slice(chunk)
    })
}

/// The u32 of guest memory at `gpa`, or `None` if it cannot be read.
pub(crate) fn read_u32(slots: &SlotTable, gpa: u64) -> Option<u32> {
    let mut b = [0u8; 4];
    read(slots, gpa, &mut b).ok()?;
    Some(u32::from_le_bytes(b))
}
