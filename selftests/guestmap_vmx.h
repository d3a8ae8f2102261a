/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the nested VMX tests and vmx_bench share: KVM's vmcs12 revision,
 * the field encodings they use (Intel SDM vol. 3C appendix B), the
 * controls of a vmcs12 that enters with KVM's capability MSRs, and
 * little-endian accesses of guest structures in user memory.
 */
#ifndef _GUESTMAP_VMX_H
#define _GUESTMAP_VMX_H

#include <stdint.h>
#include <string.h>

/* VMCS12_REVISION, arch/x86/kvm/vmx/vmcs12.h. */
#define VMCS12_REVISION	0x11e57ed0U

/* Field encodings, SDM vol. 3C appendix B. */
#define F_POSTED_INTR_NV	0x0002
#define F_GUEST_ES_SELECTOR	0x0800
#define F_GUEST_PML_INDEX	0x0812
#define F_HOST_ES_SELECTOR	0x0c00
#define F_HOST_CS_SELECTOR	0x0c02
#define F_HOST_SS_SELECTOR	0x0c04
#define F_HOST_DS_SELECTOR	0x0c06
#define F_HOST_TR_SELECTOR	0x0c0c
#define F_MSR_BITMAP	0x2004
#define F_MSR_BITMAP_HIGH	0x2005
#define F_VM_ENTRY_MSR_LOAD_ADDR	0x200a
#define F_PML_ADDRESS	0x200e
#define F_VIRTUAL_APIC_PAGE	0x2012
#define F_APIC_ACCESS_ADDR	0x2014
#define F_POSTED_INTR_DESC	0x2016
#define F_EPT_POINTER	0x201a
#define F_VMREAD_BITMAP	0x2026
#define F_VMWRITE_BITMAP	0x2028
#define F_VMCS_LINK_POINTER	0x2800
#define F_PIN_BASED	0x4000
#define F_CPU_BASED	0x4002
#define F_EXIT_CONTROLS	0x400c
#define F_ENTRY_CONTROLS	0x4012
#define F_ENTRY_MSR_LOAD_COUNT	0x4014
#define F_ENTRY_INTR_INFO	0x4016
#define F_TPR_THRESHOLD	0x401c
#define F_SECONDARY	0x401e
#define F_VM_INSTRUCTION_ERROR	0x4400
#define F_VM_EXIT_REASON	0x4402
#define F_EXIT_INTR_INFO	0x4404
#define F_GUEST_ES_AR_BYTES	0x4814
#define F_EXIT_QUALIFICATION	0x6400
#define F_GUEST_CR0	0x6800
#define F_GUEST_CR3	0x6802
#define F_GUEST_CR4	0x6804
#define F_GUEST_DR7	0x681a
#define F_GUEST_RIP	0x681e
#define F_GUEST_RFLAGS	0x6820
#define F_HOST_CR0	0x6c00
#define F_HOST_CR3	0x6c02
#define F_HOST_CR4	0x6c04
#define F_HOST_RSP	0x6c14
#define F_HOST_RIP	0x6c16

/*
 * Controls: KVM's must-be-one bits (the TRUE_ capability MSRs' allowed-0
 * words: pin 16h, proc 0401E172h, exit 00036DFFh with bit 2, entry
 * 000011FFh) and what each test needs.  SDM vol. 3C tables 25-5 to
 * 25-7, 25-16, 25-18.
 */
#define PIN_EXT_INTR		(1U << 0)
#define PIN_POSTED		(1U << 7)
#define PROC_CR8_LOAD		(1U << 19)
#define PROC_CR8_STORE		(1U << 20)
#define PROC_TPR_SHADOW		(1U << 21)
#define PROC_MSR_BITMAPS	(1U << 28)
#define PROC_SECONDARY		(1U << 31)
#define P2_APIC_ACCESSES	(1U << 0)
#define P2_EPT			(1U << 1)
#define P2_VID			(1U << 9)
#define P2_SHADOW_VMCS		(1U << 14)
#define P2_PML			(1U << 17)
#define EXIT_HOST_64		(1U << 9)
#define EXIT_ACK_INTR		(1U << 15)
#define ENTRY_IA32E		(1U << 9)

#define PIN_DEFAULT	(0x16U | PIN_EXT_INTR | PIN_POSTED)
#define PROC_DEFAULT	(0x0401e172U | PROC_TPR_SHADOW | PROC_MSR_BITMAPS | PROC_SECONDARY)
#define P2_DEFAULT	(P2_APIC_ACCESSES | P2_EPT | P2_VID | P2_PML)
#define EXIT_DEFAULT	(0x36dffU | EXIT_HOST_64 | EXIT_ACK_INTR)
#define ENTRY_DEFAULT	(0x11ffU | ENTRY_IA32E)

/* EPTP: write-back (6), 4-level walk (3 << 3), SDM 25.6.11. */
#define EPTP		(0x5000ULL | 6 | (3 << 3))

static inline uint32_t u32_at(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t u64_at(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_u64(char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

#endif /* _GUESTMAP_VMX_H */
