// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/vmx/capabilities.rs`, the VMX capability MSRs.
//! Every expected value is written out by hand from the Intel SDM vol. 3D
//! appendix A and from KVM 6.12, never taken from the code under test:
//!
//! * MSR indices: arch/x86/include/asm/msr-index.h (480h-491h).
//! * Control bits: arch/x86/include/asm/vmx.h, whose VMCS_CONTROL_BIT()s
//!   are the bit numbers of arch/x86/include/asm/vmxfeatures.h; SDM vol.
//!   3C 25.6-25.8 name the same bits.
//! * Defaults: arch/x86/kvm/vmx/nested.c nested_vmx_setup_ctls_msrs() and
//!   its helpers, on a host with every optional control and KVM's module
//!   parameters at their defaults; the derivation of each is in the test.
//! * CR4_FIXED1: arch/x86/kvm/vmx/vmx.c nested_vmx_cr_fixed1_bits_update();
//!   CPUID bits from arch/x86/include/asm/cpufeatures.h.
//! * Restore rules: vmx_set_vmx_msr() and vmx_restore_*() in nested.c.
//! * Checks: fixed_bits_valid() and nested_guest_cr0_valid() in nested.h,
//!   vmx_control_verify() and nested_vmx_check_eptp() in nested.c.

use crate::nested::cpu::CpuModel;
use crate::nested::vmx::capabilities::{
    self as caps, control_ok, cr4_fixed1, fixed_bits_valid, CapError, Ctl, VmxCaps,
};
use crate::nested_cpu_tests::{ent, full_cpuid, host_all};

// MSR indices (msr-index.h).
const BASIC: u32 = 0x480;
const PINBASED: u32 = 0x481;
const PROCBASED: u32 = 0x482;
const EXIT: u32 = 0x483;
const ENTRY: u32 = 0x484;
const MISC: u32 = 0x485;
const CR0_FIXED0: u32 = 0x486;
const CR0_FIXED1: u32 = 0x487;
const CR4_FIXED0: u32 = 0x488;
const CR4_FIXED1: u32 = 0x489;
const VMCS_ENUM: u32 = 0x48a;
const PROCBASED2: u32 = 0x48b;
const EPT_VPID: u32 = 0x48c;
const TRUE_PINBASED: u32 = 0x48d;
const TRUE_PROCBASED: u32 = 0x48e;
const TRUE_EXIT: u32 = 0x48f;
const TRUE_ENTRY: u32 = 0x490;
const VMFUNC: u32 = 0x491;

// ---------------------------------------------------------------------
// KVM's defaults, by hand.
//
// VMX_BASIC, nested_vmx_setup_basic(): VMCS12_REVISION 0x11e57ed0 (bits
// 30:0) | VMCS12_SIZE 0x1000 << 32 = 0x0000_1000_0000_0000 | X86_MEMTYPE_WB
// 6 << 50 = 0x0018_0000_0000_0000 | INOUT bit 54 = 0x0040_0000_0000_0000 |
// TRUE_CTLS bit 55 = 0x0080_0000_0000_0000.
const KVM_BASIC: u64 = 0x00d8_1000_11e5_7ed0;
//
// Pin-based, nested_vmx_setup_pinbased_ctls(): low =
// PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR 0x16; high = EXT_INTR bit 0 | NMI
// bit 3 | VNMI bit 5 | POSTED bit 7 (apicv) = 0xa9, | 0x16 | PREEMPTION
// TIMER bit 6 0x40 = 0xff.  The non-TRUE MSR ORs 0x16 into the low word:
// no change.
const KVM_TRUE_PIN: u64 = 0x0000_00ff_0000_0016;
const KVM_PIN: u64 = 0x0000_00ff_0000_0016;
//
// Primary processor-based, nested_vmx_setup_cpubased_ctls(): low =
// CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR 0x0401e172 without CR3_LOAD bit 15
// and CR3_STORE bit 16 (0x18000) = 0x04006172; high = INTR_WINDOW 2,
// TSC_OFFSET 3, HLT 7, INVLPG 9, MWAIT 10, RDPMC 11, RDTSC 12, CR3 15, 16,
// CR8 19, 20, TPR_SHADOW 21, NMI_WINDOW 22, MOV_DR 23, UNCOND_IO 24,
// IO_BITMAPS 25, MTF 27, MONITOR 29, PAUSE 30, SECONDARY 31, with
// 0x0401e172 (1, 4-6, 8, 13-16, 26) and MSR_BITMAPS 28: bits 1-16 and
// 19-31 = 0x0001fffe | 0xfff80000.  Non-TRUE: low | 0x0401e172.
const KVM_TRUE_PROC: u64 = 0xfff9_fffe_0400_6172;
const KVM_PROC: u64 = 0xfff9_fffe_0401_e172;
//
// Secondary, nested_vmx_setup_secondary_ctls(): low 0; high = VAPIC 0,
// EPT 1, DESC 2, RDTSCP 3, X2APIC 4, VPID 5, WBINVD 6, UNRESTRICTED 7,
// APIC_REG 8, VID 9 (0x3ff), RDRAND 11, INVPCID 12, VMFUNC 13, SHADOW 14,
// ENCLS 15, RDSEED 16, PML 17 (0x3f800), XSAVES 20 (0x100000),
// TSC_SCALING 25, USR_WAIT_PAUSE 26 (0x6000000); not PLE 10.
const KVM_PROC2: u64 = 0x0613_fbff_0000_0000;
//
// Exit, nested_vmx_setup_exit_ctls(): low =
// VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR 0x36dff without SAVE_DEBUG bit 2 =
// 0x36dfb; high = 0x36dff | HOST_ADDR_SPACE 0x200 | PERF_GLOBAL 0x1000 |
// ACK_INTR 0x8000 | SAVE_PAT 0x40000 | LOAD_PAT 0x80000 | SAVE_EFER
// 0x100000 | LOAD_EFER 0x200000 | SAVE_TIMER 0x400000 | CLEAR_BNDCFGS
// 0x800000 = bits 0-23.  Non-TRUE: low | 0x36dff.
const KVM_TRUE_EXIT: u64 = 0x00ff_ffff_0003_6dfb;
const KVM_EXIT: u64 = 0x00ff_ffff_0003_6dff;
//
// Entry, nested_vmx_setup_entry_ctls(): low =
// VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR 0x11ff without LOAD_DEBUG bit 2 =
// 0x11fb; high = 0x11ff | IA32E 0x200 | PERF_GLOBAL 0x2000 | LOAD_PAT
// 0x4000 | LOAD_EFER 0x8000 | BNDCFGS 0x10000 = 0x1f3ff (not SMM 10,
// DEACT_DUAL_MONITOR 11).  Non-TRUE: low | 0x11ff.
const KVM_TRUE_ENTRY: u64 = 0x0001_f3ff_0000_11fb;
const KVM_ENTRY: u64 = 0x0001_f3ff_0000_11ff;
//
// MISC, nested_vmx_setup_misc_data(): SAVE_EFER_LMA 0x20 | VMWRITE_SHADOW_RO
// 0x20000000 | rate 5 | HLT 0x40 | WAIT_SIPI 0x100; high 0.
const KVM_MISC: u64 = 0x2000_0165;
//
// nested_vmx_setup_cr_fixed(): VMXON_CR0_ALWAYSON PE 0x1 | NE 0x20 | PG
// 0x80000000; VMXON_CR4_ALWAYSON VMXE 0x2000.  nested_vmx_cr_fixed1_bits_
// update(): CR0_FIXED1 0xffffffff.
const KVM_CR0_FIXED0: u64 = 0x8000_0021;
const KVM_CR0_FIXED1: u64 = 0xffff_ffff;
const KVM_CR4_FIXED0: u64 = 0x2000;
//
// VMCS_ENUM, nested_vmx_calc_vmcs_enum_msr(): the vmcs12 field with the
// highest index (encoding bits 9:1) is TSC_MULTIPLIER, 0x2032: index
// 0x19, reported << 1.
const KVM_VMCS_ENUM: u64 = 0x32;
//
// EPT_VPID_CAP: ept_caps = EXECUTE_ONLY 0 | WALK_4 6 | WALK_5 7 | WB 14
// (0x40c1) | 2M 16 | 1G 17 (0x30000) | INVEPT 20 | AD 21 (0x300000) |
// CONTEXT 25 | GLOBAL 26 (0x6000000); vpid_caps = INVVPID 0 | types 8-11.
const KVM_EPT_VPID: u64 = 0x0000_0f01_0633_40c1;
//
// VMFUNC: EPTP switching, bit 0.
const KVM_VMFUNC: u64 = 1;

