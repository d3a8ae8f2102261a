// SPDX-License-Identifier: GPL-2.0

//! The VMX capability MSRs of the nested vCPU, its VMX CPU model (Intel
//! SDM vol. 3D appendix A, "VMX Capability Reporting Facility"): what L1
//! reads with RDMSR 480h-491h, and what VM entry checks VMCS12 against.
//!
//! KVM 6.12 keeps them in `struct nested_vmx_msrs`
//! (arch/x86/kvm/vmx/capabilities.h), builds its defaults in
//! nested_vmx_setup_ctls_msrs() and the per-vCPU FIXED1 values in
//! nested_vmx_cr_fixed1_bits_update() (vmx.c), lets user space restrict
//! them in vmx_set_vmx_msr() and reports them in vmx_get_vmx_msr() (both
//! nested.c).  [`VmxCaps`] does the same, with KVM's rules; the VM-entry
//! checks read it through [`VmxCaps::ctl_ok`], [`VmxCaps::cr0_valid`],
//! [`VmxCaps::cr4_valid`] and the MISC and EPT queries.
//!
//! Pure logic: `core`, vmcs12's revision, size and field table, the
//! CPUID entry of [`crate::uapi`] and the CPU model, so the host crate
//! unit-tests it.

use super::vmcs12;
use crate::{
    nested::cpu::{cr4, CpuModel},
    uapi::guestmap_cpuid_entry,
};

/// The capability MSRs' indices (SDM vol. 4 table 2-2, msr-index.h).
pub(crate) mod msr {
    /// IA32_VMX_BASIC (SDM A.1).
    pub(crate) const BASIC: u32 = 0x480;
    /// IA32_VMX_PINBASED_CTLS (A.3.1).
    pub(crate) const PINBASED_CTLS: u32 = 0x481;
    /// IA32_VMX_PROCBASED_CTLS (A.3.2).
    pub(crate) const PROCBASED_CTLS: u32 = 0x482;
    /// IA32_VMX_EXIT_CTLS (A.4).
    pub(crate) const EXIT_CTLS: u32 = 0x483;
    /// IA32_VMX_ENTRY_CTLS (A.5).
    pub(crate) const ENTRY_CTLS: u32 = 0x484;
    /// IA32_VMX_MISC (A.6).
    pub(crate) const MISC: u32 = 0x485;
    /// IA32_VMX_CR0_FIXED0 (A.7).
    pub(crate) const CR0_FIXED0: u32 = 0x486;
    /// IA32_VMX_CR0_FIXED1 (A.7).
    pub(crate) const CR0_FIXED1: u32 = 0x487;
    /// IA32_VMX_CR4_FIXED0 (A.8).
    pub(crate) const CR4_FIXED0: u32 = 0x488;
    /// IA32_VMX_CR4_FIXED1 (A.8).
    pub(crate) const CR4_FIXED1: u32 = 0x489;
    /// IA32_VMX_VMCS_ENUM (A.9).
    pub(crate) const VMCS_ENUM: u32 = 0x48a;
    /// IA32_VMX_PROCBASED_CTLS2 (A.3.3).
    pub(crate) const PROCBASED_CTLS2: u32 = 0x48b;
    /// IA32_VMX_EPT_VPID_CAP (A.10).
    pub(crate) const EPT_VPID_CAP: u32 = 0x48c;
    /// IA32_VMX_TRUE_PINBASED_CTLS (A.3.1).
    pub(crate) const TRUE_PINBASED_CTLS: u32 = 0x48d;
    /// IA32_VMX_TRUE_PROCBASED_CTLS (A.3.2).
    pub(crate) const TRUE_PROCBASED_CTLS: u32 = 0x48e;
    /// IA32_VMX_TRUE_EXIT_CTLS (A.4).
    pub(crate) const TRUE_EXIT_CTLS: u32 = 0x48f;
    /// IA32_VMX_TRUE_ENTRY_CTLS (A.5).
    pub(crate) const TRUE_ENTRY_CTLS: u32 = 0x490;
    /// IA32_VMX_VMFUNC (A.11).
    pub(crate) const VMFUNC: u32 = 0x491;
}

/// IA32_VMX_BASIC fields (SDM A.1, asm/vmx.h).
pub(crate) mod basic {
    /// Bits 30:0: the VMCS revision identifier.
    pub(crate) const REVISION: u64 = 0x7fff_ffff;
    /// Bits 44:32: bytes of the VMXON region and of a VMCS.
    pub(crate) const SIZE: u64 = 0x1fff << SIZE_SHIFT;
    /// Where [`SIZE`] starts.
    pub(crate) const SIZE_SHIFT: u32 = 32;
    /// Bit 48: VMX structures limited to 32-bit physical addresses.
    pub(crate) const PHYS_ADDR_32: u64 = 1 << 48;
    /// Bit 49: dual-monitor treatment of SMIs and SMM.
    pub(crate) const DUAL_MONITOR: u64 = 1 << 49;
    /// Bits 53:50: the memory type of VMX structures.
    pub(crate) const MEMTYPE: u64 = 0xf << MEMTYPE_SHIFT;
    /// Where [`MEMTYPE`] starts.
    pub(crate) const MEMTYPE_SHIFT: u32 = 50;
    /// Write-back, the only type KVM reports (X86_MEMTYPE_WB).
    pub(crate) const MEMTYPE_WB: u64 = 6;
    /// Bit 54: VM exits report INS/OUTS instruction information.
    pub(crate) const INOUT: u64 = 1 << 54;
    /// Bit 55: the TRUE_ control MSRs exist (A.2).
    pub(crate) const TRUE_CTLS: u64 = 1 << 55;
    /// The bits vmx_restore_vmx_basic() treats as reserved: 63:56 (KVM
    /// 6.12 does not know bit 56, "no error code required"), 47:45, 31.
    pub(crate) const RESERVED: u64 = 0xff00_e000_8000_0000;
}

/// Pin-based VM-execution controls (SDM vol. 3C 25.6.1, table 25-5).
pub(crate) mod pin {
    /// External-interrupt exiting.
    pub(crate) const EXT_INTR: u32 = 1 << 0;
    /// NMI exiting.
    pub(crate) const NMI_EXITING: u32 = 1 << 3;
    /// Virtual NMIs.
    pub(crate) const VIRTUAL_NMIS: u32 = 1 << 5;
    /// Activate VMX-preemption timer.
    pub(crate) const PREEMPTION_TIMER: u32 = 1 << 6;
    /// Process posted interrupts.
    pub(crate) const POSTED_INTR: u32 = 1 << 7;
    /// The default1 controls (bits 1, 2, 4), which the non-TRUE MSR
    /// reports must be 1 (A.2; PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR).
    pub(crate) const DEFAULT1: u32 = 0x0000_0016;
}

