// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/vmx/checks.rs`, the checks of VMLAUNCH and
//! VMRESUME.  Expected values are written out by hand, never taken from
//! the code under test:
//!
//! * VM-instruction error numbers: Intel SDM vol. 3C table 31-1 (4
//!   VMLAUNCH with non-clear VMCS, 5 VMRESUME with non-launched VMCS, 7
//!   invalid control field(s), 8 invalid host-state field(s)).
//! * Exit reasons: SDM vol. 3D appendix C (33 VM-entry failure due to
//!   invalid guest state, 34 due to MSR loading), bit 31 set for a failed
//!   VM entry (25.9.1); qualifications from 27.8 (0 default, 4 the VMCS
//!   link pointer) and 27.4 (the 1-based index of the failing MSR).
//! * Control bits: SDM vol. 3C 25.6-25.8 (asm/vmx.h agrees); field
//!   values: 27.2 (controls and host state) and 27.3 (guest state).
//! * The order and the rules: KVM 6.12 arch/x86/kvm/vmx/nested.c,
//!   nested_vmx_run() and the nested_*check*() functions it calls.
//!
//! The base vmcs12 enters a 64-bit L2 from a 64-bit L1 with most of what
//! KVM's default capabilities offer turned on, so each violation below
//! changes as few fields as it can.  Fields are set through their
//! encodings, which `nested_vmx_tests.rs` checks.

use crate::nested::cpu::CpuModel;
use crate::nested::vmx::capabilities::{cr4_fixed1, VmxCaps};
use crate::nested::vmx::checks::{
    self, check_msr_load_entry, debugctl, load_msr_list, perf_global_ctrl_rsvd, Check, EntryEnv,
    EntryVerdict, MsrEntry,
};
use crate::nested::vmx::vmcs12::{enc, Vmcs12, SIZE};
use crate::nested_cpu_tests::{full_cpuid, host_all};
use crate::uapi::guestmap_cpuid_entry;
use std::{boxed::Box, vec::Vec};

// --- Control bits (SDM 25.6-25.8) -------------------------------------

// Pin-based (table 25-5).
const PIN_EXT_INTR: u32 = 1 << 0;
const PIN_NMI: u32 = 1 << 3;
const PIN_VIRTUAL_NMIS: u32 = 1 << 5;
const PIN_TIMER: u32 = 1 << 6;
const PIN_POSTED: u32 = 1 << 7;
// Primary processor-based (table 25-6).
const PROC_TPR_SHADOW: u32 = 1 << 21;
const PROC_NMI_WINDOW: u32 = 1 << 22;
const PROC_IO_BITMAPS: u32 = 1 << 25;
const PROC_MTF: u32 = 1 << 27;
const PROC_MSR_BITMAPS: u32 = 1 << 28;
const PROC_SECONDARY: u32 = 1 << 31;
// Secondary processor-based (table 25-7).
const P2_APIC_ACCESS: u32 = 1 << 0;
const P2_EPT: u32 = 1 << 1;
const P2_X2APIC: u32 = 1 << 4;
const P2_VPID: u32 = 1 << 5;
const P2_UG: u32 = 1 << 7;
const P2_APIC_REG: u32 = 1 << 8;
const P2_VID: u32 = 1 << 9;
const P2_PLE: u32 = 1 << 10;
const P2_VMFUNC: u32 = 1 << 13;
const P2_SHADOW: u32 = 1 << 14;
const P2_PML: u32 = 1 << 17;
const P2_MODE_BASED: u32 = 1 << 22;
// VM-exit (table 25-13).
const EXIT_HOST_64: u32 = 1 << 9;
const EXIT_LOAD_PERF: u32 = 1 << 12;
const EXIT_ACK_INTR: u32 = 1 << 15;
const EXIT_LOAD_PAT: u32 = 1 << 19;
const EXIT_LOAD_EFER: u32 = 1 << 21;
const EXIT_SAVE_TIMER: u32 = 1 << 22;
// VM-entry (table 25-16).
const ENTRY_LOAD_DEBUG: u32 = 1 << 2;
const ENTRY_IA32E: u32 = 1 << 9;
const ENTRY_LOAD_PERF: u32 = 1 << 13;
const ENTRY_LOAD_PAT: u32 = 1 << 14;
const ENTRY_LOAD_EFER: u32 = 1 << 15;
const ENTRY_LOAD_BNDCFGS: u32 = 1 << 16;

// Capability MSRs (SDM vol. 4 table 2-2).
const MSR_TRUE_PINBASED: u32 = 0x48d;
const MSR_TRUE_PROCBASED: u32 = 0x48e;
const MSR_TRUE_EXIT: u32 = 0x48f;
const MSR_TRUE_ENTRY: u32 = 0x490;
const MSR_PROCBASED2: u32 = 0x48b;

// KVM's VMCS12_REVISION and the shadow-VMCS indicator (SDM 25.2).
const REVISION: u32 = 0x11e5_7ed0;
const SHADOW_BIT: u32 = 1 << 31;
// vmcs12 header offsets: revision at 0, launch_state at 8.
const HDR_REVISION: usize = 0;
const HDR_LAUNCH_STATE: usize = 8;

// Addresses of the structures the controls name: 4 KiB pages below
// MAXPHYADDR 48.
const IO_A: u64 = 0x10000;
const IO_B: u64 = 0x11000;
const MSR_BITMAP: u64 = 0x12000;
const VAPIC: u64 = 0x13000;
const PI_DESC: u64 = 0x14000;
const PML: u64 = 0x16000;
const VMREAD_BITMAP: u64 = 0x17000;
const VMWRITE_BITMAP: u64 = 0x18000;
const EPTP_LIST: u64 = 0x19000;
const EXIT_MSR_LOAD: u64 = 0x1a000;
const EXIT_MSR_STORE: u64 = 0x1a010;
const ENTRY_MSR_LOAD: u64 = 0x1b000;
const APIC_ACCESS: u64 = 0x1c000;
// Link pointers the fake memory knows: a shadow VMCS, a plain one, an
// unreadable page, a VMCS of another revision.
const LINK_SHADOW: u64 = 0x1d000;
const LINK_PLAIN: u64 = 0x1e000;
const LINK_UNREADABLE: u64 = 0x1f000;
const LINK_OTHER_REV: u64 = 0x20000;
// EPTP (25.6.11): WB (6), page-walk length 4 (3 << 3), at 0x15000.
const EPTP: u64 = 0x15000 | (3 << 3) | 6;

// The first non-canonical address of 48-bit paging, canonical with 57.
const NONCANON_48: u64 = 0x0000_8000_0000_0000;
// PAT's power-on value (SDM vol. 3A 13.12.4): WB, WT, UC-, UC twice.
const PAT_DEFAULT: u64 = 0x0007_0406_0007_0406;

/// The guest CPUID of the tests: nested_cpu_tests' full one (MAXPHYADDR
/// 48, LA57, PCID, ...) with CPUID.1:EDX's DE (2), PSE (3), TSC (4), PAE
/// (6), MCE (7), PGE (13), FXSR (24), SSE (25), so CR4.PAE and friends
/// are in CR4_FIXED1.
fn cpuid() -> [guestmap_cpuid_entry; 9] {
    let mut c = full_cpuid();
    for e in c.iter_mut().filter(|e| e.function == 1) {
        e.edx |= (1 << 2)
            | (1 << 3)
            | (1 << 4)
            | (1 << 6)
            | (1 << 7)
            | (1 << 13)
            | (1 << 24)
            | (1 << 25);
    }
    c
}

fn model() -> CpuModel {
    CpuModel::new(&cpuid(), host_all()).unwrap()
}

fn caps() -> VmxCaps {
    VmxCaps::kvm_default(cr4_fixed1(&cpuid()))
}

/// L1 in 64-bit mode with 4-level paging, its APIC in xAPIC mode, a vPMU
/// of 8 general-purpose and 3 fixed counters, DEBUGCTL as KVM takes it
/// from a vCPU without bus-lock detection, LBR or RTM.
fn env() -> EntryEnv {
    EntryEnv {
        launch: true,
        l1_efer_lma: true,
        l1_cr4_la57: false,
        host_la57: false,
        l1_x2apic: false,
        // Bits 7:0 (GP counters) and 34:32 (fixed) free.
        perf_global_ctrl_rsvd: 0xffff_fff8_ffff_ff00,
        // BTF (1), LBR (0) and FREEZE_IN_SMM (14) under the quirk.
        debugctl_ok: 0x4003,
    }
}

/// The allowed-0 settings (bits 31:0) of capability MSR `index`: the
/// controls that must be 1.
fn must_be_one(c: &VmxCaps, index: u32) -> u32 {
    c.get(index).unwrap() as u32
}

