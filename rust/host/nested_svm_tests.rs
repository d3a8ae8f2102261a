// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/svm/`: the VMCB layout (`vmcb.rs`), the VMRUN
//! checks (`checks.rs`), the permission maps (`permmap.rs`) and the
//! commands' arguments (`abi.rs`).  Every expected value is written out
//! from AMD's APM vol. 2 (24593) and KVM 6.12, never from the code under
//! test:
//!
//! * VMCB offsets: APM appendix B, tables B-1 (control area) and B-2
//!   (state save area, offsets from 400h), cross-checked by summing the
//!   field sizes of struct vmcb_control_area and struct vmcb_save_area in
//!   arch/x86/include/asm/svm.h (the sums are in the comments).
//! * Checks and their order: AMD APM 15.5.1 (VMRUN, illegal guest state
//!   -> VMEXIT_INVALID) and arch/x86/kvm/svm/nested.c:
//!   vmrun_interception() -> nested_svm_check_permissions() (SVME and
//!   paging #UD, CPL #GP), nested_svm_vmrun() (HSAVE_PA 0 #GP, SMM #UD),
//!   nested_svm_check_cached_vmcb12() (__nested_vmcb_check_save() then
//!   __nested_vmcb_check_controls()), enter_svm_guest_mode() ->
//!   nested_svm_load_cr3().
//! * Maps: APM 15.10.1 (IOPM), 15.11 (MSRPM); svm.c svm_msrpm_offset(),
//!   nested.c nested_svm_exit_handled_msr(), nested_svm_intercept_ioio(),
//!   nested_svm_vmrun_msrpm(), svm.h is_x2apic_msrpm_offset().
//! * Arguments: include/uapi/linux/guestmap.h.
//!
//! The tests set VMCB fields at literal offsets, not through the module's
//! constants, so a wrong constant fails the behaviour tests too.

use crate::nested::cpu::{CpuModel, Feature};
use crate::nested::svm::abi::{self, L0MsrReq, L2Access, VcpuReq, VmexitReq, VmrunReq};
use crate::nested::svm::checks::{
    self, check_controls, check_entry, check_permissions, check_save, judge, Check, L1Error,
    L1State, Verdict,
};
use crate::nested::svm::permmap::{io_bits, msr_bits, IoBits, MsrBits, MsrMap, MSRPM_WORDS};
use crate::nested::svm::vmcb::{self, control, save, Intercept, Vmcb12};
use crate::nested_cpu_tests::{ent, full_cpuid, host_all, host_without};
use crate::uapi;
use std::vec::Vec;

// ---------------------------------------------------------------------
// Offsets, from struct vmcb_control_area / vmcb_save_area (svm.h):
//
// control: u32 intercepts[6] + u32 reserved_1[9] = 60 (3Ch) bytes, then
// pause_filter_thresh 3Ch, pause_filter_count 3Eh (u16 each),
// iopm_base_pa 40h, msrpm_base_pa 48h, tsc_offset 50h (u64 each),
// asid 58h (u32), tlb_ctl 5Ch, reserved_2[3] 5Dh, int_ctl 60h,
// int_vector 64h, int_state 68h, reserved_3[4] 6Ch, exit_code 70h,
// exit_code_hi 74h, exit_info_1 78h, exit_info_2 80h, exit_int_info 88h,
// exit_int_info_err 8Ch, nested_ctl 90h, avic_vapic_bar 98h, ghcb_gpa
// A0h, event_inj A8h, event_inj_err ACh, nested_cr3 B0h; 400h in all
// (EXPECTED_VMCB_CONTROL_AREA_SIZE 1024).
//
// save (from 400h): ten struct vmcb_seg of 16 bytes (selector u16,
// attrib u16, limit u32, base u64): es 00h, cs 10h (attrib 12h), ss
// 20h ... tr 90h; reserved_0xa0[42] A0h, vmpl CAh, cpl CBh,
// reserved_0xcc[4], efer D0h, reserved_0xd8[112] D8h, cr4 148h, cr3
// 150h, cr0 158h, dr7 160h, dr6 168h, rflags 170h, rip 178h,
// reserved_0x180[88], rsp 1D8h, s_cet 1E0h, ssp 1E8h, isst_addr 1F0h,
// rax 1F8h, ... spec_ctrl 2E0h; 2E8h in all
// (EXPECTED_VMCB_SAVE_AREA_SIZE 744).
// ---------------------------------------------------------------------

const INTERCEPT_WORD3: usize = 0x00c;
const INTERCEPT_WORD4: usize = 0x010;
const IOPM_BASE_PA: usize = 0x040;
const MSRPM_BASE_PA: usize = 0x048;
const ASID: usize = 0x058;
const INT_CTL: usize = 0x060;
const NESTED_CTL: usize = 0x090;
const NESTED_CR3: usize = 0x0b0;
const CS_ATTRIB: usize = 0x400 + 0x012;
const EFER: usize = 0x400 + 0x0d0;
const CR4: usize = 0x400 + 0x148;
const CR3: usize = 0x400 + 0x150;
const CR0: usize = 0x400 + 0x158;
const DR7: usize = 0x400 + 0x160;
const DR6: usize = 0x400 + 0x168;

// Architectural bits.
const CR0_PE: u64 = 1 << 0;
const CR0_ET: u64 = 1 << 4;
const CR0_NW: u64 = 1 << 29;
const CR0_CD: u64 = 1 << 30;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const EFER_SCE: u64 = 1 << 0;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NX: u64 = 1 << 11;
const EFER_SVME: u64 = 1 << 12;
/// VMCB segment attributes (APM 15.5.1): descriptor bits 47:40 in 7:0,
/// 55:52 in 11:8.  Type Bh (code, execute/read, accessed), S 4, DPL 6:5,
/// P 7, AVL 8, L 9, D/B 10, G 11.
const ATTR_CODE: u16 = 0x009b;
const ATTR_L: u16 = 1 << 9;
const ATTR_DB: u16 = 1 << 10;
const ATTR_G: u16 = 1 << 11;
/// INT_CTL (V_INTR, 060h) bit 26: V_NMI_ENABLE.
const V_NMI_ENABLE: u32 = 1 << 26;

const TWO_48: u64 = 1 << 48;

/// The CPU model of the checks: every feature, MAXPHYADDR 48.
fn cpu() -> CpuModel {
    CpuModel::new(&full_cpuid(), host_all()).unwrap()
}

/// The same guest on a host without nested paging.
fn cpu_without_npt() -> CpuModel {
    CpuModel::new(&full_cpuid(), host_without(Feature::Npt)).unwrap()
}

/// L1 in long mode at CPL 0 with SVME and an HSAVE area.
fn l1() -> L1State {
    L1State {
        efer: EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_SVME,
        cr0: CR0_PG | CR0_ET | CR0_PE,
        cpl: 0,
        hsave_pa: 0x3000,
        smm: false,
    }
}

fn set_bit32(v: &mut Vmcb12, off: usize, bit: u32, on: bool) {
    let w = v.u32(off);
    v.set_u32(off, if on { w | (1 << bit) } else { w & !(1 << bit) });
}

/// A VMCB12 that passes every check: a 64-bit L2.
fn long_mode() -> Vmcb12 {
    let mut v = Vmcb12::default();
    // VMRUN intercept: 010h bit 0.
    v.set_u32(INTERCEPT_WORD4, 1);
    v.set_u64(IOPM_BASE_PA, 0x2_0000);
    v.set_u64(MSRPM_BASE_PA, 0x1_0000);
    v.set_u32(ASID, 1);
    v.set_u16(CS_ATTRIB, ATTR_CODE | ATTR_L);
    v.set_u64(EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_SVME);
    v.set_u64(CR4, CR4_PAE);
    v.set_u64(CR3, 0x1000);
    v.set_u64(CR0, CR0_PG | CR0_ET | CR0_PE);
    // Their reset values.
    v.set_u64(DR7, 0x400);
    v.set_u64(DR6, 0xffff_0ff0);
    v
}

/// A VMCB12 that passes every check: a 32-bit L2 with paging, no PAE.
fn legacy_mode() -> Vmcb12 {
    let mut v = long_mode();
    v.set_u16(CS_ATTRIB, ATTR_CODE | ATTR_DB | ATTR_G);
    v.set_u64(EFER, EFER_SVME);
    v.set_u64(CR4, 0);
    v
}

