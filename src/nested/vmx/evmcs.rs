// SPDX-License-Identifier: GPL-2.0

//! The Hyper-V enlightened VMCS (eVMCS) version 1, as KVM 6.12 emulates it
//! for an L1 that runs with Hyper-V enlightenments: its layout (`struct
//! hv_enlightened_vmcs`, arch/x86/include/asm/hyperv-tlfs.h), the field
//! map VMREAD uses (`vmcs_field_to_evmcs_1[]`, arch/x86/kvm/vmx/
//! hyperv_evmcs.c) and the clean-field semantics of nested.c's
//! copy_enlightened_to_vmcs12() and copy_vmcs12_to_enlightened().
//!
//! An eVMCS is guest memory that L1 writes with plain stores instead of
//! VMWRITE; on VM entry L1 sets a bit in `hv_clean_fields` for every
//! group of fields it left unchanged since the last entry, and KVM
//! copies only the dirty groups into vmcs12.  On VM exit KVM writes the
//! guest state and exit information back.  vmcs12 ([`super::vmcs12`])
//! stays the copy everything else works on, so only this file knows the
//! eVMCS layout.
//!
//! The tables were generated from the 6.12 sources by a throwaway script
//! (offsets by summing the packed struct's members), then checked by the
//! compiler: the host test `evmcs_layout_c` writes a C file that
//! scripts/vmx-layout.sh compiles with KVM's hyperv_evmcs.c, asserting
//! every offset and size with `offsetof`/`sizeof`, every encoding with
//! `enum vmcs_field`, and every offset and clean group against KVM's own
//! `vmcs_field_to_evmcs_1[]`.
//!
//! Pure logic, host-tested.

use super::capabilities::{entry, exit, pin, proc, proc2};
use super::vmcs12::{self, enc, Vmcs12, Width};

/// KVM's `KVM_EVMCS_VERSION`: the only eVMCS version KVM implements, one
/// of the two values it accepts in `revision_id` (see [`revision_ok`]).
pub(crate) const VERSION: u32 = 1;

/// The eVMCS versions KVM supports, as nested_get_evmcs_version()
/// returns them to user space (KVM_CAP_HYPERV_ENLIGHTENED_VMCS) and
/// reports in CPUID 0x4000000A.EAX\[15:0\]: the lowest in bits 7:0, the
/// highest in bits 15:8.
pub(crate) const VERSION_RANGE: u16 = ((VERSION as u16) << 8) | 1;

/// `sizeof(struct hv_enlightened_vmcs)`: the bytes KVM reads and writes
/// in the page L1 points at.
pub(crate) const SIZE: usize = 1024;

/// Byte offsets of the eVMCS members outside the field map: the header
/// and the Hyper-V-specific words, which have no VMCS encoding.
pub(crate) mod hdr {
    /// `revision_id`: [`super::VERSION`], or vmcs12's revision that
    /// Hyper-V itself writes there.
    pub(crate) const REVISION_ID: usize = 0;
    /// `abort`, as in a VMCS.
    pub(crate) const ABORT: usize = 4;
    /// `hv_clean_fields`: a set bit is a group L1 left unchanged
    /// ([`super::clean`]).
    pub(crate) const CLEAN_FIELDS: usize = 824;
    /// `hv_synthetic_controls`, which KVM does not read.
    pub(crate) const SYNTHETIC_CONTROLS: usize = 832;
    /// `hv_enlightenments_control`, a u32 of bit-fields
    /// ([`super::enlightenments`]).
    pub(crate) const ENLIGHTENMENTS_CONTROL: usize = 836;
    /// `hv_vp_id`, the L2 virtual processor's ID for L2 TLB-flush
    /// hypercalls.
    pub(crate) const VP_ID: usize = 840;
    /// `hv_vm_id`, the L2 VM's ID for the same hypercalls.
    pub(crate) const VM_ID: usize = 848;
    /// `partition_assist_page`, the GPA of L2's partition assist page.
    pub(crate) const PARTITION_ASSIST_PAGE: usize = 856;
}

/// The bits of `hv_enlightenments_control` (GCC allocates the
/// bit-fields from bit 0 on x86; the layout test checks it).
pub(crate) mod enlightenments {
    /// `nested_flush_hypercall`: L2 may make direct TLB-flush
    /// hypercalls (nested_evmcs_l2_tlb_flush_enabled()).
    pub(crate) const NESTED_FLUSH_HYPERCALL: u32 = 1 << 0;
    /// `msr_bitmap`: the enlightened MSR bitmap, whose clean bit lets
    /// KVM skip merging L1's MSR bitmap ([`super::msr_bitmap_unchanged`]).
    pub(crate) const MSR_BITMAP: u32 = 1 << 1;
}

/// Byte offsets in the Hyper-V VP assist page (`struct
/// hv_vp_assist_page`) through which L1 names its current eVMCS.
pub(crate) mod vp_assist {
    /// `enlighten_vmentry`, a u8: nonzero when VMLAUNCH and VMRESUME use
    /// the eVMCS.
    pub(crate) const ENLIGHTEN_VMENTRY: usize = 40;
    /// `current_nested_vmcs`, a u64: the eVMCS's guest-physical address.
    pub(crate) const CURRENT_NESTED_VMCS: usize = 48;
}

