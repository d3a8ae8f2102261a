// SPDX-License-Identifier: GPL-2.0

//! The nested SVM commands' arguments, checked and turned into typed
//! requests: every rule an argument alone must follow (the vCPU's state
//! is the command's business, `src/nested/svm/vcpu.rs`).
//!
//! Pure logic over the UAPI, host-tested.

use super::checks::L1State;
use crate::{abi::Invalid, uapi};

/// A vCPU id, checked: below `GUESTMAP_MAX_VCPUS`.
pub(crate) fn vcpu_id(id: u32) -> Result<usize, Invalid> {
    if id < uapi::GUESTMAP_MAX_VCPUS {
        Ok(id as usize)
    } else {
        Err(Invalid("no such vCPU id"))
    }
}

/// `GUESTMAP_SVM_CREATE_VCPU`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VcpuReq {
    /// Create vCPU `id` with the CPUID entries at user address
    /// `entries`, `nent` of them.
    Create {
        /// The id.
        id: usize,
        /// How many entries.
        nent: usize,
        /// Where they are.
        entries: u64,
        /// Whether L0 uses nested paging.
        l0_npt: bool,
    },
    /// Destroy vCPU `id`.
    Destroy(usize),
}

/// Checks a `GUESTMAP_SVM_CREATE_VCPU` argument.
pub(crate) fn vcpu(req: &uapi::guestmap_svm_vcpu) -> Result<VcpuReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.flags & !uapi::GUESTMAP_SVM_VCPU_NO_NPT != 0 || req.pad != 0 {
        return Err(Invalid("unknown vCPU flags or pad"));
    }
    match req.nent {
        0 => Ok(VcpuReq::Destroy(id)),
        n if n <= uapi::GUESTMAP_CPUID_MAX => Ok(VcpuReq::Create {
            id,
            nent: n as usize,
            entries: req.entries,
            l0_npt: req.flags & uapi::GUESTMAP_SVM_VCPU_NO_NPT == 0,
        }),
        _ => Err(Invalid("more than GUESTMAP_CPUID_MAX CPUID entries")),
    }
}

/// Checks a `GUESTMAP_SVM_SET_L1` argument; the CPU model's rules are
/// checked by the vCPU.
pub(crate) fn l1(req: &uapi::guestmap_svm_l1) -> Result<(usize, L1State), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.flags & !uapi::GUESTMAP_SVM_L1_SMM != 0 || req.pad != 0 {
        return Err(Invalid("unknown L1 flags or pad"));
    }
    let cpl = u8::try_from(req.cpl)
        .ok()
        .filter(|c| *c <= 3)
        .ok_or(Invalid("CPL above 3"))?;
    Ok((
        id,
        L1State {
            efer: req.efer,
            cr0: req.cr0,
            cpl,
            hsave_pa: req.hsave_pa,
            smm: req.flags & uapi::GUESTMAP_SVM_L1_SMM != 0,
        },
    ))
}

/// `GUESTMAP_SVM_SET_L0_MSR`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct L0MsrReq {
    /// The vCPU.
    pub(crate) id: usize,
    /// The MSR, in one of the map's ranges.
    pub(crate) msr: u32,
    /// Whether L0 intercepts RDMSR.
    pub(crate) read: bool,
    /// Whether L0 intercepts WRMSR.
    pub(crate) write: bool,
}

/// Checks a `GUESTMAP_SVM_SET_L0_MSR` argument.
pub(crate) fn l0_msr(req: &uapi::guestmap_svm_l0_msr) -> Result<L0MsrReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    let rw = uapi::GUESTMAP_SVM_MSR_READ | uapi::GUESTMAP_SVM_MSR_WRITE;
    if req.intercept & !rw != 0 || req.pad != 0 {
        return Err(Invalid("unknown intercept bits or pad"));
    }
    if super::permmap::msr_bits(req.msr).is_none() {
        return Err(Invalid("MSR outside the permission map"));
    }
    Ok(L0MsrReq {
        id,
        msr: req.msr,
        read: req.intercept & uapi::GUESTMAP_SVM_MSR_READ != 0,
        write: req.intercept & uapi::GUESTMAP_SVM_MSR_WRITE != 0,
    })
}

/// `GUESTMAP_SVM_VMRUN`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VmrunReq {
    /// The vCPU.
    pub(crate) id: usize,
    /// VMCB12's guest frame.
    pub(crate) gfn: u64,
    /// Through the vCPU's pfn cache.
    pub(crate) cached: bool,
}

/// Checks a `GUESTMAP_SVM_VMRUN` argument.
pub(crate) fn vmrun(req: &uapi::guestmap_svm_vmrun) -> Result<VmrunReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.flags & !uapi::GUESTMAP_SVM_RUN_CACHED != 0 || req.pad != 0 {
        return Err(Invalid("unknown VMRUN flags or pad"));
    }
    if req.vmcb12_gpa & 0xfff != 0 {
        return Err(Invalid("VMCB12 not page aligned"));
    }
    Ok(VmrunReq {
        id,
        gfn: req.vmcb12_gpa >> 12,
        cached: req.flags & uapi::GUESTMAP_SVM_RUN_CACHED != 0,
    })
}

/// An access of L2 that may exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum L2Access {
    /// RDMSR (`write` false) or WRMSR of `msr`.
    Msr {
        /// The MSR.
        msr: u32,
        /// WRMSR.
        write: bool,
    },
    /// IN or OUT of `size` bytes at `port`.
    Io {
        /// The port.
        port: u32,
        /// 1, 2 or 4.
        size: u32,
    },
}

/// Checks a `GUESTMAP_SVM_INTERCEPT` argument.
pub(crate) fn intercept(req: &uapi::guestmap_svm_intercept) -> Result<(usize, L2Access), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.pad != 0 {
        return Err(Invalid("pad"));
    }
    let access = match req.op {
        uapi::GUESTMAP_SVM_RDMSR | uapi::GUESTMAP_SVM_WRMSR if req.size == 0 => L2Access::Msr {
            msr: req.index,
            write: req.op == uapi::GUESTMAP_SVM_WRMSR,
        },
        uapi::GUESTMAP_SVM_IN | uapi::GUESTMAP_SVM_OUT
            if super::permmap::io_bits(req.index, req.size).is_some() =>
        {
            L2Access::Io {
                port: req.index,
                size: req.size,
            }
        }
        _ => return Err(Invalid("unknown intercept op, or bad index or size")),
    };
    Ok((id, access))
}

/// `GUESTMAP_SVM_VMEXIT`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VmexitReq {
    /// The vCPU.
    pub(crate) id: usize,
    /// Exit code.
    pub(crate) code: u64,
    /// EXITINFO1.
    pub(crate) info_1: u64,
    /// EXITINFO2.
    pub(crate) info_2: u64,
    /// EXITINTINFO and its error code.
    pub(crate) int_info: u64,
}

/// Checks a `GUESTMAP_SVM_VMEXIT` argument.
pub(crate) fn vmexit(req: &uapi::guestmap_svm_vmexit) -> Result<VmexitReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.pad != 0 {
        return Err(Invalid("pad"));
    }
    Ok(VmexitReq {
        id,
        code: req.exit_code,
        info_1: req.exit_info_1,
        info_2: req.exit_info_2,
        int_info: req.exit_int_info,
    })
}