fn invalid(c: Check) -> Verdict {
    Verdict::Invalid(c)
}

fn ud(c: Check) -> Verdict {
    Verdict::Exception {
        vector: 6,
        check: c,
    }
}

fn gp(c: Check) -> Verdict {
    Verdict::Exception {
        vector: 13,
        check: c,
    }
}

// === vmcb.rs ==========================================================

#[test]
fn control_area_offsets_match_appendix_b() {
    assert_eq!(control::INTERCEPTS, 0x000);
    assert_eq!(control::IOPM_BASE_PA, 0x040);
    assert_eq!(control::MSRPM_BASE_PA, 0x048);
    assert_eq!(control::ASID, 0x058);
    assert_eq!(control::INT_CTL, 0x060);
    assert_eq!(control::EXIT_CODE, 0x070);
    assert_eq!(control::EXIT_INFO_1, 0x078);
    assert_eq!(control::EXIT_INFO_2, 0x080);
    assert_eq!(control::EXIT_INT_INFO, 0x088);
    assert_eq!(control::NESTED_CTL, 0x090);
    assert_eq!(control::EVENT_INJ, 0x0a8);
    assert_eq!(control::NESTED_CR3, 0x0b0);
    assert_eq!(vmcb::CONTROL_SIZE, 0x400);
}

#[test]
fn save_area_offsets_match_appendix_b() {
    // Table B-2 offsets plus the 400h of the control area.
    assert_eq!(save::CS, 0x410);
    assert_eq!(save::CS_ATTRIB, 0x412);
    assert_eq!(save::EFER, 0x4d0);
    assert_eq!(save::CR4, 0x548);
    assert_eq!(save::CR3, 0x550);
    assert_eq!(save::CR0, 0x558);
    assert_eq!(save::DR7, 0x560);
    assert_eq!(save::DR6, 0x568);
    // 744 bytes of save area, SPEC_CTRL at 2E0h its last field.
    assert_eq!(vmcb::SAVE_SIZE, 744);
    assert_eq!(vmcb::COPY_SIZE, 0x6e8);
    assert_eq!(Vmcb12::default().bytes().len(), 0x6e8);
}

#[test]
fn intercept_bits_are_where_appendix_b_puts_them() {
    // enum intercept_words/INTERCEPT_* in svm.h: word 3 starts at bit 96
    // (INTERCEPT_INTR); NMI 97, IOIO_PROT 123, MSR_PROT 124; VMRUN 128.
    assert_eq!(Intercept::NMI, Intercept(97));
    assert_eq!(Intercept::IOIO_PROT, Intercept(123));
    assert_eq!(Intercept::MSR_PROT, Intercept(124));
    assert_eq!(Intercept::VMRUN, Intercept(128));
    // As bytes: NMI 00Ch bit 1, IOIO_PROT 00Ch bit 27 (byte 00Fh bit 3),
    // MSR_PROT 00Ch bit 28 (byte 00Fh bit 4), VMRUN 010h bit 0.
    for (i, byte, val) in [
        (Intercept::NMI, 0x0c, 0x02),
        (Intercept::IOIO_PROT, 0x0f, 0x08),
        (Intercept::MSR_PROT, 0x0f, 0x10),
        (Intercept::VMRUN, 0x10, 0x01),
    ] {
        let mut v = Vmcb12::default();
        v.set_intercept(i, true);
        assert_eq!(v.bytes()[byte], val, "{i:?}");
        assert_eq!(v.bytes().iter().filter(|b| **b != 0).count(), 1, "{i:?}");
        assert!(v.intercepts(i));
        v.set_intercept(i, false);
        assert!(v.bytes().iter().all(|b| *b == 0), "{i:?}");
        assert!(!v.intercepts(i));
        // Read from raw bytes.
        let mut w = Vmcb12::default();
        w.bytes_mut()[byte] = val;
        assert!(w.intercepts(i), "{i:?}");
        w.bytes_mut()[byte] = !val;
        assert!(!w.intercepts(i), "{i:?}");
    }
}

#[test]
fn vmcb_field_bits_match_svm_h() {
    // SVM_NESTED_CTL_NP_ENABLE BIT(0); V_NMI_ENABLE_MASK 1 << 26;
    // SVM_SELECTOR_L_SHIFT 9, SVM_SELECTOR_DB_SHIFT 10; SVM_EXIT_ERR -1.
    assert_eq!(vmcb::NP_ENABLE, 1);
    assert_eq!(vmcb::V_NMI_ENABLE, 0x0400_0000);
    assert_eq!(vmcb::SEG_L, 0x200);
    assert_eq!(vmcb::SEG_DB, 0x400);
    assert_eq!(vmcb::VMEXIT_INVALID, 0xffff_ffff_ffff_ffff);
}

#[test]
fn vmcb12_accessors_are_little_endian() {
    let mut v = Vmcb12::default();
    v.bytes_mut()[0x4d0..0x4d8].copy_from_slice(&[0x01, 0x1d, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(v.u64(0x4d0), 0x8000_0000_0000_1d01);
    assert_eq!(v.u32(0x4d0), 0x1d01);
    assert_eq!(v.u16(0x4d0), 0x1d01);
    assert_eq!(v.u16(0x4d1), 0x001d);
    v.set_u64(0x78, 0x0102_0304_0506_0708);
    assert_eq!(&v.bytes()[0x78..0x80], &[8, 7, 6, 5, 4, 3, 2, 1]);
    v.set_u32(0x58, 0xaabb_ccdd);
    assert_eq!(&v.bytes()[0x58..0x5c], &[0xdd, 0xcc, 0xbb, 0xaa]);
    v.set_u16(0x412, 0x0a9b);
    assert_eq!(&v.bytes()[0x412..0x414], &[0x9b, 0x0a]);
    // The last bytes of the copy are reachable.
    v.set_u64(0x6e0, u64::MAX);
    assert_eq!(v.u64(0x6e0), u64::MAX);
}

#[test]
fn bitmap_bases_ignore_bits_11_0() {
    // APM 15.10.1/15.11: the low 12 bits of IOPM_BASE_PA/MSRPM_BASE_PA
    // are ignored; KVM masks them with ~0x0fffULL in
    // __nested_copy_vmcb_control_to_cache().
    let mut v = Vmcb12::default();
    v.set_u64(MSRPM_BASE_PA, 0x1fff);
    v.set_u64(IOPM_BASE_PA, 0x2_0abc);
    assert_eq!(v.msrpm_base(), 0x1000);
    assert_eq!(v.iopm_base(), 0x2_0000);
    v.set_u64(MSRPM_BASE_PA, u64::MAX);
    v.set_u64(IOPM_BASE_PA, 0xfff);
    assert_eq!(v.msrpm_base(), 0xffff_ffff_ffff_f000);
    assert_eq!(v.iopm_base(), 0);
}

// === checks.rs ========================================================

#[test]
fn check_ids_and_vectors_are_the_uapi_numbers() {
    // include/uapi/linux/guestmap.h, DOC: VMRUN checks, in KVM's order.
    let ids = [
        (Check::L1Svme, 1),
        (Check::L1Paging, 2),
        (Check::L1Cpl, 3),
        (Check::Hsave, 4),
        (Check::Smm, 5),
        (Check::EferSvme, 6),
        (Check::Cr0Nw, 7),
        (Check::Cr0High, 8),
        (Check::Dr6, 9),
        (Check::Dr7, 10),
        (Check::LongPae, 11),
        (Check::LongPe, 12),
        (Check::LongCr3, 13),
        (Check::CsLD, 14),
        (Check::Cr4, 15),
        (Check::Efer, 16),
        (Check::VmrunIntercept, 17),
        (Check::Asid, 18),
        (Check::Np, 19),
        (Check::Ncr3, 20),
        (Check::Msrpm, 21),
        (Check::Iopm, 22),
        (Check::VNmi, 23),
        (Check::Cr3, 24),
        (Check::MsrpmRead, 25),
    ];
    for (c, id) in ids {
        assert_eq!(c as u32, id, "{c:?}");
    }
    // #UD is vector 6, #GP 13 (APM vol. 2 8.2).
    assert_eq!((checks::UD_VECTOR, checks::GP_VECTOR), (6, 13));
    // IOPM 12 KiB, MSRPM 8 KiB (svm.h IOPM_SIZE, MSRPM_SIZE).
    assert_eq!((checks::MSRPM_SIZE, checks::IOPM_SIZE), (0x2000, 0x3000));
}

#[test]
fn a_valid_vmrun_enters() {
    assert_eq!(judge(&l1(), &long_mode(), &cpu()), Verdict::Enter);
    assert_eq!(judge(&l1(), &legacy_mode(), &cpu()), Verdict::Enter);
    assert_eq!(check_permissions(&l1()), Ok(()));
    assert_eq!(check_save(&long_mode(), &cpu()), Ok(()));
    assert_eq!(check_controls(&long_mode(), &cpu()), Ok(()));
    assert_eq!(check_entry(&long_mode(), &cpu()), Ok(()));
}

// --- nested_svm_check_permissions(), nested_svm_vmrun() ----------------

#[test]
fn l1_svme_clear_is_ud() {
    let mut l = l1();
    l.efer &= !EFER_SVME;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::L1Svme));
    assert_eq!(check_permissions(&l), Err(ud(Check::L1Svme)));
}

