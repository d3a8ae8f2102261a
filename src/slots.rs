// SPDX-License-Identifier: GPL-2.0

//! Memslots as pure `core` code: where a slot maps ([`SlotMap`]), the
//! rules of `GUESTMAP_SET_MEMSLOT`, and the checks of guest ranges.

use crate::{
    pte::{span, GfnRange, MAX_LEAF_LEVEL, PAGE_SHIFT, TABLE_BITS},
    uapi,
};

/// Most memslots a context may have.
pub(crate) const MAX_SLOTS: u32 = uapi::GUESTMAP_MAX_MEMSLOTS;

const PAGE_MASK: u64 = (1 << PAGE_SHIFT) - 1;
const GPA_LIMIT: u64 = 1 << uapi::GUESTMAP_GPA_BITS;

/// Where a slot maps: the guest frames `gfn..gfn + npages` are the user
/// pages from `hva` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotMap {
    /// First guest frame.
    pub(crate) gfn: u64,
    /// Number of pages.
    pub(crate) npages: u64,
    /// User address of the first page.
    pub(crate) hva: u64,
}

impl SlotMap {
    /// The gfns whose user pages intersect the user range `start..end`
    /// (byte addresses, any alignment), or `None` if there are none.
    ///
    /// A partly covered page counts: an invalidation of any byte of a page
    /// invalidates the whole page.
    pub(crate) fn hva_to_gfns(&self, start: u64, end: u64) -> Option<GfnRange> {
        let slot_end = self.hva + (self.npages << PAGE_SHIFT);
        let start = start.max(self.hva);
        let end = end.min(slot_end);
        if start >= end {
            return None;
        }
        let first = (start - self.hva) >> PAGE_SHIFT;
        let last = (end - 1 - self.hva) >> PAGE_SHIFT;
        Some(GfnRange {
            start: self.gfn + first,
            end: self.gfn + last + 1,
        })
    }

    /// The user address of guest frame `gfn`, which must be in the slot.
    pub(crate) fn gfn_to_hva(&self, gfn: u64) -> u64 {
        self.hva + ((gfn - self.gfn) << PAGE_SHIFT)
    }

    /// Whether `gfns` lies wholly inside the slot.
    pub(crate) fn contains(&self, gfns: GfnRange) -> bool {
        !gfns.is_empty() && gfns.start >= self.gfn && gfns.end <= self.gfn + self.npages
    }
}

/// A valid, existing memslot as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotDesc {
    /// Slot id.
    pub(crate) id: u32,
    /// Whether the guest may only read the slot.
    pub(crate) readonly: bool,
    /// Where the slot maps.
    pub(crate) map: SlotMap,
}

impl SlotDesc {
    /// The level of the largest entry that may map guest frame `gfn` of
    /// the slot (1 for 4 KiB, 2 for 2 MiB, 3 for 1 GiB), when the CPU maps
    /// its user page with a page of `cpu_order` (log2 of its pages) at
    /// `pfn`, as KVM's `kvm_mmu_max_mapping_level()` decides it: no larger
    /// than the CPU's; the whole aligned block of guest frames inside the
    /// slot; the guest frame, the user page and the pfn aligned alike
    /// within it, so that one entry maps what the CPU maps.  A READONLY
    /// slot keeps 4 KiB entries: such slots are small (firmware, option
    /// ROMs), and a write to one is an exit to user space per page anyway.
    pub(crate) fn leaf_level(&self, gfn: u64, cpu_order: u32, pfn: u64) -> u32 {
        if self.readonly {
            return 1;
        }
        let vfn = self.map.gfn_to_hva(gfn) >> PAGE_SHIFT;
        (2..=MAX_LEAF_LEVEL)
            .rev()
            .find(|&level| {
                let pages = span(level);
                let base = gfn & !(pages - 1);
                cpu_order >= (level - 1) * TABLE_BITS
                    && self.map.contains(GfnRange {
                        start: base,
                        end: base + pages,
                    })
                    && (gfn ^ vfn) & (pages - 1) == 0
                    && (gfn ^ pfn) & (pages - 1) == 0
            })
            .unwrap_or(1)
    }

    /// The slot's guest frames.
    pub(crate) fn gfns(&self) -> GfnRange {
        GfnRange {
            start: self.map.gfn,
            end: self.map.gfn + self.map.npages,
        }
    }
}

/// What a valid request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Add this slot.
    Create(SlotDesc),
    /// Delete slot `id`.
    Delete(u32),
}

