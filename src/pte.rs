// SPDX-License-Identifier: GPL-2.0

//! The mirror's page-table format: entry encoding and index maths.
//!
//! The mirror is a radix tree over guest frame numbers shaped like x86's
//! 4-level paging: four levels of 512 entries, 9 bits of the gfn each, for
//! a 36-bit gfn (48-bit guest physical address).  Pure `core` code, unit
//! tested on the host.

use crate::uapi;

/// log2 of the number of entries in one table.
pub(crate) const TABLE_BITS: u32 = 9;
/// Entries in one table: a table is one 4 KiB page of 8-byte entries.
pub(crate) const TABLE_ENTRIES: usize = 1 << TABLE_BITS;
/// Levels of the tree; level 1 holds the leaf entries.
pub(crate) const LEVELS: u32 = 4;
/// Width of a guest frame number.
pub(crate) const GFN_BITS: u32 = TABLE_BITS * LEVELS;
/// Guest page size.  The mirror works in host pages, as KVM's does.
pub(crate) const PAGE_SHIFT: u32 = 12;

const _: () = assert!(GFN_BITS + PAGE_SHIFT == uapi::GUESTMAP_GPA_BITS);

/// Index into the table at `level` (1 = leaf) of the entry for `gfn`.
pub(crate) const fn index(gfn: u64, level: u32) -> usize {
    ((gfn >> ((level - 1) * TABLE_BITS)) as usize) & (TABLE_ENTRIES - 1)
}

/// Number of gfns one entry of a table at `level` covers.
pub(crate) const fn span(level: u32) -> u64 {
    1 << ((level - 1) * TABLE_BITS)
}

/// A half-open range of guest frame numbers, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GfnRange {
    /// First gfn.
    pub(crate) start: u64,
    /// One past the last gfn.
    pub(crate) end: u64,
}

impl GfnRange {
    /// Whether the range holds no gfn.
    pub(crate) const fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// Whether `start..start + len` lies wholly inside the range.
    pub(crate) const fn covers(&self, start: u64, len: u64) -> bool {
        self.start <= start && start + len <= self.end
    }

    /// The part of the range inside `start..start + len`, or `None`.
    pub(crate) fn clamp(&self, start: u64, len: u64) -> Option<GfnRange> {
        let r = GfnRange {
            start: self.start.max(start),
            end: self.end.min(start + len),
        };
        (!r.is_empty()).then_some(r)
    }
}

/// What backs a mirror entry: the `GUESTMAP_CLASS_*` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PfnClass {
    /// An ordinary page with a refcounted `struct page`.
    Page,
    /// The shared zero page.
    Zero,
    /// A bare pfn from a `VM_PFNMAP` or `VM_IO` mapping.
    PfnMap,
}

impl PfnClass {
    const fn raw(self) -> u64 {
        match self {
            Self::Page => uapi::GUESTMAP_CLASS_PAGE as u64,
            Self::Zero => uapi::GUESTMAP_CLASS_ZERO as u64,
            Self::PfnMap => uapi::GUESTMAP_CLASS_PFNMAP as u64,
        }
    }

    const fn from_raw(raw: u64) -> Option<Self> {
        match raw {
            r if r == uapi::GUESTMAP_CLASS_PAGE as u64 => Some(Self::Page),
            r if r == uapi::GUESTMAP_CLASS_ZERO as u64 => Some(Self::Zero),
            r if r == uapi::GUESTMAP_CLASS_PFNMAP as u64 => Some(Self::PfnMap),
            _ => None,
        }
    }
}

/// One leaf entry of the mirror.
///
/// The encoding is the one `GUESTMAP_QUERY` reports, so an entry reaches
/// user space as is, less the pfn for the unprivileged: bit 0 present,
/// bit 1 writable, bits 2-3 the [`PfnClass`], bits 4-5 the size (the
/// level of the table that holds it, less one: 0 for 4 KiB, 1 for 2 MiB,
/// 2 for 1 GiB), bits 12-63 the pfn.  Zero is the empty entry.
///
/// A huge entry is stored once, with the pfn of its first page, in the
/// directory table of its level; [`Pte::page`] gives the entry of one page
/// under it, as reads of the tree and `GUESTMAP_QUERY` see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub(crate) struct Pte(u64);