#[test]
fn l1_paging_off_is_ud() {
    let mut l = l1();
    l.cr0 = CR0_PE;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::L1Paging));
    // Any CR0 with PG is enough for this check.
    l.cr0 = CR0_PG | CR0_PE;
    assert_eq!(judge(&l, &long_mode(), &cpu()), Verdict::Enter);
}

#[test]
fn l1_cpl_not_0_is_gp() {
    for cpl in 1..=3 {
        let mut l = l1();
        l.cpl = cpl;
        assert_eq!(judge(&l, &long_mode(), &cpu()), gp(Check::L1Cpl), "{cpl}");
    }
}

#[test]
fn hsave_pa_0_is_gp() {
    let mut l = l1();
    l.hsave_pa = 0;
    assert_eq!(judge(&l, &long_mode(), &cpu()), gp(Check::Hsave));
    l.hsave_pa = 0x1000;
    assert_eq!(judge(&l, &long_mode(), &cpu()), Verdict::Enter);
}

#[test]
fn smm_is_ud() {
    let mut l = l1();
    l.smm = true;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::Smm));
}

#[test]
fn permission_checks_come_first_in_kvms_order() {
    // SVME clear and HSAVE 0: nested_svm_check_permissions() first.
    let mut l = l1();
    l.efer &= !EFER_SVME;
    l.hsave_pa = 0;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::L1Svme));
    // SVME clear and paging off: both #UD from one test, SVME reported.
    let mut l = l1();
    l.efer &= !EFER_SVME;
    l.cr0 = 0;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::L1Svme));
    // Paging off and CPL 3: #UD before #GP.
    let mut l = l1();
    l.cr0 = CR0_PE;
    l.cpl = 3;
    assert_eq!(judge(&l, &long_mode(), &cpu()), ud(Check::L1Paging));
    // CPL 3 and HSAVE 0: #GP for the CPL.
    let mut l = l1();
    l.cpl = 3;
    l.hsave_pa = 0;
    assert_eq!(judge(&l, &long_mode(), &cpu()), gp(Check::L1Cpl));
    // HSAVE 0 and SMM: HSAVE first in nested_svm_vmrun().
    let mut l = l1();
    l.hsave_pa = 0;
    l.smm = true;
    assert_eq!(judge(&l, &long_mode(), &cpu()), gp(Check::Hsave));
    // CPL 3 and SMM: #GP.
    let mut l = l1();
    l.cpl = 3;
    l.smm = true;
    assert_eq!(judge(&l, &long_mode(), &cpu()), gp(Check::L1Cpl));
    // A fault in L1 beats an invalid VMCB12: VMCB12 is not even read.
    let mut bad = long_mode();
    bad.set_u64(EFER, 0);
    bad.set_u32(ASID, 0);
    let mut l = l1();
    l.cpl = 3;
    assert_eq!(judge(&l, &bad, &cpu()), gp(Check::L1Cpl));
    l.cpl = 0;
    l.smm = true;
    assert_eq!(judge(&l, &bad, &cpu()), ud(Check::Smm));
}

// --- __nested_vmcb_check_save() ----------------------------------------

#[test]
fn vmcb12_efer_svme_clear_is_invalid() {
    let mut v = long_mode();
    v.set_u64(EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::EferSvme));
    assert_eq!(check_save(&v, &cpu()), Err(Check::EferSvme));
}

#[test]
fn cr0_nw_needs_cd() {
    // APM 15.5.1: "CR0.CD is zero and CR0.NW is set".
    let base = CR0_PG | CR0_ET | CR0_PE;
    for (cd, nw, ok) in [
        (false, false, true),
        (true, false, true),
        (true, true, true),
        (false, true, false),
    ] {
        let mut v = long_mode();
        let cr0 = base | if cd { CR0_CD } else { 0 } | if nw { CR0_NW } else { 0 };
        v.set_u64(CR0, cr0);
        let want = if ok {
            Verdict::Enter
        } else {
            invalid(Check::Cr0Nw)
        };
        assert_eq!(judge(&l1(), &v, &cpu()), want, "CD {cd} NW {nw}");
    }
}

#[test]
fn cr0_bits_63_32_must_be_zero() {
    let base = CR0_PG | CR0_ET | CR0_PE;
    for bit in [32, 47, 63] {
        let mut v = long_mode();
        v.set_u64(CR0, base | (1 << bit));
        assert_eq!(
            judge(&l1(), &v, &cpu()),
            invalid(Check::Cr0High),
            "bit {bit}"
        );
    }
    // Bits 31:0, all of them, are not this check's business.
    let mut v = long_mode();
    v.set_u64(CR0, 0xffff_ffff);
    assert_eq!(check_save(&v, &cpu()), Ok(()));
}

#[test]
fn dr6_bits_63_32_must_be_zero() {
    // kvm_dr6_valid(): !(data >> 32).
    let mut v = long_mode();
    v.set_u64(DR6, 0xffff_ffff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(DR6, 0x1_ffff_0ff0);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Dr6));
    v.set_u64(DR6, 1 << 63);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Dr6));
}

#[test]
fn dr7_bits_63_32_must_be_zero() {
    // kvm_dr7_valid(): !(data >> 32).
    let mut v = long_mode();
    v.set_u64(DR7, 0xffff_ffff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(DR7, 0x1_0000_0400);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Dr7));
    // DR6 is checked first.
    v.set_u64(DR6, 1 << 32);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Dr6));
}

#[test]
fn long_mode_needs_cr4_pae() {
    // EFER.LME and CR0.PG with CR4.PAE clear.
    let mut v = long_mode();
    v.set_u64(CR4, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::LongPae));
    // Not applied without LME (32-bit paging) ...
    let mut v = legacy_mode();
    v.set_u64(CR4, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // ... nor with LME but paging off (EFER.LMA clear, as hardware has it).
    let mut v = long_mode();
    v.set_u64(CR4, 0);
    v.set_u64(CR0, CR0_ET | CR0_PE);
    v.set_u64(EFER, EFER_LME | EFER_SVME);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
}

#[test]
fn long_mode_needs_cr0_pe() {
    let mut v = long_mode();
    v.set_u64(CR0, CR0_PG | CR0_ET);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::LongPe));
    // KVM does not check PG without PE outside long mode.
    let mut v = legacy_mode();
    v.set_u64(CR0, CR0_PG | CR0_ET);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
}

#[test]
fn long_mode_cr3_must_be_below_maxphyaddr() {
    let mut v = long_mode();
    v.set_u64(CR3, 0xffff_ffff_f000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(CR3, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::LongCr3));
    // The LAM bits 61 and 62 are masked: the model has LAM.
    v.set_u64(CR3, (1 << 61) | (1 << 62) | 0x1000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(CR3, (1 << 63) | 0x1000);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::LongCr3));
    // MAXPHYADDR 36 by default: a guest with SVM, NX and LM only.
    let m36 = CpuModel::new(
        &[ent(0x8000_0001, 0, 0, 0, 1 << 2, (1 << 20) | (1 << 29))],
        host_all(),
    )
    .unwrap();
    v.set_u64(CR3, 0xf_ffff_f000);
    assert_eq!(judge(&l1(), &v, &m36), Verdict::Enter);
    v.set_u64(CR3, 0x10_0000_0000);
    assert_eq!(judge(&l1(), &v, &m36), invalid(Check::LongCr3));
}

