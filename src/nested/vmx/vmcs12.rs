// SPDX-License-Identifier: GPL-2.0

//! vmcs12: the VMCS guestmap emulates for L1, in KVM's layout
//! (arch/x86/kvm/vmx/vmcs12.h in 6.12) and under KVM's revision
//! identifier, so a vmcs12 L1 keeps in guest memory means the same to
//! guestmap as to KVM, and the fields VMREAD and VMWRITE name are found
//! where KVM's `vmcs12_field_offsets[]` (vmcs12.c) puts them.
//!
//! A field encoding (Intel SDM vol. 3C, 25.11.2 and appendix B) is: bit 0
//! the access type (1 for the high 32 bits of a 64-bit field), bits 9:1
//! the index, bits 11:10 the type (1 is read-only data), bits 14:13 the
//! width (16-bit, 64-bit, 32-bit, natural).  KVM stores natural-width
//! fields in 64 bits.
//!
//! The table below was written from vmcs12.c's FIELD()/FIELD64() list,
//! the encodings of `enum vmcs_field` (arch/x86/include/asm/vmx.h) and
//! the offsets vmcs12.h asserts with CHECK_OFFSET(); the layout test
//! (scripts/vmx-layout.sh) compiles vmcs12.h and checks every
//! offset with `offsetof`.
//!
//! Pure logic, host-tested.

use super::insn::InsnError;

/// KVM's `VMCS12_REVISION`, the revision identifier L1 finds in
/// IA32_VMX_BASIC\[30:0\] and must write at the start of its VMXON region
/// and of every vmcs12.
pub(crate) const REVISION: u32 = 0x11e5_7ed0;

/// KVM's `VMCS12_SIZE`: the bytes of a VMXON region or a vmcs12 that L1
/// allocates (IA32_VMX_BASIC\[44:32\]), all of which VMPTRLD copies.
pub(crate) const SIZE: usize = 4096;

/// Byte offsets of the header fields outside the field table.
pub(crate) mod hdr {
    /// The revision identifier (bits 30:0) and the shadow-VMCS
    /// indicator (bit 31).
    pub(crate) const REVISION_ID: usize = 0;
    /// The VMX-abort indicator (guestmap never aborts).
    #[allow(dead_code)]
    pub(crate) const ABORT: usize = 4;
    /// KVM's launch state: 0 after VMCLEAR, 1 after VMLAUNCH.
    pub(crate) const LAUNCH_STATE: usize = 8;
    /// Bit 31 of the first word: the VMCS is a shadow VMCS.
    pub(crate) const SHADOW_VMCS: u32 = 1 << 31;
}

/// The width of a field, from encoding bits 14:13.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    /// 16-bit.
    U16,
    /// 64-bit, or the high half of one when the access type is 1.
    U64,
    /// 32-bit.
    U32,
    /// Natural width, kept in 64 bits by KVM.
    Natural,
}

impl Width {
    /// The width of encoding `enc` as VMREAD and VMWRITE use it: the
    /// high half of a 64-bit field is 32 bits (`vmcs_field_width()`).
    pub(crate) fn of(enc: u32) -> Width {
        if enc & 1 != 0 {
            return Width::U32;
        }
        match (enc >> 13) & 3 {
            0 => Width::U16,
            1 => Width::U64,
            2 => Width::U32,
            _ => Width::Natural,
        }
    }

    /// Bytes the field takes in vmcs12.
    pub(crate) fn bytes(self) -> usize {
        match self {
            Width::U16 => 2,
            Width::U32 => 4,
            Width::U64 | Width::Natural => 8,
        }
    }
}

/// Whether `enc` is read-only data (type 1: the VM-exit information
/// fields), which VMWRITE refuses unless IA32_VMX_MISC\[29\] says it may
/// write any field (`vmcs_field_readonly()`).
pub(crate) fn readonly(enc: u32) -> bool {
    (enc >> 10) & 3 == 1
}

/// One vmcs12 field: its encoding, where KVM keeps it, and its name in
/// `struct vmcs12`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    /// The encoding (access type 0).
    pub(crate) enc: u32,
    /// The byte offset in vmcs12.
    pub(crate) offset: u16,
    /// The member of KVM's `struct vmcs12`, for the layout test.
    #[allow(dead_code)]
    pub(crate) name: &'static str,
}

impl Field {
    const fn new(enc: u32, offset: u16, name: &'static str) -> Field {
        Field { enc, offset, name }
    }
}

/// Where a field is for one access: its offset and width in vmcs12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// The byte offset.
    pub(crate) offset: usize,
    /// The width.
    pub(crate) width: Width,
}

/// Where VMREAD or VMWRITE of encoding `enc` acts, or `None` for a
/// component KVM's vmcs12 does not have (VM-instruction error 12): an
/// encoding above 15 bits, or one not in the table.  The high half of a
/// 64-bit field is the four bytes after its low half.
pub(crate) fn place(enc: u64) -> Option<Place> {
    // KVM: `if (field >> 15) return -ENOENT;` on the whole register.
    let enc = u32::try_from(enc).ok().filter(|e| e >> 15 == 0)?;
    let base = enc & !1;
    let f = FIELDS.iter().find(|f| f.enc == base)?;
    let high = enc & 1 != 0;
    // Only 64-bit fields have a high half (FIELD64 in vmcs12.c).
    if high && Width::of(base) != Width::U64 {
        return None;
    }
    Some(Place {
        offset: f.offset as usize + if high { 4 } else { 0 },
        width: Width::of(enc),
    })
}

