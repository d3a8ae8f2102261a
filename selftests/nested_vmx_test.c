// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap nested VMX selftests: VMXON, VMPTRLD, VMCLEAR, VMPTRST, VMREAD,
 * VMWRITE and VMXOFF as L1 executes them, on guest memory, with KVM's
 * vmcs12 layout; the commands' contract; and vmcs12 across memslot
 * deletion, re-creation, munmap and memory L1 may not read or write.
 *
 * Expected outcomes and error numbers are from the Intel SDM (vol. 3C,
 * 31.2 conventions, 31.4 table 31-1; vol. 2 VMX instruction reference)
 * and KVM 6.12 (arch/x86/kvm/vmx/nested.c handle_vmxon() and friends,
 * vmcs12.h for the layout), cited per test.  This machine's CPU emulation
 * has no VMX, so there is no KVM run to compare against: see
 * Documentation/testing.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"
#include "guestmap_vmx.h"

/* Guest memory: 16 pages at GPA; the VMXON region, then vmcs12s. */
#define GPA		0x100000ULL
#define NPAGES		16
#define VMXON		(GPA)
#define VMCS_A		(GPA + PAGE)
#define VMCS_B		(GPA + 2 * PAGE)
#define MAXPHY		36

/* Offsets in KVM's struct vmcs12 (vmcs12.h CHECK_OFFSET()). */
#define O_LAUNCH_STATE		8
#define O_MSR_BITMAP		56
#define O_GUEST_RIP		544
#define O_VM_EXIT_REASON	812
#define O_GUEST_ES_SELECTOR	964

#define UD	6
#define GP	13

/* CR0.PE, NE, PG and ET; CR4.PAE and VMXE; IA32_FEATURE_CONTROL lock and VMX outside SMX. */
#define L1_CR0	0x80000031ULL
#define L1_CR4	0x2020ULL
#define L1_FC	0x5ULL

static int set_slot(int fd, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *uaddr, uint32_t flags)
{
	struct guestmap_memslot m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)uaddr,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

/*
 * A CPU with VMX and PAE (so CR4_FIXED1 allows CR4.VMXE and CR4.PAE,
 * nested_vmx_cr_fixed1_bits_update()), MAXPHYADDR @maxphy, and the
 * capability MSRs @msrs over KVM's defaults.
 */
static int create_msrs(int fd, uint32_t id, uint32_t maxphy,
		       struct guestmap_vmx_msr *msrs, uint32_t nmsrs)
{
	struct guestmap_cpuid_entry e[] = {
		{ .function = 0, .eax = 1 },
		{ .function = 1, .ecx = 1U << 5, .edx = 1U << 6 },
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000008, .eax = maxphy },
	};
	struct guestmap_vmx_vcpu v = {
		.vcpu = id, .nent = 4, .entries = (uintptr_t)e,
		.nmsrs = nmsrs, .msrs = (uintptr_t)msrs,
	};

	return ioctl(fd, GUESTMAP_VMX_CREATE_VCPU, &v) ? errno : 0;
}

static int create(int fd, uint32_t id)
{
	return create_msrs(fd, id, MAXPHY, NULL, 0);
}

static int set_l1(int fd, uint32_t id, uint32_t cpl, uint64_t cr0,
		  uint64_t cr4, uint64_t fc)
{
	struct guestmap_vmx_l1 l1 = {
		.vcpu = id, .cpl = cpl, .cr0 = cr0, .cr4 = cr4,
		.feature_control = fc, .efer = 0x500,
	};

	return ioctl(fd, GUESTMAP_VMX_SET_L1, &l1) ? errno : 0;
}

/* One instruction; the outcome in @r.  Returns the ioctl's errno. */
static int insn(int fd, uint32_t id, uint32_t op, uint64_t operand,
		uint64_t value, struct guestmap_vmx_insn *r)
{
	memset(r, 0, sizeof(*r));
	r->vcpu = id;
	r->insn = op;
	r->operand = operand;
	r->value = value;
	r->result = r->error = r->vector = 0xdead;
	return ioctl(fd, GUESTMAP_VMX_INSN, r) ? errno : 0;
}

