// SPDX-License-Identifier: GPL-2.0

//! What VMLAUNCH and VMRESUME check before L2 runs, each check a pure
//! function of the copy of vmcs12, the VMX capability MSRs, the CPU
//! model and a little of L1's state, made in the order of KVM 6.12
//! (arch/x86/kvm/vmx/nested.c):
//!
//! 1. nested_vmx_run(): a shadow VMCS (VMfailInvalid), then the launch
//!    state (VM-instruction errors 4 and 5);
//! 2. nested_vmx_check_controls(): the execution, exit and entry controls
//!    (error 7, Intel SDM vol. 3C 27.2.1);
//! 3. nested_vmx_check_address_space_size() and
//!    nested_vmx_check_host_state(): the host-state area (error 8, 27.2.2
//!    and 27.2.3);
//! 4. nested_vmx_check_guest_state(), and the CR3 load of
//!    prepare_vmcs02(): the guest-state area, which fails with a VM exit,
//!    reason 33 with bit 31 set (27.3, 27.8);
//! 5. nested_vmx_load_msr(): the VM-entry MSR-load list, which fails with
//!    a VM exit, reason 34, qualification the 1-based index of the entry
//!    (27.4).
//!
//! KVM leaves what it does not check to the CPU, which checks vmcs02
//! when KVM runs L2 and makes the entry fail late.  Of those checks only
//! the TPR threshold's bits 31:4 are made here, with the TPR-shadow
//! controls ([`Check::TprThreshold`]).  Not modelled: the MOV-SS
//! blocking of VMLAUNCH (error 26, which depends on L1's interrupt
//! shadow), Hyper-V's enlightened VMCS, the segment and RFLAGS checks of
//! vmx_guest_state_valid() (which pass whenever L0 uses unrestricted
//! guest, as KVM does by default), and the PDPTEs a PAE L2 without EPT
//! loads from guest memory (qualification 2).
//!
//! Pure logic: `core`, vmcs12's layout, the capabilities and the CPU
//! model, so the host crate unit-tests it.

use super::{
    capabilities::{activity, entry, exit, pin, proc, proc2, vmfunc, Ctl, VmxCaps},
    insn::InsnError,
    vmcs12::{self, enc, Vmcs12},
};
use crate::nested::cpu::{cr4, efer, CpuModel};

/// CR0 bits the checks read (SDM vol. 3A 2.5).
mod cr0 {
    /// Protection enable.
    pub(super) const PE: u64 = 1 << 0;
    /// Write protect.
    pub(super) const WP: u64 = 1 << 16;
    /// Paging.
    pub(super) const PG: u64 = 1 << 31;
}

/// CR4.CET (bit 23), which the CPU model's CR4 lacks: KVM checks it
/// against CR0.WP, though no CR4 the model allows has it.
const CR4_CET: u64 = 1 << 23;

/// The VM-entry interruption-information field (SDM 25.8.3, asm/vmx.h).
pub(crate) mod intr {
    /// Bits 7:0, the vector.
    pub(crate) const VECTOR: u32 = 0xff;
    /// Bits 10:8, the interruption type.
    pub(crate) const TYPE: u32 = 0x700;
    /// Bit 11, deliver error code.
    pub(crate) const DELIVER_CODE: u32 = 1 << 11;
    /// Bits 30:12, reserved (INTR_INFO_RESVD_BITS_MASK).
    pub(crate) const RESERVED: u32 = 0x7fff_f000;
    /// Bit 31, valid.
    pub(crate) const VALID: u32 = 1 << 31;
    /// External interrupt.
    #[allow(dead_code)] // No check names it; the table is the SDM's.
    pub(crate) const TYPE_EXT_INTR: u32 = 0 << 8;
    /// Reserved type.
    pub(crate) const TYPE_RESERVED: u32 = 1 << 8;
    /// Non-maskable interrupt.
    pub(crate) const TYPE_NMI: u32 = 2 << 8;
    /// Hardware exception.
    pub(crate) const TYPE_HARD_EXCEPTION: u32 = 3 << 8;
    /// Software interrupt.
    pub(crate) const TYPE_SOFT_INTR: u32 = 4 << 8;
    /// Privileged software exception (INT1).
    pub(crate) const TYPE_PRIV_SW_EXCEPTION: u32 = 5 << 8;
    /// Software exception (INT3, INTO).
    pub(crate) const TYPE_SOFT_EXCEPTION: u32 = 6 << 8;
    /// Other event (pending MTF VM exit).
    pub(crate) const TYPE_OTHER_EVENT: u32 = 7 << 8;
}

/// Basic exit reasons of a failed VM entry (SDM vol. 3D appendix C).
pub(crate) mod reason {
    /// VM-entry failure due to invalid guest state.
    pub(crate) const INVALID_STATE: u32 = 33;
    /// VM-entry failure due to MSR loading.
    pub(crate) const MSR_LOAD_FAIL: u32 = 34;
    /// Bit 31 of the exit reason: the VM entry failed (SDM 25.9.1).
    pub(crate) const FAILED_VMENTRY: u32 = 1 << 31;
}

/// Exit qualifications of a reason-33 exit (SDM 27.8, KVM's
/// `enum vm_entry_failure_code`).
pub(crate) mod qual {
    /// Any guest-state check but the ones below.
    pub(crate) const DEFAULT: u64 = 0;
    /// The PDPTEs (not modelled: they are read from guest memory).
    #[allow(dead_code)]
    pub(crate) const PDPTE: u64 = 2;
    /// The VMCS link pointer.
    pub(crate) const VMCS_LINK_PTR: u64 = 4;
}

/// The MSR indices the MSR-load list may not name (msr-index.h).
pub(crate) mod msr {
    /// IA32_UCODE_WRITE.
    pub(crate) const UCODE_WRITE: u32 = 0x79;
    /// IA32_BIOS_SIGN_ID (KVM's MSR_IA32_UCODE_REV).
    pub(crate) const UCODE_REV: u32 = 0x8b;
    /// IA32_SMM_MONITOR_CTL.
    pub(crate) const SMM_MONITOR_CTL: u32 = 0x9b;
    /// IA32_FS_BASE.
    pub(crate) const FS_BASE: u32 = 0xc000_0100;
    /// IA32_GS_BASE.
    pub(crate) const GS_BASE: u32 = 0xc000_0101;
}

