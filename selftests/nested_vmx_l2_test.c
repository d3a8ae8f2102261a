// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap nested VMX selftests, L2 side: VMLAUNCH and VMRESUME with
 * KVM's checks, the MSR bitmap merge, the pages a running L2 uses in
 * place (virtual-APIC page, posted-interrupt descriptor, APIC-access
 * page) held as 6.12's kvm_vcpu_map() holds them or reached through the
 * pfn caches, posted interrupts, the PML log, the shadow vmcs12 and VM
 * exit.
 *
 * Expected values are from the Intel SDM (vol. 3C: 25.6.9 MSR bitmaps,
 * 26.1.3, 27.2/27.3 entry checks, 27.8 entry failures, 28.3.6 PML, 30.6
 * posted interrupts, 31.4 error numbers; appendix B encodings, appendix
 * C exit reasons) and KVM 6.12 (arch/x86/kvm/vmx/nested.c), cited per
 * test.  This machine's CPU emulation has no VMX, so no KVM run is
 * compared: see Documentation/testing.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"
#include "guestmap_vmx.h"

/* Guest memory: NPAGES pages at GPA, one structure per page. */
#define GPA		0x100000ULL
#define NPAGES		16
#define P(n)		(GPA + (n) * PAGE)
#define VMXON		P(0)
#define VMCS		P(1)
#define MSR_BITMAP_GPA	P(2)
#define VAPIC		P(3)
#define APIC_ACCESS	P(4)
/* The PI descriptor need only be 64-byte aligned: put it inside a page. */
#define PI_DESC		(P(5) + 0x40)
#define PML_LOG		P(6)
#define MSR_LOAD	P(7)
#define SHADOW		P(8)
#define VMREAD_BM	P(9)
#define VMWRITE_BM	P(10)
#define MAXPHY		36

/* KVM's struct vmcs12 offsets (vmcs12.h CHECK_OFFSET()). */
#define O_LAUNCH_STATE		8
#define O_GUEST_RIP		544
#define O_VM_EXIT_REASON	812

/* Exit reasons with the VM-entry failure bit, SDM appendix C. */
#define EXIT_INVALID_STATE	0x80000021U
#define EXIT_MSR_LOAD_FAIL	0x80000022U

/* The posted-interrupt descriptor: PIR at 0, ON is bit 0 of byte 32. */
#define PI_ON_BYTE	32

/* Virtual-APIC registers: TPR at 80h, PPR at A0h. */
#define APIC_TPR	0x80
#define APIC_PPR	0xa0

#define MSR_TSC		0x10
#define MSR_APIC_BASE	0x1b
#define MSR_EFER	0xc0000080U
#define MSR_FS_BASE	0xc0000100U

static int set_slot(int fd, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *uaddr, uint32_t flags)
{
	struct guestmap_memslot m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)uaddr,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

/* A CPU with VMX and PAE, MAXPHYADDR 36, KVM's capability MSRs. */
static int create(int fd, uint32_t id, uint32_t flags)
{
	struct guestmap_cpuid_entry e[] = {
		{ .function = 0, .eax = 1 },
		{ .function = 1, .ecx = 1U << 5, .edx = 1U << 6 },
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000008, .eax = MAXPHY },
	};
	struct guestmap_vmx_vcpu v = {
		.vcpu = id, .nent = 4, .entries = (uintptr_t)e, .flags = flags,
	};

	return ioctl(fd, GUESTMAP_VMX_CREATE_VCPU, &v) ? errno : 0;
}

/* L1 in 64-bit mode at CPL 0 with CR4.VMXE, ready for VMXON. */
static int set_l1(int fd, uint32_t id)
{
	struct guestmap_vmx_l1 l1 = {
		.vcpu = id, .cr0 = 0x80000031, .cr4 = 0x2020,
		.feature_control = 5, .efer = 0x500,
	};

	return ioctl(fd, GUESTMAP_VMX_SET_L1, &l1) ? errno : 0;
}

/* An instruction: result * 0x100000000 + error, or -errno. */
static int64_t insn_v(int fd, uint32_t op, uint64_t operand, uint64_t value,
		      uint64_t *out)
{
	struct guestmap_vmx_insn r = {
		.vcpu = 0, .insn = op, .operand = operand, .value = value,
	};

	if (ioctl(fd, GUESTMAP_VMX_INSN, &r))
		return -errno;
	if (out)
		*out = r.value;
	return ((int64_t)r.result << 32) | r.error | r.vector;
}

static int64_t insn(int fd, uint32_t op, uint64_t operand, uint64_t value)
{
	return insn_v(fd, op, operand, value, NULL);
}

#define R(result, n)	(((int64_t)(result) << 32) | (n))
#define SUCCEED		R(GUESTMAP_VMX_SUCCEED, 0)
#define FAIL_INVALID	R(GUESTMAP_VMX_FAIL_INVALID, 0)
#define FAIL_VALID(n)	R(GUESTMAP_VMX_FAIL_VALID, (n))
#define ENTERED		R(GUESTMAP_VMX_ENTERED, 0)
#define ENTRY_FAILED(r)	R(GUESTMAP_VMX_ENTRY_FAILED, (r))
#define REFLECTED(r)	R(GUESTMAP_VMX_REFLECTED, (r))

static uint64_t vmread(int fd, uint64_t field)
{
	uint64_t v = 0xbadbadbadULL;

	if (insn_v(fd, GUESTMAP_VMX_VMREAD, field, 0, &v) != SUCCEED)
		return 0xbadbadbadULL;
	return v;
}

static int vmwrite(int fd, uint64_t field, uint64_t value)
{
	return insn(fd, GUESTMAP_VMX_VMWRITE, field, value) == SUCCEED ? 0 : -1;
}

/* L0's side: the op's errno; its result and value in @result, @value. */
static int op(int fd, uint32_t o, uint64_t arg, uint64_t *value,
	      uint32_t *result)
{
	struct guestmap_vmx_op r = {
		.vcpu = 0, .op = o, .arg = arg, .value = value ? *value : 0,
		.result = 0xdead,
	};
	int err = ioctl(fd, GUESTMAP_VMX_OP, &r) ? errno : 0;

	if (value)
		*value = r.value;
	if (result)
		*result = r.result;
	return err;
}