#[test]
fn cs_l_and_d_together_only_matter_in_long_mode() {
    // APM 15.5.1: EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set.
    let attrs = [
        (ATTR_CODE, true),
        (ATTR_CODE | ATTR_L, true),
        (ATTR_CODE | ATTR_DB, true),
        (ATTR_CODE | ATTR_L | ATTR_DB, false),
        (0xffff, false),
    ];
    for (attr, ok) in attrs {
        let mut v = long_mode();
        v.set_u16(CS_ATTRIB, attr);
        let want = if ok {
            Verdict::Enter
        } else {
            invalid(Check::CsLD)
        };
        assert_eq!(judge(&l1(), &v, &cpu()), want, "{attr:#x}");
        // Outside long mode, fine.
        let mut v = legacy_mode();
        v.set_u16(CS_ATTRIB, attr);
        assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter, "{attr:#x}");
    }
    // The selector and limit around the attribute word do not count.
    let mut v = long_mode();
    v.set_u16(0x410, 0xffff);
    v.set_u32(0x414, 0xffff_ffff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
}

#[test]
fn cr4_reserved_bits_are_invalid() {
    // __kvm_is_valid_cr4(): SMXE (14) always reserved; SMEP (20) on a
    // guest without SMEP.
    let mut v = long_mode();
    v.set_u64(CR4, CR4_PAE | (1 << 14));
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Cr4));
    v.set_u64(CR4, CR4_PAE | (1 << 20));
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    let mut no_smep = full_cpuid();
    no_smep[2].ebx &= !(1 << 7);
    let m = CpuModel::new(&no_smep, host_all()).unwrap();
    assert_eq!(judge(&l1(), &v, &m), invalid(Check::Cr4));
    // Also outside long mode.
    let mut v = legacy_mode();
    v.set_u64(CR4, 1 << 63);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Cr4));
}

#[test]
fn efer_the_model_refuses_is_invalid() {
    let mut v = long_mode();
    // Reserved bit 1.
    v.set_u64(EFER, EFER_SVME | EFER_LME | EFER_LMA | 2);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Efer));
    // FFXSR (14) on a guest without FXSR_OPT.
    v.set_u64(EFER, EFER_SVME | EFER_LME | EFER_LMA | (1 << 14));
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    let mut no_ffxsr = full_cpuid();
    no_ffxsr[5].edx &= !(1 << 25);
    let m = CpuModel::new(&no_ffxsr, host_all()).unwrap();
    assert_eq!(judge(&l1(), &v, &m), invalid(Check::Efer));
    // LME/LMA on a guest without LM (outside long mode: not LongPae).
    let mut no_lm = full_cpuid();
    no_lm[5].edx &= !(1 << 29);
    let m = CpuModel::new(&no_lm, host_all()).unwrap();
    let mut v = legacy_mode();
    v.set_u64(EFER, EFER_SVME | EFER_LMA);
    assert_eq!(judge(&l1(), &v, &m), invalid(Check::Efer));
}

#[test]
fn efer_svme_is_checked_before_efer_validity() {
    // An EFER with SVME clear and a reserved bit: EferSvme first.
    let mut v = long_mode();
    v.set_u64(EFER, EFER_LME | EFER_LMA | 2);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::EferSvme));
}

// --- __nested_vmcb_check_controls() ------------------------------------

#[test]
fn vmrun_intercept_clear_is_invalid() {
    let mut v = long_mode();
    set_bit32(&mut v, INTERCEPT_WORD4, 0, false);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::VmrunIntercept));
    // Other bits of word 4 (VMMCALL, VMLOAD ...) do not stand for it.
    v.set_u32(INTERCEPT_WORD4, 0xffff_fffe);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::VmrunIntercept));
    v.set_u32(INTERCEPT_WORD4, 0xffff_ffff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
}

#[test]
fn asid_0_is_invalid() {
    let mut v = long_mode();
    v.set_u32(ASID, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Asid));
    v.set_u32(ASID, u32::MAX);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // TLB_CONTROL next to it (05Ch) is not the ASID.
    v.set_u32(ASID, 0);
    v.bytes_mut()[0x5c] = 1;
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Asid));
}

#[test]
fn nested_paging_needs_the_host_and_a_legal_ncr3() {
    let mut v = long_mode();
    v.set_u64(NESTED_CTL, 1);
    v.set_u64(NESTED_CR3, 0xffff_ffff_f000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // Host without NPT (npt_enabled false).
    assert_eq!(judge(&l1(), &v, &cpu_without_npt()), invalid(Check::Np));
    // nCR3 beyond MAXPHYADDR.
    v.set_u64(NESTED_CR3, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Ncr3));
    // Both: Np first.
    assert_eq!(judge(&l1(), &v, &cpu_without_npt()), invalid(Check::Np));
    // NP off: nCR3 and the host's NPT are ignored.
    v.set_u64(NESTED_CTL, 0);
    v.set_u64(NESTED_CR3, u64::MAX);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    assert_eq!(judge(&l1(), &v, &cpu_without_npt()), Verdict::Enter);
    // Only bit 0 is NP_ENABLE (bit 1 is SEV_ENABLE).
    v.set_u64(NESTED_CTL, 2);
    assert_eq!(judge(&l1(), &v, &cpu_without_npt()), Verdict::Enter);
}

#[test]
fn nested_paging_does_not_depend_on_the_guests_cpuid() {
    // npt_enabled is the host's; KVM does not look at the guest's
    // 8000000AH:EDX[0] here.
    let mut no_npt = full_cpuid();
    no_npt[7].edx = 0;
    let m = CpuModel::new(&no_npt, host_all()).unwrap();
    let mut v = long_mode();
    v.set_u64(NESTED_CTL, 1);
    v.set_u64(NESTED_CR3, 0x5000);
    assert_eq!(judge(&l1(), &v, &m), Verdict::Enter);
}

#[test]
fn msrpm_must_lie_below_maxphyaddr() {
    // nested_svm_check_bitmap_pa(): base and base + 8 KiB - 1 legal.
    let mut v = long_mode();
    v.set_u64(MSRPM_BASE_PA, TWO_48 - 0x2000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // Its last byte at 2^48 + FFFh crosses.
    v.set_u64(MSRPM_BASE_PA, TWO_48 - 0x1000);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Msrpm));
    v.set_u64(MSRPM_BASE_PA, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Msrpm));
    // Low 12 bits ignored: 2^48 - 2000h + FFFh is the legal page.
    v.set_u64(MSRPM_BASE_PA, TWO_48 - 0x2000 + 0xfff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(MSRPM_BASE_PA, 0x1fff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // No wrap-around at the top of the address space.
    v.set_u64(MSRPM_BASE_PA, u64::MAX);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Msrpm));
    v.set_u64(MSRPM_BASE_PA, 0xffff_ffff_ffff_e000);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Msrpm));
}

#[test]
fn iopm_must_lie_below_maxphyaddr() {
    // 12 KiB.
    let mut v = long_mode();
    v.set_u64(IOPM_BASE_PA, TWO_48 - 0x3000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(IOPM_BASE_PA, TWO_48 - 0x2000);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Iopm));
    v.set_u64(IOPM_BASE_PA, TWO_48 - 0x3000 + 0xfff);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    v.set_u64(IOPM_BASE_PA, u64::MAX);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Iopm));
    // MSRPM is checked first.
    v.set_u64(MSRPM_BASE_PA, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Msrpm));
}

#[test]
fn v_nmi_needs_the_nmi_intercept() {
    let mut v = long_mode();
    v.set_u32(INT_CTL, V_NMI_ENABLE);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::VNmi));
    // With the NMI intercept (00Ch bit 1).
    set_bit32(&mut v, INTERCEPT_WORD3, 1, true);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // Without V_NMI the NMI intercept is L1's choice.
    v.set_u32(INT_CTL, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    set_bit32(&mut v, INTERCEPT_WORD3, 1, false);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // The other V_INTR bits are not V_NMI_ENABLE.
    v.set_u32(INT_CTL, !V_NMI_ENABLE);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // INTR intercept (00Ch bit 0) is not the NMI intercept.
    v.set_u32(INT_CTL, V_NMI_ENABLE);
    set_bit32(&mut v, INTERCEPT_WORD3, 0, true);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::VNmi));
}

// --- nested_svm_load_cr3() ---------------------------------------------