/// Primary processor-based VM-execution controls (SDM 25.6.2).
pub(crate) mod proc {
    /// Interrupt-window exiting.
    pub(crate) const INTR_WINDOW: u32 = 1 << 2;
    /// Use TSC offsetting.
    pub(crate) const TSC_OFFSETTING: u32 = 1 << 3;
    /// HLT exiting.
    pub(crate) const HLT: u32 = 1 << 7;
    /// INVLPG exiting.
    pub(crate) const INVLPG: u32 = 1 << 9;
    /// MWAIT exiting.
    pub(crate) const MWAIT: u32 = 1 << 10;
    /// RDPMC exiting.
    pub(crate) const RDPMC: u32 = 1 << 11;
    /// RDTSC exiting.
    pub(crate) const RDTSC: u32 = 1 << 12;
    /// CR3-load exiting.
    pub(crate) const CR3_LOAD: u32 = 1 << 15;
    /// CR3-store exiting.
    pub(crate) const CR3_STORE: u32 = 1 << 16;
    /// Activate tertiary controls.
    pub(crate) const TERTIARY: u32 = 1 << 17;
    /// CR8-load exiting.
    pub(crate) const CR8_LOAD: u32 = 1 << 19;
    /// CR8-store exiting.
    pub(crate) const CR8_STORE: u32 = 1 << 20;
    /// Use TPR shadow.
    pub(crate) const TPR_SHADOW: u32 = 1 << 21;
    /// NMI-window exiting.
    pub(crate) const NMI_WINDOW: u32 = 1 << 22;
    /// MOV-DR exiting.
    pub(crate) const MOV_DR: u32 = 1 << 23;
    /// Unconditional I/O exiting.
    pub(crate) const UNCOND_IO: u32 = 1 << 24;
    /// Use I/O bitmaps.
    pub(crate) const IO_BITMAPS: u32 = 1 << 25;
    /// Monitor trap flag.
    pub(crate) const MTF: u32 = 1 << 27;
    /// Use MSR bitmaps.
    pub(crate) const MSR_BITMAPS: u32 = 1 << 28;
    /// MONITOR exiting.
    pub(crate) const MONITOR: u32 = 1 << 29;
    /// PAUSE exiting.
    pub(crate) const PAUSE: u32 = 1 << 30;
    /// Activate secondary controls.
    pub(crate) const SECONDARY: u32 = 1 << 31;
    /// The default1 controls (bits 1, 4-6, 8, 13-16, 26;
    /// CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR).
    pub(crate) const DEFAULT1: u32 = 0x0401_e172;
}

/// Secondary processor-based VM-execution controls (SDM 25.6.2).
pub(crate) mod proc2 {
    /// Virtualize APIC accesses.
    pub(crate) const VIRT_APIC_ACCESSES: u32 = 1 << 0;
    /// Enable EPT.
    pub(crate) const EPT: u32 = 1 << 1;
    /// Descriptor-table exiting.
    pub(crate) const DESC: u32 = 1 << 2;
    /// Enable RDTSCP.
    pub(crate) const RDTSCP: u32 = 1 << 3;
    /// Virtualize x2APIC mode.
    pub(crate) const VIRT_X2APIC: u32 = 1 << 4;
    /// Enable VPID.
    pub(crate) const VPID: u32 = 1 << 5;
    /// WBINVD exiting.
    pub(crate) const WBINVD: u32 = 1 << 6;
    /// Unrestricted guest.
    pub(crate) const UNRESTRICTED_GUEST: u32 = 1 << 7;
    /// APIC-register virtualization.
    pub(crate) const APIC_REGISTER_VIRT: u32 = 1 << 8;
    /// Virtual-interrupt delivery.
    pub(crate) const VIRT_INTR_DELIVERY: u32 = 1 << 9;
    /// PAUSE-loop exiting.
    pub(crate) const PAUSE_LOOP: u32 = 1 << 10;
    /// RDRAND exiting.
    pub(crate) const RDRAND: u32 = 1 << 11;
    /// Enable INVPCID.
    pub(crate) const INVPCID: u32 = 1 << 12;
    /// Enable VM functions.
    pub(crate) const VMFUNC: u32 = 1 << 13;
    /// VMCS shadowing.
    pub(crate) const SHADOW_VMCS: u32 = 1 << 14;
    /// Enable ENCLS exiting.
    pub(crate) const ENCLS: u32 = 1 << 15;
    /// RDSEED exiting.
    pub(crate) const RDSEED: u32 = 1 << 16;
    /// Enable PML.
    pub(crate) const PML: u32 = 1 << 17;
    /// EPT-violation #VE.
    pub(crate) const EPT_VIOLATION_VE: u32 = 1 << 18;
    /// Conceal VMX from PT.
    pub(crate) const PT_CONCEAL_VMX: u32 = 1 << 19;
    /// Enable XSAVES/XRSTORS.
    pub(crate) const XSAVES: u32 = 1 << 20;
    /// Mode-based execute control for EPT.
    pub(crate) const MODE_BASED_EPT_EXEC: u32 = 1 << 22;
    /// Intel PT uses guest physical addresses.
    pub(crate) const PT_USE_GPA: u32 = 1 << 24;
    /// Use TSC scaling.
    pub(crate) const TSC_SCALING: u32 = 1 << 25;
    /// Enable user wait and pause.
    pub(crate) const USR_WAIT_PAUSE: u32 = 1 << 26;
    /// Bus-lock detection.
    pub(crate) const BUS_LOCK: u32 = 1 << 30;
    /// Instruction timeout (notify VM exits).
    pub(crate) const NOTIFY: u32 = 1 << 31;
}

/// Primary VM-exit controls (SDM 25.7.1).
pub(crate) mod exit {
    /// Save debug controls.
    pub(crate) const SAVE_DEBUG_CONTROLS: u32 = 1 << 2;
    /// Host address-space size (a 64-bit host).
    pub(crate) const HOST_ADDR_SPACE_SIZE: u32 = 1 << 9;
    /// Load IA32_PERF_GLOBAL_CTRL.
    pub(crate) const LOAD_PERF_GLOBAL_CTRL: u32 = 1 << 12;
    /// Acknowledge interrupt on exit.
    pub(crate) const ACK_INTR_ON_EXIT: u32 = 1 << 15;
    /// Save IA32_PAT.
    pub(crate) const SAVE_PAT: u32 = 1 << 18;
    /// Load IA32_PAT.
    pub(crate) const LOAD_PAT: u32 = 1 << 19;
    /// Save IA32_EFER.
    pub(crate) const SAVE_EFER: u32 = 1 << 20;
    /// Load IA32_EFER.
    pub(crate) const LOAD_EFER: u32 = 1 << 21;
    /// Save VMX-preemption timer value.
    pub(crate) const SAVE_PREEMPTION_TIMER: u32 = 1 << 22;
    /// Clear IA32_BNDCFGS.
    pub(crate) const CLEAR_BNDCFGS: u32 = 1 << 23;
    /// Conceal VMX from PT.
    pub(crate) const PT_CONCEAL_PIP: u32 = 1 << 24;
    /// Clear IA32_RTIT_CTL.
    pub(crate) const CLEAR_RTIT_CTL: u32 = 1 << 25;
    /// The default1 controls (bits 0-8, 10, 11, 13, 14, 16, 17;
    /// VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR).
    pub(crate) const DEFAULT1: u32 = 0x0003_6dff;
}