/// The clean-field groups, `HV_VMX_ENLIGHTENED_CLEAN_FIELD_*`: a bit of
/// `hv_clean_fields` each.
pub(crate) mod clean {
    /// `NONE`: fields in no group, copied on every VM entry (or never,
    /// for read-only ones).
    pub(crate) const NONE: u32 = 0;
    /// `IO_BITMAP`: the I/O bitmap addresses.
    pub(crate) const IO_BITMAP: u32 = 1 << 0;
    /// `MSR_BITMAP`: the MSR bitmap address (and, with the enlightened
    /// MSR bitmap, its contents).
    pub(crate) const MSR_BITMAP: u32 = 1 << 1;
    /// `CONTROL_GRP2`: TSC offset and multiplier, virtual-APIC page,
    /// XSS and ENCLS exiting bitmaps.
    pub(crate) const CONTROL_GRP2: u32 = 1 << 2;
    /// `CONTROL_GRP1`: pin-based, secondary and VM-exit controls.
    pub(crate) const CONTROL_GRP1: u32 = 1 << 3;
    /// `CONTROL_PROC`: the primary processor-based controls.
    pub(crate) const CONTROL_PROC: u32 = 1 << 4;
    /// `CONTROL_EVENT`: VM-entry event injection.
    pub(crate) const CONTROL_EVENT: u32 = 1 << 5;
    /// `CONTROL_ENTRY`: the VM-entry controls.
    pub(crate) const CONTROL_ENTRY: u32 = 1 << 6;
    /// `CONTROL_EXCPN`: the exception bitmap.
    pub(crate) const CONTROL_EXCPN: u32 = 1 << 7;
    /// `CRDR`: CR masks and shadows, guest CR0/3/4 and DR7.
    pub(crate) const CRDR: u32 = 1 << 8;
    /// `CONTROL_XLAT`: EPT pointer and VPID.
    pub(crate) const CONTROL_XLAT: u32 = 1 << 9;
    /// `GUEST_BASIC`: guest RSP, RFLAGS and interruptibility.
    pub(crate) const GUEST_BASIC: u32 = 1 << 10;
    /// `GUEST_GRP1`: guest MSRs, PDPTEs, activity state and the rest.
    pub(crate) const GUEST_GRP1: u32 = 1 << 11;
    /// `GUEST_GRP2`: guest segment registers and descriptor tables.
    pub(crate) const GUEST_GRP2: u32 = 1 << 12;
    /// `HOST_POINTER`: host bases and RSP.
    pub(crate) const HOST_POINTER: u32 = 1 << 13;
    /// `HOST_GRP1`: the rest of the host state.
    pub(crate) const HOST_GRP1: u32 = 1 << 14;
    /// `ENLIGHTENMENTSCONTROL`: the Hyper-V words from
    /// [`super::hdr::ENLIGHTENMENTS_CONTROL`] on.  KVM re-reads only the
    /// L2 identifiers under it ([`super::nested_ids`]); the control bits
    /// it reads wherever it uses them.
    pub(crate) const ENLIGHTENMENTSCONTROL: u32 = 1 << 15;
    /// `ALL`: every group.  KVM also puts the fields the TLFS gives no
    /// group (MSR-list addresses and counts, page-fault error-code mask
    /// and match, CR3-target count) in all of them, so that writing one
    /// dirties everything (a KVM-on-Hyper-V rule).
    pub(crate) const ALL: u32 = 0xffff;
}

/// One entry of KVM's `vmcs_field_to_evmcs_1[]`: a VMCS field and where
/// the eVMCS keeps it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EvmcsField {
    /// The VMCS encoding (access type 0), one of vmcs12's [`enc`].
    pub(crate) enc: u32,
    /// The byte offset in the eVMCS.
    pub(crate) offset: u16,
    /// The clean-field group ([`clean`]): one bit, or NONE or ALL.
    pub(crate) clean: u32,
    /// The member of `struct hv_enlightened_vmcs`, for the layout test.
    #[allow(dead_code)]
    pub(crate) name: &'static str,
}

impl EvmcsField {
    /// An entry; `const` so the table is built at compile time.
    const fn new(enc: u32, offset: u16, clean: u32, name: &'static str) -> Self {
        EvmcsField {
            enc,
            offset,
            clean,
            name,
        }
    }

    /// The width, from the encoding as for vmcs12: every eVMCS member
    /// has its field's size (u64 for natural width), which the layout
    /// test checks with `sizeof`.
    pub(crate) fn width(&self) -> Width {
        Width::of(self.enc)
    }
}

