// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap nested SVM selftests: the commands' contract (errnos, vCPU
 * lifetimes, guest mode), VMRUN's copy of VMCB12, the #VMEXIT write-back,
 * the MSR map merge, and VMCB12 on every kind of memory, across memslot
 * deletion, re-creation and munmap.
 *
 * Which rule a VMCB12 breaks, and the answer VMRUN must give, are from
 * the AMD APM (vol. 2, 15.5.1) and KVM 6.12 (arch/x86/kvm/svm/nested.c),
 * cited per test; svm_diff_test checks the same rules against KVM itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"
#include "guestmap_svm.h"

#define MSR_FS_BASE	0xc0000100
#define MSR_STAR	0xc0000081

/* Guest memory: 16 pages at GPA; VMCB12, MSRPM (2 pages), IOPM (3). */
#define GPA		0x100000ULL
#define NPAGES		16
#define VMCB_OFF	0
#define MSRPM_OFF	(2 * PAGE)
#define IOPM_OFF	(4 * PAGE)
#define HSAVE		0x200000ULL

#define UD	6
#define GP	13

static int set_slot(int fd, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *uaddr, uint32_t flags)
{
	struct guestmap_memslot m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)uaddr,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

/* L1 in long mode at CPL 0 with EFER.SVME and an HSAVE area. */
static int set_l1(int fd, uint32_t id, uint64_t efer, uint64_t hsave)
{
	struct guestmap_svm_l1 l1 = {
		.vcpu = id, .efer = efer, .cr0 = CR0_PG | CR0_PE,
		.hsave_pa = hsave,
	};

	return ioctl(fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0;
}

static int vmrun(int fd, uint32_t id, uint64_t gpa, uint32_t flags,
		 struct guestmap_svm_vmrun *r)
{
	memset(r, 0, sizeof(*r));
	r->vcpu = id;
	r->flags = flags;
	r->vmcb12_gpa = gpa;
	r->result = r->vector = r->check = 0xdead;
	return ioctl(fd, GUESTMAP_SVM_VMRUN, r) ? errno : 0;
}

static int vmexit(int fd, uint32_t id, uint64_t code)
{
	struct guestmap_svm_vmexit x = {
		.vcpu = id, .exit_code = code, .exit_info_1 = 0x1111,
		.exit_info_2 = 0x2222, .exit_int_info = 0x3333,
	};

	return ioctl(fd, GUESTMAP_SVM_VMEXIT, &x) ? errno : 0;
}

static int intercept(int fd, uint32_t id, uint32_t op, uint32_t index,
		     uint32_t size, uint32_t *exits)
{
	struct guestmap_svm_intercept q = {
		.vcpu = id, .op = op, .index = index, .size = size,
		.exits = 0xdead,
	};
	int ret = ioctl(fd, GUESTMAP_SVM_INTERCEPT, &q) ? errno : 0;

	*exits = q.exits;
	return ret;
}

/* A VMCB12 that passes every check, its maps at GPA + MSRPM_OFF, IOPM_OFF. */
static void good_vmcb(char *v)
{
	svm_good_vmcb(v, GPA + MSRPM_OFF, GPA + IOPM_OFF);
}

FIXTURE(svm) {
	int fd;
	char *mem;
};

FIXTURE_SETUP(svm)
{
	struct guestmap_api_version ver;

	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &ver));
	ASSERT_TRUE(ver.caps & GUESTMAP_CAP_NESTED_SVM);
	self->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	good_vmcb(self->mem + VMCB_OFF);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem, 0));
	ASSERT_EQ(0, create_vcpu(self->fd, 0, 48));
	ASSERT_EQ(0, set_l1(self->fd, 0, EFER_SVME | EFER_LME | EFER_LMA, HSAVE));
}

FIXTURE_TEARDOWN(svm)
{
	close(self->fd);
	munmap(self->mem, NPAGES * PAGE);
}

