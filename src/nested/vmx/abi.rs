// SPDX-License-Identifier: GPL-2.0

//! The nested VMX commands' arguments, checked and turned into typed
//! requests: every rule an argument alone must follow (the vCPU's state
//! is the command's business, `src/nested/vmx/vcpu.rs`).
//!
//! Pure logic over the UAPI, host-tested.

use super::insn::{Insn, L1State, Outcome};
use crate::{abi::Invalid, nested::svm::abi::vcpu_id, uapi};

/// How a vCPU keeps the pages a running L2 uses in place
/// (`src/nested/vmx/apic.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Mapped from entry to exit, as 6.12 keeps them.
    Held,
    /// Through the vCPU's pfn caches.
    Cached,
}

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
        /// How L2's pages are kept.
        mode: Mode,
    },
    /// Destroy vCPU `id`.
    Destroy(usize),
}

/// Checks a `GUESTMAP_VMX_CREATE_VCPU` argument.
pub(crate) fn vcpu(req: &uapi::guestmap_vmx_vcpu) -> Result<VcpuReq, Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.flags & !uapi::GUESTMAP_VMX_VCPU_CACHED != 0 {
        return Err(Invalid("unknown vCPU flags"));
    }
    if req.nmsrs > uapi::GUESTMAP_VMX_MSRS_MAX {
        return Err(Invalid("more than GUESTMAP_VMX_MSRS_MAX MSRs"));
    }
    match req.nent {
        0 if req.nmsrs == 0 && req.flags == 0 => Ok(VcpuReq::Destroy(id)),
        0 => Err(Invalid("MSRs or flags given to destroy a vCPU")),
        n if n <= uapi::GUESTMAP_CPUID_MAX => Ok(VcpuReq::Create {
            id,
            nent: n as usize,
            entries: req.entries,
            nmsrs: req.nmsrs as usize,
            msrs: req.msrs,
            mode: if req.flags & uapi::GUESTMAP_VMX_VCPU_CACHED != 0 {
                Mode::Cached
            } else {
                Mode::Held
            },
        }),
        _ => Err(Invalid("more than GUESTMAP_CPUID_MAX CPUID entries")),
    }
}

/// Checks a `GUESTMAP_VMX_SET_L1` argument.
pub(crate) fn l1(req: &uapi::guestmap_vmx_l1) -> Result<(usize, L1State), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.flags & !uapi::GUESTMAP_VMX_L1_X2APIC != 0 || req.pad != 0 {
        return Err(Invalid("unknown L1 flags or pad"));
    }
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
            efer: req.efer,
            x2apic: req.flags & uapi::GUESTMAP_VMX_L1_X2APIC != 0,
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
        uapi::GUESTMAP_VMX_VMLAUNCH => Insn::Vmlaunch,
        uapi::GUESTMAP_VMX_VMRESUME => Insn::Vmresume,
        _ => return Err(Invalid("unknown VMX instruction")),
    };
    Ok((id, insn))
}

/// An outcome as `GUESTMAP_VMX_INSN` reports it: result, error, vector,
/// and the exit qualification of a failed entry.
pub(crate) fn to_uapi(o: Outcome) -> (u32, u32, u32, Option<u64>) {
    match o {
        Outcome::Succeed => (uapi::GUESTMAP_VMX_SUCCEED, 0, 0, None),
        Outcome::FailInvalid => (uapi::GUESTMAP_VMX_FAIL_INVALID, 0, 0, None),
        Outcome::FailValid(e) => (uapi::GUESTMAP_VMX_FAIL_VALID, e as u32, 0, None),
        Outcome::Exception(v) => (uapi::GUESTMAP_VMX_EXCEPTION, 0, v.into(), None),
        Outcome::Entered => (uapi::GUESTMAP_VMX_ENTERED, 0, 0, None),
        Outcome::Reflected(reason) => (uapi::GUESTMAP_VMX_REFLECTED, reason, 0, None),
        Outcome::EntryFailed { reason, qual } => {
            (uapi::GUESTMAP_VMX_ENTRY_FAILED, reason, 0, Some(qual))
        }
    }
}