/// `vmcs_field_to_evmcs_1[]`, in hyperv_evmcs.c's order: every VMCS field
/// the eVMCS has.  KVM's table is indexed by `ROL16(encoding, 6)`; a
/// search by encoding finds the same entries.
///
/// vmcs12 fields the eVMCS lacks (hyperv_evmcs.h lists them):
/// POSTED_INTR_NV, GUEST_INTR_STATUS, GUEST_PML_INDEX, PML_ADDRESS,
/// APIC_ACCESS_ADDR, POSTED_INTR_DESC_ADDR, VM_FUNCTION_CONTROL,
/// EOI_EXIT_BITMAP0-3, EPTP_LIST_ADDRESS, VMREAD_BITMAP, VMWRITE_BITMAP
/// and VMX_PREEMPTION_TIMER_VALUE.  hyperv_evmcs.h lists TSC_MULTIPLIER
/// among them too, but the struct and the map have it.  Members with no
/// entry: the CR3-target values, the I/O-instruction exit registers
/// (0x6402-0x6408, "Not defined in KVM"), and the CET and LBR fields
/// (commented out in the map: "Not used by KVM").
pub(crate) const FIELDS: [EvmcsField; 126] = [
    // 64 bit rw.
    EvmcsField::new(enc::GUEST_RIP, 816, clean::NONE, "guest_rip"),
    EvmcsField::new(enc::GUEST_RSP, 768, clean::GUEST_BASIC, "guest_rsp"),
    EvmcsField::new(enc::GUEST_RFLAGS, 776, clean::GUEST_BASIC, "guest_rflags"),
    EvmcsField::new(enc::HOST_IA32_PAT, 24, clean::HOST_GRP1, "host_ia32_pat"),
    EvmcsField::new(enc::HOST_IA32_EFER, 32, clean::HOST_GRP1, "host_ia32_efer"),
    EvmcsField::new(
        enc::HOST_IA32_PERF_GLOBAL_CTRL,
        976,
        clean::HOST_GRP1,
        "host_ia32_perf_global_ctrl",
    ),
    EvmcsField::new(enc::HOST_CR0, 40, clean::HOST_GRP1, "host_cr0"),
    EvmcsField::new(enc::HOST_CR3, 48, clean::HOST_GRP1, "host_cr3"),
    EvmcsField::new(enc::HOST_CR4, 56, clean::HOST_GRP1, "host_cr4"),
    EvmcsField::new(
        enc::HOST_IA32_SYSENTER_ESP,
        64,
        clean::HOST_GRP1,
        "host_ia32_sysenter_esp",
    ),
    EvmcsField::new(
        enc::HOST_IA32_SYSENTER_EIP,
        72,
        clean::HOST_GRP1,
        "host_ia32_sysenter_eip",
    ),
    EvmcsField::new(enc::HOST_RIP, 80, clean::HOST_GRP1, "host_rip"),
    EvmcsField::new(enc::IO_BITMAP_A, 104, clean::IO_BITMAP, "io_bitmap_a"),
    EvmcsField::new(enc::IO_BITMAP_B, 112, clean::IO_BITMAP, "io_bitmap_b"),
    EvmcsField::new(enc::MSR_BITMAP, 120, clean::MSR_BITMAP, "msr_bitmap"),
    EvmcsField::new(enc::GUEST_ES_BASE, 216, clean::GUEST_GRP2, "guest_es_base"),
    EvmcsField::new(enc::GUEST_CS_BASE, 224, clean::GUEST_GRP2, "guest_cs_base"),
    EvmcsField::new(enc::GUEST_SS_BASE, 232, clean::GUEST_GRP2, "guest_ss_base"),
    EvmcsField::new(enc::GUEST_DS_BASE, 240, clean::GUEST_GRP2, "guest_ds_base"),
    EvmcsField::new(enc::GUEST_FS_BASE, 248, clean::GUEST_GRP2, "guest_fs_base"),
    EvmcsField::new(enc::GUEST_GS_BASE, 256, clean::GUEST_GRP2, "guest_gs_base"),
    EvmcsField::new(
        enc::GUEST_LDTR_BASE,
        264,
        clean::GUEST_GRP2,
        "guest_ldtr_base",
    ),
    EvmcsField::new(enc::GUEST_TR_BASE, 272, clean::GUEST_GRP2, "guest_tr_base"),
    EvmcsField::new(
        enc::GUEST_GDTR_BASE,
        280,
        clean::GUEST_GRP2,
        "guest_gdtr_base",
    ),
    EvmcsField::new(
        enc::GUEST_IDTR_BASE,
        288,
        clean::GUEST_GRP2,
        "guest_idtr_base",
    ),
    EvmcsField::new(enc::TSC_OFFSET, 400, clean::CONTROL_GRP2, "tsc_offset"),
    EvmcsField::new(
        enc::VIRTUAL_APIC_PAGE_ADDR,
        408,
        clean::CONTROL_GRP2,
        "virtual_apic_page_addr",
    ),
    EvmcsField::new(
        enc::VMCS_LINK_POINTER,
        416,
        clean::GUEST_GRP1,
        "vmcs_link_pointer",
    ),
    EvmcsField::new(
        enc::GUEST_IA32_DEBUGCTL,
        424,
        clean::GUEST_GRP1,
        "guest_ia32_debugctl",
    ),
    EvmcsField::new(
        enc::GUEST_IA32_PAT,
        432,
        clean::GUEST_GRP1,
        "guest_ia32_pat",
    ),
    EvmcsField::new(
        enc::GUEST_IA32_EFER,
        440,
        clean::GUEST_GRP1,
        "guest_ia32_efer",
    ),
    EvmcsField::new(
        enc::GUEST_IA32_PERF_GLOBAL_CTRL,
        904,
        clean::GUEST_GRP1,
        "guest_ia32_perf_global_ctrl",
    ),
    EvmcsField::new(enc::GUEST_PDPTR0, 448, clean::GUEST_GRP1, "guest_pdptr0"),
    EvmcsField::new(enc::GUEST_PDPTR1, 456, clean::GUEST_GRP1, "guest_pdptr1"),
    EvmcsField::new(enc::GUEST_PDPTR2, 464, clean::GUEST_GRP1, "guest_pdptr2"),
    EvmcsField::new(enc::GUEST_PDPTR3, 472, clean::GUEST_GRP1, "guest_pdptr3"),
    EvmcsField::new(
        enc::GUEST_PENDING_DBG_EXCEPTIONS,
        480,
        clean::GUEST_GRP1,
        "guest_pending_dbg_exceptions",
    ),
    EvmcsField::new(
        enc::GUEST_SYSENTER_ESP,
        488,
        clean::GUEST_GRP1,
        "guest_sysenter_esp",
    ),
    EvmcsField::new(
        enc::GUEST_SYSENTER_EIP,
        496,
        clean::GUEST_GRP1,
        "guest_sysenter_eip",
    ),
    EvmcsField::new(
        enc::CR0_GUEST_HOST_MASK,
        512,
        clean::CRDR,
        "cr0_guest_host_mask",
    ),
    EvmcsField::new(
        enc::CR4_GUEST_HOST_MASK,
        520,
        clean::CRDR,
        "cr4_guest_host_mask",
    ),
    EvmcsField::new(enc::CR0_READ_SHADOW, 528, clean::CRDR, "cr0_read_shadow"),
    EvmcsField::new(enc::CR4_READ_SHADOW, 536, clean::CRDR, "cr4_read_shadow"),
    EvmcsField::new(enc::GUEST_CR0, 544, clean::CRDR, "guest_cr0"),
    EvmcsField::new(enc::GUEST_CR3, 552, clean::CRDR, "guest_cr3"),
    EvmcsField::new(enc::GUEST_CR4, 560, clean::CRDR, "guest_cr4"),
    EvmcsField::new(enc::GUEST_DR7, 568, clean::CRDR, "guest_dr7"),
    EvmcsField::new(enc::HOST_FS_BASE, 576, clean::HOST_POINTER, "host_fs_base"),
    EvmcsField::new(enc::HOST_GS_BASE, 584, clean::HOST_POINTER, "host_gs_base"),
    EvmcsField::new(enc::HOST_TR_BASE, 592, clean::HOST_POINTER, "host_tr_base"),
    EvmcsField::new(
        enc::HOST_GDTR_BASE,
        600,
        clean::HOST_POINTER,
        "host_gdtr_base",
    ),
    EvmcsField::new(
        enc::HOST_IDTR_BASE,
        608,
        clean::HOST_POINTER,
        "host_idtr_base",
    ),
    EvmcsField::new(enc::HOST_RSP, 616, clean::HOST_POINTER, "host_rsp"),
    EvmcsField::new(enc::EPT_POINTER, 624, clean::CONTROL_XLAT, "ept_pointer"),
    EvmcsField::new(enc::GUEST_BNDCFGS, 896, clean::GUEST_GRP1, "guest_bndcfgs"),
    EvmcsField::new(
        enc::XSS_EXIT_BITMAP,
        960,
        clean::CONTROL_GRP2,
        "xss_exit_bitmap",
    ),
    EvmcsField::new(
        enc::ENCLS_EXITING_BITMAP,
        968,
        clean::CONTROL_GRP2,
        "encls_exiting_bitmap",
    ),
    EvmcsField::new(
        enc::TSC_MULTIPLIER,
        984,
        clean::CONTROL_GRP2,
        "tsc_multiplier",
    ),
    // 64 bit read only.  The I/O-instruction registers (0x6402-0x6408)
    // are "Not defined in KVM".
    EvmcsField::new(
        enc::GUEST_PHYSICAL_ADDRESS,
        680,
        clean::NONE,
        "guest_physical_address",
    ),
    EvmcsField::new(
        enc::EXIT_QUALIFICATION,
        720,
        clean::NONE,
        "exit_qualification",
    ),
    EvmcsField::new(
        enc::GUEST_LINEAR_ADDRESS,
        760,
        clean::NONE,
        "guest_linear_address",
    ),
    // "No mask defined in the spec as Hyper-V doesn't currently support
    // these": ALL, so that a write dirties every group.
    EvmcsField::new(
        enc::VM_EXIT_MSR_STORE_ADDR,
        320,
        clean::ALL,
        "vm_exit_msr_store_addr",
    ),
    EvmcsField::new(
        enc::VM_EXIT_MSR_LOAD_ADDR,
        328,
        clean::ALL,
        "vm_exit_msr_load_addr",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_MSR_LOAD_ADDR,
        336,
        clean::ALL,
        "vm_entry_msr_load_addr",
    ),
    // 32 bit rw.
    EvmcsField::new(enc::TPR_THRESHOLD, 812, clean::NONE, "tpr_threshold"),
    EvmcsField::new(
        enc::GUEST_INTERRUPTIBILITY_INFO,
        784,
        clean::GUEST_BASIC,
        "guest_interruptibility_info",
    ),
    EvmcsField::new(
        enc::CPU_BASED_VM_EXEC_CONTROL,
        788,
        clean::CONTROL_PROC,
        "cpu_based_vm_exec_control",
    ),
    EvmcsField::new(
        enc::EXCEPTION_BITMAP,
        792,
        clean::CONTROL_EXCPN,
        "exception_bitmap",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_CONTROLS,
        796,
        clean::CONTROL_ENTRY,
        "vm_entry_controls",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_INTR_INFO_FIELD,
        800,
        clean::CONTROL_EVENT,
        "vm_entry_intr_info_field",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_EXCEPTION_ERROR_CODE,
        804,
        clean::CONTROL_EVENT,
        "vm_entry_exception_error_code",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_INSTRUCTION_LEN,
        808,
        clean::CONTROL_EVENT,
        "vm_entry_instruction_len",
    ),
    EvmcsField::new(
        enc::HOST_IA32_SYSENTER_CS,
        88,
        clean::HOST_GRP1,
        "host_ia32_sysenter_cs",
    ),
    EvmcsField::new(
        enc::PIN_BASED_VM_EXEC_CONTROL,
        92,
        clean::CONTROL_GRP1,
        "pin_based_vm_exec_control",
    ),
    EvmcsField::new(
        enc::VM_EXIT_CONTROLS,
        96,
        clean::CONTROL_GRP1,
        "vm_exit_controls",
    ),
    EvmcsField::new(
        enc::SECONDARY_VM_EXEC_CONTROL,
        100,
        clean::CONTROL_GRP1,
        "secondary_vm_exec_control",
    ),
    EvmcsField::new(
        enc::GUEST_ES_LIMIT,
        144,
        clean::GUEST_GRP2,
        "guest_es_limit",
    ),
    EvmcsField::new(
        enc::GUEST_CS_LIMIT,
        148,
        clean::GUEST_GRP2,
        "guest_cs_limit",
    ),
    EvmcsField::new(
        enc::GUEST_SS_LIMIT,
        152,
        clean::GUEST_GRP2,
        "guest_ss_limit",
    ),
    EvmcsField::new(
        enc::GUEST_DS_LIMIT,
        156,
        clean::GUEST_GRP2,
        "guest_ds_limit",
    ),
    EvmcsField::new(
        enc::GUEST_FS_LIMIT,
        160,
        clean::GUEST_GRP2,
        "guest_fs_limit",
    ),
    EvmcsField::new(
        enc::GUEST_GS_LIMIT,
        164,
        clean::GUEST_GRP2,
        "guest_gs_limit",
    ),
    EvmcsField::new(
        enc::GUEST_LDTR_LIMIT,
        168,
        clean::GUEST_GRP2,
        "guest_ldtr_limit",
    ),
    EvmcsField::new(
        enc::GUEST_TR_LIMIT,
        172,
        clean::GUEST_GRP2,
        "guest_tr_limit",
    ),
    EvmcsField::new(
        enc::GUEST_GDTR_LIMIT,
        176,
        clean::GUEST_GRP2,
        "guest_gdtr_limit",
    ),
    EvmcsField::new(
        enc::GUEST_IDTR_LIMIT,
        180,
        clean::GUEST_GRP2,
        "guest_idtr_limit",
    ),
    EvmcsField::new(
        enc::GUEST_ES_AR_BYTES,
        184,
        clean::GUEST_GRP2,
        "guest_es_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_CS_AR_BYTES,
        188,
        clean::GUEST_GRP2,
        "guest_cs_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_SS_AR_BYTES,
        192,
        clean::GUEST_GRP2,
        "guest_ss_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_DS_AR_BYTES,
        196,
        clean::GUEST_GRP2,
        "guest_ds_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_FS_AR_BYTES,
        200,
        clean::GUEST_GRP2,
        "guest_fs_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_GS_AR_BYTES,
        204,
        clean::GUEST_GRP2,
        "guest_gs_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_LDTR_AR_BYTES,
        208,
        clean::GUEST_GRP2,
        "guest_ldtr_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_TR_AR_BYTES,
        212,
        clean::GUEST_GRP2,
        "guest_tr_ar_bytes",
    ),
    EvmcsField::new(
        enc::GUEST_ACTIVITY_STATE,
        504,
        clean::GUEST_GRP1,
        "guest_activity_state",
    ),
    EvmcsField::new(
        enc::GUEST_SYSENTER_CS,
        508,
        clean::GUEST_GRP1,
        "guest_sysenter_cs",
    ),
    // 32 bit read only.
    EvmcsField::new(
        enc::VM_INSTRUCTION_ERROR,
        688,
        clean::NONE,
        "vm_instruction_error",
    ),
    EvmcsField::new(enc::VM_EXIT_REASON, 692, clean::NONE, "vm_exit_reason"),
    EvmcsField::new(
        enc::VM_EXIT_INTR_INFO,
        696,
        clean::NONE,
        "vm_exit_intr_info",
    ),
    EvmcsField::new(
        enc::VM_EXIT_INTR_ERROR_CODE,
        700,
        clean::NONE,
        "vm_exit_intr_error_code",
    ),
    EvmcsField::new(
        enc::IDT_VECTORING_INFO_FIELD,
        704,
        clean::NONE,
        "idt_vectoring_info_field",
    ),
    EvmcsField::new(
        enc::IDT_VECTORING_ERROR_CODE,
        708,
        clean::NONE,
        "idt_vectoring_error_code",
    ),
    EvmcsField::new(
        enc::VM_EXIT_INSTRUCTION_LEN,
        712,
        clean::NONE,
        "vm_exit_instruction_len",
    ),
    EvmcsField::new(
        enc::VMX_INSTRUCTION_INFO,
        716,
        clean::NONE,
        "vmx_instruction_info",
    ),
    // "No mask defined in the spec (not used)".
    EvmcsField::new(
        enc::PAGE_FAULT_ERROR_CODE_MASK,
        376,
        clean::ALL,
        "page_fault_error_code_mask",
    ),
    EvmcsField::new(
        enc::PAGE_FAULT_ERROR_CODE_MATCH,
        380,
        clean::ALL,
        "page_fault_error_code_match",
    ),
    EvmcsField::new(enc::CR3_TARGET_COUNT, 384, clean::ALL, "cr3_target_count"),
    EvmcsField::new(
        enc::VM_EXIT_MSR_STORE_COUNT,
        388,
        clean::ALL,
        "vm_exit_msr_store_count",
    ),
    EvmcsField::new(
        enc::VM_EXIT_MSR_LOAD_COUNT,
        392,
        clean::ALL,
        "vm_exit_msr_load_count",
    ),
    EvmcsField::new(
        enc::VM_ENTRY_MSR_LOAD_COUNT,
        396,
        clean::ALL,
        "vm_entry_msr_load_count",
    ),
    // 16 bit rw.
    EvmcsField::new(
        enc::HOST_ES_SELECTOR,
        8,
        clean::HOST_GRP1,
        "host_es_selector",
    ),
    EvmcsField::new(
        enc::HOST_CS_SELECTOR,
        10,
        clean::HOST_GRP1,
        "host_cs_selector",
    ),
    EvmcsField::new(
        enc::HOST_SS_SELECTOR,
        12,
        clean::HOST_GRP1,
        "host_ss_selector",
    ),
    EvmcsField::new(
        enc::HOST_DS_SELECTOR,
        14,
        clean::HOST_GRP1,
        "host_ds_selector",
    ),
    EvmcsField::new(
        enc::HOST_FS_SELECTOR,
        16,
        clean::HOST_GRP1,
        "host_fs_selector",
    ),
    EvmcsField::new(
        enc::HOST_GS_SELECTOR,
        18,
        clean::HOST_GRP1,
        "host_gs_selector",
    ),
    EvmcsField::new(
        enc::HOST_TR_SELECTOR,
        20,
        clean::HOST_GRP1,
        "host_tr_selector",
    ),
    EvmcsField::new(
        enc::GUEST_ES_SELECTOR,
        128,
        clean::GUEST_GRP2,
        "guest_es_selector",
    ),
    EvmcsField::new(
        enc::GUEST_CS_SELECTOR,
        130,
        clean::GUEST_GRP2,
        "guest_cs_selector",
    ),
    EvmcsField::new(
        enc::GUEST_SS_SELECTOR,
        132,
        clean::GUEST_GRP2,
        "guest_ss_selector",
    ),
    EvmcsField::new(
        enc::GUEST_DS_SELECTOR,
        134,
        clean::GUEST_GRP2,
        "guest_ds_selector",
    ),
    EvmcsField::new(
        enc::GUEST_FS_SELECTOR,
        136,
        clean::GUEST_GRP2,
        "guest_fs_selector",
    ),
    EvmcsField::new(
        enc::GUEST_GS_SELECTOR,
        138,
        clean::GUEST_GRP2,
        "guest_gs_selector",
    ),
    EvmcsField::new(
        enc::GUEST_LDTR_SELECTOR,
        140,
        clean::GUEST_GRP2,
        "guest_ldtr_selector",
    ),
    EvmcsField::new(
        enc::GUEST_TR_SELECTOR,
        142,
        clean::GUEST_GRP2,
        "guest_tr_selector",
    ),
    EvmcsField::new(
        enc::VIRTUAL_PROCESSOR_ID,
        632,
        clean::CONTROL_XLAT,
        "virtual_processor_id",
    ),
];