TEST_F(svm, vcpu_ids_and_lifetimes)
{
	struct guestmap_cpuid_entry e[GUESTMAP_CPUID_MAX + 1] = {};
	struct guestmap_svm_vcpu v = { .vcpu = 1, .nent = GUESTMAP_CPUID_MAX + 1,
				       .entries = (uintptr_t)e };
	struct guestmap_svm_vmrun r;

	EXPECT_EQ(EEXIST, create_vcpu(self->fd, 0, 48));
	EXPECT_EQ(EINVAL, create_vcpu(self->fd, GUESTMAP_MAX_VCPUS, 48));
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_CREATE_VCPU, &v) ? errno : 0);
	v.nent = 2;
	v.entries = 8;
	EXPECT_EQ(EFAULT, ioctl(self->fd, GUESTMAP_SVM_CREATE_VCPU, &v) ? errno : 0);
	/* MAXPHYADDR is at most 52 bits (APM vol. 2, 5.3.1). */
	EXPECT_EQ(EINVAL, create_vcpu(self->fd, 1, 53));
	EXPECT_EQ(EINVAL, destroy_vcpu(self->fd, 1));
	EXPECT_EQ(ENOENT, set_l1(self->fd, 1, EFER_SVME, HSAVE));
	EXPECT_EQ(0, create_vcpu(self->fd, GUESTMAP_MAX_VCPUS - 1, 36));
	EXPECT_EQ(0, destroy_vcpu(self->fd, GUESTMAP_MAX_VCPUS - 1));
	EXPECT_EQ(0, create_vcpu(self->fd, GUESTMAP_MAX_VCPUS - 1, 36));
	/* A new vCPU's L1 has EFER.SVME clear: VMRUN is #UD. */
	ASSERT_EQ(0, vmrun(self->fd, GUESTMAP_MAX_VCPUS - 1, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_EXCEPTION, r.result);
	EXPECT_EQ(UD, r.vector);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_L1_SVME, r.check);
}

/* What L1 could not have set is refused, as KVM's WRMSR/MOV #GP. */
TEST_F(svm, impossible_l1_state_is_einval)
{
	struct guestmap_svm_l1 l1 = { .vcpu = 0, .efer = EFER_SVME,
				      .cr0 = CR0_PG | CR0_PE, .hsave_pa = HSAVE };

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1));
	l1.cr0 = 1ULL << 32;
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.cr0 = CR0_PG;			/* paging without protection */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.cr0 = CR0_PE | CR0_NW;		/* NW without CD */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.cr0 = CR0_PG | CR0_PE;
	l1.hsave_pa = HSAVE + 8;		/* not page aligned */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.hsave_pa = 1ULL << 48;		/* beyond MAXPHYADDR */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.hsave_pa = HSAVE;
	l1.efer = 1ULL << 9;			/* reserved */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.efer = EFER_SVME;
	l1.cpl = 4;
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	l1.cpl = 0;
	l1.flags = 2;
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
}

TEST_F(svm, vmrun_bad_arguments)
{
	struct guestmap_svm_vmrun r;

	EXPECT_EQ(EINVAL, vmrun(self->fd, 0, GPA + 8, 0, &r));
	EXPECT_EQ(EINVAL, vmrun(self->fd, 0, GPA, 2, &r));
	EXPECT_EQ(EINVAL, vmrun(self->fd, GUESTMAP_MAX_VCPUS, GPA, 0, &r));
	EXPECT_EQ(ENOENT, vmrun(self->fd, 1, GPA, 0, &r));
	/* In no slot: KVM injects #GP; here it is an errno. */
	EXPECT_EQ(ENOENT, vmrun(self->fd, 0, GPA + NPAGES * PAGE, 0, &r));
	EXPECT_EQ(ENOENT, vmrun(self->fd, 0, 0, 0, &r));
}

