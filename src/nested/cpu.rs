// SPDX-License-Identifier: GPL-2.0

//! The guest CPU model nested virtualization checks against: MAXPHYADDR
//! and the CR4 and EFER bits the guest may set, derived from its CPUID
//! as KVM derives them (arch/x86/kvm/cpuid.c, x86.c, x86.h in 6.12), and
//! limited by what the host CPU has, as KVM limits them.
//!
//! Pure logic: `core`, [`crate::uapi`] and the feature numbers of
//! `c/guestmap.h`, so the host crate unit-tests it.

use crate::{sys::bindings, uapi::guestmap_cpuid_entry};

/// A CPUID feature the model depends on; the value is its `GM_FEAT_*`
/// bit, shared with `c/cpu.c`, which reports the host's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Feature {
    /// CPUID.1:ECX\[26\].
    Xsave = bindings::GM_FEAT_XSAVE,
    /// CPUID.1:ECX\[5\].
    Vmx = bindings::GM_FEAT_VMX,
    /// CPUID.1:ECX\[17\].
    Pcid = bindings::GM_FEAT_PCID,
    /// CPUID.(7,0):EBX\[0\].
    Fsgsbase = bindings::GM_FEAT_FSGSBASE,
    /// CPUID.(7,0):EBX\[7\].
    Smep = bindings::GM_FEAT_SMEP,
    /// CPUID.(7,0):EBX\[20\].
    Smap = bindings::GM_FEAT_SMAP,
    /// CPUID.(7,0):ECX\[2\].
    Umip = bindings::GM_FEAT_UMIP,
    /// CPUID.(7,0):ECX\[3\].
    Pku = bindings::GM_FEAT_PKU,
    /// CPUID.(7,0):ECX\[16\].
    La57 = bindings::GM_FEAT_LA57,
    /// CPUID.(7,1):EAX\[26\].
    Lam = bindings::GM_FEAT_LAM,
    /// CPUID.80000001H:ECX\[2\].
    Svm = bindings::GM_FEAT_SVM,
    /// CPUID.80000001H:EDX\[20\].
    Nx = bindings::GM_FEAT_NX,
    /// CPUID.80000001H:EDX\[25\].
    FxsrOpt = bindings::GM_FEAT_FXSR_OPT,
    /// CPUID.80000001H:EDX\[29\].
    Lm = bindings::GM_FEAT_LM,
    /// CPUID.8000000AH:EDX\[0\].
    Npt = bindings::GM_FEAT_NPT,
    /// CPUID.80000021H:EAX\[8\].
    AutoIbrs = bindings::GM_FEAT_AUTOIBRS,
}

/// The register of a CPUID output.
#[derive(Clone, Copy)]
enum Reg {
    Eax,
    Ebx,
    Ecx,
    Edx,
}

impl Feature {
    /// Every feature, for iterating.
    const ALL: [Feature; 16] = [
        Feature::Xsave,
        Feature::Vmx,
        Feature::Pcid,
        Feature::Fsgsbase,
        Feature::Smep,
        Feature::Smap,
        Feature::Umip,
        Feature::Pku,
        Feature::La57,
        Feature::Lam,
        Feature::Svm,
        Feature::Nx,
        Feature::FxsrOpt,
        Feature::Lm,
        Feature::Npt,
        Feature::AutoIbrs,
    ];

