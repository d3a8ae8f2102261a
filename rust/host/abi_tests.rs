// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/abi.rs`.  Expected ioctl numbers are worked out from the
//! encoding in include/uapi/asm-generic/ioctl.h, not from the code.

use crate::{
    abi::{api_version, Command, API_VERSION},
    uapi,
};
use core::mem::{offset_of, size_of};

// asm-generic/ioctl.h: nr in bits 0-7, type 8-15, size 16-29, dir 30-31.
const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    (dir << 30) | (size << 16) | (ty << 8) | nr
}

#[test]
fn get_api_version_number_is_ior_b9_00_16() {
    // _IOR(0xB9, 0x00, struct of 16 bytes) = 0x8010_B900.
    assert_eq!(uapi::GUESTMAP_GET_API_VERSION, 0x8010_B900);
    assert_eq!(uapi::GUESTMAP_GET_API_VERSION, ioc(IOC_READ, 0xB9, 0, 16));
}

#[test]
fn api_version_struct_has_the_documented_layout() {
    // Two __u32 then a naturally aligned __u64: no padding anywhere, the
    // same on 32- and 64-bit user space.
    assert_eq!(size_of::<uapi::guestmap_api_version>(), 16);
    assert_eq!(offset_of!(uapi::guestmap_api_version, version), 0);
    assert_eq!(offset_of!(uapi::guestmap_api_version, page_size), 4);
    assert_eq!(offset_of!(uapi::guestmap_api_version, caps), 8);
}

#[test]
fn decodes_get_api_version() {
    assert_eq!(Command::decode(0x8010_B900), Some(Command::GetApiVersion));
}

#[test]
fn rejects_same_nr_with_other_direction_or_size() {
    for cmd in [
        ioc(IOC_NONE, 0xB9, 0, 0),
        ioc(IOC_WRITE, 0xB9, 0, 16),
        ioc(IOC_READ | IOC_WRITE, 0xB9, 0, 16),
        ioc(IOC_READ, 0xB9, 0, 4),
        ioc(IOC_READ, 0xB9, 0, 24),
    ] {
        assert_eq!(Command::decode(cmd), None, "cmd {cmd:#x}");
    }
}

#[test]
fn rejects_other_types_and_numbers() {
    for cmd in [
        ioc(IOC_READ, 0xB9, 1, 16),
        ioc(IOC_READ, 0xB9, 0xff, 16),
        // KVM's type with our nr and size.
        ioc(IOC_READ, 0xAE, 0, 16),
        // KVM_GET_API_VERSION, _IO(0xAE, 0x00).
        0x0000_AE00,
        // TCGETS.
        0x5401,
        0,
        u32::MAX,
    ] {
        assert_eq!(Command::decode(cmd), None, "cmd {cmd:#x}");
    }
}

#[test]
fn api_version_reports_version_2_page_size_and_the_caps() {
    let v = api_version(4096);
    assert_eq!(API_VERSION, 2);
    // MIRROR, MAP, NESTED_SVM, HUGE, NESTED_VMX, WALK.
    assert_eq!((v.version, v.page_size, v.caps), (2, 4096, 0b11_1111));
    assert_eq!(api_version(16384).page_size, 16384);
}

