// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/slots.rs`: the errno classes of KVM_SET_USER_MEMORY_REGION
//! (Documentation/virt/kvm/api.rst), applied to guestmap's memslots.

use crate::{
    pte::GfnRange,
    slots::{
        aligned_gfns, byte_gfns, check, rw_gfns, Change, SlotDesc, SlotError, SlotMap, MAX_SLOTS,
    },
    uapi::{guestmap_memslot, GUESTMAP_MEM_READONLY},
};

const USER_LIMIT: u64 = 0x7FFF_FFFF_F000; // x86-64 TASK_SIZE with 4-level paging

fn req(slot: u32, gpa: u64, size: u64, hva: u64) -> guestmap_memslot {
    guestmap_memslot {
        slot,
        flags: 0,
        guest_phys_addr: gpa,
        memory_size: size,
        userspace_addr: hva,
    }
}

fn slot(id: u32, gpa: u64, size: u64) -> SlotDesc {
    SlotDesc {
        id,
        readonly: false,
        map: SlotMap {
            gfn: gpa >> 12,
            npages: size >> 12,
            hva: 0x1000_0000 + gpa,
        },
    }
}

#[test]
fn a_good_slot_is_created() {
    let mut r = req(3, 0x10_0000, 0x20_0000, 0x7F00_0000_0000);
    r.flags = GUESTMAP_MEM_READONLY;
    let c = check(&r, &[], USER_LIMIT).unwrap();
    let want = SlotDesc {
        id: 3,
        readonly: true,
        map: SlotMap {
            gfn: 0x100,
            npages: 0x200,
            hva: 0x7F00_0000_0000,
        },
    };
    assert_eq!(c, Change::Create(want));
    assert_eq!(
        want.gfns(),
        GfnRange {
            start: 0x100,
            end: 0x300
        }
    );
}

#[test]
fn bad_requests_get_their_error() {
    let ex = [slot(0, 0x0, 0x10_0000), slot(1, 0x40_0000, 0x1000)];
    let chk = |r: guestmap_memslot| check(&r, &ex, USER_LIMIT);
    let mut r = req(2, 0x20_0000, 0x1000, 0x1000_0000);
    r.flags = 2;
    assert_eq!(chk(r), Err(SlotError::Flags));
    assert_eq!(
        chk(req(MAX_SLOTS, 0x20_0000, 0x1000, 0x1000_0000)),
        Err(SlotError::Id)
    );
    assert_eq!(
        chk(req(2, 0x20_0800, 0x1000, 0x1000_0000)),
        Err(SlotError::Alignment)
    );
    assert_eq!(
        chk(req(2, 0x20_0000, 0x1800, 0x1000_0000)),
        Err(SlotError::Alignment)
    );
    assert_eq!(
        chk(req(2, 0x20_0000, 0x1000, 0x1000_0010)),
        Err(SlotError::Alignment)
    );
    // Past 2^48, and wrapping u64.
    assert_eq!(
        chk(req(2, 0xFFFF_FFFF_F000, 0x2000, 0x1000_0000)),
        Err(SlotError::GuestRange)
    );
    assert_eq!(
        chk(req(2, u64::MAX - 0xFFF, 0x2000, 0x1000_0000)),
        Err(SlotError::GuestRange)
    );
    // Ending exactly at 2^48 is fine.
    assert!(chk(req(2, 0xFFFF_FFFF_F000, 0x1000, 0x1000_0000)).is_ok());
    assert_eq!(
        chk(req(2, 0x20_0000, 0x2000, USER_LIMIT - 0x1000)),
        Err(SlotError::UserRange)
    );
    assert_eq!(
        chk(req(2, 0x20_0000, 0x2000, u64::MAX - 0xFFF)),
        Err(SlotError::UserRange)
    );
    assert_eq!(
        chk(req(1, 0x80_0000, 0x1000, 0x1000_0000)),
        Err(SlotError::IdInUse)
    );
    // Overlaps: inside, straddling either end, enclosing.
    assert_eq!(
        chk(req(2, 0x8_0000, 0x1000, 0x1000_0000)),
        Err(SlotError::Overlap(0))
    );
    assert_eq!(
        chk(req(2, 0x3F_F000, 0x2000, 0x1000_0000)),
        Err(SlotError::Overlap(1))
    );
    assert_eq!(
        chk(req(2, 0x40_0000, 0x1000, 0x1000_0000)),
        Err(SlotError::Overlap(1))
    );
    assert_eq!(
        chk(req(2, 0x30_0000, 0x20_0000, 0x1000_0000)),
        Err(SlotError::Overlap(1))
    );
    // Adjacent on both sides is not an overlap.
    assert!(chk(req(2, 0x10_0000, 0x30_0000, 0x1000_0000)).is_ok());
    assert!(chk(req(2, 0x40_1000, 0x1000, 0x1000_0000)).is_ok());
    assert!(SlotError::Overlap(0).is_conflict() && SlotError::IdInUse.is_conflict());
    assert!(!SlotError::Alignment.is_conflict());
}

