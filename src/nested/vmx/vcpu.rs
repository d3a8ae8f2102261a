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
//! Outside guest mode nothing is mapped or pinned between calls; the
//! vCPU keeps guest physical addresses only.  So a slot deleted,
//! re-created, unmapped or remapped between two instructions leaves
//! nothing stale: the next access looks the address up again, and meets
//! the memory user space has there now, or no memory (which reads as all
//! ones and drops writes, as in KVM).
//!
//! VM entry (VMLAUNCH, VMRESUME) judges the copy (`checks.rs`), merges
//! L1's MSR bitmap into the vCPU's own with the bitmap page mapped only
//! while merging, copies the shadow vmcs12 the VMCS link pointer names,
//! and attaches the pages L2 uses in place (`apic.rs`, held or cached).
//! They stay attached until VM exit (or the vCPU's destruction), which
//! writes the exit into vmcs12 and the copies back to guest memory.

use super::{
    abi::{Mode, Op},
    apic::{ApicPage, Attached},
    capabilities::{pin, proc, proc2, Ctl, VmxCaps},
    checks::{self, debugctl, has, has2, has_pin, EntryEnv, EntryVerdict, MsrEntry},
    evmcs,
    insn::{self, Insn, InsnError, L1State, Outcome, PtrInsn},
    msr_bitmap::{self, MsrBitmap},
    vmcs12::{self, enc, Vmcs12},
};
use crate::{
    guest::GuestPage,
    nested::{
        cpu::{CpuModel, Feature},
        mem,
        vcpus::cache_of,
    },
    pfncache::CacheAccess,
    pte::{GfnRange, PAGE_SHIFT},
    slot_table::SlotTable,
    sys::{
        frame::{Access, FrameError},
        walk::CpuPte,
    },
    uapi,
};
use kernel::{init, prelude::*};

/// The EFER bit of long mode active.
const EFER_LMA: u64 = 1 << 10;
/// CR4.LA57.
const CR4_LA57: u64 = 1 << 12;
/// Exit reasons of L2's VMREAD and VMWRITE (SDM appendix C).
const EXIT_REASON_VMREAD: u32 = 23;
const EXIT_REASON_VMWRITE: u32 = 25;
/// Bit 31 of an exit reason: the VM entry failed.
const EXIT_REASON_FAILED_VMENTRY: u32 = 1 << 31;
/// Bit 31 of an interruption-information field: valid.
const INTR_INFO_VALID: u64 = 1 << 31;
/// Entries of the PML log (KVM's `PML_ENTITY_NUM`).
const PML_ENTRIES: u64 = 512;
/// Gives up a mapping of L1's MSR bitmap after this many mappings undone
/// by invalidations before they could be read.
const MAX_TRIES: u32 = 1000;

/// The vCPU's large state, initialised in place.
struct Big {
    /// The copy of the current vmcs12.
    vmcs12: Vmcs12,
    /// The copy of the shadow vmcs12 of a running L2.
    shadow: Vmcs12,
    /// L0's own MSR intercepts.
    l0: MsrBitmap,
    /// The bitmap L2 runs on: L0's and L1's merged at the last entry.
    merged: MsrBitmap,
    /// L1's bitmap as the last merge read it.
    l1: MsrBitmap,
    /// The current eVMCS as last read.
    ebuf: [u8; evmcs::SIZE],
}

/// The mapped enlightened VMCS (KVM's `hv_evmcs_vmptr` and its map).
struct Evmcs {
    /// Its guest physical address.
    gpa: u64,
    /// Its page, kept as L2's pages are.
    page: Attached,
}

/// L2, while the vCPU is in guest mode.
struct L2 {
    /// The pages L2 uses in place: virtual-APIC page, posted-interrupt
    /// descriptor, APIC-access page.
    vapic: Option<Attached>,
    pi_desc: Option<Attached>,
    apic_access: Option<Attached>,
    /// The shadow vmcs12's address, if L1 uses VMCS shadowing.
    shadow: Option<u64>,
}

impl L2 {
    /// Detaches the pages (VM exit, a failed entry, or the vCPU's
    /// destruction).  The virtual-APIC page and the descriptor are marked
    /// dirty, the APIC-access page not, as nested_vmx_vmexit() unmaps
    /// them.
    fn detach(self) {
        for (page, dirty) in [
            (self.vapic, true),
            (self.pi_desc, true),
            (self.apic_access, false),
        ] {
            if let Some(page) = page {
                page.detach(dirty);
            }
        }
    }
}

/// The "no VMCS" pointer, VMPTRST's answer without a current VMCS.
const INVALID_GPA: u64 = u64::MAX;