/// The map entry of encoding `enc`, found as evmcs_field_offset() finds
/// it.  That takes `ROL16(field, 6)`, which casts the field to u16
/// first: bits 63:16 of the register are ignored (unlike vmcs12, where
/// KVM refuses any bit above 14).  Bit 15 and the access type (bit 0)
/// land on holes of the table, so a high-half encoding has no entry.
pub(crate) fn field(enc: u64) -> Option<&'static EvmcsField> {
    // The truncation is KVM's: `(u16)(val)` in ROL16().
    let e = u32::from(enc as u16);
    FIELDS.iter().find(|f| f.enc == e)
}

/// Where encoding `enc` is in the eVMCS, as evmcs_field_offset(): its
/// byte offset and width, or `None` (-ENOENT) for a field the eVMCS
/// lacks.
pub(crate) fn evmcs_place(enc: u64) -> Option<(usize, Width)> {
    field(enc).map(|f| (usize::from(f.offset), f.width()))
}

/// The little-endian value of `width` at `off` in `evmcs`,
/// zero-extended; 0 past the end of the slice.
pub(crate) fn read(evmcs: &[u8], off: usize, width: Width) -> u64 {
    let n = width.bytes();
    let mut b = [0u8; 8];
    if let Some(src) = evmcs.get(off..off + n) {
        b[..n].copy_from_slice(src);
    }
    u64::from_le_bytes(b)
}