/// VM-entry controls (SDM 25.8.1).
pub(crate) mod entry {
    /// Load debug controls.
    pub(crate) const LOAD_DEBUG_CONTROLS: u32 = 1 << 2;
    /// IA-32e mode guest.
    pub(crate) const IA32E_MODE: u32 = 1 << 9;
    /// Entry to SMM.
    pub(crate) const SMM: u32 = 1 << 10;
    /// Deactivate dual-monitor treatment.
    pub(crate) const DEACT_DUAL_MONITOR: u32 = 1 << 11;
    /// Load IA32_PERF_GLOBAL_CTRL.
    pub(crate) const LOAD_PERF_GLOBAL_CTRL: u32 = 1 << 13;
    /// Load IA32_PAT.
    pub(crate) const LOAD_PAT: u32 = 1 << 14;
    /// Load IA32_EFER.
    pub(crate) const LOAD_EFER: u32 = 1 << 15;
    /// Load IA32_BNDCFGS.
    pub(crate) const LOAD_BNDCFGS: u32 = 1 << 16;
    /// Conceal VMX from PT.
    pub(crate) const PT_CONCEAL_PIP: u32 = 1 << 17;
    /// Load IA32_RTIT_CTL.
    pub(crate) const LOAD_RTIT_CTL: u32 = 1 << 18;
    /// The default1 controls (bits 0-8, 12;
    /// VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR).
    pub(crate) const DEFAULT1: u32 = 0x0000_11ff;
}

/// IA32_VMX_MISC fields (SDM A.6, asm/vmx.h).
pub(crate) mod misc {
    /// Bits 4:0: the preemption timer ticks every 2^rate TSC ticks.
    pub(crate) const TIMER_RATE: u64 = 0x1f;
    /// Bit 5: VM exits store EFER.LMA in the "IA-32e mode guest" control.
    pub(crate) const SAVE_EFER_LMA: u64 = 1 << 5;
    /// Bit 6: activity state HLT.
    pub(crate) const ACTIVITY_HLT: u64 = 1 << 6;
    /// Bit 7: activity state shutdown.
    pub(crate) const ACTIVITY_SHUTDOWN: u64 = 1 << 7;
    /// Bit 8: activity state wait-for-SIPI.
    pub(crate) const ACTIVITY_WAIT_SIPI: u64 = 1 << 8;
    /// Bit 14: Intel PT usable in VMX operation.
    pub(crate) const INTEL_PT: u64 = 1 << 14;
    /// Bit 15: RDMSR of IA32_SMBASE in SMM.
    pub(crate) const RDMSR_IN_SMM: u64 = 1 << 15;
    /// Bits 24:16: the number of CR3-target values.
    pub(crate) const CR3_TARGETS: u64 = 0x1ff << 16;
    /// Bits 27:25: N, MSR lists hold at most 512 * (N + 1) entries.
    pub(crate) const MAX_MSR: u64 = 0x7 << 25;
    /// Bit 28: VMXOFF unblocks SMIs only with dual-monitor treatment.
    pub(crate) const VMXOFF_BLOCK_SMI: u64 = 1 << 28;
    /// Bit 29: VMWRITE may write the VM-exit information fields.
    pub(crate) const VMWRITE_ANY_FIELD: u64 = 1 << 29;
    /// Bit 30: VM entry may inject events with instruction length 0.
    pub(crate) const ZERO_LEN_INS: u64 = 1 << 30;
    /// Bits 63:32: the MSEG revision identifier.
    pub(crate) const MSEG_REVISION: u64 = 0xffff_ffff << 32;
    /// The bits vmx_restore_vmx_misc() treats as reserved: 31, 13:9.
    pub(crate) const RESERVED: u64 = (1 << 31) | (0x1f << 9);
    /// Entries per unit of [`MAX_MSR`] (VMX_MISC_MSR_LIST_MULTIPLIER).
    pub(crate) const MSR_LIST_MULTIPLIER: u32 = 512;

    /// `vmx_misc_preemption_timer_rate()`: bits 4:0 of `misc`.
    pub(crate) fn timer_rate(misc: u64) -> u32 {
        (misc & TIMER_RATE) as u32
    }

    /// `vmx_misc_cr3_count()`: bits 24:16 of `misc`, 0 to 256.
    pub(crate) fn cr3_targets(misc: u64) -> u32 {
        ((misc & CR3_TARGETS) >> 16) as u32
    }

    /// The most entries an MSR list may have: 512 * (N + 1), N bits 27:25
    /// of `misc` (`vmx_misc_max_msr()`).
    pub(crate) fn max_msr_list(misc: u64) -> u32 {
        (((misc & MAX_MSR) >> 25) as u32 + 1) * MSR_LIST_MULTIPLIER
    }
}

/// EPT capabilities: bits 31:0 of IA32_VMX_EPT_VPID_CAP (SDM A.10).
pub(crate) mod ept {
    /// Execute-only EPT translations.
    pub(crate) const EXECUTE_ONLY: u32 = 1 << 0;
    /// A page-walk length of 4.
    pub(crate) const PAGE_WALK_4: u32 = 1 << 6;
    /// A page-walk length of 5.
    pub(crate) const PAGE_WALK_5: u32 = 1 << 7;
    /// The EPT paging structures may be uncacheable.
    pub(crate) const UC: u32 = 1 << 8;
    /// The EPT paging structures may be write-back.
    pub(crate) const WB: u32 = 1 << 14;
    /// 2-Mbyte pages (a PDE may map a page).
    pub(crate) const PAGE_2M: u32 = 1 << 16;
    /// 1-Gbyte pages (a PDPTE may map a page).
    pub(crate) const PAGE_1G: u32 = 1 << 17;
    /// INVEPT.
    pub(crate) const INVEPT: u32 = 1 << 20;
    /// Accessed and dirty flags.
    pub(crate) const AD: u32 = 1 << 21;
    /// Single-context INVEPT (type 1).
    pub(crate) const EXTENT_CONTEXT: u32 = 1 << 25;
    /// All-context INVEPT (type 2).
    pub(crate) const EXTENT_GLOBAL: u32 = 1 << 26;
    /// Where the INVEPT types start: bit 24 + type.
    pub(crate) const EXTENT_SHIFT: u32 = 24;
}

/// VPID capabilities: bits 63:32 of IA32_VMX_EPT_VPID_CAP, shifted down
/// as KVM's `vpid_caps` holds them (SDM A.10).
pub(crate) mod vpid {
    /// INVVPID (bit 32).
    pub(crate) const INVVPID: u32 = 1 << 0;
    /// Individual-address INVVPID, type 0 (bit 40).
    pub(crate) const EXTENT_INDIVIDUAL_ADDR: u32 = 1 << 8;
    /// Single-context INVVPID, type 1 (bit 41).
    pub(crate) const EXTENT_SINGLE_CONTEXT: u32 = 1 << 9;
    /// All-context INVVPID, type 2 (bit 42).
    pub(crate) const EXTENT_ALL_CONTEXT: u32 = 1 << 10;
    /// Single-context-retaining-globals INVVPID, type 3 (bit 43).
    pub(crate) const EXTENT_SINGLE_NON_GLOBAL: u32 = 1 << 11;
    /// The four types (VMX_VPID_EXTENT_SUPPORTED_MASK).
    pub(crate) const EXTENTS: u32 = 0xf00;
}

