// SPDX-License-Identifier: GPL-2.0

//! What VMRUN checks before it enters the guest, each check a pure
//! function of L1's state, the copy of VMCB12 and the CPU model, made in
//! the order of KVM 6.12 (arch/x86/kvm/svm/nested.c): the permission
//! checks of nested_svm_check_permissions() and nested_svm_vmrun(), which
//! fault in L1, then the consistency checks of __nested_vmcb_check_save()
//! and __nested_vmcb_check_controls() (AMD APM vol. 2, 15.5.1, "VMRUN"
//! and its list of illegal guest state), which end VMRUN with
//! VMEXIT_INVALID, then nested_svm_load_cr3()'s check while entering.
//!
//! Pure logic: the host crate tests each rule against the manual.

use super::vmcb::{self, control, save, Intercept, Vmcb12};
use crate::{
    nested::cpu::{efer, CpuModel},
    uapi,
};

/// CR0 bits (APM vol. 2, 3.1.1).
pub(crate) mod cr0 {
    pub(crate) const PE: u64 = 1 << 0;
    pub(crate) const NW: u64 = 1 << 29;
    pub(crate) const CD: u64 = 1 << 30;
    pub(crate) const PG: u64 = 1 << 31;
}

/// A check VMRUN makes; the value is its `GUESTMAP_SVM_CHECK_*` id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Check {
    /// L1's EFER.SVME is clear: #UD.
    L1Svme = uapi::GUESTMAP_SVM_CHECK_L1_SVME,
    /// L1 runs without paging: #UD.
    L1Paging = uapi::GUESTMAP_SVM_CHECK_L1_PAGING,
    /// L1's CPL is not 0: #GP.
    L1Cpl = uapi::GUESTMAP_SVM_CHECK_L1_CPL,
    /// MSR_VM_HSAVE_PA is 0: #GP.
    Hsave = uapi::GUESTMAP_SVM_CHECK_HSAVE,
    /// L1 is in SMM: #UD.
    Smm = uapi::GUESTMAP_SVM_CHECK_SMM,
    /// VMCB12's EFER.SVME is clear.
    EferSvme = uapi::GUESTMAP_SVM_CHECK_EFER_SVME,
    /// CR0.NW set with CR0.CD clear.
    Cr0Nw = uapi::GUESTMAP_SVM_CHECK_CR0_NW,
    /// CR0 bits 63:32 not zero.
    Cr0High = uapi::GUESTMAP_SVM_CHECK_CR0_HIGH,
    /// DR6 bits 63:32 not zero.
    Dr6 = uapi::GUESTMAP_SVM_CHECK_DR6,
    /// DR7 bits 63:32 not zero.
    Dr7 = uapi::GUESTMAP_SVM_CHECK_DR7,
    /// EFER.LME and CR0.PG with CR4.PAE clear.
    LongPae = uapi::GUESTMAP_SVM_CHECK_LONG_PAE,
    /// EFER.LME and CR0.PG with CR0.PE clear.
    LongPe = uapi::GUESTMAP_SVM_CHECK_LONG_PE,
    /// EFER.LME and CR0.PG with CR3 beyond MAXPHYADDR.
    LongCr3 = uapi::GUESTMAP_SVM_CHECK_LONG_CR3,
    /// EFER.LME and CR0.PG with CS.L and CS.D both set.
    CsLD = uapi::GUESTMAP_SVM_CHECK_CS_L_D,
    /// A CR4 bit the model reserves.
    Cr4 = uapi::GUESTMAP_SVM_CHECK_CR4,
    /// An EFER bit the model does not allow.
    Efer = uapi::GUESTMAP_SVM_CHECK_EFER,
    /// VMRUN is not intercepted.
    VmrunIntercept = uapi::GUESTMAP_SVM_CHECK_VMRUN_INTERCEPT,
    /// ASID 0, the host's.
    Asid = uapi::GUESTMAP_SVM_CHECK_ASID,
    /// Nested paging asked of a host without it.
    Np = uapi::GUESTMAP_SVM_CHECK_NP,
    /// Nested paging with nCR3 beyond MAXPHYADDR.
    Ncr3 = uapi::GUESTMAP_SVM_CHECK_NCR3,
    /// The MSR permission map reaches beyond MAXPHYADDR.
    Msrpm = uapi::GUESTMAP_SVM_CHECK_MSRPM,
    /// The I/O permission map reaches beyond MAXPHYADDR.
    Iopm = uapi::GUESTMAP_SVM_CHECK_IOPM,
    /// Virtual NMI without the NMI intercept.
    VNmi = uapi::GUESTMAP_SVM_CHECK_V_NMI,
    /// CR3 beyond MAXPHYADDR, in any mode, when entering.
    Cr3 = uapi::GUESTMAP_SVM_CHECK_CR3,
    /// A word of L1's MSR permission map the merge needs is unreadable.
    MsrpmRead = uapi::GUESTMAP_SVM_CHECK_MSRPM_READ,
}