/*
 * The L1 checks come first, in KVM's order (nested_svm_check_permissions,
 * then nested_svm_vmrun): they fault in L1 whatever VMCB12 holds, and
 * need no VMCB12 at all.
 */
TEST_F(svm, l1_permission_checks)
{
	struct guestmap_svm_l1 l1 = { .vcpu = 0, .efer = EFER_SVME,
				      .cr0 = CR0_PE, .hsave_pa = HSAVE };
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1));
	ASSERT_EQ(0, vmrun(self->fd, 0, 0x7000000000ULL, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_EXCEPTION, r.result);
	EXPECT_EQ(UD, r.vector);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_L1_PAGING, r.check);
	l1.cr0 = CR0_PG | CR0_PE;
	l1.cpl = 3;
	l1.hsave_pa = 0;
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GP, r.vector);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_L1_CPL, r.check);
	l1.cpl = 0;
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GP, r.vector);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_HSAVE, r.check);
	l1.hsave_pa = HSAVE;
	l1.flags = GUESTMAP_SVM_L1_SMM;
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(UD, r.vector);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_SMM, r.check);
}

/*
 * VMEXIT_INVALID is written into VMCB12 as nested_svm_vmrun() writes it:
 * exit_code and exit_code_hi -1, exit_info_1 and _2 and event_inj 0.
 */
TEST_F(svm, vmexit_invalid_is_written_to_vmcb12)
{
	char *v = self->mem + VMCB_OFF;
	struct guestmap_svm_vmrun r;

	put64(v, VMCB_CR0, CR0_PG | CR0_PE | CR0_NW);	/* NW without CD */
	put64(v, VMCB_EXIT_INFO_1, 77);
	put64(v, VMCB_EVENT_INJ, 0x80000e0e);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_CR0_NW, r.check);
	EXPECT_EQ(~0ULL, get64(v, VMCB_EXIT_CODE));
	EXPECT_EQ(0, get64(v, VMCB_EXIT_INFO_1));
	EXPECT_EQ(0, get64(v, VMCB_EXIT_INFO_2));
	EXPECT_EQ(0, get64(v, VMCB_EVENT_INJ));
	/* Not in guest mode: no exit to write, no query to answer. */
	EXPECT_EQ(EINVAL, vmexit(self->fd, 0, 0x81));
	/* The save area is left as it was. */
	EXPECT_EQ(CR0_PG | CR0_PE | CR0_NW, get64(v, VMCB_CR0));
}

/*
 * VMRUN judges its copy: once it entered, L1 changing VMCB12 changes
 * nothing until the next VMRUN, and #VMEXIT writes L2's state back.
 */