const PRESENT: u64 = uapi::GUESTMAP_PAGE_PRESENT as u64;
const WRITABLE: u64 = uapi::GUESTMAP_PAGE_WRITABLE as u64;
const CLASS_SHIFT: u32 = uapi::GUESTMAP_PAGE_CLASS_SHIFT;
const CLASS_MASK: u64 = uapi::GUESTMAP_PAGE_CLASS_MASK as u64;
const PFN_SHIFT: u32 = uapi::GUESTMAP_PAGE_PFN_SHIFT;
const SIZE_SHIFT: u32 = uapi::GUESTMAP_PAGE_SIZE_SHIFT;
const SIZE_MASK: u64 = uapi::GUESTMAP_PAGE_SIZE_MASK as u64;

const _: () = assert!(uapi::GUESTMAP_PAGE_SIZE_4K == 0);
const _: () = assert!(uapi::GUESTMAP_PAGE_SIZE_2M == 1);
const _: () = assert!(uapi::GUESTMAP_PAGE_SIZE_1G == 2);

/// The largest level a leaf entry may sit at: 1 GiB entries in the
/// level-3 tables.
pub(crate) const MAX_LEAF_LEVEL: u32 = 3;

/// The largest pfn an entry can hold.
pub(crate) const MAX_PFN: u64 = u64::MAX >> PFN_SHIFT;

impl Pte {
    /// The empty entry.
    pub(crate) const NONE: Pte = Pte(0);

    /// A present entry for `pfn`, or `None` if `pfn` does not fit.
    pub(crate) const fn new(pfn: u64, writable: bool, class: PfnClass) -> Option<Pte> {
        if pfn > MAX_PFN {
            return None;
        }
        let w = if writable { WRITABLE } else { 0 };
        Some(Pte((pfn << PFN_SHIFT)
            | (class.raw() << CLASS_SHIFT)
            | w
            | PRESENT))
    }

    /// The entry stored as `raw` in a table.
    pub(crate) const fn from_raw(raw: u64) -> Pte {
        Pte(raw)
    }

    /// The entry as stored in a table.
    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    /// Whether the entry maps a page.
    pub(crate) const fn is_present(self) -> bool {
        self.0 & PRESENT != 0
    }

    /// Whether the guest may write through the entry.
    pub(crate) const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// The pfn the entry maps.
    pub(crate) const fn pfn(self) -> u64 {
        self.0 >> PFN_SHIFT
    }

    /// What backs the entry, if it is present.
    pub(crate) const fn class(self) -> Option<PfnClass> {
        if !self.is_present() {
            return None;
        }
        PfnClass::from_raw((self.0 & CLASS_MASK) >> CLASS_SHIFT)
    }

    /// The entry with write permission.
    pub(crate) const fn with_write(self) -> Pte {
        Pte(self.0 | WRITABLE)
    }

    /// The entry with write permission removed.
    pub(crate) const fn wrprotect(self) -> Pte {
        Pte(self.0 & !WRITABLE)
    }

    /// The level of the table that holds the entry: 1 for a 4 KiB entry,
    /// 2 for 2 MiB, 3 for 1 GiB.
    pub(crate) const fn level(self) -> u32 {
        ((self.0 & SIZE_MASK) >> SIZE_SHIFT) as u32 + 1
    }

    /// The entry at `level` (1 to [`MAX_LEAF_LEVEL`]): a huge entry whose
    /// pfn is that of its first page.  `None` for another level, or a pfn
    /// not aligned to the entry's size (the CPU maps a huge page only at
    /// an aligned pfn).
    pub(crate) const fn at_level(self, level: u32) -> Option<Pte> {
        if level < 1 || level > MAX_LEAF_LEVEL || self.pfn() % span(level) != 0 {
            return None;
        }
        Some(Pte(
            (self.0 & !SIZE_MASK) | (((level - 1) as u64) << SIZE_SHIFT)
        ))
    }

    /// The entry of the page `offset` pages into this one (which may be
    /// huge), with this entry's size: what a read of the tree returns for
    /// that page.
    pub(crate) const fn page(self, offset: u64) -> Pte {
        Pte(self.0 + (offset << PFN_SHIFT))
    }

    /// The `GUESTMAP_QUERY` word for the entry; the pfn only if `show_pfn`.
    pub(crate) const fn query_word(self, show_pfn: bool) -> u64 {
        if show_pfn {
            self.0
        } else {
            self.0 & ((1 << PFN_SHIFT) - 1)
        }
    }
}