/// The EPT pointer's fields (SDM 25.6.11), as nested_vmx_check_eptp()
/// reads them.
pub(crate) mod eptp {
    /// Bits 2:0: the memory type of the paging structures.
    pub(crate) const MT: u64 = 0x7;
    /// Uncacheable.
    pub(crate) const MT_UC: u64 = 0;
    /// Write-back.
    pub(crate) const MT_WB: u64 = 6;
    /// Bits 5:3: page-walk length minus 1.
    pub(crate) const PWL: u64 = 0x38;
    /// A page-walk length of 4.
    pub(crate) const PWL_4: u64 = 3 << 3;
    /// A page-walk length of 5.
    pub(crate) const PWL_5: u64 = 4 << 3;
    /// Bit 6: accessed and dirty flags on.
    pub(crate) const AD: u64 = 1 << 6;
    /// Bits 11:7, reserved.
    pub(crate) const RESERVED: u64 = 0x1f << 7;
}

/// VM functions (SDM 25.6.14, A.11).
pub(crate) mod vmfunc {
    /// Function 0, EPTP switching.
    pub(crate) const EPTP_SWITCHING: u64 = 1 << 0;
}

/// Activity states (SDM 25.4.2), the guest-state field MISC bits 8:6
/// enumerate.
pub(crate) mod activity {
    /// Active.
    pub(crate) const ACTIVE: u32 = 0;
    /// HLT.
    pub(crate) const HLT: u32 = 1;
    /// Shutdown.
    pub(crate) const SHUTDOWN: u32 = 2;
    /// Wait-for-SIPI.
    pub(crate) const WAIT_SIPI: u32 = 3;
}

/// CR0.PE.
const CR0_PE: u64 = 1 << 0;
/// CR0.NE.
const CR0_NE: u64 = 1 << 5;
/// CR0.PG.
const CR0_PG: u64 = 1 << 31;
/// CR4.SMXE, which [`cr4`] lacks: nothing else in the model needs it.
const CR4_SMXE: u64 = 1 << 14;

/// The preemption timer rate KVM emulates,
/// VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE.
pub(crate) const KVM_TIMER_RATE: u64 = 5;
/// CR0_FIXED1 once KVM_SET_CPUID2 gave the vCPU VMX:
/// nested_vmx_cr_fixed1_bits_update() sets it to 0xffffffff, every bit
/// of CR0 free but the reserved 63:32.
pub(crate) const KVM_CR0_FIXED1: u64 = 0xffff_ffff;
/// `nested_vmx_calc_vmcs_enum_msr()`: the highest field index (bits 9:1
/// of an encoding) of vmcs12's fields, in bits 9:1.  Every field counts:
/// KVM lets VMREAD and VMWRITE reach all of vmcs12 whatever L1 is
/// offered.  (TSC_MULTIPLIER, encoding 2032h, index 19h, in 6.12.)
const fn kvm_vmcs_enum() -> u64 {
    let mut max = 0;
    let mut i = 0;
    while i < vmcs12::FIELDS.len() {
        let index = (vmcs12::FIELDS[i].enc >> 1) & 0x1ff;
        if index > max {
            max = index;
        }
        i += 1;
    }
    (max as u64) << 1
}

/// A control MSR, as the VM-entry checks name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctl {
    /// Pin-based VM-execution controls.
    Pin,
    /// Primary processor-based VM-execution controls.
    Proc,
    /// Secondary processor-based VM-execution controls.
    Proc2,
    /// VM-exit controls.
    Exit,
    /// VM-entry controls.
    Entry,
}

impl Ctl {
    /// The MSR KVM keeps and checks against: the TRUE_ form, or
    /// PROCBASED_CTLS2, which has none.
    pub(crate) fn index(self) -> u32 {
        match self {
            Ctl::Pin => msr::TRUE_PINBASED_CTLS,
            Ctl::Proc => msr::TRUE_PROCBASED_CTLS,
            Ctl::Proc2 => msr::PROCBASED_CTLS2,
            Ctl::Exit => msr::TRUE_EXIT_CTLS,
            Ctl::Entry => msr::TRUE_ENTRY_CTLS,
        }
    }
}

/// Why vmx_set_vmx_msr() refuses a value (KVM returns -EINVAL for each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CapError {
    /// Not a capability MSR KVM emulates (480h-491h).
    Unknown(u32),
    /// A non-TRUE control MSR (481h-484h): KVM derives them from the
    /// TRUE ones; user space restores those with the default1 bits set.
    NotTrue,
    /// CR0_FIXED1 or CR4_FIXED1: KVM derives them from the guest's CPUID.
    Fixed1,
    /// VMX_BASIC or MISC with a bit set that KVM treats as reserved.
    Reserved,
    /// VMX_BASIC or MISC with a feature bit set that KVM lacks.
    Feature,
    /// VMX_BASIC bit 48: KVM emulates no 32-bit-only VMX.
    PhysAddr32,
    /// VMX_BASIC with another VMCS revision identifier.
    Revision,
    /// VMX_BASIC with a VMCS smaller than KVM's.
    VmcsSize,
    /// MISC with another preemption timer rate, the timer being offered.
    TimerRate,
    /// MISC with more CR3-target values than KVM's.
    Cr3Targets,
    /// MISC with longer MSR lists than KVM's.
    MaxMsr,
    /// MISC with another MSEG revision identifier.
    MsegRevision,
    /// A control MSR that lets a control KVM requires be 0 (a bit of KVM's
    /// allowed-0 settings, bits 31:0, cleared).
    MustBeOne,
    /// A control MSR that lets a control KVM lacks be 1 (a bit outside
    /// KVM's allowed-1 settings, bits 63:32, set).
    Allowed1,
    /// EPT_VPID_CAP with a capability KVM lacks.
    EptVpid,
    /// CR0_FIXED0 or CR4_FIXED0 that frees a bit KVM fixes to 1.
    Fixed0,
    /// VMFUNC with a function KVM lacks.
    Vmfunc,
}

/// `fixed_bits_valid()` (nested.h): every bit of `fixed0` set in `val`,
/// no bit outside `fixed1`.  KVM's exact expression: a bit in `fixed0`
/// but not `fixed1` passes when set, which the two-test reading
/// `(val & fixed0) == fixed0 && (val & !fixed1) == 0` would refuse.
pub(crate) fn fixed_bits_valid(val: u64, fixed0: u64, fixed1: u64) -> bool {
    ((val & fixed1) | fixed0) == val
}

/// `vmx_control_verify()`: whether the control field `value` is allowed
/// by the control MSR `ctl_msr`, allowed-0 settings (must-be-1) in bits
/// 31:0, allowed-1 settings in 63:32 (SDM A.3).
pub(crate) fn control_ok(value: u32, ctl_msr: u64) -> bool {
    fixed_bits_valid(value.into(), ctl_msr & 0xffff_ffff, ctl_msr >> 32)
}

/// `vmx_control_msr()`: a control MSR from its two halves.
const fn ctl_msr(low: u32, high: u32) -> u64 {
    low as u64 | (high as u64) << 32
}

