/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the nested SVM selftests share: VMCB offsets and bits (AMD APM
 * vol. 2, appendix B, and 3.1), byte access to a VMCB in memory, a
 * VMCB12 that passes every VMRUN check, and the nested vCPU's creation.
 */
#ifndef _GUESTMAP_SVM_H
#define _GUESTMAP_SVM_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/guestmap.h>

#include "guestmap_util.h"

/* VMCB offsets, AMD APM vol. 2 appendix B. */
#define VMCB_INTERCEPT_WORD3	0x00c
#define VMCB_INTERCEPT_WORD4	0x010
#define VMCB_IOPM_BASE		0x040
#define VMCB_MSRPM_BASE		0x048
#define VMCB_ASID		0x058
#define VMCB_EXIT_CODE		0x070
#define VMCB_EXIT_INFO_1	0x078
#define VMCB_EXIT_INFO_2	0x080
#define VMCB_EXIT_INT_INFO	0x088
#define VMCB_EVENT_INJ		0x0a8
#define VMCB_CS_ATTRIB		0x412
#define VMCB_EFER		0x4d0
#define VMCB_CR4		0x548
#define VMCB_CR3		0x550
#define VMCB_CR0		0x558
#define VMCB_DR7		0x560
#define VMCB_DR6		0x568
#define VMCB_RFLAGS		0x570
#define VMCB_RIP		0x578

#define WORD3_MSR_PROT		(1U << 28)
#define WORD3_IOIO_PROT		(1U << 27)
#define WORD4_VMRUN		(1U << 0)

#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NX		(1ULL << 11)
#define EFER_SVME	(1ULL << 12)
#define CR0_PE		(1ULL << 0)
#define CR0_NW		(1ULL << 29)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define SEG_L		(1U << 9)

static inline void put64(char *p, unsigned long off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

static inline uint64_t get64(const char *p, unsigned long off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static inline void put32(char *p, unsigned long off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

/*
 * A VMCB12 at @v that passes every check of a MAXPHYADDR-48 model: 64-bit
 * L2 (EFER.LME|LMA|SVME|NX, CR0.PG|PE, CR4.PAE, CS.L), VMRUN intercepted,
 * ASID 1, its MSR and I/O maps at @msrpm and @iopm.
 */
static inline void svm_good_vmcb(char *v, uint64_t msrpm, uint64_t iopm)
{
	memset(v, 0, PAGE);
	put32(v, VMCB_INTERCEPT_WORD4, WORD4_VMRUN);
	put32(v, VMCB_ASID, 1);
	put64(v, VMCB_MSRPM_BASE, msrpm);
	put64(v, VMCB_IOPM_BASE, iopm);
	put64(v, VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA | EFER_NX);
	put64(v, VMCB_CR0, CR0_PG | CR0_PE);
	put64(v, VMCB_CR4, CR4_PAE);
	put64(v, VMCB_CR3, 0x5000);
	put64(v, VMCB_DR6, 0xffff0ff0);
	put64(v, VMCB_DR7, 0x400);
	put64(v, VMCB_RIP, 0x1234);
	memcpy(v + VMCB_CS_ATTRIB, &(uint16_t){ SEG_L | 0x9b }, 2);
}

/*
 * Nested vCPU @id: an AMD CPU with long mode, NX and SVM, MAXPHYADDR
 * @maxphy, and none of the CR4 features of leaves 1 and 7; 0 or errno.
 */
static inline int create_vcpu(int fd, uint32_t id, uint32_t maxphy)
{
	struct guestmap_cpuid_entry e[] = {
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000001, .ecx = 1U << 2,
		  .edx = (1U << 20) | (1U << 29) },
		{ .function = 0x80000008, .eax = maxphy },
	};
	struct guestmap_svm_vcpu v = {
		.vcpu = id, .nent = 3, .entries = (uintptr_t)e,
	};

	return ioctl(fd, GUESTMAP_SVM_CREATE_VCPU, &v) ? errno : 0;
}

/* nent 0 destroys vCPU @id (the UAPI); 0 or errno. */
static inline int destroy_vcpu(int fd, uint32_t id)
{
	struct guestmap_svm_vcpu v = { .vcpu = id };

	return ioctl(fd, GUESTMAP_SVM_CREATE_VCPU, &v) ? errno : 0;
}

#endif /* _GUESTMAP_SVM_H */