#[test]
fn mirror_commands_have_their_numbers_and_layouts() {
    use uapi::*;
    // Every field naturally aligned, no padding, sizes as summed by hand.
    assert_eq!(size_of::<guestmap_memslot>(), 4 + 4 + 8 + 8 + 8);
    assert_eq!(offset_of!(guestmap_memslot, guest_phys_addr), 8);
    assert_eq!(offset_of!(guestmap_memslot, userspace_addr), 24);
    assert_eq!(size_of::<guestmap_fault>(), 8 + 8 + 4 + 4);
    assert_eq!(size_of::<guestmap_stats>(), 8 * (8 + 13));
    assert_eq!(offset_of!(guestmap_stats, entries_present), 8 * 16);
    assert_eq!(offset_of!(guestmap_stats, huge_splits), 8 * 20);
    assert_eq!(size_of::<guestmap_query>(), 24);
    assert_eq!(size_of::<guestmap_rw>(), 24);
    assert_eq!(size_of::<guestmap_classify>(), 24);
    assert_eq!(offset_of!(guestmap_classify, pfn), 16);
    assert_eq!(size_of::<guestmap_access>(), 56);
    assert_eq!(offset_of!(guestmap_access, old), 32);
    assert_eq!(offset_of!(guestmap_access, via), 52);
    assert_eq!(size_of::<guestmap_bench>(), 40);
    let cases = [
        (
            GUESTMAP_SET_MEMSLOT,
            ioc(IOC_WRITE, 0xB9, 1, 32),
            Command::SetMemslot,
        ),
        (
            GUESTMAP_MIRROR_FAULT,
            ioc(IOC_WRITE, 0xB9, 2, 24),
            Command::MirrorFault,
        ),
        (
            GUESTMAP_GET_STATS,
            ioc(IOC_READ, 0xB9, 3, 168),
            Command::GetStats,
        ),
        (GUESTMAP_QUERY, ioc(IOC_WRITE, 0xB9, 4, 24), Command::Query),
        (
            GUESTMAP_READ_GUEST,
            ioc(IOC_WRITE, 0xB9, 5, 24),
            Command::ReadGuest,
        ),
        (
            GUESTMAP_WRITE_GUEST,
            ioc(IOC_WRITE, 0xB9, 6, 24),
            Command::WriteGuest,
        ),
    ];
    for (num, want, cmd) in cases {
        assert_eq!(num, want, "{cmd:?}");
        assert_eq!(Command::decode(num), Some(cmd));
        // The same nr read instead of written, or with another size.
        assert_eq!(Command::decode(num ^ (3 << 30)), None);
        assert_eq!(Command::decode(num + (8 << 16)), None);
    }
}

// The argument rules, as include/uapi/linux/guestmap.h and
// Documentation/uapi.rst state them (EINVAL for each).

use crate::abi::{access, fault, query, rw, AccessOp};
use crate::pte::GfnRange;

fn gfns(start: u64, end: u64) -> GfnRange {
    GfnRange { start, end }
}

#[test]
fn fault_takes_page_aligned_ranges_and_the_write_flag_only() {
    let f = |gpa, size, flags, pad| uapi::guestmap_fault {
        gpa,
        size,
        flags,
        pad,
    };
    let ok = fault(&f(0x1000, 0x2000, uapi::GUESTMAP_FAULT_WRITE, 0)).unwrap();
    assert_eq!((ok.gfns, ok.write), (gfns(1, 3), true));
    assert!(!fault(&f(0, 0x1000, 0, 0)).unwrap().write);
    assert!(fault(&f(0, 0x1000, 2, 0)).is_err());
    assert!(fault(&f(0, 0x1000, 0, 1)).is_err());
    assert!(fault(&f(0x800, 0x1000, 0, 0)).is_err());
    assert!(fault(&f(0, 0, 0, 0)).is_err());
    // 48-bit guest physical addresses.
    assert!(fault(&f(1 << 48, 0x1000, 0, 0)).is_err());
    assert!(fault(&f((1 << 48) - 0x1000, 0x1000, 0, 0)).is_ok());
}

#[test]
fn query_is_capped_at_query_max_pages() {
    let q = |gpa, npages| uapi::guestmap_query {
        gpa,
        npages,
        entries: 0x1000,
    };
    let max = u64::from(uapi::GUESTMAP_QUERY_MAX);
    assert_eq!(query(&q(0x5000, max)).unwrap().gfns, gfns(5, 5 + max));
    assert!(query(&q(0, max + 1)).is_err());
    assert!(query(&q(0, 0)).is_err());
    assert!(query(&q(0x10, 1)).is_err());
}

