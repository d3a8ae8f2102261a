// SPDX-License-Identifier: GPL-2.0

//! Which pfns are refcounted, and which may be marked dirty.
//!
//! KVM once read `PG_reserved` as "not RAM", which made it treat DAX pages
//! as MMIO.  The "Fix KVM misinterpreting Reserved page as an MMIO" series
//! split the question in two, and so does this file:
//!
//! * refcounted: the pfn has a `struct page` whose refcount means
//!   something, so it may be pinned and mapped through the kernel's
//!   mapping;
//! * may mark dirty: setting the page dirty or accessed is the caller's
//!   business; `PG_reserved` pages "should in general not be touched
//!   except by its owner" (page-flags.h), and the zero page never.
//!
//! Pure `core` code over facts read in C (`c/pfn.c`), whose encoding is
//! `c/guestmap.h`'s, generated for both the module and the host tests.

use crate::{
    sys::bindings::{
        gm_pgmap_GM_PGMAP_COHERENT as PGMAP_COHERENT, gm_pgmap_GM_PGMAP_FS_DAX as PGMAP_FS_DAX,
        gm_pgmap_GM_PGMAP_GENERIC as PGMAP_GENERIC,
        gm_pgmap_GM_PGMAP_PCI_P2PDMA as PGMAP_PCI_P2PDMA,
        gm_pgmap_GM_PGMAP_PRIVATE as PGMAP_PRIVATE, GM_FACT_COMPOUND, GM_FACT_PGMAP_SHIFT,
        GM_FACT_RESERVED, GM_FACT_VALID, GM_FACT_ZERO, GM_FACT_ZONE_DEVICE,
    },
    uapi,
};

/// `enum memory_type` of a ZONE_DEVICE page's pgmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceType {
    /// `MEMORY_DEVICE_PRIVATE`: device memory the CPU cannot address.
    Private,
    /// `MEMORY_DEVICE_COHERENT`: device memory the CPU can address.
    Coherent,
    /// `MEMORY_DEVICE_FS_DAX`: a DAX filesystem's pmem.
    FsDax,
    /// `MEMORY_DEVICE_GENERIC`: device-dax.
    Generic,
    /// `MEMORY_DEVICE_PCI_P2PDMA`: a PCI BAR.
    P2pdma,
}

impl DeviceType {
    /// From `enum gm_pgmap`, which `c/pfn.c` checks against the kernel's
    /// `enum memory_type` at build time.
    pub(crate) const fn from_raw(raw: u32) -> Option<DeviceType> {
        match raw {
            PGMAP_PRIVATE => Some(Self::Private),
            PGMAP_COHERENT => Some(Self::Coherent),
            PGMAP_FS_DAX => Some(Self::FsDax),
            PGMAP_GENERIC => Some(Self::Generic),
            PGMAP_PCI_P2PDMA => Some(Self::P2pdma),
            _ => None,
        }
    }
}

/// What the kernel says about a pfn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Facts {
    /// `pfn_valid()`: there is a `struct page`.
    pub(crate) has_page: bool,
    /// `PG_reserved` is set.
    pub(crate) reserved: bool,
    /// The zero page (or, if the C side could tell, the huge zero page).
    pub(crate) zero: bool,
    /// Part of a large folio.
    pub(crate) compound: bool,
    /// ZONE_DEVICE, with the pgmap's type if known (`Some(None)`: a type
    /// this module does not know).
    pub(crate) device: Option<Option<DeviceType>>,
}

impl Facts {
    /// Decodes `gm_pfn_facts()`'s word.
    pub(crate) const fn from_raw(raw: u32) -> Facts {
        let has_page = raw & GM_FACT_VALID != 0;
        Facts {
            has_page,
            reserved: has_page && raw & GM_FACT_RESERVED != 0,
            zero: has_page && raw & GM_FACT_ZERO != 0,
            compound: has_page && raw & GM_FACT_COMPOUND != 0,
            device: if has_page && raw & GM_FACT_ZONE_DEVICE != 0 {
                Some(DeviceType::from_raw(raw >> GM_FACT_PGMAP_SHIFT))
            } else {
                None
            },
        }
    }
}

/// The kind of memory behind a pfn: the `GUESTMAP_PFN_*` classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No `struct page`: MMIO, or memory the kernel never described.
    NoPage,
    /// `PG_reserved` RAM that is neither the zero page nor ZONE_DEVICE.
    Reserved,
    /// The zero page.
    Zero,
    /// An ordinary page, including the pages of THPs and hugetlb folios.
    Normal,
    /// ZONE_DEVICE memory.
    Device(DeviceType),
}

impl Kind {
    /// The `GUESTMAP_PFN_*` number.
    pub(crate) const fn uapi(self) -> u32 {
        match self {
            Self::NoPage => uapi::GUESTMAP_PFN_NO_PAGE,
            Self::Reserved => uapi::GUESTMAP_PFN_RESERVED,
            Self::Zero => uapi::GUESTMAP_PFN_ZERO,
            Self::Normal => uapi::GUESTMAP_PFN_NORMAL,
            Self::Device(DeviceType::Private) => uapi::GUESTMAP_PFN_DEVICE_PRIVATE,
            Self::Device(DeviceType::Coherent) => uapi::GUESTMAP_PFN_DEVICE_COHERENT,
            Self::Device(DeviceType::FsDax) => uapi::GUESTMAP_PFN_FS_DAX,
            Self::Device(DeviceType::Generic) => uapi::GUESTMAP_PFN_DEVICE_GENERIC,
            Self::Device(DeviceType::P2pdma) => uapi::GUESTMAP_PFN_P2PDMA,
        }
    }
}

/// The two answers about a pfn, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// What the pfn is; `None` for ZONE_DEVICE of an unknown type.
    pub(crate) kind: Option<Kind>,
    /// Refcounted: may be pinned and reached through its `struct page`.
    pub(crate) refcounted: bool,
    /// May be marked dirty or accessed.
    pub(crate) may_dirty: bool,
}

/// Classifies a pfn from its facts.
pub(crate) const fn classify(f: Facts) -> Verdict {
    let kind = if !f.has_page {
        Some(Kind::NoPage)
    } else if f.zero {
        // PG_reserved, but refcounted (as kvm_pfn_to_refcounted_page()).
        Some(Kind::Zero)
    } else if let Some(device) = f.device {
        // ZONE_DEVICE pages are PG_reserved in 6.12, yet refcounted.
        match device {
            Some(t) => Some(Kind::Device(t)),
            None => None,
        }
    } else if f.reserved {
        Some(Kind::Reserved)
    } else {
        Some(Kind::Normal)
    };
    let refcounted = match kind {
        Some(Kind::Zero | Kind::Normal) => true,
        // The pgmaps that support pinning: the CPU addresses them as RAM
        // and GUP may take references on them.  DEVICE_PRIVATE memory is
        // not CPU-addressable, and P2PDMA pins need FOLL_PCI_P2PDMA: not
        // for a hypervisor's mapping of guest memory.
        Some(Kind::Device(DeviceType::FsDax | DeviceType::Generic | DeviceType::Coherent)) => true,
        _ => false,
    };
    // The second question: only the page's owner touches a PG_reserved
    // page's flags, and the zero page is never dirty.
    let may_dirty = refcounted && !f.reserved && !f.zero;
    Verdict {
        kind,
        refcounted,
        may_dirty,
    }
}