/// IA32_DEBUGCTL bits (SDM vol. 4 table 2-2, msr-index.h); the vCPU's
/// model supports none of the optional ones, which the host tests use.
#[allow(dead_code)]
pub(crate) mod debugctl {
    /// Last branch record.
    pub(crate) const LBR: u64 = 1 << 0;
    /// Single-step on branches.
    pub(crate) const BTF: u64 = 1 << 1;
    /// Bus-lock detection.
    pub(crate) const BUS_LOCK_DETECT: u64 = 1 << 2;
    /// Freeze LBRs on PMI.
    pub(crate) const FREEZE_LBRS_ON_PMI: u64 = 1 << 11;
    /// Freeze performance monitoring in SMM.
    pub(crate) const FREEZE_IN_SMM: u64 = 1 << 14;
    /// RTM debugging.
    pub(crate) const RTM_DEBUG: u64 = 1 << 15;

    /// The guest DEBUGCTL values vmx_is_valid_debugctl() takes, as a mask:
    /// `supported` (vmx_get_supported_debugctl(): bus-lock detection,
    /// LBR and freeze-LBRs-on-PMI, RTM debugging, each by the vCPU's
    /// features), plus BTF and LBR, which KVM drops rather than refuses,
    /// plus FREEZE_IN_SMM while KVM_X86_QUIRK_VMCS12_ALLOW_FREEZE_IN_SMM
    /// is on (its default).
    pub(crate) fn accepted(supported: u64, freeze_in_smm_quirk: bool) -> u64 {
        let quirk = if freeze_in_smm_quirk {
            FREEZE_IN_SMM
        } else {
            0
        };
        supported | BTF | LBR | quirk
    }
}

/// IA32_BNDCFGS bits 11:2, reserved (MSR_IA32_BNDCFGS_RSVD).
const BNDCFGS_RESERVED: u64 = 0xffc;
/// A selector's RPL (bits 1:0) and TI (bit 2).
const SELECTOR_RPL_TI: u64 = 0x7;
/// The VMCS link pointer that means "none" (KVM's INVALID_GPA).
const INVALID_GPA: u64 = u64::MAX;
/// A 4-KiB page.
const PAGE_SIZE: u64 = 4096;
/// The alignment of the posted-interrupt descriptor (SDM 27.2.1.1).
const PI_DESC_ALIGN: u64 = 64;
/// The NMI vector.
const NMI_VECTOR: u32 = 2;
/// The exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF
/// and #AC (x86_exception_has_error_code()).
const ERROR_CODE_VECTORS: u32 =
    (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17);

/// A check VM entry makes, named after the rule it enforces; the
/// variants are in the order KVM makes the checks, so the first that
/// fails is the one L1 sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    // nested_vmx_run().
    /// The current VMCS is a shadow VMCS: VMfailInvalid.
    ShadowVmcs,
    /// VMLAUNCH of a launched VMCS: error 4.
    VmlaunchNonclear,
    /// VMRESUME of a clear VMCS: error 5.
    VmresumeNonlaunched,

    // nested_check_vm_execution_controls(): error 7.
    /// Pin-based controls outside TRUE_PINBASED_CTLS.
    PinControls,
    /// Primary processor-based controls outside TRUE_PROCBASED_CTLS.
    ProcControls,
    /// Secondary controls (when activated) outside PROCBASED_CTLS2.
    Proc2Controls,
    /// More CR3-target values than MISC bits 24:16 allow.
    Cr3TargetCount,
    /// I/O bitmap A not a page address within MAXPHYADDR.
    IoBitmapA,
    /// I/O bitmap B not a page address within MAXPHYADDR.
    IoBitmapB,
    /// The MSR bitmap not a page address within MAXPHYADDR.
    MsrBitmap,
    /// The virtual-APIC page not a page address within MAXPHYADDR.
    VirtualApicPage,
    /// TPR threshold bits 31:4 set without virtual-interrupt delivery:
    /// KVM leaves this to the CPU (SDM 27.2.1.1).
    TprThreshold,
    /// The APIC-access page not a page address within MAXPHYADDR.
    ApicAccessPage,
    /// Virtualize x2APIC mode with virtualize APIC accesses.
    X2apicWithApicAccess,
    /// Virtual-interrupt delivery without external-interrupt exiting.
    VidWithoutExtIntr,
    /// Posted interrupts without virtual-interrupt delivery.
    PostedIntrWithoutVid,
    /// Posted interrupts without acknowledge interrupt on exit.
    PostedIntrWithoutAckIntr,
    /// A posted-interrupt notification vector above 255.
    PostedIntrVector,
    /// A posted-interrupt descriptor not 64-byte aligned within
    /// MAXPHYADDR.
    PostedIntrDesc,
    /// An APIC virtualization control without use TPR shadow.
    ApicvWithoutTprShadow,
    /// Virtual NMIs without NMI exiting.
    VirtualNmisWithoutNmiExiting,
    /// NMI-window exiting without virtual NMIs.
    NmiWindowWithoutVirtualNmis,
    /// PML without EPT.
    PmlWithoutEpt,
    /// The PML address not a page address within MAXPHYADDR.
    PmlAddress,
    /// Unrestricted guest without EPT.
    UnrestrictedWithoutEpt,
    /// Mode-based execute control without EPT.
    ModeBasedWithoutEpt,
    /// The VMREAD bitmap not a page address within MAXPHYADDR.
    VmreadBitmap,
    /// The VMWRITE bitmap not a page address within MAXPHYADDR.
    VmwriteBitmap,
    /// VPID enabled with VPID 0.
    VpidZero,
    /// Save preemption timer without the preemption timer.
    SavePreemptionTimer,
    /// An EPT pointer the model does not allow.
    Eptp,
    /// A VM function the model lacks.
    VmfuncControls,
    /// EPTP switching without EPT.
    EptpSwitchingWithoutEpt,
    /// The EPTP list not a page address within MAXPHYADDR.
    EptpListAddress,

    // nested_check_vm_exit_controls(): error 7.
    /// VM-exit controls outside TRUE_EXIT_CTLS.
    ExitControls,
    /// The VM-exit MSR-load list misaligned or beyond MAXPHYADDR.
    ExitMsrLoad,
    /// The VM-exit MSR-store list misaligned or beyond MAXPHYADDR.
    ExitMsrStore,

    // nested_check_vm_entry_controls(): error 7.
    /// VM-entry controls outside TRUE_ENTRY_CTLS.
    EntryControls,
    /// Event injection of the reserved type, or of an other event
    /// without the monitor trap flag in the model.
    EventType,
    /// An injected NMI not vector 2, exception above 31, or other event
    /// not vector 0.
    EventVector,
    /// Deliver error code not matching the event.
    EventErrorCodeDelivery,
    /// An injected error code with bits 31:16 set.
    EventErrorCode,
    /// Reserved bits 30:12 of the interruption information set.
    EventReserved,
    /// A software event's instruction length above 15, or 0 without
    /// MISC's zero-length injection.
    EventInstructionLength,
    /// The VM-entry MSR-load list misaligned or beyond MAXPHYADDR.
    EntryMsrLoad,

    // nested_vmx_check_address_space_size(): error 8.
    /// Host address-space size not L1's EFER.LMA.
    AddressSpaceSize,

    // nested_vmx_check_host_state(): error 8.
    /// Host CR0 against the CR0 fixed bits.
    HostCr0,
    /// Host CR4 against the CR4 fixed bits or the model.
    HostCr4,
    /// Host CR3 beyond MAXPHYADDR.
    HostCr3,
    /// Host CR4.CET without CR0.WP.
    HostCet,
    /// Host IA32_SYSENTER_ESP not canonical.
    HostSysenterEsp,
    /// Host IA32_SYSENTER_EIP not canonical.
    HostSysenterEip,
    /// Host IA32_PAT with a reserved memory type (when loaded).
    HostPat,
    /// Host IA32_PERF_GLOBAL_CTRL with a reserved bit (when loaded).
    HostPerfGlobalCtrl,
    /// A 64-bit host without CR4.PAE.
    HostCr4Pae,
    /// An IA-32e mode guest under a 32-bit host.
    HostIa32eGuest,
    /// A 32-bit host with CR4.PCIDE.
    HostPcide,
    /// A 32-bit host with RIP bits 63:32 set.
    HostRipHigh,
    /// A host selector (CS, SS, DS, ES, FS, GS, TR in that order) with
    /// RPL or TI set.
    HostSelector,
    /// A null host CS.
    HostCsNull,
    /// A null host TR.
    HostTrNull,
    /// A null host SS under a 32-bit host.
    HostSsNull,
    /// A host base (FS, GS, GDTR, IDTR, TR in that order) not canonical.
    HostBase,
    /// Host RIP not canonical.
    HostRip,
    /// Host IA32_EFER with a reserved bit (when loaded).
    HostEfer,
    /// Host IA32_EFER.LMA not the host address-space size.
    HostEferLma,
    /// Host IA32_EFER.LME not the host address-space size.
    HostEferLme,

    // nested_vmx_check_guest_state(): exit reason 33.
    /// Guest CR0 against the CR0 fixed bits.
    GuestCr0,
    /// Guest CR4 against the CR4 fixed bits or the model.
    GuestCr4,
    /// Guest CR4.CET without CR0.WP.
    GuestCet,
    /// Guest DR7 bits 63:32 set (with load debug controls).
    GuestDr7,
    /// Guest IA32_DEBUGCTL with a bit the vCPU lacks (with load debug
    /// controls).
    GuestDebugctl,
    /// Guest IA32_PAT with a reserved memory type (when loaded).
    GuestPat,
    /// The VMCS link pointer not a page address within MAXPHYADDR
    /// (qualification 4).
    LinkPtrAddress,
    /// The VMCS link pointer's header unreadable (qualification 4).
    LinkPtrRead,
    /// The linked VMCS's revision not KVM's (qualification 4).
    LinkPtrRevision,
    /// The linked VMCS's shadow bit not VMCS shadowing (qualification 4).
    LinkPtrShadow,
    /// Guest IA32_PERF_GLOBAL_CTRL with a reserved bit (when loaded).
    GuestPerfGlobalCtrl,
    /// Guest CR0.PG without CR0.PE.
    GuestPgWithoutPe,
    /// An IA-32e mode guest without CR4.PAE.
    GuestIa32eWithoutPae,
    /// An IA-32e mode guest without CR0.PG.
    GuestIa32eWithoutPg,
    /// Guest IA32_EFER with a reserved bit (when loaded).
    GuestEfer,
    /// Guest IA32_EFER.LMA not the IA-32e mode guest control.
    GuestEferLma,
    /// Guest IA32_EFER.LME not the IA-32e mode guest control, with
    /// CR0.PG.
    GuestEferLme,
    /// Guest IA32_BNDCFGS base not canonical (when loaded).
    GuestBndcfgsBase,
    /// Guest IA32_BNDCFGS reserved bits set (when loaded).
    GuestBndcfgsReserved,
    /// An activity state other than active, HLT and wait-for-SIPI.
    GuestActivityState,

    // prepare_vmcs02(): exit reason 33.
    /// Guest CR3 beyond MAXPHYADDR (nested_vmx_load_cr3()).
    GuestCr3,

    // nested_vmx_load_msr(): exit reason 34.
    /// The VM-entry MSR-load list failed at this entry, counted from 1.
    MsrLoad(u32),
}

