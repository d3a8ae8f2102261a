// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/cpu.rs`, the guest CPU model.  Every expected
//! value is written out from the manuals and from KVM 6.12, never taken
//! from the code under test:
//!
//! * CPUID bit positions: arch/x86/include/asm/cpufeatures.h, whose word
//!   numbers are the `enum cpuid_leafs` of arch/x86/include/asm/
//!   cpufeature.h (word 1 = 80000001H:EDX, 4 = 1:ECX, 6 = 80000001H:ECX,
//!   9 = (7,0):EBX, 12 = (7,1):EAX, 15 = 8000000AH:EDX, 16 = (7,0):ECX,
//!   20 = 80000021H:EAX); AMD APM vol. 3 appendix E says the same.
//! * MAXPHYADDR: cpuid_query_maxphyaddr() in arch/x86/kvm/cpuid.c.
//! * CR4: CR4_RESERVED_BITS (arch/x86/include/asm/kvm_host.h) and
//!   __cr4_reserved_bits() (arch/x86/kvm/x86.h), applied to the host's
//!   caps (cr4_reserved_bits, x86.c) and to the guest's CPUID
//!   (cr4_guest_rsvd_bits, cpuid.c); bit numbers from
//!   arch/x86/include/uapi/asm/processor-flags.h and APM vol. 2 3.1.3.
//! * EFER: efer_reserved_bits = ~EFER_SCE (x86.c kvm_x86_vendor_init),
//!   then kvm_enable_efer_bits(): LME|LMA with LM (x86.c), NX (always on
//!   SVM hosts), FFXSR with FXSR_OPT, AUTOIBRS, and SVME|LMSLE with nested
//!   (svm.c svm_hardware_setup); then __kvm_valid_efer() gates AUTOIBRS,
//!   FFXSR, SVME, LME/LMA and NX by the guest's CPUID, not SCE or LMSLE.
//!   Bit numbers: arch/x86/include/asm/msr-index.h, APM vol. 2 3.1.7.
//! * Legal addresses: kvm_vcpu_is_legal_gpa() and kvm_vcpu_is_legal_cr3()
//!   (arch/x86/kvm/cpuid.h): no bit at or above MAXPHYADDR, CR3 bits 61
//!   (LAM_U57) and 62 (LAM_U48) masked if the guest may use LAM.

use crate::nested::cpu::{cr4, efer, maxphyaddr, CpuModel, Feature, Features, ModelError};
use crate::uapi::guestmap_cpuid_entry;

/// Registers of a CPUID output, for the tables below.
#[derive(Clone, Copy, Debug)]
enum R {
    Eax,
    Ebx,
    Ecx,
    Edx,
}

pub(crate) const fn ent(
    function: u32,
    index: u32,
    eax: u32,
    ebx: u32,
    ecx: u32,
    edx: u32,
) -> guestmap_cpuid_entry {
    guestmap_cpuid_entry {
        function,
        index,
        eax,
        ebx,
        ecx,
        edx,
    }
}

/// A leaf with only `bit` of `reg` set.
fn one_bit(function: u32, index: u32, reg: R, bit: u32) -> guestmap_cpuid_entry {
    let v = 1u32 << bit;
    match reg {
        R::Eax => ent(function, index, v, 0, 0, 0),
        R::Ebx => ent(function, index, 0, v, 0, 0),
        R::Ecx => ent(function, index, 0, 0, v, 0),
        R::Edx => ent(function, index, 0, 0, 0, v),
    }
}

