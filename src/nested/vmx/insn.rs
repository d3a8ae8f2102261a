// SPDX-License-Identifier: GPL-2.0

//! How the VMX instructions end (Intel SDM vol. 3C, 31.2 "Conventions"):
//! VMsucceed, VMfailInvalid (no current VMCS to hold an error number),
//! VMfailValid with a VM-instruction error number (31.4, table 31-1), or
//! a fault before any of them; and the rules VMXON, VMPTRLD and VMCLEAR
//! apply to their operand before touching guest memory, in the order
//! KVM 6.12 applies them (arch/x86/kvm/vmx/nested.c: handle_vmxon(),
//! nested_vmx_check_permission(), handle_vmptrld(), handle_vmclear()).
//!
//! Pure logic, host-tested.

/// A VM-instruction error number (SDM vol. 3C, table 31-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum InsnError {
    /// VMCLEAR with an invalid physical address.
    VmclearInvalidAddress = 2,
    /// VMCLEAR with the VMXON pointer.
    VmclearVmxonPointer = 3,
    /// VMLAUNCH with a non-clear VMCS.
    VmlaunchNonclear = 4,
    /// VMRESUME with a non-launched VMCS.
    VmresumeNonlaunched = 5,
    /// VM entry with invalid control field(s).
    EntryInvalidControl = 7,
    /// VM entry with invalid host-state field(s).
    EntryInvalidHostState = 8,
    /// VMPTRLD with an invalid physical address.
    VmptrldInvalidAddress = 9,
    /// VMPTRLD with the VMXON pointer.
    VmptrldVmxonPointer = 10,
    /// VMPTRLD with an incorrect VMCS revision identifier.
    VmptrldRevision = 11,
    /// VMREAD/VMWRITE from/to an unsupported VMCS component.
    UnsupportedComponent = 12,
    /// VMWRITE to a read-only VMCS component.
    VmwriteReadOnly = 13,
    /// VMXON executed in VMX root operation.
    VmxonInRoot = 15,
}

/// The end of a VMX instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// VMsucceed.
    Succeed,
    /// VMfailInvalid: there is no current VMCS to take an error number.
    FailInvalid,
    /// VMfailValid: the error number is written into the current VMCS's
    /// VM-instruction error field.
    FailValid(InsnError),
    /// A fault in L1 (#UD or #GP(0)), before the instruction did anything.
    Exception(u8),
    /// VMLAUNCH or VMRESUME entered L2.
    Entered,
    /// L2's instruction exits to L1 with this exit reason (the caller
    /// makes the VM exit).
    Reflected(u32),
    /// VMLAUNCH or VMRESUME ended in a VM-entry failure VM exit to L1.
    EntryFailed {
        /// The exit reason, bit 31 set.
        reason: u32,
        /// The exit qualification.
        qual: u64,
    },
}

/// A VMX instruction of L1, with its operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Insn {
    /// VMXON with the region at this address.
    Vmxon(u64),
    /// VMXOFF.
    Vmxoff,
    /// VMPTRLD of the vmcs12 at this address.
    Vmptrld(u64),
    /// VMPTRST.
    Vmptrst,
    /// VMCLEAR of the vmcs12 at this address.
    Vmclear(u64),
    /// VMREAD of this encoding.
    Vmread(u64),
    /// VMWRITE of a value to an encoding.
    Vmwrite {
        /// The encoding.
        field: u64,
        /// The value.
        value: u64,
    },
    /// VMLAUNCH.
    Vmlaunch,
    /// VMRESUME.
    Vmresume,
}

/// #UD.
pub(crate) const UD_VECTOR: u8 = 6;
/// #GP.
pub(crate) const GP_VECTOR: u8 = 13;

/// CR4.VMXE.
pub(crate) const CR4_VMXE: u64 = 1 << 13;
/// IA32_FEATURE_CONTROL bit 0, lock.
pub(crate) const FEAT_CTL_LOCKED: u64 = 1 << 0;
/// IA32_FEATURE_CONTROL bit 2, VMXON outside SMX.
pub(crate) const FEAT_CTL_VMX_OUTSIDE_SMX: u64 = 1 << 2;

