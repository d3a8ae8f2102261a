// SPDX-License-Identifier: GPL-2.0

//! A nested VMX vCPU: the memory side of KVM's nested VMX
//! (arch/x86/kvm/vmx/nested.c in 6.12) on guestmap's mapping API.
//!
//! The vCPU keeps what KVM keeps in `struct nested_vmx`: whether L1 is
//! in VMX operation and its VMXON pointer, the current VMCS pointer, and
//! the copy of the current vmcs12 (KVM's `cached_vmcs12`) that VMREAD,
//! VMWRITE and VM entry use.  Guest memory is reached only inside a
//! call, through the memslots' user mappings (`src/nested/mem.rs`), with
//! the slot table held shared by the caller (`src/context.rs`): VMXON
//! reads four bytes, VMPTRLD reads the header and then the 4 KiB vmcs12,
//! VMCLEAR and a VMPTRLD of another vmcs12 write the copy back.
//!
//! Nothing is mapped or pinned between calls; the vCPU keeps guest
//! physical addresses only.  So a slot deleted, re-created, unmapped or
//! remapped between two instructions leaves nothing stale: the next
//! access looks the address up again, and meets the memory user space
//! has there now, or no memory (which reads as all ones and drops
//! writes, as in KVM).

use super::{
    capabilities::{proc2, Ctl, VmxCaps},
    insn::{self, Insn, InsnError, L1State, Outcome, PtrInsn},
    vmcs12::{self, enc, Vmcs12},
};
use crate::{
    nested::{cpu::CpuModel, mem},
    slot_table::SlotTable,
};
use kernel::{init, prelude::*};

/// The "no VMCS" pointer, VMPTRST's answer without a current VMCS.
const INVALID_GPA: u64 = u64::MAX;

/// One nested VMX vCPU.
pub(crate) struct VmxVcpu {
    /// The guest CPU model: MAXPHYADDR.
    model: CpuModel,
    /// The VMX capability MSRs.
    caps: VmxCaps,
    /// L1's state.
    l1: L1State,
    /// In VMX operation: the VMXON pointer.
    vmxon: Option<u64>,
    /// The current VMCS pointer, if any.
    current: Option<u64>,
    /// The copy of the current vmcs12; meaningless without one.
    vmcs12: KBox<Vmcs12>,
}

impl VmxVcpu {
    /// A vCPU of CPU model `model` and capabilities `caps`, outside VMX
    /// operation, its L1 state all zero.
    pub(crate) fn new(model: CpuModel, caps: VmxCaps) -> Result<VmxVcpu> {
        let vmcs12 = KBox::init(
            init!(Vmcs12 {
                bytes <- init::zeroed(),
            }),
            GFP_KERNEL,
        )?;
        Ok(VmxVcpu {
            model,
            caps,
            l1: L1State::default(),
            vmxon: None,
            current: None,
            vmcs12,
        })
    }

    /// Sets L1's state.
    pub(crate) fn set_l1(&mut self, l1: L1State) -> Result {
        self.l1 = l1;
        Ok(())
    }

    /// MAXPHYADDR, as the operand checks take it.
    fn maxphyaddr(&self) -> u8 {
        // CpuModel keeps it within 32-52.
        self.model.maxphyaddr() as u8
    }

    /// Executes `insn` as L1: its outcome, and the value VMREAD read or
    /// VMPTRST stored, if it did.
    pub(crate) fn execute(&mut self, slots: &SlotTable, insn: Insn) -> (Outcome, Option<u64>) {
        let mut value = None;
        let outcome = match insn {
            Insn::Vmxon(gpa) => self.vmxon(slots, gpa),
            other => match insn::check_permission(&self.l1, self.vmxon.is_some()) {
                Some(fault) => fault,
                None => self.in_vmx(slots, other, &mut value),
            },
        };
        // A VMfailValid without a current VMCS is a VMfailInvalid; with
        // one, the error number goes into it (nested_vmx_fail()).
        let outcome = match outcome {
            Outcome::FailValid(_) if self.current.is_none() => Outcome::FailInvalid,
            Outcome::FailValid(e) => {
                self.vmcs12.set_field(enc::VM_INSTRUCTION_ERROR, e as u64);
                Outcome::FailValid(e)
            }
            o => o,
        };
        (outcome, value)
    }