/// Stores the low `width` bytes of `value` at `off` in `evmcs`; nothing
/// past the end of the slice.
pub(crate) fn write(evmcs: &mut [u8], off: usize, width: Width, value: u64) {
    let n = width.bytes();
    if let Some(dst) = evmcs.get_mut(off..off + n) {
        dst.copy_from_slice(&value.to_le_bytes()[..n]);
    }
}

/// VMREAD while an eVMCS is current (handle_vmread(): Windows 11 does
/// it although the TLFS forbids it): the field zero-extended, or `None`
/// for VM-instruction error 12.
pub(crate) fn vmread(evmcs: &[u8], enc: u64) -> Option<u64> {
    evmcs_place(enc).map(|(off, w)| read(evmcs, off, w))
}

/// `hv_clean_fields`.
pub(crate) fn clean_fields(evmcs: &[u8]) -> u32 {
    read(evmcs, hdr::CLEAN_FIELDS, Width::U32) as u32
}

/// Sets `hv_clean_fields`.  KVM clears [`clean::ALL`] in it when it maps
/// a new eVMCS and on VMLAUNCH (a single vmcs12 serves every L2, so
/// clean data from another eVMCS means nothing), and sets it at the end
/// of prepare_vmcs02(), because Hyper-V only ever clears bits, when it
/// changes a field.
pub(crate) fn set_clean_fields(evmcs: &mut [u8], value: u32) {
    write(evmcs, hdr::CLEAN_FIELDS, Width::U32, value.into());
}

/// Whether KVM accepts `revision_id`: [`VERSION`], or vmcs12's revision
/// because Hyper-V writes IA32_VMX_BASIC's revision there against its
/// own specification (nested_vmx_handle_enlightened_vmptrld()).
pub(crate) fn revision_ok(revision_id: u32) -> bool {
    revision_id == VERSION || revision_id == vmcs12::REVISION
}

/// The eVMCS address the VP assist page names, as nested_get_evmptr()
/// and evmptr_is_valid(): `None` when `enlighten_vmentry` is 0 or the
/// address is one of KVM's markers, -1 (invalid) and -2 (map pending).
pub(crate) fn current_evmptr(vp_assist: &[u8]) -> Option<u64> {
    if vp_assist
        .get(vp_assist::ENLIGHTEN_VMENTRY)
        .copied()
        .unwrap_or(0)
        == 0
    {
        return None;
    }
    let gpa = read(vp_assist, vp_assist::CURRENT_NESTED_VMCS, Width::U64);
    (gpa != u64::MAX && gpa != u64::MAX - 1).then_some(gpa)
}