#[test]
fn guest_copies_take_any_alignment_up_to_rw_max() {
    let r = |gpa, len| uapi::guestmap_rw { gpa, len, buf: 0 };
    let one = rw(&r(0x1ff8, 16), true).unwrap();
    assert_eq!((one.gfns, one.write), (gfns(1, 3), true));
    assert!(rw(&r(0, u64::from(uapi::GUESTMAP_RW_MAX) + 1), false).is_err());
    assert!(rw(&r(0, 0), false).is_err());
    assert!(rw(&r(u64::MAX, 2), false).is_err());
}

fn acc(op: u32, gpa: u64, len: u64) -> uapi::guestmap_access {
    uapi::guestmap_access {
        gpa,
        len,
        op,
        ..Default::default()
    }
}

#[test]
fn access_ops_decode_with_their_rules() {
    let a = access(&acc(uapi::GUESTMAP_ACCESS_MAP_WRITE, 0x1010, 8)).unwrap();
    assert_eq!(a.op, AccessOp::Map { write: true });
    assert_eq!((a.off, a.len, a.gfns), (0x10, 8, gfns(1, 2)));
    // Copies may cross pages; the mapping ops may not.
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_READ, 0xff8, 16)).is_ok());
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_MAP_READ, 0xff8, 16)).is_err());
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_CACHE_READ, 0xff8, 16)).is_err());
    // CMPXCHG: one aligned u64.
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_CMPXCHG, 0x1008, 8)).is_ok());
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_CMPXCHG, 0x1004, 8)).is_err());
    assert!(access(&acc(uapi::GUESTMAP_ACCESS_CMPXCHG, 0x1008, 4)).is_err());
    // Caches below GUESTMAP_NR_CACHES.
    let mut c = acc(uapi::GUESTMAP_ACCESS_CACHE_WRITE, 0, 8);
    c.cache = uapi::GUESTMAP_NR_CACHES - 1;
    assert_eq!(
        access(&c).unwrap().op,
        AccessOp::Cache {
            cache: uapi::GUESTMAP_NR_CACHES as usize - 1,
            write: true
        }
    );
    c.cache = uapi::GUESTMAP_NR_CACHES;
    assert!(access(&c).is_err());
    // Unknown ops and flags.
    assert!(access(&acc(0xff, 0, 8)).is_err());
    let mut f = acc(uapi::GUESTMAP_ACCESS_READ, 0, 8);
    f.flags = uapi::GUESTMAP_ACCESS_DIRTY;
    assert!(access(&f).unwrap().dirty);
    f.flags = 2;
    assert!(access(&f).is_err());
}