/// Why a request is refused.  Each maps to one errno at the ioctl
/// boundary, and each says what was wrong in the log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotError {
    /// Unknown flag bits (EINVAL).
    Flags,
    /// Slot id out of range (EINVAL).
    Id,
    /// An address or the size is not page aligned (EINVAL).
    Alignment,
    /// The guest range wraps or leaves the guest address space (EINVAL).
    GuestRange,
    /// The user range wraps or leaves user space (EINVAL).
    UserRange,
    /// Deleting a slot that does not exist (EINVAL).
    NoSuchSlot,
    /// The slot id is in use (EEXIST).
    IdInUse,
    /// The guest range overlaps slot `.0` (EEXIST).
    Overlap(u32),
}

impl SlotError {
    /// Whether the errno is EEXIST rather than EINVAL.
    pub(crate) const fn is_conflict(self) -> bool {
        matches!(self, Self::IdInUse | Self::Overlap(_))
    }
}

/// Checks `req` against the existing slots.
///
/// `user_limit` is the end of user space (`TASK_SIZE`): the user range
/// must end at or below it.
pub(crate) fn check<'a>(
    req: &uapi::guestmap_memslot,
    existing: impl IntoIterator<Item = &'a SlotDesc> + Clone,
    user_limit: u64,
) -> Result<Change, SlotError> {
    if req.flags & !uapi::GUESTMAP_MEM_READONLY != 0 {
        return Err(SlotError::Flags);
    }
    if req.slot >= MAX_SLOTS {
        return Err(SlotError::Id);
    }
    let in_use = existing.clone().into_iter().any(|s| s.id == req.slot);
    if req.memory_size == 0 {
        return if in_use {
            Ok(Change::Delete(req.slot))
        } else {
            Err(SlotError::NoSuchSlot)
        };
    }
    if (req.guest_phys_addr | req.memory_size | req.userspace_addr) & PAGE_MASK != 0 {
        return Err(SlotError::Alignment);
    }
    match req.guest_phys_addr.checked_add(req.memory_size) {
        Some(end) if end <= GPA_LIMIT => {}
        _ => return Err(SlotError::GuestRange),
    }
    match req.userspace_addr.checked_add(req.memory_size) {
        Some(end) if end <= user_limit => {}
        _ => return Err(SlotError::UserRange),
    }
    if in_use {
        return Err(SlotError::IdInUse);
    }
    let desc = SlotDesc {
        id: req.slot,
        readonly: req.flags & uapi::GUESTMAP_MEM_READONLY != 0,
        map: SlotMap {
            gfn: req.guest_phys_addr >> PAGE_SHIFT,
            npages: req.memory_size >> PAGE_SHIFT,
            hva: req.userspace_addr,
        },
    };
    let new = desc.gfns();
    if let Some(other) = existing
        .into_iter()
        .find(|s| s.gfns().start < new.end && new.start < s.gfns().end)
    {
        return Err(SlotError::Overlap(other.id));
    }
    Ok(Change::Create(desc))
}

/// Checks a guest range of `len` bytes from `gpa` for an ioctl that needs
/// it page aligned: the gfns it spans, or `None` if it is empty,
/// unaligned, wraps or leaves the guest address space.
pub(crate) fn aligned_gfns(gpa: u64, len: u64) -> Option<GfnRange> {
    if len == 0 || (gpa | len) & PAGE_MASK != 0 {
        return None;
    }
    let end = gpa.checked_add(len).filter(|&end| end <= GPA_LIMIT)?;
    Some(GfnRange {
        start: gpa >> PAGE_SHIFT,
        end: end >> PAGE_SHIFT,
    })
}

/// The gfns touched by `len` bytes from `gpa` (any alignment), or `None`
/// if the range is empty, wraps or leaves the guest address space
/// (`GUESTMAP_GPA_BITS`): every ioctl refuses such an address the same
/// way, and none may alias it onto a lower one.
pub(crate) fn byte_gfns(gpa: u64, len: u64) -> Option<GfnRange> {
    if len == 0 {
        return None;
    }
    let last = gpa.checked_add(len - 1).filter(|&last| last < GPA_LIMIT)?;
    Some(GfnRange {
        start: gpa >> PAGE_SHIFT,
        end: (last >> PAGE_SHIFT) + 1,
    })
}

/// The gfns of a guest access of `len` bytes from `gpa` (any alignment,
/// at most `GUESTMAP_RW_MAX` bytes), or `None` if it is empty, too long
/// or wraps.
pub(crate) fn rw_gfns(gpa: u64, len: u64) -> Option<GfnRange> {
    if len > u64::from(uapi::GUESTMAP_RW_MAX) {
        return None;
    }
    byte_gfns(gpa, len)
}
