// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/vmx/msr_bitmap.rs`, the VMX MSR bitmap.  Every
//! expected value is written out from Intel's SDM vol. 3C and KVM 6.12,
//! never from the code under test:
//!
//! * Layout: 25.6.9 "MSR-Bitmap Address": four 1 KiB bitmaps, reads of
//!   MSRs 0000_0000h-0000_1FFFh at byte 0, reads of C000_0000h-
//!   C000_1FFFh at 1024, writes of the low range at 2048, of the high
//!   range at 3072; one bit per MSR, bit n of a bitmap in byte n / 8, bit
//!   n % 8.
//! * Exits: 26.1.3: RDMSR and WRMSR exit if "use MSR bitmaps" is 0, if
//!   ECX is in neither range, or if ECX's bit (ECX & 1FFFh for the high
//!   range) is 1.
//! * KVM: arch/x86/kvm/vmx/nested.c nested_vmx_exit_handled_msr() (the
//!   byte it reads, a failed read exits to L1) and
//!   nested_vmx_prepare_msr_bitmap(); vmx.h's `unsigned long` helpers,
//!   whose words the merge reads: word i is bytes 8i-8i+7, little-endian.
//!
//! L1's bitmap is a byte array set at literal offsets, and L0's is
//! checked as bytes, so a wrong offset or a wrong word mask fails the
//! behaviour tests too.

use crate::nested::vmx::msr_bitmap::{
    l1_exits, msr_bit, L1Unreadable, MsrBit, MsrBitmap, MSR_BITMAP_WORDS,
};
use std::format;
use std::vec::Vec;

/// 4 KiB: one page.
const PAGE: usize = 4096;

/// MSRs in a range, with their bits from 25.6.9: (MSR, RDMSR byte, bit,
/// WRMSR byte, bit).
const IN_RANGE: [(u32, usize, u32, usize, u32); 9] = [
    // MSR 0: bit 0 of each low bitmap.
    (0x0, 0, 0, 2048, 0),
    // TSC 10h: 10h / 8 = byte 2, bit 0.
    (0x10, 2, 0, 2050, 0),
    // APIC_BASE 1Bh: byte 3, bit 3.
    (0x1b, 3, 3, 2051, 3),
    // x2APIC TPR 808h: byte 101h = 257, bit 0.
    (0x808, 257, 0, 2048 + 257, 0),
    // 1FFFh, the last low MSR: byte 3FFh = 1023, bit 7.
    (0x1fff, 1023, 7, 3071, 7),
    // C000_0000h: bit 0 of each high bitmap.
    (0xc000_0000, 1024, 0, 3072, 0),
    // EFER C000_0080h: 80h / 8 = 16, bit 0.
    (0xc000_0080, 1040, 0, 3088, 0),
    // KERNEL_GS_BASE C000_0102h: 102h / 8 = 32, bit 2.
    (0xc000_0102, 1056, 2, 3104, 2),
    // C000_1FFFh, the last high MSR: byte 1023 of each, bit 7.
    (0xc000_1fff, 2047, 7, 4095, 7),
];

/// MSRs in neither range: always exit.
const OUTSIDE: [u32; 7] = [
    0x2000,
    0x4000_0000,
    0xbfff_ffff,
    0xc000_2000,
    0xc001_0000,
    0xc001_0117,
    0xffff_ffff,
];

/// The byte and bit of `msr` for a read or a write, from [`IN_RANGE`].
fn expected(msr: u32, write: bool) -> (usize, u32) {
    let &(_, rb, rbit, wb, wbit) = IN_RANGE.iter().find(|e| e.0 == msr).unwrap();
    if write {
        (wb, wbit)
    } else {
        (rb, rbit)
    }
}

/// A bitmap with every word `w`.
fn bitmap(w: u64) -> MsrBitmap {
    MsrBitmap { words: [w; 512] }
}