/// One nested VMX vCPU.
pub(crate) struct VmxVcpu {
    /// The vCPU's id: its pfn cache views.
    id: usize,
    /// How L2's pages are kept.
    mode: Mode,
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
    /// In guest mode: L2.
    l2: Option<L2>,
    /// The enlightened VMCS L1 names (its VP assist page's
    /// `current_nested_vmcs`, with enlightened VM entry on), if any.
    evmptr: Option<u64>,
    /// The enlightened VMCS mapped, from the first VMLAUNCH or VMRESUME
    /// that uses it until VMCLEAR of it, VMXOFF or another one.
    evmcs: Option<Evmcs>,
    /// vmcs12 still to be synced into the eVMCS.
    sync_pending: bool,
    /// The copies and bitmaps.
    big: KBox<Big>,
}

impl Drop for VmxVcpu {
    fn drop(&mut self) {
        // A vCPU destroyed in guest mode drops L2 and lets its pages go.
        if let Some(l2) = self.l2.take() {
            l2.detach();
        }
        if let Some(e) = self.evmcs.take() {
            e.page.detach(true);
        }
    }
}

impl VmxVcpu {
    /// A vCPU of CPU model `model` and capabilities `caps`, outside VMX
    /// operation, its L1 state all zero.
    pub(crate) fn new(id: usize, mode: Mode, model: CpuModel, caps: VmxCaps) -> Result<VmxVcpu> {
        let mut big = KBox::init(
            init!(Big {
                vmcs12 <- init!(Vmcs12 { bytes <- init::zeroed() }),
                shadow <- init!(Vmcs12 { bytes <- init::zeroed() }),
                l0 <- init!(MsrBitmap { words <- init::zeroed() }),
                merged <- init!(MsrBitmap { words <- init::zeroed() }),
                l1 <- init!(MsrBitmap { words <- init::zeroed() }),
                ebuf <- init::zeroed(),
            }),
            GFP_KERNEL,
        )?;
        // L0 starts intercepting every MSR, and so does L2.
        big.l0.intercept_all();
        big.merged.intercept_all();
        Ok(VmxVcpu {
            id,
            mode,
            model,
            caps,
            l1: L1State::default(),
            vmxon: None,
            current: None,
            l2: None,
            evmptr: None,
            evmcs: None,
            sync_pending: false,
            big,
        })
    }

    /// Sets L1's state; `EBUSY` in guest mode.
    pub(crate) fn set_l1(&mut self, l1: L1State) -> Result {
        if self.l2.is_some() {
            return Err(EBUSY);
        }
        self.l1 = l1;
        Ok(())
    }

    /// MAXPHYADDR, as the operand checks take it.
    fn maxphyaddr(&self) -> u8 {
        // CpuModel keeps it within 32-52.
        self.model.maxphyaddr() as u8
    }

    /// Executes `insn` as L1 (in guest mode, VMREAD and VMWRITE as L2):
    /// its outcome, and the value VMREAD read or VMPTRST stored, if it
    /// did.  An entry whose pages cannot be attached fails with their
    /// errno and changes nothing; in guest mode any other instruction is
    /// `EBUSY`.
    pub(crate) fn execute(
        &mut self,
        slots: &SlotTable,
        insn: Insn,
    ) -> Result<(Outcome, Option<u64>)> {
        let mut value = None;
        if self.sync_pending {
            self.sync_evmcs(slots);
        }
        // With an eVMCS mapped, KVM's VMPTRST and its VMPTRLD (past the
        // permission and operand checks) return with neither VMsucceed
        // nor VMfail: both refused here.
        if self.evmcs.is_some() && self.l2.is_none() && self.vmxon.is_some() {
            let refused = match insn {
                Insn::Vmptrst => insn::check_permission(&self.l1, true).is_none(),
                Insn::Vmptrld(gpa) => {
                    let vmxon = self.vmxon.unwrap_or(INVALID_GPA);
                    insn::check_permission(&self.l1, true).is_none()
                        && insn::ptr_checks(PtrInsn::Vmptrld, gpa, vmxon, self.maxphyaddr())
                            .is_none()
                }
                _ => false,
            };
            if refused {
                return Err(EBUSY);
            }
        }
        if let Some(l2) = &self.l2 {
            return match insn {
                Insn::Vmread(_) | Insn::Vmwrite { .. } => {
                    let has_shadow = l2.shadow.is_some();
                    if let Some(reason) = self.l1_wants_vmcs_access(slots, insn) {
                        return Ok((Outcome::Reflected(reason), None));
                    }
                    Ok((self.l2_vmcs(has_shadow, insn, &mut value), value))
                }
                _ => Err(EBUSY),
            };
        }
        let outcome = match insn {
            Insn::Vmxon(gpa) => self.vmxon(slots, gpa),
            other => match insn::check_permission(&self.l1, self.vmxon.is_some()) {
                Some(fault) => fault,
                None if matches!(other, Insn::Vmlaunch | Insn::Vmresume) => {
                    self.enter(slots, other == Insn::Vmlaunch)?
                }
                // VMREAD with an eVMCS mapped reads it; a signal during a
                // cached page's refresh fails the ioctl.
                None if self.evmcs.is_some() && matches!(other, Insn::Vmread(_)) => {
                    let Insn::Vmread(field) = other else {
                        return Err(EINVAL);
                    };
                    self.evmcs_vmread(slots, field, &mut value)?
                }
                None => self.in_vmx(slots, other, &mut value),
            },
        };
        // A VMfailValid without a current VMCS is a VMfailInvalid; with
        // one, the error number goes into it (nested_vmx_fail()).
        let outcome = match outcome {
            Outcome::FailValid(_) if self.current.is_none() && self.evmcs.is_none() => {
                Outcome::FailInvalid
            }
            Outcome::FailValid(e) => {
                self.big
                    .vmcs12
                    .set_field(enc::VM_INSTRUCTION_ERROR, e as u64);
                Outcome::FailValid(e)
            }
            o => o,
        };
        // nested_vmx_failValid() and a failed entry's exit sync vmcs12 to
        // the eVMCS, which "shadows" all of it, before L1 goes on.
        if matches!(outcome, Outcome::FailValid(_) | Outcome::EntryFailed { .. }) {
            self.sync_evmcs(slots);
        }
        Ok((outcome, value))
    }