#[test]
fn cr3_is_checked_on_entry_in_32_bit_and_pae_modes() {
    // kvm_vcpu_is_legal_cr3() whatever the mode.
    let mut v = legacy_mode();
    v.set_u64(CR3, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Cr3));
    assert_eq!(check_save(&v, &cpu()), Ok(()));
    assert_eq!(check_controls(&v, &cpu()), Ok(()));
    assert_eq!(check_entry(&v, &cpu()), Err(Check::Cr3));
    v.set_u64(CR3, 0xffff_ffff_f000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // PAE paging.
    v.set_u64(CR4, CR4_PAE);
    v.set_u64(CR3, TWO_48 | 0x20);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Cr3));
    // Paging off.
    v.set_u64(CR0, CR0_ET | CR0_PE);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Cr3));
    // LAM bits masked.
    v.set_u64(CR3, (1 << 62) | 0x1000);
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // In long mode LongCr3 catches it first.
    let mut v = long_mode();
    v.set_u64(CR3, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::LongCr3));
    // The controls are checked before the entry.
    let mut v = legacy_mode();
    v.set_u64(CR3, TWO_48);
    v.set_u32(ASID, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::Asid));
}

// --- the order of it all -----------------------------------------------

#[test]
fn the_first_broken_rule_in_kvms_order_wins() {
    // A VMCB12 that breaks every rule; repairing them one at a time in
    // KVM's order, each verdict is the next rule.
    let mut v = long_mode();
    // EFER: SVME clear, reserved bit 1.
    v.set_u64(EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | 2);
    // CR0: NW without CD, bit 32, PG without PE.
    v.set_u64(CR0, (1 << 32) | CR0_PG | CR0_NW | CR0_ET);
    v.set_u64(DR6, 1 << 32);
    v.set_u64(DR7, 1 << 32);
    // CR4: PAE clear, SMXE.
    v.set_u64(CR4, 1 << 14);
    v.set_u64(CR3, TWO_48);
    v.set_u16(CS_ATTRIB, ATTR_CODE | ATTR_L | ATTR_DB);
    v.set_u32(INTERCEPT_WORD4, 0);
    v.set_u32(ASID, 0);
    v.set_u64(NESTED_CTL, 1);
    v.set_u64(NESTED_CR3, TWO_48);
    v.set_u64(MSRPM_BASE_PA, TWO_48 - 0x1000);
    v.set_u64(IOPM_BASE_PA, TWO_48 - 0x2000);
    v.set_u32(INT_CTL, V_NMI_ENABLE);

    type Fix = fn(&mut Vmcb12);
    let steps: [(Check, Fix); 17] = [
        (Check::EferSvme, |v| {
            v.set_u64(EFER, v.u64(EFER) | EFER_SVME)
        }),
        (Check::Cr0Nw, |v| v.set_u64(CR0, v.u64(CR0) & !CR0_NW)),
        (Check::Cr0High, |v| v.set_u64(CR0, v.u64(CR0) & 0xffff_ffff)),
        (Check::Dr6, |v| v.set_u64(DR6, 0xffff_0ff0)),
        (Check::Dr7, |v| v.set_u64(DR7, 0x400)),
        (Check::LongPae, |v| v.set_u64(CR4, v.u64(CR4) | CR4_PAE)),
        (Check::LongPe, |v| v.set_u64(CR0, v.u64(CR0) | CR0_PE)),
        (Check::LongCr3, |v| v.set_u64(CR3, 0x1000)),
        (Check::CsLD, |v| v.set_u16(CS_ATTRIB, ATTR_CODE | ATTR_L)),
        (Check::Cr4, |v| v.set_u64(CR4, CR4_PAE)),
        (Check::Efer, |v| v.set_u64(EFER, v.u64(EFER) & !2)),
        (Check::VmrunIntercept, |v| v.set_u32(INTERCEPT_WORD4, 1)),
        (Check::Asid, |v| v.set_u32(ASID, 1)),
        (Check::Ncr3, |v| v.set_u64(NESTED_CR3, 0x5000)),
        (Check::Msrpm, |v| v.set_u64(MSRPM_BASE_PA, 0x1_0000)),
        (Check::Iopm, |v| v.set_u64(IOPM_BASE_PA, 0x2_0000)),
        (Check::VNmi, |v| set_bit32(v, INTERCEPT_WORD3, 1, true)),
    ];
    for (check, fix) in steps {
        assert_eq!(judge(&l1(), &v, &cpu()), invalid(check));
        fix(&mut v);
    }
    assert_eq!(judge(&l1(), &v, &cpu()), Verdict::Enter);
    // The save area before the controls: EFER.SVME clear and ASID 0.
    let mut v = long_mode();
    v.set_u64(EFER, EFER_LME | EFER_LMA);
    v.set_u32(ASID, 0);
    assert_eq!(judge(&l1(), &v, &cpu()), invalid(Check::EferSvme));
    // Np before Ncr3, on a host without NPT.
    let mut v = long_mode();
    v.set_u64(NESTED_CTL, 1);
    v.set_u64(NESTED_CR3, TWO_48);
    v.set_u64(MSRPM_BASE_PA, TWO_48);
    assert_eq!(judge(&l1(), &v, &cpu_without_npt()), invalid(Check::Np));
}

// --- L1State::validate() ------------------------------------------------

#[test]
fn l1_state_is_validated_as_kvm_refuses_wrmsr() {
    let m = cpu();
    assert_eq!(l1().validate(&m), Ok(()));
    // EFER: kvm_valid_efer() (reserved bit 1; SVME without guest SVM).
    let mut l = l1();
    l.efer |= 2;
    assert_eq!(l.validate(&m), Err(L1Error::Efer));
    let mut no_svm = full_cpuid();
    no_svm[5].ecx = 0;
    let m_no_svm = CpuModel::new(&no_svm, host_all()).unwrap();
    assert_eq!(l1().validate(&m_no_svm), Err(L1Error::Efer));
    let mut l = l1();
    l.efer &= !EFER_SVME;
    assert_eq!(l.validate(&m_no_svm), Ok(()));
    // CR0 bits 63:32.
    let mut l = l1();
    l.cr0 |= 1 << 32;
    assert_eq!(l.validate(&m), Err(L1Error::Cr0));
    // CPL 0-3.
    let mut l = l1();
    l.cpl = 3;
    assert_eq!(l.validate(&m), Ok(()));
    l.cpl = 4;
    assert_eq!(l.validate(&m), Err(L1Error::Cpl));
    // HSAVE_PA: page_address_valid(), 0 included (VMRUN #GPs later).
    for (pa, ok) in [
        (0, true),
        (0x1000, true),
        (0x1001, false),
        (0x800, false),
        (TWO_48 - 0x1000, true),
        (TWO_48, false),
        (0xffff_ffff_ffff_f000, false),
    ] {
        let mut l = l1();
        l.hsave_pa = pa;
        let want = if ok { Ok(()) } else { Err(L1Error::Hsave) };
        assert_eq!(l.validate(&m), want, "{pa:#x}");
    }
}

#[test]
fn l1_state_cr0_is_validated_as_kvm_refuses_mov_to_cr0() {
    // guestmap.h: "What L1 could not have set is refused with EINVAL, as
    // KVM refuses the WRMSR or MOV with a #GP".  kvm_is_valid_cr0()
    // (kvm_set_cr0(), arch/x86/kvm/regs.c in this tree; x86.c upstream)
    // refuses bits 63:32, NW without CD and PG without PE; SDM vol. 3
    // 2.5 / APM vol. 2 3.1.1 give #GP for the last two.
    let m = cpu();
    let mut l = l1();
    l.cr0 = CR0_PG | CR0_ET | CR0_PE | CR0_NW;
    assert_eq!(l.validate(&m), Err(L1Error::Cr0), "NW without CD");
    l.cr0 = CR0_PG | CR0_ET | CR0_PE | CR0_NW | CR0_CD;
    assert_eq!(l.validate(&m), Ok(()));
    l.cr0 = CR0_PG | CR0_ET;
    assert_eq!(l.validate(&m), Err(L1Error::Cr0), "PG without PE");
}

// === permmap.rs =======================================================
//
// MSRPM (APM 15.11): 0000_0000h-0000_1FFFh at bytes 000h-7FFh,
// C000_0000h-C000_1FFFh at 800h-FFFh, C001_0000h-C001_1FFFh at
// 1000h-17FFh; two bits per MSR (4 MSRs a byte), the even one RDMSR, the
// odd one WRMSR.  svm_msrpm_offset() gives the u32 index: byte / 4.