fn get(v: &Vmcs12, e: u32) -> u64 {
    v.field(e)
}

/// Sets the bits `set` and clears the bits `clear` of field `e`.
fn modify(v: &mut Vmcs12, e: u32, set: u64, clear: u64) {
    let old = v.field(e);
    v.set_field(e, (old & !clear) | set);
}

/// A vmcs12 that enters: a 64-bit L2 under a 64-bit L1.
fn valid() -> Box<Vmcs12> {
    let c = caps();
    let mut v = Box::new(Vmcs12 { bytes: [0; SIZE] });
    v.set_hdr(HDR_REVISION, REVISION);
    v.set_hdr(HDR_LAUNCH_STATE, 0);
    let fields: &[(u32, u64)] = &[
        // --- Controls (27.2.1) ---
        (
            enc::PIN_BASED_VM_EXEC_CONTROL,
            (must_be_one(&c, MSR_TRUE_PINBASED)
                | PIN_EXT_INTR
                | PIN_NMI
                | PIN_VIRTUAL_NMIS
                | PIN_TIMER
                | PIN_POSTED)
                .into(),
        ),
        (
            enc::CPU_BASED_VM_EXEC_CONTROL,
            (must_be_one(&c, MSR_TRUE_PROCBASED)
                | PROC_TPR_SHADOW
                | PROC_NMI_WINDOW
                | PROC_IO_BITMAPS
                | PROC_MSR_BITMAPS
                | PROC_SECONDARY)
                .into(),
        ),
        (
            enc::SECONDARY_VM_EXEC_CONTROL,
            (must_be_one(&c, MSR_PROCBASED2)
                | P2_EPT
                | P2_VPID
                | P2_UG
                | P2_X2APIC
                | P2_APIC_REG
                | P2_VID
                | P2_PML
                | P2_SHADOW
                | P2_VMFUNC)
                .into(),
        ),
        (
            enc::VM_EXIT_CONTROLS,
            (must_be_one(&c, MSR_TRUE_EXIT)
                | EXIT_HOST_64
                | EXIT_ACK_INTR
                | EXIT_LOAD_PAT
                | EXIT_LOAD_EFER
                | EXIT_LOAD_PERF
                | EXIT_SAVE_TIMER)
                .into(),
        ),
        (
            enc::VM_ENTRY_CONTROLS,
            (must_be_one(&c, MSR_TRUE_ENTRY)
                | ENTRY_IA32E
                | ENTRY_LOAD_DEBUG
                | ENTRY_LOAD_PAT
                | ENTRY_LOAD_EFER
                | ENTRY_LOAD_PERF
                | ENTRY_LOAD_BNDCFGS)
                .into(),
        ),
        (enc::CR3_TARGET_COUNT, 0),
        (enc::IO_BITMAP_A, IO_A),
        (enc::IO_BITMAP_B, IO_B),
        (enc::MSR_BITMAP, MSR_BITMAP),
        (enc::VIRTUAL_APIC_PAGE_ADDR, VAPIC),
        (enc::TPR_THRESHOLD, 0),
        (enc::APIC_ACCESS_ADDR, APIC_ACCESS),
        (enc::POSTED_INTR_NV, 0xf2),
        (enc::POSTED_INTR_DESC_ADDR, PI_DESC),
        (enc::EPT_POINTER, EPTP),
        (enc::PML_ADDRESS, PML),
        (enc::VMREAD_BITMAP, VMREAD_BITMAP),
        (enc::VMWRITE_BITMAP, VMWRITE_BITMAP),
        (enc::VIRTUAL_PROCESSOR_ID, 1),
        // EPTP switching, VM function 0.
        (enc::VM_FUNCTION_CONTROL, 1),
        (enc::EPTP_LIST_ADDRESS, EPTP_LIST),
        (enc::VM_EXIT_MSR_LOAD_COUNT, 1),
        (enc::VM_EXIT_MSR_LOAD_ADDR, EXIT_MSR_LOAD),
        (enc::VM_EXIT_MSR_STORE_COUNT, 1),
        (enc::VM_EXIT_MSR_STORE_ADDR, EXIT_MSR_STORE),
        (enc::VM_ENTRY_MSR_LOAD_COUNT, 2),
        (enc::VM_ENTRY_MSR_LOAD_ADDR, ENTRY_MSR_LOAD),
        (enc::VM_ENTRY_INTR_INFO_FIELD, 0),
        // --- Host state (27.2.2, 27.2.3) ---
        // PE, ET, NE, WP, PG.
        (enc::HOST_CR0, 0x8001_0031),
        (enc::HOST_CR3, 0x1000),
        // PAE, VMXE.
        (enc::HOST_CR4, 0x2020),
        (enc::HOST_CS_SELECTOR, 0x08),
        (enc::HOST_SS_SELECTOR, 0x10),
        (enc::HOST_DS_SELECTOR, 0x10),
        (enc::HOST_ES_SELECTOR, 0x10),
        (enc::HOST_FS_SELECTOR, 0),
        (enc::HOST_GS_SELECTOR, 0),
        (enc::HOST_TR_SELECTOR, 0x18),
        (enc::HOST_FS_BASE, 0),
        (enc::HOST_GS_BASE, 0xffff_8880_0000_0000),
        (enc::HOST_TR_BASE, 0xffff_fe00_0000_3000),
        (enc::HOST_GDTR_BASE, 0xffff_fe00_0000_1000),
        (enc::HOST_IDTR_BASE, 0xffff_fe00_0000_0000),
        (enc::HOST_IA32_SYSENTER_ESP, 0),
        (enc::HOST_IA32_SYSENTER_EIP, 0),
        (enc::HOST_RSP, 0xffff_c900_0000_8000),
        (enc::HOST_RIP, 0xffff_ffff_8100_0000),
        (enc::HOST_IA32_PAT, PAT_DEFAULT),
        // SCE, LME, LMA, NX.
        (enc::HOST_IA32_EFER, 0xd01),
        (enc::HOST_IA32_PERF_GLOBAL_CTRL, 0),
        // --- Guest state (27.3) ---
        (enc::GUEST_CR0, 0x8001_0031),
        (enc::GUEST_CR3, 0x2000),
        (enc::GUEST_CR4, 0x2020),
        // DR7's bit 10 is fixed to 1.
        (enc::GUEST_DR7, 0x400),
        (enc::GUEST_IA32_DEBUGCTL, 0),
        (enc::GUEST_IA32_PAT, PAT_DEFAULT),
        // LME, LMA.
        (enc::GUEST_IA32_EFER, 0x500),
        (enc::GUEST_IA32_PERF_GLOBAL_CTRL, 0),
        (enc::GUEST_BNDCFGS, 0),
        (enc::GUEST_RIP, 0x40_0000),
        (enc::GUEST_RSP, 0x80_0000),
        // Bit 1 is fixed to 1.
        (enc::GUEST_RFLAGS, 0x2),
        // 64-bit code: type 11, S, P, L, G.
        (enc::GUEST_CS_SELECTOR, 0x08),
        (enc::GUEST_CS_LIMIT, 0xffff_ffff),
        (enc::GUEST_CS_AR_BYTES, 0xa09b),
        // Data: type 3, S, P, D/B, G.
        (enc::GUEST_SS_SELECTOR, 0x10),
        (enc::GUEST_SS_LIMIT, 0xffff_ffff),
        (enc::GUEST_SS_AR_BYTES, 0xc093),
        (enc::GUEST_DS_SELECTOR, 0x10),
        (enc::GUEST_DS_LIMIT, 0xffff_ffff),
        (enc::GUEST_DS_AR_BYTES, 0xc093),
        (enc::GUEST_ES_SELECTOR, 0x10),
        (enc::GUEST_ES_LIMIT, 0xffff_ffff),
        (enc::GUEST_ES_AR_BYTES, 0xc093),
        (enc::GUEST_FS_SELECTOR, 0x10),
        (enc::GUEST_FS_LIMIT, 0xffff_ffff),
        (enc::GUEST_FS_AR_BYTES, 0xc093),
        (enc::GUEST_GS_SELECTOR, 0x10),
        (enc::GUEST_GS_LIMIT, 0xffff_ffff),
        (enc::GUEST_GS_AR_BYTES, 0xc093),
        // Busy 64-bit TSS: type 11, P.
        (enc::GUEST_TR_SELECTOR, 0x18),
        (enc::GUEST_TR_LIMIT, 0x67),
        (enc::GUEST_TR_AR_BYTES, 0x8b),
        // LDTR unusable (bit 16).
        (enc::GUEST_LDTR_AR_BYTES, 0x1_0000),
        (enc::GUEST_GDTR_LIMIT, 0x1f),
        (enc::GUEST_IDTR_LIMIT, 0xfff),
        (enc::GUEST_INTERRUPTIBILITY_INFO, 0),
        (enc::GUEST_ACTIVITY_STATE, 0),
        (enc::VMCS_LINK_POINTER, u64::MAX),
    ];
    for &(e, val) in fields {
        v.set_field(e, val);
    }
    v
}