/// #UD.
pub(crate) const UD_VECTOR: u8 = 6;
/// #GP.
pub(crate) const GP_VECTOR: u8 = 13;

/// How VMRUN ends, or that it enters the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every check passed.
    Enter,
    /// VMRUN faults in L1 with `vector`.
    Exception {
        /// #UD or #GP.
        vector: u8,
        /// Why.
        check: Check,
    },
    /// VMRUN exits at once with VMEXIT_INVALID.
    Invalid(Check),
}

impl Verdict {
    /// As `GUESTMAP_SVM_VMRUN` reports it: the result
    /// (`GUESTMAP_SVM_ENTERED`, ...), the vector and the check.
    pub(crate) fn to_uapi(self) -> (u32, u32, u32) {
        match self {
            Verdict::Enter => (uapi::GUESTMAP_SVM_ENTERED, 0, 0),
            Verdict::Exception { vector, check } => {
                (uapi::GUESTMAP_SVM_EXCEPTION, vector.into(), check as u32)
            }
            Verdict::Invalid(check) => (uapi::GUESTMAP_SVM_VMEXIT_INVALID, 0, check as u32),
        }
    }
}

/// Bytes of the MSR permission map (APM 15.11: 8 KiB, of which the
/// first 6 KiB are used) and of the I/O permission map (APM 15.10.1: 12
/// KiB), as `nested_svm_check_bitmap_pa()` checks their extent.
pub(crate) const MSRPM_SIZE: u64 = 2 * 4096;
/// See [`MSRPM_SIZE`].
pub(crate) const IOPM_SIZE: u64 = 3 * 4096;

/// L1's state that VMRUN depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct L1State {
    /// EFER.
    pub(crate) efer: u64,
    /// CR0.
    pub(crate) cr0: u64,
    /// Current privilege level.
    pub(crate) cpl: u8,
    /// MSR_VM_HSAVE_PA.
    pub(crate) hsave_pa: u64,
    /// In System Management Mode.
    pub(crate) smm: bool,
}

/// Why L1 could not be in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum L1Error {
    /// An EFER `kvm_valid_efer()` refuses: WRMSR would #GP.
    Efer,
    /// A CR0 `kvm_is_valid_cr0()` refuses (bits 63:32, NW without CD, PG
    /// without PE): MOV to CR0 would #GP.
    Cr0,
    /// CPL above 3.
    Cpl,
    /// HSAVE_PA not page aligned or beyond MAXPHYADDR: KVM's WRMSR of
    /// MSR_VM_HSAVE_PA would #GP (`page_address_valid()`).
    Hsave,
}

impl L1State {
    /// Checks that L1 could be in this state on a CPU of `model`.
    pub(crate) fn validate(&self, model: &CpuModel) -> Result<(), L1Error> {
        if !model.is_valid_efer(self.efer) {
            return Err(L1Error::Efer);
        }
        let cr0 = self.cr0;
        if cr0 >> 32 != 0
            || (cr0 & cr0::NW != 0 && cr0 & cr0::CD == 0)
            || (cr0 & cr0::PG != 0 && cr0 & cr0::PE == 0)
        {
            return Err(L1Error::Cr0);
        }
        if self.cpl > 3 {
            return Err(L1Error::Cpl);
        }
        if self.hsave_pa & 0xfff != 0 || !model.is_legal_gpa(self.hsave_pa) {
            return Err(L1Error::Hsave);
        }
        Ok(())
    }
}

/// The checks before VMCB12 is even read: nested_svm_check_permissions()
/// (SVME and paging, then CPL) and the start of nested_svm_vmrun()
/// (HSAVE_PA, SMM).  `Err` is the exception and why.
pub(crate) fn check_permissions(l1: &L1State) -> Result<(), Verdict> {
    let fault = |vector, check| Err(Verdict::Exception { vector, check });
    if l1.efer & efer::SVME == 0 {
        return fault(UD_VECTOR, Check::L1Svme);
    }
    if l1.cr0 & cr0::PG == 0 {
        return fault(UD_VECTOR, Check::L1Paging);
    }
    if l1.cpl != 0 {
        return fault(GP_VECTOR, Check::L1Cpl);
    }
    if l1.hsave_pa == 0 {
        return fault(GP_VECTOR, Check::Hsave);
    }
    if l1.smm {
        return fault(UD_VECTOR, Check::Smm);
    }
    Ok(())
}

