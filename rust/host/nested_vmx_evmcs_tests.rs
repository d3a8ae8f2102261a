// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/vmx/evmcs.rs`: the Hyper-V enlightened VMCS
//! layout, KVM's field map and the clean-field copies.  Expected values
//! are written out from arch/x86/include/asm/hyperv-tlfs.h (`struct
//! hv_enlightened_vmcs`, summed by hand, and the clean-field bits),
//! KVM 6.12's hyperv_evmcs.[ch], hyperv.c and nested.c, never from the
//! code under test.
//!
//! With `GM_EVMCS_LAYOUT_C` set, `evmcs_layout_c` also writes a C file
//! that scripts/vmx-layout.sh compiles with KVM's hyperv_evmcs.c:
//! `static_assert`s on every offset, size, encoding, clean bit and mask,
//! and `BUILD_BUG_ON`s comparing the table with `vmcs_field_to_evmcs_1[]`.

use crate::nested::vmx::evmcs::{
    self, clean, copy_from_vmcs12, copy_to_vmcs12, current_evmptr, evmcs_place, hdr,
    msr_bitmap_recalc, msr_bitmap_unchanged, nested_ids, supported, vp_assist, NestedIds,
    COPY_FROM_VMCS12, COPY_TO_VMCS12, FIELDS,
};
use crate::nested::vmx::vmcs12::{self, enc, Vmcs12, Width};
use std::{boxed::Box, fmt::Write as _, string::String, vec::Vec};

fn blank12() -> Box<Vmcs12> {
    Box::new(Vmcs12 {
        bytes: [0; vmcs12::SIZE],
    })
}

/// A 4 KiB page, as L1 allocates for an eVMCS.
fn page() -> Vec<u8> {
    std::vec![0u8; 4096]
}

/// A distinct nonzero value for the `i`th field, cut to its width.
fn pattern(i: usize, w: Width) -> u64 {
    let v = (i as u64 + 1) * 0x0101_0101_0101_0101;
    match w {
        Width::U16 => v & 0xffff,
        Width::U32 => v & 0xffff_ffff,
        Width::U64 | Width::Natural => v,
    }
}

/// An eVMCS with every mapped field set to its pattern.
fn filled() -> Vec<u8> {
    let mut e = page();
    for (i, f) in FIELDS.iter().enumerate() {
        evmcs::write(&mut e, f.offset.into(), f.width(), pattern(i, f.width()));
    }
    e
}

/// The pattern the field of encoding `enc` has in [`filled`].
fn pattern_of(enc: u32) -> u64 {
    let i = FIELDS.iter().position(|f| f.enc == enc).unwrap();
    pattern(i, Width::of(enc))
}

/// KVM's ROL16(val, 6), the index of `vmcs_field_to_evmcs_1[]`.
fn rol16_6(v: u64) -> u16 {
    (v as u16).rotate_left(6)
}

#[test]
fn version_size_and_revision() {
    // hyperv_evmcs.h: #define KVM_EVMCS_VERSION 1; nested_get_evmcs_version()
    // returns (KVM_EVMCS_VERSION << 8) | 1.
    assert_eq!(evmcs::VERSION, 1);
    assert_eq!(evmcs::VERSION_RANGE, 0x0101);
    // struct hv_enlightened_vmcs ends with padding64_6 at 1016.
    assert_eq!(evmcs::SIZE, 1024);
    // revision_id: KVM_EVMCS_VERSION or VMCS12_REVISION (0x11e57ed0).
    assert!(evmcs::revision_ok(1));
    assert!(evmcs::revision_ok(0x11e5_7ed0));
    assert!(!evmcs::revision_ok(0));
    assert!(!evmcs::revision_ok(2));
    assert!(!evmcs::revision_ok(0x11e5_7ed0 | 1 << 31));
}

#[test]
fn clean_bits_are_hyperv_tlfs() {
    // HV_VMX_ENLIGHTENED_CLEAN_FIELD_*: NONE 0, then BIT(0)..BIT(15) in
    // this order, ALL 0xFFFF.
    for (bit, want) in [
        (clean::NONE, 0),
        (clean::IO_BITMAP, 1 << 0),
        (clean::MSR_BITMAP, 1 << 1),
        (clean::CONTROL_GRP2, 1 << 2),
        (clean::CONTROL_GRP1, 1 << 3),
        (clean::CONTROL_PROC, 1 << 4),
        (clean::CONTROL_EVENT, 1 << 5),
        (clean::CONTROL_ENTRY, 1 << 6),
        (clean::CONTROL_EXCPN, 1 << 7),
        (clean::CRDR, 1 << 8),
        (clean::CONTROL_XLAT, 1 << 9),
        (clean::GUEST_BASIC, 1 << 10),
        (clean::GUEST_GRP1, 1 << 11),
        (clean::GUEST_GRP2, 1 << 12),
        (clean::HOST_POINTER, 1 << 13),
        (clean::HOST_GRP1, 1 << 14),
        (clean::ENLIGHTENMENTSCONTROL, 1 << 15),
        (clean::ALL, 0xffff),
    ] {
        assert_eq!(bit, want);
    }
}

