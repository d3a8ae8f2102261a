// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/vmx/`: the vmcs12 layout and field rules
//! (`vmcs12.rs`), the VMX instructions' operand rules (`insn.rs`) and the
//! commands' arguments (`abi.rs`).
//! Expected values are written out from the Intel SDM (vol. 3C, 25.11.2
//! and appendix B for encodings, 31.4 for error numbers) and KVM 6.12
//! (arch/x86/kvm/vmx/vmcs12.h's CHECK_OFFSET() offsets, vmcs.h,
//! nested.c), never from the code under test.
//!
//! With `GM_VMCS12_LAYOUT_C` set, `vmcs12_layout_c` also writes a C file
//! of `static_assert`s on `offsetof(struct vmcs12, ...)`, each field's
//! size and encoding, which scripts/vmx-layout.sh compiles against
//! KVM's own vmcs12.h.

use crate::nested::vmx::abi;
use crate::nested::vmx::insn::{self, InsnError, L1State, Outcome, PtrInsn};
use crate::nested::vmx::vmcs12::{self, enc, place, Place, Vmcs12, Width, FIELDS, SIZE};
use crate::uapi;
use std::{boxed::Box, fmt::Write as _, string::String};

fn blank() -> Box<Vmcs12> {
    Box::new(Vmcs12 { bytes: [0; SIZE] })
}

#[test]
fn revision_and_size_are_kvms() {
    // vmcs12.h: #define VMCS12_REVISION 0x11e57ed0; VMCS12_SIZE is
    // KVM_STATE_NESTED_VMX_VMCS_SIZE, 0x1000 (uapi asm/kvm.h).
    assert_eq!(vmcs12::REVISION, 0x11e5_7ed0);
    assert_eq!(SIZE, 0x1000);
    // struct vmcs12: hdr at 0, abort at 4, launch_state at 8.
    assert_eq!(vmcs12::hdr::ABORT, 4);
    assert_eq!(vmcs12::hdr::LAUNCH_STATE, 8);
}

#[test]
fn encodings_are_the_sdms() {
    // SDM vol. 3C appendix B, tables B-1 to B-12.
    for (e, want) in [
        (enc::VIRTUAL_PROCESSOR_ID, 0x0000),
        (enc::GUEST_ES_SELECTOR, 0x0800),
        (enc::GUEST_PML_INDEX, 0x0812),
        (enc::HOST_ES_SELECTOR, 0x0c00),
        (enc::IO_BITMAP_A, 0x2000),
        (enc::MSR_BITMAP, 0x2004),
        (enc::GUEST_PHYSICAL_ADDRESS, 0x2400),
        (enc::VMCS_LINK_POINTER, 0x2800),
        (enc::PIN_BASED_VM_EXEC_CONTROL, 0x4000),
        (enc::VM_INSTRUCTION_ERROR, 0x4400),
        (enc::VM_EXIT_REASON, 0x4402),
        (enc::GUEST_ES_LIMIT, 0x4800),
        (enc::GUEST_ES_AR_BYTES, 0x4814),
        (enc::GUEST_TR_AR_BYTES, 0x4822),
        (enc::CR0_GUEST_HOST_MASK, 0x6000),
        (enc::EXIT_QUALIFICATION, 0x6400),
        (enc::GUEST_CR0, 0x6800),
        (enc::GUEST_RIP, 0x681e),
        (enc::HOST_RIP, 0x6c16),
    ] {
        assert_eq!(e, want);
    }
}

#[test]
fn offsets_are_kvms() {
    // vmcs12.h CHECK_OFFSET() lines.
    for (e, off) in [
        (enc::MSR_BITMAP, 56),
        (enc::VMCS_LINK_POINTER, 176),
        (enc::GUEST_RIP, 544),
        (enc::VM_EXIT_REASON, 812),
        (enc::GUEST_ES_AR_BYTES, 880),
        (enc::GUEST_PML_INDEX, 996),
        (enc::IO_BITMAP_A, 40),
    ] {
        assert_eq!(place(e.into()).unwrap().offset, off, "{e:#x}");
    }
}