    /// Where CPUID reports it: leaf, subleaf, register, bit.
    fn location(self) -> (u32, u32, Reg, u32) {
        match self {
            Feature::Xsave => (1, 0, Reg::Ecx, 26),
            Feature::Vmx => (1, 0, Reg::Ecx, 5),
            Feature::Pcid => (1, 0, Reg::Ecx, 17),
            Feature::Fsgsbase => (7, 0, Reg::Ebx, 0),
            Feature::Smep => (7, 0, Reg::Ebx, 7),
            Feature::Smap => (7, 0, Reg::Ebx, 20),
            Feature::Umip => (7, 0, Reg::Ecx, 2),
            Feature::Pku => (7, 0, Reg::Ecx, 3),
            Feature::La57 => (7, 0, Reg::Ecx, 16),
            Feature::Lam => (7, 1, Reg::Eax, 26),
            Feature::Svm => (0x8000_0001, 0, Reg::Ecx, 2),
            Feature::Nx => (0x8000_0001, 0, Reg::Edx, 20),
            Feature::FxsrOpt => (0x8000_0001, 0, Reg::Edx, 25),
            Feature::Lm => (0x8000_0001, 0, Reg::Edx, 29),
            Feature::Npt => (0x8000_000a, 0, Reg::Edx, 0),
            Feature::AutoIbrs => (0x8000_0021, 0, Reg::Eax, 8),
        }
    }
}

/// A set of [`Feature`]s, as `GM_FEAT_*` bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Features(pub(crate) u32);

impl Features {
    /// Whether `f` is in the set.
    pub(crate) fn has(self, f: Feature) -> bool {
        self.0 & f as u32 != 0
    }

    /// The features both sets have.
    fn and(self, other: Features) -> Features {
        Features(self.0 & other.0)
    }
}

/// The entry for leaf `function`, subleaf `index`, as KVM's
/// `kvm_find_cpuid_entry_index()` finds it: the subleaf counts only for
/// leaves that have subleaves (of those the model reads, leaf 7).
fn find(
    entries: &[guestmap_cpuid_entry],
    function: u32,
    index: u32,
) -> Option<&guestmap_cpuid_entry> {
    let indexed = function == 7;
    entries
        .iter()
        .find(|e| e.function == function && (!indexed || e.index == index))
}

/// The features CPUID `entries` report, as `guest_cpuid_has()` reads
/// them: a leaf that is absent reports none.
pub(crate) fn guest_features(entries: &[guestmap_cpuid_entry]) -> Features {
    let mut set = 0;
    for f in Feature::ALL {
        let (leaf, sub, reg, bit) = f.location();
        if let Some(e) = find(entries, leaf, sub) {
            let val = match reg {
                Reg::Eax => e.eax,
                Reg::Ebx => e.ebx,
                Reg::Ecx => e.ecx,
                Reg::Edx => e.edx,
            };
            if val & (1 << bit) != 0 {
                set |= f as u32;
            }
        }
    }
    Features(set)
}

/// MAXPHYADDR as `cpuid_query_maxphyaddr()` reads it: CPUID.80000008H:
/// EAX\[7:0\] if leaf 80000000H says that leaf exists, else 36.
pub(crate) fn maxphyaddr(entries: &[guestmap_cpuid_entry]) -> u32 {
    match find(entries, 0x8000_0000, 0) {
        Some(e) if e.eax >= 0x8000_0008 => {
            find(entries, 0x8000_0008, 0).map_or(36, |e| e.eax & 0xff)
        }
        _ => 36,
    }
}

/// CR4 bits (Intel SDM vol. 3 2.5, AMD APM vol. 2 3.1.3).
pub(crate) mod cr4 {
    pub(crate) const VME: u64 = 1 << 0;
    pub(crate) const PVI: u64 = 1 << 1;
    pub(crate) const TSD: u64 = 1 << 2;
    pub(crate) const DE: u64 = 1 << 3;
    pub(crate) const PSE: u64 = 1 << 4;
    pub(crate) const PAE: u64 = 1 << 5;
    pub(crate) const MCE: u64 = 1 << 6;
    pub(crate) const PGE: u64 = 1 << 7;
    pub(crate) const PCE: u64 = 1 << 8;
    pub(crate) const OSFXSR: u64 = 1 << 9;
    pub(crate) const OSXMMEXCPT: u64 = 1 << 10;
    pub(crate) const UMIP: u64 = 1 << 11;
    pub(crate) const LA57: u64 = 1 << 12;
    pub(crate) const VMXE: u64 = 1 << 13;
    pub(crate) const FSGSBASE: u64 = 1 << 16;
    pub(crate) const PCIDE: u64 = 1 << 17;
    pub(crate) const OSXSAVE: u64 = 1 << 18;
    pub(crate) const SMEP: u64 = 1 << 20;
    pub(crate) const SMAP: u64 = 1 << 21;
    pub(crate) const PKE: u64 = 1 << 22;
    pub(crate) const LAM_SUP: u64 = 1 << 28;
}