/// `is_bitwise_subset()`: the bits of `subset` within `mask` are all in
/// `superset`.
fn is_subset(superset: u64, subset: u64, mask: u64) -> bool {
    (superset | subset) & mask == superset & mask
}

/// The CR4 bits CPUID `entries` let L1 set in VMX operation, as
/// nested_vmx_cr_fixed1_bits_update() computes CR4_FIXED1 when
/// KVM_SET_CPUID2 gives the vCPU VMX: PCE always, and each bit whose
/// feature the CPUID reports.  Leaf 1 is found by function alone, leaf 7
/// by function and subleaf, as `kvm_find_cpuid_entry()` and
/// `kvm_find_cpuid_entry_index()` find them; an absent leaf gives nothing.
pub(crate) fn cr4_fixed1(entries: &[guestmap_cpuid_entry]) -> u64 {
    let find = |function: u32, index: u32| {
        let indexed = function == 7;
        entries
            .iter()
            .find(|e| e.function == function && (!indexed || e.index == index))
    };
    // (CR4 bit, CPUID bit) for one register of one leaf.
    let gather = |reg: Option<u32>, table: &[(u64, u32)]| {
        reg.map_or(0, |r| {
            table
                .iter()
                .filter(|(_, bit)| r & (1 << bit) != 0)
                .fold(0, |acc, (cr4, _)| acc | cr4)
        })
    };
    let leaf1 = find(1, 0);
    let leaf7 = find(7, 0);
    let leaf7_1 = find(7, 1);
    let mut fixed1 = cr4::PCE;
    // CPUID.1:EDX: VME (both VME and PVI), TSC, DE, PSE, PAE, MCE, PGE,
    // FXSR, SSE (XMM).
    fixed1 |= gather(
        leaf1.map(|e| e.edx),
        &[
            (cr4::VME, 1),
            (cr4::PVI, 1),
            (cr4::TSD, 4),
            (cr4::DE, 2),
            (cr4::PSE, 3),
            (cr4::PAE, 6),
            (cr4::MCE, 7),
            (cr4::PGE, 13),
            (cr4::OSFXSR, 24),
            (cr4::OSXMMEXCPT, 25),
        ],
    );
    // CPUID.1:ECX: VMX, SMX, PCID, XSAVE.
    fixed1 |= gather(
        leaf1.map(|e| e.ecx),
        &[
            (cr4::VMXE, 5),
            (CR4_SMXE, 6),
            (cr4::PCIDE, 17),
            (cr4::OSXSAVE, 26),
        ],
    );
    // CPUID.(7,0):EBX: FSGSBASE, SMEP, SMAP.
    fixed1 |= gather(
        leaf7.map(|e| e.ebx),
        &[(cr4::FSGSBASE, 0), (cr4::SMEP, 7), (cr4::SMAP, 20)],
    );
    // CPUID.(7,0):ECX: PKU, UMIP, LA57.
    fixed1 |= gather(
        leaf7.map(|e| e.ecx),
        &[(cr4::PKE, 3), (cr4::UMIP, 2), (cr4::LA57, 16)],
    );
    // CPUID.(7,1):EAX: LAM.
    fixed1 |= gather(leaf7_1.map(|e| e.eax), &[(cr4::LAM_SUP, 26)]);
    fixed1
}

/// The nested vCPU's VMX capability MSRs, `struct nested_vmx_msrs`.
///
/// As KVM, the four controls that have a TRUE_ MSR are kept in their
/// TRUE_ form and the non-TRUE MSR is derived when read; VM entry checks
/// against the TRUE_ form whatever VMX_BASIC bit 55 says (user space
/// that clears it is to put the default1 bits in the TRUE_ MSRs, as
/// vmx_set_vmx_msr() says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VmxCaps {
    /// IA32_VMX_BASIC.
    basic: u64,
    /// IA32_VMX_TRUE_PINBASED_CTLS.
    pin: u64,
    /// IA32_VMX_TRUE_PROCBASED_CTLS.
    proc: u64,
    /// IA32_VMX_PROCBASED_CTLS2.
    proc2: u64,
    /// IA32_VMX_TRUE_EXIT_CTLS.
    exit: u64,
    /// IA32_VMX_TRUE_ENTRY_CTLS.
    entry: u64,
    /// IA32_VMX_MISC.
    misc: u64,
    /// IA32_VMX_CR0_FIXED0.
    cr0_fixed0: u64,
    /// IA32_VMX_CR0_FIXED1.
    cr0_fixed1: u64,
    /// IA32_VMX_CR4_FIXED0.
    cr4_fixed0: u64,
    /// IA32_VMX_CR4_FIXED1.
    cr4_fixed1: u64,
    /// IA32_VMX_VMCS_ENUM.
    vmcs_enum: u64,
    /// IA32_VMX_EPT_VPID_CAP: `ept_caps` in 31:0, `vpid_caps` in 63:32.
    ept_vpid: u64,
    /// IA32_VMX_VMFUNC.
    vmfunc: u64,
}