/// The fields copy_enlightened_to_vmcs12() copies into vmcs12, with the
/// group whose clean bit skips each, in its order.  Its groups are the
/// field map's.  It copies no field of the map's other twenty: the
/// read-only exit information (group NONE, which only KVM writes) and
/// the nine ALL ones ("Not used?": MSR-list addresses and counts,
/// page-fault error-code mask and match, CR3-target count), so with an
/// eVMCS those stay in vmcs12 as KVM left them, zero from the memset when
/// VMLAUNCH maps a new eVMCS.
pub(crate) const COPY_TO_VMCS12: [(u32, u32); 106] = [
    // Always (HV_VMX_ENLIGHTENED_CLEAN_FIELD_NONE).
    (enc::TPR_THRESHOLD, clean::NONE),
    (enc::GUEST_RIP, clean::NONE),
    // GUEST_BASIC also has guest_ssp, which vmcs12 lacks.
    (enc::GUEST_RSP, clean::GUEST_BASIC),
    (enc::GUEST_RFLAGS, clean::GUEST_BASIC),
    (enc::GUEST_INTERRUPTIBILITY_INFO, clean::GUEST_BASIC),
    (enc::CPU_BASED_VM_EXEC_CONTROL, clean::CONTROL_PROC),
    (enc::EXCEPTION_BITMAP, clean::CONTROL_EXCPN),
    (enc::VM_ENTRY_CONTROLS, clean::CONTROL_ENTRY),
    (enc::VM_ENTRY_INTR_INFO_FIELD, clean::CONTROL_EVENT),
    (enc::VM_ENTRY_EXCEPTION_ERROR_CODE, clean::CONTROL_EVENT),
    (enc::VM_ENTRY_INSTRUCTION_LEN, clean::CONTROL_EVENT),
    // HOST_GRP1 also has host_ia32_s_cet, host_ssp and
    // host_ia32_int_ssp_table_addr, which vmcs12 lacks.
    (enc::HOST_IA32_PAT, clean::HOST_GRP1),
    (enc::HOST_IA32_EFER, clean::HOST_GRP1),
    (enc::HOST_CR0, clean::HOST_GRP1),
    (enc::HOST_CR3, clean::HOST_GRP1),
    (enc::HOST_CR4, clean::HOST_GRP1),
    (enc::HOST_IA32_SYSENTER_ESP, clean::HOST_GRP1),
    (enc::HOST_IA32_SYSENTER_EIP, clean::HOST_GRP1),
    (enc::HOST_RIP, clean::HOST_GRP1),
    (enc::HOST_IA32_SYSENTER_CS, clean::HOST_GRP1),
    (enc::HOST_ES_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_CS_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_SS_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_DS_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_FS_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_GS_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_TR_SELECTOR, clean::HOST_GRP1),
    (enc::HOST_IA32_PERF_GLOBAL_CTRL, clean::HOST_GRP1),
    (enc::PIN_BASED_VM_EXEC_CONTROL, clean::CONTROL_GRP1),
    (enc::VM_EXIT_CONTROLS, clean::CONTROL_GRP1),
    (enc::SECONDARY_VM_EXEC_CONTROL, clean::CONTROL_GRP1),
    (enc::IO_BITMAP_A, clean::IO_BITMAP),
    (enc::IO_BITMAP_B, clean::IO_BITMAP),
    (enc::MSR_BITMAP, clean::MSR_BITMAP),
    (enc::GUEST_ES_BASE, clean::GUEST_GRP2),
    (enc::GUEST_CS_BASE, clean::GUEST_GRP2),
    (enc::GUEST_SS_BASE, clean::GUEST_GRP2),
    (enc::GUEST_DS_BASE, clean::GUEST_GRP2),
    (enc::GUEST_FS_BASE, clean::GUEST_GRP2),
    (enc::GUEST_GS_BASE, clean::GUEST_GRP2),
    (enc::GUEST_LDTR_BASE, clean::GUEST_GRP2),
    (enc::GUEST_TR_BASE, clean::GUEST_GRP2),
    (enc::GUEST_GDTR_BASE, clean::GUEST_GRP2),
    (enc::GUEST_IDTR_BASE, clean::GUEST_GRP2),
    (enc::GUEST_ES_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_CS_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_SS_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_DS_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_FS_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_GS_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_LDTR_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_TR_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_GDTR_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_IDTR_LIMIT, clean::GUEST_GRP2),
    (enc::GUEST_ES_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_CS_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_SS_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_DS_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_FS_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_GS_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_LDTR_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_TR_AR_BYTES, clean::GUEST_GRP2),
    (enc::GUEST_ES_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_CS_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_SS_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_DS_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_FS_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_GS_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_LDTR_SELECTOR, clean::GUEST_GRP2),
    (enc::GUEST_TR_SELECTOR, clean::GUEST_GRP2),
    (enc::TSC_OFFSET, clean::CONTROL_GRP2),
    (enc::VIRTUAL_APIC_PAGE_ADDR, clean::CONTROL_GRP2),
    (enc::XSS_EXIT_BITMAP, clean::CONTROL_GRP2),
    (enc::ENCLS_EXITING_BITMAP, clean::CONTROL_GRP2),
    (enc::TSC_MULTIPLIER, clean::CONTROL_GRP2),
    (enc::CR0_GUEST_HOST_MASK, clean::CRDR),
    (enc::CR4_GUEST_HOST_MASK, clean::CRDR),
    (enc::CR0_READ_SHADOW, clean::CRDR),
    (enc::CR4_READ_SHADOW, clean::CRDR),
    (enc::GUEST_CR0, clean::CRDR),
    (enc::GUEST_CR3, clean::CRDR),
    (enc::GUEST_CR4, clean::CRDR),
    (enc::GUEST_DR7, clean::CRDR),
    (enc::HOST_FS_BASE, clean::HOST_POINTER),
    (enc::HOST_GS_BASE, clean::HOST_POINTER),
    (enc::HOST_TR_BASE, clean::HOST_POINTER),
    (enc::HOST_GDTR_BASE, clean::HOST_POINTER),
    (enc::HOST_IDTR_BASE, clean::HOST_POINTER),
    (enc::HOST_RSP, clean::HOST_POINTER),
    (enc::EPT_POINTER, clean::CONTROL_XLAT),
    (enc::VIRTUAL_PROCESSOR_ID, clean::CONTROL_XLAT),
    // GUEST_GRP1 also has guest_ia32_s_cet, guest_ia32_lbr_ctl and
    // guest_ia32_int_ssp_table_addr, which vmcs12 lacks.
    (enc::VMCS_LINK_POINTER, clean::GUEST_GRP1),
    (enc::GUEST_IA32_DEBUGCTL, clean::GUEST_GRP1),
    (enc::GUEST_IA32_PAT, clean::GUEST_GRP1),
    (enc::GUEST_IA32_EFER, clean::GUEST_GRP1),
    (enc::GUEST_PDPTR0, clean::GUEST_GRP1),
    (enc::GUEST_PDPTR1, clean::GUEST_GRP1),
    (enc::GUEST_PDPTR2, clean::GUEST_GRP1),
    (enc::GUEST_PDPTR3, clean::GUEST_GRP1),
    (enc::GUEST_PENDING_DBG_EXCEPTIONS, clean::GUEST_GRP1),
    (enc::GUEST_SYSENTER_ESP, clean::GUEST_GRP1),
    (enc::GUEST_SYSENTER_EIP, clean::GUEST_GRP1),
    (enc::GUEST_BNDCFGS, clean::GUEST_GRP1),
    (enc::GUEST_ACTIVITY_STATE, clean::GUEST_GRP1),
    (enc::GUEST_SYSENTER_CS, clean::GUEST_GRP1),
    (enc::GUEST_IA32_PERF_GLOBAL_CTRL, clean::GUEST_GRP1),
];