const ALL_FEATURES: [Feature; 16] = [
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

fn feats(fs: &[Feature]) -> Features {
    Features(fs.iter().fold(0, |a, f| a | *f as u32))
}

pub(crate) fn host_all() -> Features {
    feats(&ALL_FEATURES)
}

pub(crate) fn host_without(f: Feature) -> Features {
    Features(host_all().0 & !(f as u32))
}

/// Where each feature is, from cpufeatures.h (word:bit) and the leaf
/// each word stands for.
const LOCATIONS: [(Feature, u32, u32, R, u32); 16] = [
    // X86_FEATURE_XSAVE ( 4*32+26): CPUID_1_ECX bit 26.
    (Feature::Xsave, 1, 0, R::Ecx, 26),
    // X86_FEATURE_VMX ( 4*32+ 5).
    (Feature::Vmx, 1, 0, R::Ecx, 5),
    // X86_FEATURE_PCID ( 4*32+17).
    (Feature::Pcid, 1, 0, R::Ecx, 17),
    // X86_FEATURE_FSGSBASE ( 9*32+ 0): CPUID_7_0_EBX.
    (Feature::Fsgsbase, 7, 0, R::Ebx, 0),
    // X86_FEATURE_SMEP ( 9*32+ 7).
    (Feature::Smep, 7, 0, R::Ebx, 7),
    // X86_FEATURE_SMAP ( 9*32+20).
    (Feature::Smap, 7, 0, R::Ebx, 20),
    // X86_FEATURE_UMIP (16*32+ 2): CPUID_7_ECX.
    (Feature::Umip, 7, 0, R::Ecx, 2),
    // X86_FEATURE_PKU (16*32+ 3).
    (Feature::Pku, 7, 0, R::Ecx, 3),
    // X86_FEATURE_LA57 (16*32+16).
    (Feature::La57, 7, 0, R::Ecx, 16),
    // X86_FEATURE_LAM (12*32+26): CPUID_7_1_EAX.
    (Feature::Lam, 7, 1, R::Eax, 26),
    // X86_FEATURE_SVM ( 6*32+ 2): CPUID_8000_0001_ECX.
    (Feature::Svm, 0x8000_0001, 0, R::Ecx, 2),
    // X86_FEATURE_NX ( 1*32+20): CPUID_8000_0001_EDX.
    (Feature::Nx, 0x8000_0001, 0, R::Edx, 20),
    // X86_FEATURE_FXSR_OPT ( 1*32+25).
    (Feature::FxsrOpt, 0x8000_0001, 0, R::Edx, 25),
    // X86_FEATURE_LM ( 1*32+29).
    (Feature::Lm, 0x8000_0001, 0, R::Edx, 29),
    // X86_FEATURE_NPT (15*32+ 0): CPUID_8000_000A_EDX.
    (Feature::Npt, 0x8000_000a, 0, R::Edx, 0),
    // X86_FEATURE_AUTOIBRS (20*32+ 8): CPUID_8000_0021_EAX.
    (Feature::AutoIbrs, 0x8000_0021, 0, R::Eax, 8),
];

/// The CPUID of a guest with every feature above and MAXPHYADDR 48.
pub(crate) fn full_cpuid() -> [guestmap_cpuid_entry; 9] {
    [
        ent(0, 0, 0xd, 0, 0, 0),
        // XSAVE | VMX | PCID.
        ent(1, 0, 0, 0, (1 << 26) | (1 << 5) | (1 << 17), 0),
        // FSGSBASE | SMEP | SMAP; UMIP | PKU | LA57.
        ent(
            7,
            0,
            1,
            (1 << 0) | (1 << 7) | (1 << 20),
            (1 << 2) | (1 << 3) | (1 << 16),
            0,
        ),
        // LAM.
        ent(7, 1, 1 << 26, 0, 0, 0),
        ent(0x8000_0000, 0, 0x8000_0021, 0, 0, 0),
        // SVM; NX | FXSR_OPT | LM.
        ent(
            0x8000_0001,
            0,
            0,
            0,
            1 << 2,
            (1 << 20) | (1 << 25) | (1 << 29),
        ),
        // Physical 48 (bits 7:0), linear 48 (bits 15:8).
        ent(0x8000_0008, 0, 0x3030, 0, 0, 0),
        // NP.
        ent(0x8000_000a, 0, 1, 0, 0, 1),
        // AutomaticIBRS.
        ent(0x8000_0021, 0, 1 << 8, 0, 0, 0),
    ]
}

/// A guest whose CPUID has only `f` (and MAXPHYADDR 36).
fn only(f: Feature) -> [guestmap_cpuid_entry; 1] {
    let (_, leaf, sub, reg, bit) = LOCATIONS.iter().copied().find(|l| l.0 == f).unwrap();
    [one_bit(leaf, sub, reg, bit)]
}

fn model(entries: &[guestmap_cpuid_entry], host: Features) -> CpuModel {
    CpuModel::new(entries, host).unwrap()
}

/// A CPUID with leaf 80000008H reporting `bits` of physical address.
pub(crate) fn with_maxphyaddr(bits: u32) -> [guestmap_cpuid_entry; 2] {
    [
        ent(0x8000_0000, 0, 0x8000_0008, 0, 0, 0),
        ent(0x8000_0008, 0, 0x3000 | bits, 0, 0, 0),
    ]
}

// --- MAXPHYADDR --------------------------------------------------------

#[test]
fn maxphyaddr_defaults_to_36_without_leaf_80000008() {
    // cpuid_query_maxphyaddr(): "if (!best || best->eax < 0x80000008)
    // goto not_found; ... not_found: return 36;"
    assert_eq!(maxphyaddr(&[]), 36);
    // 80000008H present but not announced by 80000000H.EAX.
    let e = [
        ent(0x8000_0000, 0, 0x8000_0007, 0, 0, 0),
        ent(0x8000_0008, 0, 48, 0, 0, 0),
    ];
    assert_eq!(maxphyaddr(&e), 36);
    // Announced but absent.
    assert_eq!(maxphyaddr(&[ent(0x8000_0000, 0, 0x8000_0008, 0, 0, 0)]), 36);
    // Present without 80000000H at all.
    assert_eq!(maxphyaddr(&[ent(0x8000_0008, 0, 48, 0, 0, 0)]), 36);
    // And the model keeps it.
    assert_eq!(model(&[], host_all()).maxphyaddr(), 36);
}

#[test]
fn maxphyaddr_is_eax_bits_7_0_of_leaf_80000008() {
    // "return best->eax & 0xff": bits 15:8 (linear address size) and
    // above do not count.
    assert_eq!(maxphyaddr(&with_maxphyaddr(40)), 40);
    let e = [
        ent(0x8000_0000, 0, 0x8000_0021, 0, 0, 0),
        ent(0x8000_0008, 0, 0xffff_3934, 0, 0, 0),
    ];
    assert_eq!(maxphyaddr(&e), 0x34);
    // 80000000H.EAX exactly 80000008H is enough.
    assert_eq!(maxphyaddr(&with_maxphyaddr(48)), 48);
    // kvm_find_cpuid_entry() ignores the index of these leaves.
    let e = [
        ent(0x8000_0000, 3, 0x8000_0008, 0, 0, 0),
        ent(0x8000_0008, 5, 0x3028, 0, 0, 0),
    ];
    assert_eq!(maxphyaddr(&e), 40);
}

#[test]
fn model_rejects_maxphyaddr_outside_32_to_52() {
    // x86 defines physical address widths of 32 (no PAE/PSE-36) to 52.
    for (bits, ok) in [
        (0, false),
        (31, false),
        (32, true),
        (36, true),
        (52, true),
        (53, false),
        (0xff, false),
    ] {
        let r = CpuModel::new(&with_maxphyaddr(bits), host_all());
        if ok {
            assert_eq!(r.unwrap().maxphyaddr(), bits);
        } else {
            assert_eq!(r, Err(ModelError::MaxPhyAddr(bits)), "{bits}");
        }
    }
}

#[test]
fn legal_gpa_has_no_bit_at_or_above_maxphyaddr() {
    // kvm_vcpu_is_legal_gpa(): !(gpa & rsvd_bits(maxphyaddr, 63)).
    let m48 = model(&with_maxphyaddr(48), host_all());
    assert!(m48.is_legal_gpa(0));
    assert!(m48.is_legal_gpa(0xffff_ffff_ffff));
    assert!(!m48.is_legal_gpa(0x1_0000_0000_0000));
    assert!(!m48.is_legal_gpa(1 << 63));
    assert!(!m48.is_legal_gpa(u64::MAX));
    let m36 = model(&[], host_all());
    assert!(m36.is_legal_gpa(0xf_ffff_ffff));
    assert!(!m36.is_legal_gpa(0x10_0000_0000));
    let m52 = model(&with_maxphyaddr(52), host_all());
    assert!(m52.is_legal_gpa(0xf_ffff_ffff_ffff));
    assert!(!m52.is_legal_gpa(0x10_0000_0000_0000));
    let m32 = model(&with_maxphyaddr(32), host_all());
    assert!(m32.is_legal_gpa(0xffff_ffff));
    assert!(!m32.is_legal_gpa(0x1_0000_0000));
}

#[test]
fn legal_cr3_masks_lam_bits_61_62_only_with_lam() {
    // kvm_vcpu_is_legal_cr3(): with guest_cpu_cap_has(LAM) (guest CPUID
    // and KVM's caps), X86_CR3_LAM_U57 (bit 61) and X86_CR3_LAM_U48
    // (bit 62) are masked before the gpa check.
    let mut e = [ent(0, 0, 0, 0, 0, 0); 3];
    e[..2].copy_from_slice(&with_maxphyaddr(48));
    e[2] = ent(7, 1, 1 << 26, 0, 0, 0);
    let lam = model(&e, host_all());
    assert!(lam.is_legal_cr3(0x0000_ffff_ffff_f000));
    assert!(lam.is_legal_cr3(0x6000_0000_0000_1000));
    assert!(lam.is_legal_cr3((1 << 61) | 0x1000));
    assert!(lam.is_legal_cr3((1 << 62) | 0x1000));
    // Bit 63 and bits 60:48 are not LAM's.
    assert!(!lam.is_legal_cr3((1 << 63) | 0x1000));
    assert!(!lam.is_legal_cr3((1 << 60) | 0x1000));
    assert!(!lam.is_legal_cr3(1 << 48));
    // Without LAM in the guest's CPUID: bits 61/62 are illegal.
    let no_lam = model(&with_maxphyaddr(48), host_all());
    assert!(no_lam.is_legal_cr3(0x0000_ffff_ffff_f000));
    assert!(!no_lam.is_legal_cr3((1 << 61) | 0x1000));
    assert!(!no_lam.is_legal_cr3((1 << 62) | 0x1000));
    // LAM in the guest's CPUID on a host without it: not usable.
    let no_host_lam = model(&e, host_without(Feature::Lam));
    assert!(!no_host_lam.is_legal_cr3(0x6000_0000_0000_1000));
    assert!(no_host_lam.is_legal_cr3(0x1000));
}

// --- CPUID features ----------------------------------------------------

#[test]
fn each_feature_is_read_from_its_cpuid_bit() {
    for (f, leaf, sub, reg, bit) in LOCATIONS {
        let e = [one_bit(leaf, sub, reg, bit)];
        let m = model(&e, host_all());
        for g in ALL_FEATURES {
            assert_eq!(
                m.guest_has(g),
                g == f,
                "{f:?} at {leaf:#x}.{sub} {reg:?}[{bit}]: {g:?}"
            );
        }
        // The neighbouring bits are not it (whatever else they are).
        for other in [bit.wrapping_sub(1), bit + 1] {
            if other > 31 {
                continue;
            }
            let m = model(&[one_bit(leaf, sub, reg, other)], host_all());
            assert!(!m.guest_has(f), "{f:?}: bit {other} is not it");
        }
        // The same bit in another register is not it.
        let wrong = match reg {
            R::Eax => R::Edx,
            _ => R::Eax,
        };
        let m = model(&[one_bit(leaf, sub, wrong, bit)], host_all());
        assert!(!m.guest_has(f), "{f:?} in {wrong:?}");
    }
}

#[test]
fn absent_leaves_report_no_feature() {
    // guest_cpuid_has(): no entry, no feature.
    let m = model(&[], host_all());
    for f in ALL_FEATURES {
        assert!(!m.guest_has(f), "{f:?}");
    }
    // A full CPUID reports them all.
    let m = model(&full_cpuid(), host_all());
    for f in ALL_FEATURES {
        assert!(m.guest_has(f), "{f:?}");
    }
}

#[test]
fn leaf_7_subleaves_are_matched_by_index() {
    // Leaf 7 is indexed (KVM_CPUID_FLAG_SIGNIFCANT_INDEX): SMEP is
    // (7,0).EBX[7], LAM (7,1).EAX[26]; the other subleaf's same bit is
    // something else.
    let m = model(&[ent(7, 1, 0, 1 << 7, 0, 0)], host_all());
    assert!(!m.guest_has(Feature::Smep));
    let m = model(&[ent(7, 0, 1 << 26, 0, 0, 0)], host_all());
    assert!(!m.guest_has(Feature::Lam));
    let m = model(&[ent(7, 2, 1 << 26, 1 << 7, 0, 0)], host_all());
    assert!(!m.guest_has(Feature::Lam) && !m.guest_has(Feature::Smep));
    // Found whatever the order of the entries.
    let e = [
        ent(7, 1, 1 << 26, 0, 0, 0),
        ent(7, 0, 0, 1 << 7, 1 << 16, 0),
    ];
    let m = model(&e, host_all());
    assert!(m.guest_has(Feature::Lam));
    assert!(m.guest_has(Feature::Smep));
    assert!(m.guest_has(Feature::La57));
    // Leaves without subleaves ignore the index.
    let m = model(&[ent(0x8000_0001, 7, 0, 0, 1 << 2, 1 << 29)], host_all());
    assert!(m.guest_has(Feature::Svm) && m.guest_has(Feature::Lm));
    let m = model(&[ent(1, 4, 0, 0, 1 << 26, 0)], host_all());
    assert!(m.guest_has(Feature::Xsave));
}

#[test]
fn can_use_needs_guest_cpuid_and_host() {
    let m = model(&only(Feature::Lam), host_all());
    assert!(m.guest_has(Feature::Lam) && m.can_use(Feature::Lam));
    let m = model(&only(Feature::Lam), host_without(Feature::Lam));
    assert!(m.guest_has(Feature::Lam) && !m.can_use(Feature::Lam));
    let m = model(&[], host_all());
    assert!(!m.can_use(Feature::Lam));
}

#[test]
fn host_npt_is_the_hosts_not_the_guests() {
    // npt_enabled is a host property: __nested_vmcb_check_controls()
    // tests it, not the guest's CPUID 8000000AH:EDX[0].
    assert!(model(&[], host_all()).host_npt());
    assert!(!model(&only(Feature::Npt), host_without(Feature::Npt)).host_npt());
    assert!(model(&only(Feature::Npt), host_all()).host_npt());
}

#[test]
fn l0_without_npt_offers_none() {
    // kvm_amd npt=0: npt_enabled is false even on a host with NPT
    // (svm_hardware_setup(): npt_enabled = npt_enabled && NPT).
    assert!(!model(&[], host_all()).with_l0_npt(false).host_npt());
    assert!(model(&[], host_all()).with_l0_npt(true).host_npt());
    // npt=1 cannot give what the host lacks.
    assert!(!model(&[], host_without(Feature::Npt))
        .with_l0_npt(true)
        .host_npt());
}

// --- CR4 ---------------------------------------------------------------

#[test]
fn cr4_bits_kvm_never_reserves_are_always_valid() {
    // Not in CR4_RESERVED_BITS and not gated by __cr4_reserved_bits():
    // VME 0, PVI 1, TSD 2, DE 3, PSE 4, PAE 5, MCE 6, PGE 7, PCE 8,
    // OSFXSR 9, OSXMMEXCPT 10 - valid on a guest and host with nothing.
    let m = model(&[], Features(0));
    for bit in 0..=10 {
        assert!(m.is_valid_cr4(1 << bit), "bit {bit}");
    }
    assert!(m.is_valid_cr4(0x7ff));
    assert!(m.is_valid_cr4(0));
    // The module's names for them.
    assert_eq!(
        [
            cr4::VME,
            cr4::PVI,
            cr4::TSD,
            cr4::DE,
            cr4::PSE,
            cr4::PAE,
            cr4::MCE,
            cr4::PGE,
            cr4::PCE,
            cr4::OSFXSR,
            cr4::OSXMMEXCPT
        ],
        [1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x400]
    );
}

#[test]
fn cr4_feature_bits_need_the_feature_in_guest_cpuid_and_host() {
    // __cr4_reserved_bits(), once with the host's caps (cr4_reserved_bits)
    // and once with guest_cpuid_has (cr4_guest_rsvd_bits); a bit either
    // reserves is refused by __kvm_is_valid_cr4().
    let table = [
        (Feature::Xsave, 1u64 << 18), // OSXSAVE
        (Feature::Smep, 1 << 20),     // SMEP
        (Feature::Smap, 1 << 21),     // SMAP
        (Feature::Fsgsbase, 1 << 16), // FSGSBASE
        (Feature::Pku, 1 << 22),      // PKE
        (Feature::La57, 1 << 12),     // LA57
        (Feature::Umip, 1 << 11),     // UMIP
        (Feature::Vmx, 1 << 13),      // VMXE
        (Feature::Pcid, 1 << 17),     // PCIDE
        (Feature::Lam, 1 << 28),      // LAM_SUP
    ];
    for (f, bit) in table {
        // Guest and host have it.
        assert!(model(&only(f), host_all()).is_valid_cr4(bit), "{f:?}");
        assert!(model(&full_cpuid(), host_all()).is_valid_cr4(bit), "{f:?}");
        // The guest's CPUID lacks it.
        assert!(!model(&[], host_all()).is_valid_cr4(bit), "{f:?} guest");
        // The host lacks it.
        assert!(
            !model(&only(f), host_without(f)).is_valid_cr4(bit),
            "{f:?} host"
        );
        assert!(
            !model(&full_cpuid(), host_without(f)).is_valid_cr4(bit),
            "{f:?} host"
        );
    }
    // The module's names for them.
    assert_eq!(
        [
            cr4::OSXSAVE,
            cr4::SMEP,
            cr4::SMAP,
            cr4::FSGSBASE,
            cr4::PKE,
            cr4::LA57,
            cr4::UMIP,
            cr4::VMXE,
            cr4::PCIDE,
            cr4::LAM_SUP
        ],
        [
            1 << 18,
            1 << 20,
            1 << 21,
            1 << 16,
            1 << 22,
            1 << 12,
            1 << 11,
            1 << 13,
            1 << 17,
            1 << 28
        ]
    );
}

#[test]
fn cr4_always_reserved_bits_are_refused_whatever_the_cpuid() {
    // In CR4_RESERVED_BITS whatever the features: SMXE 14, 15, 19,
    // CET 23 (not in 6.12's list), PKS 24, 25-27, 29-31, FRED 32, 63.
    let m = model(&full_cpuid(), host_all());
    for bit in [14, 15, 19, 23, 24, 25, 26, 27, 29, 30, 31, 32, 33, 62, 63] {
        assert!(!m.is_valid_cr4(1 << bit), "bit {bit}");
        // Even next to valid bits.
        assert!(!m.is_valid_cr4((1 << bit) | 0x20), "bit {bit}");
    }
    // Every bit KVM allows, at once, is fine.
    // 0-13 (0x3fff), 16-18 (0x7_0000), 20-22 (0x70_0000), 28.
    assert!(m.is_valid_cr4(0x1077_3fff));
}

// --- EFER --------------------------------------------------------------

#[test]
fn efer_sce_is_always_valid() {
    // efer_reserved_bits = ~EFER_SCE; __kvm_valid_efer() does not gate it.
    let m = model(&[], Features(0));
    assert_eq!(efer::SCE, 1);
    assert!(m.is_valid_efer(0));
    assert!(m.is_valid_efer(1 << 0));
}

#[test]
fn efer_lme_and_lma_need_lm() {
    // EFER.LME bit 8, LMA bit 10: kvm_enable_efer_bits(EFER_LME|EFER_LMA)
    // with kvm_cpu_cap_has(LM), then guest_cpuid_has(LM).
    assert_eq!((efer::LME, efer::LMA), (0x100, 0x400));
    for bits in [0x100, 0x400, 0x500] {
        assert!(model(&only(Feature::Lm), host_all()).is_valid_efer(bits));
        assert!(model(&only(Feature::Lm), feats(&[Feature::Lm])).is_valid_efer(bits));
        assert!(
            !model(&[], host_all()).is_valid_efer(bits),
            "{bits:#x} guest"
        );
        assert!(
            !model(&only(Feature::Lm), host_without(Feature::Lm)).is_valid_efer(bits),
            "{bits:#x} host"
        );
    }
}

#[test]
fn efer_nx_needs_nx() {
    // EFER.NXE bit 11.
    assert_eq!(efer::NX, 0x800);
    assert!(model(&only(Feature::Nx), host_all()).is_valid_efer(0x800));
    assert!(!model(&[], host_all()).is_valid_efer(0x800));
    assert!(!model(&only(Feature::Nx), host_without(Feature::Nx)).is_valid_efer(0x800));
}

#[test]
fn efer_svme_needs_guest_svm() {
    // EFER.SVME bit 12: enabled on the host with nested (svm.c), so only
    // the guest's CPUID 80000001H:ECX[2] gates it.
    assert_eq!(efer::SVME, 0x1000);
    assert!(model(&only(Feature::Svm), host_all()).is_valid_efer(0x1000));
    assert!(model(&only(Feature::Svm), Features(0)).is_valid_efer(0x1000));
    assert!(!model(&[], host_all()).is_valid_efer(0x1000));
    assert!(!model(&only(Feature::Lm), host_all()).is_valid_efer(0x1000));
}

#[test]
fn efer_ffxsr_needs_fxsr_opt_in_host_and_guest() {
    // EFER.FFXSR bit 14: kvm_enable_efer_bits(EFER_FFXSR) if
    // boot_cpu_has(FXSR_OPT); guest_cpuid_has(FXSR_OPT).
    assert_eq!(efer::FFXSR, 0x4000);
    assert!(model(&only(Feature::FxsrOpt), host_all()).is_valid_efer(0x4000));
    assert!(!model(&[], host_all()).is_valid_efer(0x4000));
    assert!(!model(&only(Feature::FxsrOpt), host_without(Feature::FxsrOpt)).is_valid_efer(0x4000));
}

#[test]
fn efer_autoibrs_needs_autoibrs_in_host_and_guest() {
    // EFER.AIBRSE bit 21: kvm_enable_efer_bits(EFER_AUTOIBRS) if
    // boot_cpu_has(AUTOIBRS); guest_cpuid_has(AUTOIBRS).
    assert_eq!(efer::AUTOIBRS, 1 << 21);
    assert!(model(&only(Feature::AutoIbrs), host_all()).is_valid_efer(1 << 21));
    assert!(!model(&[], host_all()).is_valid_efer(1 << 21));
    assert!(
        !model(&only(Feature::AutoIbrs), host_without(Feature::AutoIbrs)).is_valid_efer(1 << 21)
    );
}

#[test]
fn efer_lmsle_is_allowed_without_any_feature() {
    // EFER.LMSLE bit 13: kvm_enable_efer_bits(EFER_SVME | EFER_LMSLE)
    // with nested, and __kvm_valid_efer() does not gate it.
    assert_eq!(efer::LMSLE, 0x2000);
    assert!(model(&[], Features(0)).is_valid_efer(0x2000));
    assert!(model(&full_cpuid(), host_all()).is_valid_efer(0x2000));
}

#[test]
fn efer_reserved_bits_are_refused() {
    // Only SCE 0, LME 8, LMA 10, NX 11, SVME 12, LMSLE 13, FFXSR 14 and
    // AUTOIBRS 21 are ever enabled: 1-7, 9, 15-20 and 22-63 stay reserved
    // even with every feature (TCE 15, MCOMMIT 17, INTWB 18, UAIE 20 too).
    let m = model(&full_cpuid(), host_all());
    let reserved = (1..=7).chain([9]).chain(15..=20).chain(22..=63);
    for bit in reserved {
        assert!(!m.is_valid_efer(1 << bit), "bit {bit}");
        assert!(!m.is_valid_efer((1 << bit) | 0x1d01), "bit {bit}");
    }
    // Every allowed bit at once: 0x1 | 0x7d00 | 0x20_0000.
    assert!(m.is_valid_efer(0x0020_7d01));
}