/// How VMLAUNCH or VMRESUME ends, or that L2 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryVerdict {
    /// Every check passed: L2 runs.  (The vCPU runs the stages around
    /// attaching L2's pages and never builds this; [`vm_entry`] does.)
    #[allow(dead_code)]
    Enter,
    /// VMfailInvalid.
    FailInvalid,
    /// VMfailValid with this VM-instruction error.
    FailValid(InsnError),
    /// A VM-entry failure: a VM exit to L1 with this exit reason (bit 31
    /// set) and exit qualification, after L1's host state is loaded.
    EntryFail {
        /// The full exit reason.
        reason: u32,
        /// The exit qualification.
        qual: u64,
    },
}

impl Check {
    /// How a VM entry that fails this check ends, as nested_vmx_run()
    /// and nested_vmx_enter_non_root_mode() end it.
    pub(crate) fn verdict(self) -> EntryVerdict {
        use Check::*;
        let invalid_state = |qual| EntryVerdict::EntryFail {
            reason: reason::FAILED_VMENTRY | reason::INVALID_STATE,
            qual,
        };
        match self {
            ShadowVmcs => EntryVerdict::FailInvalid,
            VmlaunchNonclear => EntryVerdict::FailValid(InsnError::VmlaunchNonclear),
            VmresumeNonlaunched => EntryVerdict::FailValid(InsnError::VmresumeNonlaunched),
            PinControls
            | ProcControls
            | Proc2Controls
            | Cr3TargetCount
            | IoBitmapA
            | IoBitmapB
            | MsrBitmap
            | VirtualApicPage
            | TprThreshold
            | ApicAccessPage
            | X2apicWithApicAccess
            | VidWithoutExtIntr
            | PostedIntrWithoutVid
            | PostedIntrWithoutAckIntr
            | PostedIntrVector
            | PostedIntrDesc
            | ApicvWithoutTprShadow
            | VirtualNmisWithoutNmiExiting
            | NmiWindowWithoutVirtualNmis
            | PmlWithoutEpt
            | PmlAddress
            | UnrestrictedWithoutEpt
            | ModeBasedWithoutEpt
            | VmreadBitmap
            | VmwriteBitmap
            | VpidZero
            | SavePreemptionTimer
            | Eptp
            | VmfuncControls
            | EptpSwitchingWithoutEpt
            | EptpListAddress
            | ExitControls
            | ExitMsrLoad
            | ExitMsrStore
            | EntryControls
            | EventType
            | EventVector
            | EventErrorCodeDelivery
            | EventErrorCode
            | EventReserved
            | EventInstructionLength
            | EntryMsrLoad => EntryVerdict::FailValid(InsnError::EntryInvalidControl),
            AddressSpaceSize | HostCr0 | HostCr4 | HostCr3 | HostCet | HostSysenterEsp
            | HostSysenterEip | HostPat | HostPerfGlobalCtrl | HostCr4Pae | HostIa32eGuest
            | HostPcide | HostRipHigh | HostSelector | HostCsNull | HostTrNull | HostSsNull
            | HostBase | HostRip | HostEfer | HostEferLma | HostEferLme => {
                EntryVerdict::FailValid(InsnError::EntryInvalidHostState)
            }
            LinkPtrAddress | LinkPtrRead | LinkPtrRevision | LinkPtrShadow => {
                invalid_state(qual::VMCS_LINK_PTR)
            }
            GuestCr0 | GuestCr4 | GuestCet | GuestDr7 | GuestDebugctl | GuestPat
            | GuestPerfGlobalCtrl | GuestPgWithoutPe | GuestIa32eWithoutPae
            | GuestIa32eWithoutPg | GuestEfer | GuestEferLma | GuestEferLme | GuestBndcfgsBase
            | GuestBndcfgsReserved | GuestActivityState | GuestCr3 => invalid_state(qual::DEFAULT),
            MsrLoad(index) => EntryVerdict::EntryFail {
                reason: reason::FAILED_VMENTRY | reason::MSR_LOAD_FAIL,
                qual: index.into(),
            },
        }
    }
}