static uint32_t op_result(int fd, uint32_t o, uint64_t arg, uint64_t value)
{
	uint32_t result = 0xdead;

	if (op(fd, o, arg, &value, &result))
		return 0xbad;
	return result;
}

static int vmexit(int fd, uint32_t reason, uint64_t qual)
{
	return op(fd, GUESTMAP_VMX_OP_VMEXIT, reason, &qual, NULL);
}

static int vapic_read(int fd, uint32_t off, uint64_t *v)
{
	return op(fd, GUESTMAP_VMX_OP_VAPIC_READ, off, v, NULL);
}

static int vapic_write(int fd, uint32_t off, uint32_t val)
{
	uint64_t v = val;

	return op(fd, GUESTMAP_VMX_OP_VAPIC_WRITE, off, &v, NULL);
}

/*
 * /proc/vmstat's FOLL_PIN counters: pins held in the whole system, at
 * most.  Released is read first, so pins others take and drop between
 * the two reads can only make it more.
 */
static long pins_held(void)
{
	long rel = vmstat_value("nr_foll_pin_released");
	long acq = vmstat_value("nr_foll_pin_acquired");

	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/*
 * Whether the system comes back to holding no more pins than @then within
 * a second: others' pins come and go meanwhile, a leak stays.
 */
static bool pins_settle(long then)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (pins_held() <= then)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * VMXON, VMPTRLD and a vmcs12 that passes every check of KVM's, written
 * with VMWRITE as L1 would: 64-bit host and guest, TPR shadow with APIC
 * access virtualization, virtual-interrupt delivery and posted
 * interrupts, EPT with PML, MSR bitmaps.
 */
static int setup_l1(int fd)
{
	static const struct { uint32_t f; uint64_t v; } fields[] = {
		{ F_PIN_BASED, PIN_DEFAULT },
		{ F_CPU_BASED, PROC_DEFAULT },
		{ F_SECONDARY, P2_DEFAULT },
		{ F_EXIT_CONTROLS, EXIT_DEFAULT },
		{ F_ENTRY_CONTROLS, ENTRY_DEFAULT },
		{ F_MSR_BITMAP, MSR_BITMAP_GPA },
		{ F_VIRTUAL_APIC_PAGE, VAPIC },
		{ F_APIC_ACCESS_ADDR, APIC_ACCESS },
		{ F_POSTED_INTR_NV, 0xf2 },
		{ F_POSTED_INTR_DESC, PI_DESC },
		{ F_TPR_THRESHOLD, 0 },
		{ F_EPT_POINTER, EPTP },
		{ F_PML_ADDRESS, PML_LOG },
		{ F_GUEST_PML_INDEX, 511 },
		{ F_VMREAD_BITMAP, VMREAD_BM },
		{ F_VMWRITE_BITMAP, VMWRITE_BM },
		{ F_VMCS_LINK_POINTER, ~0ULL },
		/* PE, ET, NE, WP, PG; PAE, VMXE. */
		{ F_HOST_CR0, 0x80010031 },
		{ F_HOST_CR3, 0x1000 },
		{ F_HOST_CR4, 0x2020 },
		{ F_HOST_CS_SELECTOR, 0x08 },
		{ F_HOST_SS_SELECTOR, 0x10 },
		{ F_HOST_DS_SELECTOR, 0x10 },
		{ F_HOST_ES_SELECTOR, 0x10 },
		{ F_HOST_TR_SELECTOR, 0x18 },
		{ F_HOST_RSP, 0xffffc90000008000ULL },
		{ F_HOST_RIP, 0xffffffff81000000ULL },
		{ F_GUEST_CR0, 0x80010031 },
		{ F_GUEST_CR3, 0x2000 },
		{ F_GUEST_CR4, 0x2020 },
		/* DR7 bit 10 is fixed to 1; RFLAGS bit 1 too. */
		{ F_GUEST_DR7, 0x400 },
		{ F_GUEST_RFLAGS, 0x2 },
		{ F_GUEST_RIP, 0x400000 },
	};
	size_t i;

	if (insn(fd, GUESTMAP_VMX_VMXON, VMXON, 0) != SUCCEED ||
	    insn(fd, GUESTMAP_VMX_VMPTRLD, VMCS, 0) != SUCCEED)
		return -1;
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (vmwrite(fd, fields[i].f, fields[i].v))
			return -1;
	return 0;
}

FIXTURE(l2) {
	int fd;
	char *mem;
};

FIXTURE_VARIANT(l2) {
	uint32_t flags;
};

/* 6.12's kvm_vcpu_map(): mapped at entry, held until exit. */
FIXTURE_VARIANT_ADD(l2, held) {
	.flags = 0,
};

/* guestmap's pfn caches, invalidated by the memslot's notifier. */
FIXTURE_VARIANT_ADD(l2, cached) {
	.flags = GUESTMAP_VMX_VCPU_CACHED,
};

FIXTURE_SETUP(l2)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	put_u32(self->mem + (VMXON - GPA), VMCS12_REVISION);
	put_u32(self->mem + (VMCS - GPA), VMCS12_REVISION);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem, 0));
	ASSERT_EQ(0, create(self->fd, 0, variant->flags));
	ASSERT_EQ(0, set_l1(self->fd, 0));
	ASSERT_EQ(0, setup_l1(self->fd));
}

FIXTURE_TEARDOWN(l2)
{
	close(self->fd);
	munmap(self->mem, NPAGES * PAGE);
}

#define AT(gpa)	(self->mem + ((gpa) - GPA))

/*
 * VMLAUNCH enters; in guest mode L1's instructions are not L1's to run;
 * VM exit writes the exit and the launch state back; VMLAUNCH of a
 * launched VMCS is error 4, VMRESUME of a clear one error 5 (table 31-1).
 */