/// EFER bits (AMD APM vol. 2 3.1.7).
pub(crate) mod efer {
    pub(crate) const SCE: u64 = 1 << 0;
    pub(crate) const LME: u64 = 1 << 8;
    pub(crate) const LMA: u64 = 1 << 10;
    pub(crate) const NX: u64 = 1 << 11;
    pub(crate) const SVME: u64 = 1 << 12;
    pub(crate) const LMSLE: u64 = 1 << 13;
    pub(crate) const FFXSR: u64 = 1 << 14;
    pub(crate) const AUTOIBRS: u64 = 1 << 21;
}

/// The CR4 bits KVM never lets a guest set: `CR4_RESERVED_BITS`.
const CR4_RESERVED: u64 = !(cr4::VME
    | cr4::PVI
    | cr4::TSD
    | cr4::DE
    | cr4::PSE
    | cr4::PAE
    | cr4::MCE
    | cr4::PGE
    | cr4::PCE
    | cr4::OSFXSR
    | cr4::PCIDE
    | cr4::OSXSAVE
    | cr4::SMEP
    | cr4::FSGSBASE
    | cr4::OSXMMEXCPT
    | cr4::LA57
    | cr4::VMXE
    | cr4::SMAP
    | cr4::PKE
    | cr4::UMIP
    | cr4::LAM_SUP);

/// `__cr4_reserved_bits()`: the CR4 bits reserved for a CPU with `has`.
fn cr4_reserved(has: Features) -> u64 {
    let gated = [
        (Feature::Xsave, cr4::OSXSAVE),
        (Feature::Smep, cr4::SMEP),
        (Feature::Smap, cr4::SMAP),
        (Feature::Fsgsbase, cr4::FSGSBASE),
        (Feature::Pku, cr4::PKE),
        (Feature::La57, cr4::LA57),
        (Feature::Umip, cr4::UMIP),
        (Feature::Vmx, cr4::VMXE),
        (Feature::Pcid, cr4::PCIDE),
        (Feature::Lam, cr4::LAM_SUP),
    ];
    gated
        .iter()
        .filter(|(f, _)| !has.has(*f))
        .fold(CR4_RESERVED, |r, (_, bit)| r | bit)
}

/// Why a CPU model cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelError {
    /// MAXPHYADDR outside what x86 defines (32 to 52 bits).
    MaxPhyAddr(u32),
}

/// What the consistency checks of nested virtualization need to know of
/// the guest CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpuModel {
    /// Guest physical address bits.
    maxphyaddr: u32,
    /// CR4 bits the guest may not set: the host's reserved bits
    /// (`cr4_reserved_bits`) and the guest's (`cr4_guest_rsvd_bits`).
    cr4_reserved: u64,
    /// EFER bits the host lets any guest set (KVM's `efer_reserved_bits`
    /// inverted, with nested SVM on).
    efer_host: u64,
    /// The guest's features, as its CPUID reports them.
    guest: Features,
    /// The host's.
    host: Features,
    /// Whether L0 runs its guests with nested paging: KVM's
    /// `npt_enabled`, which needs the host's NPT and `kvm_amd npt=1`.
    l0_npt: bool,
}