#[test]
fn the_table_is_whole_and_disjoint() {
    // vmcs12.c lists 141 fields: 141 FIELD() and FIELD64() lines.
    assert_eq!(FIELDS.len(), 141);
    let mut used = [false; SIZE];
    // The header: revision/shadow, abort, launch_state.
    used[..12].iter_mut().for_each(|u| *u = true);
    for f in FIELDS.iter() {
        assert_eq!(f.enc & 1, 0, "{}: access type 0", f.name);
        assert_eq!(f.enc >> 15, 0, "{}", f.name);
        let p = place(f.enc.into()).unwrap();
        assert_eq!(p.offset, usize::from(f.offset));
        // Natural-width and 64-bit fields are 8-byte aligned in vmcs12,
        // 32-bit ones 4-byte, 16-bit ones 2-byte: the struct is packed
        // but laid out in aligned groups.
        assert_eq!(p.offset % p.width.bytes(), 0, "{}", f.name);
        for b in &mut used[p.offset..p.offset + p.width.bytes()] {
            assert!(!*b, "{} overlaps", f.name);
            *b = true;
        }
    }
    // struct vmcs12 ends with guest_pml_index, a u16 at 996: nothing
    // past 998.
    assert!(used[998..].iter().all(|u| !u));
}

#[test]
fn widths_follow_the_encoding() {
    // Encoding bits 14:13: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural.
    assert_eq!(Width::of(0x0800), Width::U16);
    assert_eq!(Width::of(0x2004), Width::U64);
    assert_eq!(Width::of(0x2005), Width::U32);
    assert_eq!(Width::of(0x4402), Width::U32);
    assert_eq!(Width::of(0x681e), Width::Natural);
}

#[test]
fn high_halves_are_the_upper_four_bytes() {
    // MSR_BITMAP_HIGH, 0x2005: bytes 60..64.
    assert_eq!(
        place(0x2005),
        Some(Place {
            offset: 60,
            width: Width::U32
        })
    );
    // Only 64-bit fields have a high half: 0x0801 (type 0, 16-bit) and
    // 0x681f (natural width) are no component.
    assert_eq!(place(0x0801), None);
    assert_eq!(place(0x681f), None);
}

#[test]
fn unknown_encodings_are_no_component() {
    // Bit 15 or above set, anywhere in the 64-bit register.
    assert_eq!(place(0x8000), None);
    assert_eq!(place(0x1_0000_0800), None);
    // A 16-bit guest-state index past GUEST_PML_INDEX.
    assert_eq!(place(0x0814), None);
    // ENCLS_EXITING_BITMAP's neighbour 0x2030 (ENCLV) is not in 6.12's
    // vmcs12.
    assert_eq!(place(0x2036), None);
}

#[test]
fn vmread_vmwrite_round_trip_by_width() {
    let mut v = blank();
    // A 16-bit field keeps 16 bits.
    v.vmwrite(0x0800, 0x1234_5678, false).unwrap();
    assert_eq!(v.vmread(0x0800), Some(0x5678));
    // guest_es_selector is at 964 (CHECK_OFFSET); guest_cs_selector at
    // 966 is untouched.
    assert_eq!(&v.bytes[964..968], &[0x78, 0x56, 0, 0]);
    // A 64-bit field and its halves.
    v.vmwrite(0x2004, 0x1122_3344_5566_7788, false).unwrap();
    assert_eq!(v.vmread(0x2004), Some(0x1122_3344_5566_7788));
    assert_eq!(v.vmread(0x2005), Some(0x1122_3344));
    v.vmwrite(0x2005, 0xaabb_ccdd_0000_9999, false).unwrap();
    assert_eq!(v.vmread(0x2004), Some(0x0000_9999_5566_7788));
    // Natural width: GUEST_RIP, little-endian at 544.
    v.vmwrite(0x681e, 0xffff_ffff_8000_1000, false).unwrap();
    assert_eq!(&v.bytes[544..552], &0xffff_ffff_8000_1000u64.to_le_bytes());
}