TEST_F(l2, launch_exit_resume)
{
	int fd = self->fd;

	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(-EBUSY, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(-EBUSY, insn(fd, GUESTMAP_VMX_VMXOFF, 0, 0));
	EXPECT_EQ(-EBUSY, insn(fd, GUESTMAP_VMX_VMCLEAR, VMCS, 0));
	/* Without VMCS shadowing, L2's VMREAD exits to L1 (reason 23). */
	EXPECT_EQ(REFLECTED(23), insn(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
	EXPECT_EQ(REFLECTED(25), insn(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0));
	/* Exit reason 12 (HLT), qualification 0. */
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	EXPECT_EQ(EINVAL, vmexit(fd, 12, 0));
	EXPECT_EQ(12, vmread(fd, F_VM_EXIT_REASON));
	EXPECT_EQ(12, u32_at(AT(VMCS) + O_VM_EXIT_REASON));
	EXPECT_EQ(1, u32_at(AT(VMCS) + O_LAUNCH_STATE));
	EXPECT_EQ(FAIL_VALID(4), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(4, vmread(fd, F_VM_INSTRUCTION_ERROR));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 1, 0x55));
	EXPECT_EQ(0x55, vmread(fd, F_EXIT_QUALIFICATION));
	EXPECT_EQ(SUCCEED, insn(fd, GUESTMAP_VMX_VMCLEAR, VMCS, 0));
	EXPECT_EQ(0, u32_at(AT(VMCS) + O_LAUNCH_STATE));
	EXPECT_EQ(SUCCEED, insn(fd, GUESTMAP_VMX_VMPTRLD, VMCS, 0));
	EXPECT_EQ(FAIL_VALID(5), insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	/*
	 * An exit whose reason says the entry failed (bit 31) leaves the VMCS
	 * clear (prepare_vmcs12()): VMLAUNCH launches again.
	 */
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 0x80000021, 0));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	/*
	 * Every other exit clears the valid bit of the entry's event
	 * injection (SDM vol. 3C, 28.2): an external interrupt, vector 20h.
	 */
	EXPECT_EQ(0, vmexit(fd, 1, 0));
	ASSERT_EQ(0, vmwrite(fd, F_ENTRY_INTR_INFO, 0x80000020));
	/* What an earlier exit left in the exit's interruption information. */
	ASSERT_EQ(0, vmwrite(fd, F_EXIT_INTR_INFO, 0x80000b0e));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 1, 0));
	EXPECT_EQ(0x20, vmread(fd, F_ENTRY_INTR_INFO));
	EXPECT_EQ(0, vmread(fd, F_EXIT_INTR_INFO));
}

/*
 * One check of each kind: a control (VMfailValid 7), host state (8), the
 * VMCS link pointer (exit 33 with the entry-failure bit, qualification
 * 4), the MSR-load list (exit 34, qualification the 1-based entry).
 */
TEST_F(l2, entry_checks_fail_as_the_sdm_says)
{
	char *list = AT(MSR_LOAD);
	uint64_t qual = 0;
	int fd = self->fd;

	/* Pin-based controls without their must-be-one bits 1, 2, 4. */
	ASSERT_EQ(0, vmwrite(fd, F_PIN_BASED, PIN_EXT_INTR | PIN_POSTED));
	EXPECT_EQ(FAIL_VALID(7), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	ASSERT_EQ(0, vmwrite(fd, F_PIN_BASED, PIN_DEFAULT));
	/* Host CR0 without PG (IA32_VMX_CR0_FIXED0 has it). */
	ASSERT_EQ(0, vmwrite(fd, F_HOST_CR0, 0x10031));
	EXPECT_EQ(FAIL_VALID(8), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	ASSERT_EQ(0, vmwrite(fd, F_HOST_CR0, 0x80010031));
	/* A link pointer to memory no slot holds: its header reads as ~0. */
	ASSERT_EQ(0, vmwrite(fd, F_VMCS_LINK_POINTER, 0x40000000));
	EXPECT_EQ(ENTRY_FAILED(EXIT_INVALID_STATE),
		  insn_v(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0, &qual));
	EXPECT_EQ(4, qual);
	EXPECT_EQ(EXIT_INVALID_STATE, vmread(fd, F_VM_EXIT_REASON));
	EXPECT_EQ(4, vmread(fd, F_EXIT_QUALIFICATION));
	ASSERT_EQ(0, vmwrite(fd, F_VMCS_LINK_POINTER, ~0ULL));
	/* MSR-load list: IA32_TSC is fine, IA32_FS_BASE may not be loaded. */
	put_u32(list, MSR_TSC);
	put_u64(list + 8, 5);
	put_u32(list + 16, MSR_FS_BASE);
	ASSERT_EQ(0, vmwrite(fd, F_VM_ENTRY_MSR_LOAD_ADDR, MSR_LOAD));
	ASSERT_EQ(0, vmwrite(fd, F_ENTRY_MSR_LOAD_COUNT, 2));
	EXPECT_EQ(ENTRY_FAILED(EXIT_MSR_LOAD_FAIL),
		  insn_v(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0, &qual));
	EXPECT_EQ(2, qual);
	ASSERT_EQ(0, vmwrite(fd, F_ENTRY_MSR_LOAD_COUNT, 1));
	/* None of them left L2 running: the launch still launches. */
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
}

/*
 * The merge (SDM 25.6.9, 26.1.3): an RDMSR/WRMSR of L2 exits if L0's or
 * L1's bit is set, or the MSR is in neither range; it is L1's if L1's
 * bitmap, read at the exit, says so (nested_vmx_exit_handled_msr()).
 */
TEST_F(l2, msr_bitmap_merge)
{
	char *bm = AT(MSR_BITMAP_GPA);
	uint64_t v;
	int fd = self->fd;
	uint32_t L0 = GUESTMAP_VMX_EXIT_L0, L1 = GUESTMAP_VMX_EXIT_L1;

	/* L0 lets L2 reach IA32_TSC and EFER directly; APIC_BASE not. */
	v = 0;
	ASSERT_EQ(0, op(fd, GUESTMAP_VMX_OP_L0_MSR, MSR_TSC, &v, NULL));
	ASSERT_EQ(0, op(fd, GUESTMAP_VMX_OP_L0_MSR, MSR_EFER, &v, NULL));
	/* An MSR in neither range has no bit to set. */
	v = GUESTMAP_VMX_MSR_WRITE;
	EXPECT_EQ(EINVAL, op(fd, GUESTMAP_VMX_OP_L0_MSR, 0x2000, &v, NULL));
	/*
	 * L1 intercepts reads of IA32_TSC (read-low bitmap, byte 10h / 8 = 2,
	 * bit 0) and writes of EFER (write-high, 3072 + 80h / 8 = 3088, bit 0).
	 */
	bm[2] = 1;
	bm[3088] = 1;
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(L0 | L1, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_TSC, 0));
	EXPECT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_TSC, GUESTMAP_VMX_MSR_WRITE));
	EXPECT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_EFER, 0));
	EXPECT_EQ(L0 | L1, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_EFER, GUESTMAP_VMX_MSR_WRITE));
	/* L0 intercepts IA32_APIC_BASE; L1 does not: L0's alone. */
	EXPECT_EQ(L0, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_APIC_BASE, 0));
	/* In neither range: always exits, and is L1's. */
	EXPECT_EQ(L0 | L1, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, 0x2000, 0));
	EXPECT_EQ(L0 | L1, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, 0xc0010000U, 0));
	/*
	 * L1 clears its bit while L2 runs: the merged bitmap is the entry's,
	 * so the read still exits, but L1's bitmap now says it is L0's.
	 */
	bm[2] = 0;
	EXPECT_EQ(L0, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_TSC, 0));
	/* L0's intercepts are fixed while L2 runs. */
	v = 0;
	EXPECT_EQ(EBUSY, op(fd, GUESTMAP_VMX_OP_L0_MSR, MSR_TSC, &v, NULL));
	ASSERT_EQ(0, vmexit(fd, 31, 0));
	/* The next entry merges again: the read no longer exits. */
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_TSC, 0));
	/* Without "use MSR bitmaps", every access exits to L1. */
	ASSERT_EQ(0, vmexit(fd, 31, 0));
	ASSERT_EQ(0, vmwrite(fd, F_CPU_BASED, PROC_DEFAULT & ~PROC_MSR_BITMAPS));
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(L0 | L1, op_result(fd, GUESTMAP_VMX_OP_MSR_EXITS, MSR_EFER, 0));
}