    /// nested_vmx_exit_handled_vmcs_access(): whether L2's VMREAD or
    /// VMWRITE exits to L1, and with which exit reason (23 or 25): always
    /// without VMCS shadowing or for an encoding above bit 14, else if
    /// the field's bit in L1's VMREAD or VMWRITE bitmap is set (read from
    /// guest memory now; a bitmap that cannot be read exits too).
    fn l1_wants_vmcs_access(&self, slots: &SlotTable, insn: Insn) -> Option<u32> {
        let v = &self.big.vmcs12;
        let (field, reason, bitmap) = match insn {
            Insn::Vmread(f) => (f, EXIT_REASON_VMREAD, enc::VMREAD_BITMAP),
            Insn::Vmwrite { field, .. } => (field, EXIT_REASON_VMWRITE, enc::VMWRITE_BITMAP),
            _ => return None,
        };
        if !has2(v, proc2::SHADOW_VMCS) || field >> 15 != 0 {
            return Some(reason);
        }
        let mut b = [0u8; 1];
        let Some(gpa) = v.field(bitmap).checked_add(field / 8) else {
            return Some(reason);
        };
        match mem::read(slots, gpa, &mut b) {
            Ok(()) if b[0] & (1 << (field % 8)) == 0 => None,
            _ => Some(reason),
        }
    }