impl VmxCaps {
    /// What KVM 6.12 gives a vCPU whose CPUID has VMX, on a 64-bit host
    /// that supports everything nested_vmx_setup_ctls_msrs() is willing to
    /// pass on (every optional control of setup_vmcs_config(), EPT with
    /// 4- and 5-level walks, WB, INVEPT and execute-only, the VMX_BASIC
    /// INS/OUTS bit, MISC's EFER.LMA bit, VMFUNC, SGX) with KVM's module
    /// parameters at their defaults (ept, ept A/D, vpid, unrestricted
    /// guest, flexpriority, apicv, sgx on), without Hyper-V's enlightened
    /// VMCS, and before the KVM_X86_QUIRK_STUFF_FEATURE_MSRS quirk adjusts
    /// PROCBASED_CTLS2 to the guest's CPUID.
    ///
    /// `cr4_fixed1` is CR4_FIXED1, which KVM computes from the guest's
    /// CPUID ([`cr4_fixed1`]); CR0_FIXED1 is [`KVM_CR0_FIXED1`].  Before
    /// KVM_SET_CPUID2, KVM reports the host's FIXED1 MSRs instead, which
    /// no model can know.
    pub(crate) const fn kvm_default(cr4_fixed1: u64) -> VmxCaps {
        // nested_vmx_setup_basic(): vmx_basic_encode_vmcs_info(
        // VMCS12_REVISION, VMCS12_SIZE, X86_MEMTYPE_WB), TRUE_CTLS, and
        // INOUT if the host has it.
        let basic = vmcs12::REVISION as u64
            | (vmcs12::SIZE as u64) << basic::SIZE_SHIFT
            | basic::MEMTYPE_WB << basic::MEMTYPE_SHIFT
            | basic::TRUE_CTLS
            | basic::INOUT;
        // nested_vmx_setup_pinbased_ctls(): low = the default1 bits; high
        // = the host's of EXT_INTR, NMI, virtual NMIs and (apicv) posted
        // interrupts, plus default1 and the preemption timer, which KVM
        // emulates.
        let pin = ctl_msr(
            pin::DEFAULT1,
            pin::EXT_INTR
                | pin::NMI_EXITING
                | pin::VIRTUAL_NMIS
                | pin::POSTED_INTR
                | pin::DEFAULT1
                | pin::PREEMPTION_TIMER,
        );
        // nested_vmx_setup_cpubased_ctls(): low = default1 but CR3-load
        // and CR3-store exiting ("free control of CR3 access
        // interception"); high = the host's of KVM's list, plus default1
        // and MSR bitmaps (emulated without hardware support).
        let proc = ctl_msr(
            proc::DEFAULT1 & !(proc::CR3_LOAD | proc::CR3_STORE),
            proc::INTR_WINDOW
                | proc::NMI_WINDOW
                | proc::TSC_OFFSETTING
                | proc::HLT
                | proc::INVLPG
                | proc::MWAIT
                | proc::CR3_LOAD
                | proc::CR3_STORE
                | proc::CR8_LOAD
                | proc::CR8_STORE
                | proc::MOV_DR
                | proc::UNCOND_IO
                | proc::IO_BITMAPS
                | proc::MTF
                | proc::MONITOR
                | proc::RDPMC
                | proc::RDTSC
                | proc::PAUSE
                | proc::TPR_SHADOW
                | proc::SECONDARY
                | proc::DEFAULT1
                | proc::MSR_BITMAPS,
        );
        // nested_vmx_setup_secondary_ctls(): low = 0; high = the host's
        // of KVM's list, plus shadow VMCS (emulated), EPT and PML (ept,
        // ept A/D), VPID, unrestricted guest, APIC-access virtualization
        // (flexpriority) and ENCLS exiting (sgx).
        let proc2 = ctl_msr(
            0,
            proc2::DESC
                | proc2::RDTSCP
                | proc2::VIRT_X2APIC
                | proc2::WBINVD
                | proc2::APIC_REGISTER_VIRT
                | proc2::VIRT_INTR_DELIVERY
                | proc2::RDRAND
                | proc2::INVPCID
                | proc2::VMFUNC
                | proc2::RDSEED
                | proc2::XSAVES
                | proc2::TSC_SCALING
                | proc2::USR_WAIT_PAUSE
                | proc2::SHADOW_VMCS
                | proc2::EPT
                | proc2::PML
                | proc2::VPID
                | proc2::UNRESTRICTED_GUEST
                | proc2::VIRT_APIC_ACCESSES
                | proc2::ENCLS,
        );
        // nested_vmx_setup_exit_ctls(): low = default1 but save debug
        // controls; high = the host's of host address-space size, PAT
        // load/save and BNDCFGS clearing, plus default1, EFER load/save,
        // timer save, acknowledge interrupt and PERF_GLOBAL_CTRL load.
        let exit = ctl_msr(
            exit::DEFAULT1 & !exit::SAVE_DEBUG_CONTROLS,
            exit::HOST_ADDR_SPACE_SIZE
                | exit::LOAD_PAT
                | exit::SAVE_PAT
                | exit::CLEAR_BNDCFGS
                | exit::DEFAULT1
                | exit::LOAD_EFER
                | exit::SAVE_EFER
                | exit::SAVE_PREEMPTION_TIMER
                | exit::ACK_INTR_ON_EXIT
                | exit::LOAD_PERF_GLOBAL_CTRL,
        );
        // nested_vmx_setup_entry_ctls(): low = default1 but load debug
        // controls; high = the host's of IA-32e mode, PAT and BNDCFGS
        // load, plus default1, EFER and PERF_GLOBAL_CTRL load.
        let entry = ctl_msr(
            entry::DEFAULT1 & !entry::LOAD_DEBUG_CONTROLS,
            entry::IA32E_MODE
                | entry::LOAD_PAT
                | entry::LOAD_BNDCFGS
                | entry::DEFAULT1
                | entry::LOAD_EFER
                | entry::LOAD_PERF_GLOBAL_CTRL,
        );
        // nested_vmx_setup_misc_data(): the host's EFER.LMA bit, plus
        // VMWRITE to any field, the emulated timer rate, HLT and
        // wait-for-SIPI; no CR3 targets, N = 0 (512 MSRs), MSEG 0.
        let misc = misc::SAVE_EFER_LMA
            | misc::VMWRITE_ANY_FIELD
            | KVM_TIMER_RATE
            | misc::ACTIVITY_HLT
            | misc::ACTIVITY_WAIT_SIPI;
        // nested_vmx_setup_secondary_ctls(): the host's 4/5-level walks,
        // WB, INVEPT and execute-only, plus both INVEPT types, 2M and 1G
        // pages, and A/D (ept A/D); INVVPID with its four types.
        let ept_caps =
            (ept::PAGE_WALK_4 | ept::PAGE_WALK_5 | ept::WB | ept::INVEPT | ept::EXECUTE_ONLY)
                | ept::EXTENT_GLOBAL
                | ept::EXTENT_CONTEXT
                | ept::PAGE_2M
                | ept::PAGE_1G
                | ept::AD;
        let vpid_caps = vpid::INVVPID | vpid::EXTENTS;
        VmxCaps {
            basic,
            pin,
            proc,
            proc2,
            exit,
            entry,
            misc,
            // nested_vmx_setup_cr_fixed(): VMXON_CR0_ALWAYSON (PE, PG,
            // NE) and VMXON_CR4_ALWAYSON (VMXE).  Unrestricted guest does
            // not change the MSR: nested_guest_cr0_valid() drops PE and
            // PG from it when VMCS12 uses it.
            cr0_fixed0: CR0_PE | CR0_PG | CR0_NE,
            cr0_fixed1: KVM_CR0_FIXED1,
            cr4_fixed0: cr4::VMXE,
            cr4_fixed1,
            vmcs_enum: kvm_vmcs_enum(),
            ept_vpid: ctl_msr(ept_caps, vpid_caps),
            // EPTP switching, which KVM emulates if the host has VMFUNC.
            vmfunc: vmfunc::EPTP_SWITCHING,
        }
    }

    /// `vmx_get_vmx_msr()`: the value of MSR `index`, `None` if it is not
    /// a capability MSR.  The non-TRUE control MSRs are the TRUE ones
    /// with the default1 bits required (SDM A.2).
    pub(crate) fn get(&self, index: u32) -> Option<u64> {
        Some(match index {
            msr::BASIC => self.basic,
            msr::TRUE_PINBASED_CTLS => self.pin,
            msr::PINBASED_CTLS => self.pin | u64::from(pin::DEFAULT1),
            msr::TRUE_PROCBASED_CTLS => self.proc,
            msr::PROCBASED_CTLS => self.proc | u64::from(proc::DEFAULT1),
            msr::TRUE_EXIT_CTLS => self.exit,
            msr::EXIT_CTLS => self.exit | u64::from(exit::DEFAULT1),
            msr::TRUE_ENTRY_CTLS => self.entry,
            msr::ENTRY_CTLS => self.entry | u64::from(entry::DEFAULT1),
            msr::MISC => self.misc,
            msr::CR0_FIXED0 => self.cr0_fixed0,
            msr::CR0_FIXED1 => self.cr0_fixed1,
            msr::CR4_FIXED0 => self.cr4_fixed0,
            msr::CR4_FIXED1 => self.cr4_fixed1,
            msr::VMCS_ENUM => self.vmcs_enum,
            msr::PROCBASED_CTLS2 => self.proc2,
            msr::EPT_VPID_CAP => self.ept_vpid,
            msr::VMFUNC => self.vmfunc,
            _ => return None,
        })
    }