#[test]
fn vmwrite_rules() {
    let mut v = blank();
    // Read-only data (type 1): VM_EXIT_REASON, error 13 unless
    // IA32_VMX_MISC[29].
    assert_eq!(v.vmwrite(0x4402, 5, false), Err(InsnError::VmwriteReadOnly));
    assert_eq!(v.vmread(0x4402), Some(0));
    v.vmwrite(0x4402, 5, true).unwrap();
    assert_eq!(v.vmread(0x4402), Some(5));
    // Unsupported component: error 12, nothing written.
    assert_eq!(
        v.vmwrite(0x8000, 1, true),
        Err(InsnError::UnsupportedComponent)
    );
    assert!(v
        .bytes
        .iter()
        .enumerate()
        .all(|(i, b)| *b == 0 || (812..816).contains(&i)));
    // Access rights keep bits 16:12 and 7:0 (mask 0x1f0ff).
    v.vmwrite(0x4814, 0xffff_ffff, false).unwrap();
    assert_eq!(v.vmread(0x4814), Some(0x1_f0ff));
    v.vmwrite(0x4822, 0x0002_0f8b, false).unwrap();
    assert_eq!(v.vmread(0x4822), Some(0x8b));
    // GUEST_ES_LIMIT, just before the range, is kept whole.
    v.vmwrite(0x4800, 0xffff_ffff, false).unwrap();
    assert_eq!(v.vmread(0x4800), Some(0xffff_ffff));
}

#[test]
fn error_numbers_are_the_sdms() {
    // SDM vol. 3C, table 31-1.
    assert_eq!(InsnError::VmclearInvalidAddress as u32, 2);
    assert_eq!(InsnError::VmclearVmxonPointer as u32, 3);
    assert_eq!(InsnError::VmlaunchNonclear as u32, 4);
    assert_eq!(InsnError::VmresumeNonlaunched as u32, 5);
    assert_eq!(InsnError::EntryInvalidControl as u32, 7);
    assert_eq!(InsnError::EntryInvalidHostState as u32, 8);
    assert_eq!(InsnError::VmptrldInvalidAddress as u32, 9);
    assert_eq!(InsnError::VmptrldVmxonPointer as u32, 10);
    assert_eq!(InsnError::VmptrldRevision as u32, 11);
    assert_eq!(InsnError::UnsupportedComponent as u32, 12);
    assert_eq!(InsnError::VmwriteReadOnly as u32, 13);
    assert_eq!(InsnError::VmxonInRoot as u32, 15);
}

fn ready() -> L1State {
    L1State {
        cr0: 0x8000_0031,
        cr4: 1 << 13,
        cpl: 0,
        feature_control: 0x5,
        efer: 0x500,
        x2apic: false,
    }
}

#[test]
fn vmxon_checks_in_kvms_order() {
    let ok = ready();
    assert_eq!(insn::vmxon_checks(&ok, false, true, 0x1000, 36), None);
    // CR4.VMXE clear: #UD, before everything else.
    let l1 = L1State {
        cr4: 0,
        cpl: 3,
        ..ok
    };
    assert_eq!(
        insn::vmxon_checks(&l1, true, false, 1, 36),
        Some(Outcome::Exception(6))
    );
    // CPL 3: #GP, even in VMX operation.
    let l1 = L1State { cpl: 3, ..ok };
    assert_eq!(
        insn::vmxon_checks(&l1, true, true, 0x1000, 36),
        Some(Outcome::Exception(13))
    );
    // In VMX operation: VMfailValid 15, before the fixed bits.
    assert_eq!(
        insn::vmxon_checks(&ok, true, false, 1, 36),
        Some(Outcome::FailValid(InsnError::VmxonInRoot))
    );
    // Fixed bits, then IA32_FEATURE_CONTROL lock (bit 0) and VMX outside
    // SMX (bit 2): #GP.
    assert_eq!(
        insn::vmxon_checks(&ok, false, false, 0x1000, 36),
        Some(Outcome::Exception(13))
    );
    for fc in [0, 1, 4] {
        let l1 = L1State {
            feature_control: fc,
            ..ok
        };
        assert_eq!(
            insn::vmxon_checks(&l1, false, true, 0x1000, 36),
            Some(Outcome::Exception(13))
        );
    }
    // The region: unaligned or above MAXPHYADDR, VMfailInvalid.
    assert_eq!(
        insn::vmxon_checks(&ok, false, true, 0x1004, 36),
        Some(Outcome::FailInvalid)
    );
    assert_eq!(
        insn::vmxon_checks(&ok, false, true, 1 << 36, 36),
        Some(Outcome::FailInvalid)
    );
    assert_eq!(
        insn::vmxon_checks(&ok, false, true, (1 << 36) - 0x1000, 36),
        None
    );
}