/// A typical hardware CR4_FIXED1 (bits 0-10, 13, 14, 16-18, 20, 21): PAE
/// and VMXE allowed, LA57 not.
const CR4_FIXED1_VALUE: u64 = 0x0037_67ff;

fn kvm() -> VmxCaps {
    VmxCaps::kvm_default(CR4_FIXED1_VALUE)
}

fn cpu() -> CpuModel {
    CpuModel::new(&full_cpuid(), host_all()).unwrap()
}

// === Constants ========================================================

#[test]
fn msr_indices_match_msr_index_h() {
    use caps::msr;
    let all = [
        (msr::BASIC, BASIC),
        (msr::PINBASED_CTLS, PINBASED),
        (msr::PROCBASED_CTLS, PROCBASED),
        (msr::EXIT_CTLS, EXIT),
        (msr::ENTRY_CTLS, ENTRY),
        (msr::MISC, MISC),
        (msr::CR0_FIXED0, CR0_FIXED0),
        (msr::CR0_FIXED1, CR0_FIXED1),
        (msr::CR4_FIXED0, CR4_FIXED0),
        (msr::CR4_FIXED1, CR4_FIXED1),
        (msr::VMCS_ENUM, VMCS_ENUM),
        (msr::PROCBASED_CTLS2, PROCBASED2),
        (msr::EPT_VPID_CAP, EPT_VPID),
        (msr::TRUE_PINBASED_CTLS, TRUE_PINBASED),
        (msr::TRUE_PROCBASED_CTLS, TRUE_PROCBASED),
        (msr::TRUE_EXIT_CTLS, TRUE_EXIT),
        (msr::TRUE_ENTRY_CTLS, TRUE_ENTRY),
        (msr::VMFUNC, VMFUNC),
    ];
    for (got, want) in all {
        assert_eq!(got, want);
    }
    assert_eq!(Ctl::Pin.index(), 0x48d);
    assert_eq!(Ctl::Proc.index(), 0x48e);
    assert_eq!(Ctl::Proc2.index(), 0x48b);
    assert_eq!(Ctl::Exit.index(), 0x48f);
    assert_eq!(Ctl::Entry.index(), 0x490);
}