#[test]
fn size_zero_deletes_an_existing_slot_only() {
    let ex = [slot(5, 0, 0x1000)];
    // Other fields are ignored on delete, as in KVM.
    assert_eq!(
        check(&req(5, 0x123, 0, 0x7), &ex, USER_LIMIT),
        Ok(Change::Delete(5))
    );
    assert_eq!(
        check(&req(6, 0, 0, 0), &ex, USER_LIMIT),
        Err(SlotError::NoSuchSlot)
    );
}

#[test]
fn guest_ranges_for_fault_and_access() {
    assert_eq!(
        aligned_gfns(0x2000, 0x3000),
        Some(GfnRange { start: 2, end: 5 })
    );
    assert_eq!(aligned_gfns(0x2000, 0), None);
    assert_eq!(aligned_gfns(0x2001, 0x1000), None);
    assert_eq!(aligned_gfns(u64::MAX & !0xFFF, 0x2000), None);
    assert_eq!(byte_gfns(0x1FFF, 2), Some(GfnRange { start: 1, end: 3 }));
    assert_eq!(
        byte_gfns(0x1000, 0x1000),
        Some(GfnRange { start: 1, end: 2 })
    );
    assert_eq!(byte_gfns(0x1000, 0), None);
    assert_eq!(byte_gfns(u64::MAX, 2), None);
}

#[test]
fn guest_ranges_end_at_the_guest_address_width() {
    // GUESTMAP_GPA_BITS is 48 (include/uapi/linux/guestmap.h): the last
    // page is gfn 2^36 - 1, and nothing may alias above it.
    let top = 1u64 << 48;
    assert_eq!(
        aligned_gfns(top - 0x1000, 0x1000),
        Some(GfnRange {
            start: (1 << 36) - 1,
            end: 1 << 36
        })
    );
    assert_eq!(aligned_gfns(top, 0x1000), None);
    assert_eq!(aligned_gfns(top - 0x1000, 0x2000), None);
    assert_eq!(aligned_gfns(top | 0x40000000, 0x1000), None);
    assert_eq!(
        byte_gfns(top - 1, 1),
        Some(GfnRange {
            start: (1 << 36) - 1,
            end: 1 << 36
        })
    );
    assert_eq!(byte_gfns(top - 1, 2), None);
    assert_eq!(byte_gfns(top, 1), None);
    assert_eq!(rw_gfns(top + 0x1000, 8), None);
}

#[test]
fn guest_accesses_are_at_most_one_mebibyte() {
    // GUESTMAP_RW_MAX is 1 << 20 (include/uapi/linux/guestmap.h).
    assert_eq!(
        rw_gfns(0x1000, 1 << 20),
        Some(GfnRange { start: 1, end: 257 })
    );
    assert_eq!(rw_gfns(0x1000, (1 << 20) + 1), None);
    assert_eq!(rw_gfns(0x1000, 0), None);
}