fn bits(word: usize, read_bit: u32) -> Option<MsrBits> {
    Some(MsrBits { word, read_bit })
}

#[test]
fn msr_bits_for_the_first_and_last_msr_of_each_range() {
    // MSR 0: byte 0, bits 1:0.
    assert_eq!(msr_bits(0), bits(0, 0));
    // MSR 1FFFh: byte 1FFFh/4 = 7FFh, bits 7:6 -> u32 1FFh, bits 31:30.
    assert_eq!(msr_bits(0x1fff), bits(0x1ff, 30));
    // C000_0000h: byte 800h -> u32 200h.
    assert_eq!(msr_bits(0xc000_0000), bits(0x200, 0));
    // C000_1FFFh: byte 800h + 7FFh = FFFh, bits 7:6 -> u32 3FFh, bit 30.
    assert_eq!(msr_bits(0xc000_1fff), bits(0x3ff, 30));
    // C001_0000h: byte 1000h -> u32 400h.
    assert_eq!(msr_bits(0xc001_0000), bits(0x400, 0));
    // C001_1FFFh: byte 17FFh -> u32 5FFh, bit 30.
    assert_eq!(msr_bits(0xc001_1fff), bits(0x5ff, 30));
}

#[test]
fn msr_bits_for_msrs_inside_the_ranges() {
    // EFER C000_0080h: byte 800h + 80h/4 = 820h, bits 1:0 -> u32 208h.
    assert_eq!(msr_bits(0xc000_0080), bits(0x820 / 4, 0));
    // STAR C000_0081h: byte 820h, bits 3:2.
    assert_eq!(msr_bits(0xc000_0081), bits(0x208, 2));
    // TSC 10h: byte 4, bits 1:0 -> u32 1.
    assert_eq!(msr_bits(0x10), bits(1, 0));
    // APIC_BASE 1Bh: byte 6 (18h-1Bh), bits 7:6 -> u32 1, bit 16 + 6.
    assert_eq!(msr_bits(0x1b), bits(1, 22));
    // VM_HSAVE_PA C001_0117h: byte 1000h + 117h/4 = 1045h, bits 7:6
    // -> u32 411h, byte 1 of it: bit 8 + 6.
    assert_eq!(msr_bits(0xc001_0117), bits(0x411, 14));
    // x2APIC 800h-8FFh: bytes 200h-23Fh -> u32 80h-8Fh.
    assert_eq!(msr_bits(0x800), bits(0x80, 0));
    assert_eq!(msr_bits(0x8ff), bits(0x8f, 30));
}

#[test]
fn msrs_outside_the_ranges_have_no_bits() {
    // "MSRs outside the ranges are always intercepted."
    for msr in [
        0x2000,
        0x4000_0000,
        0xbfff_ffff,
        0xc000_2000,
        0xc000_ffff,
        0xc001_2000,
        0xc002_0000,
        0xffff_ffff,
    ] {
        assert_eq!(msr_bits(msr), None, "{msr:#x}");
    }
}

#[test]
fn msr_masks_are_read_even_write_odd() {
    // nested_svm_exit_handled_msr(): mask = 1 << (2 * (msr & 0xf) + write).
    let efer = msr_bits(0xc000_0080).unwrap();
    assert_eq!((efer.mask(false), efer.mask(true)), (0x1, 0x2));
    let last = msr_bits(0x1fff).unwrap();
    assert_eq!(
        (last.mask(false), last.mask(true)),
        (0x4000_0000, 0x8000_0000)
    );
    let star = msr_bits(0xc000_0081).unwrap();
    assert_eq!((star.mask(false), star.mask(true)), (0x4, 0x8));
    // 3 words of 2 KiB: 1800h bytes, 600h u32.
    assert_eq!(MSRPM_WORDS, 0x600);
}

fn io(offset: u64, len: usize, mask: u16) -> Option<IoBits> {
    Some(IoBits { offset, len, mask })
}

#[test]
fn io_bits_for_each_size_within_a_byte() {
    // APM 15.10.1: bit n of the IOPM is port n; an access of 2 or 4
    // bytes is intercepted if any of its ports' bits is set.  KVM:
    // gpa = base + port / 8, start = port % 8,
    // mask = (0xf >> (4 - size)) << start.
    assert_eq!(io_bits(0, 1), io(0, 1, 0b1));
    assert_eq!(io_bits(7, 1), io(0, 1, 0b1000_0000));
    assert_eq!(io_bits(6, 2), io(0, 1, 0b1100_0000));
    assert_eq!(io_bits(4, 4), io(0, 1, 0b1111_0000));
    // COM1 3F8h: byte 7Fh, bit 0.
    assert_eq!(io_bits(0x3f8, 1), io(0x7f, 1, 0b1));
    // 8042 60h dword: byte Ch, bits 3:0.
    assert_eq!(io_bits(0x60, 4), io(0xc, 1, 0xf));
    // PCI CFC-CFFh: byte 19Fh, bits 7:4.
    assert_eq!(io_bits(0xcfc, 4), io(0x19f, 1, 0xf0));
    assert_eq!(io_bits(0xcfe, 2), io(0x19f, 1, 0xc0));
}

#[test]
fn io_bits_crossing_a_byte_read_two_bytes() {
    // Port 7, 2 bytes: ports 7 and 8, byte 0 bit 7 and byte 1 bit 0.
    assert_eq!(io_bits(7, 2), io(0, 2, 0b1_1000_0000));
    // Port 5, 4 bytes: ports 5-8.
    assert_eq!(io_bits(5, 4), io(0, 2, 0b1_1110_0000));
    // Port 7, 4 bytes: ports 7-10.
    assert_eq!(io_bits(7, 4), io(0, 2, 0b111_1000_0000));
    // Port FFFEh, 4 bytes: ports FFFEh-10001h.
    assert_eq!(io_bits(0xfffe, 4), io(0x1fff, 2, 0x3c0));
    // Port FFFFh: ports FFFFh and 10000h-10002h, bit 7 of byte 1FFFh and
    // bits 2:0 of byte 2000h, the first of the map's third page - why
    // the IOPM is 12 KiB.
    assert_eq!(io_bits(0xffff, 1), io(0x1fff, 1, 0x80));
    assert_eq!(io_bits(0xffff, 2), io(0x1fff, 2, 0x180));
    assert_eq!(io_bits(0xffff, 4), io(0x1fff, 2, 0x780));
}

#[test]
fn io_bits_refuse_other_sizes_and_ports() {
    for size in [0, 3, 5, 8, u32::MAX] {
        assert_eq!(io_bits(0x80, size), None, "size {size}");
    }
    for port in [0x1_0000, 0x1_0001, u32::MAX] {
        assert_eq!(io_bits(port, 1), None, "port {port:#x}");
    }
}

#[test]
fn msr_map_set_and_intercepts() {
    let mut m = MsrMap::intercept_all();
    assert!(m.intercepts(0xc000_0080, false) && m.intercepts(0xc000_0080, true));
    // EFER through: u32 208h bits 1:0 clear.
    assert_eq!(m.set(0xc000_0080, false, false), Some(()));
    assert_eq!(m.words[0x208], 0xffff_fffc);
    assert!(!m.intercepts(0xc000_0080, false) && !m.intercepts(0xc000_0080, true));
    // STAR next to it is untouched.
    assert!(m.intercepts(0xc000_0081, false) && m.intercepts(0xc000_0081, true));
    // Writes only.
    assert_eq!(m.set(0xc000_0080, false, true), Some(()));
    assert_eq!(m.words[0x208], 0xffff_fffe);
    assert!(!m.intercepts(0xc000_0080, false) && m.intercepts(0xc000_0080, true));
    // Reads only.
    assert_eq!(m.set(0xc000_0080, true, false), Some(()));
    assert_eq!(m.words[0x208], 0xffff_fffd);
    assert!(m.intercepts(0xc000_0080, false) && !m.intercepts(0xc000_0080, true));
    // The last MSR of the last range: u32 5FFh bits 31:30.
    assert_eq!(m.set(0xc001_1fff, false, false), Some(()));
    assert_eq!(m.words[0x5ff], 0x3fff_ffff);
    // Outside the ranges: None, and always intercepted, even in a map
    // that lets everything through.
    assert_eq!(m.set(0x2000, false, false), None);
    let open = MsrMap::from_words([0; 0x600]);
    for msr in [0x2000, 0xc000_2000, 0xc001_2000, 0xffff_ffff] {
        assert!(
            open.intercepts(msr, false) && open.intercepts(msr, true),
            "{msr:#x}"
        );
    }
    assert!(!open.intercepts(0, false) && !open.intercepts(0xc001_1fff, true));
}

