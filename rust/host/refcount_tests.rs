// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/refcount.rs`.  The expected answers are written down from
//! the kernel's rules: kvm_pfn_to_refcounted_page() in 6.12's
//! virt/kvm/kvm_main.c (refcounted: valid and not reserved, or the zero
//! page, or ZONE_DEVICE), the "Fix KVM misinterpreting Reserved page as an
//! MMIO" series (pinning only where the pgmap supports it), and
//! kvm_is_ad_tracked_page() (dirty/accessed only for !PG_reserved).

use crate::refcount::{classify, DeviceType, Facts, Kind};

// gm_pfn_facts() bits, as c/guestmap.h defines them, written out here so
// that a change of the generated encoding fails these tests.
const VALID: u32 = 1;
const RESERVED: u32 = 2;
const ZERO: u32 = 4;
const COMPOUND: u32 = 8;
const ZONE_DEVICE: u32 = 16;

// enum memory_type, include/linux/memremap.h.
const fn pgmap(t: u32) -> u32 {
    ZONE_DEVICE | (t << 8)
}

#[test]
fn each_kind_of_memory_gets_its_two_answers() {
    // (facts word, kind, refcounted, may mark dirty)
    let table = [
        // MMIO or memory without a memmap.
        (0, Some(Kind::NoPage), false, false),
        // memmap=nn$ss RAM, the kernel image, firmware tables.
        (VALID | RESERVED, Some(Kind::Reserved), false, false),
        // ZERO_PAGE is PG_reserved but refcounted, and never dirty.
        (VALID | RESERVED | ZERO, Some(Kind::Zero), true, false),
        // The huge zero page is not PG_reserved; still never dirty.
        (VALID | ZERO | COMPOUND, Some(Kind::Zero), true, false),
        (VALID, Some(Kind::Normal), true, true),
        // A THP or hugetlb page, head or tail.
        (VALID | COMPOUND, Some(Kind::Normal), true, true),
        // ZONE_DEVICE pages are PG_reserved in 6.12 (mm_init.c).
        (
            VALID | RESERVED | pgmap(3),
            Some(Kind::Device(DeviceType::FsDax)),
            true,
            false,
        ),
        (
            VALID | RESERVED | pgmap(4),
            Some(Kind::Device(DeviceType::Generic)),
            true,
            false,
        ),
        (
            VALID | RESERVED | pgmap(2),
            Some(Kind::Device(DeviceType::Coherent)),
            true,
            false,
        ),
        (
            VALID | RESERVED | pgmap(1),
            Some(Kind::Device(DeviceType::Private)),
            false,
            false,
        ),
        (
            VALID | RESERVED | pgmap(5),
            Some(Kind::Device(DeviceType::P2pdma)),
            false,
            false,
        ),
        // A pgmap type from a newer kernel: neither.
        (VALID | RESERVED | pgmap(9), None, false, false),
    ];
    for (raw, kind, refcounted, may_dirty) in table {
        let v = classify(Facts::from_raw(raw));
        assert_eq!(
            (v.kind, v.refcounted, v.may_dirty),
            (kind, refcounted, may_dirty),
            "{raw:#x}"
        );
    }
}

#[test]
fn the_old_reserved_test_would_have_called_dax_mmio() {
    // kvm_is_reserved_pfn() before the series: reserved = !valid ||
    // PageReserved.  For an FS_DAX page that says "MMIO"; the classifier
    // says refcounted, which is what the series fixed.
    let dax = VALID | RESERVED | pgmap(3);
    let old_reserved = dax & VALID == 0 || dax & RESERVED != 0;
    assert!(old_reserved);
    assert!(classify(Facts::from_raw(dax)).refcounted);
}

#[test]
fn flags_without_a_page_mean_nothing() {
    // Only VALID says the other bits were read from a struct page.
    let f = Facts::from_raw(RESERVED | ZERO | COMPOUND | pgmap(3));
    assert_eq!(f, Facts::default());
    assert_eq!(classify(f).kind, Some(Kind::NoPage));
}

#[test]
fn kinds_have_the_uapi_numbers() {
    assert_eq!(Kind::NoPage.uapi(), 1);
    assert_eq!(Kind::Reserved.uapi(), 2);
    assert_eq!(Kind::Zero.uapi(), 3);
    assert_eq!(Kind::Normal.uapi(), 4);
    assert_eq!(Kind::Device(DeviceType::Private).uapi(), 5);
    assert_eq!(Kind::Device(DeviceType::Coherent).uapi(), 6);
    assert_eq!(Kind::Device(DeviceType::FsDax).uapi(), 7);
    assert_eq!(Kind::Device(DeviceType::Generic).uapi(), 8);
    assert_eq!(Kind::Device(DeviceType::P2pdma).uapi(), 9);
}