#[test]
fn hva_ranges_map_to_the_pages_they_touch() {
    let s = SlotMap {
        gfn: 0x100,
        npages: 16,
        hva: 0x7000_0000,
    };
    let r = |start, end| s.hva_to_gfns(start, end);
    // Whole slot, and beyond it on both sides.
    assert_eq!(
        r(0, u64::MAX),
        Some(GfnRange {
            start: 0x100,
            end: 0x110
        })
    );
    // One page.
    assert_eq!(
        r(0x7000_3000, 0x7000_4000),
        Some(GfnRange {
            start: 0x103,
            end: 0x104
        })
    );
    // One byte in page 5, and a range straddling pages 1 and 2.
    assert_eq!(
        r(0x7000_5FFF, 0x7000_6000),
        Some(GfnRange {
            start: 0x105,
            end: 0x106
        })
    );
    assert_eq!(
        r(0x7000_1800, 0x7000_2001),
        Some(GfnRange {
            start: 0x101,
            end: 0x103
        })
    );
    // Touching but outside.
    assert_eq!(r(0x6FFF_0000, 0x7000_0000), None);
    assert_eq!(r(0x7001_0000, 0x7002_0000), None);
    assert_eq!(s.gfn_to_hva(0x10F), 0x7000_F000);
    assert!(s.contains(GfnRange {
        start: 0x100,
        end: 0x110
    }));
    assert!(!s.contains(GfnRange {
        start: 0x10F,
        end: 0x111
    }));
    assert!(!s.contains(GfnRange {
        start: 0x105,
        end: 0x105
    }));
}

// The largest entry for a gfn: KVM's kvm_mmu_max_mapping_level() rules,
// no larger than the CPU's mapping (order 9 is a PMD, 18 a PUD), the
// aligned block inside the slot, gfn, user page and pfn aligned alike.

fn mapped(gpa: u64, size: u64, hva: u64) -> SlotDesc {
    SlotDesc {
        id: 0,
        readonly: false,
        map: SlotMap {
            gfn: gpa >> 12,
            npages: size >> 12,
            hva,
        },
    }
}

const M2: u64 = 2 << 20;
const G1: u64 = 1 << 30;

#[test]
fn leaf_level_follows_the_cpu_mapping() {
    let s = mapped(G1, G1, 0x7f00_0000_0000);
    let gfn = (G1 >> 12) + 0x205;
    assert_eq!(s.leaf_level(gfn, 0, 0x1005), 1);
    assert_eq!(s.leaf_level(gfn, 9, 0x1005), 2);
    assert_eq!(s.leaf_level(gfn, 18, 0x40205), 3);
    // A PUD-mapped pfn not aligned alike at 1 GiB is still a 2 MiB one.
    assert_eq!(s.leaf_level(gfn, 18, 0x1005), 2);
    // A pfn not aligned alike even at 2 MiB: 4 KiB.
    assert_eq!(s.leaf_level(gfn, 9, 0x1004), 1);
}

#[test]
fn leaf_level_needs_the_block_inside_the_slot() {
    // A slot of 3 MiB: the second 2 MiB block is cut by its end.
    let s = mapped(M2, 3 << 20, 0x7f00_0020_0000);
    assert_eq!(s.leaf_level(M2 >> 12, 9, 0x200), 2);
    assert_eq!(s.leaf_level((2 * M2) >> 12, 9, 0x400), 1);
    // 1 GiB-mapped memory in a 2 MiB-sized slot: 2 MiB at most.
    let s = mapped(G1, M2, 0x7f00_4000_0000);
    assert_eq!(s.leaf_level(G1 >> 12, 18, 0x40000), 2);
}

#[test]
fn leaf_level_needs_gpa_and_hva_aligned_alike() {
    // hva - gpa is 1 MiB off a 2 MiB multiple.
    let s = mapped(M2, 4 * M2, 0x7f00_0030_0000);
    assert_eq!(s.leaf_level(M2 >> 12, 9, 0x200), 1);
    // 2 MiB-aligned alike but not 1 GiB: 2 MiB at most.
    let s = mapped(G1, G1, 0x7f00_0020_0000);
    assert_eq!(s.leaf_level(G1 >> 12, 18, 0x40000), 2);
}

#[test]
fn leaf_level_is_4k_on_a_readonly_slot() {
    let mut s = mapped(G1, G1, 0x7f00_0000_0000);
    s.readonly = true;
    assert_eq!(s.leaf_level(G1 >> 12, 18, 0x40000), 1);
}