TEST_F(svm, vmrun_judges_and_keeps_its_copy)
{
	char *v = self->mem + VMCB_OFF;
	struct guestmap_svm_vmrun r;
	struct guestmap_svm_l1 l1 = { .vcpu = 0, .efer = EFER_SVME,
				      .cr0 = CR0_PG | CR0_PE, .hsave_pa = HSAVE };
	uint32_t exits;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	EXPECT_EQ(0, r.check);
	/* Guest mode: no second VMRUN, no change to L1. */
	EXPECT_EQ(EBUSY, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(EBUSY, ioctl(self->fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0);
	/* L1 scribbles over VMCB12 while L2 runs. */
	put64(v, VMCB_CR0, 0xdeadbeef00000000ULL);
	put64(v, VMCB_RIP, 0x9999);
	put32(v, VMCB_INTERCEPT_WORD3, WORD3_MSR_PROT);
	/* The copy did not intercept MSRs: L1 sees no RDMSR exit. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_STAR, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));	/* VMMCALL */
	EXPECT_EQ(0x81, get64(v, VMCB_EXIT_CODE));
	EXPECT_EQ(0x1111, get64(v, VMCB_EXIT_INFO_1));
	EXPECT_EQ(0x2222, get64(v, VMCB_EXIT_INFO_2));
	EXPECT_EQ(0x3333, get64(v, VMCB_EXIT_INT_INFO));
	EXPECT_EQ(0, get64(v, VMCB_EVENT_INJ));
	/* L2's state, as VMRUN loaded it, overwrites L1's scribbles. */
	EXPECT_EQ(CR0_PG | CR0_PE, get64(v, VMCB_CR0));
	EXPECT_EQ(0x1234, get64(v, VMCB_RIP));
	/* Back in L1: the next VMRUN judges the new bytes. */
	EXPECT_EQ(EINVAL, vmexit(self->fd, 0, 0x81));
	put64(v, VMCB_CR0, 1ULL << 32 | CR0_PG | CR0_PE);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_CR0_HIGH, r.check);
}

TEST_F(svm, intercept_queries_need_guest_mode_and_good_arguments)
{
	struct guestmap_svm_vmrun r;
	uint32_t exits;

	EXPECT_EQ(EINVAL, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_STAR, 0, &exits));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	EXPECT_EQ(EINVAL, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0x10000, 1, &exits));
	EXPECT_EQ(EINVAL, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0x60, 3, &exits));
	EXPECT_EQ(EINVAL, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_STAR, 4, &exits));
	EXPECT_EQ(EINVAL, intercept(self->fd, 0, 9, 0x60, 1, &exits));
	EXPECT_EQ(ENOENT, intercept(self->fd, 1, GUESTMAP_SVM_IN, 0x60, 1, &exits));
}

/*
 * The MSR map the CPU uses in L2 is L0's OR L1's, merged at VMRUN
 * (nested_svm_vmrun_msrpm); whether L0 reflects an exit to L1 is read
 * from L1's map in guest memory at the exit (nested_svm_exit_handled_msr).
 */
TEST_F(svm, msr_map_merged_at_vmrun_and_read_live_at_exit)
{
	char *v = self->mem + VMCB_OFF, *msrpm = self->mem + MSRPM_OFF;
	struct guestmap_svm_l0_msr l0 = { .vcpu = 0, .msr = MSR_FS_BASE };
	struct guestmap_svm_vmrun r;
	uint32_t exits;
	/* APM 15.11: C000_0000h-C000_1FFFh at 800h, 4 MSRs a byte. */
	unsigned long fs_byte = 0x800 + (MSR_FS_BASE - 0xc0000000) / 4;
	unsigned long star_byte = 0x800 + (MSR_STAR - 0xc0000000) / 4;

	/* L0 lets L1 use FS_BASE directly; L1 lets L2. */
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L0_MSR, &l0));
	l0.msr = 0x2000;	/* in no range */
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_SET_L0_MSR, &l0) ? errno : 0);
	put32(v, VMCB_INTERCEPT_WORD3, WORD3_MSR_PROT);
	memset(msrpm, 0, 2 * PAGE);
	msrpm[star_byte] = 0x3 << (2 * ((MSR_STAR - 0xc0000000) % 4));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	/* FS_BASE: no exit at all. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_FS_BASE, 0, &exits));
	EXPECT_EQ(0, exits);
	/* STAR: L0 intercepts it, L1 too. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_WRMSR, MSR_STAR, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	/* An MSR in no range always exits, and L0 reflects it. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, 0x40000000, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	/* L1 edits its map while L2 runs. */
	msrpm[fs_byte] = 0xff;
	msrpm[star_byte] = 0;
	/* FS_BASE: the CPU's map is the one merged at VMRUN. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_FS_BASE, 0, &exits));
	EXPECT_EQ(0, exits);
	/* STAR: still exits to L0, which reads L1's map as it is now. */
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_WRMSR, MSR_STAR, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7c));
	/* The next VMRUN merges the new map: FS_BASE exits, to L1. */
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_FS_BASE, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7c));
	/*
	 * Without MSR_PROT, L2 runs on L0's own map for L1
	 * (nested_vmcb02_prepare_control()): FS_BASE passes, and an exit
	 * to L0 is never reflected.
	 */
	put32(v, VMCB_INTERCEPT_WORD3, 0);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_FS_BASE, 0, &exits));
	EXPECT_EQ(0, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_RDMSR, MSR_STAR, 0, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
}