/* The outcome of @op as one number: result * 100 + error or vector. */
static int run(int fd, uint32_t op, uint64_t operand, uint64_t value)
{
	struct guestmap_vmx_insn r;
	int err = insn(fd, 0, op, operand, value, &r);

	if (err)
		return -err;
	return r.result * 100 + r.error + r.vector;
}

#define SUCCEED		(GUESTMAP_VMX_SUCCEED * 100)
#define FAIL_INVALID	(GUESTMAP_VMX_FAIL_INVALID * 100)
#define FAIL_VALID(n)	(GUESTMAP_VMX_FAIL_VALID * 100 + (n))
#define EXCEPTION(v)	(GUESTMAP_VMX_EXCEPTION * 100 + (v))

static uint64_t vmread(int fd, uint64_t field)
{
	struct guestmap_vmx_insn r;

	if (insn(fd, 0, GUESTMAP_VMX_VMREAD, field, 0, &r) ||
	    r.result != GUESTMAP_VMX_SUCCEED)
		return 0xbad0bad0bad0bad0ULL;
	return r.value;
}

FIXTURE(vmx) {
	int fd;
	char *mem;
};

FIXTURE_SETUP(vmx)
{
	struct guestmap_api_version ver;

	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &ver));
	ASSERT_TRUE(ver.caps & GUESTMAP_CAP_NESTED_VMX);
	self->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	put_u32(self->mem + (VMXON - GPA), VMCS12_REVISION);
	put_u32(self->mem + (VMCS_A - GPA), VMCS12_REVISION);
	put_u32(self->mem + (VMCS_B - GPA), VMCS12_REVISION);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, NPAGES * PAGE, self->mem, 0));
	ASSERT_EQ(0, create(self->fd, 0));
	ASSERT_EQ(0, set_l1(self->fd, 0, 0, L1_CR0, L1_CR4, L1_FC));
}

FIXTURE_TEARDOWN(vmx)
{
	close(self->fd);
	munmap(self->mem, NPAGES * PAGE);
}