/// The first word of the VMCS at `gpa`, as the tests' guest memory has
/// it.
fn link_hdr(gpa: u64) -> Option<u32> {
    match gpa {
        LINK_SHADOW => Some(REVISION | SHADOW_BIT),
        LINK_PLAIN => Some(REVISION),
        LINK_OTHER_REV => Some(0x1234 | SHADOW_BIT),
        _ => None,
    }
}

/// The VM-entry MSR-load list of the valid vmcs12: IA32_SYSENTER_CS and
/// IA32_TSC_AUX.
fn msr_list(gpa: u64) -> Option<MsrEntry> {
    match gpa {
        ENTRY_MSR_LOAD => Some(MsrEntry {
            index: 0x174,
            reserved: 0,
            value: 0x10,
        }),
        0x1b010 => Some(MsrEntry {
            index: 0xc000_0103,
            reserved: 0,
            value: 1,
        }),
        _ => None,
    }
}

fn check(v: &Vmcs12, c: &VmxCaps, e: &EntryEnv) -> Result<(), Check> {
    checks::check_entry(v, c, &model(), e, link_hdr)
}

fn verdict(v: &Vmcs12, c: &VmxCaps, e: &EntryEnv) -> EntryVerdict {
    checks::vm_entry(v, c, &model(), e, link_hdr, msr_list, |_, _| true)
}

/// The VM-instruction error number of a VMfailValid.
fn vmfail_number(v: EntryVerdict) -> Option<u32> {
    match v {
        EntryVerdict::FailValid(e) => Some(e as u32),
        _ => None,
    }
}

/// How a violation should end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// VMfailValid with this error number.
    VmFail(u32),
    /// A failed-entry VM exit with this full exit reason and
    /// qualification.
    Exit(u32, u64),
}

/// Asserts that `v` fails `want_check` first, and ends as `want`,
/// through both check_entry() and vm_entry().
fn assert_fails(name: &str, v: &Vmcs12, c: &VmxCaps, e: &EntryEnv, want_check: Check, want: Want) {
    assert_eq!(check(v, c, e), Err(want_check), "{name}");
    let got = verdict(v, c, e);
    assert_eq!(got, want_check.verdict(), "{name}");
    match want {
        Want::VmFail(n) => assert_eq!(vmfail_number(got), Some(n), "{name}"),
        Want::Exit(reason, qual) => {
            assert_eq!(got, EntryVerdict::EntryFail { reason, qual }, "{name}")
        }
    }
}

/// A mutation of the valid vmcs12.
type Mutation = fn(&mut Vmcs12);

/// Runs each `(name, mutation, check)` on its own copy of the valid
/// vmcs12 with the default caps and environment.
fn cases(list: &[(&str, Mutation, Check)], want: Want) {
    let (c, e) = (caps(), env());
    for &(name, mutate, want_check) in list {
        let mut v = valid();
        mutate(&mut v);
        assert_fails(name, &v, &c, &e, want_check, want);
    }
}

// VMfailValid 7 (table 31-1: "VM entry with invalid control field(s)").
const CONTROLS: Want = Want::VmFail(7);
// VMfailValid 8 ("VM entry with invalid host-state field(s)").
const HOST_STATE: Want = Want::VmFail(8);
// Exit reason 33 with bit 31 (appendix C), qualification 0 (27.8).
const GUEST_STATE: Want = Want::Exit(0x8000_0021, 0);
// The same with qualification 4, the VMCS link pointer.
const LINK_PTR: Want = Want::Exit(0x8000_0021, 4);

// --- The base ------------------------------------------------------------

#[test]
fn valid_vmcs12_enters() {
    let (c, e) = (caps(), env());
    let v = valid();
    assert_eq!(check(&v, &c, &e), Ok(()));
    assert_eq!(verdict(&v, &c, &e), EntryVerdict::Enter);
    // What KVM's defaults require (nested_vmx_setup_*_ctls()): the
    // default1 bits, less CR3 load/store exiting, save/load debug
    // controls.
    assert_eq!(get(&v, enc::PIN_BASED_VM_EXEC_CONTROL) & 0x16, 0x16);
    assert_eq!(must_be_one(&c, MSR_TRUE_PROCBASED), 0x0400_6172);
    assert_eq!(must_be_one(&c, MSR_PROCBASED2), 0);
    assert_eq!(must_be_one(&c, MSR_TRUE_EXIT), 0x0003_6dfb);
    assert_eq!(must_be_one(&c, MSR_TRUE_ENTRY), 0x0000_11fb);
}

#[test]
fn vmresume_of_a_launched_vmcs_enters() {
    let (c, mut e) = (caps(), env());
    let mut v = valid();
    v.set_hdr(HDR_LAUNCH_STATE, 1);
    e.launch = false;
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn real_mode_l2_under_unrestricted_guest_enters() {
    // 27.3.1.1: with unrestricted guest, PE and PG may be 0; an L2 that
    // is not IA-32e mode, with EFER.LMA 0.  LME is free while PG is 0.
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::GUEST_CR0, 0x0001_0030);
    modify(&mut v, enc::VM_ENTRY_CONTROLS, 0, ENTRY_IA32E.into());
    v.set_field(enc::GUEST_IA32_EFER, 0x100);
    assert_eq!(check(&v, &c, &e), Ok(()));
    // Without unrestricted guest (nor PML, which then needs nothing) the
    // same CR0 breaks CR0_FIXED0.
    modify(&mut v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_UG.into());
    assert_eq!(check(&v, &c, &e), Err(Check::GuestCr0));
}

// --- nested_vmx_run() ----------------------------------------------------

#[test]
fn vmlaunch_of_a_launched_vmcs_fails_with_4() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_hdr(HDR_LAUNCH_STATE, 1);
    assert_fails(
        "vmlaunch",
        &v,
        &c,
        &e,
        Check::VmlaunchNonclear,
        Want::VmFail(4),
    );
}

#[test]
fn vmresume_of_a_clear_vmcs_fails_with_5() {
    let (c, mut e) = (caps(), env());
    e.launch = false;
    let v = valid();
    assert_fails(
        "vmresume",
        &v,
        &c,
        &e,
        Check::VmresumeNonlaunched,
        Want::VmFail(5),
    );
}

#[test]
fn a_shadow_vmcs_fails_invalid_before_the_launch_state() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_hdr(HDR_REVISION, REVISION | SHADOW_BIT);
    v.set_hdr(HDR_LAUNCH_STATE, 1);
    assert_eq!(check(&v, &c, &e), Err(Check::ShadowVmcs));
    assert_eq!(verdict(&v, &c, &e), EntryVerdict::FailInvalid);
}

#[test]
fn the_launch_state_comes_before_the_controls() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_hdr(HDR_LAUNCH_STATE, 1);
    v.set_field(enc::CR3_TARGET_COUNT, 1);
    assert_eq!(check(&v, &c, &e), Err(Check::VmlaunchNonclear));
}

// --- Execution controls: VMfailValid 7 -----------------------------------