    /// User space setting MSR `index` to `value`, restricting the model
    /// below [`VmxCaps::kvm_default`]: `vmx_set_vmx_msr()`.
    ///
    /// KVM also refuses (-EBUSY) while the vCPU is in VMX operation and
    /// takes the write only from user space with VMX in the guest's CPUID;
    /// those are the caller's to check.
    pub(crate) fn set(&mut self, index: u32, value: u64) -> Result<(), CapError> {
        let kvm = VmxCaps::kvm_default(self.cr4_fixed1);
        self.set_within(&kvm, index, value)
    }

    /// [`VmxCaps::set`] against `supported`, KVM's `vmcs_config.nested`:
    /// every rule compares with what KVM supports, not with the current
    /// value, so a restriction can be lifted again.
    pub(crate) fn set_within(
        &mut self,
        supported: &VmxCaps,
        index: u32,
        value: u64,
    ) -> Result<(), CapError> {
        match index {
            msr::BASIC => self.restore_basic(supported, value),
            msr::PINBASED_CTLS | msr::PROCBASED_CTLS | msr::EXIT_CTLS | msr::ENTRY_CTLS => {
                Err(CapError::NotTrue)
            }
            msr::TRUE_PINBASED_CTLS => restore_control(&mut self.pin, supported.pin, value),
            msr::TRUE_PROCBASED_CTLS => restore_control(&mut self.proc, supported.proc, value),
            msr::TRUE_EXIT_CTLS => restore_control(&mut self.exit, supported.exit, value),
            msr::TRUE_ENTRY_CTLS => restore_control(&mut self.entry, supported.entry, value),
            msr::PROCBASED_CTLS2 => restore_control(&mut self.proc2, supported.proc2, value),
            msr::MISC => self.restore_misc(supported, value),
            msr::CR0_FIXED0 => restore_fixed0(&mut self.cr0_fixed0, supported.cr0_fixed0, value),
            msr::CR4_FIXED0 => restore_fixed0(&mut self.cr4_fixed0, supported.cr4_fixed0, value),
            msr::CR0_FIXED1 | msr::CR4_FIXED1 => Err(CapError::Fixed1),
            msr::EPT_VPID_CAP => {
                // vmx_restore_vmx_ept_vpid_cap(): every bit is a feature
                // or reserved.
                if !is_subset(supported.ept_vpid, value, u64::MAX) {
                    return Err(CapError::EptVpid);
                }
                self.ept_vpid = value;
                Ok(())
            }
            msr::VMCS_ENUM => {
                // Taken as it is: it only informs L1.
                self.vmcs_enum = value;
                Ok(())
            }
            msr::VMFUNC => {
                if value & !supported.vmfunc != 0 {
                    return Err(CapError::Vmfunc);
                }
                self.vmfunc = value;
                Ok(())
            }
            _ => Err(CapError::Unknown(index)),
        }
    }

    /// `vmx_restore_vmx_basic()`.  The memory type is not checked, as in
    /// KVM; a VMCS may be declared larger than KVM's.
    fn restore_basic(&mut self, supported: &VmxCaps, value: u64) -> Result<(), CapError> {
        // KVM checks feature and reserved bits in one test, before the
        // fields; split here only to name which.
        if value & basic::RESERVED & !supported.basic != 0 {
            return Err(CapError::Reserved);
        }
        let features = basic::DUAL_MONITOR | basic::INOUT | basic::TRUE_CTLS;
        if !is_subset(supported.basic, value, features) {
            return Err(CapError::Feature);
        }
        // An anti-feature: set, it would restrict L1's addresses.
        if value & basic::PHYS_ADDR_32 != 0 {
            return Err(CapError::PhysAddr32);
        }
        if value & basic::REVISION != supported.basic & basic::REVISION {
            return Err(CapError::Revision);
        }
        if supported.basic & basic::SIZE > value & basic::SIZE {
            return Err(CapError::VmcsSize);
        }
        self.basic = value;
        Ok(())
    }

    /// `vmx_restore_vmx_misc()`.  The timer rate is compared only if the
    /// vCPU's current TRUE_PINBASED_CTLS offers the timer, so the order
    /// user space restores them in matters, as in KVM.
    fn restore_misc(&mut self, supported: &VmxCaps, value: u64) -> Result<(), CapError> {
        if value & misc::RESERVED & !supported.misc != 0 {
            return Err(CapError::Reserved);
        }
        let features = misc::SAVE_EFER_LMA
            | misc::ACTIVITY_HLT
            | misc::ACTIVITY_SHUTDOWN
            | misc::ACTIVITY_WAIT_SIPI
            | misc::INTEL_PT
            | misc::RDMSR_IN_SMM
            | misc::VMWRITE_ANY_FIELD
            | misc::VMXOFF_BLOCK_SMI
            | misc::ZERO_LEN_INS;
        if !is_subset(supported.misc, value, features) {
            return Err(CapError::Feature);
        }
        let timer = u64::from(pin::PREEMPTION_TIMER) << 32;
        if self.pin & timer != 0 && value & misc::TIMER_RATE != supported.misc & misc::TIMER_RATE {
            return Err(CapError::TimerRate);
        }
        if value & misc::CR3_TARGETS > supported.misc & misc::CR3_TARGETS {
            return Err(CapError::Cr3Targets);
        }
        if value & misc::MAX_MSR > supported.misc & misc::MAX_MSR {
            return Err(CapError::MaxMsr);
        }
        if value & misc::MSEG_REVISION != supported.misc & misc::MSEG_REVISION {
            return Err(CapError::MsegRevision);
        }
        self.misc = value;
        Ok(())
    }

    /// The control MSR VM entry checks `c` against.
    pub(crate) fn ctl(&self, c: Ctl) -> u64 {
        match c {
            Ctl::Pin => self.pin,
            Ctl::Proc => self.proc,
            Ctl::Proc2 => self.proc2,
            Ctl::Exit => self.exit,
            Ctl::Entry => self.entry,
        }
    }

    /// Whether control field `value` passes [`control_ok`] for `c`, as
    /// nested_check_vm_{execution,exit,entry}_controls() check VMCS12.
    pub(crate) fn ctl_ok(&self, c: Ctl, value: u32) -> bool {
        control_ok(value, self.ctl(c))
    }

    /// Whether every control of `bits` may be 1 in `c`: KVM's
    /// `nested_cpu_supports_monitor_trap_flag()`,
    /// `nested_cpu_has_vmx_shadow_vmcs()` and the like, and what the
    /// VMX instructions test before they #UD.
    pub(crate) fn allowed1(&self, c: Ctl, bits: u32) -> bool {
        let high = (self.ctl(c) >> 32) as u32;
        high & bits == bits
    }

    /// The VMCS revision identifier, VMX_BASIC bits 30:0.
    pub(crate) fn revision(&self) -> u32 {
        (self.basic & basic::REVISION) as u32
    }