/* handle_vmxon(): #UD, #GP, VMfail, in that order; the region's revision. */
TEST_F(vmx, vmxon_checks_in_order)
{
	int fd = self->fd;

	/* CR4.VMXE clear: #UD, even at CPL 3 with a bad region. */
	ASSERT_EQ(0, set_l1(fd, 0, 3, L1_CR0, L1_CR4 & ~0x2000ULL, 0));
	EXPECT_EQ(EXCEPTION(UD), run(fd, GUESTMAP_VMX_VMXON, 1, 0));
	/* CPL 3: #GP. */
	ASSERT_EQ(0, set_l1(fd, 0, 3, L1_CR0, L1_CR4, L1_FC));
	EXPECT_EQ(EXCEPTION(GP), run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	/* CR0.NE clear (IA32_VMX_CR0_FIXED0 has it): #GP. */
	ASSERT_EQ(0, set_l1(fd, 0, 0, L1_CR0 & ~0x20ULL, L1_CR4, L1_FC));
	EXPECT_EQ(EXCEPTION(GP), run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	/* IA32_FEATURE_CONTROL not locked, or VMX outside SMX off: #GP. */
	ASSERT_EQ(0, set_l1(fd, 0, 0, L1_CR0, L1_CR4, 0x4));
	EXPECT_EQ(EXCEPTION(GP), run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(0, set_l1(fd, 0, 0, L1_CR0, L1_CR4, 0x1));
	EXPECT_EQ(EXCEPTION(GP), run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(0, set_l1(fd, 0, 0, L1_CR0, L1_CR4, L1_FC));
	/* Unaligned, beyond MAXPHYADDR, in no slot, wrong revision: VMfailInvalid. */
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMXON, VMXON + 8, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMXON, 1ULL << MAXPHY, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMXON, 0x40000000, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMXON, GPA + 3 * PAGE, 0));
	/* Other instructions are #UD outside VMX operation. */
	EXPECT_EQ(EXCEPTION(UD), run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(EXCEPTION(UD), run(fd, GUESTMAP_VMX_VMXOFF, 0, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	/* Again: error 15, VMfailInvalid without a current VMCS ... */
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	/* ... VMfailValid with one, the number in its error field. */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(FAIL_VALID(15), run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	EXPECT_EQ(15, vmread(fd, F_VM_INSTRUCTION_ERROR));
	/* CPL checks of nested_vmx_check_permission(): #GP in VMX operation. */
	ASSERT_EQ(0, set_l1(fd, 0, 1, L1_CR0, L1_CR4, L1_FC));
	EXPECT_EQ(EXCEPTION(GP), run(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
}

/* handle_vmptrld(): address, VMXON pointer, revision; errors 9, 10, 11. */
TEST_F(vmx, vmptrld_checks)
{
	int fd = self->fd;

	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	/* No current VMCS: each VMfailValid is a VMfailInvalid. */
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A + 0x10, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMPTRLD, VMXON, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(FAIL_VALID(9), run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A + 0x10, 0));
	EXPECT_EQ(FAIL_VALID(9), run(fd, GUESTMAP_VMX_VMPTRLD, 1ULL << MAXPHY, 0));
	EXPECT_EQ(FAIL_VALID(10), run(fd, GUESTMAP_VMX_VMPTRLD, VMXON, 0));
	EXPECT_EQ(10, vmread(fd, F_VM_INSTRUCTION_ERROR));
	/* A wrong revision, and memory no slot holds (reads as all ones). */
	put_u32(self->mem + (VMCS_B - GPA), VMCS12_REVISION + 1);
	EXPECT_EQ(FAIL_VALID(11), run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_B, 0));
	EXPECT_EQ(FAIL_VALID(11), run(fd, GUESTMAP_VMX_VMPTRLD, 0x40000000, 0));
	/* A failed VMPTRLD left A current. */
	struct guestmap_vmx_insn r;

	ASSERT_EQ(0, insn(fd, 0, GUESTMAP_VMX_VMPTRST, 0, 0, &r));
	EXPECT_EQ(GUESTMAP_VMX_SUCCEED, r.result);
	EXPECT_EQ(VMCS_A, r.value);
	/* VMCLEAR: errors 2 and 3. */
	EXPECT_EQ(FAIL_VALID(2), run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A + 1, 0));
	EXPECT_EQ(FAIL_VALID(3), run(fd, GUESTMAP_VMX_VMCLEAR, VMXON, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	ASSERT_EQ(0, insn(fd, 0, GUESTMAP_VMX_VMPTRST, 0, 0, &r));
	EXPECT_EQ(~0ULL, r.value);
	/* VMREAD and VMWRITE without a current VMCS: VMfailInvalid. */
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMREAD, F_GUEST_RIP, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 1));
}

/*
 * A shadow VMCS (revision word bit 31) loads only if the CPU model has
 * "VMCS shadowing" (IA32_VMX_PROCBASED_CTLS2 allowed-1 bit 46, i.e. bit
 * 14 of the high word), as handle_vmptrld() checks.
 */
TEST_F(vmx, vmptrld_shadow_needs_vmcs_shadowing)
{
	struct guestmap_vmx_msr m = { .index = 0x48b };
	struct guestmap_vmx_insn r;
	int fd = self->fd;

	put_u32(self->mem + (VMCS_B - GPA), VMCS12_REVISION | (1U << 31));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_B, 0));

	/* vCPU 1: PROCBASED_CTLS2 allowing nothing, so no bit 46. */
	m.value = 0;
	ASSERT_EQ(0, create_msrs(fd, 1, MAXPHY, &m, 1));
	ASSERT_EQ(0, set_l1(fd, 1, 0, L1_CR0, L1_CR4, L1_FC));
	ASSERT_EQ(0, insn(fd, 1, GUESTMAP_VMX_VMXON, VMXON, 0, &r));
	EXPECT_EQ(GUESTMAP_VMX_SUCCEED, r.result);
	ASSERT_EQ(0, insn(fd, 1, GUESTMAP_VMX_VMPTRLD, VMCS_B, 0, &r));
	EXPECT_EQ(GUESTMAP_VMX_FAIL_INVALID, r.result);
}

/*
 * VMWRITE, VMCLEAR, VMPTRLD, VMREAD: the value survives the round trip
 * through guest memory, where it sits at KVM's offset.
 */
TEST_F(vmx, vmclear_vmptrld_round_trip)
{
	char *a = self->mem + (VMCS_A - GPA);
	int fd = self->fd;

	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	a[O_LAUNCH_STATE] = 1;
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0xffffffff81000000ULL));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_MSR_BITMAP, 0x123456789000ULL));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_ES_SELECTOR, 0xabcd0018));
	/* Nothing reaches memory before VMCLEAR. */
	EXPECT_EQ(0, u64_at(a + O_GUEST_RIP));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	EXPECT_EQ(0xffffffff81000000ULL, u64_at(a + O_GUEST_RIP));
	EXPECT_EQ(0x123456789000ULL, u64_at(a + O_MSR_BITMAP));
	EXPECT_EQ(0x0018, *(uint16_t *)(a + O_GUEST_ES_SELECTOR));
	EXPECT_EQ(0, u32_at(a + O_LAUNCH_STATE));
	EXPECT_EQ(VMCS12_REVISION, u32_at(a));
	/* Unchanged in user space: VMPTRLD again reads the same values. */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(0xffffffff81000000ULL, vmread(fd, F_GUEST_RIP));
	EXPECT_EQ(0x1234ULL, vmread(fd, F_MSR_BITMAP_HIGH));
	EXPECT_EQ(0x0018, vmread(fd, F_GUEST_ES_SELECTOR));
	/* Changed in user space: VMPTRLD of another, then back, sees it. */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_B, 0));
	memcpy(a + O_GUEST_RIP, &(uint64_t){ 0x4000 }, 8);
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(0x4000, vmread(fd, F_GUEST_RIP));
	/* VMCLEAR of a vmcs12 that is not current only zeroes its launch state. */
	self->mem[VMCS_B - GPA + O_LAUNCH_STATE] = 1;
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_B, 0));
	EXPECT_EQ(0, u32_at(self->mem + (VMCS_B - GPA) + O_LAUNCH_STATE));
	/* VMXOFF drops the current vmcs12 unwritten (free_nested()). */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0x5000));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXOFF, 0, 0));
	EXPECT_EQ(0x4000, u64_at(a + O_GUEST_RIP));
}