/*
 * A word of L1's map that the merge needs, unreadable: KVM's
 * kvm_vcpu_read_guest() fails and VMRUN exits with VMEXIT_INVALID.
 */
TEST_F(svm, unreadable_msr_map_is_vmexit_invalid)
{
	char *v = self->mem + VMCB_OFF;
	struct guestmap_svm_l0_msr l0 = { .vcpu = 0, .msr = MSR_FS_BASE };
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L0_MSR, &l0));
	put32(v, VMCB_INTERCEPT_WORD3, WORD3_MSR_PROT);
	put64(v, VMCB_MSRPM_BASE, 0x40000000);	/* legal, in no slot */
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_MSRPM_READ, r.check);
	/* Without MSR_PROT the map is never read. */
	put32(v, VMCB_INTERCEPT_WORD3, 0);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_ENTERED, r.result);
}

/*
 * The I/O map, read at the exit (nested_svm_intercept_ioio): an access
 * of several bytes exits if any of its ports' bits is set (APM 15.10.1),
 * so it may read two bytes of the map; at port FFFFh it reads the byte
 * at 2000h, the first of the map's third page; an unreadable map exits.
 */
TEST_F(svm, io_map_bits_bytes_and_last_page)
{
	char *v = self->mem + VMCB_OFF, *iopm = self->mem + IOPM_OFF;
	struct guestmap_svm_vmrun r;
	uint32_t exits;

	put32(v, VMCB_INTERCEPT_WORD3, WORD3_IOIO_PROT);
	memset(iopm, 0, 3 * PAGE);
	iopm[1] = 1;			/* port 8 */
	iopm[0x2000] = 1;		/* "port 10000h" */
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 7, 1, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 7, 2, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_OUT, 5, 4, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_OUT, 4, 4, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0xffff, 1, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0xffff, 2, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
	/* Live: L1 clears the bit while L2 runs. */
	iopm[0x2000] = 0;
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0xffff, 2, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	/* The third page gone from the slot: the read fails, L1 gets it. */
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7b));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL, 0));
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, IOPM_OFF + 2 * PAGE, self->mem, 0));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0xfffe, 1, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0, exits);
	ASSERT_EQ(0, intercept(self->fd, 0, GUESTMAP_SVM_IN, 0xffff, 2, &exits));
	EXPECT_EQ(GUESTMAP_SVM_EXIT_L0 | GUESTMAP_SVM_EXIT_L1, exits);
}

/*
 * Between VMRUN and #VMEXIT the vCPU keeps only VMCB12's gpa: a slot
 * deleted meanwhile makes #VMEXIT fail (the vCPU stays in guest mode, as
 * KVM's does), and the slot re-created at the same gpa on other memory
 * gets the write.  The old memory, unmapped, is never touched.
 */
TEST_F(svm, vmexit_after_the_slot_is_deleted_and_recreated)
{
	struct guestmap_svm_vmrun r;
	char *other;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL, 0));
	EXPECT_EQ(ENOENT, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(EBUSY, vmrun(self->fd, 0, GPA, 0, &r));
	/* Unmapped and reused: the vCPU holds nothing of it. */
	ASSERT_EQ(0, munmap(self->mem, NPAGES * PAGE));
	other = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, other);
	self->mem = other;
	ASSERT_EQ(0, set_slot(self->fd, 1, GPA, NPAGES * PAGE, other, 0));
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0x81, get64(other, VMCB_EXIT_CODE));
	/* The save area written back is the copy's. */
	EXPECT_EQ(CR0_PG | CR0_PE, get64(other, VMCB_CR0));
	EXPECT_EQ(0x1234, get64(other, VMCB_RIP));
}