/// What VM entry reads of L1 and of L0 beyond vmcs12, the capabilities
/// and the CPU model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryEnv {
    /// VMLAUNCH, not VMRESUME.
    pub(crate) launch: bool,
    /// L1's EFER.LMA, which the host address-space size control must
    /// match (nested_vmx_check_address_space_size()).
    pub(crate) l1_efer_lma: bool,
    /// L1's CR4.LA57: host RIP must be canonical in L1's paging mode
    /// (is_noncanonical_address() with no flags).
    pub(crate) l1_cr4_la57: bool,
    /// Whether KVM supports LA57 on this host (kvm_cpu_cap_has()): the
    /// bases and MSR addresses are canonical in the host's widest mode
    /// (max_host_virt_addr_bits()), whatever L1's.
    pub(crate) host_la57: bool,
    /// L1's APIC is in x2APIC mode: the MSR-load list may not name the
    /// x2APIC MSRs.
    pub(crate) l1_x2apic: bool,
    /// The vPMU's reserved IA32_PERF_GLOBAL_CTRL bits, KVM's
    /// `global_ctrl_rsvd` ([`perf_global_ctrl_rsvd`]; all ones without
    /// a vPMU).
    pub(crate) perf_global_ctrl_rsvd: u64,
    /// The guest IA32_DEBUGCTL bits accepted ([`debugctl::accepted`]).
    pub(crate) debugctl_ok: u64,
}

/// `global_ctrl_rsvd` of intel_pmu_refresh(): every bit but one enable
/// bit per general-purpose counter (bits 0 up) and per fixed counter
/// (bits 32 up).
pub(crate) fn perf_global_ctrl_rsvd(gp_counters: u32, fixed_counters: u32) -> u64 {
    let ones = |n: u32| 1u64.checked_shl(n).map_or(u64::MAX, |b| b - 1);
    !(ones(gp_counters) | ones(fixed_counters) << 32)
}

/// Returns `Err(c)` unless `ok`.
fn ensure(ok: bool, c: Check) -> Result<(), Check> {
    if ok {
        Ok(())
    } else {
        Err(c)
    }
}

/// A 32-bit control field; the table gives each control field 32 bits.
fn ctl(v: &Vmcs12, e: u32) -> u32 {
    v.field(e) as u32
}

/// `nested_cpu_has()`: a primary processor-based control.
pub(crate) fn has(v: &Vmcs12, bit: u32) -> bool {
    ctl(v, enc::CPU_BASED_VM_EXEC_CONTROL) & bit != 0
}

/// `nested_cpu_has2()`: a secondary control, which counts only when the
/// primary controls activate the secondary ones.
pub(crate) fn has2(v: &Vmcs12, bit: u32) -> bool {
    has(v, proc::SECONDARY) && ctl(v, enc::SECONDARY_VM_EXEC_CONTROL) & bit != 0
}

/// A pin-based control.
pub(crate) fn has_pin(v: &Vmcs12, bit: u32) -> bool {
    ctl(v, enc::PIN_BASED_VM_EXEC_CONTROL) & bit != 0
}

/// `kvm_vcpu_is_legal_aligned_gpa()`: `gpa` aligned to `align` (a power
/// of two) and within MAXPHYADDR.
fn aligned_gpa_ok(m: &CpuModel, gpa: u64, align: u64) -> bool {
    gpa & (align - 1) == 0 && m.is_legal_gpa(gpa)
}

/// `page_address_valid()`.
fn page_ok(m: &CpuModel, gpa: u64) -> bool {
    aligned_gpa_ok(m, gpa, PAGE_SIZE)
}

/// `__is_canonical_address()`: bits 63 to `bits - 1` all equal.
fn canonical(la: u64, bits: u32) -> bool {
    let shift = 64 - bits;
    (((la << shift) as i64) >> shift) as u64 == la
}

/// Linear-address bits with CR4.LA57 (or LA57 support) `la57`.
fn virt_bits(la57: bool) -> u32 {
    if la57 {
        57
    } else {
        48
    }
}

/// `kvm_pat_valid()`: each byte a memory type of 0, 1, 4, 5, 6 or 7.
pub(crate) fn pat_valid(pat: u64) -> bool {
    pat & 0xf8f8_f8f8_f8f8_f8f8 == 0 && (pat | ((pat & 0x0202_0202_0202_0202) << 1)) == pat
}

/// `nested_vmx_check_msr_switch()`: a list of `count` 16-byte entries
/// at `addr` is 16-byte aligned and ends within MAXPHYADDR.
fn msr_switch_ok(m: &CpuModel, count: u32, addr: u64) -> bool {
    // count * 16 is below 2^36; KVM's sum wraps as u64 arithmetic does.
    count == 0
        || (aligned_gpa_ok(m, addr, MsrEntry::SIZE)
            && m.is_legal_gpa(addr.wrapping_add(u64::from(count) * MsrEntry::SIZE - 1)))
}