    /// handle_vmxon().
    fn vmxon(&mut self, slots: &SlotTable, gpa: u64) -> Outcome {
        let fixed_ok = self.caps.cr0_valid(self.l1.cr0, false) && self.caps.cr4_valid(self.l1.cr4);
        if let Some(o) = insn::vmxon_checks(
            &self.l1,
            self.vmxon.is_some(),
            fixed_ok,
            gpa,
            self.maxphyaddr(),
        ) {
            return o;
        }
        // The revision identifier, read directly from guest memory:
        // memory that cannot be read fails like a wrong identifier.
        match mem::read_u32(slots, gpa) {
            Some(vmcs12::REVISION) => {
                self.vmxon = Some(gpa);
                Outcome::Succeed
            }
            _ => Outcome::FailInvalid,
        }
    }

    /// The instructions that need VMX operation, after the permission
    /// check.
    fn in_vmx(&mut self, slots: &SlotTable, insn: Insn, value: &mut Option<u64>) -> Outcome {
        let vmxon = self.vmxon.unwrap_or(INVALID_GPA);
        match insn {
            // execute() gives VMXON its own checks; in VMX operation they
            // end here.
            Insn::Vmxon(_) => Outcome::FailValid(InsnError::VmxonInRoot),
            // free_nested(): the current vmcs12 is dropped, not written
            // back; L1 VMCLEARs what it wants in memory before VMXOFF.
            Insn::Vmxoff => {
                self.vmxon = None;
                self.current = None;
                Outcome::Succeed
            }
            Insn::Vmptrst => {
                *value = Some(self.current.unwrap_or(INVALID_GPA));
                Outcome::Succeed
            }
            Insn::Vmptrld(gpa) => {
                if let Some(o) = insn::ptr_checks(PtrInsn::Vmptrld, gpa, vmxon, self.maxphyaddr()) {
                    return o;
                }
                self.vmptrld(slots, gpa)
            }
            Insn::Vmclear(gpa) => {
                if let Some(o) = insn::ptr_checks(PtrInsn::Vmclear, gpa, vmxon, self.maxphyaddr()) {
                    return o;
                }
                if self.current == Some(gpa) {
                    self.release(slots);
                }
                // KVM ignores a failed write here: the SDM's VMCLEAR only
                // ensures data already in memory.
                let _ = mem::write(slots, gpa + vmcs12::hdr::LAUNCH_STATE as u64, &[0; 4]);
                Outcome::Succeed
            }
            Insn::Vmread(field) => {
                if self.current.is_none() {
                    return Outcome::FailInvalid;
                }
                match self.vmcs12.vmread(field) {
                    Some(v) => {
                        *value = Some(v);
                        Outcome::Succeed
                    }
                    None => Outcome::FailValid(InsnError::UnsupportedComponent),
                }
            }
            Insn::Vmwrite { field, value: v } => {
                if self.current.is_none() {
                    return Outcome::FailInvalid;
                }
                match self.vmcs12.vmwrite(field, v, self.caps.vmwrite_any_field()) {
                    Ok(()) => Outcome::Succeed,
                    Err(e) => Outcome::FailValid(e),
                }
            }
        }
    }

    /// handle_vmptrld() past the operand checks.
    fn vmptrld(&mut self, slots: &SlotTable, gpa: u64) -> Outcome {
        if self.current == Some(gpa) {
            return Outcome::Succeed;
        }
        let revision_error = Outcome::FailValid(InsnError::VmptrldRevision);
        // The header first: reads from an unbacked page are all ones, so
        // missing memory is a wrong revision identifier.
        let Some(hdr) = mem::read_u32(slots, gpa) else {
            return revision_error;
        };
        let shadow = hdr & vmcs12::hdr::SHADOW_VMCS != 0;
        if hdr & !vmcs12::hdr::SHADOW_VMCS != vmcs12::REVISION
            || (shadow && !self.caps.allowed1(Ctl::Proc2, proc2::SHADOW_VMCS))
        {
            return revision_error;
        }
        self.release(slots);
        if mem::read(slots, gpa, &mut self.vmcs12.bytes).is_err() {
            // There is no current VMCS any more: the failure is
            // VMfailInvalid, as in KVM.
            return revision_error;
        }
        self.current = Some(gpa);
        Outcome::Succeed
    }

    /// nested_release_vmcs12(): writes the copy back to the current
    /// vmcs12 in guest memory, all 4 KiB, and leaves no current VMCS.
    /// KVM ignores a failed write (the memory is gone or read-only to
    /// the guest), and so does this.
    fn release(&mut self, slots: &SlotTable) {
        if let Some(gpa) = self.current.take() {
            let _ = mem::write(slots, gpa, &self.vmcs12.bytes);
        }
    }
}