#[test]
fn merge_does_not_read_l1_where_l0_intercepts_everything() {
    // nested_svm_vmrun_msrpm() reads only the words where KVM's own map
    // may let something through (msrpm_offsets); elsewhere L2 exits.
    let l0 = MsrMap::intercept_all();
    let mut merged = MsrMap::from_words([0; 0x600]);
    let mut reads = 0;
    assert_eq!(
        merged.merge(&l0, |_| {
            reads += 1;
            Some(0)
        }),
        Ok(())
    );
    assert_eq!(reads, 0);
    assert!(merged.words.iter().all(|w| *w == u32::MAX));
}

#[test]
fn merge_ors_l1_into_the_words_l0_lets_through() {
    // svm->nested.msrpm[p] = svm->msrpm[p] | value.
    let mut l0 = MsrMap::intercept_all();
    l0.set(0xc000_0080, false, false).unwrap(); // u32 208h
    l0.set(0x10, false, true).unwrap(); // u32 1, bits 1:0 -> read through
    let mut merged = MsrMap::intercept_all();
    let mut read = Vec::new();
    let l1 = |i: usize| match i {
        0x208 => 0x0000_0001, // L1 intercepts RDMSR EFER
        1 => 0x8000_0000,     // and bit 31 of word 1
        _ => 0,
    };
    assert_eq!(
        merged.merge(&l0, |i| {
            read.push(i);
            Some(l1(i))
        }),
        Ok(())
    );
    assert_eq!(read, [1, 0x208]);
    assert_eq!(merged.words[0x208], 0xffff_fffd);
    assert_eq!(merged.words[1], 0xffff_fffe);
    assert!(merged.intercepts(0xc000_0080, false));
    assert!(!merged.intercepts(0xc000_0080, true));
    assert!(!merged.intercepts(0x10, false));
    assert!(merged.intercepts(0x10, true));
    assert!(merged.intercepts(0xc000_0081, false));
    assert_eq!(merged.words.iter().filter(|w| **w != u32::MAX).count(), 2);
}

#[test]
fn merge_always_intercepts_the_x2apic_msrs() {
    // is_x2apic_msrpm_offset(): u32 offsets p with p * 16 in 800h-8FFh,
    // i.e. 80h-8Fh, are skipped and stay intercepted.
    let l0 = MsrMap::from_words([0; 0x600]);
    let mut merged = MsrMap::from_words([0x5555_5555; 0x600]);
    let mut read = Vec::new();
    assert_eq!(
        merged.merge(&l0, |i| {
            read.push(i);
            Some(0)
        }),
        Ok(())
    );
    assert_eq!(read.len(), 0x600 - 16);
    assert!(read.iter().all(|i| !(0x80..=0x8f).contains(i)));
    for i in 0..0x600 {
        let want = if (0x80..=0x8f).contains(&i) {
            u32::MAX
        } else {
            0
        };
        assert_eq!(merged.words[i], want, "word {i:#x}");
    }
    for msr in [0x800, 0x802, 0x830, 0x8ff] {
        assert!(
            merged.intercepts(msr, false) && merged.intercepts(msr, true),
            "{msr:#x}"
        );
    }
    for msr in [0x7ff, 0x900, 0xc000_0800] {
        assert!(!merged.intercepts(msr, false), "{msr:#x}");
    }
}

#[test]
fn merge_fails_on_an_unreadable_word() {
    // kvm_vcpu_read_guest() failing: nested_svm_vmrun_msrpm() returns
    // false at once.
    let l0 = MsrMap::from_words([0; 0x600]);
    let mut merged = MsrMap::intercept_all();
    let mut read = Vec::new();
    let r = merged.merge(&l0, |i| {
        read.push(i);
        if i == 5 {
            None
        } else {
            Some(0)
        }
    });
    assert_eq!(r, Err(()));
    assert_eq!(read, [0, 1, 2, 3, 4, 5]);
}

// === abi.rs ===========================================================

#[test]
fn vcpu_ids_are_below_max_vcpus() {
    // GUESTMAP_MAX_VCPUS 8: ids 0 to 7.
    assert_eq!(uapi::GUESTMAP_MAX_VCPUS, 8);
    assert_eq!(abi::vcpu_id(0), Ok(0));
    assert_eq!(abi::vcpu_id(7), Ok(7));
    assert!(abi::vcpu_id(8).is_err());
    assert!(abi::vcpu_id(u32::MAX).is_err());
}

#[test]
fn create_vcpu_takes_1_to_cpuid_max_entries_and_0_destroys() {
    // KVM_MAX_CPUID_ENTRIES, arch/x86/include/asm/kvm_host.h.
    assert_eq!(uapi::GUESTMAP_CPUID_MAX, 256);
    let req = |vcpu, nent| uapi::guestmap_svm_vcpu {
        vcpu,
        nent,
        entries: 0x7000,
        flags: 0,
        pad: 0,
    };
    assert_eq!(abi::vcpu(&req(3, 0)), Ok(VcpuReq::Destroy(3)));
    assert_eq!(
        abi::vcpu(&req(3, 1)),
        Ok(VcpuReq::Create {
            id: 3,
            nent: 1,
            entries: 0x7000,
            l0_npt: true,
        })
    );
    assert_eq!(
        abi::vcpu(&req(7, 256)),
        Ok(VcpuReq::Create {
            id: 7,
            nent: 256,
            entries: 0x7000,
            l0_npt: true,
        })
    );
    // GUESTMAP_SVM_VCPU_NO_NPT is bit 0: kvm_amd npt=0.
    let no_npt = uapi::guestmap_svm_vcpu {
        flags: 1,
        ..req(1, 2)
    };
    assert_eq!(
        abi::vcpu(&no_npt),
        Ok(VcpuReq::Create {
            id: 1,
            nent: 2,
            entries: 0x7000,
            l0_npt: false,
        })
    );
    assert!(abi::vcpu(&uapi::guestmap_svm_vcpu {
        flags: 2,
        ..req(1, 2)
    })
    .is_err());
    assert!(abi::vcpu(&uapi::guestmap_svm_vcpu {
        pad: 1,
        ..req(1, 2)
    })
    .is_err());
    assert!(abi::vcpu(&req(0, 257)).is_err());
    assert!(abi::vcpu(&req(0, u32::MAX)).is_err());
    assert!(abi::vcpu(&req(8, 0)).is_err());
    assert!(abi::vcpu(&req(8, 1)).is_err());
}

#[test]
fn set_l1_takes_the_smm_flag_zero_pad_and_cpl_0_to_3() {
    let req = |cpl, flags, pad| uapi::guestmap_svm_l1 {
        vcpu: 2,
        cpl,
        efer: 0x1d01,
        cr0: 0x8000_0011,
        hsave_pa: 0x3000,
        flags,
        pad,
    };
    let want = |cpl, smm| {
        Ok((
            2,
            L1State {
                efer: 0x1d01,
                cr0: 0x8000_0011,
                cpl,
                hsave_pa: 0x3000,
                smm,
            },
        ))
    };
    assert_eq!(abi::l1(&req(0, 0, 0)), want(0, false));
    assert_eq!(abi::l1(&req(3, 0, 0)), want(3, false));
    // GUESTMAP_SVM_L1_SMM is bit 0.
    assert_eq!(abi::l1(&req(0, 1, 0)), want(0, true));
    assert!(abi::l1(&req(0, 2, 0)).is_err());
    assert!(abi::l1(&req(0, 0x8000_0000, 0)).is_err());
    assert!(abi::l1(&req(0, 0, 1)).is_err());
    assert!(abi::l1(&req(4, 0, 0)).is_err());
    // 100h would be CPL 0 as a u8.
    assert!(abi::l1(&req(0x100, 0, 0)).is_err());
    let mut r = req(0, 0, 0);
    r.vcpu = 8;
    assert!(abi::l1(&r).is_err());
}