/// The field encodings guestmap names, as in `enum vmcs_field`.
#[allow(dead_code)]
pub(crate) mod enc {
    /// `VIRTUAL_PROCESSOR_ID`.
    pub(crate) const VIRTUAL_PROCESSOR_ID: u32 = 0x0000;
    /// `POSTED_INTR_NV`.
    pub(crate) const POSTED_INTR_NV: u32 = 0x0002;
    /// `GUEST_ES_SELECTOR`.
    pub(crate) const GUEST_ES_SELECTOR: u32 = 0x0800;
    /// `GUEST_CS_SELECTOR`.
    pub(crate) const GUEST_CS_SELECTOR: u32 = 0x0802;
    /// `GUEST_SS_SELECTOR`.
    pub(crate) const GUEST_SS_SELECTOR: u32 = 0x0804;
    /// `GUEST_DS_SELECTOR`.
    pub(crate) const GUEST_DS_SELECTOR: u32 = 0x0806;
    /// `GUEST_FS_SELECTOR`.
    pub(crate) const GUEST_FS_SELECTOR: u32 = 0x0808;
    /// `GUEST_GS_SELECTOR`.
    pub(crate) const GUEST_GS_SELECTOR: u32 = 0x080a;
    /// `GUEST_LDTR_SELECTOR`.
    pub(crate) const GUEST_LDTR_SELECTOR: u32 = 0x080c;
    /// `GUEST_TR_SELECTOR`.
    pub(crate) const GUEST_TR_SELECTOR: u32 = 0x080e;
    /// `GUEST_INTR_STATUS`.
    pub(crate) const GUEST_INTR_STATUS: u32 = 0x0810;
    /// `GUEST_PML_INDEX`.
    pub(crate) const GUEST_PML_INDEX: u32 = 0x0812;
    /// `HOST_ES_SELECTOR`.
    pub(crate) const HOST_ES_SELECTOR: u32 = 0x0c00;
    /// `HOST_CS_SELECTOR`.
    pub(crate) const HOST_CS_SELECTOR: u32 = 0x0c02;
    /// `HOST_SS_SELECTOR`.
    pub(crate) const HOST_SS_SELECTOR: u32 = 0x0c04;
    /// `HOST_DS_SELECTOR`.
    pub(crate) const HOST_DS_SELECTOR: u32 = 0x0c06;
    /// `HOST_FS_SELECTOR`.
    pub(crate) const HOST_FS_SELECTOR: u32 = 0x0c08;
    /// `HOST_GS_SELECTOR`.
    pub(crate) const HOST_GS_SELECTOR: u32 = 0x0c0a;
    /// `HOST_TR_SELECTOR`.
    pub(crate) const HOST_TR_SELECTOR: u32 = 0x0c0c;
    /// `IO_BITMAP_A`.
    pub(crate) const IO_BITMAP_A: u32 = 0x2000;
    /// `IO_BITMAP_B`.
    pub(crate) const IO_BITMAP_B: u32 = 0x2002;
    /// `MSR_BITMAP`.
    pub(crate) const MSR_BITMAP: u32 = 0x2004;
    /// `VM_EXIT_MSR_STORE_ADDR`.
    pub(crate) const VM_EXIT_MSR_STORE_ADDR: u32 = 0x2006;
    /// `VM_EXIT_MSR_LOAD_ADDR`.
    pub(crate) const VM_EXIT_MSR_LOAD_ADDR: u32 = 0x2008;
    /// `VM_ENTRY_MSR_LOAD_ADDR`.
    pub(crate) const VM_ENTRY_MSR_LOAD_ADDR: u32 = 0x200a;
    /// `PML_ADDRESS`.
    pub(crate) const PML_ADDRESS: u32 = 0x200e;
    /// `TSC_OFFSET`.
    pub(crate) const TSC_OFFSET: u32 = 0x2010;
    /// `TSC_MULTIPLIER`.
    pub(crate) const TSC_MULTIPLIER: u32 = 0x2032;
    /// `VIRTUAL_APIC_PAGE_ADDR`.
    pub(crate) const VIRTUAL_APIC_PAGE_ADDR: u32 = 0x2012;
    /// `APIC_ACCESS_ADDR`.
    pub(crate) const APIC_ACCESS_ADDR: u32 = 0x2014;
    /// `POSTED_INTR_DESC_ADDR`.
    pub(crate) const POSTED_INTR_DESC_ADDR: u32 = 0x2016;
    /// `VM_FUNCTION_CONTROL`.
    pub(crate) const VM_FUNCTION_CONTROL: u32 = 0x2018;
    /// `EPT_POINTER`.
    pub(crate) const EPT_POINTER: u32 = 0x201a;
    /// `EOI_EXIT_BITMAP0`.
    pub(crate) const EOI_EXIT_BITMAP0: u32 = 0x201c;
    /// `EOI_EXIT_BITMAP1`.
    pub(crate) const EOI_EXIT_BITMAP1: u32 = 0x201e;
    /// `EOI_EXIT_BITMAP2`.
    pub(crate) const EOI_EXIT_BITMAP2: u32 = 0x2020;
    /// `EOI_EXIT_BITMAP3`.
    pub(crate) const EOI_EXIT_BITMAP3: u32 = 0x2022;
    /// `EPTP_LIST_ADDRESS`.
    pub(crate) const EPTP_LIST_ADDRESS: u32 = 0x2024;
    /// `VMREAD_BITMAP`.
    pub(crate) const VMREAD_BITMAP: u32 = 0x2026;
    /// `VMWRITE_BITMAP`.
    pub(crate) const VMWRITE_BITMAP: u32 = 0x2028;
    /// `XSS_EXIT_BITMAP`.
    pub(crate) const XSS_EXIT_BITMAP: u32 = 0x202c;
    /// `ENCLS_EXITING_BITMAP`.
    pub(crate) const ENCLS_EXITING_BITMAP: u32 = 0x202e;
    /// `GUEST_PHYSICAL_ADDRESS`.
    pub(crate) const GUEST_PHYSICAL_ADDRESS: u32 = 0x2400;
    /// `VMCS_LINK_POINTER`.
    pub(crate) const VMCS_LINK_POINTER: u32 = 0x2800;
    /// `GUEST_IA32_DEBUGCTL`.
    pub(crate) const GUEST_IA32_DEBUGCTL: u32 = 0x2802;
    /// `GUEST_IA32_PAT`.
    pub(crate) const GUEST_IA32_PAT: u32 = 0x2804;
    /// `GUEST_IA32_EFER`.
    pub(crate) const GUEST_IA32_EFER: u32 = 0x2806;
    /// `GUEST_IA32_PERF_GLOBAL_CTRL`.
    pub(crate) const GUEST_IA32_PERF_GLOBAL_CTRL: u32 = 0x2808;
    /// `GUEST_PDPTR0`.
    pub(crate) const GUEST_PDPTR0: u32 = 0x280a;
    /// `GUEST_PDPTR1`.
    pub(crate) const GUEST_PDPTR1: u32 = 0x280c;
    /// `GUEST_PDPTR2`.
    pub(crate) const GUEST_PDPTR2: u32 = 0x280e;
    /// `GUEST_PDPTR3`.
    pub(crate) const GUEST_PDPTR3: u32 = 0x2810;
    /// `GUEST_BNDCFGS`.
    pub(crate) const GUEST_BNDCFGS: u32 = 0x2812;
    /// `HOST_IA32_PAT`.
    pub(crate) const HOST_IA32_PAT: u32 = 0x2c00;
    /// `HOST_IA32_EFER`.
    pub(crate) const HOST_IA32_EFER: u32 = 0x2c02;
    /// `HOST_IA32_PERF_GLOBAL_CTRL`.
    pub(crate) const HOST_IA32_PERF_GLOBAL_CTRL: u32 = 0x2c04;
    /// `PIN_BASED_VM_EXEC_CONTROL`.
    pub(crate) const PIN_BASED_VM_EXEC_CONTROL: u32 = 0x4000;
    /// `CPU_BASED_VM_EXEC_CONTROL`.
    pub(crate) const CPU_BASED_VM_EXEC_CONTROL: u32 = 0x4002;
    /// `EXCEPTION_BITMAP`.
    pub(crate) const EXCEPTION_BITMAP: u32 = 0x4004;
    /// `PAGE_FAULT_ERROR_CODE_MASK`.
    pub(crate) const PAGE_FAULT_ERROR_CODE_MASK: u32 = 0x4006;
    /// `PAGE_FAULT_ERROR_CODE_MATCH`.
    pub(crate) const PAGE_FAULT_ERROR_CODE_MATCH: u32 = 0x4008;
    /// `CR3_TARGET_COUNT`.
    pub(crate) const CR3_TARGET_COUNT: u32 = 0x400a;
    /// `VM_EXIT_CONTROLS`.
    pub(crate) const VM_EXIT_CONTROLS: u32 = 0x400c;
    /// `VM_EXIT_MSR_STORE_COUNT`.
    pub(crate) const VM_EXIT_MSR_STORE_COUNT: u32 = 0x400e;
    /// `VM_EXIT_MSR_LOAD_COUNT`.
    pub(crate) const VM_EXIT_MSR_LOAD_COUNT: u32 = 0x4010;
    /// `VM_ENTRY_CONTROLS`.
    pub(crate) const VM_ENTRY_CONTROLS: u32 = 0x4012;
    /// `VM_ENTRY_MSR_LOAD_COUNT`.
    pub(crate) const VM_ENTRY_MSR_LOAD_COUNT: u32 = 0x4014;
    /// `VM_ENTRY_INTR_INFO_FIELD`.
    pub(crate) const VM_ENTRY_INTR_INFO_FIELD: u32 = 0x4016;
    /// `VM_ENTRY_EXCEPTION_ERROR_CODE`.
    pub(crate) const VM_ENTRY_EXCEPTION_ERROR_CODE: u32 = 0x4018;
    /// `VM_ENTRY_INSTRUCTION_LEN`.
    pub(crate) const VM_ENTRY_INSTRUCTION_LEN: u32 = 0x401a;
    /// `TPR_THRESHOLD`.
    pub(crate) const TPR_THRESHOLD: u32 = 0x401c;
    /// `SECONDARY_VM_EXEC_CONTROL`.
    pub(crate) const SECONDARY_VM_EXEC_CONTROL: u32 = 0x401e;
    /// `VM_INSTRUCTION_ERROR`.
    pub(crate) const VM_INSTRUCTION_ERROR: u32 = 0x4400;
    /// `VM_EXIT_REASON`.
    pub(crate) const VM_EXIT_REASON: u32 = 0x4402;
    /// `VM_EXIT_INTR_INFO`.
    pub(crate) const VM_EXIT_INTR_INFO: u32 = 0x4404;
    /// `VM_EXIT_INTR_ERROR_CODE`.
    pub(crate) const VM_EXIT_INTR_ERROR_CODE: u32 = 0x4406;
    /// `IDT_VECTORING_INFO_FIELD`.
    pub(crate) const IDT_VECTORING_INFO_FIELD: u32 = 0x4408;
    /// `IDT_VECTORING_ERROR_CODE`.
    pub(crate) const IDT_VECTORING_ERROR_CODE: u32 = 0x440a;
    /// `VM_EXIT_INSTRUCTION_LEN`.
    pub(crate) const VM_EXIT_INSTRUCTION_LEN: u32 = 0x440c;
    /// `VMX_INSTRUCTION_INFO`.
    pub(crate) const VMX_INSTRUCTION_INFO: u32 = 0x440e;
    /// `GUEST_ES_LIMIT`.
    pub(crate) const GUEST_ES_LIMIT: u32 = 0x4800;
    /// `GUEST_CS_LIMIT`.
    pub(crate) const GUEST_CS_LIMIT: u32 = 0x4802;
    /// `GUEST_SS_LIMIT`.
    pub(crate) const GUEST_SS_LIMIT: u32 = 0x4804;
    /// `GUEST_DS_LIMIT`.
    pub(crate) const GUEST_DS_LIMIT: u32 = 0x4806;
    /// `GUEST_FS_LIMIT`.
    pub(crate) const GUEST_FS_LIMIT: u32 = 0x4808;
    /// `GUEST_GS_LIMIT`.
    pub(crate) const GUEST_GS_LIMIT: u32 = 0x480a;
    /// `GUEST_LDTR_LIMIT`.
    pub(crate) const GUEST_LDTR_LIMIT: u32 = 0x480c;
    /// `GUEST_TR_LIMIT`.
    pub(crate) const GUEST_TR_LIMIT: u32 = 0x480e;
    /// `GUEST_GDTR_LIMIT`.
    pub(crate) const GUEST_GDTR_LIMIT: u32 = 0x4810;
    /// `GUEST_IDTR_LIMIT`.
    pub(crate) const GUEST_IDTR_LIMIT: u32 = 0x4812;
    /// `GUEST_ES_AR_BYTES`.
    pub(crate) const GUEST_ES_AR_BYTES: u32 = 0x4814;
    /// `GUEST_CS_AR_BYTES`.
    pub(crate) const GUEST_CS_AR_BYTES: u32 = 0x4816;
    /// `GUEST_SS_AR_BYTES`.
    pub(crate) const GUEST_SS_AR_BYTES: u32 = 0x4818;
    /// `GUEST_DS_AR_BYTES`.
    pub(crate) const GUEST_DS_AR_BYTES: u32 = 0x481a;
    /// `GUEST_FS_AR_BYTES`.
    pub(crate) const GUEST_FS_AR_BYTES: u32 = 0x481c;
    /// `GUEST_GS_AR_BYTES`.
    pub(crate) const GUEST_GS_AR_BYTES: u32 = 0x481e;
    /// `GUEST_LDTR_AR_BYTES`.
    pub(crate) const GUEST_LDTR_AR_BYTES: u32 = 0x4820;
    /// `GUEST_TR_AR_BYTES`.
    pub(crate) const GUEST_TR_AR_BYTES: u32 = 0x4822;
    /// `GUEST_INTERRUPTIBILITY_INFO`.
    pub(crate) const GUEST_INTERRUPTIBILITY_INFO: u32 = 0x4824;
    /// `GUEST_ACTIVITY_STATE`.
    pub(crate) const GUEST_ACTIVITY_STATE: u32 = 0x4826;
    /// `GUEST_SYSENTER_CS`.
    pub(crate) const GUEST_SYSENTER_CS: u32 = 0x482a;
    /// `HOST_IA32_SYSENTER_CS`.
    pub(crate) const HOST_IA32_SYSENTER_CS: u32 = 0x4c00;
    /// `VMX_PREEMPTION_TIMER_VALUE`.
    pub(crate) const VMX_PREEMPTION_TIMER_VALUE: u32 = 0x482e;
    /// `CR0_GUEST_HOST_MASK`.
    pub(crate) const CR0_GUEST_HOST_MASK: u32 = 0x6000;
    /// `CR4_GUEST_HOST_MASK`.
    pub(crate) const CR4_GUEST_HOST_MASK: u32 = 0x6002;
    /// `CR0_READ_SHADOW`.
    pub(crate) const CR0_READ_SHADOW: u32 = 0x6004;
    /// `CR4_READ_SHADOW`.
    pub(crate) const CR4_READ_SHADOW: u32 = 0x6006;
    /// `EXIT_QUALIFICATION`.
    pub(crate) const EXIT_QUALIFICATION: u32 = 0x6400;
    /// `GUEST_LINEAR_ADDRESS`.
    pub(crate) const GUEST_LINEAR_ADDRESS: u32 = 0x640a;
    /// `GUEST_CR0`.
    pub(crate) const GUEST_CR0: u32 = 0x6800;
    /// `GUEST_CR3`.
    pub(crate) const GUEST_CR3: u32 = 0x6802;
    /// `GUEST_CR4`.
    pub(crate) const GUEST_CR4: u32 = 0x6804;
    /// `GUEST_ES_BASE`.
    pub(crate) const GUEST_ES_BASE: u32 = 0x6806;
    /// `GUEST_CS_BASE`.
    pub(crate) const GUEST_CS_BASE: u32 = 0x6808;
    /// `GUEST_SS_BASE`.
    pub(crate) const GUEST_SS_BASE: u32 = 0x680a;
    /// `GUEST_DS_BASE`.
    pub(crate) const GUEST_DS_BASE: u32 = 0x680c;
    /// `GUEST_FS_BASE`.
    pub(crate) const GUEST_FS_BASE: u32 = 0x680e;
    /// `GUEST_GS_BASE`.
    pub(crate) const GUEST_GS_BASE: u32 = 0x6810;
    /// `GUEST_LDTR_BASE`.
    pub(crate) const GUEST_LDTR_BASE: u32 = 0x6812;
    /// `GUEST_TR_BASE`.
    pub(crate) const GUEST_TR_BASE: u32 = 0x6814;
    /// `GUEST_GDTR_BASE`.
    pub(crate) const GUEST_GDTR_BASE: u32 = 0x6816;
    /// `GUEST_IDTR_BASE`.
    pub(crate) const GUEST_IDTR_BASE: u32 = 0x6818;
    /// `GUEST_DR7`.
    pub(crate) const GUEST_DR7: u32 = 0x681a;
    /// `GUEST_RSP`.
    pub(crate) const GUEST_RSP: u32 = 0x681c;
    /// `GUEST_RIP`.
    pub(crate) const GUEST_RIP: u32 = 0x681e;
    /// `GUEST_RFLAGS`.
    pub(crate) const GUEST_RFLAGS: u32 = 0x6820;
    /// `GUEST_PENDING_DBG_EXCEPTIONS`.
    pub(crate) const GUEST_PENDING_DBG_EXCEPTIONS: u32 = 0x6822;
    /// `GUEST_SYSENTER_ESP`.
    pub(crate) const GUEST_SYSENTER_ESP: u32 = 0x6824;
    /// `GUEST_SYSENTER_EIP`.
    pub(crate) const GUEST_SYSENTER_EIP: u32 = 0x6826;
    /// `HOST_CR0`.
    pub(crate) const HOST_CR0: u32 = 0x6c00;
    /// `HOST_CR3`.
    pub(crate) const HOST_CR3: u32 = 0x6c02;
    /// `HOST_CR4`.
    pub(crate) const HOST_CR4: u32 = 0x6c04;
    /// `HOST_FS_BASE`.
    pub(crate) const HOST_FS_BASE: u32 = 0x6c06;
    /// `HOST_GS_BASE`.
    pub(crate) const HOST_GS_BASE: u32 = 0x6c08;
    /// `HOST_TR_BASE`.
    pub(crate) const HOST_TR_BASE: u32 = 0x6c0a;
    /// `HOST_GDTR_BASE`.
    pub(crate) const HOST_GDTR_BASE: u32 = 0x6c0c;
    /// `HOST_IDTR_BASE`.
    pub(crate) const HOST_IDTR_BASE: u32 = 0x6c0e;
    /// `HOST_IA32_SYSENTER_ESP`.
    pub(crate) const HOST_IA32_SYSENTER_ESP: u32 = 0x6c10;
    /// `HOST_IA32_SYSENTER_EIP`.
    pub(crate) const HOST_IA32_SYSENTER_EIP: u32 = 0x6c12;
    /// `HOST_RSP`.
    pub(crate) const HOST_RSP: u32 = 0x6c14;
    /// `HOST_RIP`.
    pub(crate) const HOST_RIP: u32 = 0x6c16;
}