#[test]
fn control_bits_match_vmx_h() {
    use caps::{entry, exit, pin, proc, proc2};
    assert_eq!(pin::EXT_INTR, 0x01);
    assert_eq!(pin::NMI_EXITING, 0x08);
    assert_eq!(pin::VIRTUAL_NMIS, 0x20);
    assert_eq!(pin::PREEMPTION_TIMER, 0x40);
    assert_eq!(pin::POSTED_INTR, 0x80);
    assert_eq!(pin::DEFAULT1, 0x16);

    assert_eq!(proc::INTR_WINDOW, 0x0000_0004);
    assert_eq!(proc::TSC_OFFSETTING, 0x0000_0008);
    assert_eq!(proc::HLT, 0x0000_0080);
    assert_eq!(proc::INVLPG, 0x0000_0200);
    assert_eq!(proc::MWAIT, 0x0000_0400);
    assert_eq!(proc::RDPMC, 0x0000_0800);
    assert_eq!(proc::RDTSC, 0x0000_1000);
    assert_eq!(proc::CR3_LOAD, 0x0000_8000);
    assert_eq!(proc::CR3_STORE, 0x0001_0000);
    assert_eq!(proc::TERTIARY, 0x0002_0000);
    assert_eq!(proc::CR8_LOAD, 0x0008_0000);
    assert_eq!(proc::CR8_STORE, 0x0010_0000);
    assert_eq!(proc::TPR_SHADOW, 0x0020_0000);
    assert_eq!(proc::NMI_WINDOW, 0x0040_0000);
    assert_eq!(proc::MOV_DR, 0x0080_0000);
    assert_eq!(proc::UNCOND_IO, 0x0100_0000);
    assert_eq!(proc::IO_BITMAPS, 0x0200_0000);
    assert_eq!(proc::MTF, 0x0800_0000);
    assert_eq!(proc::MSR_BITMAPS, 0x1000_0000);
    assert_eq!(proc::MONITOR, 0x2000_0000);
    assert_eq!(proc::PAUSE, 0x4000_0000);
    assert_eq!(proc::SECONDARY, 0x8000_0000);
    assert_eq!(proc::DEFAULT1, 0x0401_e172);

    assert_eq!(proc2::VIRT_APIC_ACCESSES, 0x0000_0001);
    assert_eq!(proc2::EPT, 0x0000_0002);
    assert_eq!(proc2::DESC, 0x0000_0004);
    assert_eq!(proc2::RDTSCP, 0x0000_0008);
    assert_eq!(proc2::VIRT_X2APIC, 0x0000_0010);
    assert_eq!(proc2::VPID, 0x0000_0020);
    assert_eq!(proc2::WBINVD, 0x0000_0040);
    assert_eq!(proc2::UNRESTRICTED_GUEST, 0x0000_0080);
    assert_eq!(proc2::APIC_REGISTER_VIRT, 0x0000_0100);
    assert_eq!(proc2::VIRT_INTR_DELIVERY, 0x0000_0200);
    assert_eq!(proc2::PAUSE_LOOP, 0x0000_0400);
    assert_eq!(proc2::RDRAND, 0x0000_0800);
    assert_eq!(proc2::INVPCID, 0x0000_1000);
    assert_eq!(proc2::VMFUNC, 0x0000_2000);
    assert_eq!(proc2::SHADOW_VMCS, 0x0000_4000);
    assert_eq!(proc2::ENCLS, 0x0000_8000);
    assert_eq!(proc2::RDSEED, 0x0001_0000);
    assert_eq!(proc2::PML, 0x0002_0000);
    assert_eq!(proc2::EPT_VIOLATION_VE, 0x0004_0000);
    assert_eq!(proc2::PT_CONCEAL_VMX, 0x0008_0000);
    assert_eq!(proc2::XSAVES, 0x0010_0000);
    assert_eq!(proc2::MODE_BASED_EPT_EXEC, 0x0040_0000);
    assert_eq!(proc2::PT_USE_GPA, 0x0100_0000);
    assert_eq!(proc2::TSC_SCALING, 0x0200_0000);
    assert_eq!(proc2::USR_WAIT_PAUSE, 0x0400_0000);
    assert_eq!(proc2::BUS_LOCK, 0x4000_0000);
    assert_eq!(proc2::NOTIFY, 0x8000_0000);

    assert_eq!(exit::SAVE_DEBUG_CONTROLS, 0x0000_0004);
    assert_eq!(exit::HOST_ADDR_SPACE_SIZE, 0x0000_0200);
    assert_eq!(exit::LOAD_PERF_GLOBAL_CTRL, 0x0000_1000);
    assert_eq!(exit::ACK_INTR_ON_EXIT, 0x0000_8000);
    assert_eq!(exit::SAVE_PAT, 0x0004_0000);
    assert_eq!(exit::LOAD_PAT, 0x0008_0000);
    assert_eq!(exit::SAVE_EFER, 0x0010_0000);
    assert_eq!(exit::LOAD_EFER, 0x0020_0000);
    assert_eq!(exit::SAVE_PREEMPTION_TIMER, 0x0040_0000);
    assert_eq!(exit::CLEAR_BNDCFGS, 0x0080_0000);
    assert_eq!(exit::PT_CONCEAL_PIP, 0x0100_0000);
    assert_eq!(exit::CLEAR_RTIT_CTL, 0x0200_0000);
    assert_eq!(exit::DEFAULT1, 0x0003_6dff);

    assert_eq!(entry::LOAD_DEBUG_CONTROLS, 0x0000_0004);
    assert_eq!(entry::IA32E_MODE, 0x0000_0200);
    assert_eq!(entry::SMM, 0x0000_0400);
    assert_eq!(entry::DEACT_DUAL_MONITOR, 0x0000_0800);
    assert_eq!(entry::LOAD_PERF_GLOBAL_CTRL, 0x0000_2000);
    assert_eq!(entry::LOAD_PAT, 0x0000_4000);
    assert_eq!(entry::LOAD_EFER, 0x0000_8000);
    assert_eq!(entry::LOAD_BNDCFGS, 0x0001_0000);
    assert_eq!(entry::PT_CONCEAL_PIP, 0x0002_0000);
    assert_eq!(entry::LOAD_RTIT_CTL, 0x0004_0000);
    assert_eq!(entry::DEFAULT1, 0x0000_11ff);
}