#[test]
fn permission_and_pointer_checks() {
    let ok = ready();
    assert_eq!(
        insn::check_permission(&ok, false),
        Some(Outcome::Exception(6))
    );
    let l1 = L1State { cpl: 1, ..ok };
    assert_eq!(
        insn::check_permission(&l1, true),
        Some(Outcome::Exception(13))
    );
    assert_eq!(insn::check_permission(&ok, true), None);
    use InsnError::*;
    for (i, bad, vmxon) in [
        (PtrInsn::Vmptrld, VmptrldInvalidAddress, VmptrldVmxonPointer),
        (PtrInsn::Vmclear, VmclearInvalidAddress, VmclearVmxonPointer),
    ] {
        assert_eq!(
            insn::ptr_checks(i, 0x2010, 0x1000, 40),
            Some(Outcome::FailValid(bad))
        );
        assert_eq!(
            insn::ptr_checks(i, 1 << 40, 0x1000, 40),
            Some(Outcome::FailValid(bad))
        );
        assert_eq!(
            insn::ptr_checks(i, 0x1000, 0x1000, 40),
            Some(Outcome::FailValid(vmxon))
        );
        assert_eq!(insn::ptr_checks(i, 0x2000, 0x1000, 40), None);
    }
}

/// The C file of the layout test: every field of the table checked
/// against KVM's `struct vmcs12` and `enum vmcs_field` by the compiler.
#[test]
fn vmcs12_layout_c() {
    let Some(path) = std::env::var_os("GM_VMCS12_LAYOUT_C") else {
        return;
    };
    let mut c = String::from(
        "// SPDX-License-Identifier: GPL-2.0\n\
         /* Generated by rust/host/nested_vmx_tests.rs: guestmap's vmcs12 table. */\n\
         #include <linux/module.h>\n#include \"vmcs12.h\"\n\n\
         #define CHECK(c) static_assert(c, #c)\n\n",
    );
    let _ = writeln!(c, "CHECK(VMCS12_REVISION == {:#x});", vmcs12::REVISION);
    let _ = writeln!(c, "CHECK(VMCS12_SIZE == {});", SIZE);
    let _ = writeln!(
        c,
        "CHECK(offsetof(struct vmcs12, abort) == {});",
        vmcs12::hdr::ABORT
    );
    let _ = writeln!(
        c,
        "CHECK(offsetof(struct vmcs12, launch_state) == {});",
        vmcs12::hdr::LAUNCH_STATE
    );
    for f in FIELDS.iter() {
        let p = place(f.enc.into()).unwrap();
        let n = f.name;
        let _ = writeln!(c, "CHECK(offsetof(struct vmcs12, {n}) == {});", p.offset);
        let _ = writeln!(
            c,
            "CHECK(sizeof(((struct vmcs12 *)0)->{n}) == {});",
            p.width.bytes()
        );
        let _ = writeln!(c, "CHECK({} == {:#x});", n.to_uppercase(), f.enc);
    }
    c.push_str(
        "\nMODULE_LICENSE(\"GPL\");\nMODULE_DESCRIPTION(\"vmcs12 layout check, never loaded\");\n",
    );
    std::fs::write(path, c).unwrap();
}

fn insn_req(vcpu: u32, insn: u32, operand: u64) -> uapi::guestmap_vmx_insn {
    uapi::guestmap_vmx_insn {
        vcpu,
        insn,
        operand,
        value: 7,
        result: 0,
        error: 0,
        vector: 0,
        pad: 0,
    }
}