/// Every field of vmcs12 but the header, in vmcs12.c's order.
pub(crate) const FIELDS: [Field; 141] = [
    Field::new(enc::VIRTUAL_PROCESSOR_ID, 960, "virtual_processor_id"),
    Field::new(enc::POSTED_INTR_NV, 962, "posted_intr_nv"),
    Field::new(enc::GUEST_ES_SELECTOR, 964, "guest_es_selector"),
    Field::new(enc::GUEST_CS_SELECTOR, 966, "guest_cs_selector"),
    Field::new(enc::GUEST_SS_SELECTOR, 968, "guest_ss_selector"),
    Field::new(enc::GUEST_DS_SELECTOR, 970, "guest_ds_selector"),
    Field::new(enc::GUEST_FS_SELECTOR, 972, "guest_fs_selector"),
    Field::new(enc::GUEST_GS_SELECTOR, 974, "guest_gs_selector"),
    Field::new(enc::GUEST_LDTR_SELECTOR, 976, "guest_ldtr_selector"),
    Field::new(enc::GUEST_TR_SELECTOR, 978, "guest_tr_selector"),
    Field::new(enc::GUEST_INTR_STATUS, 980, "guest_intr_status"),
    Field::new(enc::GUEST_PML_INDEX, 996, "guest_pml_index"),
    Field::new(enc::HOST_ES_SELECTOR, 982, "host_es_selector"),
    Field::new(enc::HOST_CS_SELECTOR, 984, "host_cs_selector"),
    Field::new(enc::HOST_SS_SELECTOR, 986, "host_ss_selector"),
    Field::new(enc::HOST_DS_SELECTOR, 988, "host_ds_selector"),
    Field::new(enc::HOST_FS_SELECTOR, 990, "host_fs_selector"),
    Field::new(enc::HOST_GS_SELECTOR, 992, "host_gs_selector"),
    Field::new(enc::HOST_TR_SELECTOR, 994, "host_tr_selector"),
    Field::new(enc::IO_BITMAP_A, 40, "io_bitmap_a"),
    Field::new(enc::IO_BITMAP_B, 48, "io_bitmap_b"),
    Field::new(enc::MSR_BITMAP, 56, "msr_bitmap"),
    Field::new(enc::VM_EXIT_MSR_STORE_ADDR, 64, "vm_exit_msr_store_addr"),
    Field::new(enc::VM_EXIT_MSR_LOAD_ADDR, 72, "vm_exit_msr_load_addr"),
    Field::new(enc::VM_ENTRY_MSR_LOAD_ADDR, 80, "vm_entry_msr_load_addr"),
    Field::new(enc::PML_ADDRESS, 312, "pml_address"),
    Field::new(enc::TSC_OFFSET, 88, "tsc_offset"),
    Field::new(enc::TSC_MULTIPLIER, 328, "tsc_multiplier"),
    Field::new(enc::VIRTUAL_APIC_PAGE_ADDR, 96, "virtual_apic_page_addr"),
    Field::new(enc::APIC_ACCESS_ADDR, 104, "apic_access_addr"),
    Field::new(enc::POSTED_INTR_DESC_ADDR, 112, "posted_intr_desc_addr"),
    Field::new(enc::VM_FUNCTION_CONTROL, 296, "vm_function_control"),
    Field::new(enc::EPT_POINTER, 120, "ept_pointer"),
    Field::new(enc::EOI_EXIT_BITMAP0, 128, "eoi_exit_bitmap0"),
    Field::new(enc::EOI_EXIT_BITMAP1, 136, "eoi_exit_bitmap1"),
    Field::new(enc::EOI_EXIT_BITMAP2, 144, "eoi_exit_bitmap2"),
    Field::new(enc::EOI_EXIT_BITMAP3, 152, "eoi_exit_bitmap3"),
    Field::new(enc::EPTP_LIST_ADDRESS, 304, "eptp_list_address"),
    Field::new(enc::VMREAD_BITMAP, 280, "vmread_bitmap"),
    Field::new(enc::VMWRITE_BITMAP, 288, "vmwrite_bitmap"),
    Field::new(enc::XSS_EXIT_BITMAP, 160, "xss_exit_bitmap"),
    Field::new(enc::ENCLS_EXITING_BITMAP, 320, "encls_exiting_bitmap"),
    Field::new(enc::GUEST_PHYSICAL_ADDRESS, 168, "guest_physical_address"),
    Field::new(enc::VMCS_LINK_POINTER, 176, "vmcs_link_pointer"),
    Field::new(enc::GUEST_IA32_DEBUGCTL, 184, "guest_ia32_debugctl"),
    Field::new(enc::GUEST_IA32_PAT, 192, "guest_ia32_pat"),
    Field::new(enc::GUEST_IA32_EFER, 200, "guest_ia32_efer"),
    Field::new(
        enc::GUEST_IA32_PERF_GLOBAL_CTRL,
        208,
        "guest_ia32_perf_global_ctrl",
    ),
    Field::new(enc::GUEST_PDPTR0, 216, "guest_pdptr0"),
    Field::new(enc::GUEST_PDPTR1, 224, "guest_pdptr1"),
    Field::new(enc::GUEST_PDPTR2, 232, "guest_pdptr2"),
    Field::new(enc::GUEST_PDPTR3, 240, "guest_pdptr3"),
    Field::new(enc::GUEST_BNDCFGS, 248, "guest_bndcfgs"),
    Field::new(enc::HOST_IA32_PAT, 256, "host_ia32_pat"),
    Field::new(enc::HOST_IA32_EFER, 264, "host_ia32_efer"),
    Field::new(
        enc::HOST_IA32_PERF_GLOBAL_CTRL,
        272,
        "host_ia32_perf_global_ctrl",
    ),
    Field::new(
        enc::PIN_BASED_VM_EXEC_CONTROL,
        744,
        "pin_based_vm_exec_control",
    ),
    Field::new(
        enc::CPU_BASED_VM_EXEC_CONTROL,
        748,
        "cpu_based_vm_exec_control",
    ),
    Field::new(enc::EXCEPTION_BITMAP, 752, "exception_bitmap"),
    Field::new(
        enc::PAGE_FAULT_ERROR_CODE_MASK,
        756,
        "page_fault_error_code_mask",
    ),
    Field::new(
        enc::PAGE_FAULT_ERROR_CODE_MATCH,
        760,
        "page_fault_error_code_match",
    ),
    Field::new(enc::CR3_TARGET_COUNT, 764, "cr3_target_count"),
    Field::new(enc::VM_EXIT_CONTROLS, 768, "vm_exit_controls"),
    Field::new(enc::VM_EXIT_MSR_STORE_COUNT, 772, "vm_exit_msr_store_count"),
    Field::new(enc::VM_EXIT_MSR_LOAD_COUNT, 776, "vm_exit_msr_load_count"),
    Field::new(enc::VM_ENTRY_CONTROLS, 780, "vm_entry_controls"),
    Field::new(enc::VM_ENTRY_MSR_LOAD_COUNT, 784, "vm_entry_msr_load_count"),
    Field::new(
        enc::VM_ENTRY_INTR_INFO_FIELD,
        788,
        "vm_entry_intr_info_field",
    ),
    Field::new(
        enc::VM_ENTRY_EXCEPTION_ERROR_CODE,
        792,
        "vm_entry_exception_error_code",
    ),
    Field::new(
        enc::VM_ENTRY_INSTRUCTION_LEN,
        796,
        "vm_entry_instruction_len",
    ),
    Field::new(enc::TPR_THRESHOLD, 800, "tpr_threshold"),
    Field::new(
        enc::SECONDARY_VM_EXEC_CONTROL,
        804,
        "secondary_vm_exec_control",
    ),
    Field::new(enc::VM_INSTRUCTION_ERROR, 808, "vm_instruction_error"),
    Field::new(enc::VM_EXIT_REASON, 812, "vm_exit_reason"),
    Field::new(enc::VM_EXIT_INTR_INFO, 816, "vm_exit_intr_info"),
    Field::new(enc::VM_EXIT_INTR_ERROR_CODE, 820, "vm_exit_intr_error_code"),
    Field::new(
        enc::IDT_VECTORING_INFO_FIELD,
        824,
        "idt_vectoring_info_field",
    ),
    Field::new(
        enc::IDT_VECTORING_ERROR_CODE,
        828,
        "idt_vectoring_error_code",
    ),
    Field::new(enc::VM_EXIT_INSTRUCTION_LEN, 832, "vm_exit_instruction_len"),
    Field::new(enc::VMX_INSTRUCTION_INFO, 836, "vmx_instruction_info"),
    Field::new(enc::GUEST_ES_LIMIT, 840, "guest_es_limit"),
    Field::new(enc::GUEST_CS_LIMIT, 844, "guest_cs_limit"),
    Field::new(enc::GUEST_SS_LIMIT, 848, "guest_ss_limit"),
    Field::new(enc::GUEST_DS_LIMIT, 852, "guest_ds_limit"),
    Field::new(enc::GUEST_FS_LIMIT, 856, "guest_fs_limit"),
    Field::new(enc::GUEST_GS_LIMIT, 860, "guest_gs_limit"),
    Field::new(enc::GUEST_LDTR_LIMIT, 864, "guest_ldtr_limit"),
    Field::new(enc::GUEST_TR_LIMIT, 868, "guest_tr_limit"),
    Field::new(enc::GUEST_GDTR_LIMIT, 872, "guest_gdtr_limit"),
    Field::new(enc::GUEST_IDTR_LIMIT, 876, "guest_idtr_limit"),
    Field::new(enc::GUEST_ES_AR_BYTES, 880, "guest_es_ar_bytes"),
    Field::new(enc::GUEST_CS_AR_BYTES, 884, "guest_cs_ar_bytes"),
    Field::new(enc::GUEST_SS_AR_BYTES, 888, "guest_ss_ar_bytes"),
    Field::new(enc::GUEST_DS_AR_BYTES, 892, "guest_ds_ar_bytes"),
    Field::new(enc::GUEST_FS_AR_BYTES, 896, "guest_fs_ar_bytes"),
    Field::new(enc::GUEST_GS_AR_BYTES, 900, "guest_gs_ar_bytes"),
    Field::new(enc::GUEST_LDTR_AR_BYTES, 904, "guest_ldtr_ar_bytes"),
    Field::new(enc::GUEST_TR_AR_BYTES, 908, "guest_tr_ar_bytes"),
    Field::new(
        enc::GUEST_INTERRUPTIBILITY_INFO,
        912,
        "guest_interruptibility_info",
    ),
    Field::new(enc::GUEST_ACTIVITY_STATE, 916, "guest_activity_state"),
    Field::new(enc::GUEST_SYSENTER_CS, 920, "guest_sysenter_cs"),
    Field::new(enc::HOST_IA32_SYSENTER_CS, 924, "host_ia32_sysenter_cs"),
    Field::new(
        enc::VMX_PREEMPTION_TIMER_VALUE,
        928,
        "vmx_preemption_timer_value",
    ),
    Field::new(enc::CR0_GUEST_HOST_MASK, 344, "cr0_guest_host_mask"),
    Field::new(enc::CR4_GUEST_HOST_MASK, 352, "cr4_guest_host_mask"),
    Field::new(enc::CR0_READ_SHADOW, 360, "cr0_read_shadow"),
    Field::new(enc::CR4_READ_SHADOW, 368, "cr4_read_shadow"),
    Field::new(enc::EXIT_QUALIFICATION, 408, "exit_qualification"),
    Field::new(enc::GUEST_LINEAR_ADDRESS, 416, "guest_linear_address"),
    Field::new(enc::GUEST_CR0, 424, "guest_cr0"),
    Field::new(enc::GUEST_CR3, 432, "guest_cr3"),
    Field::new(enc::GUEST_CR4, 440, "guest_cr4"),
    Field::new(enc::GUEST_ES_BASE, 448, "guest_es_base"),
    Field::new(enc::GUEST_CS_BASE, 456, "guest_cs_base"),
    Field::new(enc::GUEST_SS_BASE, 464, "guest_ss_base"),
    Field::new(enc::GUEST_DS_BASE, 472, "guest_ds_base"),
    Field::new(enc::GUEST_FS_BASE, 480, "guest_fs_base"),
    Field::new(enc::GUEST_GS_BASE, 488, "guest_gs_base"),
    Field::new(enc::GUEST_LDTR_BASE, 496, "guest_ldtr_base"),
    Field::new(enc::GUEST_TR_BASE, 504, "guest_tr_base"),
    Field::new(enc::GUEST_GDTR_BASE, 512, "guest_gdtr_base"),
    Field::new(enc::GUEST_IDTR_BASE, 520, "guest_idtr_base"),
    Field::new(enc::GUEST_DR7, 528, "guest_dr7"),
    Field::new(enc::GUEST_RSP, 536, "guest_rsp"),
    Field::new(enc::GUEST_RIP, 544, "guest_rip"),
    Field::new(enc::GUEST_RFLAGS, 552, "guest_rflags"),
    Field::new(
        enc::GUEST_PENDING_DBG_EXCEPTIONS,
        560,
        "guest_pending_dbg_exceptions",
    ),
    Field::new(enc::GUEST_SYSENTER_ESP, 568, "guest_sysenter_esp"),
    Field::new(enc::GUEST_SYSENTER_EIP, 576, "guest_sysenter_eip"),
    Field::new(enc::HOST_CR0, 584, "host_cr0"),
    Field::new(enc::HOST_CR3, 592, "host_cr3"),
    Field::new(enc::HOST_CR4, 600, "host_cr4"),
    Field::new(enc::HOST_FS_BASE, 608, "host_fs_base"),
    Field::new(enc::HOST_GS_BASE, 616, "host_gs_base"),
    Field::new(enc::HOST_TR_BASE, 624, "host_tr_base"),
    Field::new(enc::HOST_GDTR_BASE, 632, "host_gdtr_base"),
    Field::new(enc::HOST_IDTR_BASE, 640, "host_idtr_base"),
    Field::new(enc::HOST_IA32_SYSENTER_ESP, 648, "host_ia32_sysenter_esp"),
    Field::new(enc::HOST_IA32_SYSENTER_EIP, 656, "host_ia32_sysenter_eip"),
    Field::new(enc::HOST_RSP, 664, "host_rsp"),
    Field::new(enc::HOST_RIP, 672, "host_rip"),
];