#[test]
fn header_offsets_are_the_structs() {
    // revision_id and abort first; then, summing hyperv-tlfs.h's members,
    // guest_rip ends at 824 and hv_clean_fields, padding32_1,
    // hv_synthetic_controls, hv_enlightenments_control, hv_vp_id,
    // padding32_2 follow as u32s, then hv_vm_id and
    // partition_assist_page as u64s.
    assert_eq!(hdr::REVISION_ID, 0);
    assert_eq!(hdr::ABORT, 4);
    assert_eq!(hdr::CLEAN_FIELDS, 824);
    assert_eq!(hdr::SYNTHETIC_CONTROLS, 832);
    assert_eq!(hdr::ENLIGHTENMENTS_CONTROL, 836);
    assert_eq!(hdr::VP_ID, 840);
    assert_eq!(hdr::VM_ID, 848);
    assert_eq!(hdr::PARTITION_ASSIST_PAGE, 856);
    // struct hv_vp_assist_page: four u32s, two u64s, the 8-byte
    // nested_control, enlighten_vmentry at 40, reserved2[7], then
    // current_nested_vmcs at 48.
    assert_eq!(vp_assist::ENLIGHTEN_VMENTRY, 40);
    assert_eq!(vp_assist::CURRENT_NESTED_VMCS, 48);
    // The bit-fields of hv_enlightenments_control, from bit 0.
    assert_eq!(evmcs::enlightenments::NESTED_FLUSH_HYPERCALL, 1);
    assert_eq!(evmcs::enlightenments::MSR_BITMAP, 2);
}

#[test]
fn offsets_are_the_structs() {
    // Summed by hand over struct hv_enlightened_vmcs: 7 host selectors
    // and padding16_1 from 8, the host u64s from 24, ... (see the header
    // test for the end).
    for (e, off, w) in [
        (enc::HOST_ES_SELECTOR, 8, Width::U16),
        (enc::HOST_TR_SELECTOR, 20, Width::U16),
        (enc::HOST_IA32_PAT, 24, Width::U64),
        (enc::HOST_RIP, 80, Width::Natural),
        (enc::HOST_IA32_SYSENTER_CS, 88, Width::U32),
        (enc::IO_BITMAP_A, 104, Width::U64),
        (enc::MSR_BITMAP, 120, Width::U64),
        (enc::GUEST_ES_SELECTOR, 128, Width::U16),
        (enc::GUEST_ES_LIMIT, 144, Width::U32),
        (enc::GUEST_ES_AR_BYTES, 184, Width::U32),
        (enc::GUEST_ES_BASE, 216, Width::Natural),
        // After padding64_1[3].
        (enc::VM_EXIT_MSR_STORE_ADDR, 320, Width::U64),
        // After the four CR3-target values.
        (enc::PAGE_FAULT_ERROR_CODE_MASK, 376, Width::U32),
        (enc::TSC_OFFSET, 400, Width::U64),
        (enc::GUEST_CR0, 544, Width::Natural),
        (enc::HOST_RSP, 616, Width::Natural),
        (enc::EPT_POINTER, 624, Width::U64),
        (enc::VIRTUAL_PROCESSOR_ID, 632, Width::U16),
        // After padding16_2[3] and padding64_2[5].
        (enc::GUEST_PHYSICAL_ADDRESS, 680, Width::U64),
        (enc::VM_INSTRUCTION_ERROR, 688, Width::U32),
        (enc::VM_EXIT_REASON, 692, Width::U32),
        (enc::EXIT_QUALIFICATION, 720, Width::Natural),
        // After the four exit_io_instruction_* registers.
        (enc::GUEST_LINEAR_ADDRESS, 760, Width::Natural),
        (enc::GUEST_RSP, 768, Width::Natural),
        (enc::TPR_THRESHOLD, 812, Width::U32),
        (enc::GUEST_RIP, 816, Width::Natural),
        // After padding64_4[4].
        (enc::GUEST_BNDCFGS, 896, Width::U64),
        (enc::GUEST_IA32_PERF_GLOBAL_CTRL, 904, Width::U64),
        // After the CET and LBR fields and padding64_5[2].
        (enc::XSS_EXIT_BITMAP, 960, Width::U64),
        (enc::TSC_MULTIPLIER, 984, Width::U64),
    ] {
        assert_eq!(evmcs_place(e.into()), Some((off, w)), "{e:#x}");
    }
}