/// The fields copy_vmcs12_to_enlightened() writes back on VM exit, in
/// its order, all unconditionally: guest state and exit information,
/// plus the primary processor-based and VM-entry controls and the
/// event-injection fields (VM exit clears the valid bit of the latter
/// and stores the IA-32e mode guest control).  It leaves out the host
/// state and the other controls ("Should not be changed by KVM"), and
/// the guest VMCS link pointer, IA32_DEBUGCTL and IA32_PERF_GLOBAL_CTRL
/// ("sync_vmcs02_to_vmcs12() doesn't read these").
pub(crate) const COPY_FROM_VMCS12: [u32; 72] = [
    enc::GUEST_ES_SELECTOR,
    enc::GUEST_CS_SELECTOR,
    enc::GUEST_SS_SELECTOR,
    enc::GUEST_DS_SELECTOR,
    enc::GUEST_FS_SELECTOR,
    enc::GUEST_GS_SELECTOR,
    enc::GUEST_LDTR_SELECTOR,
    enc::GUEST_TR_SELECTOR,
    enc::GUEST_ES_LIMIT,
    enc::GUEST_CS_LIMIT,
    enc::GUEST_SS_LIMIT,
    enc::GUEST_DS_LIMIT,
    enc::GUEST_FS_LIMIT,
    enc::GUEST_GS_LIMIT,
    enc::GUEST_LDTR_LIMIT,
    enc::GUEST_TR_LIMIT,
    enc::GUEST_GDTR_LIMIT,
    enc::GUEST_IDTR_LIMIT,
    enc::GUEST_ES_AR_BYTES,
    enc::GUEST_CS_AR_BYTES,
    enc::GUEST_SS_AR_BYTES,
    enc::GUEST_DS_AR_BYTES,
    enc::GUEST_FS_AR_BYTES,
    enc::GUEST_GS_AR_BYTES,
    enc::GUEST_LDTR_AR_BYTES,
    enc::GUEST_TR_AR_BYTES,
    enc::GUEST_ES_BASE,
    enc::GUEST_CS_BASE,
    enc::GUEST_SS_BASE,
    enc::GUEST_DS_BASE,
    enc::GUEST_FS_BASE,
    enc::GUEST_GS_BASE,
    enc::GUEST_LDTR_BASE,
    enc::GUEST_TR_BASE,
    enc::GUEST_GDTR_BASE,
    enc::GUEST_IDTR_BASE,
    enc::GUEST_IA32_PAT,
    enc::GUEST_IA32_EFER,
    enc::GUEST_PDPTR0,
    enc::GUEST_PDPTR1,
    enc::GUEST_PDPTR2,
    enc::GUEST_PDPTR3,
    enc::GUEST_PENDING_DBG_EXCEPTIONS,
    enc::GUEST_SYSENTER_ESP,
    enc::GUEST_SYSENTER_EIP,
    enc::GUEST_ACTIVITY_STATE,
    enc::GUEST_SYSENTER_CS,
    enc::GUEST_CR0,
    enc::GUEST_CR3,
    enc::GUEST_CR4,
    enc::GUEST_DR7,
    enc::GUEST_PHYSICAL_ADDRESS,
    enc::VM_INSTRUCTION_ERROR,
    enc::VM_EXIT_REASON,
    enc::VM_EXIT_INTR_INFO,
    enc::VM_EXIT_INTR_ERROR_CODE,
    enc::IDT_VECTORING_INFO_FIELD,
    enc::IDT_VECTORING_ERROR_CODE,
    enc::VM_EXIT_INSTRUCTION_LEN,
    enc::VMX_INSTRUCTION_INFO,
    enc::EXIT_QUALIFICATION,
    enc::GUEST_LINEAR_ADDRESS,
    enc::GUEST_RSP,
    enc::GUEST_RFLAGS,
    enc::GUEST_INTERRUPTIBILITY_INFO,
    enc::CPU_BASED_VM_EXEC_CONTROL,
    enc::VM_ENTRY_CONTROLS,
    enc::VM_ENTRY_INTR_INFO_FIELD,
    enc::VM_ENTRY_EXCEPTION_ERROR_CODE,
    enc::VM_ENTRY_INSTRUCTION_LEN,
    enc::GUEST_RIP,
    enc::GUEST_BNDCFGS,
];

/// copy_enlightened_to_vmcs12(): copies the fields of
/// [`COPY_TO_VMCS12`] from `evmcs` into `v`, each when its group is
/// dirty in `clean` (bit 0), the NONE ones always.  KVM passes the
/// eVMCS's `hv_clean_fields` on VMLAUNCH/VMRESUME and 0, a full copy,
/// when saving nested state outside guest mode.  The Hyper-V words this
/// function also reads are [`nested_ids`], and its MSR-bitmap decision
/// is [`msr_bitmap_recalc`].
pub(crate) fn copy_to_vmcs12(evmcs: &[u8], clean: u32, v: &mut Vmcs12) {
    for &(e, group) in COPY_TO_VMCS12.iter() {
        if clean & group != 0 {
            continue;
        }
        if let Some((off, w)) = evmcs_place(e.into()) {
            v.set_field(e, read(evmcs, off, w));
        }
    }
}

/// copy_vmcs12_to_enlightened(): writes the fields of
/// [`COPY_FROM_VMCS12`] from `v` into `evmcs`.  It leaves
/// `hv_clean_fields` alone, as KVM does.
pub(crate) fn copy_from_vmcs12(v: &Vmcs12, evmcs: &mut [u8]) {
    for &e in COPY_FROM_VMCS12.iter() {
        if let Some((off, w)) = evmcs_place(e.into()) {
            write(evmcs, off, w, v.field(e));
        }
    }
}

/// The L2 identifiers copy_enlightened_to_vmcs12() hands to KVM's
/// Hyper-V emulation (`hv_vcpu->nested`) for L2 TLB-flush hypercalls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NestedIds {
    /// `partition_assist_page`.
    pub(crate) partition_assist_page: u64,
    /// `hv_vm_id`.
    pub(crate) vm_id: u64,
    /// `hv_vp_id`.
    pub(crate) vp_id: u32,
}