#[test]
fn set_l0_msr_takes_msrs_in_the_map_and_read_write_bits() {
    let req = |msr, intercept, pad| uapi::guestmap_svm_l0_msr {
        vcpu: 1,
        msr,
        intercept,
        pad,
    };
    let want = |msr, read, write| {
        Ok(L0MsrReq {
            id: 1,
            msr,
            read,
            write,
        })
    };
    // GUESTMAP_SVM_MSR_READ bit 0, _WRITE bit 1.
    assert_eq!(
        abi::l0_msr(&req(0xc000_0080, 0, 0)),
        want(0xc000_0080, false, false)
    );
    assert_eq!(
        abi::l0_msr(&req(0xc000_0080, 1, 0)),
        want(0xc000_0080, true, false)
    );
    assert_eq!(
        abi::l0_msr(&req(0xc000_0080, 2, 0)),
        want(0xc000_0080, false, true)
    );
    assert_eq!(abi::l0_msr(&req(0, 3, 0)), want(0, true, true));
    assert_eq!(abi::l0_msr(&req(0x1fff, 3, 0)), want(0x1fff, true, true));
    assert_eq!(
        abi::l0_msr(&req(0xc001_1fff, 3, 0)),
        want(0xc001_1fff, true, true)
    );
    assert!(abi::l0_msr(&req(0xc000_0080, 4, 0)).is_err());
    assert!(abi::l0_msr(&req(0xc000_0080, 0, 1)).is_err());
    for msr in [0x2000, 0xbfff_ffff, 0xc000_2000, 0xc001_2000, 0xffff_ffff] {
        assert!(abi::l0_msr(&req(msr, 0, 0)).is_err(), "{msr:#x}");
    }
}

#[test]
fn vmrun_takes_a_page_aligned_vmcb12_and_the_cached_flag() {
    let req = |gpa, flags, pad| uapi::guestmap_svm_vmrun {
        vcpu: 4,
        flags,
        vmcb12_gpa: gpa,
        pad,
        ..Default::default()
    };
    assert_eq!(
        abi::vmrun(&req(0x5000, 0, 0)),
        Ok(VmrunReq {
            id: 4,
            gfn: 5,
            cached: false
        })
    );
    // GUESTMAP_SVM_RUN_CACHED bit 0.
    assert_eq!(
        abi::vmrun(&req(0, 1, 0)),
        Ok(VmrunReq {
            id: 4,
            gfn: 0,
            cached: true
        })
    );
    assert!(abi::vmrun(&req(0x5800, 0, 0)).is_err());
    assert!(abi::vmrun(&req(0x5001, 0, 0)).is_err());
    assert!(abi::vmrun(&req(0x5000, 2, 0)).is_err());
    assert!(abi::vmrun(&req(0x5000, 0, 1)).is_err());
    // The out fields are not inputs.
    let mut r = req(0x5000, 0, 0);
    (r.result, r.vector, r.check) = (7, 7, 7);
    assert!(abi::vmrun(&r).is_ok());
    r.vcpu = 8;
    assert!(abi::vmrun(&r).is_err());
}

#[test]
fn intercept_takes_msr_ops_with_size_0_and_io_ops_with_1_2_4() {
    let req = |op, index, size| uapi::guestmap_svm_intercept {
        vcpu: 0,
        op,
        index,
        size,
        ..Default::default()
    };
    // GUESTMAP_SVM_RDMSR 1, _WRMSR 2, _IN 3, _OUT 4.
    assert_eq!(
        abi::intercept(&req(1, 0xc000_0080, 0)),
        Ok((
            0,
            L2Access::Msr {
                msr: 0xc000_0080,
                write: false
            }
        ))
    );
    assert_eq!(
        abi::intercept(&req(2, 0xc000_0080, 0)),
        Ok((
            0,
            L2Access::Msr {
                msr: 0xc000_0080,
                write: true
            }
        ))
    );
    // An MSR in no range is a fair question: it always exits.
    assert_eq!(
        abi::intercept(&req(1, 0x4000_0000, 0)),
        Ok((
            0,
            L2Access::Msr {
                msr: 0x4000_0000,
                write: false
            }
        ))
    );
    assert!(abi::intercept(&req(1, 0x10, 4)).is_err());
    for (op, size) in [(3, 1), (3, 2), (4, 4)] {
        assert_eq!(
            abi::intercept(&req(op, 0xffff, size)),
            Ok((0, L2Access::Io { port: 0xffff, size }))
        );
    }
    assert!(abi::intercept(&req(3, 0x80, 0)).is_err());
    assert!(abi::intercept(&req(4, 0x80, 3)).is_err());
    assert!(abi::intercept(&req(3, 0x80, 8)).is_err());
    assert!(abi::intercept(&req(3, 0x1_0000, 1)).is_err());
    for op in [0, 5, u32::MAX] {
        assert!(abi::intercept(&req(op, 0, 0)).is_err(), "op {op}");
        assert!(abi::intercept(&req(op, 0, 1)).is_err(), "op {op}");
    }
    let mut r = req(1, 0x10, 0);
    r.pad = 1;
    assert!(abi::intercept(&r).is_err());
    // exits is an output.
    r.pad = 0;
    r.exits = 3;
    assert!(abi::intercept(&r).is_ok());
    r.vcpu = 8;
    assert!(abi::intercept(&r).is_err());
}

#[test]
fn vmexit_takes_zero_pad() {
    let req = uapi::guestmap_svm_vmexit {
        vcpu: 5,
        pad: 0,
        exit_code: 0x7c,
        exit_info_1: 1,
        exit_info_2: 2,
        exit_int_info: 0x0000_000d_8000_0b0e,
    };
    assert_eq!(
        abi::vmexit(&req),
        Ok(VmexitReq {
            id: 5,
            code: 0x7c,
            info_1: 1,
            info_2: 2,
            int_info: 0x0000_000d_8000_0b0e
        })
    );
    let mut bad = req;
    bad.pad = 1;
    assert!(abi::vmexit(&bad).is_err());
    bad.pad = 0;
    bad.vcpu = 8;
    assert!(abi::vmexit(&bad).is_err());
}

#[test]
fn a_word_l0_intercepts_again_is_intercepted_at_the_next_merge() {
    // FS_BASE, C000_0100h: byte 800h + 100h/4 = 840h, u32 word 210h,
    // bits 1:0 (APM 15.11).
    let mut l0 = MsrMap::intercept_all();
    l0.set(0xc000_0100, false, false);
    let mut merged = MsrMap::intercept_all();
    assert_eq!(merged.merge(&l0, |_| Some(0)), Ok(()));
    assert_eq!(merged.words[0x210], 0xffff_fffc);
    // L0 intercepts it again: the merged word must not keep the hole.
    l0.set(0xc000_0100, true, true);
    let mut reads = 0;
    assert_eq!(
        merged.merge(&l0, |_| {
            reads += 1;
            Some(0)
        }),
        Ok(())
    );
    assert_eq!(reads, 0);
    assert_eq!(merged.words[0x210], u32::MAX);
    // Without MSR_PROT, L2 runs on L0's own map: a copy of it.
    l0.set(0xc000_0100, false, true);
    merged.copy_from(&l0);
    assert_eq!(merged.words[0x210], 0xffff_fffe);
    assert!(merged
        .words
        .iter()
        .enumerate()
        .all(|(i, w)| i == 0x210 || *w == u32::MAX));
}

/// What `GUESTMAP_SVM_VMRUN` and the `guestmap_svm_vmrun` tracepoint
/// report: the result codes and the check numbers of the UAPI header,
/// the vector as the APM numbers it (#GP is 13, #UD 6).
#[test]
fn a_verdict_is_reported_with_the_uapi_numbers() {
    assert_eq!(Verdict::Enter.to_uapi(), (uapi::GUESTMAP_SVM_ENTERED, 0, 0));
    assert_eq!(
        Verdict::Exception {
            vector: 13,
            check: Check::L1Cpl
        }
        .to_uapi(),
        (
            uapi::GUESTMAP_SVM_EXCEPTION,
            13,
            uapi::GUESTMAP_SVM_CHECK_L1_CPL
        )
    );
    assert_eq!(
        Verdict::Invalid(Check::MsrpmRead).to_uapi(),
        (
            uapi::GUESTMAP_SVM_VMEXIT_INVALID,
            0,
            uapi::GUESTMAP_SVM_CHECK_MSRPM_READ
        )
    );
}