#[test]
fn execution_controls_fail_with_7() {
    cases(
        &[
            // Bit 1 is a default1 pin control (A.3.1).
            (
                "pin default1 cleared",
                |v| modify(v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, 1 << 1),
                Check::PinControls,
            ),
            // Bit 0 of the primary controls is reserved 0.
            (
                "proc reserved bit",
                |v| modify(v, enc::CPU_BASED_VM_EXEC_CONTROL, 1, 0),
                Check::ProcControls,
            ),
            // PAUSE-loop exiting, which KVM does not offer.
            (
                "proc2 PLE",
                |v| modify(v, enc::SECONDARY_VM_EXEC_CONTROL, P2_PLE.into(), 0),
                Check::Proc2Controls,
            ),
            // MISC bits 24:16 are 0 in KVM's default.
            (
                "cr3 target count",
                |v| v.set_field(enc::CR3_TARGET_COUNT, 1),
                Check::Cr3TargetCount,
            ),
            (
                "io bitmap A misaligned",
                |v| v.set_field(enc::IO_BITMAP_A, IO_A | 1),
                Check::IoBitmapA,
            ),
            (
                "io bitmap B beyond MAXPHYADDR",
                |v| v.set_field(enc::IO_BITMAP_B, 1 << 48),
                Check::IoBitmapB,
            ),
            (
                "msr bitmap misaligned",
                |v| v.set_field(enc::MSR_BITMAP, MSR_BITMAP | 0x800),
                Check::MsrBitmap,
            ),
            (
                "virtual-APIC page misaligned",
                |v| v.set_field(enc::VIRTUAL_APIC_PAGE_ADDR, VAPIC | 4),
                Check::VirtualApicPage,
            ),
            // 27.2.1.1: without virtual-interrupt delivery, TPR
            // threshold bits 31:4 are 0.  Posted interrupts go too: they
            // need virtual-interrupt delivery.
            (
                "tpr threshold above 15",
                |v| {
                    modify(v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, PIN_POSTED.into());
                    modify(v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_VID.into());
                    v.set_field(enc::TPR_THRESHOLD, 0x10);
                },
                Check::TprThreshold,
            ),
            (
                "apic-access page misaligned",
                |v| {
                    modify(
                        v,
                        enc::SECONDARY_VM_EXEC_CONTROL,
                        P2_APIC_ACCESS.into(),
                        P2_X2APIC.into(),
                    );
                    v.set_field(enc::APIC_ACCESS_ADDR, APIC_ACCESS | 0x800);
                },
                Check::ApicAccessPage,
            ),
            (
                "x2apic mode with apic accesses",
                |v| modify(v, enc::SECONDARY_VM_EXEC_CONTROL, P2_APIC_ACCESS.into(), 0),
                Check::X2apicWithApicAccess,
            ),
            (
                "vid without external-interrupt exiting",
                |v| modify(v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, PIN_EXT_INTR.into()),
                Check::VidWithoutExtIntr,
            ),
            (
                "posted interrupts without vid",
                |v| modify(v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_VID.into()),
                Check::PostedIntrWithoutVid,
            ),
            (
                "posted interrupts without ack",
                |v| modify(v, enc::VM_EXIT_CONTROLS, 0, EXIT_ACK_INTR.into()),
                Check::PostedIntrWithoutAckIntr,
            ),
            (
                "posted-interrupt vector above 255",
                |v| v.set_field(enc::POSTED_INTR_NV, 0x1f2),
                Check::PostedIntrVector,
            ),
            (
                "posted-interrupt descriptor 32-byte aligned",
                |v| v.set_field(enc::POSTED_INTR_DESC_ADDR, PI_DESC | 0x20),
                Check::PostedIntrDesc,
            ),
            (
                "posted-interrupt descriptor beyond MAXPHYADDR",
                |v| v.set_field(enc::POSTED_INTR_DESC_ADDR, 1 << 48),
                Check::PostedIntrDesc,
            ),
            (
                "apicv without tpr shadow",
                |v| modify(v, enc::CPU_BASED_VM_EXEC_CONTROL, 0, PROC_TPR_SHADOW.into()),
                Check::ApicvWithoutTprShadow,
            ),
            (
                "virtual nmis without nmi exiting",
                |v| modify(v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, PIN_NMI.into()),
                Check::VirtualNmisWithoutNmiExiting,
            ),
            (
                "nmi window without virtual nmis",
                |v| {
                    modify(
                        v,
                        enc::PIN_BASED_VM_EXEC_CONTROL,
                        0,
                        PIN_VIRTUAL_NMIS.into(),
                    )
                },
                Check::NmiWindowWithoutVirtualNmis,
            ),
            (
                "pml without ept",
                |v| modify(v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_EPT.into()),
                Check::PmlWithoutEpt,
            ),
            (
                "pml address misaligned",
                |v| v.set_field(enc::PML_ADDRESS, PML | 0xfff),
                Check::PmlAddress,
            ),
            (
                "unrestricted guest without ept",
                |v| {
                    modify(
                        v,
                        enc::SECONDARY_VM_EXEC_CONTROL,
                        0,
                        (P2_EPT | P2_PML).into(),
                    )
                },
                Check::UnrestrictedWithoutEpt,
            ),
            (
                "vmread bitmap misaligned",
                |v| v.set_field(enc::VMREAD_BITMAP, VMREAD_BITMAP | 1),
                Check::VmreadBitmap,
            ),
            (
                "vmwrite bitmap beyond MAXPHYADDR",
                |v| v.set_field(enc::VMWRITE_BITMAP, 1 << 50),
                Check::VmwriteBitmap,
            ),
            (
                "vpid 0",
                |v| v.set_field(enc::VIRTUAL_PROCESSOR_ID, 0),
                Check::VpidZero,
            ),
            (
                "save timer without timer",
                |v| modify(v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, PIN_TIMER.into()),
                Check::SavePreemptionTimer,
            ),
            // Memory type UC (0), which KVM's EPT caps lack.
            (
                "eptp uncacheable",
                |v| v.set_field(enc::EPT_POINTER, EPTP & !7),
                Check::Eptp,
            ),
            // Bits 11:7 reserved (25.6.11).
            (
                "eptp reserved bit",
                |v| v.set_field(enc::EPT_POINTER, EPTP | (1 << 7)),
                Check::Eptp,
            ),
            // Only EPTP switching (function 0) exists.
            (
                "vm function 1",
                |v| v.set_field(enc::VM_FUNCTION_CONTROL, 3),
                Check::VmfuncControls,
            ),
            (
                "eptp switching without ept",
                |v| {
                    modify(
                        v,
                        enc::SECONDARY_VM_EXEC_CONTROL,
                        0,
                        (P2_EPT | P2_PML | P2_UG).into(),
                    )
                },
                Check::EptpSwitchingWithoutEpt,
            ),
            (
                "eptp list misaligned",
                |v| v.set_field(enc::EPTP_LIST_ADDRESS, EPTP_LIST | 0x10),
                Check::EptpListAddress,
            ),
        ],
        CONTROLS,
    );
}

#[test]
fn mode_based_execute_is_refused_by_kvms_caps_first() {
    // KVM never offers mode-based execute control, so its "needs EPT"
    // rule is never reached with KVM's capabilities.
    let (c, e) = (caps(), env());
    let mut v = valid();
    modify(
        &mut v,
        enc::SECONDARY_VM_EXEC_CONTROL,
        P2_MODE_BASED.into(),
        P2_EPT.into(),
    );
    assert_eq!(check(&v, &c, &e), Err(Check::Proc2Controls));
}

#[test]
fn secondary_controls_do_not_count_unless_activated() {
    // nested_cpu_has2(): with bit 31 of the primary controls clear, the
    // secondary field is neither checked against PROCBASED_CTLS2 nor read
    // for its controls.  Posted interrupts go: they need VID.
    let (c, e) = (caps(), env());
    let mut v = valid();
    modify(
        &mut v,
        enc::CPU_BASED_VM_EXEC_CONTROL,
        0,
        PROC_SECONDARY.into(),
    );
    modify(&mut v, enc::PIN_BASED_VM_EXEC_CONTROL, 0, PIN_POSTED.into());
    v.set_field(enc::SECONDARY_VM_EXEC_CONTROL, 0xffff_ffff);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn tpr_threshold_is_free_with_virtual_interrupt_delivery() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::TPR_THRESHOLD, 0xffff_fff0);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn posted_interrupt_descriptor_needs_only_64_byte_alignment() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::POSTED_INTR_DESC_ADDR, PI_DESC | 0x40);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

// --- Exit controls: VMfailValid 7 ----------------------------------------

#[test]
fn exit_controls_fail_with_7() {
    cases(
        &[
            // Bit 0 is a default1 exit control.
            (
                "exit default1 cleared",
                |v| modify(v, enc::VM_EXIT_CONTROLS, 0, 1),
                Check::ExitControls,
            ),
            (
                "exit msr-load list 8-byte aligned",
                |v| v.set_field(enc::VM_EXIT_MSR_LOAD_ADDR, EXIT_MSR_LOAD | 8),
                Check::ExitMsrLoad,
            ),
            // Two entries from 16 bytes below 2^48: the last byte is
            // beyond MAXPHYADDR.
            (
                "exit msr-store list ends beyond MAXPHYADDR",
                |v| {
                    v.set_field(enc::VM_EXIT_MSR_STORE_ADDR, (1 << 48) - 16);
                    v.set_field(enc::VM_EXIT_MSR_STORE_COUNT, 2);
                },
                Check::ExitMsrStore,
            ),
        ],
        CONTROLS,
    );
}