/* VMCB12 unmapped under a slot: EFAULT, for both ways of reaching it. */
TEST_F(svm, vmcb12_unmapped_is_efault)
{
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, munmap(self->mem, PAGE));
	EXPECT_EQ(EFAULT, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(EFAULT, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
}

/* kvm_vcpu_map() maps for writing: a read-only slot cannot hold VMCB12. */
TEST_F(svm, vmcb12_in_a_readonly_slot_is_eperm)
{
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL, 0));
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem,
			      GUESTMAP_MEM_READONLY));
	EXPECT_EQ(EPERM, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(EPERM, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
}

/*
 * Through the pfn cache, VMRUN sees what the CPU maps now: the memory
 * replaced under the same address (munmap, mmap) invalidates the cache.
 */
TEST_F(svm, cached_vmrun_follows_the_memory)
{
	struct guestmap_svm_vmrun r;
	char *p;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0x81, get64(self->mem, VMCB_EXIT_CODE));
	p = mmap(self->mem, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->mem, p);
	good_vmcb(p);
	put32(p, VMCB_ASID, 0);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_ASID, r.check);
	EXPECT_EQ(~0ULL, get64(p, VMCB_EXIT_CODE));
	/* Destroyed and re-created, the vCPU starts over in L1. */
	ASSERT_EQ(0, destroy_vcpu(self->fd, 0));
	ASSERT_EQ(0, create_vcpu(self->fd, 0, 48));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	EXPECT_EQ(GUESTMAP_SVM_CHECK_L1_SVME, r.check);
}

/* A vCPU destroyed, or the file closed, in guest mode leaks nothing. */
TEST_F(svm, destroyed_in_guest_mode)
{
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, destroy_vcpu(self->fd, 0));
	EXPECT_EQ(ENOENT, vmexit(self->fd, 0, 0x81));
	ASSERT_EQ(0, create_vcpu(self->fd, 1, 48));
	ASSERT_EQ(0, set_l1(self->fd, 1, EFER_SVME, HSAVE));
	ASSERT_EQ(0, vmrun(self->fd, 1, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	/* The fixture closes the file with vCPU 1 in guest mode. */
}

/* A VMCB12 in PFN-only memory (RAM above mem=, through /dev/mem). */
static void pfn_only_vmrun(struct __test_metadata *_metadata, int fd,
			   uint32_t flags)
{
	unsigned long size, phys;
	struct guestmap_svm_vmrun r;
	char *p;

	if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
		SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
	p = map_devmem(phys, NPAGES * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	good_vmcb(p);
	ASSERT_EQ(0, set_slot(fd, 2, 0x40000000, NPAGES * PAGE, p, 0));
	put64(p, VMCB_MSRPM_BASE, 0x40000000 + MSRPM_OFF);
	put64(p, VMCB_DR6, 1ULL << 32);
	ASSERT_EQ(0, vmrun(fd, 0, 0x40000000, flags, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_DR6, r.check);
	EXPECT_EQ(~0ULL, get64(p, VMCB_EXIT_CODE));
	put64(p, VMCB_DR6, 0xffff0ff0);
	ASSERT_EQ(0, vmrun(fd, 0, 0x40000000, flags, &r));
	EXPECT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(fd, 0, 0x400));		/* NPF */
	EXPECT_EQ(0x400, get64(p, VMCB_EXIT_CODE));
	EXPECT_EQ(0x2222, get64(p, VMCB_EXIT_INFO_2));
	ASSERT_EQ(0, set_slot(fd, 2, 0, 0, NULL, 0));
	munmap(p, NPAGES * PAGE);
}

TEST_F(svm, vmcb12_in_pfn_only_memory)
{
	pfn_only_vmrun(_metadata, self->fd, 0);
}

TEST_F(svm, vmcb12_in_pfn_only_memory_cached)
{
	pfn_only_vmrun(_metadata, self->fd, GUESTMAP_SVM_RUN_CACHED);
}

/*
 * A VMCB12 in a file: the exit written through the kernel mapping must
 * reach the file (marked dirty on unmap), as KVM's kvm_vcpu_unmap(map,
 * true) marks it.
 */
TEST_F(svm, vmexit_reaches_writeback)
{
	const char *dir = "/tmp/guestmap-svm-ext4";
	struct guestmap_svm_vmrun r;
	char path[64];
	uint64_t code = 0;
	int ffd, dfd;
	char *p;

	if (access("/dev/pmem0", F_OK))
		SKIP(return, "no /dev/pmem0");
	ASSERT_EQ(0, system("mkfs.ext4 -q -F -b 4096 /dev/pmem0 >/dev/null 2>&1"));
	mkdir(dir, 0700);
	ASSERT_EQ(0, mount("/dev/pmem0", dir, "ext4", 0, NULL));
	snprintf(path, sizeof(path), "%s/vmcb", dir);
	ffd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, ftruncate(ffd, PAGE));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, p);
	good_vmcb(p);
	ASSERT_EQ(0, msync(p, PAGE, MS_SYNC));
	ASSERT_EQ(0, set_slot(self->fd, 3, 0x50000000, PAGE, p, 0));
	ASSERT_EQ(0, vmrun(self->fd, 0, 0x50000000, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x60));		/* INTR */
	ASSERT_EQ(0, set_slot(self->fd, 3, 0, 0, NULL, 0));
	munmap(p, PAGE);
	ASSERT_EQ(0, fsync(ffd));
	dfd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(1, write(dfd, "1", 1));
	close(dfd);
	ASSERT_EQ(8, pread(ffd, &code, 8, VMCB_EXIT_CODE));
	EXPECT_EQ(0x60, code);
	close(ffd);
	EXPECT_EQ(0, umount(dir));
}