/// The L2 identifiers, when the ENLIGHTENMENTSCONTROL group is dirty in
/// `clean`; `None` when KVM keeps the ones it has.
pub(crate) fn nested_ids(evmcs: &[u8], clean: u32) -> Option<NestedIds> {
    (clean & clean::ENLIGHTENMENTSCONTROL == 0).then(|| NestedIds {
        partition_assist_page: read(evmcs, hdr::PARTITION_ASSIST_PAGE, Width::U64),
        vm_id: read(evmcs, hdr::VM_ID, Width::U64),
        vp_id: read(evmcs, hdr::VP_ID, Width::U32) as u32,
    })
}

/// Whether copy_enlightened_to_vmcs12() forces the merged MSR bitmap to
/// be recomputed: when any of the groups holding the controls that
/// decide MSR interception (CONTROL_GRP1, CONTROL_GRP2, CONTROL_PROC) is
/// dirty.
pub(crate) fn msr_bitmap_recalc(clean: u32) -> bool {
    let runtime = clean::CONTROL_GRP1 | clean::CONTROL_GRP2 | clean::CONTROL_PROC;
    clean & runtime != runtime
}

/// Whether L1 promises its MSR bitmap is unchanged, so that
/// nested_vmx_prepare_msr_bitmap() may keep the merged one when nothing
/// else forces a recalculation: the enlightened MSR bitmap is on and
/// the MSR_BITMAP group is clean.
pub(crate) fn msr_bitmap_unchanged(evmcs: &[u8]) -> bool {
    let ctl = read(evmcs, hdr::ENLIGHTENMENTS_CONTROL, Width::U32) as u32;
    ctl & enlightenments::MSR_BITMAP != 0 && clean_fields(evmcs) & clean::MSR_BITMAP != 0
}

/// The controls eVMCS v1 can express, `EVMCS1_SUPPORTED_*`
/// (hyperv_evmcs.h): a control whose fields the eVMCS lacks cannot be
/// used.
pub(crate) mod supported {
    use super::{entry, exit, pin, proc, proc2};

    /// `EVMCS1_SUPPORTED_PINCTRL`: no preemption timer, no posted
    /// interrupts.
    pub(crate) const PINCTRL: u32 =
        pin::DEFAULT1 | pin::EXT_INTR | pin::NMI_EXITING | pin::VIRTUAL_NMIS;

    /// `EVMCS1_SUPPORTED_EXEC_CTRL`: all but the tertiary controls.
    pub(crate) const EXEC_CTRL: u32 = proc::DEFAULT1
        | proc::HLT
        | proc::CR3_LOAD
        | proc::CR3_STORE
        | proc::UNCOND_IO
        | proc::MOV_DR
        | proc::TSC_OFFSETTING
        | proc::MWAIT
        | proc::MONITOR
        | proc::INVLPG
        | proc::RDPMC
        | proc::INTR_WINDOW
        | proc::CR8_LOAD
        | proc::CR8_STORE
        | proc::RDTSC
        | proc::TPR_SHADOW
        | proc::IO_BITMAPS
        | proc::MTF
        | proc::MSR_BITMAPS
        | proc::NMI_WINDOW
        | proc::PAUSE
        | proc::SECONDARY;

    /// `EVMCS1_SUPPORTED_2NDEXEC`: no APIC virtualization, PML, VM
    /// functions, shadow VMCS, PAUSE-loop exiting, #VE or MBEC.
    pub(crate) const SECONDARY: u32 = proc2::VIRT_X2APIC
        | proc2::WBINVD
        | proc2::VPID
        | proc2::EPT
        | proc2::UNRESTRICTED_GUEST
        | proc2::DESC
        | proc2::RDTSCP
        | proc2::INVPCID
        | proc2::XSAVES
        | proc2::RDSEED
        | proc2::RDRAND
        | proc2::TSC_SCALING
        | proc2::USR_WAIT_PAUSE
        | proc2::PT_USE_GPA
        | proc2::PT_CONCEAL_VMX
        | proc2::BUS_LOCK
        | proc2::NOTIFY
        | proc2::ENCLS;

    /// `EVMCS1_SUPPORTED_3RDEXEC`: none.
    pub(crate) const TERTIARY: u64 = 0;

    /// `EVMCS1_SUPPORTED_VMEXIT_CTRL`: no preemption-timer save.
    pub(crate) const VMEXIT_CTRL: u32 = exit::DEFAULT1
        | exit::SAVE_DEBUG_CONTROLS
        | exit::ACK_INTR_ON_EXIT
        | exit::HOST_ADDR_SPACE_SIZE
        | exit::LOAD_PERF_GLOBAL_CTRL
        | exit::SAVE_PAT
        | exit::LOAD_PAT
        | exit::SAVE_EFER
        | exit::LOAD_EFER
        | exit::CLEAR_BNDCFGS
        | exit::PT_CONCEAL_PIP
        | exit::CLEAR_RTIT_CTL;

    /// `EVMCS1_SUPPORTED_VMENTRY_CTRL`: no SMM controls.
    pub(crate) const VMENTRY_CTRL: u32 = entry::DEFAULT1
        | entry::LOAD_DEBUG_CONTROLS
        | entry::IA32E_MODE
        | entry::LOAD_PERF_GLOBAL_CTRL
        | entry::LOAD_PAT
        | entry::LOAD_EFER
        | entry::LOAD_BNDCFGS
        | entry::PT_CONCEAL_PIP
        | entry::LOAD_RTIT_CTL;

    /// `EVMCS1_SUPPORTED_VMFUNC`: none.
    pub(crate) const VMFUNC: u64 = 0;

    /// The secondary controls KVM's checks and MSR filter use
    /// (`evmcs_supported_ctrls[EVMCS_2NDEXEC]`, hyperv.c): SECONDARY
    /// without TSC scaling, though the eVMCS has the multiplier.
    pub(crate) const SECONDARY_KVM: u32 = SECONDARY & !proc2::TSC_SCALING;
}

/// nested_evmcs_check_controls() (hyperv.c), run on VM entry with an
/// eVMCS: every control set in vmcs12 must be one eVMCS v1 supports; a
/// failure is a VM-entry failure on invalid control fields.  KVM also
/// WARNs when VM-function controls have bits 63:32 set and fails.
pub(crate) fn check_controls(v: &Vmcs12) -> bool {
    let ok = |e: u32, allowed: u64| v.field(e) & !allowed == 0;
    ok(enc::PIN_BASED_VM_EXEC_CONTROL, supported::PINCTRL.into())
        && ok(enc::CPU_BASED_VM_EXEC_CONTROL, supported::EXEC_CTRL.into())
        && ok(
            enc::SECONDARY_VM_EXEC_CONTROL,
            supported::SECONDARY_KVM.into(),
        )
        && ok(enc::VM_EXIT_CONTROLS, supported::VMEXIT_CTRL.into())
        && ok(enc::VM_ENTRY_CONTROLS, supported::VMENTRY_CTRL.into())
        && ok(enc::VM_FUNCTION_CONTROL, supported::VMFUNC)
}