/* handle_vmread()/handle_vmwrite(): errors 12 and 13, widths, AR bytes. */
TEST_F(vmx, vmread_vmwrite_rules)
{
	struct guestmap_vmx_msr m = { .index = 0x485 };
	struct guestmap_vmx_insn r;
	int fd = self->fd;

	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	/* Encodings vmcs12 lacks, and bits above 14 of the register. */
	EXPECT_EQ(FAIL_VALID(12), run(fd, GUESTMAP_VMX_VMREAD, 0x8000, 0));
	EXPECT_EQ(FAIL_VALID(12), run(fd, GUESTMAP_VMX_VMREAD, 0x100000000ULL | F_GUEST_RIP, 0));
	EXPECT_EQ(FAIL_VALID(12), run(fd, GUESTMAP_VMX_VMWRITE, 0x0814, 1));
	EXPECT_EQ(FAIL_VALID(12), run(fd, GUESTMAP_VMX_VMREAD, 0x681f, 0));
	/* A 16-bit field keeps 16 bits; AR bytes keep mask 0x1f0ff. */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_ES_SELECTOR, 0x12345678));
	EXPECT_EQ(0x5678, vmread(fd, F_GUEST_ES_SELECTOR));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_ES_AR_BYTES, ~0ULL));
	EXPECT_EQ(0x1f0ff, vmread(fd, F_GUEST_ES_AR_BYTES));
	/*
	 * KVM's IA32_VMX_MISC has bit 29 (VMWRITE to any field,
	 * nested_vmx_setup_misc_data()): read-only data is writable.
	 */
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_VM_EXIT_REASON, 48));
	EXPECT_EQ(48, vmread(fd, F_VM_EXIT_REASON));

	/*
	 * vCPU 1, its IA32_VMX_MISC KVM's without bit 29: preemption-timer
	 * rate 5, activity states HLT (bit 6) and wait-for-SIPI (bit 8).
	 * Error 13.
	 */
	m.value = 0x145;
	ASSERT_EQ(0, create_msrs(fd, 1, MAXPHY, &m, 1));
	ASSERT_EQ(0, set_l1(fd, 1, 0, L1_CR0, L1_CR4, L1_FC));
	ASSERT_EQ(0, insn(fd, 1, GUESTMAP_VMX_VMXON, VMXON, 0, &r));
	ASSERT_EQ(0, insn(fd, 1, GUESTMAP_VMX_VMPTRLD, VMCS_B, 0, &r));
	ASSERT_EQ(GUESTMAP_VMX_SUCCEED, r.result);
	ASSERT_EQ(0, insn(fd, 1, GUESTMAP_VMX_VMWRITE, F_VM_EXIT_REASON, 48, &r));
	EXPECT_EQ(GUESTMAP_VMX_FAIL_VALID, r.result);
	EXPECT_EQ(13, r.error);
	EXPECT_EQ(0, u32_at(self->mem + (VMCS_B - GPA) + O_VM_EXIT_REASON));
}