/*
 * kvm_vcpu_map() maps VMCB12 for writing: a page the process may only
 * read is refused by VMRUN both ways, never entered and then stuck at
 * #VMEXIT.
 */
TEST_F(svm, vmcb12_the_process_cannot_write_is_efault)
{
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, mprotect(self->mem, PAGE, PROT_READ));
	EXPECT_EQ(EFAULT, vmrun(self->fd, 0, GPA, 0, &r));
	EXPECT_EQ(EFAULT, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(0, mprotect(self->mem, PAGE, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	EXPECT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	EXPECT_EQ(0, vmexit(self->fd, 0, 0x81));
}

/* A VMRUN whose verdict cannot be written back does nothing. */
TEST_F(svm, vmrun_with_a_read_only_argument_does_nothing)
{
	struct guestmap_svm_vmrun *r;

	r = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	r->vmcb12_gpa = GPA;
	ASSERT_EQ(0, mprotect(r, PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_SVM_VMRUN, r));
	EXPECT_EQ(EFAULT, errno);
	/* Still in L1: nothing was entered, VMCB12 untouched. */
	EXPECT_EQ(EINVAL, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0, get64(self->mem, VMCB_EXIT_CODE));
	munmap(r, PAGE);
}

/* L0's intercepts are fixed while L2 runs on them. */
TEST_F(svm, l0_msr_policy_is_busy_in_guest_mode)
{
	struct guestmap_svm_l0_msr l0 = { .vcpu = 0, .msr = MSR_FS_BASE };
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	EXPECT_EQ(EBUSY, ioctl(self->fd, GUESTMAP_SVM_SET_L0_MSR, &l0) ? errno : 0);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_SET_L0_MSR, &l0) ? errno : 0);
}

