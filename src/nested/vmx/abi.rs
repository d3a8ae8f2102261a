// SPDX-License-Identifier: GPL-2.0

//! The nested VMX commands' arguments, checked and turned into typed
//! requests: every rule an argument alone must follow (the vCPU's state
//! is the command's business, `src/nested/vmx/vcpu.rs`).
//!
//! Pure logic over the UAPI, host-tested.

use super::insn::{Insn, L1State, Outcome};
use crate::{abi::Invalid, nested::svm::abi::vcpu_id, uapi};

/// `GUESTMAP_VMX_CREATE_VCPU`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VcpuReq {
    /// Create vCPU `id` with `nent` CPUID entries at user address
    /// `entries` and `nmsrs` capability MSRs at `msrs`.
    Create {
        /// The id.
        id: usize,
        /// How many CPUID entries.
        nent: usize,
        /// Where they are.
        entries: u64,
        /// How many capability MSRs.
        nmsrs: usize,
        /// Where they are.
        msrs: u64,
    },
    /// Destroy vCPU `id`.
    Destroy(usize),
}

/// Checks a `GUESTMAP_VMX_CREATE_VCPU` argument.
pub(crate) fn vcpu(req: &uapi::guestmap_vmx_vcpu) -> Result<VcpuReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.pad != 0 {
        return Err(Invalid("non-zero pad"));
    }
    if req.nmsrs > uapi::GUESTMAP_VMX_MSRS_MAX {
        return Err(Invalid("more than GUESTMAP_VMX_MSRS_MAX MSRs"));
    }
    match req.nent {
        0 if req.nmsrs == 0 => Ok(VcpuReq::Destroy(id)),
        0 => Err(Invalid("MSRs given to destroy a vCPU")),
        n if n <= uapi::GUESTMAP_CPUID_MAX => Ok(VcpuReq::Create {
            id,
            nent: n as usize,
            entries: req.entries,
            nmsrs: req.nmsrs as usize,
            msrs: req.msrs,
        }),
        _ => Err(Invalid("more than GUESTMAP_CPUID_MAX CPUID entries")),
    }
}

/// Checks a `GUESTMAP_VMX_SET_L1` argument.
pub(crate) fn l1(req: &uapi::guestmap_vmx_l1) -> Result<(usize, L1State), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    let cpl = u8::try_from(req.cpl)
        .ok()
        .filter(|c| *c <= 3)
        .ok_or(Invalid("CPL above 3"))?;
    Ok((
        id,
        L1State {
            cr0: req.cr0,
            cr4: req.cr4,
            cpl,
            feature_control: req.feature_control,
        },
    ))
}

/// Checks a `GUESTMAP_VMX_INSN` argument.
pub(crate) fn insn(req: &uapi::guestmap_vmx_insn) -> Result<(usize, Insn), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.pad != 0 {
        return Err(Invalid("non-zero pad"));
    }
    let insn = match req.insn {
        uapi::GUESTMAP_VMX_VMXON => Insn::Vmxon(req.operand),
        uapi::GUESTMAP_VMX_VMXOFF => Insn::Vmxoff,
        uapi::GUESTMAP_VMX_VMPTRLD => Insn::Vmptrld(req.operand),
        uapi::GUESTMAP_VMX_VMPTRST => Insn::Vmptrst,
        uapi::GUESTMAP_VMX_VMCLEAR => Insn::Vmclear(req.operand),
        uapi::GUESTMAP_VMX_VMREAD => Insn::Vmread(req.operand),
        uapi::GUESTMAP_VMX_VMWRITE => Insn::Vmwrite {
            field: req.operand,
            value: req.value,
        },
        _ => return Err(Invalid("unknown VMX instruction")),
    };
    Ok((id, insn))
}

/// An outcome as `GUESTMAP_VMX_INSN` reports it: result, error, vector.
pub(crate) fn to_uapi(o: Outcome) -> (u32, u32, u32) {
    match o {
        Outcome::Succeed => (uapi::GUESTMAP_VMX_SUCCEED, 0, 0),
        Outcome::FailInvalid => (uapi::GUESTMAP_VMX_FAIL_INVALID, 0, 0),
        Outcome::FailValid(e) => (uapi::GUESTMAP_VMX_FAIL_VALID, e as u32, 0),
        Outcome::Exception(v) => (uapi::GUESTMAP_VMX_EXCEPTION, 0, v.into()),
    }
}