/// The checks of nested_vmx_run() before the controls: a shadow VMCS
/// cannot be entered (VMfailInvalid, though there is a current VMCS),
/// and the launch state must suit the instruction.  KVM compares the
/// whole launch-state word, which L1 can have written before VMPTRLD.
pub(crate) fn check_launch(v: &Vmcs12, launch: bool) -> Result<(), Check> {
    let shadow = v.hdr(vmcs12::hdr::REVISION_ID) & vmcs12::hdr::SHADOW_VMCS != 0;
    ensure(!shadow, Check::ShadowVmcs)?;
    if v.hdr(vmcs12::hdr::LAUNCH_STATE) == u32::from(launch) {
        return Err(if launch {
            Check::VmlaunchNonclear
        } else {
            Check::VmresumeNonlaunched
        });
    }
    Ok(())
}

/// `nested_check_vm_execution_controls()` with the helpers it calls, in
/// their order.
pub(crate) fn check_execution_controls(
    v: &Vmcs12,
    caps: &VmxCaps,
    m: &CpuModel,
) -> Result<(), Check> {
    ensure(
        caps.ctl_ok(Ctl::Pin, ctl(v, enc::PIN_BASED_VM_EXEC_CONTROL)),
        Check::PinControls,
    )?;
    ensure(
        caps.ctl_ok(Ctl::Proc, ctl(v, enc::CPU_BASED_VM_EXEC_CONTROL)),
        Check::ProcControls,
    )?;
    if has(v, proc::SECONDARY) {
        ensure(
            caps.ctl_ok(Ctl::Proc2, ctl(v, enc::SECONDARY_VM_EXEC_CONTROL)),
            Check::Proc2Controls,
        )?;
    }
    ensure(
        ctl(v, enc::CR3_TARGET_COUNT) <= caps.cr3_targets(),
        Check::Cr3TargetCount,
    )?;
    // nested_vmx_check_io_bitmap_controls().
    if has(v, proc::IO_BITMAPS) {
        ensure(page_ok(m, v.field(enc::IO_BITMAP_A)), Check::IoBitmapA)?;
        ensure(page_ok(m, v.field(enc::IO_BITMAP_B)), Check::IoBitmapB)?;
    }
    // nested_vmx_check_msr_bitmap_controls().
    if has(v, proc::MSR_BITMAPS) {
        ensure(page_ok(m, v.field(enc::MSR_BITMAP)), Check::MsrBitmap)?;
    }
    // nested_vmx_check_tpr_shadow_controls(), and the CPU's rule on the
    // TPR threshold that KVM meets only when vmcs02 is launched; the
    // threshold against VTPR is the CPU's too, but needs the virtual-APIC
    // page and is not made here.
    if has(v, proc::TPR_SHADOW) {
        ensure(
            page_ok(m, v.field(enc::VIRTUAL_APIC_PAGE_ADDR)),
            Check::VirtualApicPage,
        )?;
        ensure(
            has2(v, proc2::VIRT_INTR_DELIVERY) || ctl(v, enc::TPR_THRESHOLD) >> 4 == 0,
            Check::TprThreshold,
        )?;
    }
    // nested_vmx_check_apic_access_controls().
    if has2(v, proc2::VIRT_APIC_ACCESSES) {
        ensure(
            page_ok(m, v.field(enc::APIC_ACCESS_ADDR)),
            Check::ApicAccessPage,
        )?;
    }
    check_apicv_controls(v, m)?;
    // nested_vmx_check_nmi_controls().
    ensure(
        !has_pin(v, pin::VIRTUAL_NMIS) || has_pin(v, pin::NMI_EXITING),
        Check::VirtualNmisWithoutNmiExiting,
    )?;
    ensure(
        !has(v, proc::NMI_WINDOW) || has_pin(v, pin::VIRTUAL_NMIS),
        Check::NmiWindowWithoutVirtualNmis,
    )?;
    let ept = has2(v, proc2::EPT);
    // nested_vmx_check_pml_controls().
    if has2(v, proc2::PML) {
        ensure(ept, Check::PmlWithoutEpt)?;
        ensure(page_ok(m, v.field(enc::PML_ADDRESS)), Check::PmlAddress)?;
    }
    ensure(
        !has2(v, proc2::UNRESTRICTED_GUEST) || ept,
        Check::UnrestrictedWithoutEpt,
    )?;
    ensure(
        !has2(v, proc2::MODE_BASED_EPT_EXEC) || ept,
        Check::ModeBasedWithoutEpt,
    )?;
    // nested_vmx_check_shadow_vmcs_controls().
    if has2(v, proc2::SHADOW_VMCS) {
        ensure(page_ok(m, v.field(enc::VMREAD_BITMAP)), Check::VmreadBitmap)?;
        ensure(
            page_ok(m, v.field(enc::VMWRITE_BITMAP)),
            Check::VmwriteBitmap,
        )?;
    }
    ensure(
        !has2(v, proc2::VPID) || v.field(enc::VIRTUAL_PROCESSOR_ID) != 0,
        Check::VpidZero,
    )?;
    // An exit control, but checked here, among the execution controls.
    ensure(
        has_pin(v, pin::PREEMPTION_TIMER)
            || ctl(v, enc::VM_EXIT_CONTROLS) & exit::SAVE_PREEMPTION_TIMER == 0,
        Check::SavePreemptionTimer,
    )?;
    if ept {
        ensure(caps.eptp_valid(v.field(enc::EPT_POINTER), m), Check::Eptp)?;
    }
    if has2(v, proc2::VMFUNC) {
        let functions = v.field(enc::VM_FUNCTION_CONTROL);
        ensure(functions & !caps.vmfunc() == 0, Check::VmfuncControls)?;
        if functions & vmfunc::EPTP_SWITCHING != 0 {
            ensure(ept, Check::EptpSwitchingWithoutEpt)?;
            ensure(
                page_ok(m, v.field(enc::EPTP_LIST_ADDRESS)),
                Check::EptpListAddress,
            )?;
        }
    }
    Ok(())
}

/// `nested_vmx_check_apicv_controls()`: the APIC virtualization controls
/// among themselves, checked only if one of them is on.
fn check_apicv_controls(v: &Vmcs12, m: &CpuModel) -> Result<(), Check> {
    let x2apic = has2(v, proc2::VIRT_X2APIC);
    let vid = has2(v, proc2::VIRT_INTR_DELIVERY);
    let posted = has_pin(v, pin::POSTED_INTR);
    if !x2apic && !has2(v, proc2::APIC_REGISTER_VIRT) && !vid && !posted {
        return Ok(());
    }
    ensure(
        !x2apic || !has2(v, proc2::VIRT_APIC_ACCESSES),
        Check::X2apicWithApicAccess,
    )?;
    ensure(!vid || has_pin(v, pin::EXT_INTR), Check::VidWithoutExtIntr)?;
    if posted {
        ensure(vid, Check::PostedIntrWithoutVid)?;
        ensure(
            ctl(v, enc::VM_EXIT_CONTROLS) & exit::ACK_INTR_ON_EXIT != 0,
            Check::PostedIntrWithoutAckIntr,
        )?;
        ensure(
            v.field(enc::POSTED_INTR_NV) & 0xff00 == 0,
            Check::PostedIntrVector,
        )?;
        ensure(
            aligned_gpa_ok(m, v.field(enc::POSTED_INTR_DESC_ADDR), PI_DESC_ALIGN),
            Check::PostedIntrDesc,
        )?;
    }
    ensure(has(v, proc::TPR_SHADOW), Check::ApicvWithoutTprShadow)
}