#[test]
fn empty_msr_lists_have_no_address() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    // One entry just below 2^48 fits.
    v.set_field(enc::VM_EXIT_MSR_STORE_ADDR, (1 << 48) - 16);
    assert_eq!(check(&v, &c, &e), Ok(()));
    for (count, addr) in [
        (enc::VM_EXIT_MSR_LOAD_COUNT, enc::VM_EXIT_MSR_LOAD_ADDR),
        (enc::VM_EXIT_MSR_STORE_COUNT, enc::VM_EXIT_MSR_STORE_ADDR),
        (enc::VM_ENTRY_MSR_LOAD_COUNT, enc::VM_ENTRY_MSR_LOAD_ADDR),
    ] {
        v.set_field(count, 0);
        v.set_field(addr, u64::MAX);
    }
    assert_eq!(check(&v, &c, &e), Ok(()));
}

// --- Entry controls: VMfailValid 7 ---------------------------------------

// Interruption information (25.8.3): valid bit 31, deliver error code
// bit 11, type in bits 10:8.
const VALID: u64 = 1 << 31;
const DELIVER: u64 = 1 << 11;
const NMI: u64 = 2 << 8;
const HW_EXC: u64 = 3 << 8;
const SOFT_INTR: u64 = 4 << 8;
const OTHER: u64 = 7 << 8;

#[test]
fn entry_controls_fail_with_7() {
    cases(
        &[
            // Bit 0 is a default1 entry control.
            (
                "entry default1 cleared",
                |v| modify(v, enc::VM_ENTRY_CONTROLS, 0, 1),
                Check::EntryControls,
            ),
            (
                "event type 1",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | (1 << 8)),
                Check::EventType,
            ),
            (
                "nmi not vector 2",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | NMI | 3),
                Check::EventVector,
            ),
            (
                "exception vector 32",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | HW_EXC | 32),
                Check::EventVector,
            ),
            (
                "other event not vector 0",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | OTHER | 1),
                Check::EventVector,
            ),
            // #GP (13) pushes an error code in protected mode.
            (
                "#GP without error code",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | HW_EXC | 13),
                Check::EventErrorCodeDelivery,
            ),
            // #UD (6) does not.
            (
                "#UD with error code",
                |v| v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | HW_EXC | DELIVER | 6),
                Check::EventErrorCodeDelivery,
            ),
            // Nor does anything in real mode (unrestricted guest, PE 0).
            (
                "#GP with error code in real mode",
                |v| {
                    v.set_field(enc::GUEST_CR0, 0x0001_0030);
                    v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | HW_EXC | DELIVER | 13);
                },
                Check::EventErrorCodeDelivery,
            ),
            (
                "error code above 16 bits",
                |v| {
                    v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | HW_EXC | DELIVER | 13);
                    v.set_field(enc::VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1_0000);
                },
                Check::EventErrorCode,
            ),
            // Bit 12 (NMI unblocking in exit information) is reserved here.
            (
                "reserved bit 12",
                |v| {
                    v.set_field(
                        enc::VM_ENTRY_INTR_INFO_FIELD,
                        VALID | HW_EXC | DELIVER | 13 | (1 << 12),
                    )
                },
                Check::EventReserved,
            ),
            // MISC bit 30 is 0 in KVM's default: no zero-length
            // injection.
            (
                "software interrupt of length 0",
                |v| {
                    v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | SOFT_INTR | 0x80);
                    v.set_field(enc::VM_ENTRY_INSTRUCTION_LEN, 0);
                },
                Check::EventInstructionLength,
            ),
            (
                "software interrupt of length 16",
                |v| {
                    v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | SOFT_INTR | 0x80);
                    v.set_field(enc::VM_ENTRY_INSTRUCTION_LEN, 16);
                },
                Check::EventInstructionLength,
            ),
            (
                "entry msr-load list 4-byte aligned",
                |v| v.set_field(enc::VM_ENTRY_MSR_LOAD_ADDR, ENTRY_MSR_LOAD | 4),
                Check::EntryMsrLoad,
            ),
        ],
        CONTROLS,
    );
}

#[test]
fn well_formed_events_enter() {
    let (c, e) = (caps(), env());
    for (info, code, len) in [
        // #PF with its error code.
        (VALID | HW_EXC | DELIVER | 14, 0xffff, 0),
        // NMI.
        (VALID | NMI | 2, 0, 0),
        // INT 80h, two bytes.
        (VALID | SOFT_INTR | 0x80, 0, 2),
        // A pending MTF VM exit.
        (VALID | OTHER, 0, 0),
        // Not valid: the rest is ignored.
        (0x7fff_ffff, 0xffff_ffff, 99),
    ] {
        let mut v = valid();
        v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, info);
        v.set_field(enc::VM_ENTRY_EXCEPTION_ERROR_CODE, code);
        v.set_field(enc::VM_ENTRY_INSTRUCTION_LEN, len);
        assert_eq!(check(&v, &c, &e), Ok(()), "{info:#x}");
    }
}

#[test]
fn other_event_needs_the_monitor_trap_flag_in_the_model() {
    // TRUE_PROCBASED_CTLS restricted: MTF (bit 27) no longer allowed-1.
    let mut c = caps();
    let restricted = c.get(MSR_TRUE_PROCBASED).unwrap() & !(u64::from(PROC_MTF) << 32);
    c.set(MSR_TRUE_PROCBASED, restricted).unwrap();
    let e = env();
    let mut v = valid();
    v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, VALID | OTHER);
    assert_fails("other event", &v, &c, &e, Check::EventType, CONTROLS);
}

// --- Host state: VMfailValid 8 -------------------------------------------

#[test]
fn host_state_fails_with_8() {
    cases(
        &[
            // CR0_FIXED0 has NE (bit 5).
            (
                "host cr0 without NE",
                |v| modify(v, enc::HOST_CR0, 0, 1 << 5),
                Check::HostCr0,
            ),
            // CR0_FIXED1 is 0xffffffff.
            (
                "host cr0 bit 32",
                |v| modify(v, enc::HOST_CR0, 1 << 32, 0),
                Check::HostCr0,
            ),
            // CR4_FIXED0 has VMXE (bit 13).
            (
                "host cr4 without VMXE",
                |v| modify(v, enc::HOST_CR4, 0, 1 << 13),
                Check::HostCr4,
            ),
            // CET (bit 23) is reserved to the model; so KVM's CET/WP rule
            // that follows cannot be reached.
            (
                "host cr4 CET",
                |v| modify(v, enc::HOST_CR4, 1 << 23, 0),
                Check::HostCr4,
            ),
            (
                "host cr3 beyond MAXPHYADDR",
                |v| v.set_field(enc::HOST_CR3, 1 << 48),
                Check::HostCr3,
            ),
            (
                "host sysenter esp",
                |v| v.set_field(enc::HOST_IA32_SYSENTER_ESP, NONCANON_48),
                Check::HostSysenterEsp,
            ),
            (
                "host sysenter eip",
                |v| v.set_field(enc::HOST_IA32_SYSENTER_EIP, NONCANON_48),
                Check::HostSysenterEip,
            ),
            // Memory type 2 is reserved (SDM vol. 3A table 13-10).
            (
                "host pat type 2",
                |v| v.set_field(enc::HOST_IA32_PAT, 0x0007_0406_0007_0402),
                Check::HostPat,
            ),
            (
                "host pat type 8",
                |v| v.set_field(enc::HOST_IA32_PAT, 0x0007_0406_0007_0408),
                Check::HostPat,
            ),
            // Only 8 general-purpose counters: bit 8 is reserved.
            (
                "host perf global ctrl",
                |v| v.set_field(enc::HOST_IA32_PERF_GLOBAL_CTRL, 1 << 8),
                Check::HostPerfGlobalCtrl,
            ),
            (
                "64-bit host without PAE",
                |v| modify(v, enc::HOST_CR4, 0, 1 << 5),
                Check::HostCr4Pae,
            ),
            (
                "host cs rpl",
                |v| v.set_field(enc::HOST_CS_SELECTOR, 0x0b),
                Check::HostSelector,
            ),
            (
                "host ss ti",
                |v| v.set_field(enc::HOST_SS_SELECTOR, 0x14),
                Check::HostSelector,
            ),
            (
                "host ds rpl",
                |v| v.set_field(enc::HOST_DS_SELECTOR, 0x12),
                Check::HostSelector,
            ),
            (
                "host es rpl",
                |v| v.set_field(enc::HOST_ES_SELECTOR, 0x13),
                Check::HostSelector,
            ),
            (
                "host fs ti",
                |v| v.set_field(enc::HOST_FS_SELECTOR, 0x4),
                Check::HostSelector,
            ),
            (
                "host gs rpl",
                |v| v.set_field(enc::HOST_GS_SELECTOR, 0x3),
                Check::HostSelector,
            ),
            (
                "host tr rpl",
                |v| v.set_field(enc::HOST_TR_SELECTOR, 0x19),
                Check::HostSelector,
            ),
            (
                "host cs null",
                |v| v.set_field(enc::HOST_CS_SELECTOR, 0),
                Check::HostCsNull,
            ),
            (
                "host tr null",
                |v| v.set_field(enc::HOST_TR_SELECTOR, 0),
                Check::HostTrNull,
            ),
            (
                "host fs base",
                |v| v.set_field(enc::HOST_FS_BASE, NONCANON_48),
                Check::HostBase,
            ),
            (
                "host gs base",
                |v| v.set_field(enc::HOST_GS_BASE, 0x0000_8880_0000_0000),
                Check::HostBase,
            ),
            (
                "host gdtr base",
                |v| v.set_field(enc::HOST_GDTR_BASE, 0xfff0_0000_0000_0000),
                Check::HostBase,
            ),
            (
                "host idtr base",
                |v| v.set_field(enc::HOST_IDTR_BASE, NONCANON_48),
                Check::HostBase,
            ),
            (
                "host tr base",
                |v| v.set_field(enc::HOST_TR_BASE, NONCANON_48),
                Check::HostBase,
            ),
            (
                "host rip",
                |v| v.set_field(enc::HOST_RIP, 0x0000_ffff_8100_0000),
                Check::HostRip,
            ),
            // Bit 1 of EFER is reserved.
            (
                "host efer reserved bit",
                |v| modify(v, enc::HOST_IA32_EFER, 1 << 1, 0),
                Check::HostEfer,
            ),
            (
                "host efer without LMA",
                |v| modify(v, enc::HOST_IA32_EFER, 0, 1 << 10),
                Check::HostEferLma,
            ),
            (
                "host efer without LME",
                |v| modify(v, enc::HOST_IA32_EFER, 0, 1 << 8),
                Check::HostEferLme,
            ),
        ],
        HOST_STATE,
    );
}