#[test]
fn groups_are_kvms() {
    // hyperv_evmcs.c's third EVMCS1_FIELD argument.
    for (e, g) in [
        (enc::GUEST_RIP, clean::NONE),
        (enc::GUEST_RSP, clean::GUEST_BASIC),
        (enc::GUEST_INTERRUPTIBILITY_INFO, clean::GUEST_BASIC),
        (enc::HOST_IA32_PERF_GLOBAL_CTRL, clean::HOST_GRP1),
        (enc::HOST_RSP, clean::HOST_POINTER),
        (enc::IO_BITMAP_B, clean::IO_BITMAP),
        (enc::MSR_BITMAP, clean::MSR_BITMAP),
        (enc::TSC_MULTIPLIER, clean::CONTROL_GRP2),
        (enc::SECONDARY_VM_EXEC_CONTROL, clean::CONTROL_GRP1),
        (enc::CPU_BASED_VM_EXEC_CONTROL, clean::CONTROL_PROC),
        (enc::VM_ENTRY_INSTRUCTION_LEN, clean::CONTROL_EVENT),
        (enc::VM_ENTRY_CONTROLS, clean::CONTROL_ENTRY),
        (enc::EXCEPTION_BITMAP, clean::CONTROL_EXCPN),
        (enc::GUEST_DR7, clean::CRDR),
        (enc::EPT_POINTER, clean::CONTROL_XLAT),
        (enc::VIRTUAL_PROCESSOR_ID, clean::CONTROL_XLAT),
        (enc::GUEST_ACTIVITY_STATE, clean::GUEST_GRP1),
        (enc::GUEST_BNDCFGS, clean::GUEST_GRP1),
        (enc::GUEST_TR_SELECTOR, clean::GUEST_GRP2),
        (enc::VM_EXIT_MSR_LOAD_COUNT, clean::ALL),
        (enc::CR3_TARGET_COUNT, clean::ALL),
        (enc::TPR_THRESHOLD, clean::NONE),
        (enc::VM_EXIT_REASON, clean::NONE),
    ] {
        assert_eq!(evmcs::field(e.into()).unwrap().clean, g, "{e:#x}");
    }
}