    /// Bytes of the VMXON region and of a VMCS, VMX_BASIC bits 44:32.
    pub(crate) fn vmcs_size(&self) -> u32 {
        ((self.basic & basic::SIZE) >> basic::SIZE_SHIFT) as u32
    }

    /// Whether VMX_BASIC says the TRUE_ control MSRs exist (bit 55).
    pub(crate) fn true_ctls(&self) -> bool {
        self.basic & basic::TRUE_CTLS != 0
    }

    /// Whether VM exits on INS/OUTS report instruction information
    /// (VMX_BASIC bit 54).
    pub(crate) fn inout(&self) -> bool {
        self.basic & basic::INOUT != 0
    }

    /// `nested_guest_cr0_valid()` (and, with `unrestricted` false,
    /// `nested_host_cr0_valid()`): `cr0` against the CR0 fixed bits (SDM
    /// A.7), PE and PG freed if VMCS12 turns on unrestricted guest
    /// (`unrestricted`: its activate-secondary and unrestricted-guest
    /// controls both set, nested_cpu_has2()) and the model offers it.
    pub(crate) fn cr0_valid(&self, cr0: u64, unrestricted: bool) -> bool {
        let mut fixed0 = self.cr0_fixed0;
        if unrestricted && self.allowed1(Ctl::Proc2, proc2::UNRESTRICTED_GUEST) {
            fixed0 &= !(CR0_PE | CR0_PG);
        }
        fixed_bits_valid(cr0, fixed0, self.cr0_fixed1)
    }

    /// The fixed-bit half of `nested_cr4_valid()`, for guest and host CR4
    /// alike (SDM A.8); KVM also requires [`CpuModel::is_valid_cr4`].
    pub(crate) fn cr4_valid(&self, cr4: u64) -> bool {
        fixed_bits_valid(cr4, self.cr4_fixed0, self.cr4_fixed1)
    }

    /// IA32_VMX_MISC.
    pub(crate) fn misc(&self) -> u64 {
        self.misc
    }

    /// The preemption timer rate, MISC bits 4:0.
    pub(crate) fn timer_rate(&self) -> u32 {
        misc::timer_rate(self.misc)
    }

    /// `nested_cpu_vmx_misc_cr3_count()`: how many CR3-target values
    /// VMCS12 may have, MISC bits 24:16.
    pub(crate) fn cr3_targets(&self) -> u32 {
        misc::cr3_targets(self.misc)
    }

    /// `nested_vmx_max_atomic_switch_msrs()`: the most entries an MSR
    /// list may have, 512 * (MISC bits 27:25 + 1) (SDM A.6).
    pub(crate) fn max_msr_list(&self) -> u32 {
        misc::max_msr_list(self.misc)
    }

    /// Whether the model enumerates activity state `state` (SDM A.6:
    /// active always, HLT, shutdown and wait-for-SIPI by MISC bits 6-8).
    /// KVM's nested_check_guest_non_reg_state() does not read MISC: it
    /// takes active, HLT and wait-for-SIPI, what its default reports.
    pub(crate) fn activity_supported(&self, state: u32) -> bool {
        match state {
            activity::ACTIVE => true,
            activity::HLT..=activity::WAIT_SIPI => self.misc & (1 << (5 + state)) != 0,
            _ => false,
        }
    }

    /// `nested_cpu_has_vmwrite_any_field()`: MISC bit 29.
    pub(crate) fn vmwrite_any_field(&self) -> bool {
        self.misc & misc::VMWRITE_ANY_FIELD != 0
    }

    /// `nested_cpu_has_zero_length_injection()`: MISC bit 30.
    pub(crate) fn zero_len_injection(&self) -> bool {
        self.misc & misc::ZERO_LEN_INS != 0
    }

    /// The highest VMCS field index, VMCS_ENUM bits 9:1 (SDM A.9).
    pub(crate) fn vmcs_max_index(&self) -> u32 {
        ((self.vmcs_enum >> 1) & 0x1ff) as u32
    }

    /// KVM's `ept_caps`: EPT_VPID_CAP bits 31:0.
    pub(crate) fn ept_caps(&self) -> u32 {
        self.ept_vpid as u32
    }

    /// KVM's `vpid_caps`: EPT_VPID_CAP bits 63:32.
    pub(crate) fn vpid_caps(&self) -> u32 {
        (self.ept_vpid >> 32) as u32
    }

    /// Whether the model has every EPT capability of `bits` ([`ept`]).
    pub(crate) fn ept_has(&self, bits: u32) -> bool {
        self.ept_caps() & bits == bits
    }

    /// Whether the model has every VPID capability of `bits` ([`vpid`]).
    pub(crate) fn vpid_has(&self, bits: u32) -> bool {
        self.vpid_caps() & bits == bits
    }

    /// The INVEPT types, bit n for type n, as handle_invept() computes
    /// them: (ept_caps >> 24) & 6.
    pub(crate) fn invept_types(&self) -> u32 {
        (self.ept_caps() >> ept::EXTENT_SHIFT) & 6
    }

    /// The INVVPID types, bit n for type n, as handle_invvpid() computes
    /// them.
    pub(crate) fn invvpid_types(&self) -> u32 {
        (self.vpid_caps() & vpid::EXTENTS) >> 8
    }

    /// `nested_vmx_check_eptp()`: the memory type and walk length of
    /// `eptp` are ones the model has, bits 11:7 and those beyond
    /// MAXPHYADDR are clear, and A/D is on only if the model has it.
    pub(crate) fn eptp_valid(&self, e: u64, model: &CpuModel) -> bool {
        let mt_ok = match e & eptp::MT {
            eptp::MT_UC => self.ept_has(ept::UC),
            eptp::MT_WB => self.ept_has(ept::WB),
            _ => false,
        };
        let pwl_ok = match e & eptp::PWL {
            eptp::PWL_5 => self.ept_has(ept::PAGE_WALK_5),
            eptp::PWL_4 => self.ept_has(ept::PAGE_WALK_4),
            _ => false,
        };
        mt_ok
            && pwl_ok
            && model.is_legal_gpa(e)
            && e & eptp::RESERVED == 0
            && (e & eptp::AD == 0 || self.ept_has(ept::AD))
    }

    /// IA32_VMX_VMFUNC: the VM functions VMCS12 may enable.
    pub(crate) fn vmfunc(&self) -> u64 {
        self.vmfunc
    }
}

/// `vmx_restore_control_msr()`: `value` may only require more controls
/// (bits 31:0 a superset of KVM's) and allow fewer (bits 63:32 a subset).
fn restore_control(field: &mut u64, supported: u64, value: u64) -> Result<(), CapError> {
    if !is_subset(value, supported, 0xffff_ffff) {
        return Err(CapError::MustBeOne);
    }
    if !is_subset(supported, value, 0xffff_ffff << 32) {
        return Err(CapError::Allowed1);
    }
    *field = value;
    Ok(())
}

/// `vmx_restore_fixed0_msr()`: `value` may fix more bits to 1, not fewer.
fn restore_fixed0(field: &mut u64, supported: u64, value: u64) -> Result<(), CapError> {
    if !is_subset(value, supported, u64::MAX) {
        return Err(CapError::Fixed0);
    }
    *field = value;
    Ok(())
}