/// `nested_check_vm_exit_controls()`.
pub(crate) fn check_exit_controls(v: &Vmcs12, caps: &VmxCaps, m: &CpuModel) -> Result<(), Check> {
    ensure(
        caps.ctl_ok(Ctl::Exit, ctl(v, enc::VM_EXIT_CONTROLS)),
        Check::ExitControls,
    )?;
    // nested_vmx_check_exit_msr_switch_controls(): load, then store.
    ensure(
        msr_switch_ok(
            m,
            ctl(v, enc::VM_EXIT_MSR_LOAD_COUNT),
            v.field(enc::VM_EXIT_MSR_LOAD_ADDR),
        ),
        Check::ExitMsrLoad,
    )?;
    ensure(
        msr_switch_ok(
            m,
            ctl(v, enc::VM_EXIT_MSR_STORE_COUNT),
            v.field(enc::VM_EXIT_MSR_STORE_ADDR),
        ),
        Check::ExitMsrStore,
    )
}

/// `x86_exception_has_error_code()`.
fn exception_has_error_code(vector: u32) -> bool {
    1u32.checked_shl(vector)
        .is_some_and(|bit| bit & ERROR_CODE_VECTORS != 0)
}

/// `nested_check_vm_entry_controls()`: the controls, the event to inject
/// (SDM 27.2.1.3), the MSR-load list's address.
pub(crate) fn check_entry_controls(v: &Vmcs12, caps: &VmxCaps, m: &CpuModel) -> Result<(), Check> {
    ensure(
        caps.ctl_ok(Ctl::Entry, ctl(v, enc::VM_ENTRY_CONTROLS)),
        Check::EntryControls,
    )?;
    let info = ctl(v, enc::VM_ENTRY_INTR_INFO_FIELD);
    if info & intr::VALID != 0 {
        let vector = info & intr::VECTOR;
        let ty = info & intr::TYPE;
        let has_error_code = info & intr::DELIVER_CODE != 0;
        // Without unrestricted guest L2 is in protected mode whatever
        // CR0.PE says: the CR0 check makes it so.
        let prot_mode =
            !has2(v, proc2::UNRESTRICTED_GUEST) || v.field(enc::GUEST_CR0) & cr0::PE != 0;
        ensure(
            ty != intr::TYPE_RESERVED
                && (ty != intr::TYPE_OTHER_EVENT || caps.allowed1(Ctl::Proc, proc::MTF)),
            Check::EventType,
        )?;
        let vector_ok = match ty {
            intr::TYPE_NMI => vector == NMI_VECTOR,
            intr::TYPE_HARD_EXCEPTION => vector <= 31,
            intr::TYPE_OTHER_EVENT => vector == 0,
            _ => true,
        };
        ensure(vector_ok, Check::EventVector)?;
        let should_have_error_code =
            ty == intr::TYPE_HARD_EXCEPTION && prot_mode && exception_has_error_code(vector);
        ensure(
            has_error_code == should_have_error_code,
            Check::EventErrorCodeDelivery,
        )?;
        ensure(
            !has_error_code || ctl(v, enc::VM_ENTRY_EXCEPTION_ERROR_CODE) >> 16 == 0,
            Check::EventErrorCode,
        )?;
        ensure(info & intr::RESERVED == 0, Check::EventReserved)?;
        if matches!(
            ty,
            intr::TYPE_SOFT_EXCEPTION | intr::TYPE_SOFT_INTR | intr::TYPE_PRIV_SW_EXCEPTION
        ) {
            let len = ctl(v, enc::VM_ENTRY_INSTRUCTION_LEN);
            ensure(
                len <= 15 && (len != 0 || caps.zero_len_injection()),
                Check::EventInstructionLength,
            )?;
        }
    }
    // nested_vmx_check_entry_msr_switch_controls().
    ensure(
        msr_switch_ok(
            m,
            ctl(v, enc::VM_ENTRY_MSR_LOAD_COUNT),
            v.field(enc::VM_ENTRY_MSR_LOAD_ADDR),
        ),
        Check::EntryMsrLoad,
    )
}

/// `nested_vmx_check_controls()`: execution, exit, entry controls.
pub(crate) fn check_controls(v: &Vmcs12, caps: &VmxCaps, m: &CpuModel) -> Result<(), Check> {
    check_execution_controls(v, caps, m)?;
    check_exit_controls(v, caps, m)?;
    check_entry_controls(v, caps, m)
}