/*
 * The vmcs12's memory goes away and comes back: deleted slot, re-created
 * slot over new memory, munmap, read-only and PROT_NONE memory.  Nothing
 * is kept between instructions, so each one meets what is there now.
 */
TEST_F(vmx, vmcs12_across_memory_lifetimes)
{
	char *a = self->mem + (VMCS_A - GPA);
	int fd = self->fd;
	char *fresh;

	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0x1111));

	/* Slot deleted: VMCLEAR's write-back is dropped, as KVM drops it. */
	ASSERT_EQ(0, set_slot(fd, 0, GPA, 0, NULL, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	EXPECT_EQ(0, u64_at(a + O_GUEST_RIP));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));

	/* Re-created at the same address over other memory: that is read. */
	fresh = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	put_u32(fresh + PAGE, VMCS12_REVISION);
	memcpy(fresh + PAGE + O_GUEST_RIP, &(uint64_t){ 0x2222 }, 8);
	ASSERT_EQ(0, set_slot(fd, 0, GPA, NPAGES * PAGE, fresh, 0));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(0x2222, vmread(fd, F_GUEST_RIP));

	/* Read-only in the process: the write-back fails, the memory stays. */
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0x3333));
	ASSERT_EQ(0, mprotect(fresh, NPAGES * PAGE, PROT_READ));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	EXPECT_EQ(0x2222, u64_at(fresh + PAGE + O_GUEST_RIP));
	/* PROT_NONE: not even the revision identifier can be read. */
	ASSERT_EQ(0, mprotect(fresh, NPAGES * PAGE, PROT_NONE));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	ASSERT_EQ(0, mprotect(fresh, NPAGES * PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));

	/* Unmapped under the slot: the write-back fails cleanly. */
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0x4444));
	ASSERT_EQ(0, munmap(fresh, NPAGES * PAGE));
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	EXPECT_EQ(FAIL_INVALID, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	/* Reused by a new mapping at the same address: read again. */
	fresh = mmap(fresh, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	put_u32(fresh + PAGE, VMCS12_REVISION);
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	EXPECT_EQ(0, vmread(fd, F_GUEST_RIP));
	munmap(fresh, NPAGES * PAGE);
}

/* A read-only memslot: VMPTRLD reads it, the write-back is refused. */
TEST_F(vmx, readonly_slot)
{
	int fd = self->fd;

	ASSERT_EQ(0, set_slot(fd, 0, GPA, 0, NULL, 0));
	ASSERT_EQ(0, set_slot(fd, 0, GPA, NPAGES * PAGE, self->mem,
			      GUESTMAP_MEM_READONLY));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMXON, VMXON, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMPTRLD, VMCS_A, 0));
	ASSERT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMWRITE, F_GUEST_RIP, 0x1111));
	self->mem[VMCS_A - GPA + O_LAUNCH_STATE] = 1;
	EXPECT_EQ(SUCCEED, run(fd, GUESTMAP_VMX_VMCLEAR, VMCS_A, 0));
	EXPECT_EQ(0, u64_at(self->mem + (VMCS_A - GPA) + O_GUEST_RIP));
	EXPECT_EQ(1, self->mem[VMCS_A - GPA + O_LAUNCH_STATE]);
}