    /// VMREAD or VMWRITE by L2 that L1 does not want, on the shadow
    /// vmcs12 (handle_vmread() and handle_vmwrite() in guest mode):
    /// VMfailInvalid if the VMCS link pointer names none.
    fn l2_vmcs(&mut self, has_shadow: bool, insn: Insn, value: &mut Option<u64>) -> Outcome {
        if !has_shadow {
            return Outcome::FailInvalid;
        }
        let shadow = &mut self.big.shadow;
        let result = match insn {
            Insn::Vmread(field) => shadow
                .vmread(field)
                .map(|v| *value = Some(v))
                .ok_or(InsnError::UnsupportedComponent),
            Insn::Vmwrite { field, value: v } => {
                shadow.vmwrite(field, v, self.caps.vmwrite_any_field())
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => Outcome::Succeed,
            // The error number goes to the current vmcs12, L1's.
            Err(e) => {
                self.big
                    .vmcs12
                    .set_field(enc::VM_INSTRUCTION_ERROR, e as u64);
                Outcome::FailValid(e)
            }
        }
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
            // execute() gives VMXON, VMLAUNCH and VMRESUME their own
            // paths; VMXON in VMX operation ends here.
            Insn::Vmxon(_) => Outcome::FailValid(InsnError::VmxonInRoot),
            Insn::Vmlaunch | Insn::Vmresume => Outcome::FailInvalid,
            // free_nested(): the current vmcs12 is dropped, not written
            // back; L1 VMCLEARs what it wants in memory before VMXOFF.
            Insn::Vmxoff => {
                self.vmxon = None;
                self.current = None;
                self.drop_evmcs();
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
                // nested_evmcs_handle_vmclear(): with enlightened VM entry
                // on, the area may be an eVMCS, which has no launch state
                // to write: nothing is written, and the mapped eVMCS, if
                // it is the one, is let go.
                if self.evmptr.is_some() {
                    if self.evmcs.as_ref().is_some_and(|e| e.gpa == gpa) {
                        self.drop_evmcs();
                    }
                    return Outcome::Succeed;
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
                match self.big.vmcs12.vmread(field) {
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
                match self
                    .big
                    .vmcs12
                    .vmwrite(field, v, self.caps.vmwrite_any_field())
                {
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
        if mem::read(slots, gpa, &mut self.big.vmcs12.bytes).is_err() {
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
            let _ = mem::write(slots, gpa, &self.big.vmcs12.bytes);
        }
    }

    /// VMLAUNCH (`launch`) or VMRESUME past the permission check, in the
    /// order of nested_vmx_run() and nested_vmx_enter_non_root_mode():
    /// the launch state, controls and host state (VMfail); then
    /// nested_get_vmcs12_pages() attaches L2's pages and merges the MSR
    /// bitmap; then the guest state and the MSR-load list (a VM-entry
    /// failure exit, which detaches the pages again).
    fn enter(&mut self, slots: &SlotTable, launch: bool) -> Result<Outcome> {
        if let Some(fail) = self.load_evmcs(slots, launch)? {
            return Ok(fail);
        }
        if self.evmcs.is_none() && self.current.is_none() {
            return Ok(Outcome::FailInvalid);
        }
        let env = EntryEnv {
            launch,
            l1_efer_lma: self.l1.efer & EFER_LMA != 0,
            l1_cr4_la57: self.l1.cr4 & CR4_LA57 != 0,
            host_la57: self.model.can_use(Feature::La57),
            l1_x2apic: self.l1.x2apic,
            // No vPMU: no counter, every IA32_PERF_GLOBAL_CTRL bit is
            // reserved.
            perf_global_ctrl_rsvd: checks::perf_global_ctrl_rsvd(0, 0),
            // No LBR, bus-lock or RTM debugging in the model; KVM's quirk
            // (KVM_X86_QUIRK_VMCS12_ALLOW_FREEZE_IN_SMM) on by default.
            debugctl_ok: debugctl::accepted(0, true),
        };
        let (caps, model) = (&self.caps, &self.model);
        let v = &self.big.vmcs12;
        let early =
            checks::check_launch(v, launch).and_then(|()| checks::check_controls(v, caps, model));
        if let Err(c) = early {
            return Ok(self.entry_verdict(c.verdict()));
        }
        // nested_evmcs_check_controls(), the last of
        // nested_vmx_check_controls(): what an eVMCS cannot express.
        if self.evmcs.is_some() && !evmcs::check_controls(v) {
            return Ok(Outcome::FailValid(InsnError::EntryInvalidControl));
        }
        if let Err(c) = checks::check_host_state(v, caps, model, &env) {
            return Ok(self.entry_verdict(c.verdict()));
        }
        // An unmappable virtual-APIC page fails the entry only once the
        // CPU would see the invalid address KVM writes: after the checks
        // below.
        let (mut l2, vapic_failed) = self.attach(slots)?;
        self.merge_msr_bitmap(slots);
        let (caps, model) = (&self.caps, &self.model);
        let v = &self.big.vmcs12;
        let guest =
            checks::check_guest_state(v, caps, model, &env, |gpa| mem::read_u32(slots, gpa))
                .and_then(|()| checks::check_guest_cr3(v, model));
        if let Err(c) = guest {
            l2.detach();
            return Ok(self.entry_verdict(c.verdict()));
        }
        // prepare_vmcs02(), before the MSR-load list: every group of the
        // eVMCS is now what vmcs12 holds (hv_clean_fields |= ALL, the
        // bits above left alone).  A failure says the page is gone: the
        // next entry finds out.
        if let Some(e) = &self.evmcs {
            let _ = e.page.update(slots, |frame, base| {
                let mut b = [0u8; 4];
                frame.read(base + evmcs::hdr::CLEAN_FIELDS, &mut b)?;
                let clean = u32::from_le_bytes(b) | evmcs::clean::ALL;
                frame.write(base + evmcs::hdr::CLEAN_FIELDS, &clean.to_le_bytes())
            });
        }
        let v = &self.big.vmcs12;
        let msrs = checks::load_msrs(
            v,
            &self.caps,
            &env,
            |gpa| {
                let mut b = [0u8; 16];
                mem::read(slots, gpa, &mut b).ok()?;
                Some(MsrEntry::from_bytes(&b))
            },
            // guestmap models no L2 MSRs: any value an entry may name
            // loads.
            |_, _| true,
        );
        if let Err(c) = msrs {
            l2.detach();
            return Ok(self.entry_verdict(c.verdict()));
        }
        if vapic_failed {
            l2.detach();
            return Ok(Outcome::FailValid(InsnError::EntryInvalidControl));
        }
        // nested_cache_shadow_vmcs12(): a shadow that cannot be read is
        // left as it was, as KVM leaves it.
        l2.shadow = self.shadow_ptr();
        if let Some(gpa) = l2.shadow {
            if mem::read(slots, gpa, &mut self.big.shadow.bytes).is_err() {
                l2.shadow = None;
            }
        }
        self.l2 = Some(l2);
        Ok(Outcome::Entered)
    }

    /// nested_vmx_handle_enlightened_vmptrld() and the eVMCS half of
    /// nested_vmx_run(), at VMLAUNCH (`launch`) or VMRESUME.  Without an
    /// eVMCS named, any mapped one is let go and vmcs12 is used.  An
    /// eVMCS named anew is mapped (the vmcs12 current until then is
    /// dropped, not written back: `current_vmptr = INVALID_GPA`; a page
    /// that cannot be mapped is #UD, KVM's EVMPTRLD_ERROR) and its
    /// revision checked (VMfailInvalid); at VMLAUNCH it starts from an
    /// empty vmcs12.  Clean fields cannot be trusted at VMLAUNCH or on a
    /// new eVMCS: they are cleared, in the eVMCS, as KVM clears them.
    /// Then the dirty groups are copied into vmcs12, whose launch state
    /// is made to pass (an eVMCS has none).  `Some` if the entry ends
    /// here.
    fn load_evmcs(&mut self, slots: &SlotTable, launch: bool) -> Result<Option<Outcome>> {
        let Some(named) = self.evmptr else {
            self.drop_evmcs();
            return Ok(None);
        };
        // KVM maps the page the address falls in, gpa_to_gfn().
        let gpa = named & !0xfff;
        let mut changed = false;
        if self.evmcs.as_ref().map(|e| e.gpa) != Some(gpa) {
            // Mapped and checked before anything changes, so that an
            // error that says nothing of the memory (a signal) leaves the
            // vCPU as it was; what KVM's map and revision failures do
            // (current_vmptr = INVALID_GPA, the old eVMCS released) is
            // done for those only.
            let page = match Attached::attach(slots, ApicPage::Evmcs, gpa, self.mode, self.id) {
                Ok(page) => page,
                Err(e) if unbacked(&e) => {
                    self.current = None;
                    self.drop_evmcs();
                    return Ok(Some(Outcome::Exception(insn::UD_VECTOR)));
                }
                Err(e) => return Err(e),
            };
            let mut rev = [0u8; 4];
            let read = page.read(slots, evmcs::hdr::REVISION_ID, &mut rev);
            if let Err(e) = read {
                if !unbacked(&e) {
                    page.detach(false);
                    return Err(e);
                }
            }
            self.current = None;
            self.drop_evmcs();
            if read.is_err() || !evmcs::revision_ok(u32::from_le_bytes(rev)) {
                page.detach(true);
                return Ok(Some(Outcome::FailInvalid));
            }
            self.evmcs = Some(Evmcs { gpa, page });
            changed = true;
            if launch {
                let v = &mut self.big.vmcs12;
                v.bytes.fill(0);
                v.set_hdr(vmcs12::hdr::REVISION_ID, vmcs12::REVISION);
            }
        }
        let Some(e) = &self.evmcs else {
            return Ok(Some(Outcome::FailInvalid));
        };
        let big = &mut *self.big;
        // A page that cannot be reached now (a held PFN-only frame after
        // an invalidation, a cached one gone): let it go, so that the next
        // entry maps what is there then; this one is #UD, as a failed map.
        // A signal fails the ioctl and changes nothing more.
        match e.page.read(slots, 0, &mut big.ebuf) {
            Ok(()) => {}
            Err(err) if unbacked(&err) => {
                self.drop_evmcs();
                return Ok(Some(Outcome::Exception(insn::UD_VECTOR)));
            }
            Err(err) => return Err(err),
        }
        let mut clean = evmcs::clean_fields(&big.ebuf);
        if launch || changed {
            clean &= !evmcs::clean::ALL;
            evmcs::set_clean_fields(&mut big.ebuf, clean);
            // Failing here would only leave the bits L1 set: the copy
            // below ignores them anyway.
            let _ = e
                .page
                .write(slots, evmcs::hdr::CLEAN_FIELDS, &clean.to_le_bytes());
        }
        evmcs::copy_to_vmcs12(&big.ebuf, clean, &mut big.vmcs12);
        big.vmcs12
            .set_hdr(vmcs12::hdr::LAUNCH_STATE, u32::from(!launch));
        Ok(None)
    }

    /// copy_vmcs12_to_enlightened(): vmcs12's guest state, exit
    /// information and the rest KVM writes back, into the mapped eVMCS,
    /// field by field in one use of the page (the fields only L1 writes
    /// are left as L1 left them).  A sync that fails (a signal during a
    /// cached page's refresh, a page gone) is left pending, as KVM's
    /// `need_vmcs12_to_shadow_sync`, and tried again at the vCPU's next
    /// command, before it does anything else.
    fn sync_evmcs(&mut self, slots: &SlotTable) {
        let Some(e) = &self.evmcs else {
            self.sync_pending = false;
            return;
        };
        let big = &mut *self.big;
        let (v, ebuf) = (&big.vmcs12, &mut big.ebuf);
        let synced = e.page.update(slots, |frame, base| {
            frame.read(base, ebuf)?;
            evmcs::copy_from_vmcs12(v, ebuf);
            for &enc in evmcs::COPY_FROM_VMCS12.iter() {
                if let Some((off, w)) = evmcs::evmcs_place(enc.into()) {
                    let bytes = ebuf
                        .get(off..off + w.bytes())
                        .ok_or(FrameError::OutOfPage)?;
                    frame.write(base + off, bytes)?;
                }
            }
            Ok(())
        });
        self.sync_pending = synced.is_err();
    }

    /// VMREAD with an eVMCS current, outside guest mode: from the eVMCS,
    /// by KVM's field map (handle_vmread() allows it for the Windows
    /// guests that do it).
    fn evmcs_vmread(
        &mut self,
        slots: &SlotTable,
        field: u64,
        value: &mut Option<u64>,
    ) -> Result<Outcome> {
        let Some(e) = &self.evmcs else {
            return Ok(Outcome::FailInvalid);
        };
        match e.page.read(slots, 0, &mut self.big.ebuf) {
            Ok(()) => {}
            // Gone: no VMCS to read, until the next entry maps one.
            Err(err) if unbacked(&err) => return Ok(Outcome::FailInvalid),
            Err(err) => return Err(err),
        }
        Ok(match evmcs::vmread(&self.big.ebuf, field) {
            Some(v) => {
                *value = Some(v);
                Outcome::Succeed
            }
            None => Outcome::FailValid(InsnError::UnsupportedComponent),
        })
    }

    /// Lets the current eVMCS go (nested_release_evmcs()): unmapped,
    /// marked dirty where it may be.
    fn drop_evmcs(&mut self) {
        if let Some(e) = self.evmcs.take() {
            e.page.detach(true);
        }
        self.sync_pending = false;
    }

    /// `GUESTMAP_VMX_OP_EVMCS`: names the eVMCS at `gpa`, or none, as
    /// L1 does in its VP assist page; the next VMLAUNCH or VMRESUME maps
    /// it.  `EBUSY` in guest mode (L1 is not running).
    fn set_evmcs(&mut self, gpa: Option<u64>) -> Result {
        if self.l2.is_some() {
            return Err(EBUSY);
        }
        self.evmptr = gpa;
        Ok(())
    }

    /// The outcome of an entry that did not enter.  A VM-entry failure
    /// writes its reason and qualification into vmcs12, as
    /// nested_vmx_enter_non_root_mode()'s vmentry_fail_vmexit does; the
    /// launch state and the other exit fields are left alone.
    fn entry_verdict(&mut self, verdict: EntryVerdict) -> Outcome {
        match verdict {
            EntryVerdict::Enter => Outcome::Entered,
            EntryVerdict::FailInvalid => Outcome::FailInvalid,
            EntryVerdict::FailValid(e) => Outcome::FailValid(e),
            EntryVerdict::EntryFail { reason, qual } => {
                let v = &mut self.big.vmcs12;
                v.set_field(enc::VM_EXIT_REASON, reason.into());
                v.set_field(enc::EXIT_QUALIFICATION, qual);
                Outcome::EntryFailed { reason, qual }
            }
        }
    }

    /// The shadow vmcs12's address: the VMCS link pointer, if vmcs12 turns
    /// VMCS shadowing on and names one.
    fn shadow_ptr(&self) -> Option<u64> {
        let v = &self.big.vmcs12;
        let link = v.field(enc::VMCS_LINK_POINTER);
        (has2(v, proc2::SHADOW_VMCS) && link != INVALID_GPA).then_some(link)
    }

    /// nested_get_vmcs12_pages(): attaches the pages vmcs12's controls
    /// name, with KVM's answers for a page that cannot be mapped: the
    /// APIC-access page fails the ioctl (KVM exits to user space with an
    /// internal error); the virtual-APIC page is done without if CR8
    /// loads and stores exit and APIC accesses are not virtualized, else
    /// the entry is to fail as the CPU fails it on the invalid address KVM
    /// writes (VMfailValid 7, once the checks after this one pass: the
    /// second value returned); the descriptor is done without (posted
    /// interrupts off).  An error that says nothing of the memory (a
    /// signal, no memory) fails the ioctl, detaching what was attached.
    fn attach(&self, slots: &SlotTable) -> Result<(L2, bool)> {
        let v = &self.big.vmcs12;
        let mut l2 = L2 {
            vapic: None,
            pi_desc: None,
            apic_access: None,
            shadow: None,
        };
        let mut vapic_failed = false;
        let one = |which, enc| Attached::attach(slots, which, v.field(enc), self.mode, self.id);
        let ret = (|| {
            if has2(v, proc2::VIRT_APIC_ACCESSES) {
                l2.apic_access = Some(one(ApicPage::ApicAccess, enc::APIC_ACCESS_ADDR)?);
            }
            if has(v, proc::TPR_SHADOW) {
                match one(ApicPage::Vapic, enc::VIRTUAL_APIC_PAGE_ADDR) {
                    Ok(page) => l2.vapic = Some(page),
                    Err(e) if !unbacked(&e) => return Err(e),
                    Err(_)
                        if has(v, proc::CR8_LOAD)
                            && has(v, proc::CR8_STORE)
                            && !has2(v, proc2::VIRT_APIC_ACCESSES) => {}
                    Err(_) => vapic_failed = true,
                }
            }
            if has_pin(v, pin::POSTED_INTR) {
                match one(ApicPage::PiDesc, enc::POSTED_INTR_DESC_ADDR) {
                    Ok(page) => l2.pi_desc = Some(page),
                    Err(e) if !unbacked(&e) => return Err(e),
                    Err(_) => {}
                }
            }
            Ok(())
        })();
        match ret {
            Ok(()) => Ok((l2, vapic_failed)),
            Err(e) => {
                l2.detach();
                Err(e)
            }
        }
    }

    /// nested_vmx_prepare_msr_bitmap(): the bitmap L2 runs on.  Without
    /// "use MSR bitmaps", or if L1's page cannot be read, every MSR exits
    /// (KVM then turns the control off in vmcs02).  Held, the page is
    /// mapped for the merge only, as 6.12's kvm_vcpu_map() around it;
    /// cached, it is read through the vCPU's first pfn cache view, as the
    /// upstream series moving these pages to pfn caches reads it.
    fn merge_msr_bitmap(&mut self, slots: &SlotTable) {
        let via = (self.mode == Mode::Cached).then_some(cache_of(self.id));
        let big = &mut *self.big;
        let base = big.vmcs12.field(enc::MSR_BITMAP);
        if !has(&big.vmcs12, proc::MSR_BITMAPS) || read_page(slots, base, via, &mut big.l1).is_err()
        {
            big.merged.intercept_all();
            return;
        }
        let l1 = &big.l1;
        if big
            .merged
            .merge(&big.l0, |w| l1.words.get(w).copied())
            .is_err()
        {
            big.merged.intercept_all();
        }
    }

    /// L0's side of the vCPU: `GUESTMAP_VMX_OP`.  Returns the op's result
    /// and, for a virtual-APIC read, the value.
    pub(crate) fn op(&mut self, slots: &SlotTable, op: Op) -> Result<(u32, Option<u64>)> {
        if self.sync_pending {
            self.sync_evmcs(slots);
        }
        if let Op::L0Msr { msr, read, write } = op {
            if self.l2.is_some() {
                return Err(EBUSY);
            }
            self.big.l0.set(msr, read, write).ok_or(EINVAL)?;
            return Ok((0, None));
        }
        if let Op::Evmcs(gpa) = op {
            self.set_evmcs(gpa)?;
            return Ok((0, None));
        }
        let l2 = self.l2.as_ref().ok_or(EINVAL)?;
        let v = &self.big.vmcs12;
        match op {
            Op::L0Msr { .. } | Op::Evmcs(_) => Ok((0, None)),
            Op::MsrExits { msr, write } => {
                let mut exits = 0;
                if self.big.merged.intercepts(msr, write) {
                    exits |= uapi::GUESTMAP_VMX_EXIT_L0;
                    // nested_vmx_exit_handled_msr(): L1's bitmap now.
                    let base = v.field(enc::MSR_BITMAP);
                    let l1 = msr_bitmap::l1_exits(has(v, proc::MSR_BITMAPS), msr, write, |w| {
                        let mut b = [0u8; 8];
                        mem::read(slots, base.checked_add(8 * w as u64)?, &mut b).ok()?;
                        Some(u64::from_le_bytes(b))
                    });
                    if l1 {
                        exits |= uapi::GUESTMAP_VMX_EXIT_L1;
                    }
                }
                Ok((exits, None))
            }
            Op::PostIntr(vector) => {
                let pi = l2.pi_desc.as_ref().ok_or(EINVAL)?;
                Ok((u32::from(pi.post(slots, vector)?), None))
            }
            Op::VapicRead(off) => {
                let page = l2.vapic.as_ref().ok_or(EINVAL)?;
                let mut b = [0u8; 4];
                page.read(slots, off, &mut b)?;
                Ok((0, Some(u32::from_le_bytes(b).into())))
            }
            Op::VapicWrite { off, value } => {
                let page = l2.vapic.as_ref().ok_or(EINVAL)?;
                page.write(slots, off, &value.to_le_bytes())?;
                Ok((0, None))
            }
            Op::PmlLog(gpa) => self.pml_log(slots, gpa),
            Op::Vmexit { reason, qual } => {
                self.vmexit(slots, reason, qual);
                Ok((0, None))
            }
        }
    }

    /// nested_vmx_write_pml_buffer(): logs the page of `gpa` at
    /// PML_ADDRESS + 8 * GUEST_PML_INDEX with a direct write of guest
    /// memory, then decrements the index; an index outside the log means
    /// it is full.  A write that fails leaves the index as it was.
    fn pml_log(&mut self, slots: &SlotTable, gpa: u64) -> Result<(u32, Option<u64>)> {
        let v = &mut self.big.vmcs12;
        if !has2(v, proc2::PML) {
            return Err(EINVAL);
        }
        let index = v.field(enc::GUEST_PML_INDEX);
        if index >= PML_ENTRIES {
            return Ok((uapi::GUESTMAP_VMX_PML_FULL, None));
        }
        let dst = v
            .field(enc::PML_ADDRESS)
            .checked_add(8 * index)
            .ok_or(EFAULT)?;
        mem::write(slots, dst, &(gpa & !0xfff).to_le_bytes())?;
        // A 16-bit field: from 0 it wraps to FFFFh, which is full.
        v.set_field(enc::GUEST_PML_INDEX, index.wrapping_sub(1) & 0xffff);
        Ok((0, None))
    }

    /// VM exit to L1 with `reason` and `qual`: written into vmcs12, the
    /// shadow vmcs12 and vmcs12 written back to guest memory (failures
    /// ignored, as KVM ignores them), L2's pages detached.
    fn vmexit(&mut self, slots: &SlotTable, reason: u32, qual: u64) {
        let Some(l2) = self.l2.take() else {
            return;
        };
        let big = &mut *self.big;
        let v = &mut big.vmcs12;
        v.set_field(enc::VM_EXIT_REASON, reason.into());
        v.set_field(enc::EXIT_QUALIFICATION, qual);
        // prepare_vmcs12(): an exit that is not an entry failure marks the
        // VMCS launched and clears the valid bit of the entry's event
        // injection (SDM vol. 3C, 28.2).
        if reason & EXIT_REASON_FAILED_VMENTRY == 0 {
            v.set_hdr(vmcs12::hdr::LAUNCH_STATE, 1);
            let info = v.field(enc::VM_ENTRY_INTR_INFO_FIELD);
            v.set_field(enc::VM_ENTRY_INTR_INFO_FIELD, info & !INTR_INFO_VALID);
            // The op carries no interruption information, and no exit
            // during event delivery is modelled: none, rather than what
            // an earlier exit left.
            v.set_field(enc::VM_EXIT_INTR_INFO, 0);
            v.set_field(enc::IDT_VECTORING_INFO_FIELD, 0);
        }
        // nested_flush_cached_shadow_vmcs12().
        if let Some(gpa) = l2.shadow {
            let _ = mem::write(slots, gpa, &big.shadow.bytes);
        }
        l2.detach();
        if let Some(gpa) = self.current {
            let _ = mem::write(slots, gpa, &big.vmcs12.bytes);
        }
        // copy_vmcs12_to_enlightened(): the exit into the eVMCS.
        self.sync_evmcs(slots);
    }
}

/// Whether `e` is how `kvm_vcpu_map()` would fail on the memory: no
/// slot, no writable memory, a read-only slot; others (a signal, no
/// memory for the kernel) say nothing of the memory.
fn unbacked(e: &Error) -> bool {
    [ENOENT, EFAULT, EPERM].contains(e)
}

/// Reads 512 bytes at an offset of the page: `false` if the mapping must
/// be made again.
type ReadChunk<'a> = dyn FnMut(usize, &mut [u8]) -> Result<bool, FrameError> + 'a;

/// Reads the 4 KiB bitmap at `gpa` into `out`: through pfn cache view
/// `via`, or else through a mapping of the page made for the read and
/// undone after it, as KVM maps L1's MSR bitmap around its merge (a bare
/// pfn's mapping undone by an invalidation before the read is made
/// again).
fn read_page(slots: &SlotTable, gpa: u64, via: Option<usize>, out: &mut MsrBitmap) -> Result {
    if gpa & 0xfff != 0 {
        return Err(EINVAL);
    }
    let gfn = gpa >> PAGE_SHIFT;
    let slot = slots.find(GfnRange {
        start: gfn,
        end: gfn + 1,
    })?;
    let mut bytes = [0u8; 512];
    // The page, 512 bytes at a time, into the words, little-endian.
    let mut read = |chunk: &mut ReadChunk<'_>| {
        for (i, words) in out.words.chunks_mut(64).enumerate() {
            if !chunk(i * 512, &mut bytes)? {
                return Ok(false);
            }
            for (w, b) in words.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                *w = u64::from_le_bytes(le);
            }
        }
        Ok(true)
    };
    if let Some(cache) = via {
        let mut walk = [CpuPte::default(); 1];
        let access = CacheAccess {
            slot,
            cache,
            gfn,
            off: 0,
        };
        access.with_frame(&mut walk, false, |frame| {
            read(&mut |off, buf| frame.read(off, buf).map(|()| true))
        })?;
        return Ok(());
    }
    for _ in 0..MAX_TRIES {
        let page = GuestPage::map(slot, gfn, false)?;
        let done = read(&mut |off, buf| Ok(page.access(off, &mut Access::Read(buf))?.is_some()));
        page.unmap(false);
        if done? {
            return Ok(());
        }
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
    }
    Err(EAGAIN)
}