#[test]
fn insn_arguments() {
    use crate::nested::vmx::insn::Insn;
    let ok = |r: &uapi::guestmap_vmx_insn| abi::insn(r).map_err(|_| ());
    assert_eq!(
        ok(&insn_req(0, uapi::GUESTMAP_VMX_VMXON, 0x1000)),
        Ok((0, Insn::Vmxon(0x1000)))
    );
    assert_eq!(
        ok(&insn_req(7, uapi::GUESTMAP_VMX_VMPTRST, 9)),
        Ok((7, Insn::Vmptrst))
    );
    assert_eq!(
        ok(&insn_req(1, uapi::GUESTMAP_VMX_VMWRITE, 0x681e)),
        Ok((
            1,
            Insn::Vmwrite {
                field: 0x681e,
                value: 7
            }
        ))
    );
    // Instruction numbers 0 and past VMRESUME, vCPU 8, pad.
    assert!(ok(&insn_req(0, 0, 0)).is_err());
    assert!(ok(&insn_req(0, uapi::GUESTMAP_VMX_VMRESUME + 1, 0)).is_err());
    assert_eq!(
        ok(&insn_req(0, uapi::GUESTMAP_VMX_VMLAUNCH, 0)),
        Ok((0, Insn::Vmlaunch))
    );
    assert_eq!(
        ok(&insn_req(0, uapi::GUESTMAP_VMX_VMRESUME, 0)),
        Ok((0, Insn::Vmresume))
    );
    assert!(ok(&insn_req(8, uapi::GUESTMAP_VMX_VMXOFF, 0)).is_err());
    let mut r = insn_req(0, uapi::GUESTMAP_VMX_VMXOFF, 0);
    r.pad = 1;
    assert!(ok(&r).is_err());
}

#[test]
fn vcpu_and_l1_arguments() {
    let v = |vcpu, nent, nmsrs, flags| uapi::guestmap_vmx_vcpu {
        vcpu,
        nent,
        entries: 0x1000,
        nmsrs,
        flags,
        msrs: 0x2000,
    };
    assert_eq!(
        abi::vcpu(&v(2, 3, 32, 0)),
        Ok(abi::VcpuReq::Create {
            id: 2,
            nent: 3,
            entries: 0x1000,
            nmsrs: 32,
            msrs: 0x2000,
            mode: abi::Mode::Held,
        })
    );
    // GUESTMAP_VMX_VCPU_CACHED is bit 0.
    assert!(matches!(
        abi::vcpu(&v(2, 3, 0, 1)),
        Ok(abi::VcpuReq::Create {
            mode: abi::Mode::Cached,
            ..
        })
    ));
    assert_eq!(abi::vcpu(&v(2, 0, 0, 0)), Ok(abi::VcpuReq::Destroy(2)));
    assert!(abi::vcpu(&v(2, 0, 1, 0)).is_err());
    assert!(abi::vcpu(&v(2, 0, 0, 1)).is_err());
    assert!(abi::vcpu(&v(2, 3, 33, 0)).is_err());
    assert!(abi::vcpu(&v(2, 257, 0, 0)).is_err());
    assert!(abi::vcpu(&v(2, 3, 0, 2)).is_err());
    assert!(abi::vcpu(&v(8, 3, 0, 0)).is_err());
    let l1 = |cpl, flags| uapi::guestmap_vmx_l1 {
        vcpu: 1,
        cpl,
        cr0: 1,
        cr4: 2,
        feature_control: 5,
        efer: 0x500,
        flags,
        pad: 0,
    };
    assert_eq!(
        abi::l1(&l1(3, 1)),
        Ok((
            1,
            L1State {
                cr0: 1,
                cr4: 2,
                cpl: 3,
                feature_control: 5,
                efer: 0x500,
                x2apic: true,
            }
        ))
    );
    assert!(abi::l1(&l1(4, 0)).is_err());
    assert!(abi::l1(&l1(0, 2)).is_err());
}