/// The L1 state the VMX instructions depend on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct L1State {
    /// CR0.
    pub(crate) cr0: u64,
    /// CR4.
    pub(crate) cr4: u64,
    /// EFER.
    pub(crate) efer: u64,
    /// Whether L1's local APIC is in x2APIC mode.
    pub(crate) x2apic: bool,
    /// The current privilege level.
    pub(crate) cpl: u8,
    /// IA32_FEATURE_CONTROL.
    pub(crate) feature_control: u64,
}

/// Whether `gpa` may be a VMXON region or a VMCS: 4 KiB-aligned and
/// within MAXPHYADDR (`page_address_valid()`; IA32_VMX_BASIC\[48\] is 0
/// for KVM's nested VMX, so there is no 32-bit limit).
pub(crate) fn page_address_valid(gpa: u64, maxphyaddr: u8) -> bool {
    gpa & 0xfff == 0 && gpa.checked_shr(maxphyaddr.into()).unwrap_or(0) == 0
}

/// The checks of VMXON up to reading the region, in handle_vmxon()'s
/// order: CR4.VMXE (#UD), CPL (#GP), already in VMX operation
/// (VMfailValid 15), CR0 and CR4 against the fixed bits (#GP),
/// IA32_FEATURE_CONTROL locked with VMX outside SMX (#GP), the region's
/// address (VMfailInvalid).  `None` if VMXON may go on to read the
/// revision identifier; `fixed_ok` is the CR0/CR4 fixed-bit verdict.
pub(crate) fn vmxon_checks(
    l1: &L1State,
    in_vmx: bool,
    fixed_ok: bool,
    gpa: u64,
    maxphyaddr: u8,
) -> Option<Outcome> {
    let needed = FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX;
    if l1.cr4 & CR4_VMXE == 0 {
        Some(Outcome::Exception(UD_VECTOR))
    } else if l1.cpl != 0 {
        Some(Outcome::Exception(GP_VECTOR))
    } else if in_vmx {
        Some(Outcome::FailValid(InsnError::VmxonInRoot))
    } else if !fixed_ok || l1.feature_control & needed != needed {
        Some(Outcome::Exception(GP_VECTOR))
    } else if !page_address_valid(gpa, maxphyaddr) {
        Some(Outcome::FailInvalid)
    } else {
        None
    }
}

/// nested_vmx_check_permission(), which every VMX instruction but VMXON
/// starts with: #UD outside VMX operation, #GP(0) at CPL above 0.
pub(crate) fn check_permission(l1: &L1State, in_vmx: bool) -> Option<Outcome> {
    if !in_vmx {
        Some(Outcome::Exception(UD_VECTOR))
    } else if l1.cpl != 0 {
        Some(Outcome::Exception(GP_VECTOR))
    } else {
        None
    }
}

/// Which of VMPTRLD and VMCLEAR a pointer check is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PtrInsn {
    /// VMPTRLD.
    Vmptrld,
    /// VMCLEAR.
    Vmclear,
}

/// The operand checks of VMPTRLD and VMCLEAR: the address (error 9 or
/// 2), then the VMXON pointer (error 10 or 3).
pub(crate) fn ptr_checks(insn: PtrInsn, gpa: u64, vmxon: u64, maxphyaddr: u8) -> Option<Outcome> {
    let (bad, is_vmxon) = match insn {
        PtrInsn::Vmptrld => (
            InsnError::VmptrldInvalidAddress,
            InsnError::VmptrldVmxonPointer,
        ),
        PtrInsn::Vmclear => (
            InsnError::VmclearInvalidAddress,
            InsnError::VmclearVmxonPointer,
        ),
    };
    if !page_address_valid(gpa, maxphyaddr) {
        Some(Outcome::FailValid(bad))
    } else if gpa == vmxon {
        Some(Outcome::FailValid(is_vmxon))
    } else {
        None
    }
}