/// The valid vmcs12 and environment turned into a 32-bit host (L1 in
/// protected mode with PAE paging) entering a 32-bit L2, which passes.
fn host_32() -> (Box<Vmcs12>, EntryEnv) {
    let mut v = valid();
    let mut e = env();
    e.l1_efer_lma = false;
    modify(&mut v, enc::VM_EXIT_CONTROLS, 0, EXIT_HOST_64.into());
    modify(&mut v, enc::VM_ENTRY_CONTROLS, 0, ENTRY_IA32E.into());
    // SCE, NX.
    v.set_field(enc::HOST_IA32_EFER, 0x801);
    v.set_field(enc::HOST_RIP, 0xc100_0000);
    v.set_field(enc::GUEST_IA32_EFER, 0);
    (v, e)
}

#[test]
fn a_32_bit_host_enters() {
    let (v, e) = host_32();
    assert_eq!(check(&v, &caps(), &e), Ok(()));
}

#[test]
fn host_address_space_size_is_l1s_mode() {
    let c = caps();
    // A 64-bit L1 returning to 32-bit mode...
    let (v, mut e) = host_32();
    e.l1_efer_lma = true;
    assert_fails("lma", &v, &c, &e, Check::AddressSpaceSize, HOST_STATE);
    // ... and the reverse.
    let v = valid();
    let mut e = env();
    e.l1_efer_lma = false;
    assert_fails("no lma", &v, &c, &e, Check::AddressSpaceSize, HOST_STATE);
}

#[test]
fn a_32_bit_host_fails_with_8() {
    let c = caps();
    let list: &[(&str, Mutation, Check)] = &[
        (
            "ia32e guest",
            |v| modify(v, enc::VM_ENTRY_CONTROLS, ENTRY_IA32E.into(), 0),
            Check::HostIa32eGuest,
        ),
        // PCIDE (bit 17), which CR4_FIXED1 allows (the CPUID has PCID).
        (
            "pcide",
            |v| modify(v, enc::HOST_CR4, 1 << 17, 0),
            Check::HostPcide,
        ),
        (
            "rip above 4G",
            |v| v.set_field(enc::HOST_RIP, 0x1_0000_0000),
            Check::HostRipHigh,
        ),
        (
            "ss null",
            |v| v.set_field(enc::HOST_SS_SELECTOR, 0),
            Check::HostSsNull,
        ),
        (
            "efer with LMA",
            |v| v.set_field(enc::HOST_IA32_EFER, 0xc01),
            Check::HostEferLma,
        ),
        (
            "efer with LME",
            |v| v.set_field(enc::HOST_IA32_EFER, 0x901),
            Check::HostEferLme,
        ),
    ];
    for &(name, mutate, want) in list {
        let (mut v, e) = host_32();
        mutate(&mut v);
        assert_fails(name, &v, &c, &e, want, HOST_STATE);
    }
}

#[test]
fn a_64_bit_host_may_have_a_null_ss() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::HOST_SS_SELECTOR, 0);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn canonical_means_the_hosts_la57_for_bases_and_l1s_for_rip() {
    let c = caps();
    let mut v = valid();
    for base in [
        enc::HOST_IA32_SYSENTER_ESP,
        enc::HOST_IA32_SYSENTER_EIP,
        enc::HOST_FS_BASE,
        enc::HOST_GS_BASE,
        enc::HOST_GDTR_BASE,
        enc::HOST_IDTR_BASE,
        enc::HOST_TR_BASE,
    ] {
        v.set_field(base, NONCANON_48);
    }
    v.set_field(enc::HOST_RIP, NONCANON_48);
    let mut e = env();
    e.host_la57 = true;
    // The bases pass in 57 bits; RIP does not, L1 using 4-level paging.
    assert_eq!(check(&v, &c, &e), Err(Check::HostRip));
    e.l1_cr4_la57 = true;
    assert_eq!(check(&v, &c, &e), Ok(()));
    // Bit 56 set alone is not canonical even in 57 bits.
    v.set_field(enc::HOST_RIP, 0x0100_0000_0000_0000);
    assert_eq!(check(&v, &c, &e), Err(Check::HostRip));
}

#[test]
fn host_pat_and_perf_are_free_unless_loaded() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    modify(
        &mut v,
        enc::VM_EXIT_CONTROLS,
        0,
        (EXIT_LOAD_PAT | EXIT_LOAD_PERF).into(),
    );
    v.set_field(enc::HOST_IA32_PAT, u64::MAX);
    v.set_field(enc::HOST_IA32_PERF_GLOBAL_CTRL, u64::MAX);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

// --- Guest state: exit reason 33 ----------------------------------------

#[test]
fn guest_state_fails_with_exit_33() {
    cases(
        &[
            (
                "guest cr0 without NE",
                |v| modify(v, enc::GUEST_CR0, 0, 1 << 5),
                Check::GuestCr0,
            ),
            (
                "guest cr4 without VMXE",
                |v| modify(v, enc::GUEST_CR4, 0, 1 << 13),
                Check::GuestCr4,
            ),
            // As for the host, CET is refused by the CR4 check first.
            (
                "guest cr4 CET",
                |v| modify(v, enc::GUEST_CR4, 1 << 23, 0),
                Check::GuestCr4,
            ),
            (
                "guest dr7 bit 32",
                |v| modify(v, enc::GUEST_DR7, 1 << 32, 0),
                Check::GuestDr7,
            ),
            // Bus-lock detection (bit 2), which this vCPU lacks.
            (
                "guest debugctl",
                |v| v.set_field(enc::GUEST_IA32_DEBUGCTL, 1 << 2),
                Check::GuestDebugctl,
            ),
            // Memory type 3 is reserved.
            (
                "guest pat",
                |v| v.set_field(enc::GUEST_IA32_PAT, 0x0007_0406_0007_0403),
                Check::GuestPat,
            ),
            // Fixed counter 3 does not exist: bit 35.
            (
                "guest perf global ctrl",
                |v| v.set_field(enc::GUEST_IA32_PERF_GLOBAL_CTRL, 1 << 35),
                Check::GuestPerfGlobalCtrl,
            ),
            // PG without PE: unrestricted guest lets CR0_FIXED0 pass.
            (
                "guest PG without PE",
                |v| modify(v, enc::GUEST_CR0, 0, 1),
                Check::GuestPgWithoutPe,
            ),
            (
                "ia32e guest without PAE",
                |v| modify(v, enc::GUEST_CR4, 0, 1 << 5),
                Check::GuestIa32eWithoutPae,
            ),
            (
                "ia32e guest without PG",
                |v| modify(v, enc::GUEST_CR0, 0, 1 << 31),
                Check::GuestIa32eWithoutPg,
            ),
            (
                "guest efer reserved bit",
                |v| modify(v, enc::GUEST_IA32_EFER, 1 << 1, 0),
                Check::GuestEfer,
            ),
            (
                "guest efer without LMA",
                |v| modify(v, enc::GUEST_IA32_EFER, 0, 1 << 10),
                Check::GuestEferLma,
            ),
            (
                "guest efer without LME",
                |v| modify(v, enc::GUEST_IA32_EFER, 0, 1 << 8),
                Check::GuestEferLme,
            ),
            (
                "guest bndcfgs base",
                |v| v.set_field(enc::GUEST_BNDCFGS, NONCANON_48 | 1),
                Check::GuestBndcfgsBase,
            ),
            // Bits 11:2 are reserved.
            (
                "guest bndcfgs reserved",
                |v| v.set_field(enc::GUEST_BNDCFGS, 1 << 2),
                Check::GuestBndcfgsReserved,
            ),
            // Shutdown (2) is not a state KVM takes.
            (
                "activity shutdown",
                |v| v.set_field(enc::GUEST_ACTIVITY_STATE, 2),
                Check::GuestActivityState,
            ),
            (
                "activity 4",
                |v| v.set_field(enc::GUEST_ACTIVITY_STATE, 4),
                Check::GuestActivityState,
            ),
            (
                "guest cr3 beyond MAXPHYADDR",
                |v| v.set_field(enc::GUEST_CR3, 1 << 48),
                Check::GuestCr3,
            ),
        ],
        GUEST_STATE,
    );
}

