// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/pte.rs`.  Index expectations come from the x86 4-level
//! paging layout (SDM vol. 3, "4-Level Paging": PML4 bits 47:39, PDPT
//! 38:30, PD 29:21, PT 20:12 of the address), not from the code.

use crate::pte::{index, span, GfnRange, PfnClass, Pte, MAX_PFN, TABLE_ENTRIES};

fn x86_index(gpa: u64, level: u32) -> usize {
    let (hi, lo) = match level {
        4 => (47, 39),
        3 => (38, 30),
        2 => (29, 21),
        1 => (20, 12),
        _ => unreachable!(),
    };
    ((gpa >> lo) & ((1 << (hi - lo + 1)) - 1)) as usize
}

#[test]
fn indices_match_x86_four_level_paging() {
    for gpa in [
        0u64,
        0x1000,
        0x20_0000,
        0x4000_0000,
        0x80_0000_0000,
        0xFFFF_FFFF_F000,
        0x1234_5678_9000,
        0x7F3A_5C1D_E000,
    ] {
        for level in 1..=4 {
            assert_eq!(
                index(gpa >> 12, level),
                x86_index(gpa, level),
                "{gpa:#x} L{level}"
            );
        }
    }
}

#[test]
fn spans_are_4k_2m_1g_512g_in_pages() {
    assert_eq!(span(1) << 12, 4 << 10);
    assert_eq!(span(2) << 12, 2 << 20);
    assert_eq!(span(3) << 12, 1 << 30);
    assert_eq!(span(4) << 12, 512 << 30);
    assert_eq!(TABLE_ENTRIES * 8, 4096, "a table is one page of u64");
}

#[test]
fn pte_round_trips_and_has_the_query_layout() {
    let p = Pte::new(0x12345, true, PfnClass::Page).unwrap();
    assert!(p.is_present() && p.is_writable());
    assert_eq!(p.pfn(), 0x12345);
    assert_eq!(p.class(), Some(PfnClass::Page));
    // bit 0 present, bit 1 writable, class 1 in bits 2-3, pfn from bit 12.
    assert_eq!(p.query_word(true), (0x12345 << 12) | (1 << 2) | 0b11);
    assert_eq!(p.query_word(false), (1 << 2) | 0b11);

    let ro = p.wrprotect();
    assert!(ro.is_present() && !ro.is_writable());
    assert_eq!((ro.pfn(), ro.class()), (0x12345, Some(PfnClass::Page)));

    let z = Pte::new(7, false, PfnClass::Zero).unwrap();
    assert_eq!(z.query_word(false), (2 << 2) | 1);
    let m = Pte::new(MAX_PFN, true, PfnClass::PfnMap).unwrap();
    assert_eq!((m.pfn(), m.class()), (MAX_PFN, Some(PfnClass::PfnMap)));
    assert_eq!(Pte::new(MAX_PFN + 1, false, PfnClass::Page), None);
    assert!(!Pte::NONE.is_present());
    assert_eq!(Pte::NONE.class(), None);
    assert_eq!(Pte::default(), Pte::NONE);
}

#[test]
fn gfn_range_clamp_and_cover() {
    let r = GfnRange { start: 10, end: 20 };
    assert!(r.covers(10, 10) && r.covers(12, 3) && !r.covers(9, 2) && !r.covers(15, 6));
    assert_eq!(r.clamp(0, 512), Some(r));
    assert_eq!(r.clamp(15, 512), Some(GfnRange { start: 15, end: 20 }));
    assert_eq!(r.clamp(20, 5), None);
}