#[test]
fn capability_bits_match_vmx_h() {
    use caps::{basic, ept, eptp, misc, vpid};
    assert_eq!(basic::REVISION, 0x7fff_ffff);
    assert_eq!(basic::SIZE, 0x0000_1fff_0000_0000);
    assert_eq!(basic::PHYS_ADDR_32, 0x0001_0000_0000_0000);
    assert_eq!(basic::DUAL_MONITOR, 0x0002_0000_0000_0000);
    assert_eq!(basic::MEMTYPE, 0x003c_0000_0000_0000);
    assert_eq!(basic::INOUT, 0x0040_0000_0000_0000);
    assert_eq!(basic::TRUE_CTLS, 0x0080_0000_0000_0000);
    // GENMASK_ULL(63, 56) | GENMASK_ULL(47, 45) | BIT_ULL(31).
    assert_eq!(basic::RESERVED, 0xff00_e000_8000_0000);

    assert_eq!(misc::SAVE_EFER_LMA, 0x20);
    assert_eq!(misc::ACTIVITY_HLT, 0x40);
    assert_eq!(misc::ACTIVITY_SHUTDOWN, 0x80);
    assert_eq!(misc::ACTIVITY_WAIT_SIPI, 0x100);
    assert_eq!(misc::INTEL_PT, 0x4000);
    assert_eq!(misc::RDMSR_IN_SMM, 0x8000);
    assert_eq!(misc::CR3_TARGETS, 0x01ff_0000);
    assert_eq!(misc::MAX_MSR, 0x0e00_0000);
    assert_eq!(misc::VMXOFF_BLOCK_SMI, 0x1000_0000);
    assert_eq!(misc::VMWRITE_ANY_FIELD, 0x2000_0000);
    assert_eq!(misc::ZERO_LEN_INS, 0x4000_0000);
    // BIT_ULL(31) | GENMASK_ULL(13, 9).
    assert_eq!(misc::RESERVED, 0x8000_3e00);

    assert_eq!(ept::EXECUTE_ONLY, 1 << 0);
    assert_eq!(ept::PAGE_WALK_4, 1 << 6);
    assert_eq!(ept::PAGE_WALK_5, 1 << 7);
    assert_eq!(ept::UC, 1 << 8);
    assert_eq!(ept::WB, 1 << 14);
    assert_eq!(ept::PAGE_2M, 1 << 16);
    assert_eq!(ept::PAGE_1G, 1 << 17);
    assert_eq!(ept::INVEPT, 1 << 20);
    assert_eq!(ept::AD, 1 << 21);
    assert_eq!(ept::EXTENT_CONTEXT, 1 << 25);
    assert_eq!(ept::EXTENT_GLOBAL, 1 << 26);
    assert_eq!(vpid::INVVPID, 1 << 0);
    assert_eq!(vpid::EXTENT_INDIVIDUAL_ADDR, 1 << 8);
    assert_eq!(vpid::EXTENT_SINGLE_CONTEXT, 1 << 9);
    assert_eq!(vpid::EXTENT_ALL_CONTEXT, 1 << 10);
    assert_eq!(vpid::EXTENT_SINGLE_NON_GLOBAL, 1 << 11);

    // VMX_EPTP_MT_MASK, _PWL_MASK, _PWL_4, _PWL_5, _AD_ENABLE_BIT.
    assert_eq!(eptp::MT, 0x7);
    assert_eq!(eptp::MT_WB, 6);
    assert_eq!(eptp::PWL, 0x38);
    assert_eq!(eptp::PWL_4, 0x18);
    assert_eq!(eptp::PWL_5, 0x20);
    assert_eq!(eptp::AD, 0x40);
}

// === kvm_default() ====================================================

#[test]
fn kvm_default_matches_nested_vmx_setup_ctls_msrs() {
    let c = kvm();
    let want = [
        (BASIC, KVM_BASIC),
        (PINBASED, KVM_PIN),
        (PROCBASED, KVM_PROC),
        (EXIT, KVM_EXIT),
        (ENTRY, KVM_ENTRY),
        (MISC, KVM_MISC),
        (CR0_FIXED0, KVM_CR0_FIXED0),
        (CR0_FIXED1, KVM_CR0_FIXED1),
        (CR4_FIXED0, KVM_CR4_FIXED0),
        (CR4_FIXED1, CR4_FIXED1_VALUE),
        (VMCS_ENUM, KVM_VMCS_ENUM),
        (PROCBASED2, KVM_PROC2),
        (EPT_VPID, KVM_EPT_VPID),
        (TRUE_PINBASED, KVM_TRUE_PIN),
        (TRUE_PROCBASED, KVM_TRUE_PROC),
        (TRUE_EXIT, KVM_TRUE_EXIT),
        (TRUE_ENTRY, KVM_TRUE_ENTRY),
        (VMFUNC, KVM_VMFUNC),
    ];
    for (index, value) in want {
        assert_eq!(c.get(index), Some(value), "MSR {index:#x}");
    }
}

#[test]
fn get_knows_only_the_emulated_range() {
    let c = kvm();
    // KVM_FIRST_EMULATED_VMX_MSR .. KVM_LAST_EMULATED_VMX_MSR.
    assert_eq!(c.get(0x47f), None);
    // PROCBASED_CTLS3, which KVM does not emulate for L1.
    assert_eq!(c.get(0x492), None);
    assert_eq!(c.get(0x3a), None);
}

#[test]
fn kvm_default_fields() {
    let c = kvm();
    assert_eq!(c.revision(), 0x11e5_7ed0);
    assert_eq!(c.vmcs_size(), 4096);
    assert!(c.true_ctls());
    assert!(c.inout());
    // Entry checks use the TRUE_ forms.
    assert_eq!(c.ctl(Ctl::Pin), KVM_TRUE_PIN);
    assert_eq!(c.ctl(Ctl::Proc), KVM_TRUE_PROC);
    assert_eq!(c.ctl(Ctl::Proc2), KVM_PROC2);
    assert_eq!(c.ctl(Ctl::Exit), KVM_TRUE_EXIT);
    assert_eq!(c.ctl(Ctl::Entry), KVM_TRUE_ENTRY);
    assert_eq!(c.misc(), KVM_MISC);
    assert_eq!(c.timer_rate(), 5);
    assert_eq!(c.cr3_targets(), 0);
    assert_eq!(c.max_msr_list(), 512);
    assert!(c.vmwrite_any_field());
    assert!(!c.zero_len_injection());
    assert_eq!(c.vmcs_max_index(), 0x19);
    assert_eq!(c.ept_caps(), 0x0633_40c1);
    assert_eq!(c.vpid_caps(), 0xf01);
    // INVEPT types 1 and 2 (bits 25, 26); INVVPID types 0-3.
    assert_eq!(c.invept_types(), 0b110);
    assert_eq!(c.invvpid_types(), 0b1111);
    assert_eq!(c.vmfunc(), 1);
}