/// The guest segment access-rights fields, whose reserved bits VMWRITE
/// drops (KVM keeps bits 16 and 15:12, 7:0: mask 1F0FFh, as some CPUs do).
pub(crate) const AR_BYTES: core::ops::RangeInclusive<u32> =
    enc::GUEST_ES_AR_BYTES..=enc::GUEST_TR_AR_BYTES;

/// The access-rights bits a VMWRITE keeps.
pub(crate) const AR_BYTES_MASK: u64 = 0x1_f0ff;

/// A vmcs12 as VMPTRLD copied it from guest memory: the copy VMREAD,
/// VMWRITE and VM entry use, and that VMCLEAR writes back.
pub(crate) struct Vmcs12 {
    /// The bytes, in KVM's layout.
    pub(crate) bytes: [u8; SIZE],
}

impl Vmcs12 {
    /// The little-endian value of `N` bytes at `off`.
    fn le<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut b = [0u8; N];
        if let Some(src) = self.bytes.get(off..off + N) {
            b.copy_from_slice(src);
        }
        b
    }

    /// The value at `p`, zero-extended.
    pub(crate) fn get(&self, p: Place) -> u64 {
        match p.width {
            Width::U16 => u16::from_le_bytes(self.le(p.offset)).into(),
            Width::U32 => u32::from_le_bytes(self.le(p.offset)).into(),
            Width::U64 | Width::Natural => u64::from_le_bytes(self.le(p.offset)),
        }
    }

    /// Stores the low bytes of `value` at `p`, as `vmcs12_write_any()`.
    pub(crate) fn set(&mut self, p: Place, value: u64) {
        let n = p.width.bytes();
        if let Some(dst) = self.bytes.get_mut(p.offset..p.offset + n) {
            dst.copy_from_slice(&value.to_le_bytes()[..n]);
        }
    }

    /// Field `enc`, one of the [`enc`] constants (each has a place: the
    /// host tests check it); 0 for any other.
    pub(crate) fn field(&self, enc: u32) -> u64 {
        place(enc.into()).map_or(0, |p| self.get(p))
    }

    /// Sets field `enc`, one of the [`enc`] constants.
    pub(crate) fn set_field(&mut self, enc: u32, value: u64) {
        if let Some(p) = place(enc.into()) {
            self.set(p, value);
        }
    }

    /// The u32 at header offset `off` (see [`hdr`]).
    pub(crate) fn hdr(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.le(off))
    }

    /// Sets the u32 at header offset `off`.
    pub(crate) fn set_hdr(&mut self, off: usize, value: u32) {
        if let Some(dst) = self.bytes.get_mut(off..off + 4) {
            dst.copy_from_slice(&value.to_le_bytes());
        }
    }

    /// VMREAD of encoding `enc`: the value zero-extended, or `None` for
    /// an unsupported component.
    pub(crate) fn vmread(&self, enc: u64) -> Option<u64> {
        place(enc).map(|p| self.get(p))
    }

    /// VMWRITE of `value` to encoding `enc`, as handle_vmwrite() does it:
    /// an unsupported component, or a read-only one unless `write_any`
    /// (IA32_VMX_MISC\[29\]), fails with its VM-instruction error and
    /// changes nothing; a guest access-rights field drops its reserved
    /// bits.
    pub(crate) fn vmwrite(
        &mut self,
        enc: u64,
        value: u64,
        write_any: bool,
    ) -> Result<(), InsnError> {
        let p = place(enc).ok_or(InsnError::UnsupportedComponent)?;
        // place() took only encodings that fit in 15 bits.
        let e = enc as u32;
        if readonly(e) && !write_any {
            return Err(InsnError::VmwriteReadOnly);
        }
        let value = if AR_BYTES.contains(&e) {
            value & AR_BYTES_MASK
        } else {
            value
        };
        self.set(p, value);
        Ok(())
    }
}