#[test]
fn nested_svm_commands_have_their_numbers_and_layouts() {
    use uapi::*;
    // Layouts summed by hand from include/uapi/linux/guestmap.h: every
    // field naturally aligned, no padding the header does not name.
    assert_eq!(size_of::<guestmap_cpuid_entry>(), 6 * 4);
    assert_eq!(offset_of!(guestmap_cpuid_entry, index), 4);
    assert_eq!(offset_of!(guestmap_cpuid_entry, eax), 8);
    assert_eq!(offset_of!(guestmap_cpuid_entry, edx), 20);
    assert_eq!(size_of::<guestmap_svm_vcpu>(), 4 + 4 + 8 + 4 + 4);
    assert_eq!(offset_of!(guestmap_svm_vcpu, flags), 16);
    assert_eq!(offset_of!(guestmap_svm_vcpu, nent), 4);
    assert_eq!(offset_of!(guestmap_svm_vcpu, entries), 8);
    assert_eq!(size_of::<guestmap_svm_l1>(), 4 + 4 + 8 + 8 + 8 + 4 + 4);
    assert_eq!(offset_of!(guestmap_svm_l1, cpl), 4);
    assert_eq!(offset_of!(guestmap_svm_l1, efer), 8);
    assert_eq!(offset_of!(guestmap_svm_l1, cr0), 16);
    assert_eq!(offset_of!(guestmap_svm_l1, hsave_pa), 24);
    assert_eq!(offset_of!(guestmap_svm_l1, flags), 32);
    assert_eq!(offset_of!(guestmap_svm_l1, pad), 36);
    assert_eq!(size_of::<guestmap_svm_l0_msr>(), 4 * 4);
    assert_eq!(offset_of!(guestmap_svm_l0_msr, msr), 4);
    assert_eq!(offset_of!(guestmap_svm_l0_msr, intercept), 8);
    assert_eq!(offset_of!(guestmap_svm_l0_msr, pad), 12);
    assert_eq!(size_of::<guestmap_svm_vmrun>(), 4 + 4 + 8 + 4 * 4);
    assert_eq!(offset_of!(guestmap_svm_vmrun, flags), 4);
    assert_eq!(offset_of!(guestmap_svm_vmrun, vmcb12_gpa), 8);
    assert_eq!(offset_of!(guestmap_svm_vmrun, result), 16);
    assert_eq!(offset_of!(guestmap_svm_vmrun, vector), 20);
    assert_eq!(offset_of!(guestmap_svm_vmrun, check), 24);
    assert_eq!(offset_of!(guestmap_svm_vmrun, pad), 28);
    assert_eq!(size_of::<guestmap_svm_intercept>(), 6 * 4);
    assert_eq!(offset_of!(guestmap_svm_intercept, op), 4);
    assert_eq!(offset_of!(guestmap_svm_intercept, index), 8);
    assert_eq!(offset_of!(guestmap_svm_intercept, size), 12);
    assert_eq!(offset_of!(guestmap_svm_intercept, exits), 16);
    assert_eq!(offset_of!(guestmap_svm_intercept, pad), 20);
    assert_eq!(size_of::<guestmap_svm_vmexit>(), 4 + 4 + 4 * 8);
    assert_eq!(offset_of!(guestmap_svm_vmexit, pad), 4);
    assert_eq!(offset_of!(guestmap_svm_vmexit, exit_code), 8);
    assert_eq!(offset_of!(guestmap_svm_vmexit, exit_info_1), 16);
    assert_eq!(offset_of!(guestmap_svm_vmexit, exit_info_2), 24);
    assert_eq!(offset_of!(guestmap_svm_vmexit, exit_int_info), 32);
    // _IOW(0xB9, 0x0a-0x0c/0x0f, ...) and _IOWR(0xB9, 0x0d/0x0e, ...):
    // e.g. CREATE_VCPU = 1 << 30 | 24 << 16 | 0xB9 << 8 | 0x0a.
    let cases = [
        (
            GUESTMAP_SVM_CREATE_VCPU,
            0x4018_B90A,
            ioc(IOC_WRITE, 0xB9, 0x0a, 24),
            Command::SvmCreateVcpu,
        ),
        (
            GUESTMAP_SVM_SET_L1,
            0x4028_B90B,
            ioc(IOC_WRITE, 0xB9, 0x0b, 40),
            Command::SvmSetL1,
        ),
        (
            GUESTMAP_SVM_SET_L0_MSR,
            0x4010_B90C,
            ioc(IOC_WRITE, 0xB9, 0x0c, 16),
            Command::SvmSetL0Msr,
        ),
        (
            GUESTMAP_SVM_VMRUN,
            0xC020_B90D,
            ioc(IOC_READ | IOC_WRITE, 0xB9, 0x0d, 32),
            Command::SvmVmrun,
        ),
        (
            GUESTMAP_SVM_INTERCEPT,
            0xC018_B90E,
            ioc(IOC_READ | IOC_WRITE, 0xB9, 0x0e, 24),
            Command::SvmIntercept,
        ),
        (
            GUESTMAP_SVM_VMEXIT,
            0x4028_B90F,
            ioc(IOC_WRITE, 0xB9, 0x0f, 40),
            Command::SvmVmexit,
        ),
    ];
    for (num, literal, want, cmd) in cases {
        assert_eq!(num, literal, "{cmd:?}");
        assert_eq!(num, want, "{cmd:?}");
        assert_eq!(Command::decode(num), Some(cmd));
        // Another direction, or another size: not the command.
        assert_eq!(Command::decode(num ^ (1 << 31)), None, "{cmd:?}");
        assert_eq!(Command::decode(num ^ (1 << 30)), None, "{cmd:?}");
        assert_eq!(Command::decode(num + (8 << 16)), None, "{cmd:?}");
    }
    // The capability bit: GUESTMAP_CAP_NESTED_SVM is bit 2.
    assert_eq!(GUESTMAP_CAP_NESTED_SVM, 1 << 2);
}