/// The bitmap's page as the CPU reads it: words little-endian.
fn bytes(b: &MsrBitmap) -> Vec<u8> {
    b.words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Word `i` of an L1 page, as KVM's `unsigned long` read of bytes 8i on.
fn word(page: &[u8; PAGE], i: usize) -> Option<u64> {
    let b = page.get(8 * i..8 * i + 8)?;
    Some(u64::from_le_bytes(b.try_into().unwrap()))
}

// === Bit positions ===================================================

#[test]
fn the_bitmap_is_one_page_of_words() {
    // 4 KiB of u64.
    assert_eq!(MSR_BITMAP_WORDS, 512);
    assert_eq!(bytes(&bitmap(0)).len(), PAGE);
}

#[test]
fn msr_bits_are_where_the_sdm_puts_them() {
    for (msr, rb, rbit, wb, wbit) in IN_RANGE {
        assert_eq!(
            msr_bit(msr, false),
            Some(MsrBit {
                byte: rb,
                bit: rbit
            }),
            "RDMSR {msr:#x}"
        );
        assert_eq!(
            msr_bit(msr, true),
            Some(MsrBit {
                byte: wb,
                bit: wbit
            }),
            "WRMSR {msr:#x}"
        );
    }
}

#[test]
fn msrs_outside_the_ranges_have_no_bit() {
    for msr in OUTSIDE {
        assert_eq!(msr_bit(msr, false), None, "{msr:#x}");
        assert_eq!(msr_bit(msr, true), None, "{msr:#x}");
    }
}

#[test]
fn msr_bits_as_words_and_masks() {
    // Byte b is byte b % 8 of u64 word b / 8, bits 8 * (b % 8) on.
    // EFER write: byte 3088 = 386 * 8, bit 0.
    let b = msr_bit(0xc000_0080, true).unwrap();
    assert_eq!((b.word(), b.mask()), (386, 1));
    // 1FFFh read: byte 1023 = 127 * 8 + 7, bit 7 -> bit 63 of word 127.
    let b = msr_bit(0x1fff, false).unwrap();
    assert_eq!((b.word(), b.mask()), (127, 1 << 63));
    // C000_1FFFh write: byte 4095 -> word 511, bit 63.
    let b = msr_bit(0xc000_1fff, true).unwrap();
    assert_eq!((b.word(), b.mask()), (511, 1 << 63));
    // TSC read: byte 2 -> word 0, bit 16.
    let b = msr_bit(0x10, false).unwrap();
    assert_eq!((b.word(), b.mask()), (0, 1 << 16));
    // x2APIC TPR read: byte 257 -> word 32, bit 8.  KVM's
    // enable_x2apic_msr_intercepts() agrees: read words 800h / 64 = 32
    // to 35, write words 32 + 800h / 8 = 288 to 291.
    let b = msr_bit(0x808, false).unwrap();
    assert_eq!((b.word(), b.mask()), (32, 1 << 8));
    let b = msr_bit(0x8ff, true).unwrap();
    assert_eq!((b.word(), b.mask()), (291, 1 << 63));
    // KERNEL_GS_BASE read: byte 1056 -> word 132, bit 2.
    let b = msr_bit(0xc000_0102, false).unwrap();
    assert_eq!((b.word(), b.mask()), (132, 1 << 2));
}

// === L0's bitmap =====================================================

#[test]
fn set_sets_exactly_the_sdm_bits() {
    for (msr, rb, rbit, wb, wbit) in IN_RANGE {
        for (read, write) in [(true, false), (false, true), (true, true)] {
            let mut m = bitmap(0);
            assert_eq!(m.set(msr, read, write), Some(()), "{msr:#x}");
            let page = bytes(&m);
            let mut want = [0u8; PAGE];
            if read {
                want[rb] |= 1 << rbit;
            }
            if write {
                want[wb] |= 1 << wbit;
            }
            assert_eq!(page, want, "{msr:#x} {read} {write}");
            assert_eq!(m.intercepts(msr, false), read, "{msr:#x}");
            assert_eq!(m.intercepts(msr, true), write, "{msr:#x}");
        }
    }
}

#[test]
fn set_clears_exactly_the_sdm_bits() {
    for (msr, rb, rbit, wb, wbit) in IN_RANGE {
        let mut m = bitmap(u64::MAX);
        assert_eq!(m.set(msr, false, true), Some(()));
        let mut want = [0xffu8; PAGE];
        want[rb] &= !(1 << rbit);
        assert_eq!(bytes(&m), want, "{msr:#x}");
        assert_eq!(m.set(msr, true, false), Some(()));
        let mut want = [0xffu8; PAGE];
        want[wb] &= !(1 << wbit);
        assert_eq!(bytes(&m), want, "{msr:#x}");
        assert_eq!(m.set(msr, false, false), Some(()));
        want[rb] &= !(1 << rbit);
        assert_eq!(bytes(&m), want, "{msr:#x}");
        assert!(!m.intercepts(msr, false) && !m.intercepts(msr, true));
    }
}

#[test]
fn msrs_outside_the_ranges_always_exit_and_cannot_be_set() {
    // 26.1.3: "The value of ECX is not in the range 00000000H -
    // 00001FFFH or C0000000H - C0001FFFH" exits whatever the bitmap.
    let mut m = bitmap(0);
    for msr in OUTSIDE {
        assert_eq!(m.set(msr, false, false), None, "{msr:#x}");
        assert!(m.intercepts(msr, false), "{msr:#x}");
        assert!(m.intercepts(msr, true), "{msr:#x}");
    }
    assert_eq!(bytes(&m), [0u8; PAGE]);
}

#[test]
fn intercept_all_sets_every_bit() {
    let mut m = bitmap(0);
    m.intercept_all();
    assert_eq!(bytes(&m), [0xffu8; PAGE]);
    for (msr, ..) in IN_RANGE {
        assert!(m.intercepts(msr, false) && m.intercepts(msr, true));
    }
}

// === merge ===========================================================

#[test]
fn merged_bitmap_exits_iff_l0_or_l1_intercepts() {
    // The access under test gets (l0, l1); the other direction of the
    // same MSR gets the opposite, so a bit landing in the wrong bitmap
    // shows.
    for (msr, ..) in IN_RANGE {
        for write in [false, true] {
            for (l0_int, l1_int) in [(false, false), (false, true), (true, false), (true, true)] {
                let mut l0 = bitmap(0);
                let (r, w) = if write {
                    (!l0_int, l0_int)
                } else {
                    (l0_int, !l0_int)
                };
                assert_eq!(l0.set(msr, r, w), Some(()));
                let mut page = [0u8; PAGE];
                let (byte, bit) = expected(msr, write);
                let (other_byte, other_bit) = expected(msr, !write);
                if l1_int {
                    page[byte] |= 1 << bit;
                } else {
                    page[other_byte] |= 1 << other_bit;
                }
                let mut merged = bitmap(0x5555_5555_5555_5555);
                assert_eq!(merged.merge(&l0, |i| word(&page, i)), Ok(()));
                let what = format!("{msr:#x} write {write} l0 {l0_int} l1 {l1_int}");
                assert_eq!(merged.intercepts(msr, write), l0_int || l1_int, "{what}");
                assert_eq!(merged.intercepts(msr, !write), !l0_int || !l1_int, "{what}");
                // The merged page, byte by byte: exactly these bits.
                let mut want = [0u8; PAGE];
                if l0_int || l1_int {
                    want[byte] |= 1 << bit;
                }
                if !l0_int || !l1_int {
                    want[other_byte] |= 1 << other_bit;
                }
                assert_eq!(bytes(&merged), want, "{what}");
                // Reflected to L1 iff L1's bit is set.
                assert_eq!(
                    l1_exits(true, msr, write, |i| word(&page, i)),
                    l1_int,
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn merged_bitmap_exits_outside_the_ranges_whatever_the_bits() {
    let l0 = bitmap(0);
    let page = [0u8; PAGE];
    let mut merged = bitmap(u64::MAX);
    assert_eq!(merged.merge(&l0, |i| word(&page, i)), Ok(()));
    assert_eq!(bytes(&merged), [0u8; PAGE]);
    for msr in OUTSIDE {
        for write in [false, true] {
            assert!(merged.intercepts(msr, write), "{msr:#x} {write}");
            // nested_vmx_exit_handled_msr(): "let L1 handle the wrong
            // parameter", without reading the bitmap.
            let mut read = false;
            assert!(l1_exits(true, msr, write, |_| {
                read = true;
                Some(0)
            }));
            assert!(!read, "{msr:#x}");
        }
    }
}

#[test]
fn merge_reads_l1_word_i_at_bytes_8i() {
    // L0 lets everything through: every word of L1's page is read once,
    // in order, and the merged page is L1's byte for byte.
    let mut page = [0u8; PAGE];
    for (i, b) in page.iter_mut().enumerate() {
        *b = (i * 7 + i / 256) as u8;
    }
    let l0 = bitmap(0);
    let mut merged = bitmap(u64::MAX);
    let mut read = Vec::new();
    assert_eq!(
        merged.merge(&l0, |i| {
            read.push(i);
            word(&page, i)
        }),
        Ok(())
    );
    assert_eq!(read, (0..512).collect::<Vec<_>>());
    assert_eq!(bytes(&merged), page);
}

#[test]
fn merge_reads_only_where_l0_lets_something_through() {
    // L0 passes EFER and TSC through: EFER's bytes 1040 and 3088 are in
    // words 130 and 386, TSC's bytes 2 and 2050 in words 0 and 256.
    let mut l0 = bitmap(u64::MAX);
    l0.set(0xc000_0080, false, false).unwrap();
    l0.set(0x10, false, false).unwrap();
    let mut page = [0u8; PAGE];
    // L1 intercepts WRMSR EFER and RDMSR TSC; the rest of its page is
    // open.
    page[3088] |= 1;
    page[2] |= 1;
    let mut merged = bitmap(0);
    let mut read = Vec::new();
    assert_eq!(
        merged.merge(&l0, |i| {
            read.push(i);
            word(&page, i)
        }),
        Ok(())
    );
    assert_eq!(read, [0, 130, 256, 386]);
    let mut want = [0xffu8; PAGE];
    want[1040] = 0xfe;
    want[2050] = 0xfe;
    assert_eq!(bytes(&merged), want);
    assert!(!merged.intercepts(0xc000_0080, false));
    assert!(merged.intercepts(0xc000_0080, true));
    assert!(merged.intercepts(0x10, false));
    assert!(!merged.intercepts(0x10, true));
    // STAR C000_0081h, next to EFER: L0 intercepts it.
    assert!(merged.intercepts(0xc000_0081, false));
}

#[test]
fn merge_with_l0_intercepting_everything_reads_nothing() {
    let l0 = bitmap(u64::MAX);
    let mut merged = bitmap(0);
    let mut reads = 0;
    assert_eq!(
        merged.merge(&l0, |_| {
            reads += 1;
            None
        }),
        Ok(())
    );
    assert_eq!(reads, 0);
    assert_eq!(bytes(&merged), [0xffu8; PAGE]);
}

#[test]
fn merge_fails_on_an_unreadable_word_and_intercepts_everything() {
    // KVM: kvm_vcpu_map() of L1's page fails ->
    // nested_vmx_prepare_msr_bitmap() false -> vmcs02 without "use MSR
    // bitmaps": every RDMSR/WRMSR exits.
    let l0 = bitmap(0);
    let mut merged = bitmap(0);
    let mut read = Vec::new();
    let r = merged.merge(&l0, |i| {
        read.push(i);
        if i == 5 {
            None
        } else {
            Some(0)
        }
    });
    assert_eq!(r, Err(L1Unreadable { word: 5 }));
    assert_eq!(read, [0, 1, 2, 3, 4, 5]);
    assert_eq!(bytes(&merged), [0xffu8; PAGE]);
    for (msr, ..) in IN_RANGE {
        assert!(merged.intercepts(msr, false) && merged.intercepts(msr, true));
    }
}

#[test]
fn merge_fails_on_the_last_word_too() {
    let l0 = bitmap(0);
    let mut merged = bitmap(0);
    let r = merged.merge(&l0, |i| if i == 511 { None } else { Some(0) });
    assert_eq!(r, Err(L1Unreadable { word: 511 }));
    assert_eq!(bytes(&merged), [0xffu8; PAGE]);
}

// === l1_exits ========================================================

#[test]
fn l1_exits_reads_the_sdm_word() {
    // One bit set in L1's page at a time: exactly the access it belongs
    // to is reflected, and the word read is the one holding the byte.
    for (msr, ..) in IN_RANGE {
        for write in [false, true] {
            let (byte, bit) = expected(msr, write);
            let mut page = [0u8; PAGE];
            page[byte] = 1 << bit;
            let mut read = Vec::new();
            assert!(l1_exits(true, msr, write, |i| {
                read.push(i);
                word(&page, i)
            }));
            assert_eq!(read, [byte / 8], "{msr:#x} {write}");
            // The other direction's bit is clear.
            assert!(!l1_exits(true, msr, !write, |i| word(&page, i)));
            // Every other bit of the page set, this one clear.
            let mut page = [0xffu8; PAGE];
            page[byte] &= !(1 << bit);
            assert!(!l1_exits(true, msr, write, |i| word(&page, i)));
        }
    }
}

#[test]
fn l1_exits_when_its_bitmap_cannot_be_read() {
    // nested_vmx_exit_handled_msr(): kvm_vcpu_read_guest() failing
    // returns true.
    for (msr, ..) in IN_RANGE {
        for write in [false, true] {
            assert!(l1_exits(true, msr, write, |_| None), "{msr:#x}");
        }
    }
}

#[test]
fn l1_exits_on_every_msr_without_msr_bitmaps() {
    // 26.1.3: "The 'use MSR bitmaps' VM-execution control is 0" exits;
    // KVM returns true before looking at the bitmap.
    let page = [0u8; PAGE];
    for msr in IN_RANGE.iter().map(|e| e.0).chain(OUTSIDE) {
        for write in [false, true] {
            let mut read = false;
            assert!(l1_exits(false, msr, write, |i| {
                read = true;
                word(&page, i)
            }));
            assert!(!read, "{msr:#x}");
        }
    }
}