/// `nested_vmx_check_address_space_size()` then
/// `nested_vmx_check_host_state()`: the host-state area L1 returns to.
pub(crate) fn check_host_state(
    v: &Vmcs12,
    caps: &VmxCaps,
    m: &CpuModel,
    env: &EntryEnv,
) -> Result<(), Check> {
    let exit_ctls = ctl(v, enc::VM_EXIT_CONTROLS);
    let ia32e = exit_ctls & exit::HOST_ADDR_SPACE_SIZE != 0;
    // KVM is a 64-bit kernel: L1 returns to the mode it left in.
    ensure(ia32e == env.l1_efer_lma, Check::AddressSpaceSize)?;
    let cr0 = v.field(enc::HOST_CR0);
    let cr4 = v.field(enc::HOST_CR4);
    ensure(caps.cr0_valid(cr0, false), Check::HostCr0)?;
    ensure(caps.cr4_valid(cr4) && m.is_valid_cr4(cr4), Check::HostCr4)?;
    ensure(m.is_legal_cr3(v.field(enc::HOST_CR3)), Check::HostCr3)?;
    ensure(cr4 & CR4_CET == 0 || cr0 & cr0::WP != 0, Check::HostCet)?;
    // MSR values and bases: canonical in the host's widest mode.
    let host_bits = virt_bits(env.host_la57);
    ensure(
        canonical(v.field(enc::HOST_IA32_SYSENTER_ESP), host_bits),
        Check::HostSysenterEsp,
    )?;
    ensure(
        canonical(v.field(enc::HOST_IA32_SYSENTER_EIP), host_bits),
        Check::HostSysenterEip,
    )?;
    if exit_ctls & exit::LOAD_PAT != 0 {
        ensure(pat_valid(v.field(enc::HOST_IA32_PAT)), Check::HostPat)?;
    }
    if exit_ctls & exit::LOAD_PERF_GLOBAL_CTRL != 0 {
        ensure(
            v.field(enc::HOST_IA32_PERF_GLOBAL_CTRL) & env.perf_global_ctrl_rsvd == 0,
            Check::HostPerfGlobalCtrl,
        )?;
    }
    let rip = v.field(enc::HOST_RIP);
    if ia32e {
        ensure(cr4 & cr4::PAE != 0, Check::HostCr4Pae)?;
    } else {
        ensure(
            ctl(v, enc::VM_ENTRY_CONTROLS) & entry::IA32E_MODE == 0,
            Check::HostIa32eGuest,
        )?;
        ensure(cr4 & cr4::PCIDE == 0, Check::HostPcide)?;
        ensure(rip >> 32 == 0, Check::HostRipHigh)?;
    }
    for sel in [
        enc::HOST_CS_SELECTOR,
        enc::HOST_SS_SELECTOR,
        enc::HOST_DS_SELECTOR,
        enc::HOST_ES_SELECTOR,
        enc::HOST_FS_SELECTOR,
        enc::HOST_GS_SELECTOR,
        enc::HOST_TR_SELECTOR,
    ] {
        ensure(v.field(sel) & SELECTOR_RPL_TI == 0, Check::HostSelector)?;
    }
    ensure(v.field(enc::HOST_CS_SELECTOR) != 0, Check::HostCsNull)?;
    ensure(v.field(enc::HOST_TR_SELECTOR) != 0, Check::HostTrNull)?;
    ensure(
        v.field(enc::HOST_SS_SELECTOR) != 0 || ia32e,
        Check::HostSsNull,
    )?;
    for base in [
        enc::HOST_FS_BASE,
        enc::HOST_GS_BASE,
        enc::HOST_GDTR_BASE,
        enc::HOST_IDTR_BASE,
        enc::HOST_TR_BASE,
    ] {
        ensure(canonical(v.field(base), host_bits), Check::HostBase)?;
    }
    // RIP, unlike the bases, in L1's current paging mode.
    ensure(canonical(rip, virt_bits(env.l1_cr4_la57)), Check::HostRip)?;
    if exit_ctls & exit::LOAD_EFER != 0 {
        let host_efer = v.field(enc::HOST_IA32_EFER);
        ensure(m.is_valid_efer(host_efer), Check::HostEfer)?;
        ensure(ia32e == (host_efer & efer::LMA != 0), Check::HostEferLma)?;
        ensure(ia32e == (host_efer & efer::LME != 0), Check::HostEferLme)?;
    }
    Ok(())
}

/// `nested_vmx_check_vmcs_link_ptr()`: a link pointer other than all
/// ones must be a page address within MAXPHYADDR whose VMCS (its first
/// word read by `read_link_hdr`, `None` if the memory cannot be read)
/// has KVM's revision and is a shadow VMCS exactly if vmcs12 uses VMCS
/// shadowing.
pub(crate) fn check_link_ptr(
    v: &Vmcs12,
    m: &CpuModel,
    read_link_hdr: impl FnOnce(u64) -> Option<u32>,
) -> Result<(), Check> {
    let link = v.field(enc::VMCS_LINK_POINTER);
    if link == INVALID_GPA {
        return Ok(());
    }
    ensure(page_ok(m, link), Check::LinkPtrAddress)?;
    let hdr = read_link_hdr(link).ok_or(Check::LinkPtrRead)?;
    ensure(
        hdr & !vmcs12::hdr::SHADOW_VMCS == vmcs12::REVISION,
        Check::LinkPtrRevision,
    )?;
    ensure(
        (hdr & vmcs12::hdr::SHADOW_VMCS != 0) == has2(v, proc2::SHADOW_VMCS),
        Check::LinkPtrShadow,
    )
}

/// `nested_vmx_check_guest_state()`: the guest-state area.  KVM checks
/// the guest EFER only while the entry is pending, which it always is
/// for VMLAUNCH and VMRESUME.
pub(crate) fn check_guest_state(
    v: &Vmcs12,
    caps: &VmxCaps,
    m: &CpuModel,
    env: &EntryEnv,
    read_link_hdr: impl FnOnce(u64) -> Option<u32>,
) -> Result<(), Check> {
    let entry_ctls = ctl(v, enc::VM_ENTRY_CONTROLS);
    let ia32e = entry_ctls & entry::IA32E_MODE != 0;
    let cr0 = v.field(enc::GUEST_CR0);
    let cr4 = v.field(enc::GUEST_CR4);
    ensure(
        caps.cr0_valid(cr0, has2(v, proc2::UNRESTRICTED_GUEST)),
        Check::GuestCr0,
    )?;
    ensure(caps.cr4_valid(cr4) && m.is_valid_cr4(cr4), Check::GuestCr4)?;
    ensure(cr4 & CR4_CET == 0 || cr0 & cr0::WP != 0, Check::GuestCet)?;
    if entry_ctls & entry::LOAD_DEBUG_CONTROLS != 0 {
        ensure(v.field(enc::GUEST_DR7) >> 32 == 0, Check::GuestDr7)?;
        ensure(
            v.field(enc::GUEST_IA32_DEBUGCTL) & !env.debugctl_ok == 0,
            Check::GuestDebugctl,
        )?;
    }
    if entry_ctls & entry::LOAD_PAT != 0 {
        ensure(pat_valid(v.field(enc::GUEST_IA32_PAT)), Check::GuestPat)?;
    }
    check_link_ptr(v, m, read_link_hdr)?;
    if entry_ctls & entry::LOAD_PERF_GLOBAL_CTRL != 0 {
        ensure(
            v.field(enc::GUEST_IA32_PERF_GLOBAL_CTRL) & env.perf_global_ctrl_rsvd == 0,
            Check::GuestPerfGlobalCtrl,
        )?;
    }
    ensure(
        cr0 & (cr0::PG | cr0::PE) != cr0::PG,
        Check::GuestPgWithoutPe,
    )?;
    ensure(!ia32e || cr4 & cr4::PAE != 0, Check::GuestIa32eWithoutPae)?;
    ensure(!ia32e || cr0 & cr0::PG != 0, Check::GuestIa32eWithoutPg)?;
    if entry_ctls & entry::LOAD_EFER != 0 {
        let guest_efer = v.field(enc::GUEST_IA32_EFER);
        ensure(m.is_valid_efer(guest_efer), Check::GuestEfer)?;
        ensure(ia32e == (guest_efer & efer::LMA != 0), Check::GuestEferLma)?;
        ensure(
            cr0 & cr0::PG == 0 || ia32e == (guest_efer & efer::LME != 0),
            Check::GuestEferLme,
        )?;
    }
    if entry_ctls & entry::LOAD_BNDCFGS != 0 {
        let bndcfgs = v.field(enc::GUEST_BNDCFGS);
        ensure(
            canonical(bndcfgs & !(PAGE_SIZE - 1), virt_bits(env.host_la57)),
            Check::GuestBndcfgsBase,
        )?;
        ensure(bndcfgs & BNDCFGS_RESERVED == 0, Check::GuestBndcfgsReserved)?;
    }
    // nested_check_guest_non_reg_state(): the states KVM emulates,
    // whatever MISC reports.
    let state = ctl(v, enc::GUEST_ACTIVITY_STATE);
    ensure(
        matches!(
            state,
            activity::ACTIVE | activity::HLT | activity::WAIT_SIPI
        ),
        Check::GuestActivityState,
    )
}