/// `__nested_vmcb_check_save()` on VMCB12's save area.
pub(crate) fn check_save(v: &Vmcb12, m: &CpuModel) -> Result<(), Check> {
    let efer = v.u64(save::EFER);
    let cr0 = v.u64(save::CR0);
    let cr4 = v.u64(save::CR4);
    let fail = |ok: bool, c| if ok { Ok(()) } else { Err(c) };
    fail(efer & efer::SVME != 0, Check::EferSvme)?;
    fail(cr0 & cr0::CD != 0 || cr0 & cr0::NW == 0, Check::Cr0Nw)?;
    fail(cr0 >> 32 == 0, Check::Cr0High)?;
    fail(v.u64(save::DR6) >> 32 == 0, Check::Dr6)?;
    fail(v.u64(save::DR7) >> 32 == 0, Check::Dr7)?;
    // As KVM_SET_SREGS checks, but EFER.LMA is not checked against
    // CR0.PG and EFER.LME: SVM leaves that to the EFER check below.
    if efer & efer::LME != 0 && cr0 & cr0::PG != 0 {
        fail(cr4 & crate::nested::cpu::cr4::PAE != 0, Check::LongPae)?;
        fail(cr0 & cr0::PE != 0, Check::LongPe)?;
        fail(m.is_legal_cr3(v.u64(save::CR3)), Check::LongCr3)?;
        let cs = v.u16(save::CS_ATTRIB);
        fail(cs & vmcb::SEG_L == 0 || cs & vmcb::SEG_DB == 0, Check::CsLD)?;
    }
    fail(m.is_valid_cr4(cr4), Check::Cr4)?;
    fail(m.is_valid_efer(efer), Check::Efer)?;
    Ok(())
}

/// `nested_svm_check_bitmap_pa()`: the map at `base` (bits 11:0 already
/// ignored) lies wholly below MAXPHYADDR.
fn bitmap_ok(m: &CpuModel, base: u64, size: u64) -> bool {
    m.is_legal_gpa(base)
        && base
            .checked_add(size - 1)
            .is_some_and(|last| m.is_legal_gpa(last))
}

/// `__nested_vmcb_check_controls()` on VMCB12's control area.
pub(crate) fn check_controls(v: &Vmcb12, m: &CpuModel) -> Result<(), Check> {
    let fail = |ok: bool, c| if ok { Ok(()) } else { Err(c) };
    fail(v.intercepts(Intercept::VMRUN), Check::VmrunIntercept)?;
    fail(v.u32(control::ASID) != 0, Check::Asid)?;
    let np = v.u64(control::NESTED_CTL) & vmcb::NP_ENABLE != 0;
    fail(!np || m.host_npt(), Check::Np)?;
    fail(
        !np || m.is_legal_gpa(v.u64(control::NESTED_CR3)),
        Check::Ncr3,
    )?;
    fail(bitmap_ok(m, v.msrpm_base(), MSRPM_SIZE), Check::Msrpm)?;
    fail(bitmap_ok(m, v.iopm_base(), IOPM_SIZE), Check::Iopm)?;
    let v_nmi = v.u32(control::INT_CTL) & vmcb::V_NMI_ENABLE != 0;
    fail(!v_nmi || v.intercepts(Intercept::NMI), Check::VNmi)?;
    Ok(())
}

/// `nested_svm_load_cr3()` while entering the guest: CR3 must be legal
/// whatever the mode.  (KVM also loads the PDPTEs of a PAE guest without
/// nested paging there, which reads guest memory; that is not modelled.)
pub(crate) fn check_entry(v: &Vmcb12, m: &CpuModel) -> Result<(), Check> {
    if m.is_legal_cr3(v.u64(save::CR3)) {
        Ok(())
    } else {
        Err(Check::Cr3)
    }
}

/// The checks of the copy of VMCB12, in KVM's order: its save area
/// (nested_svm_check_cached_vmcb12() checks it first), its controls, and
/// the CR3 load.
pub(crate) fn check_vmcb12(v: &Vmcb12, m: &CpuModel) -> Result<(), Check> {
    check_save(v, m)?;
    check_controls(v, m)?;
    check_entry(v, m)
}

/// Every check VMRUN makes before it merges the MSR permission maps:
/// L1's permission, then VMCB12 (which VMRUN maps in between).
#[cfg(test)]
pub(crate) fn judge(l1: &L1State, v: &Vmcb12, m: &CpuModel) -> Verdict {
    if let Err(verdict) = check_permissions(l1) {
        return verdict;
    }
    match check_vmcb12(v, m) {
        Ok(()) => Verdict::Enter,
        Err(check) => Verdict::Invalid(check),
    }
}