#[test]
fn kvm_default_queries() {
    let c = kvm();
    // nested_cpu_supports_monitor_trap_flag(), shadow VMCS, EPT, VPID.
    assert!(c.allowed1(Ctl::Proc, 1 << 27));
    assert!(c.allowed1(Ctl::Proc2, 1 << 14));
    assert!(c.allowed1(Ctl::Proc2, (1 << 1) | (1 << 5) | (1 << 7)));
    // Tertiary controls, PAUSE-loop exiting, SMM entry: not offered.
    assert!(!c.allowed1(Ctl::Proc, 1 << 17));
    assert!(!c.allowed1(Ctl::Proc2, 1 << 10));
    assert!(!c.allowed1(Ctl::Entry, 1 << 10));
    assert!(!c.allowed1(Ctl::Proc2, (1 << 1) | (1 << 10)));
    // EPT: A/D, 4- and 5-level, WB, no UC.
    assert!(c.ept_has((1 << 21) | (1 << 6) | (1 << 7) | (1 << 14)));
    assert!(!c.ept_has(1 << 8));
    assert!(c.vpid_has(1));
}

#[test]
fn activity_states_from_misc() {
    let mut c = kvm();
    // MISC bits 6 (HLT) and 8 (wait-for-SIPI), not 7 (shutdown).
    assert!(c.activity_supported(0));
    assert!(c.activity_supported(1));
    assert!(!c.activity_supported(2));
    assert!(c.activity_supported(3));
    assert!(!c.activity_supported(4));
    // Without HLT: 0x2000_0165 - 0x40.
    c.set(MISC, 0x2000_0125).unwrap();
    assert!(!c.activity_supported(1));
    assert!(c.activity_supported(3));
}

#[test]
fn misc_fields_by_sdm_a6() {
    use caps::misc;
    // 4 CR3 targets (bits 24:16), N = 3 (bits 27:25), rate 5.
    let v = (4 << 16) | (3 << 25) | 5;
    assert_eq!(misc::cr3_targets(v), 4);
    assert_eq!(misc::max_msr_list(v), 2048);
    assert_eq!(misc::timer_rate(v), 5);
    // 256 targets: bit 24 alone.
    assert_eq!(misc::cr3_targets(1 << 24), 256);
    // N = 7: 4096.
    assert_eq!(misc::max_msr_list(7 << 25), 4096);
    assert_eq!(misc::max_msr_list(0), 512);
}

// === CR4_FIXED1 from CPUID ============================================

#[test]
fn cr4_fixed1_of_no_cpuid_is_pce() {
    // Only X86_CR4_PCE, bit 8.
    assert_eq!(cr4_fixed1(&[]), 0x100);
}

#[test]
fn cr4_fixed1_of_full_cpuid() {
    // full_cpuid(): 1:ECX XSAVE 26 -> OSXSAVE 18, VMX 5 -> VMXE 13, PCID
    // 17 -> PCIDE 17; (7,0):EBX FSGSBASE 0 -> 16, SMEP 7 -> 20, SMAP 20 ->
    // 21; (7,0):ECX UMIP 2 -> 11, PKU 3 -> PKE 22, LA57 16 -> 12; (7,1):EAX
    // LAM 26 -> LAM_SUP 28; and PCE 8.  0x3900 | 0x70000 | 0x700000 |
    // 0x10000000.
    assert_eq!(cr4_fixed1(&full_cpuid()), 0x1077_3900);
}

#[test]
fn cr4_fixed1_of_leaf_1() {
    // A Skylake's leaf 1: EDX 0xbfebfbff has VME 1, DE 2, PSE 3, TSC 4,
    // PAE 6, MCE 7, PGE 13, FXSR 24, SSE 25 -> CR4 bits 0-10 (PVI with
    // VME, PCE always) = 0x7ff; ECX 0x7ffafbff has VMX 5, SMX 6, PCID 17,
    // XSAVE 26 -> VMXE 13, SMXE 14, PCIDE 17, OSXSAVE 18 = 0x66000.
    let leaf = [ent(1, 0, 0, 0, 0x7ffa_fbff, 0xbfeb_fbff)];
    assert_eq!(cr4_fixed1(&leaf), 0x0006_67ff);
}

#[test]
fn cr4_fixed1_reads_leaf_7_by_subleaf() {
    // Every bit in subleaf 1's EBX/ECX and subleaf 0's EAX: none counts.
    let leaves = [
        ent(7, 1, 0, u32::MAX, u32::MAX, 0),
        ent(7, 0, u32::MAX, 0, 0, 0),
    ];
    assert_eq!(cr4_fixed1(&leaves), 0x100);
    // LAM from (7,1):EAX bit 26 alone: LAM_SUP, bit 28.
    let lam = [ent(7, 1, 1 << 26, 0, 0, 0)];
    assert_eq!(cr4_fixed1(&lam), 0x1000_0100);
}

// === control_ok / fixed_bits_valid ====================================

#[test]
fn control_ok_truth_table() {
    // Per bit (allowed-0, allowed-1): bit 0 (0, 0) must be 0; bit 1 (0, 1)
    // free; bit 2 (1, 1) must be 1; bit 3 (1, 0), which no CPU reports,
    // passes only when set under KVM's ((v & high) | low) == v.
    let msr = 0x0000_0006_0000_000c;
    let ok = [
        false, false, false, false, // 0-3: bits 2, 3 clear
        false, false, false, false, // 4-7: bit 3 clear
        false, false, false, false, // 8-11: bit 2 clear
        true, false, true, false, // 12-15: ok iff bit 0 clear
    ];
    for (v, want) in ok.iter().enumerate() {
        assert_eq!(control_ok(v as u32, msr), *want, "value {v:#x}");
    }
    // A bit outside both halves.
    assert!(!control_ok(0x1c, msr));
    // Everything allowed, nothing required.
    assert!(control_ok(u32::MAX, 0xffff_ffff_0000_0000));
    assert!(control_ok(0, 0xffff_ffff_0000_0000));
    // Nothing allowed.
    assert!(control_ok(0, 0));
    assert!(!control_ok(1, 0));
}