/// L0's side of a vCPU: `GUESTMAP_VMX_OP`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// L0's own interception of an MSR.
    L0Msr {
        /// The MSR.
        msr: u32,
        /// Reads intercepted.
        read: bool,
        /// Writes intercepted.
        write: bool,
    },
    /// Whether an RDMSR (WRMSR if `write`) of L2 exits, and to whom.
    MsrExits {
        /// The MSR.
        msr: u32,
        /// A WRMSR.
        write: bool,
    },
    /// Posts interrupt `vector` in the PI descriptor.
    PostIntr(u8),
    /// Reads the virtual-APIC register at this offset.
    VapicRead(usize),
    /// Writes a virtual-APIC register.
    VapicWrite {
        /// Its offset.
        off: usize,
        /// The value.
        value: u32,
    },
    /// Logs a write of L2 to this guest physical address in the PML log.
    PmlLog(u64),
    /// Makes the enlightened VMCS at this address current; `None`: no
    /// eVMCS.
    Evmcs(Option<u64>),
    /// VM exit from L2 to L1.
    Vmexit {
        /// The exit reason.
        reason: u32,
        /// The exit qualification.
        qual: u64,
    },
}

/// Checks a `GUESTMAP_VMX_OP` argument.
pub(crate) fn op(req: &uapi::guestmap_vmx_op) -> Result<(usize, Op), Invalid> {
    let id = vcpu_id(req.vcpu)?;
    if req.pad != 0 {
        return Err(Invalid("non-zero pad"));
    }
    let msr = || u32::try_from(req.arg).map_err(|_| Invalid("MSR above 32 bits"));
    let msr_bits = uapi::GUESTMAP_VMX_MSR_READ | uapi::GUESTMAP_VMX_MSR_WRITE;
    // A register of the virtual-APIC page: 16-byte aligned, in the page.
    let vapic = || match usize::try_from(req.arg) {
        Ok(off) if off % 16 == 0 && off < 4096 => Ok(off),
        _ => Err(Invalid("not a virtual-APIC register offset")),
    };
    let op = match req.op {
        uapi::GUESTMAP_VMX_OP_L0_MSR if req.value & !u64::from(msr_bits) == 0 => Op::L0Msr {
            msr: msr()?,
            read: req.value & u64::from(uapi::GUESTMAP_VMX_MSR_READ) != 0,
            write: req.value & u64::from(uapi::GUESTMAP_VMX_MSR_WRITE) != 0,
        },
        uapi::GUESTMAP_VMX_OP_MSR_EXITS
            if req.value & !u64::from(uapi::GUESTMAP_VMX_MSR_WRITE) == 0 =>
        {
            Op::MsrExits {
                msr: msr()?,
                write: req.value != 0,
            }
        }
        uapi::GUESTMAP_VMX_OP_POST_INTR => {
            Op::PostIntr(u8::try_from(req.arg).map_err(|_| Invalid("vector above 255"))?)
        }
        uapi::GUESTMAP_VMX_OP_VAPIC_READ => Op::VapicRead(vapic()?),
        uapi::GUESTMAP_VMX_OP_VAPIC_WRITE => Op::VapicWrite {
            off: vapic()?,
            value: u32::try_from(req.value).map_err(|_| Invalid("register above 32 bits"))?,
        },
        uapi::GUESTMAP_VMX_OP_PML_LOG => Op::PmlLog(req.arg),
        // evmptr_is_valid(): ~0 is none, ~1 KVM's "map pending", none too.
        uapi::GUESTMAP_VMX_OP_EVMCS => Op::Evmcs((req.arg < u64::MAX - 1).then_some(req.arg)),
        uapi::GUESTMAP_VMX_OP_VMEXIT => Op::Vmexit {
            reason: u32::try_from(req.arg).map_err(|_| Invalid("exit reason above 32 bits"))?,
            qual: req.value,
        },
        _ => return Err(Invalid("unknown op or bad value")),
    };
    Ok((id, op))
}