#[test]
fn decodes_nested_vmx_commands() {
    use uapi::*;
    // include/uapi/linux/guestmap.h: every field naturally aligned, no
    // padding the compiler adds.
    assert_eq!(size_of::<guestmap_vmx_msr>(), 16);
    assert_eq!(offset_of!(guestmap_vmx_msr, value), 8);
    assert_eq!(size_of::<guestmap_vmx_vcpu>(), 32);
    assert_eq!(offset_of!(guestmap_vmx_vcpu, entries), 8);
    assert_eq!(offset_of!(guestmap_vmx_vcpu, nmsrs), 16);
    assert_eq!(offset_of!(guestmap_vmx_vcpu, msrs), 24);
    assert_eq!(size_of::<guestmap_vmx_l1>(), 48);
    assert_eq!(offset_of!(guestmap_vmx_l1, cr0), 8);
    assert_eq!(offset_of!(guestmap_vmx_l1, feature_control), 24);
    assert_eq!(offset_of!(guestmap_vmx_l1, efer), 32);
    assert_eq!(offset_of!(guestmap_vmx_l1, flags), 40);
    assert_eq!(size_of::<guestmap_vmx_op>(), 32);
    assert_eq!(offset_of!(guestmap_vmx_op, arg), 8);
    assert_eq!(offset_of!(guestmap_vmx_op, value), 16);
    assert_eq!(offset_of!(guestmap_vmx_op, result), 24);
    assert_eq!(size_of::<guestmap_vmx_insn>(), 40);
    assert_eq!(offset_of!(guestmap_vmx_insn, operand), 8);
    assert_eq!(offset_of!(guestmap_vmx_insn, value), 16);
    assert_eq!(offset_of!(guestmap_vmx_insn, result), 24);
    assert_eq!(offset_of!(guestmap_vmx_insn, pad), 36);
    // _IOW(0xB9, 0x10, 32), _IOW(0xB9, 0x11, 48), _IOWR(0xB9, 0x12, 40)
    // and _IOWR(0xB9, 0x13, 32).
    let cases = [
        (
            GUESTMAP_VMX_CREATE_VCPU,
            0x4020_B910,
            ioc(IOC_WRITE, 0xB9, 0x10, 32),
            Command::VmxCreateVcpu,
        ),
        (
            GUESTMAP_VMX_SET_L1,
            0x4030_B911,
            ioc(IOC_WRITE, 0xB9, 0x11, 48),
            Command::VmxSetL1,
        ),
        (
            GUESTMAP_VMX_INSN,
            0xC028_B912,
            ioc(IOC_READ | IOC_WRITE, 0xB9, 0x12, 40),
            Command::VmxInsn,
        ),
        (
            GUESTMAP_VMX_OP,
            0xC020_B913,
            ioc(IOC_READ | IOC_WRITE, 0xB9, 0x13, 32),
            Command::VmxOp,
        ),
        (
            GUESTMAP_WALK,
            0xC088_B914,
            ioc(IOC_READ | IOC_WRITE, 0xB9, 0x14, 136),
            Command::Walk,
        ),
    ];
    for (num, literal, want, cmd) in cases {
        assert_eq!(num, literal, "{cmd:?}");
        assert_eq!(num, want, "{cmd:?}");
        assert_eq!(Command::decode(num), Some(cmd));
        assert_eq!(Command::decode(num ^ (1 << 31)), None, "{cmd:?}");
        assert_eq!(Command::decode(num + (8 << 16)), None, "{cmd:?}");
    }
    assert_eq!(GUESTMAP_CAP_NESTED_VMX, 1 << 4);
    assert_eq!(GUESTMAP_CAP_WALK, 1 << 5);
}