/// The check prepare_vmcs02() makes as it loads guest CR3
/// (nested_vmx_load_cr3()): CR3 within MAXPHYADDR, in every mode.
pub(crate) fn check_guest_cr3(v: &Vmcs12, m: &CpuModel) -> Result<(), Check> {
    ensure(m.is_legal_cr3(v.field(enc::GUEST_CR3)), Check::GuestCr3)
}

/// Every check of VMLAUNCH (`env.launch`) or VMRESUME before the
/// MSR-load list, in KVM's order; the first that fails.
/// `read_link_hdr` reads the first word of the VMCS the link pointer
/// names, if the checks get that far.
// The whole entry at once, for the host tests; the vCPU runs the stages
// itself, with nested_get_vmcs12_pages() between them.
#[allow(dead_code)]
pub(crate) fn check_entry(
    v: &Vmcs12,
    caps: &VmxCaps,
    m: &CpuModel,
    env: &EntryEnv,
    read_link_hdr: impl FnOnce(u64) -> Option<u32>,
) -> Result<(), Check> {
    check_launch(v, env.launch)?;
    check_controls(v, caps, m)?;
    check_host_state(v, caps, m, env)?;
    check_guest_state(v, caps, m, env, read_link_hdr)?;
    check_guest_cr3(v, m)
}

/// One entry of an MSR list (SDM 25.7.2, table 25-15; KVM's
/// `struct vmx_msr_entry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MsrEntry {
    /// Bits 31:0, the MSR index.
    pub(crate) index: u32,
    /// Bits 63:32, reserved.
    pub(crate) reserved: u32,
    /// Bits 127:64, the value.
    pub(crate) value: u64,
}

impl MsrEntry {
    /// Bytes of an entry.
    pub(crate) const SIZE: u64 = 16;

    /// The entry in the 16 bytes `b`, little-endian as in guest memory.
    pub(crate) fn from_bytes(b: &[u8; 16]) -> MsrEntry {
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        MsrEntry {
            index: u32_at(0),
            reserved: u32_at(4),
            value: u64::from(u32_at(8)) | u64::from(u32_at(12)) << 32,
        }
    }
}

/// `nested_vmx_load_msr_check()`: whether VM entry may load `e`.  Not
/// FS_BASE or GS_BASE (SDM 27.4: they come from the guest-state area),
/// not IA32_SMM_MONITOR_CTL (KVM has no SMM monitor), not an x2APIC MSR
/// (800h-8FFh) while L1's APIC is in x2APIC mode (`x2apic`), not the
/// microcode MSRs, and the reserved half zero.  The value is the MSR's
/// own business, when it is written.
pub(crate) fn check_msr_load_entry(e: &MsrEntry, x2apic: bool) -> bool {
    let refused = matches!(
        e.index,
        msr::FS_BASE | msr::GS_BASE | msr::SMM_MONITOR_CTL | msr::UCODE_WRITE | msr::UCODE_REV
    ) || (x2apic && e.index >> 8 == 0x8);
    !refused && e.reserved == 0
}

/// `nested_vmx_load_msr()`: loads the `count` entries at `addr` in order,
/// `read` reading the entry at a guest physical address (`None` if it
/// cannot) and `set` writing an MSR as L2's WRMSR would (false if the MSR
/// refuses the value).  `Err(i)` names the 1-based entry that failed:
/// one past `max` entries (checked as the list goes, so the entries
/// before are loaded, as the CPU does), unreadable, refused by
/// [`check_msr_load_entry`] or by `set`.
pub(crate) fn load_msr_list(
    addr: u64,
    count: u32,
    max: u32,
    x2apic: bool,
    mut read: impl FnMut(u64) -> Option<MsrEntry>,
    mut set: impl FnMut(u32, u64) -> bool,
) -> Result<(), u32> {
    for i in 0..count {
        // max is at most 4096, so i + 1 cannot wrap.
        let fail = Err(i + 1);
        if i >= max {
            return fail;
        }
        let gpa = addr.wrapping_add(u64::from(i) * MsrEntry::SIZE);
        let Some(e) = read(gpa) else {
            return fail;
        };
        if !check_msr_load_entry(&e, x2apic) || !set(e.index, e.value) {
            return fail;
        }
    }
    Ok(())
}

/// The VM-entry MSR-load list of `v` through [`load_msr_list`], with the
/// model's list limit (MISC bits 27:25).
pub(crate) fn load_msrs(
    v: &Vmcs12,
    caps: &VmxCaps,
    env: &EntryEnv,
    read: impl FnMut(u64) -> Option<MsrEntry>,
    set: impl FnMut(u32, u64) -> bool,
) -> Result<(), Check> {
    load_msr_list(
        v.field(enc::VM_ENTRY_MSR_LOAD_ADDR),
        ctl(v, enc::VM_ENTRY_MSR_LOAD_COUNT),
        caps.max_msr_list(),
        env.l1_x2apic,
        read,
        set,
    )
    .map_err(Check::MsrLoad)
}

/// A whole VM entry's verdict: [`check_entry`], then, if L2 would run,
/// [`load_msrs`].
#[allow(dead_code)]
pub(crate) fn vm_entry(
    v: &Vmcs12,
    caps: &VmxCaps,
    m: &CpuModel,
    env: &EntryEnv,
    read_link_hdr: impl FnOnce(u64) -> Option<u32>,
    read_msr: impl FnMut(u64) -> Option<MsrEntry>,
    set_msr: impl FnMut(u32, u64) -> bool,
) -> EntryVerdict {
    let checked = check_entry(v, caps, m, env, read_link_hdr)
        .and_then(|()| load_msrs(v, caps, env, read_msr, set_msr));
    match checked {
        Ok(()) => EntryVerdict::Enter,
        Err(c) => c.verdict(),
    }
}