/*
 * #VMEXIT writes back L2's state as KVM loaded it
 * (nested_vmcb02_prepare_save()): RFLAGS with bit 1 (X86_EFLAGS_FIXED),
 * EFER.LMA only with EFER.LME, DR7 with bit 10 (DR7_FIXED_1), DR6 with
 * DR6_ACTIVE_LOW (0xffff0ff0).
 */
TEST_F(svm, vmexit_writes_l2_state_as_kvm_loads_it)
{
	char *v = self->mem + VMCB_OFF;
	struct guestmap_svm_vmrun r;

	/* Legacy paging: EFER.LMA without LME, no long-mode checks. */
	put64(v, VMCB_EFER, EFER_SVME | EFER_LMA | EFER_NX);
	put64(v, VMCB_RFLAGS, 0);
	put64(v, VMCB_DR7, 0);
	put64(v, VMCB_DR6, 0);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(EFER_SVME | EFER_NX, get64(v, VMCB_EFER));
	EXPECT_EQ(2, get64(v, VMCB_RFLAGS));
	EXPECT_EQ(0x400, get64(v, VMCB_DR7));
	EXPECT_EQ(0xffff0ff0, get64(v, VMCB_DR6));
	/*
	 * EFER.LME without paging: svm_set_cr0() clears LMA going from L1's
	 * paging to L2's none.  With paging, LMA is kept as VMCB12 has it.
	 */
	put64(v, VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA);
	put64(v, VMCB_CR0, CR0_PE);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(EFER_SVME | EFER_LME, get64(v, VMCB_EFER));
	put64(v, VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA);
	put64(v, VMCB_CR0, CR0_PG | CR0_PE);
	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(EFER_SVME | EFER_LME | EFER_LMA, get64(v, VMCB_EFER));
}

/* The slot re-created READONLY between VMRUN and #VMEXIT: EPERM. */
TEST_F(svm, vmexit_into_a_recreated_readonly_slot_is_eperm)
{
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, vmrun(self->fd, 0, GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL, 0));
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem,
			      GUESTMAP_MEM_READONLY));
	EXPECT_EQ(EPERM, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0, get64(self->mem, VMCB_EXIT_CODE));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL, 0));
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem, 0));
	EXPECT_EQ(0, vmexit(self->fd, 0, 0x81));
	EXPECT_EQ(0x81, get64(self->mem, VMCB_EXIT_CODE));
}

/* kvm_amd npt=0: nested paging is VMEXIT_INVALID whatever the CPUID. */
TEST_F(svm, l0_without_nested_paging)
{
	struct guestmap_cpuid_entry e[] = {
		{ .function = 0x80000000, .eax = 0x8000000a },
		{ .function = 0x80000001, .ecx = 1U << 2,
		  .edx = (1U << 20) | (1U << 29) },
		{ .function = 0x80000008, .eax = 48 },
		{ .function = 0x8000000a, .edx = 1 },	/* NP */
	};
	struct guestmap_svm_vcpu vc = {
		.vcpu = 2, .nent = 4, .entries = (uintptr_t)e,
		.flags = GUESTMAP_SVM_VCPU_NO_NPT,
	};
	struct guestmap_svm_vmrun r;

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_SVM_CREATE_VCPU, &vc));
	ASSERT_EQ(0, set_l1(self->fd, 2, EFER_SVME | EFER_LME | EFER_LMA, HSAVE));
	put64(self->mem, 0x090, 1);		/* NP_ENABLE */
	put64(self->mem, 0x0b0, 0x6000);	/* a legal nCR3 */
	ASSERT_EQ(0, vmrun(self->fd, 2, GPA, 0, &r));
	EXPECT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	EXPECT_EQ(GUESTMAP_SVM_CHECK_NP, r.check);
	vc.flags = 4;
	vc.vcpu = 3;
	EXPECT_EQ(EINVAL, ioctl(self->fd, GUESTMAP_SVM_CREATE_VCPU, &vc) ? errno : 0);
}

TEST_HARNESS_MAIN