/*
 * PML (SDM 28.3.6; nested_vmx_write_pml_buffer()): each logged write
 * stores the page's address at PML_ADDRESS + 8 * index, index counting
 * down from 511; 512 fill the log, the 513th finds it full.
 */
TEST_F(l2, pml_log_fills_in_order)
{
	char *log = AT(PML_LOG);
	int fd = self->fd;
	int i;

	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	for (i = 0; i < 512; i++)
		ASSERT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_PML_LOG,
				       ((uint64_t)(i + 1) << 12) | 0x123, 0));
	EXPECT_EQ(GUESTMAP_VMX_PML_FULL,
		  op_result(fd, GUESTMAP_VMX_OP_PML_LOG, 0x7777000, 0));
	for (i = 0; i < 512; i++)
		ASSERT_EQ((uint64_t)(i + 1) << 12, u64_at(log + 8 * (511 - i)));
	ASSERT_EQ(0, vmexit(fd, 62, 0));
	/* The index wrapped from 0 to FFFFh: the log is full. */
	EXPECT_EQ(0xffff, vmread(fd, F_GUEST_PML_INDEX));
}

/*
 * Posting (SDM 30.6): the vector's PIR bit, then ON; a notification is
 * due only if ON was clear.  The virtual-APIC page: TPR written by L0
 * is seen by user space, PPR written by user space is read by L0.
 */
TEST_F(l2, post_interrupt_and_vapic_registers)
{
	char *pi = AT(PI_DESC);
	uint64_t v = 0;
	int fd = self->fd;

	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(1, op_result(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, 0));
	EXPECT_EQ(1ULL << 0x31, u64_at(pi));
	EXPECT_EQ(1, pi[PI_ON_BYTE] & 1);
	EXPECT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_POST_INTR, 0x95, 0));
	EXPECT_EQ(1ULL << (0x95 - 128), u64_at(pi + 16));
	EXPECT_EQ(0, u64_at(pi + 8));
	/*
	 * A vector already pending: nothing more, not even ON
	 * (__vmx_deliver_posted_interrupt()).
	 */
	pi[PI_ON_BYTE] = 0;
	EXPECT_EQ(0, op_result(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, 0));
	EXPECT_EQ(0, pi[PI_ON_BYTE] & 1);
	EXPECT_EQ(0, vapic_write(fd, APIC_TPR, 0x20));
	EXPECT_EQ(0x20, u32_at(AT(VAPIC) + APIC_TPR));
	put_u32(AT(VAPIC) + APIC_PPR, 0x40);
	EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
	EXPECT_EQ(0x40, v);
	/* Outside guest mode there is no page to reach. */
	ASSERT_EQ(0, vmexit(fd, 1, 0));
	EXPECT_EQ(EINVAL, vapic_read(fd, APIC_PPR, &v));
	EXPECT_EQ(EINVAL, op(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, NULL, NULL));
	/* Without posted interrupts, no descriptor is attached. */
	ASSERT_EQ(0, vmwrite(fd, F_PIN_BASED, PIN_DEFAULT & ~PIN_POSTED));
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(EINVAL, op(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, NULL, NULL));
}

/*
 * The virtual-APIC page is replaced under L2 (MAP_FIXED): held, L0 goes
 * on using the old frame, which user space no longer sees (6.12's
 * behaviour); cached, every access reaches the new page.
 */