#[test]
fn the_table_is_whole_and_disjoint() {
    // hyperv_evmcs.c has 126 EVMCS1_FIELD() entries outside comments.
    assert_eq!(FIELDS.len(), 126);
    let mut used = [false; 1024];
    // revision_id, abort; hv_clean_fields .. partition_assist_page.
    used[..8].iter_mut().for_each(|u| *u = true);
    used[824..864].iter_mut().for_each(|u| *u = true);
    for f in FIELDS.iter() {
        assert_eq!(f.enc & 1, 0, "{}: access type 0", f.name);
        // Every field is a vmcs12 field, of the same name.
        let p = vmcs12::place(f.enc.into()).unwrap();
        let v12 = vmcs12::FIELDS.iter().find(|g| g.enc == f.enc).unwrap();
        assert_eq!(v12.name, f.name);
        assert_eq!(p.width, f.width());
        let (off, w) = (usize::from(f.offset), f.width());
        // The packed struct still keeps every member naturally aligned.
        assert_eq!(off % w.bytes(), 0, "{}", f.name);
        for b in &mut used[off..off + w.bytes()] {
            assert!(!*b, "{} overlaps", f.name);
            *b = true;
        }
        assert!(
            f.clean == clean::NONE || f.clean == clean::ALL || f.clean.is_power_of_two(),
            "{}",
            f.name
        );
        assert!(f.clean <= clean::ALL);
        assert_eq!(
            FIELDS.iter().filter(|g| g.enc == f.enc).count(),
            1,
            "{}",
            f.name
        );
    }
    // The vmcs12 fields with no eVMCS member (hyperv_evmcs.h's list but
    // TSC_MULTIPLIER): 141 - 126.
    let missing: Vec<u32> = vmcs12::FIELDS
        .iter()
        .map(|f| f.enc)
        .filter(|&e| evmcs_place(e.into()).is_none())
        .collect();
    let mut want = std::vec![
        0x0002, 0x0810, 0x0812, 0x200e, 0x2014, 0x2016, 0x2018, 0x201c, 0x201e, 0x2020, 0x2022,
        0x2024, 0x2026, 0x2028, 0x482e,
    ];
    let mut got = missing.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn place_follows_evmcs_field_offset() {
    // No high halves: ROL16 moves the access-type bit to index bit 6,
    // which no entry has (MSR_BITMAP_HIGH, IO_BITMAP_A_HIGH,
    // GUEST_IA32_EFER_HIGH).
    assert_eq!(evmcs_place(0x2005), None);
    assert_eq!(evmcs_place(0x2001), None);
    assert_eq!(evmcs_place(0x2807), None);
    // Fields the eVMCS lacks: POSTED_INTR_NV, PML_ADDRESS,
    // VMX_PREEMPTION_TIMER_VALUE; members with no map entry:
    // CR3_TARGET_VALUE0, exit_io_instruction_ecx (0x6402), guest_ia32_s_cet
    // (0x6828), host_ssp (0x6c1a).
    for e in [0x0002, 0x200e, 0x482e, 0x6008, 0x6402, 0x6828, 0x6c1a] {
        assert_eq!(evmcs_place(e), None, "{e:#x}");
    }
    // Bit 15 lands on index bit 5, a hole: GUEST_RIP | 0x8000.
    assert_eq!(evmcs_place(0xe81e), None);
    // `(u16)val` drops bits 63:16, where vmcs12's lookup refuses them.
    assert_eq!(evmcs_place(0x1_0000_681e), Some((816, Width::Natural)));
    assert_eq!(evmcs_place(0xffff_0000_0000_0800), Some((128, Width::U16)));
    assert_eq!(vmcs12::place(0x1_0000_681e), None);
    // And in general: an entry's index never has bit 6 (access type) or
    // bit 5 (encoding bit 15) set, so neither variant of any field is
    // another field.
    let idx: Vec<u16> = FIELDS.iter().map(|f| rol16_6(f.enc.into())).collect();
    for f in FIELDS.iter() {
        for v in [f.enc | 1, f.enc | 0x8000] {
            assert!(!idx.contains(&rol16_6(v.into())), "{v:#x}");
            assert_eq!(evmcs_place(v.into()), None, "{v:#x}");
        }
    }
    // ROL16(GUEST_RIP, 6) = 0x079a, ROL16(TSC_MULTIPLIER, 6) = 0x0c88,
    // the highest index: nr_evmcs_1_fields is 0xc89.
    assert_eq!(rol16_6(0x681e), 0x079a);
    assert_eq!(idx.iter().max(), Some(&0x0c88));
}

#[test]
fn vmread_reads_the_evmcs() {
    let mut e = page();
    e[816..824].copy_from_slice(&0xffff_ffff_8000_1000u64.to_le_bytes());
    e[692..696].copy_from_slice(&0x8000_0021u32.to_le_bytes());
    e[8..10].copy_from_slice(&0x10u16.to_le_bytes());
    assert_eq!(evmcs::vmread(&e, 0x681e), Some(0xffff_ffff_8000_1000));
    assert_eq!(evmcs::vmread(&e, 0x4402), Some(0x8000_0021));
    assert_eq!(evmcs::vmread(&e, 0x0c00), Some(0x10));
    assert_eq!(evmcs::vmread(&e, 0x2005), None);
    // A field that does not fit in a short slice reads as 0 rather than
    // panicking.
    assert_eq!(evmcs::vmread(&e[..820], 0x681e), Some(0));
    assert_eq!(
        evmcs::vmread(&e[..824], 0x681e),
        Some(0xffff_ffff_8000_1000)
    );
}

#[test]
fn copy_to_vmcs12_always_copies_none() {
    let e = filled();
    let mut v = blank12();
    copy_to_vmcs12(&e, clean::ALL, &mut v);
    // Everything clean: only tpr_threshold and guest_rip.
    for f in vmcs12::FIELDS.iter() {
        let want = match f.enc {
            enc::TPR_THRESHOLD | enc::GUEST_RIP => pattern_of(f.enc),
            _ => 0,
        };
        assert_eq!(v.field(f.enc), want, "{}", f.name);
    }
    // guest_rip: eVMCS 816 -> vmcs12 544 (vmcs12.h CHECK_OFFSET).
    assert_eq!(&v.bytes[544..552], &e[816..824]);
}

#[test]
fn copy_to_vmcs12_honours_each_group() {
    let e = filled();
    for bit in 0..16 {
        let dirty = 1u32 << bit;
        let mut v = blank12();
        copy_to_vmcs12(&e, clean::ALL & !dirty, &mut v);
        for f in FIELDS.iter() {
            // The field map's group decides (the C test checks it against
            // KVM's table), except the fields copy_enlightened_to_vmcs12()
            // never copies: read-only exit information and the ALL ones.
            let copied_ever = COPY_TO_VMCS12.iter().any(|&(c, _)| c == f.enc);
            let want = copied_ever && (f.clean == clean::NONE || f.clean == dirty);
            let got = v.field(f.enc) != 0;
            assert_eq!(got, want, "bit {bit}: {}", f.name);
            if got {
                assert_eq!(v.field(f.enc), pattern_of(f.enc), "{}", f.name);
            }
        }
    }
}

#[test]
fn copy_to_vmcs12_dirty_guest_grp2() {
    // guest_es_base at eVMCS 216, guest_cr0 (CRDR) at 544.
    let mut e = page();
    e[216..224].copy_from_slice(&0x1234_5000u64.to_le_bytes());
    e[544..552].copy_from_slice(&0x8000_0031u64.to_le_bytes());
    let mut v = blank12();
    copy_to_vmcs12(&e, clean::ALL & !clean::GUEST_GRP2, &mut v);
    // vmcs12's guest_es_base is at 448.
    assert_eq!(&v.bytes[448..456], &0x1234_5000u64.to_le_bytes());
    assert_eq!(v.field(enc::GUEST_CR0), 0);
    // Now CRDR dirty too.
    copy_to_vmcs12(&e, clean::ALL & !clean::CRDR, &mut v);
    assert_eq!(v.field(enc::GUEST_CR0), 0x8000_0031);
}

#[test]
fn copy_to_vmcs12_full_copy() {
    let e = filled();
    let mut v = blank12();
    // Fields the eVMCS lacks keep their vmcs12 values.
    v.set_field(enc::PML_ADDRESS, 0x7000);
    v.set_field(enc::VM_EXIT_REASON, 9);
    // KVM's hv_clean_fields is a u32: bits above 15 name no group.
    copy_to_vmcs12(&e, 0xffff_0000, &mut v);
    assert_eq!(COPY_TO_VMCS12.len(), 106);
    for &(c, _) in COPY_TO_VMCS12.iter() {
        assert_eq!(v.field(c), pattern_of(c), "{c:#x}");
    }
    assert_eq!(v.field(enc::PML_ADDRESS), 0x7000);
    // Read-only and ALL fields are never copied in.
    assert_eq!(v.field(enc::VM_EXIT_REASON), 9);
    for c in [
        enc::GUEST_PHYSICAL_ADDRESS,
        enc::EXIT_QUALIFICATION,
        enc::GUEST_LINEAR_ADDRESS,
        enc::VM_EXIT_MSR_STORE_ADDR,
        enc::VM_EXIT_MSR_LOAD_ADDR,
        enc::VM_ENTRY_MSR_LOAD_ADDR,
        enc::VM_INSTRUCTION_ERROR,
        enc::VM_EXIT_INTR_INFO,
        enc::VM_EXIT_INTR_ERROR_CODE,
        enc::IDT_VECTORING_INFO_FIELD,
        enc::IDT_VECTORING_ERROR_CODE,
        enc::VM_EXIT_INSTRUCTION_LEN,
        enc::VMX_INSTRUCTION_INFO,
        enc::PAGE_FAULT_ERROR_CODE_MASK,
        enc::PAGE_FAULT_ERROR_CODE_MATCH,
        enc::CR3_TARGET_COUNT,
        enc::VM_EXIT_MSR_STORE_COUNT,
        enc::VM_EXIT_MSR_LOAD_COUNT,
        enc::VM_ENTRY_MSR_LOAD_COUNT,
    ] {
        assert_eq!(v.field(c), 0, "{c:#x}");
        assert!(!COPY_TO_VMCS12.iter().any(|&(x, _)| x == c));
    }
}

#[test]
fn copy_tables_are_consistent() {
    // Each copied field is in the map, once, with the map's group.
    for (i, &(c, g)) in COPY_TO_VMCS12.iter().enumerate() {
        assert_eq!(evmcs::field(c.into()).map(|f| f.clean), Some(g), "{c:#x}");
        assert!(!COPY_TO_VMCS12[..i].iter().any(|&(x, _)| x == c));
    }
    assert_eq!(COPY_FROM_VMCS12.len(), 72);
    for (i, &c) in COPY_FROM_VMCS12.iter().enumerate() {
        assert!(evmcs_place(c.into()).is_some(), "{c:#x}");
        assert!(!COPY_FROM_VMCS12[..i].contains(&c));
    }
    // copy_vmcs12_to_enlightened() writes no host field, and none of the
    // controls "Should not be changed by KVM".
    for c in [
        enc::HOST_RIP,
        enc::HOST_RSP,
        enc::HOST_CR3,
        enc::HOST_ES_SELECTOR,
        enc::IO_BITMAP_A,
        enc::MSR_BITMAP,
        enc::EPT_POINTER,
        enc::TPR_THRESHOLD,
        enc::VIRTUAL_PROCESSOR_ID,
        enc::EXCEPTION_BITMAP,
        enc::VMCS_LINK_POINTER,
        enc::PIN_BASED_VM_EXEC_CONTROL,
        enc::SECONDARY_VM_EXEC_CONTROL,
        enc::VM_EXIT_CONTROLS,
        enc::GUEST_IA32_DEBUGCTL,
        enc::GUEST_IA32_PERF_GLOBAL_CTRL,
        enc::CR0_READ_SHADOW,
        enc::TSC_MULTIPLIER,
    ] {
        assert!(!COPY_FROM_VMCS12.contains(&c), "{c:#x}");
    }
    // But it does write these controls back.
    for c in [
        enc::CPU_BASED_VM_EXEC_CONTROL,
        enc::VM_ENTRY_CONTROLS,
        enc::VM_ENTRY_INTR_INFO_FIELD,
        enc::GUEST_BNDCFGS,
    ] {
        assert!(COPY_FROM_VMCS12.contains(&c), "{c:#x}");
    }
}

#[test]
fn copy_from_vmcs12_round_trip_of_exit_fields() {
    let mut v = blank12();
    let exit = [
        (enc::VM_EXIT_REASON, 0x8000_0021u64),
        (enc::EXIT_QUALIFICATION, 0xffff_8000_0000_1234),
        (enc::VM_INSTRUCTION_ERROR, 7),
        (enc::VM_EXIT_INTR_INFO, 0x8000_0b0e),
        (enc::VM_EXIT_INTR_ERROR_CODE, 0x2),
        (enc::IDT_VECTORING_INFO_FIELD, 0x8000_0300),
        (enc::IDT_VECTORING_ERROR_CODE, 0x18),
        (enc::VM_EXIT_INSTRUCTION_LEN, 3),
        (enc::VMX_INSTRUCTION_INFO, 0x1234_5678),
        (enc::GUEST_PHYSICAL_ADDRESS, 0xfee0_0000),
        (enc::GUEST_LINEAR_ADDRESS, 0x7fff_0000_1000),
        (enc::GUEST_RIP, 0xffff_ffff_8100_0000),
        (enc::GUEST_RSP, 0xffff_c900_0000_7f00),
        (enc::GUEST_INTERRUPTIBILITY_INFO, 1),
    ];
    for &(e, x) in exit.iter() {
        v.set_field(e, x);
    }
    // Fields KVM does not write back.
    v.set_field(enc::HOST_RIP, 0xdead);
    v.set_field(enc::TPR_THRESHOLD, 5);
    let mut e = page();
    evmcs::set_clean_fields(&mut e, 0x1234);
    copy_from_vmcs12(&v, &mut e);
    // vm_exit_reason at 692, exit_qualification at 720.
    assert_eq!(&e[692..696], &0x8000_0021u32.to_le_bytes());
    assert_eq!(&e[720..728], &0xffff_8000_0000_1234u64.to_le_bytes());
    for &(x, want) in exit.iter() {
        assert_eq!(evmcs::vmread(&e, x.into()), Some(want), "{x:#x}");
    }
    // host_rip (80) and tpr_threshold (812) stay; hv_clean_fields too.
    assert_eq!(&e[80..88], &[0; 8]);
    assert_eq!(&e[812..816], &[0; 4]);
    assert_eq!(evmcs::clean_fields(&e), 0x1234);
    // Back into a fresh vmcs12 with every group dirty: the guest state
    // returns; the exit information does not (KVM never copies it in).
    let mut w = blank12();
    copy_to_vmcs12(&e, 0, &mut w);
    assert_eq!(w.field(enc::GUEST_RIP), 0xffff_ffff_8100_0000);
    assert_eq!(w.field(enc::GUEST_RSP), 0xffff_c900_0000_7f00);
    assert_eq!(w.field(enc::GUEST_INTERRUPTIBILITY_INFO), 1);
    assert_eq!(w.field(enc::VM_EXIT_REASON), 0);
}

#[test]
fn copy_from_vmcs12_writes_all_its_fields() {
    let mut v = blank12();
    for (i, &c) in COPY_FROM_VMCS12.iter().enumerate() {
        v.set_field(c, pattern(i, Width::of(c)));
    }
    let mut e = page();
    copy_from_vmcs12(&v, &mut e);
    let mut written = 0;
    for f in FIELDS.iter() {
        let (off, w) = evmcs_place(f.enc.into()).unwrap();
        let got = evmcs::read(&e, off, w);
        match COPY_FROM_VMCS12.iter().position(|&c| c == f.enc) {
            Some(i) => {
                assert_eq!(got, pattern(i, w), "{}", f.name);
                written += w.bytes();
            }
            None => assert_eq!(got, 0, "{}", f.name),
        }
    }
    // Nothing outside the fields.
    assert_eq!(e.iter().filter(|b| **b != 0).count(), written);
}

#[test]
fn nested_ids_follow_enlightenmentscontrol() {
    let mut e = page();
    e[840..844].copy_from_slice(&3u32.to_le_bytes());
    e[848..856].copy_from_slice(&0x55u64.to_le_bytes());
    e[856..864].copy_from_slice(&0x9000u64.to_le_bytes());
    let ids = NestedIds {
        partition_assist_page: 0x9000,
        vm_id: 0x55,
        vp_id: 3,
    };
    assert_eq!(nested_ids(&e, 0), Some(ids));
    assert_eq!(nested_ids(&e, clean::ALL & !(1 << 15)), Some(ids));
    assert_eq!(nested_ids(&e, 1 << 15), None);
}

#[test]
fn msr_bitmap_rules() {
    // force_msr_bitmap_recalc unless CONTROL_GRP1, CONTROL_GRP2 and
    // CONTROL_PROC (bits 3, 2, 4) are all clean.
    assert!(!msr_bitmap_recalc(clean::ALL));
    assert!(!msr_bitmap_recalc(0x1c));
    assert!(msr_bitmap_recalc(0));
    for bit in [2, 3, 4] {
        assert!(msr_bitmap_recalc(clean::ALL & !(1 << bit)), "{bit}");
    }
    assert!(!msr_bitmap_recalc(clean::ALL & !clean::MSR_BITMAP));
    // The enlightened MSR bitmap (control bit 1 at 836) and a clean
    // MSR_BITMAP group (bit 1 at 824).
    let mut e = page();
    assert!(!msr_bitmap_unchanged(&e));
    e[836] = 2;
    assert!(!msr_bitmap_unchanged(&e));
    evmcs::set_clean_fields(&mut e, 2);
    assert!(msr_bitmap_unchanged(&e));
    e[836] = 1;
    assert!(!msr_bitmap_unchanged(&e));
}

#[test]
fn current_evmptr_reads_the_vp_assist_page() {
    let mut p = page();
    p[48..56].copy_from_slice(&0x1_2345_6000u64.to_le_bytes());
    // enlighten_vmentry (40) off.
    assert_eq!(current_evmptr(&p), None);
    p[40] = 1;
    assert_eq!(current_evmptr(&p), Some(0x1_2345_6000));
    // EVMPTR_INVALID (-1) and EVMPTR_MAP_PENDING (-2) are no eVMCS.
    p[48..56].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(current_evmptr(&p), None);
    p[48..56].copy_from_slice(&(u64::MAX - 1).to_le_bytes());
    assert_eq!(current_evmptr(&p), None);
}

#[test]
fn supported_controls_are_kvms() {
    // hyperv_evmcs.h's EVMCS1_SUPPORTED_* over asm/vmx.h's bits.
    assert_eq!(supported::PINCTRL, 0x0000_003f);
    assert_eq!(supported::EXEC_CTRL, 0xfff9_fffe);
    assert_eq!(supported::SECONDARY, 0xc719_98fe);
    assert_eq!(supported::TERTIARY, 0);
    assert_eq!(supported::VMEXIT_CTRL, 0x03bf_ffff);
    assert_eq!(supported::VMENTRY_CTRL, 0x0007_f3ff);
    assert_eq!(supported::VMFUNC, 0);
    // hyperv.c drops SECONDARY_EXEC_TSC_SCALING (bit 25).
    assert_eq!(supported::SECONDARY_KVM, 0xc519_98fe);

    let mut v = blank12();
    assert!(evmcs::check_controls(&v));
    v.set_field(enc::PIN_BASED_VM_EXEC_CONTROL, 0x3f);
    v.set_field(enc::CPU_BASED_VM_EXEC_CONTROL, 0xfff9_fffe);
    v.set_field(enc::SECONDARY_VM_EXEC_CONTROL, 0xc519_98fe);
    v.set_field(enc::VM_EXIT_CONTROLS, 0x03bf_ffff);
    v.set_field(enc::VM_ENTRY_CONTROLS, 0x0007_f3ff);
    assert!(evmcs::check_controls(&v));
    for (e, bad) in [
        // The preemption timer, posted interrupts.
        (enc::PIN_BASED_VM_EXEC_CONTROL, 1 << 6),
        (enc::PIN_BASED_VM_EXEC_CONTROL, 1 << 7),
        // Tertiary controls.
        (enc::CPU_BASED_VM_EXEC_CONTROL, 1 << 17),
        // TSC scaling, APIC-access virtualization, PML, VMCS shadowing.
        (enc::SECONDARY_VM_EXEC_CONTROL, 1 << 25),
        (enc::SECONDARY_VM_EXEC_CONTROL, 1 << 0),
        (enc::SECONDARY_VM_EXEC_CONTROL, 1 << 17),
        (enc::SECONDARY_VM_EXEC_CONTROL, 1 << 14),
        // Save preemption timer value.
        (enc::VM_EXIT_CONTROLS, 1 << 22),
        // Entry to SMM.
        (enc::VM_ENTRY_CONTROLS, 1 << 10),
        // Any VM function, and bits 63:32.
        (enc::VM_FUNCTION_CONTROL, 1),
        (enc::VM_FUNCTION_CONTROL, 1 << 32),
    ] {
        let mut w = blank12();
        w.bytes.copy_from_slice(&v.bytes);
        w.set_field(e, w.field(e) | bad);
        assert!(!evmcs::check_controls(&w), "{e:#x} {bad:#x}");
    }
}

/// The C file of the layout test: the table and constants checked
/// against hyperv-tlfs.h, vmcs12.h and KVM's `vmcs_field_to_evmcs_1[]`.
#[test]
fn evmcs_layout_c() {
    let Some(path) = std::env::var_os("GM_EVMCS_LAYOUT_C") else {
        return;
    };
    let mut c = String::from(
        "// SPDX-License-Identifier: GPL-2.0\n\
         /* Generated by rust/host/nested_vmx_evmcs_tests.rs: guestmap's eVMCS table. */\n\
         #include <linux/module.h>\n#include <asm/hyperv-tlfs.h>\n#include <asm/vmx.h>\n\
         #include \"vmcs12.h\"\n\
         /* hyperv_evmcs.h and KVM's own field map, vmcs_field_to_evmcs_1[]. */\n\
         #include \"hyperv_evmcs.c\"\n\n\
         #define CHECK(c) static_assert(c, #c)\n\
         #define EVMCS(m) (((struct hv_enlightened_vmcs *)0)->m)\n\n",
    );
    let _ = writeln!(c, "CHECK(KVM_EVMCS_VERSION == {});", evmcs::VERSION);
    let _ = writeln!(c, "CHECK(VMCS12_REVISION == {:#x});", vmcs12::REVISION);
    let _ = writeln!(
        c,
        "CHECK(sizeof(struct hv_enlightened_vmcs) == {});",
        evmcs::SIZE
    );
    for (m, off, size) in [
        ("revision_id", hdr::REVISION_ID, 4),
        ("abort", hdr::ABORT, 4),
        ("hv_clean_fields", hdr::CLEAN_FIELDS, 4),
        ("hv_synthetic_controls", hdr::SYNTHETIC_CONTROLS, 4),
        ("hv_enlightenments_control", hdr::ENLIGHTENMENTS_CONTROL, 4),
        ("hv_vp_id", hdr::VP_ID, 4),
        ("hv_vm_id", hdr::VM_ID, 8),
        ("partition_assist_page", hdr::PARTITION_ASSIST_PAGE, 8),
    ] {
        let _ = writeln!(
            c,
            "CHECK(offsetof(struct hv_enlightened_vmcs, {m}) == {off});"
        );
        let _ = writeln!(c, "CHECK(sizeof(EVMCS({m})) == {size});");
    }
    for (m, off, size) in [
        ("enlighten_vmentry", vp_assist::ENLIGHTEN_VMENTRY, 1),
        ("current_nested_vmcs", vp_assist::CURRENT_NESTED_VMCS, 8),
    ] {
        let _ = writeln!(
            c,
            "CHECK(offsetof(struct hv_vp_assist_page, {m}) == {off});"
        );
        let _ = writeln!(
            c,
            "CHECK(sizeof(((struct hv_vp_assist_page *)0)->{m}) == {size});"
        );
    }
    for (n, v) in [
        ("NONE", clean::NONE),
        ("IO_BITMAP", clean::IO_BITMAP),
        ("MSR_BITMAP", clean::MSR_BITMAP),
        ("CONTROL_GRP2", clean::CONTROL_GRP2),
        ("CONTROL_GRP1", clean::CONTROL_GRP1),
        ("CONTROL_PROC", clean::CONTROL_PROC),
        ("CONTROL_EVENT", clean::CONTROL_EVENT),
        ("CONTROL_ENTRY", clean::CONTROL_ENTRY),
        ("CONTROL_EXCPN", clean::CONTROL_EXCPN),
        ("CRDR", clean::CRDR),
        ("CONTROL_XLAT", clean::CONTROL_XLAT),
        ("GUEST_BASIC", clean::GUEST_BASIC),
        ("GUEST_GRP1", clean::GUEST_GRP1),
        ("GUEST_GRP2", clean::GUEST_GRP2),
        ("HOST_POINTER", clean::HOST_POINTER),
        ("HOST_GRP1", clean::HOST_GRP1),
        ("ENLIGHTENMENTSCONTROL", clean::ENLIGHTENMENTSCONTROL),
        ("ALL", clean::ALL),
    ] {
        let _ = writeln!(c, "CHECK(HV_VMX_ENLIGHTENED_CLEAN_FIELD_{n} == {v:#x});");
    }
    for (n, v) in [
        ("EVMCS1_SUPPORTED_PINCTRL", u64::from(supported::PINCTRL)),
        ("EVMCS1_SUPPORTED_EXEC_CTRL", supported::EXEC_CTRL.into()),
        ("EVMCS1_SUPPORTED_2NDEXEC", supported::SECONDARY.into()),
        ("EVMCS1_SUPPORTED_3RDEXEC", supported::TERTIARY),
        (
            "EVMCS1_SUPPORTED_VMEXIT_CTRL",
            supported::VMEXIT_CTRL.into(),
        ),
        (
            "EVMCS1_SUPPORTED_VMENTRY_CTRL",
            supported::VMENTRY_CTRL.into(),
        ),
        ("EVMCS1_SUPPORTED_VMFUNC", supported::VMFUNC),
        (
            "(EVMCS1_SUPPORTED_2NDEXEC & ~SECONDARY_EXEC_TSC_SCALING)",
            supported::SECONDARY_KVM.into(),
        ),
    ] {
        let _ = writeln!(c, "CHECK({n} == {v:#x});");
    }
    for f in FIELDS.iter() {
        let (off, w) = evmcs_place(f.enc.into()).unwrap();
        let n = f.name;
        let _ = writeln!(
            c,
            "CHECK(offsetof(struct hv_enlightened_vmcs, {n}) == {off});"
        );
        let _ = writeln!(c, "CHECK(sizeof(EVMCS({n})) == {});", w.bytes());
        let _ = writeln!(c, "CHECK({} == {:#x});", n.to_uppercase(), f.enc);
    }
    // KVM's table is a const array: the compiler folds its entries, and
    // BUILD_BUG_ON, which needs a function, fails the build on a
    // mismatch.
    let nr = FIELDS.iter().map(|f| rol16_6(f.enc.into())).max().unwrap() as u32 + 1;
    c.push_str(
        "\nstatic int __init evmcs_layout_init(void)\n{\n\
         \tunion { u32 v; typeof(EVMCS(hv_enlightenments_control)) c; }\n\
         \t\tflush = { .c = { .nested_flush_hypercall = 1 } },\n\
         \t\tmsr = { .c = { .msr_bitmap = 1 } };\n\n",
    );
    let _ = writeln!(
        c,
        "\tBUILD_BUG_ON(flush.v != {:#x});",
        evmcs::enlightenments::NESTED_FLUSH_HYPERCALL
    );
    let _ = writeln!(
        c,
        "\tBUILD_BUG_ON(msr.v != {:#x});",
        evmcs::enlightenments::MSR_BITMAP
    );
    let _ = writeln!(c, "\tBUILD_BUG_ON(nr_evmcs_1_fields != {nr:#x});");
    for f in FIELDS.iter() {
        let e = f.name.to_uppercase();
        let _ = writeln!(
            c,
            "\tBUILD_BUG_ON(vmcs_field_to_evmcs_1[ROL16({e}, 6)].offset != {});",
            f.offset
        );
        let _ = writeln!(
            c,
            "\tBUILD_BUG_ON(vmcs_field_to_evmcs_1[ROL16({e}, 6)].clean_field != {:#x});",
            f.clean
        );
    }
    c.push_str(
        "\treturn 0;\n}\nmodule_init(evmcs_layout_init);\n\n\
         MODULE_LICENSE(\"GPL\");\nMODULE_DESCRIPTION(\"eVMCS layout check, never loaded\");\n",
    );
    std::fs::write(path, c).unwrap();
}