impl CpuModel {
    /// The model of a guest with CPUID `entries` on a host with `host`.
    ///
    /// As in KVM, CR4 is limited by the host's features and the guest's
    /// CPUID separately; EFER bits by the host (`kvm_enable_efer_bits()`
    /// in svm_hardware_setup() and kvm_x86_vendor_init(): SCE always,
    /// LME/LMA with LM, NX, FFXSR with FXSR_OPT, AUTOIBRS, and SVME and
    /// LMSLE with nested SVM) and then by the guest's CPUID
    /// (`__kvm_valid_efer()`, which does not gate SCE or LMSLE).
    pub(crate) fn new(
        entries: &[guestmap_cpuid_entry],
        host: Features,
    ) -> Result<CpuModel, ModelError> {
        let maxphyaddr = maxphyaddr(entries);
        if !(32..=52).contains(&maxphyaddr) {
            return Err(ModelError::MaxPhyAddr(maxphyaddr));
        }
        let guest = guest_features(entries);
        let mut efer_host = efer::SCE | efer::SVME | efer::LMSLE;
        for (f, bits) in [
            (Feature::Lm, efer::LME | efer::LMA),
            (Feature::Nx, efer::NX),
            (Feature::FxsrOpt, efer::FFXSR),
            (Feature::AutoIbrs, efer::AUTOIBRS),
        ] {
            if host.has(f) {
                efer_host |= bits;
            }
        }
        Ok(CpuModel {
            maxphyaddr,
            cr4_reserved: cr4_reserved(host) | cr4_reserved(guest),
            efer_host,
            guest,
            host,
            l0_npt: host.has(Feature::Npt),
        })
    }

    /// Guest physical address bits.
    pub(crate) fn maxphyaddr(&self) -> u32 {
        self.maxphyaddr
    }

    /// `guest_cpuid_has()`: whether the guest's CPUID reports `f`.
    pub(crate) fn guest_has(&self, f: Feature) -> bool {
        self.guest.has(f)
    }

    /// `guest_cpu_cap_has()`: whether the guest may use `f`, which needs
    /// the host to have it too.
    pub(crate) fn can_use(&self, f: Feature) -> bool {
        self.guest.and(self.host).has(f)
    }

    /// The model with L0 running with nested paging only if `npt` (and
    /// the host has it): `kvm_amd npt=0` is `false`.
    pub(crate) fn with_l0_npt(self, npt: bool) -> CpuModel {
        CpuModel {
            l0_npt: npt && self.host.has(Feature::Npt),
            ..self
        }
    }

    /// Whether nested paging can be offered: KVM's `npt_enabled`, a
    /// property of L0, not of the guest's CPUID.
    pub(crate) fn host_npt(&self) -> bool {
        self.l0_npt
    }

    /// `kvm_vcpu_is_legal_gpa()`: no bit at or above MAXPHYADDR.
    pub(crate) fn is_legal_gpa(&self, gpa: u64) -> bool {
        gpa >> self.maxphyaddr == 0
    }

    /// `kvm_vcpu_is_legal_cr3()`: a legal gpa once the LAM bits (61, 62)
    /// are masked, if the guest has LAM.
    pub(crate) fn is_legal_cr3(&self, cr3: u64) -> bool {
        let lam = if self.can_use(Feature::Lam) {
            (1 << 61) | (1 << 62)
        } else {
            0
        };
        self.is_legal_gpa(cr3 & !lam)
    }

    /// `__kvm_is_valid_cr4()`.
    pub(crate) fn is_valid_cr4(&self, cr4: u64) -> bool {
        cr4 & self.cr4_reserved == 0
    }

    /// `kvm_valid_efer()`.
    pub(crate) fn is_valid_efer(&self, efer: u64) -> bool {
        if efer & !self.efer_host != 0 {
            return false;
        }
        let gated = [
            (efer::AUTOIBRS, Feature::AutoIbrs),
            (efer::FFXSR, Feature::FxsrOpt),
            (efer::SVME, Feature::Svm),
            (efer::LME | efer::LMA, Feature::Lm),
            (efer::NX, Feature::Nx),
        ];
        gated
            .iter()
            .all(|(bits, f)| efer & bits == 0 || self.guest_has(*f))
    }
}