#[test]
fn outcomes_as_reported() {
    use uapi::*;
    assert_eq!(
        abi::to_uapi(Outcome::Succeed),
        (GUESTMAP_VMX_SUCCEED, 0, 0, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::FailInvalid),
        (GUESTMAP_VMX_FAIL_INVALID, 0, 0, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::FailValid(InsnError::VmptrldRevision)),
        (GUESTMAP_VMX_FAIL_VALID, 11, 0, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::Exception(13)),
        (GUESTMAP_VMX_EXCEPTION, 0, 13, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::Entered),
        (GUESTMAP_VMX_ENTERED, 0, 0, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::Reflected(23)),
        (GUESTMAP_VMX_REFLECTED, 23, 0, None)
    );
    assert_eq!(
        abi::to_uapi(Outcome::EntryFailed {
            reason: 0x8000_0021,
            qual: 4
        }),
        (GUESTMAP_VMX_ENTRY_FAILED, 0x8000_0021, 0, Some(4))
    );
}

fn op_req(op: u32, arg: u64, value: u64) -> uapi::guestmap_vmx_op {
    uapi::guestmap_vmx_op {
        vcpu: 1,
        op,
        arg,
        value,
        result: 0,
        pad: 0,
    }
}

#[test]
fn op_arguments() {
    use abi::Op;
    use uapi::*;
    let op = |o, a, v| abi::op(&op_req(o, a, v)).map(|(_, op)| op).map_err(|_| ());
    assert_eq!(
        op(GUESTMAP_VMX_OP_L0_MSR, 0xc000_0080, 3),
        Ok(Op::L0Msr {
            msr: 0xc000_0080,
            read: true,
            write: true
        })
    );
    assert!(op(GUESTMAP_VMX_OP_L0_MSR, 0x1_0000_0000, 1).is_err());
    assert!(op(GUESTMAP_VMX_OP_L0_MSR, 0x10, 4).is_err());
    assert_eq!(
        op(GUESTMAP_VMX_OP_MSR_EXITS, 0x10, 2),
        Ok(Op::MsrExits {
            msr: 0x10,
            write: true
        })
    );
    assert!(op(GUESTMAP_VMX_OP_MSR_EXITS, 0x10, 1).is_err());
    assert_eq!(op(GUESTMAP_VMX_OP_POST_INTR, 255, 0), Ok(Op::PostIntr(255)));
    assert!(op(GUESTMAP_VMX_OP_POST_INTR, 256, 0).is_err());
    // Virtual-APIC registers: 16-byte aligned offsets in the page (TPR
    // 80h, PPR A0h).
    assert_eq!(
        op(GUESTMAP_VMX_OP_VAPIC_READ, 0xa0, 0),
        Ok(Op::VapicRead(0xa0))
    );
    assert!(op(GUESTMAP_VMX_OP_VAPIC_READ, 0x84, 0).is_err());
    assert!(op(GUESTMAP_VMX_OP_VAPIC_READ, 0x1000, 0).is_err());
    assert_eq!(
        op(GUESTMAP_VMX_OP_VAPIC_WRITE, 0x80, 0x20),
        Ok(Op::VapicWrite {
            off: 0x80,
            value: 0x20
        })
    );
    assert!(op(GUESTMAP_VMX_OP_VAPIC_WRITE, 0x80, 1 << 32).is_err());
    assert_eq!(
        op(GUESTMAP_VMX_OP_PML_LOG, 0x5123, 0),
        Ok(Op::PmlLog(0x5123))
    );
    assert_eq!(
        op(GUESTMAP_VMX_OP_VMEXIT, 48, 7),
        Ok(Op::Vmexit {
            reason: 48,
            qual: 7
        })
    );
    assert_eq!(
        op(GUESTMAP_VMX_OP_EVMCS, 0x3000, 0),
        Ok(Op::Evmcs(Some(0x3000)))
    );
    assert_eq!(op(GUESTMAP_VMX_OP_EVMCS, u64::MAX, 0), Ok(Op::Evmcs(None)));
    assert_eq!(
        op(GUESTMAP_VMX_OP_EVMCS, u64::MAX - 1, 0),
        Ok(Op::Evmcs(None))
    );
    assert!(op(0, 0, 0).is_err());
    assert!(op(GUESTMAP_VMX_OP_EVMCS + 1, 0, 0).is_err());
    let mut r = op_req(GUESTMAP_VMX_OP_VMEXIT, 1, 0);
    r.pad = 1;
    assert!(abi::op(&r).is_err());
}