#[test]
fn fixed_bits_valid_is_kvms_expression() {
    // fixed0 0b0100, fixed1 0b0110.
    assert!(fixed_bits_valid(0b0100, 0b0100, 0b0110));
    assert!(fixed_bits_valid(0b0110, 0b0100, 0b0110));
    assert!(!fixed_bits_valid(0b0010, 0b0100, 0b0110));
    assert!(!fixed_bits_valid(0b0101, 0b0100, 0b0110));
    // A bit fixed to 1 but not allowed 1 passes set, fails clear.
    assert!(fixed_bits_valid(0b1000, 0b1000, 0));
    assert!(!fixed_bits_valid(0, 0b1000, 0));
}

#[test]
fn kvm_default_controls() {
    let c = kvm();
    // Pin: the default1 bits 1, 2, 4 are required in the TRUE MSR too.
    assert!(c.ctl_ok(Ctl::Pin, 0x16));
    assert!(c.ctl_ok(Ctl::Pin, 0xff));
    assert!(!c.ctl_ok(Ctl::Pin, 0x00));
    assert!(!c.ctl_ok(Ctl::Pin, 0x116));
    // Proc: CR3-load/store exiting may be 0 (0x04006172), not the
    // other default1 bits; bit 0 and 17 never.
    assert!(c.ctl_ok(Ctl::Proc, 0x0400_6172));
    assert!(c.ctl_ok(Ctl::Proc, 0x0401_e172));
    assert!(!c.ctl_ok(Ctl::Proc, 0x0400_6170));
    assert!(!c.ctl_ok(Ctl::Proc, 0x0400_6173));
    assert!(!c.ctl_ok(Ctl::Proc, 0x0402_6172));
    // Proc2: nothing required; PAUSE-loop exiting (bit 10) not allowed.
    assert!(c.ctl_ok(Ctl::Proc2, 0));
    assert!(c.ctl_ok(Ctl::Proc2, 0x0613_fbff));
    assert!(!c.ctl_ok(Ctl::Proc2, 0x400));
    // Exit: save debug controls free; host address-space size allowed.
    assert!(c.ctl_ok(Ctl::Exit, 0x0003_6dfb));
    assert!(c.ctl_ok(Ctl::Exit, 0x0003_6fff));
    assert!(!c.ctl_ok(Ctl::Exit, 0x0003_6df9));
    assert!(!c.ctl_ok(Ctl::Exit, 0x0103_6dfb));
    // Entry: IA-32e mode allowed, entry to SMM not.
    assert!(c.ctl_ok(Ctl::Entry, 0x0000_13fb));
    assert!(!c.ctl_ok(Ctl::Entry, 0x0000_15fb));
    assert!(!c.ctl_ok(Ctl::Entry, 0x0000_01fb));
}

// === CR0 / CR4 ========================================================

#[test]
fn cr0_fixed_bits() {
    let c = kvm();
    // PE | ET | NE | PG: 0x80000031.
    assert!(c.cr0_valid(0x8000_0031, false));
    // CD and NW are free in VMX operation.
    assert!(c.cr0_valid(0xe000_0031, false));
    // PE clear: only with unrestricted guest.
    assert!(!c.cr0_valid(0x8000_0030, false));
    assert!(c.cr0_valid(0x8000_0030, true));
    // PG clear: likewise.
    assert!(!c.cr0_valid(0x0000_0031, false));
    assert!(c.cr0_valid(0x0000_0031, true));
    // Real mode.
    assert!(c.cr0_valid(0x0000_0030, true));
    // NE clear: never.
    assert!(!c.cr0_valid(0x8000_0011, false));
    assert!(!c.cr0_valid(0x8000_0011, true));
    // Bits 63:32 are outside CR0_FIXED1.
    assert!(!c.cr0_valid(0x1_8000_0031, false));
}

#[test]
fn cr0_unrestricted_needs_the_model_to_offer_it() {
    let mut c = kvm();
    // PROCBASED_CTLS2 without unrestricted guest (bit 7).
    c.set(PROCBASED2, 0x0613_fb7f_0000_0000).unwrap();
    assert!(!c.cr0_valid(0x8000_0030, true));
    assert!(c.cr0_valid(0x8000_0031, true));
}

#[test]
fn cr4_fixed_bits() {
    let c = kvm();
    // VMXE | PAE.
    assert!(c.cr4_valid(0x2020));
    // Every bit CR4_FIXED1 allows.
    assert!(c.cr4_valid(CR4_FIXED1_VALUE));
    // VMXE clear.
    assert!(!c.cr4_valid(0x0020));
    assert!(!c.cr4_valid(0));
    // LA57 (bit 12), not in CR4_FIXED1.
    assert!(!c.cr4_valid(0x3020));
    // A bit of 63:32.
    assert!(!c.cr4_valid(0x1_0000_2020));
}

#[test]
fn more_fixed0_bits_are_checked() {
    let mut c = kvm();
    // CR0_FIXED0 with CD (bit 30) too.
    c.set(CR0_FIXED0, 0xc000_0021).unwrap();
    assert!(!c.cr0_valid(0x8000_0031, false));
    assert!(c.cr0_valid(0xc000_0031, false));
    // CR4_FIXED0 with PAE too.
    c.set(CR4_FIXED0, 0x2020).unwrap();
    assert!(!c.cr4_valid(0x2000));
    assert!(c.cr4_valid(0x2020));
}

// === set() ============================================================