/* The commands' contract: errnos for bad arguments, vCPU kinds and ids. */
TEST_F(vmx, command_errnos)
{
	struct guestmap_vmx_msr msrs[GUESTMAP_VMX_MSRS_MAX + 1] = {};
	struct guestmap_vmx_vcpu v = { .vcpu = 3 };
	struct guestmap_svm_l1 svm_l1 = { .vcpu = 0 };
	struct guestmap_vmx_insn r;
	int fd = self->fd;

	EXPECT_EQ(EINVAL, insn(fd, 0, 0, 0, 0, &r));
	EXPECT_EQ(EINVAL, insn(fd, 0, GUESTMAP_VMX_VMRESUME + 1, 0, 0, &r));
	r.pad = 1;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_VMX_INSN, &r));
	EXPECT_EQ(EINVAL, insn(fd, GUESTMAP_MAX_VCPUS, GUESTMAP_VMX_VMXOFF, 0, 0, &r));
	EXPECT_EQ(ENOENT, insn(fd, 1, GUESTMAP_VMX_VMXOFF, 0, 0, &r));
	EXPECT_EQ(EEXIST, create(fd, 0));
	EXPECT_EQ(EINVAL, set_l1(fd, 0, 4, L1_CR0, L1_CR4, L1_FC));
	/* An SVM command on a VMX vCPU. */
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_SVM_SET_L1, &svm_l1));
	EXPECT_EQ(EINVAL, errno);
	/* Too many MSRs; an MSR KVM would refuse; a bad pad; MAXPHYADDR 53. */
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, MAXPHY, msrs, GUESTMAP_VMX_MSRS_MAX + 1));
	msrs[0].index = 0x480;
	msrs[0].value = 0;
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, MAXPHY, msrs, 1));
	/* IA32_VMX_MISC with another preemption-timer rate than KVM's 5. */
	msrs[0].index = 0x485;
	msrs[0].value = 0x144;
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, MAXPHY, msrs, 1));
	msrs[0].index = 0x492;
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, MAXPHY, msrs, 1));
	msrs[0].index = 0x485;
	msrs[0].pad = 1;
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, MAXPHY, msrs, 1));
	EXPECT_EQ(EINVAL, create_msrs(fd, 1, 53, NULL, 0));
	EXPECT_EQ(EFAULT, create_msrs(fd, 1, MAXPHY, (void *)8, 1));
	/* Destroy: EINVAL for an id with no vCPU; then the id is free. */
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_VMX_CREATE_VCPU, &v));
	EXPECT_EQ(EINVAL, errno);
	v.vcpu = 0;
	EXPECT_EQ(0, ioctl(fd, GUESTMAP_VMX_CREATE_VCPU, &v));
	EXPECT_EQ(ENOENT, insn(fd, 0, GUESTMAP_VMX_VMXOFF, 0, 0, &r));
	EXPECT_EQ(0, create(fd, 0));
}

TEST_HARNESS_MAIN