#[test]
fn the_vmcs_link_pointer_fails_with_qualification_4() {
    cases(
        &[
            (
                "link misaligned",
                |v| v.set_field(enc::VMCS_LINK_POINTER, LINK_SHADOW | 0x800),
                Check::LinkPtrAddress,
            ),
            (
                "link beyond MAXPHYADDR",
                |v| v.set_field(enc::VMCS_LINK_POINTER, 1 << 48),
                Check::LinkPtrAddress,
            ),
            (
                "link unreadable",
                |v| v.set_field(enc::VMCS_LINK_POINTER, LINK_UNREADABLE),
                Check::LinkPtrRead,
            ),
            (
                "link of another revision",
                |v| v.set_field(enc::VMCS_LINK_POINTER, LINK_OTHER_REV),
                Check::LinkPtrRevision,
            ),
            // VMCS shadowing on: the linked VMCS must be a shadow VMCS.
            (
                "link not shadow",
                |v| v.set_field(enc::VMCS_LINK_POINTER, LINK_PLAIN),
                Check::LinkPtrShadow,
            ),
            // VMCS shadowing off: it must not be.
            (
                "link shadow without shadowing",
                |v| {
                    v.set_field(enc::VMCS_LINK_POINTER, LINK_SHADOW);
                    modify(v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_SHADOW.into());
                },
                Check::LinkPtrShadow,
            ),
        ],
        LINK_PTR,
    );
}

#[test]
fn good_vmcs_link_pointers_enter() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::VMCS_LINK_POINTER, LINK_SHADOW);
    assert_eq!(check(&v, &c, &e), Ok(()));
    modify(&mut v, enc::SECONDARY_VM_EXEC_CONTROL, 0, P2_SHADOW.into());
    v.set_field(enc::VMCS_LINK_POINTER, LINK_PLAIN);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn the_link_pointer_is_read_only_if_needed() {
    let (c, e) = (caps(), env());
    let v = valid();
    // All ones: no link, no read.
    let r = checks::check_entry(&v, &c, &model(), &e, |_| -> Option<u32> {
        panic!("read the link pointer")
    });
    assert_eq!(r, Ok(()));
    // An earlier check fails: no read either.
    let mut v = valid();
    v.set_field(enc::VMCS_LINK_POINTER, LINK_SHADOW);
    v.set_field(enc::GUEST_IA32_PAT, 0x2);
    let r = checks::check_entry(&v, &c, &model(), &e, |_| -> Option<u32> {
        panic!("read the link pointer")
    });
    assert_eq!(r, Err(Check::GuestPat));
    // The read is of the link pointer's address.
    let mut v = valid();
    v.set_field(enc::VMCS_LINK_POINTER, LINK_SHADOW);
    let r = checks::check_entry(&v, &c, &model(), &e, |gpa| {
        assert_eq!(gpa, LINK_SHADOW);
        Some(REVISION | SHADOW_BIT)
    });
    assert_eq!(r, Ok(()));
}

#[test]
fn guest_fields_are_free_unless_loaded() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    modify(
        &mut v,
        enc::VM_ENTRY_CONTROLS,
        0,
        (ENTRY_LOAD_DEBUG
            | ENTRY_LOAD_PAT
            | ENTRY_LOAD_EFER
            | ENTRY_LOAD_PERF
            | ENTRY_LOAD_BNDCFGS)
            .into(),
    );
    for f in [
        enc::GUEST_DR7,
        enc::GUEST_IA32_DEBUGCTL,
        enc::GUEST_IA32_PAT,
        enc::GUEST_IA32_EFER,
        enc::GUEST_IA32_PERF_GLOBAL_CTRL,
        enc::GUEST_BNDCFGS,
    ] {
        v.set_field(f, u64::MAX);
    }
    assert_eq!(check(&v, &c, &e), Ok(()));
}

#[test]
fn debugctl_takes_btf_lbr_and_freeze_in_smm() {
    let (c, e) = (caps(), env());
    let mut v = valid();
    // LBR (0), BTF (1), FREEZE_IN_SMM (14).
    v.set_field(enc::GUEST_IA32_DEBUGCTL, 0x4003);
    assert_eq!(check(&v, &c, &e), Ok(()));
    // RTM debugging (15), which the vCPU lacks.
    v.set_field(enc::GUEST_IA32_DEBUGCTL, 1 << 15);
    assert_eq!(check(&v, &c, &e), Err(Check::GuestDebugctl));
}

#[test]
fn hlt_and_wait_for_sipi_enter() {
    let (c, e) = (caps(), env());
    for state in [1, 3] {
        let mut v = valid();
        v.set_field(enc::GUEST_ACTIVITY_STATE, state);
        assert_eq!(check(&v, &c, &e), Ok(()), "{state}");
    }
}

#[test]
fn guest_efer_lme_is_free_without_paging() {
    // 27.3.1.1: LME must equal IA-32e mode only if CR0.PG is 1.
    let (c, e) = (caps(), env());
    let mut v = valid();
    v.set_field(enc::GUEST_CR0, 0x0001_0031);
    modify(&mut v, enc::VM_ENTRY_CONTROLS, 0, ENTRY_IA32E.into());
    v.set_field(enc::GUEST_IA32_EFER, 0x100);
    assert_eq!(check(&v, &c, &e), Ok(()));
}

// --- Order between the groups --------------------------------------------

#[test]
fn groups_fail_in_kvms_order() {
    let (c, e) = (caps(), env());
    let bad_control = |v: &mut Vmcs12| v.set_field(enc::VIRTUAL_PROCESSOR_ID, 0);
    let bad_host = |v: &mut Vmcs12| v.set_field(enc::HOST_CR3, 1 << 48);
    let bad_guest = |v: &mut Vmcs12| v.set_field(enc::GUEST_ACTIVITY_STATE, 2);
    let bad_link = |v: &mut Vmcs12| v.set_field(enc::VMCS_LINK_POINTER, 1);
    let mut v = valid();
    bad_control(&mut v);
    bad_host(&mut v);
    bad_guest(&mut v);
    assert_eq!(vmfail_number(verdict(&v, &c, &e)), Some(7));
    let mut v = valid();
    bad_host(&mut v);
    bad_guest(&mut v);
    assert_eq!(vmfail_number(verdict(&v, &c, &e)), Some(8));
    // Within the guest state: the link pointer before the activity state.
    let mut v = valid();
    bad_guest(&mut v);
    bad_link(&mut v);
    assert_eq!(
        verdict(&v, &c, &e),
        EntryVerdict::EntryFail {
            reason: 0x8000_0021,
            qual: 4
        }
    );
    // Exit controls before entry controls, execution before both.
    let mut v = valid();
    modify(&mut v, enc::VM_EXIT_CONTROLS, 0, 1);
    modify(&mut v, enc::VM_ENTRY_CONTROLS, 0, 1);
    assert_eq!(check(&v, &c, &e), Err(Check::ExitControls));
    v.set_field(enc::CR3_TARGET_COUNT, 1);
    assert_eq!(check(&v, &c, &e), Err(Check::Cr3TargetCount));
    // The guest checks before the guest CR3 load.
    let mut v = valid();
    v.set_field(enc::GUEST_CR3, 1 << 48);
    bad_guest(&mut v);
    assert_eq!(check(&v, &c, &e), Err(Check::GuestActivityState));
}