#[test]
fn set_takes_kvms_own_values() {
    let mut c = kvm();
    for (index, value) in [
        (BASIC, KVM_BASIC),
        (TRUE_PINBASED, KVM_TRUE_PIN),
        (TRUE_PROCBASED, KVM_TRUE_PROC),
        (TRUE_EXIT, KVM_TRUE_EXIT),
        (TRUE_ENTRY, KVM_TRUE_ENTRY),
        (PROCBASED2, KVM_PROC2),
        (MISC, KVM_MISC),
        (CR0_FIXED0, KVM_CR0_FIXED0),
        (CR4_FIXED0, KVM_CR4_FIXED0),
        (EPT_VPID, KVM_EPT_VPID),
        (VMCS_ENUM, KVM_VMCS_ENUM),
        (VMFUNC, KVM_VMFUNC),
    ] {
        assert_eq!(c.set(index, value), Ok(()), "MSR {index:#x}");
    }
    assert_eq!(c, kvm());
}

#[test]
fn set_refuses_derived_msrs() {
    let mut c = kvm();
    // "The non-true VMX capability MSRs are generated from the true MSRs".
    assert_eq!(c.set(PINBASED, KVM_PIN), Err(CapError::NotTrue));
    assert_eq!(c.set(PROCBASED, KVM_PROC), Err(CapError::NotTrue));
    assert_eq!(c.set(EXIT, KVM_EXIT), Err(CapError::NotTrue));
    assert_eq!(c.set(ENTRY, KVM_ENTRY), Err(CapError::NotTrue));
    // "These MSRs are generated based on the vCPU's CPUID".
    assert_eq!(c.set(CR0_FIXED1, KVM_CR0_FIXED1), Err(CapError::Fixed1));
    assert_eq!(c.set(CR4_FIXED1, CR4_FIXED1_VALUE), Err(CapError::Fixed1));
    assert_eq!(c.set(0x492, 0), Err(CapError::Unknown(0x492)));
    assert_eq!(c.set(0x3a, 0), Err(CapError::Unknown(0x3a)));
    assert_eq!(c, kvm());
}

#[test]
fn set_control_restricts() {
    let mut c = kvm();
    // Pin without posted interrupts (bit 7): high 0x7f.
    c.set(TRUE_PINBASED, 0x0000_007f_0000_0016).unwrap();
    assert_eq!(c.get(TRUE_PINBASED), Some(0x0000_007f_0000_0016));
    assert_eq!(c.get(PINBASED), Some(0x0000_007f_0000_0016));
    assert!(!c.ctl_ok(Ctl::Pin, 0x96));
    // Proc requiring HLT exiting (bit 7) too.
    c.set(TRUE_PROCBASED, 0xfff9_fffe_0400_61f2).unwrap();
    assert_eq!(c.get(PROCBASED), Some(0xfff9_fffe_0401_e1f2));
    assert!(!c.ctl_ok(Ctl::Proc, 0x0400_6172));
    // Proc2 requiring EPT.
    c.set(PROCBASED2, 0x0613_fbff_0000_0002).unwrap();
    assert!(!c.ctl_ok(Ctl::Proc2, 0));
    // Exit requiring save debug controls again (the non-TRUE value).
    c.set(TRUE_EXIT, KVM_EXIT).unwrap();
    assert_eq!(c.get(TRUE_EXIT), Some(KVM_EXIT));
    // Entry without BNDCFGS (bit 16).
    c.set(TRUE_ENTRY, 0x0000_f3ff_0000_11fb).unwrap();
    assert_eq!(c.get(ENTRY), Some(0x0000_f3ff_0000_11ff));
    // Back to KVM's: a restriction can be lifted.
    c.set(TRUE_PINBASED, KVM_TRUE_PIN).unwrap();
    assert_eq!(c.get(TRUE_PINBASED), Some(KVM_TRUE_PIN));
}

#[test]
fn set_control_refuses_widening() {
    let mut c = kvm();
    let before = c;
    // Clearing a must-be-1 bit: pin bit 1, proc bit 26, exit bit 0, entry
    // bit 0.
    assert_eq!(
        c.set(TRUE_PINBASED, 0x0000_00ff_0000_0014),
        Err(CapError::MustBeOne)
    );
    assert_eq!(
        c.set(TRUE_PROCBASED, 0xfff9_fffe_0000_6172),
        Err(CapError::MustBeOne)
    );
    assert_eq!(
        c.set(TRUE_EXIT, 0x00ff_ffff_0003_6dfa),
        Err(CapError::MustBeOne)
    );
    assert_eq!(
        c.set(TRUE_ENTRY, 0x0001_f3ff_0000_11fa),
        Err(CapError::MustBeOne)
    );
    // Allowing a control KVM lacks: pin bit 8, tertiary controls (proc
    // 17), PAUSE-loop exiting (proc2 10), exit bit 24, entry to SMM.
    assert_eq!(
        c.set(TRUE_PINBASED, 0x0000_01ff_0000_0016),
        Err(CapError::Allowed1)
    );
    assert_eq!(
        c.set(TRUE_PROCBASED, 0xfffb_fffe_0400_6172),
        Err(CapError::Allowed1)
    );
    assert_eq!(
        c.set(PROCBASED2, 0x0613_ffff_0000_0000),
        Err(CapError::Allowed1)
    );
    assert_eq!(
        c.set(TRUE_EXIT, 0x01ff_ffff_0003_6dfb),
        Err(CapError::Allowed1)
    );
    assert_eq!(
        c.set(TRUE_ENTRY, 0x0001_f7ff_0000_11fb),
        Err(CapError::Allowed1)
    );
    assert_eq!(c, before);
}