TEST_F(l2, vapic_page_remapped)
{
	char *page = AT(VAPIC), *again;
	uint64_t v = 0;
	int fd = self->fd;

	put_u32(page + APIC_PPR, 0x40);
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	again = mmap(page, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(page, again);
	put_u32(page + APIC_PPR, 0x77);
	EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
	EXPECT_EQ(0, vapic_write(fd, APIC_TPR, 0x55));
	if (variant->flags & GUESTMAP_VMX_VCPU_CACHED) {
		EXPECT_EQ(0x77, v);
		EXPECT_EQ(0x55, u32_at(page + APIC_TPR));
	} else {
		/* Stale: the frame mapped at entry. */
		EXPECT_EQ(0x40, v);
		EXPECT_EQ(0, u32_at(page + APIC_TPR));
	}
	EXPECT_EQ(0, vmexit(fd, 1, 0));
}

/*
 * The page is unmapped under L2: held, the pinned old frame is still
 * used; cached, the next use fails cleanly.  Either way no pin is left
 * once L2 exits (FOLL_PIN counters).
 */
TEST_F(l2, vapic_page_unmapped)
{
	char *page = AT(VAPIC);
	long pins = pins_held();
	uint64_t v = 0;
	int fd = self->fd;

	ASSERT_LE(0, pins);
	put_u32(page + APIC_PPR, 0x40);
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	ASSERT_EQ(0, munmap(page, PAGE));
	if (variant->flags & GUESTMAP_VMX_VCPU_CACHED) {
		EXPECT_EQ(EFAULT, vapic_read(fd, APIC_PPR, &v));
		EXPECT_EQ(EFAULT, vapic_write(fd, APIC_TPR, 1));
	} else {
		EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
		EXPECT_EQ(0x40, v);
		EXPECT_EQ(0, vapic_write(fd, APIC_TPR, 1));
	}
	EXPECT_EQ(0, vmexit(fd, 1, 0));
	EXPECT_TRUE(pins_settle(pins));
	/*
	 * Re-entering finds no page there: KVM writes an invalid address for
	 * the CPU to fail the entry on (VMfailValid 7), nothing held.
	 */
	EXPECT_EQ(FAIL_VALID(7), insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_TRUE(pins_settle(pins));
}

/*
 * The memslot is deleted under L2: held pages stay usable (pinned), a
 * cached one is gone (ENOENT); VM exit works either way, its
 * write-back dropped as KVM drops writes to no memslot.
 */
TEST_F(l2, slot_deleted_while_l2_runs)
{
	long pins = pins_held();
	uint64_t v = 0;
	int fd = self->fd;

	put_u32(AT(VAPIC) + APIC_PPR, 0x40);
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	ASSERT_EQ(0, set_slot(fd, 0, GPA, 0, NULL, 0));
	if (variant->flags & GUESTMAP_VMX_VCPU_CACHED) {
		EXPECT_EQ(ENOENT, vapic_read(fd, APIC_PPR, &v));
		EXPECT_EQ(ENOENT, op(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, NULL, NULL));
	} else {
		EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
		EXPECT_EQ(0x40, v);
	}
	/* PML writes guest memory directly: no slot, ENOENT. */
	EXPECT_EQ(ENOENT, op(fd, GUESTMAP_VMX_OP_PML_LOG, 0x5000, NULL, NULL));
	EXPECT_EQ(0, vmexit(fd, 1, 0));
	EXPECT_EQ(0, u32_at(AT(VMCS) + O_LAUNCH_STATE));
	EXPECT_TRUE(pins_settle(pins));
	/* Re-created at the same address: the next entry attaches again. */
	ASSERT_EQ(0, set_slot(fd, 0, GPA, NPAGES * PAGE, self->mem, 0));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
	EXPECT_EQ(0x40, v);
}

/*
 * Pages that cannot be mapped for writing, as kvm_vcpu_map() maps them,
 * answered as nested_get_vmcs12_pages() answers them: the virtual-APIC
 * page fails the entry (VMfailValid 7, from the invalid address KVM
 * writes) unless CR8 loads and stores exit and APIC accesses are not
 * virtualized, when L2 runs without it; the descriptor is done without;
 * the APIC-access page fails the command (KVM's internal error).
 */
TEST_F(l2, unmappable_pages_at_entry)
{
	long pins = pins_held();
	uint64_t v = 0;
	int fd = self->fd;

	ASSERT_EQ(0, mprotect(AT(VAPIC), PAGE, PROT_READ));
	/*
	 * The CPU fails the entry on KVM's invalid address only after KVM's
	 * own guest-state checks: a bad link pointer answers first.
	 */
	ASSERT_EQ(0, vmwrite(fd, F_VMCS_LINK_POINTER, 0x40000000));
	EXPECT_EQ(ENTRY_FAILED(EXIT_INVALID_STATE), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_TRUE(pins_settle(pins));
	ASSERT_EQ(0, vmwrite(fd, F_VMCS_LINK_POINTER, ~0ULL));
	EXPECT_EQ(FAIL_VALID(7), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(7, vmread(fd, F_VM_INSTRUCTION_ERROR));
	ASSERT_EQ(0, vmwrite(fd, F_CPU_BASED, PROC_DEFAULT | PROC_CR8_LOAD | PROC_CR8_STORE));
	ASSERT_EQ(0, vmwrite(fd, F_SECONDARY, P2_DEFAULT & ~P2_APIC_ACCESSES));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(EINVAL, vapic_read(fd, APIC_PPR, &v));
	EXPECT_EQ(1, op_result(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, 0));
	ASSERT_EQ(0, vmexit(fd, 1, 0));
	ASSERT_EQ(0, mprotect(AT(VAPIC), PAGE, PROT_READ | PROT_WRITE));
	/* The descriptor in a read-only slot: posted interrupts off. */
	ASSERT_EQ(0, set_slot(fd, 1, P(NPAGES), PAGE, AT(PI_DESC & ~0xfffULL),
			      GUESTMAP_MEM_READONLY));
	ASSERT_EQ(0, vmwrite(fd, F_POSTED_INTR_DESC, P(NPAGES) + 0x40));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(EINVAL, op(fd, GUESTMAP_VMX_OP_POST_INTR, 0x31, NULL, NULL));
	ASSERT_EQ(0, vmexit(fd, 1, 0));
	ASSERT_EQ(0, vmwrite(fd, F_POSTED_INTR_DESC, PI_DESC));
	/* The APIC-access page in a read-only slot, or in none. */
	ASSERT_EQ(0, vmwrite(fd, F_SECONDARY, P2_DEFAULT));
	ASSERT_EQ(0, vmwrite(fd, F_APIC_ACCESS_ADDR, P(NPAGES)));
	EXPECT_EQ(-EPERM, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	ASSERT_EQ(0, vmwrite(fd, F_APIC_ACCESS_ADDR, 0x40000000));
	EXPECT_EQ(-ENOENT, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_TRUE(pins_settle(pins));
	ASSERT_EQ(0, vmwrite(fd, F_APIC_ACCESS_ADDR, APIC_ACCESS));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
}

/*
 * The page migrates to the other NUMA node under L2 (move_pages): a held
 * page is pinned and does not move; a cached one moves, and L0's next
 * access reaches it where it now is.
 */
TEST_F(l2, vapic_page_migrated)
{
	char *page = AT(VAPIC);
	int node = -1, status = -1, target;
	void *pages[1] = { page };
	uint64_t v = 0;
	int fd = self->fd;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: boot with numa=fake=2");
	put_u32(page + APIC_PPR, 0x40);
	ASSERT_EQ(0, syscall(SYS_move_pages, 0, 1, pages, NULL, &node, 0));
	ASSERT_LE(0, node);
	target = !node;
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	/* MPOL_MF_MOVE: the status says where the page is, or why not. */
	syscall(SYS_move_pages, 0, 1, pages, &target, &status, 2);
	if (variant->flags & GUESTMAP_VMX_VCPU_CACHED) {
		EXPECT_EQ(target, status);
		EXPECT_EQ(0, vapic_write(fd, APIC_TPR, 0x33));
		EXPECT_EQ(0x33, u32_at(page + APIC_TPR));
	} else {
		/* Pinned: not moved. */
		EXPECT_NE(target, status);
		EXPECT_EQ(0, vapic_read(fd, APIC_PPR, &v));
		EXPECT_EQ(0x40, v);
	}
	EXPECT_EQ(0, vmexit(fd, 1, 0));
}

/*
 * The shadow vmcs12 (SDM 25.10; nested_cache_shadow_vmcs12()): with VMCS
 * shadowing, L2's VMREAD and VMWRITE act on the VMCS the link pointer
 * names, copied at entry and written back at exit.
 */
TEST_F(l2, shadow_vmcs12_round_trip)
{
	char *shadow = AT(SHADOW);
	int fd = self->fd;

	/* Revision with bit 31 set: a shadow VMCS. */
	put_u32(shadow, VMCS12_REVISION | (1U << 31));
	put_u64(shadow + O_GUEST_RIP, 0x1234);
	ASSERT_EQ(0, vmwrite(fd, F_SECONDARY, P2_DEFAULT | P2_SHADOW_VMCS));
	ASSERT_EQ(0, vmwrite(fd, F_VMCS_LINK_POINTER, SHADOW));
	ASSERT_EQ(0, vmwrite(fd, F_GUEST_RIP, 0x400000));
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(0x1234, vmread(fd, F_GUEST_RIP));
	EXPECT_EQ(0, vmwrite(fd, F_GUEST_RIP, 0x5678));
	/* Not in memory until the exit. */
	EXPECT_EQ(0x1234, u64_at(shadow + O_GUEST_RIP));
	ASSERT_EQ(0, vmexit(fd, 1, 0));
	EXPECT_EQ(0x5678, u64_at(shadow + O_GUEST_RIP));
	/* L1's own vmcs12 kept its value. */
	EXPECT_EQ(0x400000, vmread(fd, F_GUEST_RIP));
	/*
	 * L1's bitmaps (nested_vmx_exit_handled_vmcs_access()): a field whose
	 * bit is set, or an encoding above bit 14, exits to L1.
	 */
	AT(VMREAD_BM)[F_GUEST_RIP / 8] |= 1 << (F_GUEST_RIP % 8);
	AT(VMWRITE_BM)[F_GUEST_CR0 / 8] |= 1 << (F_GUEST_CR0 % 8);
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(REFLECTED(23), insn(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
	/* GUEST_CR0 is not in L1's VMREAD bitmap: read from the shadow, 0. */
	EXPECT_EQ(0, vmread(fd, F_GUEST_CR0));
	EXPECT_EQ(REFLECTED(25), insn(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_CR0, 0));
	EXPECT_EQ(REFLECTED(23), insn(fd, GUESTMAP_VMX_VMREAD, 0x8000, 0));
	ASSERT_EQ(0, vmexit(fd, 1, 0));
	/* A shadow VMCS without bit 31: the link-pointer check, exit 33/4. */
	put_u32(shadow, VMCS12_REVISION);
	EXPECT_EQ(ENTRY_FAILED(EXIT_INVALID_STATE), insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
}

/*
 * PFN-only memory (above mem=, through /dev/mem): the descriptor is
 * posted with atomic updates of a frame that has no struct page, held
 * or cached.
 */
TEST_F(l2, post_interrupt_on_pfn_only_memory)
{
	unsigned long size, phys;
	int fd = self->fd;
	char *dev;

	if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
		SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
	dev = map_devmem(phys, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, dev);
	memset(dev, 0, PAGE);
	ASSERT_EQ(0, set_slot(fd, 1, P(NPAGES), PAGE, dev, 0));
	ASSERT_EQ(0, vmwrite(fd, F_POSTED_INTR_DESC, P(NPAGES) + 0x80));
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(1, op_result(fd, GUESTMAP_VMX_OP_POST_INTR, 0xff, 0));
	EXPECT_EQ(1ULL << 63, u64_at(dev + 0x80 + 24));
	EXPECT_EQ(1, dev[0x80 + PI_ON_BYTE] & 1);
	/*
	 * The frame has no struct page, so nothing keeps it the guest's once
	 * user space lets go of it: held or cached, it is never used stale.
	 */
	ASSERT_EQ(0, munmap(dev, PAGE));
	EXPECT_EQ(EFAULT, op(fd, GUESTMAP_VMX_OP_POST_INTR, 0x30, NULL, NULL));
	EXPECT_EQ(0, vmexit(fd, 1, 0));
}

/*
 * The enlightened VMCS (Hyper-V TLFS; KVM 6.12 nested.c and
 * hyperv_evmcs.c).  Byte offsets in struct hv_enlightened_vmcs
 * (asm/hyperv-tlfs.h, which scripts/vmx-layout.sh checks guestmap's
 * table against).
 */
#define EV_REVISION		0
#define EV_HOST_ES_SELECTOR	8
#define EV_HOST_CS_SELECTOR	10
#define EV_HOST_SS_SELECTOR	12
#define EV_HOST_DS_SELECTOR	14
#define EV_HOST_TR_SELECTOR	20
#define EV_HOST_CR0		40
#define EV_HOST_CR3		48
#define EV_HOST_CR4		56
#define EV_HOST_RIP		80
#define EV_PIN_BASED		92
#define EV_EXIT_CONTROLS	96
#define EV_SECONDARY		100
#define EV_MSR_BITMAP		120
#define EV_VIRTUAL_APIC_PAGE	408
#define EV_VMCS_LINK_POINTER	416
#define EV_GUEST_CR0		544
#define EV_GUEST_CR3		552
#define EV_GUEST_CR4		560
#define EV_GUEST_DR7		568
#define EV_HOST_RSP		616
#define EV_EPT_POINTER		624
#define EV_VM_INSTRUCTION_ERROR	688
#define EV_VM_EXIT_REASON	692
#define EV_EXIT_QUALIFICATION	720
#define EV_GUEST_RFLAGS		776
#define EV_CPU_BASED		788
#define EV_ENTRY_CONTROLS	796
#define EV_GUEST_RIP		816
#define EV_CLEAN_FIELDS		824
/* hv_clean_fields bits: GUEST_BASIC is bit 10, all 16 of them FFFFh. */
#define EV_CLEAN_GUEST_BASIC	(1U << 10)
#define EV_CLEAN_ALL		0xffffU
#define EVMCS			P(11)

static void put_u16(char *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * An eVMCS that enters, written with plain stores as L1 writes one: the
 * controls an eVMCS may have (EVMCS1_SUPPORTED_*: no APIC-access
 * virtualization, no posted interrupts), TPR shadow, EPT, MSR bitmaps.
 */
static void good_evmcs(char *e)
{
	memset(e, 0, PAGE);
	put_u32(e + EV_REVISION, 1);
	put_u32(e + EV_PIN_BASED, 0x16 | PIN_EXT_INTR);
	put_u32(e + EV_CPU_BASED, 0x0401e172U | PROC_TPR_SHADOW | PROC_MSR_BITMAPS |
		PROC_SECONDARY);
	put_u32(e + EV_SECONDARY, P2_EPT);
	put_u32(e + EV_EXIT_CONTROLS, EXIT_DEFAULT);
	put_u32(e + EV_ENTRY_CONTROLS, ENTRY_DEFAULT);
	put_u64(e + EV_MSR_BITMAP, MSR_BITMAP_GPA);
	put_u64(e + EV_VIRTUAL_APIC_PAGE, VAPIC);
	put_u64(e + EV_EPT_POINTER, EPTP);
	put_u64(e + EV_VMCS_LINK_POINTER, ~0ULL);
	put_u64(e + EV_HOST_CR0, 0x80010031);
	put_u64(e + EV_HOST_CR3, 0x1000);
	put_u64(e + EV_HOST_CR4, 0x2020);
	put_u16(e + EV_HOST_CS_SELECTOR, 0x08);
	put_u16(e + EV_HOST_SS_SELECTOR, 0x10);
	put_u16(e + EV_HOST_DS_SELECTOR, 0x10);
	put_u16(e + EV_HOST_ES_SELECTOR, 0x10);
	put_u16(e + EV_HOST_TR_SELECTOR, 0x18);
	put_u64(e + EV_HOST_RSP, 0xffffc90000008000ULL);
	put_u64(e + EV_HOST_RIP, 0xffffffff81000000ULL);
	put_u64(e + EV_GUEST_CR0, 0x80010031);
	put_u64(e + EV_GUEST_CR3, 0x2000);
	put_u64(e + EV_GUEST_CR4, 0x2020);
	put_u64(e + EV_GUEST_DR7, 0x400);
	put_u64(e + EV_GUEST_RFLAGS, 0x2);
	put_u64(e + EV_GUEST_RIP, 0x400000);
	put_u32(e + EV_CLEAN_FIELDS, 0);
}

static int set_evmcs(int fd, uint64_t gpa)
{
	return op(fd, GUESTMAP_VMX_OP_EVMCS, gpa, NULL, NULL);
}

/*
 * An eVMCS named in the VP assist page (nested_vmx_handle_enlightened_
 * vmptrld()): the next VMLAUNCH maps it, drops the current vmcs12 without
 * writing it back, and copies it into an empty vmcs12, all groups (clean
 * fields cannot be trusted at VMLAUNCH); errors and exits are synced back
 * into it (copy_vmcs12_to_enlightened()); VMREAD reads it; VMPTRLD and
 * VMPTRST have no vmcs12 to act on.
 */
TEST_F(l2, enlightened_vmcs)
{
	char *e = AT(EVMCS), *other = AT(P(12));
	int fd = self->fd;

	good_evmcs(e);
	put_u64(e + EV_GUEST_RIP, 0x600000);
	ASSERT_EQ(0, set_evmcs(fd, EVMCS));
	/* Not mapped before an entry: VMREAD still reads vmcs12. */
	EXPECT_EQ(0x400000, vmread(fd, F_GUEST_RIP));
	/*
	 * An eVMCS cannot have a preemption timer (EVMCS1_SUPPORTED_PINCTRL):
	 * error 7, found among the controls, before the host state's error 8.
	 */
	put_u32(e + EV_PIN_BASED, 0x16 | PIN_EXT_INTR | (1U << 6));
	put_u64(e + EV_HOST_CR0, 0x10031);
	EXPECT_EQ(FAIL_VALID(7), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	/* The error is synced into the eVMCS, which VMREAD now reads. */
	EXPECT_EQ(7, u32_at(e + EV_VM_INSTRUCTION_ERROR));
	EXPECT_EQ(7, vmread(fd, F_VM_INSTRUCTION_ERROR));
	EXPECT_EQ(0x600000, vmread(fd, F_GUEST_RIP));
	/* The vmcs12 current before was dropped, not written back. */
	EXPECT_EQ(0, u64_at(AT(VMCS) + O_GUEST_RIP));
	put_u32(e + EV_PIN_BASED, 0x16 | PIN_EXT_INTR);
	put_u64(e + EV_HOST_CR0, 0x80010031);
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(EV_CLEAN_ALL, u32_at(e + EV_CLEAN_FIELDS));
	EXPECT_EQ(0, vmexit(fd, 12, 0x77));
	EXPECT_EQ(12, u32_at(e + EV_VM_EXIT_REASON));
	EXPECT_EQ(0x77, u64_at(e + EV_EXIT_QUALIFICATION));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 1));
	EXPECT_EQ(-EBUSY, insn(fd, GUESTMAP_VMX_VMPTRLD, VMCS, 0));
	EXPECT_EQ(-EBUSY, insn(fd, GUESTMAP_VMX_VMPTRST, 0, 0));
	/* The operand checks still come first: the VMXON pointer, error 10. */
	EXPECT_EQ(FAIL_VALID(10), insn(fd, GUESTMAP_VMX_VMPTRLD, VMXON, 0));
	/*
	 * A group changed but marked clean is not copied at VMRESUME (the
	 * exit writes vmcs12's value back); marked dirty, it is.
	 */
	put_u64(e + EV_GUEST_RFLAGS, 0x202);
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	EXPECT_EQ(0x2, u64_at(e + EV_GUEST_RFLAGS));
	put_u64(e + EV_GUEST_RFLAGS, 0x202);
	put_u32(e + EV_CLEAN_FIELDS, EV_CLEAN_ALL & ~EV_CLEAN_GUEST_BASIC);
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	EXPECT_EQ(0x202, u64_at(e + EV_GUEST_RFLAGS));
	/* VMLAUNCH trusts no clean field. */
	put_u64(e + EV_GUEST_RFLAGS, 0x2);
	EXPECT_EQ(EV_CLEAN_ALL, u32_at(e + EV_CLEAN_FIELDS));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	EXPECT_EQ(0x2, u64_at(e + EV_GUEST_RFLAGS));
	/*
	 * VMCLEAR with enlightened VM entry on writes no launch state, to any
	 * address (it may be an eVMCS), and lets the mapped eVMCS go if it is
	 * the one; the next entry maps it again.
	 */
	good_evmcs(other);
	EXPECT_EQ(SUCCEED, insn(fd, GUESTMAP_VMX_VMCLEAR, P(12), 0));
	EXPECT_EQ(0x10, *(uint16_t *)(other + EV_HOST_ES_SELECTOR));
	EXPECT_EQ(SUCCEED, insn(fd, GUESTMAP_VMX_VMCLEAR, EVMCS, 0));
	EXPECT_EQ(0x10, *(uint16_t *)(e + EV_HOST_ES_SELECTOR));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	/* Another eVMCS with a wrong revision: VMfailInvalid, none mapped. */
	put_u32(other + EV_REVISION, 2);
	ASSERT_EQ(0, set_evmcs(fd, P(12)));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
	/*
	 * KVM maps the page the named address falls in; ~1, KVM's "map
	 * pending", names none (evmptr_is_valid()).
	 */
	good_evmcs(other);
	ASSERT_EQ(0, set_evmcs(fd, P(12) + 8));
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	/*
	 * prepare_vmcs02() ORs every group in, before the MSR-load list and
	 * the CPU's own checks: bits above stay, and a virtual-APIC page the
	 * CPU then fails on (VMfailValid 7) still finds them set.
	 */
	put_u32(other + EV_CLEAN_FIELDS, (1U << 31) | EV_CLEAN_GUEST_BASIC);
	EXPECT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ((1U << 31) | EV_CLEAN_ALL, u32_at(other + EV_CLEAN_FIELDS));
	EXPECT_EQ(0, vmexit(fd, 12, 0));
	put_u64(other + EV_VIRTUAL_APIC_PAGE, 0x40000000);
	put_u32(other + EV_CLEAN_FIELDS, 0);
	EXPECT_EQ(FAIL_VALID(7), insn(fd, GUESTMAP_VMX_VMRESUME, 0, 0));
	EXPECT_EQ(EV_CLEAN_ALL, u32_at(other + EV_CLEAN_FIELDS));
	ASSERT_EQ(0, set_evmcs(fd, ~1ULL));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	/* One in no memslot: KVM's map fails, #UD. */
	ASSERT_EQ(0, set_evmcs(fd, 0x40000000));
	EXPECT_EQ(R(GUESTMAP_VMX_EXCEPTION, 6), insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	/* None named: vmcs12 again, and there is no current one. */
	ASSERT_EQ(0, set_evmcs(fd, ~0ULL));
	EXPECT_EQ(FAIL_INVALID, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
}

/*
 * The eVMCS page replaced under the vCPU (MAP_FIXED) between entries:
 * held, the frame of before is still read; cached, the new page.
 */
TEST_F(l2, enlightened_vmcs_remapped)
{
	char *e = AT(EVMCS), *again;
	int fd = self->fd;
	uint64_t want;

	good_evmcs(e);
	ASSERT_EQ(0, set_evmcs(fd, EVMCS));
	ASSERT_EQ(ENTERED, insn(fd, GUESTMAP_VMX_VMLAUNCH, 0, 0));
	ASSERT_EQ(0, vmexit(fd, 12, 0));
	again = mmap(e, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(e, again);
	good_evmcs(e);
	put_u64(e + EV_GUEST_RIP, 0x500000);
	/* Held: the frame of before; cached: the page mapped now. */
	want = variant->flags & GUESTMAP_VMX_VCPU_CACHED ? 0x500000 : 0x400000;
	EXPECT_EQ(want, vmread(fd, F_GUEST_RIP));
}

TEST_HARNESS_MAIN