// --- The MSR-load list: exit reason 34 -----------------------------------

// MSR indices (SDM vol. 4 table 2-2).
const IA32_SYSENTER_CS: u32 = 0x174;
const IA32_FS_BASE: u32 = 0xc000_0100;
const IA32_GS_BASE: u32 = 0xc000_0101;
const IA32_SMM_MONITOR_CTL: u32 = 0x9b;
const IA32_BIOS_UPDT_TRIG: u32 = 0x79;
const IA32_BIOS_SIGN_ID: u32 = 0x8b;
const X2APIC_TPR: u32 = 0x808;

fn entry(index: u32) -> MsrEntry {
    MsrEntry {
        index,
        reserved: 0,
        value: 0,
    }
}

#[test]
fn msr_entries_kvm_refuses() {
    for i in [
        IA32_FS_BASE,
        IA32_GS_BASE,
        IA32_SMM_MONITOR_CTL,
        IA32_BIOS_UPDT_TRIG,
        IA32_BIOS_SIGN_ID,
    ] {
        assert!(!check_msr_load_entry(&entry(i), false), "{i:#x}");
        assert!(!check_msr_load_entry(&entry(i), true), "{i:#x}");
    }
    // x2APIC MSRs (800h-8FFh) only while L1's APIC is in x2APIC mode.
    for i in [0x800, X2APIC_TPR, 0x8ff] {
        assert!(check_msr_load_entry(&entry(i), false), "{i:#x}");
        assert!(!check_msr_load_entry(&entry(i), true), "{i:#x}");
    }
    assert!(check_msr_load_entry(&entry(0x7ff), true));
    assert!(check_msr_load_entry(&entry(0x900), true));
    // Bits 63:32 of an entry are reserved.
    let mut e = entry(IA32_SYSENTER_CS);
    assert!(check_msr_load_entry(&e, false));
    e.reserved = 1;
    assert!(!check_msr_load_entry(&e, false));
    // Any value: whether the MSR takes it is the write's business.
    e.reserved = 0;
    e.value = u64::MAX;
    assert!(check_msr_load_entry(&e, false));
}

#[test]
fn msr_entries_are_little_endian_16_bytes() {
    let b = [
        0x74, 0x01, 0, 0, // index 174h
        1, 0, 0, 0, // reserved 1
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    ];
    assert_eq!(
        MsrEntry::from_bytes(&b),
        MsrEntry {
            index: 0x174,
            reserved: 1,
            value: 0x1122_3344_5566_7788
        }
    );
}

/// Runs load_msr_list() over `list` at 0x1b000 with limit `max`,
/// recording the MSRs written; `refuse` is an MSR the write refuses.
fn run_list(
    list: &[MsrEntry],
    max: u32,
    x2apic: bool,
    refuse: Option<u32>,
) -> (Result<(), u32>, Vec<(u32, u64)>) {
    let mut written = Vec::new();
    let r = load_msr_list(
        0x1b000,
        list.len() as u32,
        max,
        x2apic,
        |gpa| {
            let off = gpa.checked_sub(0x1b000)?;
            assert_eq!(off % 16, 0);
            list.get((off / 16) as usize).copied()
        },
        |i, val| {
            if Some(i) == refuse {
                return false;
            }
            written.push((i, val));
            true
        },
    );
    (r, written)
}

#[test]
fn the_msr_load_list_loads_in_order() {
    let list = [
        MsrEntry {
            index: IA32_SYSENTER_CS,
            reserved: 0,
            value: 0x10,
        },
        MsrEntry {
            index: 0xc000_0103,
            reserved: 0,
            value: 7,
        },
    ];
    let (r, w) = run_list(&list, 512, false, None);
    assert_eq!(r, Ok(()));
    assert_eq!(w, [(0x174, 0x10), (0xc000_0103, 7)]);
}

#[test]
fn the_msr_load_list_fails_at_its_1_based_index() {
    let ok = entry(IA32_SYSENTER_CS);
    // The third entry names FS_BASE: qualification 3, two loaded.
    let (r, w) = run_list(&[ok, ok, entry(IA32_FS_BASE), ok], 512, false, None);
    assert_eq!(r, Err(3));
    assert_eq!(w.len(), 2);
    // The first has a reserved bit: qualification 1.
    let mut bad = ok;
    bad.reserved = 0x8000_0000;
    assert_eq!(run_list(&[bad], 512, false, None).0, Err(1));
    // An x2APIC MSR under x2APIC mode.
    assert_eq!(
        run_list(&[ok, entry(X2APIC_TPR)], 512, true, None).0,
        Err(2)
    );
    // The write refuses.
    assert_eq!(
        run_list(&[ok, ok, entry(0x277)], 512, false, Some(0x277)).0,
        Err(3)
    );
    // Entry 2 unreadable: the list claims 3, memory has 1.
    let mut written = 0;
    let r = load_msr_list(
        0x1b000,
        3,
        512,
        false,
        |gpa| (gpa == 0x1b000).then_some(ok),
        |_, _| {
            written += 1;
            true
        },
    );
    assert_eq!((r, written), (Err(2), 1));
}

#[test]
fn the_msr_load_list_fails_past_the_misc_limit_after_loading() {
    // MISC bits 27:25 = 0 in KVM's default: 512 entries (A.6).
    assert_eq!(caps().max_msr_list(), 512);
    let list = [entry(IA32_SYSENTER_CS); 513];
    let (r, w) = run_list(&list, 512, false, None);
    assert_eq!(r, Err(513));
    assert_eq!(w.len(), 512);
    assert_eq!(run_list(&list[..512], 512, false, None).0, Ok(()));
}

#[test]
fn vm_entry_reports_msr_load_failure_as_exit_34() {
    let (c, e) = (caps(), env());
    let v = valid();
    // The second entry of the valid vmcs12's list is refused by the
    // write: exit reason 34 with bit 31, qualification 2.
    let got = checks::vm_entry(&v, &c, &model(), &e, link_hdr, msr_list, |i, _| {
        i != 0xc000_0103
    });
    assert_eq!(
        got,
        EntryVerdict::EntryFail {
            reason: 0x8000_0022,
            qual: 2
        }
    );
    assert_eq!(Check::MsrLoad(2).verdict(), got);
    // The list is not touched if a check fails first.
    let mut v = valid();
    v.set_field(enc::GUEST_CR3, 1 << 48);
    let got = checks::vm_entry(
        &v,
        &c,
        &model(),
        &e,
        link_hdr,
        |_| -> Option<MsrEntry> { panic!("read the MSR list") },
        |_, _| -> bool { panic!("wrote an MSR") },
    );
    assert_eq!(got, GUEST_STATE_VERDICT);
    // The list is read where vmcs12 says, 16 bytes an entry.
    let v = valid();
    let mut seen = Vec::new();
    let got = checks::vm_entry(
        &v,
        &c,
        &model(),
        &e,
        link_hdr,
        |gpa| {
            seen.push(gpa);
            msr_list(gpa)
        },
        |_, _| true,
    );
    assert_eq!(got, EntryVerdict::Enter);
    assert_eq!(seen, [0x1b000, 0x1b010]);
}

const GUEST_STATE_VERDICT: EntryVerdict = EntryVerdict::EntryFail {
    reason: 0x8000_0021,
    qual: 0,
};

// --- Helpers of the environment ----------------------------------------

#[test]
fn environment_helpers_are_kvms() {
    // intel_pmu_refresh(): one enable bit per GP counter from bit 0, per
    // fixed counter from bit 32 (KVM_FIXED_PMC_BASE_IDX).
    assert_eq!(perf_global_ctrl_rsvd(8, 3), 0xffff_fff8_ffff_ff00);
    assert_eq!(perf_global_ctrl_rsvd(0, 0), u64::MAX);
    // vmx_is_valid_debugctl(): BTF and LBR dropped, FREEZE_IN_SMM under
    // the quirk.
    assert_eq!(debugctl::accepted(0, true), 0x4003);
    assert_eq!(debugctl::accepted(0, false), 0x3);
    // Bus lock (2), LBR and freeze LBRs on PMI (0, 11), RTM (15).
    assert_eq!(debugctl::accepted(0x8805, false), 0x8807);
}

#[test]
fn pat_memory_types() {
    // Types 0, 1, 4, 5, 6, 7 (SDM vol. 3A table 13-10).
    for t in [0u64, 1, 4, 5, 6, 7] {
        assert!(checks::pat_valid(t << 56), "{t}");
    }
    for t in [2u64, 3, 8, 0x10, 0x80] {
        assert!(!checks::pat_valid(t << 8), "{t}");
    }
}