#[test]
fn set_basic() {
    let mut c = kvm();
    let before = c;
    // Reserved: bits 31, 45, 47, 56 (KVM 6.12 does not know 56), 63.
    for bit in [31, 45, 47, 56, 63] {
        assert_eq!(
            c.set(BASIC, KVM_BASIC | 1 << bit),
            Err(CapError::Reserved),
            "bit {bit}"
        );
    }
    // Dual-monitor treatment (bit 49), which KVM lacks.
    assert_eq!(c.set(BASIC, KVM_BASIC | 1 << 49), Err(CapError::Feature));
    // 32-bit physical addresses (bit 48).
    assert_eq!(c.set(BASIC, KVM_BASIC | 1 << 48), Err(CapError::PhysAddr32));
    // Another revision.
    assert_eq!(c.set(BASIC, 0x00d8_1000_11e5_7ed1), Err(CapError::Revision));
    // A smaller VMCS (2048 bytes).
    assert_eq!(c.set(BASIC, 0x00d8_0800_11e5_7ed0), Err(CapError::VmcsSize));
    assert_eq!(c, before);
    // A larger VMCS (8191 bytes) is taken.
    c.set(BASIC, 0x00d8_1fff_11e5_7ed0).unwrap();
    assert_eq!(c.vmcs_size(), 8191);
    // So is another memory type (UC, 0): KVM does not check it.
    c.set(BASIC, 0x00c0_1000_11e5_7ed0).unwrap();
    // Without TRUE_CTLS and INOUT.
    c.set(BASIC, 0x0018_1000_11e5_7ed0).unwrap();
    assert_eq!(c.get(BASIC), Some(0x0018_1000_11e5_7ed0));
    assert!(!c.true_ctls());
    assert!(!c.inout());
    // KVM still checks against the TRUE values it keeps.
    assert_eq!(c.ctl(Ctl::Proc), KVM_TRUE_PROC);
    assert!(c.ctl_ok(Ctl::Proc, 0x0400_6172));
}

#[test]
fn set_misc() {
    let mut c = kvm();
    let before = c;
    // Reserved: bits 9-13, 31.
    for bit in [9, 13, 31] {
        assert_eq!(
            c.set(MISC, KVM_MISC | 1 << bit),
            Err(CapError::Reserved),
            "bit {bit}"
        );
    }
    // Features KVM lacks: shutdown 7, PT 14, SMBASE 15, VMXOFF 28,
    // zero-length injection 30.
    for bit in [7, 14, 15, 28, 30] {
        assert_eq!(
            c.set(MISC, KVM_MISC | 1 << bit),
            Err(CapError::Feature),
            "bit {bit}"
        );
    }
    // Timer rate 6 with the timer offered.
    assert_eq!(c.set(MISC, 0x2000_0166), Err(CapError::TimerRate));
    // One CR3 target.
    assert_eq!(c.set(MISC, 0x2001_0165), Err(CapError::Cr3Targets));
    // N = 1: 1024 MSRs.
    assert_eq!(c.set(MISC, 0x2200_0165), Err(CapError::MaxMsr));
    // MSEG revision 1.
    assert_eq!(c.set(MISC, 0x1_2000_0165), Err(CapError::MsegRevision));
    assert_eq!(c, before);
    // Fewer features: no VMWRITE to exit fields, no EFER.LMA.
    c.set(MISC, 0x0000_0145).unwrap();
    assert!(!c.vmwrite_any_field());
    // Without the timer in TRUE_PINBASED (bit 6), any rate.
    c.set(TRUE_PINBASED, 0x0000_00bf_0000_0016).unwrap();
    c.set(MISC, 0x2000_0160).unwrap();
    assert_eq!(c.timer_rate(), 0);
}

#[test]
fn set_ept_vpid_cap() {
    let mut c = kvm();
    // UC (bit 8) and an unknown VPID bit (32 + 1).
    assert_eq!(
        c.set(EPT_VPID, KVM_EPT_VPID | 1 << 8),
        Err(CapError::EptVpid)
    );
    assert_eq!(
        c.set(EPT_VPID, KVM_EPT_VPID | 1 << 33),
        Err(CapError::EptVpid)
    );
    // Without A/D (bit 21).
    c.set(EPT_VPID, 0x0000_0f01_0613_40c1).unwrap();
    assert!(!c.ept_has(1 << 21));
    // Without VPID at all.
    c.set(EPT_VPID, 0x0613_40c1).unwrap();
    assert_eq!(c.invvpid_types(), 0);
}

#[test]
fn set_fixed0() {
    let mut c = kvm();
    // Freeing NE, PG, or VMXE.
    assert_eq!(c.set(CR0_FIXED0, 0x8000_0001), Err(CapError::Fixed0));
    assert_eq!(c.set(CR0_FIXED0, 0x0000_0021), Err(CapError::Fixed0));
    assert_eq!(c.set(CR4_FIXED0, 0), Err(CapError::Fixed0));
    assert_eq!(c, kvm());
}

#[test]
fn set_vmcs_enum_and_vmfunc() {
    let mut c = kvm();
    // VMCS_ENUM is taken as it is.
    c.set(VMCS_ENUM, 0x2e).unwrap();
    assert_eq!(c.vmcs_max_index(), 0x17);
    c.set(VMCS_ENUM, u64::MAX).unwrap();
    assert_eq!(c.vmcs_max_index(), 0x1ff);
    // VM function 1 is not KVM's.
    assert_eq!(c.set(VMFUNC, 0b11), Err(CapError::Vmfunc));
    c.set(VMFUNC, 0).unwrap();
    assert_eq!(c.vmfunc(), 0);
}

// === EPTP =============================================================

#[test]
fn eptp_checks() {
    let m = cpu();
    let mut c = kvm();
    // PML4 at 1000h, WB (6), walk length 4 (3 << 3).
    assert!(c.eptp_valid(0x101e, &m));
    // With A/D (bit 6).
    assert!(c.eptp_valid(0x105e, &m));
    // Walk length 5 (4 << 3).
    assert!(c.eptp_valid(0x1026, &m));
    // UC (0), which KVM does not offer; type 1 is no type.
    assert!(!c.eptp_valid(0x1018, &m));
    assert!(!c.eptp_valid(0x1019, &m));
    // Walk length 2.
    assert!(!c.eptp_valid(0x100e, &m));
    // Reserved bit 7.
    assert!(!c.eptp_valid(0x109e, &m));
    // Beyond MAXPHYADDR 48.
    assert!(!c.eptp_valid((1 << 48) | 0x101e, &m));
    // A/D once the model has none.
    c.set(EPT_VPID, 0x0000_0f01_0613_40c1).unwrap();
    assert!(!c.eptp_valid(0x105e, &m));
    assert!(c.eptp_valid(0x101e, &m));
}
