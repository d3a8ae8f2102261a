// SPDX-License-Identifier: GPL-2.0
/*
 * svm_diff_test: guestmap's nested SVM verdicts against real KVM's.
 *
 * One KVM VM, one vCPU: L1 runs the KVM selftests library's nested SVM
 * code (generic_svm_setup(), run_guest()) and L2 does one access (RDMSR,
 * WRMSR, IN, OUT) and then VMMCALL.  guestmap gets a memslot over the very
 * memory of KVM's memslot 0, so it reads the bytes L1 wrote, and a nested
 * vCPU with the KVM vCPU's CPUID.  For each case L1 builds a clean VMCB12
 * and stops (GUEST_SYNC) just before its VMRUN; the host then breaks one
 * rule of VMCB12 through guestmap's write path (GUESTMAP_WRITE_GUEST),
 * tells guestmap L1's state as KVM has it (GUESTMAP_SVM_SET_L1), runs
 * guestmap's VMRUN on those bytes, and lets L1 run VMRUN in KVM.  L1
 * reports what KVM did: an exception at VMRUN (its #UD/#GP handler skips
 * the instruction), exit code SVM_EXIT_ERR (VMEXIT_INVALID), or an exit of
 * L2 (L2 ran).  Only the outcome class (and vector) can be compared: KVM
 * has no check id; guestmap's is printed in the table.
 *
 * guestmap's vCPU stays in guest mode while KVM's L2 runs and leaves it
 * (GUESTMAP_SVM_VMEXIT, with the exit KVM reported) when KVM's L2 has
 * exited: so guestmap's write-back never touches VMCB12 before KVM read
 * it, and the cases that change memory while L2 runs see both in guest
 * mode at once.
 *
 * MSR and IO intercepts: L1 intercepts MSR_PROT / IOIO_PROT with maps the
 * host fills (through guestmap).  guestmap is asked GUESTMAP_SVM_INTERCEPT
 * for L2's access; KVM's answer is whether L1 got SVM_EXIT_MSR/IOIO at
 * that access, and, where the kvm:kvm_nested_vmexit tracepoint is there,
 * whether L2's access exited to L0 at all (GUESTMAP_SVM_EXIT_L0).
 *
 * The expected KVM outcome of every case is written down from 6.12's code
 * (arch/x86/kvm/svm/nested.c and svm.c, cited per case).  The test asserts
 * that guestmap agrees with KVM, never with a value of its own; a KVM
 * outcome other than 6.12's rule is only reported as a note.  With -k the
 * judge is that rule instead: each case must break, in KVM's eyes, the rule
 * it names.  -k also works without guestmap's nested SVM (its column is then
 * empty) and is how the KVM half was validated before guestmap had it.
 *
 * KVM's verdict, not the CPU's: when KVM's checks pass it runs vmcb02, and
 * a CPU may refuse that (QEMU's TCG refuses EFER.LMSLE, which KVM 6.12
 * allows with nested=1); L1 then sees SVM_EXIT_ERR too.  The tracepoint
 * tells the two apart (an exit of L2 with SVM_EXIT_ERR), and such a case
 * counts as ENTERED, which is what guestmap models.
 *
 * Also: VMCB12 and the maps in PFN-only memory (GUESTMAP_HIDDEN, RAM above
 * mem= through /dev/mem, as a second memslot of both), and a second VM
 * whose CPU model lacks NPT.
 *
 * Build: make -C selftests svm_diff_test KDIR=$(scripts/kernel.sh) \
 *		KVM_SELFTESTS=$(scripts/kvm-selftests.sh)
 * Run (from the repository, GM_TEST_* from scripts/lib.sh):
 *	scripts/vm-run --kvm --module --append "$GM_TEST_APPEND" -- \
 *		"$GM_TEST_ENV selftests/svm_diff_test"
 * Usage: svm_diff_test [-k]; SVM_DIFF_DEBUG=1 prints the traced L2 exits.
 * Skips (KSFT_SKIP) without /dev/kvm or nested SVM, and without
 * /dev/guestmap or GUESTMAP_CAP_NESTED_SVM unless -k.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "kselftest.h"

#include <linux/guestmap.h>
#include "guestmap_util.h"

/* ------------------------------------------------------------------ */
/* Constants shared by the host and the guest code.                   */

#define NO_VECTOR	0xffULL

/*
 * L2's "stop here" port: an OUT that no in-kernel device claims (the
 * selftests VM has the PIC at 0x20/0xa0/0x4d0 and no PIT) and that L1 never
 * intercepts, so it reaches the host as KVM_EXIT_IO with L2 in guest mode.
 */
#define SYNC_PORT	0x6e
/* lib/x86_64/ucall.c's UCALL_PIO_PORT, which it does not export. */
#define UCALL_PORT	0x1000

/* 6.12 arch/x86/kvm/svm/svm.h: MSRPM_SIZE, IOPM_SIZE. */
#define MSRPM_BYTES	(2 * PAGE)
#define IOPM_BYTES	(3 * PAGE)

/* 6.12 arch/x86/include/asm/svm.h; the selftests' copy lacks it. */
#define V_NMI_ENABLE	(1U << 26)

/* PFN-only memory: a second memslot of KVM and guestmap, identity mapped. */
#define PFN_GPA		0x10000000ULL
#define PFN_PAGES	8
/* A legal guest physical address in no memslot. */
#define UNBACKED_GPA	0x30000000ULL

#define MSR_KVM_WALL_CLOCK_NEW_	0x4b564d00
#define DEFAULT_PAT	0x0007040600070406ULL

enum { SYNC_NEXT = 1, SYNC_PRE_VMRUN, SYNC_RESULT };
enum { L1_NONE, L1_HSAVE_0, L1_SVME_CLEAR };
/* L2's access: GUESTMAP_SVM_RDMSR, _WRMSR, _IN, _OUT, or 0 for none. */

/* What the host tells L1 (and L2) for the next case. */
struct l1_cmd {
	uint64_t done;
	uint64_t vmcb_gva;	/* 0: the VMCB12 of vcpu_alloc_svm() */
	uint64_t vmcb_gpa;	/* 0: the same */
	uint64_t l1;		/* L1_* */
	uint64_t op, index, size, value;
	uint64_t l2_sync;	/* L2 stops at SYNC_PORT before its access */
};

/* What L1 (and L2) tell the host. */
struct l1_res {
	uint64_t vmrun_vector;	/* exception at VMRUN, else NO_VECTOR */
	uint64_t other_vector;	/* at VMLOAD/VMSAVE (run_guest()) */
	uint64_t exit_code, exit_code_hi, exit_info_1, exit_info_2;
	uint64_t exit_int_info;
	uint64_t l2_step;	/* 1: started, 2: at its access, 3: done */
	uint64_t l2_vector;	/* an exception L2's access took */
};

struct l1_cmd cmd;
struct l1_res res;

#define L2_STACK_WORDS	512
unsigned long l2_stack[L2_STACK_WORDS];

/* ------------------------------------------------------------------ */
/* Guest code.                                                        */

/*
 * L1's #UD and #GP handler, which L2 shares (same IDT, same page tables):
 * VMRUN, VMLOAD, VMSAVE (0f 01 d8/da/db) that fault in L1 are recorded and
 * skipped; an RDMSR or WRMSR (0f 32/30) that faults in L2 (an MSR neither
 * L1 nor KVM handles) too, so L2 still reaches its VMMCALL.
 */
static void ex_handler(struct ex_regs *regs)
{
	const uint8_t *ip = (const uint8_t *)regs->rip;

	if (ip[0] == 0x0f && ip[1] == 0x01 &&
	    (ip[2] == 0xd8 || ip[2] == 0xda || ip[2] == 0xdb)) {
		if (ip[2] == 0xd8)
			res.vmrun_vector = regs->vector;
		else
			res.other_vector = regs->vector;
		regs->rip += 3;
	} else if (ip[0] == 0x0f && (ip[1] == 0x32 || ip[1] == 0x30)) {
		res.l2_vector = regs->vector;
		regs->rip += 2;
	} else {
		GUEST_FAIL("exception %lu at 0x%lx", regs->vector, regs->rip);
	}
}

static void l2_access(void)
{
	uint32_t idx = cmd.index, lo, hi;
	uint16_t port = cmd.index;
	uint64_t v = cmd.value;

	switch (cmd.op) {
	case GUESTMAP_SVM_RDMSR:
		asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(idx) : "memory");
		break;
	case GUESTMAP_SVM_WRMSR:
		asm volatile("wrmsr" : : "c"(idx), "a"((uint32_t)v),
			     "d"((uint32_t)(v >> 32)) : "memory");
		break;
	case GUESTMAP_SVM_IN:
		if (cmd.size == 1)
			asm volatile("inb %%dx, %%al" : "=a"(lo) : "d"(port) : "memory");
		else if (cmd.size == 2)
			asm volatile("inw %%dx, %%ax" : "=a"(lo) : "d"(port) : "memory");
		else
			asm volatile("inl %%dx, %%eax" : "=a"(lo) : "d"(port) : "memory");
		break;
	case GUESTMAP_SVM_OUT:
		if (cmd.size == 1)
			asm volatile("outb %%al, %%dx" : : "a"(0), "d"(port) : "memory");
		else if (cmd.size == 2)
			asm volatile("outw %%ax, %%dx" : : "a"(0), "d"(port) : "memory");
		else
			asm volatile("outl %%eax, %%dx" : : "a"(0), "d"(port) : "memory");
		break;
	}
}

static void l2_guest(void)
{
	res.l2_step = 1;
	if (cmd.l2_sync)
		asm volatile("outb %%al, %%dx" : : "a"(0), "d"(SYNC_PORT) : "memory");
	res.l2_step = 2;
	l2_access();
	res.l2_step = 3;
	vmmcall();
	GUEST_FAIL("L2 resumed after its VMMCALL");
}

static void l1_guest(struct svm_test_data *svm)
{
	for (;;) {
		struct vmcb *vmcb;
		uint64_t gpa;

		GUEST_SYNC(SYNC_NEXT);
		if (cmd.done)
			break;
		/*
		 * A clean VMCB12 for every case, plus a SHUTDOWN intercept (no
		 * rule asks for or against it), so that an L2 that triple
		 * faults exits to L1 instead of shutting the VM down.
		 */
		generic_svm_setup(svm, l2_guest, &l2_stack[L2_STACK_WORDS]);
		svm->vmcb->control.intercept |= 1ULL << INTERCEPT_SHUTDOWN;
		vmcb = cmd.vmcb_gva ? (struct vmcb *)cmd.vmcb_gva : svm->vmcb;
		gpa = cmd.vmcb_gpa ? cmd.vmcb_gpa : svm->vmcb_gpa;

		if (cmd.l1 == L1_HSAVE_0)
			wrmsr(MSR_VM_HSAVE_PA, 0);
		if (cmd.l1 == L1_SVME_CLEAR)
			wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
		res.vmrun_vector = NO_VECTOR;
		res.other_vector = NO_VECTOR;
		res.l2_vector = NO_VECTOR;
		res.l2_step = 0;

		/* The host edits VMCB12 and asks guestmap now. */
		GUEST_SYNC(SYNC_PRE_VMRUN);
		run_guest(vmcb, gpa);

		res.exit_code = vmcb->control.exit_code;
		res.exit_code_hi = vmcb->control.exit_code_hi;
		res.exit_info_1 = vmcb->control.exit_info_1;
		res.exit_info_2 = vmcb->control.exit_info_2;
		res.exit_int_info = vmcb->control.exit_int_info |
			(uint64_t)vmcb->control.exit_int_info_err << 32;
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
		wrmsr(MSR_VM_HSAVE_PA, svm->save_area_gpa);
		GUEST_SYNC(SYNC_RESULT);
	}
	GUEST_DONE();
}

/* ------------------------------------------------------------------ */
/* Host: cases.                                                       */

/* Where an edit writes: VMCB12, or L1's MSR or IO permission map. */
enum { T_VMCB, T_MSRPM, T_IOPM };
enum { E_SET, E_OR, E_CLEAR };
/* The value of an edit, resolved when it is made. */
enum {
	V_CONST,	/* val */
	V_PHYS,		/* 2^MAXPHYADDR + val (val may be negative) */
	V_MSRPM,	/* the case's MSR map + val */
	V_IOPM,		/* the case's IO map + val */
	V_SPARE,	/* a zeroed page + val */
};

struct edit {
	uint8_t tgt, width, op, src;
	uint32_t off;
	uint64_t val;
};

struct outcome {
	bool known;
	uint32_t result;	/* GUESTMAP_SVM_ENTERED, ... */
	uint32_t vector;
	uint32_t check;		/* guestmap's check id */
	int exits;		/* GUESTMAP_SVM_EXIT_*, -1 unknown */
	int l0;			/* KVM: L2's access exited to L0: 1, 0, -1 unknown */
	bool cpu_refused;	/* KVM entered, the CPU refused vmcb02 */
	int err;		/* guestmap: errno of the first failed ioctl */
	const char *err_what;
	char note[96];
};

struct tcase {
	char name[96];
	const char *why;	/* 6.12's rule */
	int env;		/* 0: the main VM; 1: the model without NPT */
	bool pfn;		/* VMCB12 and the maps in PFN-only memory */
	bool skip;
	const char *skip_why;
	uint32_t run_flags;	/* GUESTMAP_SVM_RUN_CACHED */
	int l1;			/* L1_* */
	bool unbacked_vmcb;	/* VMCB12 at a gpa in no memslot */
	struct edit pre[4];	/* before VMRUN */
	int npre;
	struct edit mid[4];	/* while L2 runs, stopped at SYNC_PORT */
	int nmid;
	uint32_t op, index, size;	/* L2's access, op 0 for none */
	uint64_t value;
	/* 6.12's answer */
	uint32_t exp, exp_vector;
	int exp_exits;		/* for an access: GUESTMAP_SVM_EXIT_*; else -1 */
	struct outcome gm, kvm;
	bool pass;
};

struct place {
	uint64_t vmcb_gpa, vmcb_gva, msrpm_gpa, iopm_gpa, spare_gpa;
};

struct env {
	const char *label;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct svm_test_data *svm;
	struct place mem, pfn;
	bool has_pfn;
	char *pfn_hva;
	unsigned int maxphy;
	bool amd_compat;
	int gm;			/* /dev/guestmap with our memslots, or -1 */
	bool gm_vcpu;		/* guestmap's nested vCPU 0 exists */
	bool gm_in_guest;	/* ... and is in guest mode */
	int user_io;		/* L2 IO that reached the host, this case */
	uint32_t user_io_port;
	struct tcase *cur;
};

static bool kvm_only;
static bool gm_has_svm;
static bool npt_enabled;
static int trace_ok;

#define MAX_CASES	160
static struct tcase cases[MAX_CASES];
static int ncases;

#define VMCB_CTRL(f)	offsetof(struct vmcb, control.f)
#define VMCB_SAVE(f)	offsetof(struct vmcb, save.f)

static struct tcase *add(const char *why, uint32_t exp, const char *fmt, ...)
{
	struct tcase *c;
	va_list ap;

	TEST_ASSERT(ncases < MAX_CASES, "too many cases");
	c = &cases[ncases++];
	memset(c, 0, sizeof(*c));
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->why = why;
	c->exp = exp;
	c->exp_exits = -1;
	return c;
}

static void push(struct edit *list, int *n, uint8_t tgt, uint32_t off,
		 uint8_t width, uint8_t op, uint8_t src, uint64_t val)
{
	TEST_ASSERT(*n < 4, "too many edits");
	list[(*n)++] = (struct edit){ tgt, width, op, src, off, val };
}

#define PRE(c, ...)	push((c)->pre, &(c)->npre, __VA_ARGS__)
#define MID(c, ...)	push((c)->mid, &(c)->nmid, __VA_ARGS__)

#define ENTERED		GUESTMAP_SVM_ENTERED
#define EXCEPTION	GUESTMAP_SVM_EXCEPTION
#define INVALID		GUESTMAP_SVM_VMEXIT_INVALID
#define EXIT_L0		GUESTMAP_SVM_EXIT_L0
#define EXIT_L1		GUESTMAP_SVM_EXIT_L1

static struct tcase *add_exception(const char *why, uint32_t vector,
				   const char *name)
{
	struct tcase *c = add(why, EXCEPTION, "%s", name);

	c->exp_vector = vector;
	return c;
}

/* ------------------------------------------------------------------ */
/* L0's MSR interception, as KVM 6.12 sets it for an L1 guest.        */

/*
 * arch/x86/kvm/svm/svm.c: svm_vcpu_init_msrpm() (line 885) passes through
 * every direct_access_msrs[] entry with .always = true (lines 88-112):
 * STAR, SYSENTER_CS, GS_BASE, FS_BASE, KERNEL_GS_BASE, LSTAR, CSTAR,
 * SYSCALL_MASK and SEV_ES_GHCB; svm_allocate_nested() does the same to
 * nested.msrpm.  init_vmcb_after_set_cpuid() (line 1198) passes
 * SYSENTER_EIP and SYSENTER_ESP through too unless the CPUID vendor is
 * Intel-compatible.  Every other bit of L0's map stays set
 * (svm_vcpu_alloc_msrpm() fills it with 0xff); the .always = false MSRs
 * (SPEC_CTRL, PRED_CMD, FLUSH_CMD, LBR, EFER, PAT, TSC_AUX, x2APIC) are
 * opened only on conditions this test never meets (a guest write to
 * SPEC_CTRL, IBPB/FLUSH_L1D on the host, LBR virtualization, x2AVIC,
 * SEV-ES), and none of the cases touch the first three.
 */
static const uint32_t l0_always[] = {
	MSR_STAR, MSR_IA32_SYSENTER_CS, MSR_GS_BASE, MSR_FS_BASE,
	MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_AMD64_SEV_ES_GHCB,
};

static bool l0_passes(const struct env *e, uint32_t msr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(l0_always); i++)
		if (l0_always[i] == msr)
			return true;
	return e->amd_compat && (msr == MSR_IA32_SYSENTER_EIP ||
				 msr == MSR_IA32_SYSENTER_ESP);
}

/*
 * The byte and bit of @msr in an MSR permission map, as 6.12's
 * svm_msrpm_offset() and nested_svm_exit_handled_msr() find them; false if
 * @msr is in none of the three ranges.
 */
static bool msrpm_bit(uint32_t msr, bool write, uint32_t *byte, uint8_t *mask)
{
	static const uint32_t start[] = { 0, 0xc0000000, 0xc0010000 };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (msr < start[i] || msr >= start[i] + 0x2000)
			continue;
		*byte = (msr - start[i]) / 4 + i * 0x800;
		*mask = 1 << (2 * (msr & 3) + write);
		return true;
	}
	return false;
}

/*
 * 6.12's answer for an MSR access of L2: nested_svm_vmrun_msrpm() merges
 * L1's map into L0's at VMRUN only if L1 intercepts MSR_PROT (else vmcb02
 * keeps vmcb01's map, nested_vmcb02_prepare_control()); an MSR outside the
 * ranges always exits.  After the exit, nested_svm_exit_handled_msr()
 * reads L1's map live: reflected if MSR_PROT and (outside the ranges, or
 * the bit set now).
 */
static int msr_model(const struct env *e, uint32_t msr, bool write,
		     bool msr_prot, bool bit_at_vmrun, bool bit_now)
{
	uint32_t byte;
	uint8_t mask;
	bool in = msrpm_bit(msr, write, &byte, &mask);
	bool l0 = !in || !l0_passes(e, msr) || (msr_prot && bit_at_vmrun);

	if (!l0)
		return 0;
	return EXIT_L0 | (msr_prot && (!in || bit_now) ? EXIT_L1 : 0);
}

/*
 * 6.12's answer for IN/OUT of L2: L0's IOPM is all ones (svm_hardware_setup()),
 * so every port exits to L0; nested_svm_intercept_ioio() then reads one or
 * two bytes of L1's map live at iopm_base + port / 8 and tests
 * (0xf >> (4 - size)) << (port % 8).
 */
static int io_model(bool ioio_prot, const uint8_t *iopm, uint32_t port,
		    uint32_t size)
{
	uint32_t start = port % 8;
	uint16_t val = iopm[port / 8] | (start + size > 8 ? iopm[port / 8 + 1] << 8 : 0);
	uint16_t mask = (0xf >> (4 - size)) << start;

	return EXIT_L0 | (ioio_prot && (val & mask) ? EXIT_L1 : 0);
}

/* ------------------------------------------------------------------ */
/* The cases.                                                         */

#define INTERCEPT_BIT(i)	(1ULL << (i))

static void add_vmrun_cases(bool pfn, uint32_t run_flags, const char *sfx, bool full)
{
	struct tcase *c;

#define ADD(why, exp, ...) \
	(c = add(why, exp, __VA_ARGS__), c->pfn = pfn, c->run_flags = run_flags, c)

	/* Every check passes: L2 runs and exits with VMMCALL. */
	c = ADD("nested_svm_vmrun(): every check passes", ENTERED, "valid VMCB12%s", sfx);

	/* __nested_vmcb_check_save(): CC((cr0 & CD) == 0 && (cr0 & NW)) */
	c = ADD("__nested_vmcb_check_save(): CR0.NW without CR0.CD", INVALID,
		"CR0.NW without CD%s", sfx);
	PRE(c, T_VMCB, VMCB_SAVE(cr0), 8, E_OR, V_CONST, X86_CR0_NW);
	PRE(c, T_VMCB, VMCB_SAVE(cr0), 8, E_CLEAR, V_CONST, X86_CR0_CD);

	/* __nested_vmcb_check_controls(): CC(control->asid == 0) */
	c = ADD("__nested_vmcb_check_controls(): asid == 0", INVALID, "ASID 0%s", sfx);
	PRE(c, T_VMCB, VMCB_CTRL(asid), 4, E_SET, V_CONST, 0);
	if (!full)
		return;

	/* __nested_vmcb_check_controls(): !vmcb12_is_intercept(INTERCEPT_VMRUN) */
	c = ADD("__nested_vmcb_check_controls(): VMRUN not intercepted", INVALID,
		"VMRUN intercept cleared");
	PRE(c, T_VMCB, VMCB_CTRL(intercept), 8, E_CLEAR, V_CONST, INTERCEPT_BIT(INTERCEPT_VMRUN));

	/*
	 * __nested_vmcb_check_controls(): NP_ENABLE && !npt_enabled, then
	 * NP_ENABLE && !kvm_vcpu_is_legal_gpa(nested_cr3).
	 */
	c = ADD("__nested_vmcb_check_controls(): NP with nCR3 beyond MAXPHYADDR",
		INVALID, "NP enabled, nCR3 bit MAXPHYADDR set");
	PRE(c, T_VMCB, VMCB_CTRL(nested_ctl), 8, E_OR, V_CONST, SVM_NESTED_CTL_NP_ENABLE);
	PRE(c, T_VMCB, VMCB_CTRL(nested_cr3), 8, E_SET, V_PHYS, 0);
	/*
	 * A legal nCR3 (a zeroed page: L2's first fetch is a nested page
	 * fault, reflected to L1 as SVM_EXIT_NPF) passes if L0 has NPT
	 * (npt_enabled, the kvm_amd module parameter).
	 */
	c = ADD("__nested_vmcb_check_controls(): NP_ENABLE && !npt_enabled",
		npt_enabled ? ENTERED : INVALID, "NP enabled, legal nCR3");
	PRE(c, T_VMCB, VMCB_CTRL(nested_ctl), 8, E_OR, V_CONST, SVM_NESTED_CTL_NP_ENABLE);
	PRE(c, T_VMCB, VMCB_CTRL(nested_cr3), 8, E_SET, V_SPARE, 0);

	/*
	 * nested_svm_check_bitmap_pa(): PAGE_ALIGN(pa) and its last byte
	 * (MSRPM_SIZE 8 KiB, IOPM_SIZE 12 KiB) below MAXPHYADDR; bits 11:0
	 * were cleared by __nested_copy_vmcb_control_to_cache().  Without
	 * MSR_PROT/IOIO_PROT nothing reads the maps.
	 */
	c = ADD("nested_svm_check_bitmap_pa(msrpm_base_pa)", INVALID,
		"MSRPM base at 2^MAXPHYADDR");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_PHYS, 0);
	c = ADD("nested_svm_check_bitmap_pa(): bits 11:0 ignored", ENTERED,
		"MSRPM base with garbage in bits 11:0");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_MSRPM, 0xabc);
	c = ADD("nested_svm_check_bitmap_pa(): addr + MSRPM_SIZE - 1", INVALID,
		"MSRPM base 2^MAXPHYADDR - 0x1000 (last byte beyond)");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_PHYS, -0x1000ULL);
	c = ADD("nested_svm_check_bitmap_pa(): addr + MSRPM_SIZE - 1", ENTERED,
		"MSRPM base 2^MAXPHYADDR - 0x2000 (ends at MAXPHYADDR)");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_PHYS, -0x2000ULL);
	c = ADD("nested_svm_check_bitmap_pa(iopm_base_pa)", INVALID,
		"IOPM base at 2^MAXPHYADDR");
	PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_PHYS, 0);
	c = ADD("nested_svm_check_bitmap_pa(): bits 11:0 ignored", ENTERED,
		"IOPM base with garbage in bits 11:0");
	PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_IOPM, 0x5a5);
	c = ADD("nested_svm_check_bitmap_pa(): addr + IOPM_SIZE - 1", INVALID,
		"IOPM base 2^MAXPHYADDR - 0x2000 (last byte beyond)");
	PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_PHYS, -0x2000ULL);
	c = ADD("nested_svm_check_bitmap_pa(): addr + IOPM_SIZE - 1", ENTERED,
		"IOPM base 2^MAXPHYADDR - 0x3000 (ends at MAXPHYADDR)");
	PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_PHYS, -0x3000ULL);

	/*
	 * nested_svm_vmrun_msrpm(): with MSR_PROT, kvm_vcpu_read_guest() of
	 * L1's map failing ends VMRUN with SVM_EXIT_ERR (out_exit_err in
	 * nested_svm_vmrun()); without MSR_PROT the map is never read.
	 */
	c = ADD("nested_svm_vmrun_msrpm(): L1's map unreadable", INVALID,
		"MSRPM in no memslot, MSR_PROT intercepted");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_CONST, UNBACKED_GPA);
	PRE(c, T_VMCB, VMCB_CTRL(intercept), 8, E_OR, V_CONST, INTERCEPT_BIT(INTERCEPT_MSR_PROT));
	c = ADD("nested_svm_vmrun_msrpm(): no MSR_PROT, no read", ENTERED,
		"MSRPM in no memslot, MSR_PROT not intercepted");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_CONST, UNBACKED_GPA);

	/* __nested_vmcb_check_controls(): V_NMI_ENABLE && !INTERCEPT_NMI */
	c = ADD("__nested_vmcb_check_controls(): V_NMI_ENABLE without NMI intercept",
		INVALID, "V_NMI_ENABLE without the NMI intercept");
	PRE(c, T_VMCB, VMCB_CTRL(int_ctl), 4, E_OR, V_CONST, V_NMI_ENABLE);
	c = ADD("__nested_vmcb_check_controls(): V_NMI_ENABLE with NMI intercept",
		ENTERED, "V_NMI_ENABLE with the NMI intercept");
	PRE(c, T_VMCB, VMCB_CTRL(int_ctl), 4, E_OR, V_CONST, V_NMI_ENABLE);
	PRE(c, T_VMCB, VMCB_CTRL(intercept), 8, E_OR, V_CONST, INTERCEPT_BIT(INTERCEPT_NMI));

	/* __nested_vmcb_check_save(): CC(!(save->efer & EFER_SVME)) */
	c = ADD("__nested_vmcb_check_save(): EFER.SVME clear", INVALID,
		"save.EFER.SVME clear");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_CLEAR, V_CONST, EFER_SVME);
	c = ADD("__nested_vmcb_check_save(): CR0.NW with CR0.CD passes", ENTERED,
		"CR0.NW with CD");
	PRE(c, T_VMCB, VMCB_SAVE(cr0), 8, E_OR, V_CONST, X86_CR0_NW | X86_CR0_CD);
	/* __nested_vmcb_check_save(): CC(save->cr0 & ~0xffffffffULL) */
	c = ADD("__nested_vmcb_check_save(): CR0 bits 63:32", INVALID, "CR0 bit 32");
	PRE(c, T_VMCB, VMCB_SAVE(cr0), 8, E_OR, V_CONST, 1ULL << 32);
	/* __nested_vmcb_check_save(): !kvm_dr6_valid(), !kvm_dr7_valid() */
	c = ADD("__nested_vmcb_check_save(): !kvm_dr6_valid()", INVALID, "DR6 bit 32");
	PRE(c, T_VMCB, VMCB_SAVE(dr6), 8, E_OR, V_CONST, 1ULL << 32);
	c = ADD("__nested_vmcb_check_save(): !kvm_dr7_valid()", INVALID, "DR7 bit 32");
	PRE(c, T_VMCB, VMCB_SAVE(dr7), 8, E_OR, V_CONST, 1ULL << 32);
	/* __nested_vmcb_check_save(), EFER.LME && CR0.PG: */
	c = ADD("__nested_vmcb_check_save(): LME && PG && !CR4.PAE", INVALID,
		"long mode without CR4.PAE");
	PRE(c, T_VMCB, VMCB_SAVE(cr4), 8, E_CLEAR, V_CONST, X86_CR4_PAE);
	c = ADD("__nested_vmcb_check_save(): LME && PG && !CR0.PE", INVALID,
		"long mode without CR0.PE");
	PRE(c, T_VMCB, VMCB_SAVE(cr0), 8, E_CLEAR, V_CONST, X86_CR0_PE);
	c = ADD("__nested_vmcb_check_save(): LME && PG && !kvm_vcpu_is_legal_cr3()",
		INVALID, "long mode, CR3 bit MAXPHYADDR set");
	PRE(c, T_VMCB, VMCB_SAVE(cr3), 8, E_OR, V_PHYS, 0);
	c = ADD("__nested_vmcb_check_save(): LME && PG && CS.L && CS.D", INVALID,
		"CS.L with CS.D");
	PRE(c, T_VMCB, VMCB_SAVE(cs.attrib), 2, E_OR, V_CONST,
	    SVM_SELECTOR_L_MASK | SVM_SELECTOR_DB_MASK);
	/*
	 * Outside long mode (EFER.LME clear, LMA kept: "EFER.LMA is not
	 * checked by SVM") the save checks pass, and nested_svm_load_cr3()
	 * in enter_svm_guest_mode() refuses the CR3: out_exit_err.
	 */
	c = ADD("nested_svm_load_cr3(): !kvm_vcpu_is_legal_cr3()", INVALID,
		"EFER.LME clear, CR3 bit MAXPHYADDR set");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_CLEAR, V_CONST, EFER_LME);
	PRE(c, T_VMCB, VMCB_SAVE(cr3), 8, E_OR, V_PHYS, 0);
	/*
	 * __nested_vmcb_check_save(): !__kvm_is_valid_cr4(): CR4_RESERVED_BITS
	 * (bit 15 is in none of them) and cr4_guest_rsvd_bits, from the
	 * CPUID by __cr4_reserved_bits() (arch/x86/kvm/x86.h): VMXE without
	 * VMX, LA57 without LA57, PKE without PKU.  The model is built
	 * without VMX, LA57 and PKU (env_create()).
	 */
	c = ADD("__kvm_is_valid_cr4(): CR4_RESERVED_BITS", INVALID, "CR4 bit 15 (reserved)");
	PRE(c, T_VMCB, VMCB_SAVE(cr4), 8, E_OR, V_CONST, 1ULL << 15);
	c = ADD("__kvm_is_valid_cr4(): cr4_guest_rsvd_bits, no VMX", INVALID,
		"CR4.VMXE, model without VMX");
	PRE(c, T_VMCB, VMCB_SAVE(cr4), 8, E_OR, V_CONST, X86_CR4_VMXE);
	c = ADD("__kvm_is_valid_cr4(): cr4_guest_rsvd_bits, no LA57", INVALID,
		"CR4.LA57, model without LA57");
	PRE(c, T_VMCB, VMCB_SAVE(cr4), 8, E_OR, V_CONST, X86_CR4_LA57);
	c = ADD("__kvm_is_valid_cr4(): cr4_guest_rsvd_bits, no PKU", INVALID,
		"CR4.PKE, model without PKU");
	PRE(c, T_VMCB, VMCB_SAVE(cr4), 8, E_OR, V_CONST, X86_CR4_PKE);
	/*
	 * __nested_vmcb_check_save(): !kvm_valid_efer(): efer_reserved_bits
	 * (x86.c: all but SCE, then LME/LMA, NX, FFXSR and AUTOIBRS if the
	 * host has them, SVME and LMSLE with nested=1: svm_hardware_setup())
	 * and __kvm_valid_efer() (FFXSR needs FXSR_OPT, AUTOIBRS needs
	 * AUTOIBRS in the CPUID; the model has neither).
	 */
	c = ADD("kvm_valid_efer(): efer_reserved_bits", INVALID, "EFER bit 9 (reserved)");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_OR, V_CONST, 1ULL << 9);
	c = ADD("kvm_valid_efer(): efer_reserved_bits (TCE never enabled)", INVALID,
		"EFER.TCE (bit 15)");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_OR, V_CONST, 1ULL << 15);
	c = ADD("__kvm_valid_efer(): FFXSR without FXSR_OPT", INVALID,
		"EFER.FFXSR, model without FXSR_OPT");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_OR, V_CONST, EFER_FFXSR);
	c = ADD("__kvm_valid_efer(): AUTOIBRS without AUTOIBRS", INVALID,
		"EFER.AUTOIBRS, model without AUTOIBRS");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_OR, V_CONST, EFER_AUTOIBRS);
	c = ADD("svm_hardware_setup(): nested=1 enables EFER_LMSLE", ENTERED,
		"EFER.LMSLE (bit 13)");
	PRE(c, T_VMCB, VMCB_SAVE(efer), 8, E_OR, V_CONST, EFER_LMSLE);

	/* nested_svm_vmrun(): !svm->nested.hsave_msr -> kvm_inject_gp() */
	c = add_exception("nested_svm_vmrun(): HSAVE_PA 0 -> #GP", GP_VECTOR,
			  "HSAVE_PA 0 (L1 writes it)");
	c->l1 = L1_HSAVE_0;
	/* nested_svm_check_permissions(): !(efer & EFER_SVME) -> #UD */
	c = add_exception("nested_svm_check_permissions(): L1 EFER.SVME clear -> #UD",
			  UD_VECTOR, "L1's EFER.SVME clear");
	c->l1 = L1_SVME_CLEAR;
	/* nested_svm_vmrun(): kvm_vcpu_map() fails -> kvm_inject_gp() */
	c = add_exception("nested_svm_vmrun(): kvm_vcpu_map() fails -> #GP", GP_VECTOR,
			  "VMCB12 in no memslot");
	c->unbacked_vmcb = true;
#undef ADD
}

/* Intercept bits and map bases of an MSR or IO case. */
static void msr_prot(struct tcase *c)
{
	PRE(c, T_VMCB, VMCB_CTRL(intercept), 8, E_OR, V_CONST, INTERCEPT_BIT(INTERCEPT_MSR_PROT));
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_MSRPM, 0);
}

static void ioio_prot(struct tcase *c)
{
	PRE(c, T_VMCB, VMCB_CTRL(intercept), 8, E_OR, V_CONST, INTERCEPT_BIT(INTERCEPT_IOIO_PROT));
	PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_IOPM, 0);
}

struct msr_desc {
	uint32_t msr;
	const char *name;
	uint64_t wval;		/* what L2 writes: harmless to L2 and L1 */
};

/*
 * One MSR of each range that L0 passes through and one it intercepts,
 * and two in no range.  L2 reads them, or writes a harmless value; those
 * L1 does not intercept are done by the CPU (passed through) or by KVM for
 * L2 (PAT, TSC_AUX, HWCR are MSRs KVM emulates); an access KVM refuses
 * (TSC_AUX without RDTSCP in the model, SEV_ES_GHCB on a CPU without it)
 * raises #GP in L2, which ex_handler() skips: either way L2 reaches its
 * VMMCALL, and whether L1 got the exit is the answer.
 */
static const struct msr_desc msrs[] = {
	{ MSR_IA32_SYSENTER_CS, "SYSENTER_CS", 0 },
	{ MSR_IA32_CR_PAT, "PAT", DEFAULT_PAT },
	{ MSR_FS_BASE, "FS_BASE", 0 },
	{ MSR_TSC_AUX, "TSC_AUX", 0 },
	{ MSR_AMD64_SEV_ES_GHCB, "SEV_ES_GHCB", 0 },
	{ MSR_K7_HWCR, "HWCR", 0 },
	{ 0xc0002000, "0xc0002000", 0 },
	{ MSR_KVM_WALL_CLOCK_NEW_, "KVM_WALL_CLOCK_NEW", 0 },
};

static const char *msr_why =
	"nested_svm_vmrun_msrpm() merge, nested_svm_exit_handled_msr() live read";
static const char *io_why = "nested_svm_intercept_ioio(): live read of 1-2 bytes";

static void msr_case(const struct env *e, const struct msr_desc *m, bool write,
		     int bits, bool pfn, const char *sfx)
{
	/* bits: 1 own bit set, 2 the other direction's bit set, 0 none */
	uint32_t byte;
	uint8_t mask;
	bool in = msrpm_bit(m->msr, write, &byte, &mask);
	struct tcase *c = add(msr_why, ENTERED, "%s %s, %s%s",
			      write ? "WRMSR" : "RDMSR", m->name,
			      !in ? "outside every range" :
			      bits == 1 ? "own bit set" : "only the other bit set", sfx);

	c->pfn = pfn;
	msr_prot(c);
	if (in && bits) {
		uint32_t b2 = 0;
		uint8_t m2 = 0;

		msrpm_bit(m->msr, bits == 1 ? write : !write, &b2, &m2);
		PRE(c, T_MSRPM, b2, 1, E_OR, V_CONST, m2);
	}
	c->op = write ? GUESTMAP_SVM_WRMSR : GUESTMAP_SVM_RDMSR;
	c->index = m->msr;
	c->value = m->wval;
	c->exp_exits = msr_model(e, m->msr, write, true, bits == 1, bits == 1);
}

static void io_case(uint32_t op, uint32_t port, uint32_t size,
		    const uint32_t *set_ports, int nset, bool prot, bool pfn,
		    const char *what)
{
	static uint8_t iopm[IOPM_BYTES];
	struct tcase *c = add(io_why, ENTERED, "%s port 0x%x size %u, %s%s",
			      op == GUESTMAP_SVM_IN ? "IN" : "OUT", port, size, what,
			      pfn ? " (PFN-only)" : "");
	int i;

	memset(iopm, 0, sizeof(iopm));
	c->pfn = pfn;
	if (prot)
		ioio_prot(c);
	else
		PRE(c, T_VMCB, VMCB_CTRL(iopm_base_pa), 8, E_SET, V_IOPM, 0);
	for (i = 0; i < nset; i++) {
		PRE(c, T_IOPM, set_ports[i] / 8, 1, E_OR, V_CONST, 1 << (set_ports[i] % 8));
		iopm[set_ports[i] / 8] |= 1 << (set_ports[i] % 8);
	}
	c->op = op;
	c->index = port;
	c->size = size;
	c->exp_exits = io_model(prot, iopm, port, size);
}

static void add_intercept_cases(const struct env *e)
{
	unsigned int i;
	struct tcase *c;

	for (i = 0; i < ARRAY_SIZE(msrs); i++) {
		uint32_t byte;
		uint8_t mask;
		int w;

		for (w = 0; w <= 1; w++) {
			if (!msrpm_bit(msrs[i].msr, w, &byte, &mask)) {
				msr_case(e, &msrs[i], w, 0, false, "");
				continue;
			}
			msr_case(e, &msrs[i], w, 1, false, "");
			msr_case(e, &msrs[i], w, 2, false, "");
		}
	}
	/* MSR_PROT not intercepted: L1's map means nothing. */
	c = add(msr_why, ENTERED, "RDMSR FS_BASE, bit set but MSR_PROT not intercepted");
	PRE(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_MSRPM, 0);
	PRE(c, T_MSRPM, 0x800 + 0x100 / 4, 1, E_OR, V_CONST, 0xff);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_FS_BASE;
	c->exp_exits = msr_model(e, MSR_FS_BASE, false, false, true, true);

	{
		static const uint32_t p70[] = { 0x70 }, p71[] = { 0x71 };
		static const uint32_t p8[] = { 8 }, p9[] = { 9 };
		static const uint32_t p3f[] = { 0x3f }, p40[] = { 0x40 };
		static const uint32_t p10001[] = { 0x10001 }, p10002[] = { 0x10002 };
		static const uint32_t pffff[] = { 0xffff };

		io_case(GUESTMAP_SVM_IN, 0x70, 1, p70, 1, true, false, "its bit set");
		io_case(GUESTMAP_SVM_IN, 0x70, 1, p71, 1, true, false, "only port 0x71's bit set");
		io_case(GUESTMAP_SVM_OUT, 0x70, 1, p70, 1, true, false, "its bit set");
		io_case(GUESTMAP_SVM_OUT, 0x7, 2, p8, 1, true, false,
			"only port 8's bit set (next byte)");
		io_case(GUESTMAP_SVM_OUT, 0x7, 2, p9, 1, true, false, "only port 9's bit set");
		io_case(GUESTMAP_SVM_IN, 0x3c, 4, p3f, 1, true, false, "only port 0x3f's bit set");
		io_case(GUESTMAP_SVM_IN, 0x3c, 4, p40, 1, true, false, "only port 0x40's bit set");
		io_case(GUESTMAP_SVM_IN, 0xfffe, 4, p10001, 1, true, false,
			"only bit 0x10001 set (byte 0x2000, the map's last page)");
		io_case(GUESTMAP_SVM_IN, 0xfffe, 4, p10002, 1, true, false,
			"only bit 0x10002 set (byte 0x2000)");
		io_case(GUESTMAP_SVM_OUT, 0xffff, 1, pffff, 1, true, false, "its bit set");
		io_case(GUESTMAP_SVM_IN, 0x70, 1, p70, 1, false, false,
			"bit set but IOIO_PROT not intercepted");
	}
}

/*
 * Memory changed while L2 runs: KVM merged L1's MSR map into its own at
 * VMRUN (the CPU reads that copy) and cached VMCB12's controls, but
 * reads L1's maps live when an exit reaches it.  L2 stops at SYNC_PORT,
 * the host edits through guestmap and asks guestmap then.
 */
static void add_live_cases(const struct env *e)
{
	uint32_t fs, pat;
	uint8_t fsm, patm;
	struct tcase *c;

	msrpm_bit(MSR_FS_BASE, false, &fs, &fsm);
	msrpm_bit(MSR_IA32_CR_PAT, false, &pat, &patm);

	c = add(msr_why, ENTERED,
		"MSRPM edited while L2 runs: RDMSR FS_BASE (L0 passes) intercepted after VMRUN");
	msr_prot(c);
	MID(c, T_MSRPM, fs, 1, E_OR, V_CONST, fsm);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_FS_BASE;
	c->exp_exits = msr_model(e, MSR_FS_BASE, false, true, false, true);

	c = add(msr_why, ENTERED,
		"MSRPM edited while L2 runs: RDMSR PAT (L0 intercepts) intercepted after VMRUN");
	msr_prot(c);
	MID(c, T_MSRPM, pat, 1, E_OR, V_CONST, patm);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_IA32_CR_PAT;
	c->exp_exits = msr_model(e, MSR_IA32_CR_PAT, false, true, false, true);

	c = add(msr_why, ENTERED,
		"MSRPM edited while L2 runs: RDMSR FS_BASE intercepted at VMRUN, not after");
	msr_prot(c);
	PRE(c, T_MSRPM, fs, 1, E_OR, V_CONST, fsm);
	MID(c, T_MSRPM, fs, 1, E_CLEAR, V_CONST, fsm);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_FS_BASE;
	c->exp_exits = msr_model(e, MSR_FS_BASE, false, true, true, false);

	c = add(io_why, ENTERED, "IOPM edited while L2 runs: IN 0x70 intercepted after VMRUN");
	ioio_prot(c);
	MID(c, T_IOPM, 0x70 / 8, 1, E_OR, V_CONST, 1 << (0x70 % 8));
	c->op = GUESTMAP_SVM_IN;
	c->index = 0x70;
	c->size = 1;
	c->exp_exits = EXIT_L0 | EXIT_L1;

	/* nested.ctl is the copy of VMRUN: its msrpm_base_pa and intercepts. */
	c = add("nested_svm_exit_handled_msr(): svm->nested.ctl.msrpm_base_pa of VMRUN",
		ENTERED, "msrpm_base_pa moved to a zeroed map while L2 runs: RDMSR PAT");
	msr_prot(c);
	PRE(c, T_MSRPM, pat, 1, E_OR, V_CONST, patm);
	MID(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_SPARE, 0);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_IA32_CR_PAT;
	c->exp_exits = EXIT_L0 | EXIT_L1;

	c = add("nested_svm_exit_handled_msr(): svm->nested.ctl.msrpm_base_pa of VMRUN",
		ENTERED, "msrpm_base_pa set beyond MAXPHYADDR while L2 runs: RDMSR PAT");
	msr_prot(c);
	PRE(c, T_MSRPM, pat, 1, E_OR, V_CONST, patm);
	MID(c, T_VMCB, VMCB_CTRL(msrpm_base_pa), 8, E_SET, V_PHYS, 0);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_IA32_CR_PAT;
	c->exp_exits = EXIT_L0 | EXIT_L1;

	c = add("nested_svm_exit_handled_msr(): vmcb12_is_intercept(&svm->nested.ctl)",
		ENTERED, "MSR_PROT cleared in VMCB12 while L2 runs: RDMSR PAT");
	msr_prot(c);
	PRE(c, T_MSRPM, pat, 1, E_OR, V_CONST, patm);
	MID(c, T_VMCB, VMCB_CTRL(intercept), 8, E_CLEAR, V_CONST,
	    INTERCEPT_BIT(INTERCEPT_MSR_PROT));
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_IA32_CR_PAT;
	c->exp_exits = EXIT_L0 | EXIT_L1;

	/*
	 * The checks judge the bytes of VMRUN (nested_copy_vmcb_*_to_cache()
	 * before nested_svm_check_cached_vmcb12()): rules broken once L2 runs
	 * change nothing.
	 */
	c = add("nested_svm_vmrun(): checks the cached copy", ENTERED,
		"ASID set to 0 after VMRUN entered");
	MID(c, T_VMCB, VMCB_CTRL(asid), 4, E_SET, V_CONST, 0);
	c = add("nested_svm_vmrun(): checks the cached copy", ENTERED,
		"CR0 bit 32 set after VMRUN entered");
	MID(c, T_VMCB, VMCB_SAVE(cr0), 8, E_OR, V_CONST, 1ULL << 32);
}

static void add_pfn_cases(const struct env *e)
{
	uint32_t fs;
	uint8_t fsm;
	struct tcase *c;
	static const uint32_t p70[] = { 0x70 }, p71[] = { 0x71 };
	int first = ncases, i;

	add_vmrun_cases(true, 0, " (PFN-only)", false);
	add_vmrun_cases(true, GUESTMAP_SVM_RUN_CACHED, " (PFN-only, RUN_CACHED)", false);
	msrpm_bit(MSR_FS_BASE, false, &fs, &fsm);
	c = add(msr_why, ENTERED, "RDMSR FS_BASE, own bit set (PFN-only)");
	c->pfn = true;
	msr_prot(c);
	PRE(c, T_MSRPM, fs, 1, E_OR, V_CONST, fsm);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_FS_BASE;
	c->exp_exits = msr_model(e, MSR_FS_BASE, false, true, true, true);
	c = add(msr_why, ENTERED, "RDMSR FS_BASE, only the other bit set (PFN-only)");
	c->pfn = true;
	msr_prot(c);
	PRE(c, T_MSRPM, fs, 1, E_OR, V_CONST, fsm << 1);
	c->op = GUESTMAP_SVM_RDMSR;
	c->index = MSR_FS_BASE;
	c->exp_exits = msr_model(e, MSR_FS_BASE, false, true, false, false);
	io_case(GUESTMAP_SVM_IN, 0x70, 1, p70, 1, true, true, "its bit set");
	io_case(GUESTMAP_SVM_IN, 0x70, 1, p71, 1, true, true, "only port 0x71's bit set");
	if (!e->has_pfn)
		for (i = first; i < ncases; i++) {
			cases[i].skip = true;
			cases[i].skip_why =
				"no PFN-only memory: set GUESTMAP_HIDDEN=<size>@<phys> (RAM above mem=)";
		}
}

static void add_no_npt_cases(void)
{
	struct tcase *c;

	c = add("nested_svm_vmrun(): every check passes", ENTERED,
		"valid VMCB12 (model without NPT)");
	c->env = 1;
	/*
	 * __nested_vmcb_check_controls() tests L0's npt_enabled, not the
	 * guest's CPUID: a model without NPT still gets nested paging.
	 */
	c = add("__nested_vmcb_check_controls(): NP_ENABLE && !npt_enabled (L0's)",
		npt_enabled ? ENTERED : INVALID, "NP enabled, legal nCR3, model without NPT");
	c->env = 1;
	PRE(c, T_VMCB, VMCB_CTRL(nested_ctl), 8, E_OR, V_CONST, SVM_NESTED_CTL_NP_ENABLE);
	PRE(c, T_VMCB, VMCB_CTRL(nested_cr3), 8, E_SET, V_SPARE, 0);
}

/* ------------------------------------------------------------------ */
/* Host: guest memory, through guestmap where it can.                  */

static void note_err(struct env *e, const char *what, int err)
{
	struct outcome *o = e->cur ? &e->cur->gm : NULL;

	if (o && !o->err) {
		o->err = err;
		o->err_what = what;
	}
	if (!e->cur)
		ksft_print_msg("%s: guestmap %s: %s\n", e->label, what, strerror(err));
}

static void *gpa_hva(struct env *e, uint64_t gpa)
{
	if (e->has_pfn && gpa >= PFN_GPA && gpa < PFN_GPA + PFN_PAGES * PAGE)
		return e->pfn_hva + (gpa - PFN_GPA);
	return addr_gpa2hva(e->vm, gpa);
}

/*
 * Reads or writes guest memory through guestmap (GUESTMAP_READ_GUEST,
 * GUESTMAP_WRITE_GUEST); only if guestmap is absent or fails, through the
 * host mapping, so that KVM's half of the case still happens.
 */
static void guest_rw(struct env *e, bool write, uint64_t gpa, void *buf, size_t len)
{
	if (e->gm >= 0) {
		struct guestmap_rw rw = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

		if (!ioctl(e->gm, write ? GUESTMAP_WRITE_GUEST : GUESTMAP_READ_GUEST, &rw))
			return;
		note_err(e, write ? "WRITE_GUEST" : "READ_GUEST", errno);
	}
	if (write)
		memcpy(gpa_hva(e, gpa), buf, len);
	else
		memcpy(buf, gpa_hva(e, gpa), len);
}

static uint64_t edit_value(const struct env *e, const struct place *p,
			   const struct edit *d)
{
	switch (d->src) {
	case V_PHYS:
		return (1ULL << e->maxphy) + d->val;
	case V_MSRPM:
		return p->msrpm_gpa + d->val;
	case V_IOPM:
		return p->iopm_gpa + d->val;
	case V_SPARE:
		return p->spare_gpa + d->val;
	default:
		return d->val;
	}
}

static void apply_edit(struct env *e, const struct place *p, const struct edit *d)
{
	uint64_t base = d->tgt == T_VMCB ? p->vmcb_gpa :
			d->tgt == T_MSRPM ? p->msrpm_gpa : p->iopm_gpa;
	uint64_t v = 0, x = edit_value(e, p, d);

	guest_rw(e, false, base + d->off, &v, d->width);
	if (d->op == E_SET)
		v = x;
	else if (d->op == E_OR)
		v |= x;
	else
		v &= ~x;
	guest_rw(e, true, base + d->off, &v, d->width);
}

/* ------------------------------------------------------------------ */
/* Host: guestmap's nested vCPU.                                      */

static bool cpuid_leaf_needed(uint32_t fn)
{
	/* The leaves guestmap's CPU model is documented to read. */
	return fn == 0 || fn == 1 || fn == 7 || fn == 0x80000000 ||
	       fn == 0x80000001 || fn == 0x80000008 || fn == 0x8000000a ||
	       fn == 0x80000021;
}

static void gm_vcpu_create(struct env *e)
{
	struct guestmap_cpuid_entry ents[GUESTMAP_CPUID_MAX];
	const struct kvm_cpuid2 *cpuid = e->vcpu->cpuid;
	bool all = cpuid->nent <= GUESTMAP_CPUID_MAX;
	struct guestmap_svm_vcpu v = { .vcpu = 0 };
	unsigned int i, n = 0;

	for (i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *k = &cpuid->entries[i];

		if (!all && !cpuid_leaf_needed(k->function))
			continue;
		TEST_ASSERT(n < GUESTMAP_CPUID_MAX, "too many CPUID leaves");
		ents[n++] = (struct guestmap_cpuid_entry){
			.function = k->function, .index = k->index,
			.eax = k->eax, .ebx = k->ebx, .ecx = k->ecx, .edx = k->edx,
		};
	}
	if (!all)
		ksft_print_msg("%s: KVM's CPUID has %u entries, GUESTMAP_CPUID_MAX is %d: passing the %u of the leaves guestmap's model reads\n",
			       e->label, cpuid->nent, GUESTMAP_CPUID_MAX, n);
	v.nent = n;
	v.entries = (uintptr_t)ents;
	/* L0's configuration: kvm_amd's npt parameter. */
	if (!npt_enabled)
		v.flags = GUESTMAP_SVM_VCPU_NO_NPT;
	if (ioctl(e->gm, GUESTMAP_SVM_CREATE_VCPU, &v)) {
		note_err(e, "SVM_CREATE_VCPU", errno);
		return;
	}
	e->gm_vcpu = true;
	e->gm_in_guest = false;
	/* L0's own MSR interception: see l0_always[]. */
	for (i = 0; i < ARRAY_SIZE(l0_always) + 2; i++) {
		uint32_t msr = i < ARRAY_SIZE(l0_always) ? l0_always[i] :
			       i == ARRAY_SIZE(l0_always) ? MSR_IA32_SYSENTER_EIP :
			       MSR_IA32_SYSENTER_ESP;
		struct guestmap_svm_l0_msr m = { .vcpu = 0, .msr = msr, .intercept = 0 };

		if (!l0_passes(e, msr))
			continue;
		if (ioctl(e->gm, GUESTMAP_SVM_SET_L0_MSR, &m))
			note_err(e, "SVM_SET_L0_MSR", errno);
	}
}

static void gm_vcpu_reset(struct env *e)
{
	struct guestmap_svm_vcpu v = { .vcpu = 0, .nent = 0 };

	if (e->gm_vcpu && ioctl(e->gm, GUESTMAP_SVM_CREATE_VCPU, &v))
		note_err(e, "SVM_CREATE_VCPU (destroy)", errno);
	e->gm_vcpu = false;
	gm_vcpu_create(e);
}

/* L1's state as KVM has it, with L1 stopped just before its VMRUN. */
static void gm_set_l1(struct env *e)
{
	struct guestmap_svm_l1 l1 = { .vcpu = 0 };
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;

	vcpu_sregs_get(e->vcpu, &s);
	vcpu_events_get(e->vcpu, &ev);
	l1.efer = s.efer;
	l1.cr0 = s.cr0;
	/* svm_get_segment(): SS.DPL is save.cpl, the CPL. */
	l1.cpl = s.ss.dpl;
	l1.hsave_pa = vcpu_get_msr(e->vcpu, MSR_VM_HSAVE_PA);
	if ((ev.flags & KVM_VCPUEVENT_VALID_SMM) && ev.smi.smm)
		l1.flags |= GUESTMAP_SVM_L1_SMM;
	if (ioctl(e->gm, GUESTMAP_SVM_SET_L1, &l1))
		note_err(e, "SVM_SET_L1", errno);
}

static void gm_vmrun(struct env *e, struct tcase *c, uint64_t vmcb_gpa)
{
	struct guestmap_svm_vmrun r = {
		.vcpu = 0, .flags = c->run_flags, .vmcb12_gpa = vmcb_gpa,
	};

	if (!e->gm_vcpu)
		return;
	gm_set_l1(e);
	if (ioctl(e->gm, GUESTMAP_SVM_VMRUN, &r)) {
		if (errno != ENOENT) {
			note_err(e, "SVM_VMRUN", errno);
			return;
		}
		/* "ENOENT: VMCB12 is in no memslot (KVM injects #GP)" */
		c->gm.known = true;
		c->gm.result = EXCEPTION;
		c->gm.vector = GP_VECTOR;
		snprintf(c->gm.note, sizeof(c->gm.note), " (ENOENT)");
		return;
	}
	c->gm.known = true;
	c->gm.result = r.result;
	c->gm.vector = r.vector;
	c->gm.check = r.check;
	e->gm_in_guest = r.result == ENTERED;
}

static void gm_intercept(struct env *e, struct tcase *c)
{
	struct guestmap_svm_intercept q = {
		.vcpu = 0, .op = c->op, .index = c->index, .size = c->size,
	};

	if (!e->gm_in_guest)
		return;
	if (ioctl(e->gm, GUESTMAP_SVM_INTERCEPT, &q)) {
		note_err(e, "SVM_INTERCEPT", errno);
		return;
	}
	c->gm.exits = q.exits;
}

/* #VMEXIT with the exit KVM's L2 took; L1 is about to go on. */
static void gm_vmexit(struct env *e)
{
	struct guestmap_svm_vmexit x = {
		.vcpu = 0,
		.exit_code = res.exit_code | res.exit_code_hi << 32,
		.exit_info_1 = res.exit_info_1,
		.exit_info_2 = res.exit_info_2,
		.exit_int_info = res.exit_int_info,
	};

	if (!e->gm_in_guest)
		return;
	if (ioctl(e->gm, GUESTMAP_SVM_VMEXIT, &x)) {
		note_err(e, "SVM_VMEXIT", errno);
		gm_vcpu_reset(e);
		return;
	}
	e->gm_in_guest = false;
}

/* ------------------------------------------------------------------ */
/* Host: L0 exits of L2, from the kvm:kvm_nested_vmexit tracepoint.    */

#define TRACING		"/sys/kernel/tracing"
#define NESTED_EVENT	TRACING "/events/kvm/kvm_nested_vmexit"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static void trace_setup(void)
{
	/*
	 * svm_handle_exit() fires it for every exit of L2 to L0: IOIO (123),
	 * MSR (124), and SVM_EXIT_ERR (-1), the CPU refusing vmcb02.
	 */
	write_file(NESTED_EVENT "/filter",
		   "exit_reason == 123 || exit_reason == 124 || exit_reason == 4294967295");
	trace_ok = !write_file(NESTED_EVENT "/enable", "1") &&
		   !write_file(TRACING "/tracing_on", "1");
	if (!trace_ok)
		ksft_print_msg("no kvm:kvm_nested_vmexit tracepoint: L2's exits to L0 are not observed, only the exits L1 gets\n");
}

static void trace_teardown(void)
{
	if (!trace_ok)
		return;
	write_file(NESTED_EVENT "/enable", "0");
	write_file(NESTED_EVENT "/filter", "0");
}

static void trace_clear(void)
{
	if (trace_ok)
		write_file(TRACING "/trace", "");
}

/*
 * What the tracepoint saw of L2 since trace_clear(): how many exits to L0
 * the access of @c made, and how many times the CPU refused to enter
 * vmcb02 (exit code SVM_EXIT_ERR while in guest mode: KVM's checks had
 * passed).  False if the tracepoint is not there.
 */
static bool trace_scan(const struct tcase *c, int *access, int *refused)
{
	bool msr = c->op == GUESTMAP_SVM_RDMSR || c->op == GUESTMAP_SVM_WRMSR;
	FILE *f;
	char line[512];

	*access = *refused = 0;
	if (!trace_ok)
		return false;
	f = fopen(TRACING "/trace", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, "kvm_nested_vmexit:");
		char *r = ev ? strstr(ev, " reason ") : NULL;
		char *i1 = r ? strstr(r, "info1 0x") : NULL;
		unsigned long long info1;

		if (!i1)
			continue;
		r += strlen(" reason ");
		info1 = strtoull(i1 + strlen("info1 0x"), NULL, 16);
		if (getenv("SVM_DIFF_DEBUG"))
			ksft_print_msg("trace: %s", r);
		/*
		 * SVM_EXIT_ERR: __print_symbolic() compares the u32 field with
		 * -1 as an unsigned long and prints it as a number.
		 */
		if (!strncmp(r, "invalid_guest_state ", 20) || !strncmp(r, "0xffffffff ", 11))
			(*refused)++;
		else if (c->op && msr && !strncmp(r, "msr ", 4))
			(*access)++;
		else if (c->op && !msr && !strncmp(r, "io ", 3) && (info1 >> 16) == c->index)
			(*access)++;
	}
	fclose(f);
	return true;
}

/* ------------------------------------------------------------------ */
/* Host: running L1.                                                  */

static void run_until(struct env *e, uint64_t stage)
{
	struct ucall uc;

	for (;;) {
		struct kvm_run *run = e->vcpu->run;

		vcpu_run(e->vcpu);
		if (run->exit_reason == KVM_EXIT_IO && run->io.port != UCALL_PORT) {
			struct tcase *c = e->cur;
			int i;

			/* L2's IO that neither L1 nor KVM's devices took. */
			if (run->io.port == SYNC_PORT && c && c->nmid) {
				const struct place *p = c->pfn ? &e->pfn : &e->mem;

				for (i = 0; i < c->nmid; i++)
					apply_edit(e, p, &c->mid[i]);
			} else if (run->io.port != SYNC_PORT) {
				e->user_io++;
				e->user_io_port = run->io.port;
			}
			if (run->io.port == SYNC_PORT && c && c->op)
				gm_intercept(e, c);
			continue;
		}
		switch (get_ucall(e->vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == stage, "%s: L1 at stage %lu, want %lu",
				    e->label, uc.args[1], stage);
			return;
		case UCALL_DONE:
			TEST_ASSERT(stage == 0, "%s: L1 done early", e->label);
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("%s: unexpected exit %s (io port 0x%x)", e->label,
				  exit_reason_str(run->exit_reason),
				  run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
		}
	}
}

static const char *vector_name(uint32_t v)
{
	static char buf[8];

	if (v == UD_VECTOR)
		return "#UD";
	if (v == GP_VECTOR)
		return "#GP";
	snprintf(buf, sizeof(buf), "#%u", v);
	return buf;
}

static void run_case(struct env *e, struct tcase *c)
{
	const struct place *p = c->pfn ? &e->pfn : &e->mem;
	uint64_t vmcb_gpa = c->unbacked_vmcb ? UNBACKED_GPA : p->vmcb_gpa;
	static uint8_t zero[IOPM_BYTES];
	struct outcome *k = &c->kvm;
	int i, l0, refused;
	bool traced;

	e->cur = c;
	e->user_io = 0;
	c->gm.exits = -1;
	k->exits = -1;
	k->l0 = -1;

	memset(&cmd, 0, sizeof(cmd));
	cmd.vmcb_gva = c->pfn ? p->vmcb_gva : 0;
	cmd.vmcb_gpa = c->unbacked_vmcb ? UNBACKED_GPA : c->pfn ? p->vmcb_gpa : 0;
	cmd.l1 = c->l1;
	cmd.op = c->op;
	cmd.index = c->index;
	cmd.size = c->size;
	cmd.value = c->value;
	cmd.l2_sync = c->nmid > 0;
	sync_global_to_guest(e->vm, cmd);

	/* L1 builds a clean VMCB12 and stops before its VMRUN. */
	run_until(e, SYNC_PRE_VMRUN);
	if (c->pfn) {
		uint8_t vmcb[PAGE];

		guest_rw(e, false, e->mem.vmcb_gpa, vmcb, PAGE);
		guest_rw(e, true, p->vmcb_gpa, vmcb, PAGE);
	}
	guest_rw(e, true, p->msrpm_gpa, zero, MSRPM_BYTES);
	guest_rw(e, true, p->iopm_gpa, zero, IOPM_BYTES);
	guest_rw(e, true, p->spare_gpa, zero, PAGE);
	for (i = 0; i < c->npre; i++)
		apply_edit(e, p, &c->pre[i]);

	gm_vmrun(e, c, vmcb_gpa);
	if (c->op && !c->nmid)
		gm_intercept(e, c);

	/* L1 runs VMRUN in KVM; L2 may stop at SYNC_PORT (run_until()). */
	trace_clear();
	run_until(e, SYNC_RESULT);
	sync_global_from_guest(e->vm, res);
	traced = trace_scan(c, &l0, &refused);

	k->known = true;
	if (res.vmrun_vector != NO_VECTOR) {
		k->result = EXCEPTION;
		k->vector = res.vmrun_vector;
	} else if ((uint32_t)res.exit_code == (uint32_t)SVM_EXIT_ERR && refused) {
		/*
		 * KVM's checks passed and it ran vmcb02; the CPU refused that
		 * (a VMRUN check of the hardware KVM does not make) and KVM
		 * reflected SVM_EXIT_ERR to L1.  KVM's verdict was ENTERED.
		 */
		k->result = ENTERED;
		k->cpu_refused = true;
		snprintf(k->note, sizeof(k->note),
			 " (then the CPU refused vmcb02: L1 saw VMEXIT_INVALID)");
	} else if ((uint32_t)res.exit_code == (uint32_t)SVM_EXIT_ERR) {
		k->result = INVALID;
		if (!traced)
			snprintf(k->note, sizeof(k->note),
				 " (by KVM or by the CPU: no tracepoint to tell)");
	} else {
		k->result = ENTERED;
		snprintf(k->note, sizeof(k->note), " (exit 0x%lx at L2 step %lu%s%s)",
			 res.exit_code, res.l2_step,
			 res.l2_vector != NO_VECTOR ? ", L2 access faulted " : "",
			 res.l2_vector != NO_VECTOR ? vector_name(res.l2_vector) : "");
		if (c->op) {
			bool l1 = res.l2_step == 2 &&
				  (res.exit_code == SVM_EXIT_MSR || res.exit_code == SVM_EXIT_IOIO);

			k->exits = l1 ? EXIT_L1 : 0;
			k->l0 = traced ? l0 > 0 : -1;
			if (k->l0 > 0 || l1)
				k->exits |= EXIT_L0;
			if (e->user_io) {
				size_t n = strlen(k->note);

				snprintf(k->note + n, sizeof(k->note) - n,
					 " L2's IO 0x%x reached the host", e->user_io_port);
			}
		}
	}
	gm_vmexit(e);
	e->cur = NULL;
	run_until(e, SYNC_NEXT);
}

/* ------------------------------------------------------------------ */
/* Host: the VMs.                                                     */

/* Clears a CPUID bit of the vCPU's model, if its leaf is there. */
static void model_clear(struct kvm_vcpu *vcpu, struct kvm_x86_cpu_feature f)
{
	unsigned int i;

	for (i = 0; i < vcpu->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *k = &vcpu->cpuid->entries[i];

		if (k->function == f.function && k->index == f.index)
			(&k->eax)[f.reg] &= ~(1U << f.bit);
	}
}

static const struct kvm_cpuid_entry2 *leaf(struct kvm_vcpu *vcpu, uint32_t fn)
{
	unsigned int i;

	for (i = 0; i < vcpu->cpuid->nent; i++)
		if (vcpu->cpuid->entries[i].function == fn && !vcpu->cpuid->entries[i].index)
			return &vcpu->cpuid->entries[i];
	return NULL;
}

static void env_create(struct env *e, const char *label, bool no_npt, bool pfn)
{
	const struct kvm_cpuid_entry2 *l0, *l8;
	struct userspace_mem_region *r;
	vm_vaddr_t svm_gva, gva;

	memset(e, 0, sizeof(*e));
	e->label = label;
	e->gm = -1;
	e->vm = vm_create_with_one_vcpu(&e->vcpu, l1_guest);
	/*
	 * The CPU model: KVM's supported CPUID without LA57, PKU, VMX,
	 * FXSR_OPT and AUTOIBRS, so that CR4.LA57/PKE/VMXE and
	 * EFER.FFXSR/AUTOIBRS are reserved by the model whatever the host
	 * has (none of them is used by L1 or L2).
	 */
	model_clear(e->vcpu, X86_FEATURE_LA57);
	model_clear(e->vcpu, X86_FEATURE_PKU);
	model_clear(e->vcpu, X86_FEATURE_VMX);
	model_clear(e->vcpu, KVM_X86_CPU_FEATURE(0x80000001, 0, EDX, 25)); /* FXSR_OPT */
	model_clear(e->vcpu, KVM_X86_CPU_FEATURE(0x80000021, 0, EAX, 8));  /* AUTOIBRS */
	if (no_npt)
		model_clear(e->vcpu, X86_FEATURE_NPT);
	vcpu_set_cpuid(e->vcpu);

	/* cpuid_query_maxphyaddr() */
	l0 = leaf(e->vcpu, 0x80000000);
	l8 = leaf(e->vcpu, 0x80000008);
	e->maxphy = l0 && l0->eax >= 0x80000008 && l8 ? (l8->eax & 0xff) : 36;
	l0 = leaf(e->vcpu, 0);
	/* is_guest_vendor_amd() || is_guest_vendor_hygon() */
	e->amd_compat = l0 && ((l0->ebx == 0x68747541 && l0->ecx == 0x444d4163 &&
				l0->edx == 0x69746e65) ||	/* AuthenticAMD */
			       (l0->ebx == 0x69444d41 && l0->ecx == 0x21726574 &&
				l0->edx == 0x74656273) ||	/* AMDisbetter! */
			       (l0->ebx == 0x6f677948 && l0->ecx == 0x656e6975 &&
				l0->edx == 0x6e65476e));	/* HygonGenuine */

	vm_install_exception_handler(e->vm, UD_VECTOR, ex_handler);
	vm_install_exception_handler(e->vm, GP_VECTOR, ex_handler);
	e->svm = vcpu_alloc_svm(e->vm, &svm_gva);
	vcpu_args_set(e->vcpu, 1, svm_gva);

	e->mem.vmcb_gpa = e->svm->vmcb_gpa;
	e->mem.vmcb_gva = (uintptr_t)e->svm->vmcb;
	gva = vm_vaddr_alloc(e->vm, MSRPM_BYTES, KVM_UTIL_MIN_VADDR);
	e->mem.msrpm_gpa = addr_gva2gpa(e->vm, gva);
	gva = vm_vaddr_alloc(e->vm, IOPM_BYTES, KVM_UTIL_MIN_VADDR);
	e->mem.iopm_gpa = addr_gva2gpa(e->vm, gva);
	gva = vm_vaddr_alloc_page(e->vm);
	e->mem.spare_gpa = addr_gva2gpa(e->vm, gva);

	/* guestmap: the same memory as KVM's memslot 0, at the same gpa. */
	if (gm_has_svm || kvm_only) {
		r = memslot2region(e->vm, 0);
		e->gm = open_dev();
		if (e->gm >= 0) {
			struct guestmap_memslot s = {
				.slot = 0,
				.guest_phys_addr = r->region.guest_phys_addr,
				.memory_size = r->region.memory_size,
				.userspace_addr = r->region.userspace_addr,
			};

			TEST_ASSERT(!ioctl(e->gm, GUESTMAP_SET_MEMSLOT, &s),
				    "GUESTMAP_SET_MEMSLOT: %s", strerror(errno));
		}
	}

	/* PFN-only memory: RAM above mem=, through /dev/mem. */
	if (pfn) {
		unsigned long size, phys;

		if (env_range("GUESTMAP_HIDDEN", &size, &phys) && size >= PFN_PAGES * PAGE) {
			e->pfn_hva = map_devmem(phys, PFN_PAGES * PAGE, PROT_READ | PROT_WRITE);
			TEST_ASSERT(e->pfn_hva != MAP_FAILED, "mmap /dev/mem at 0x%lx: %s",
				    phys, strerror(errno));
			memset(e->pfn_hva, 0, PFN_PAGES * PAGE);
			vm_set_user_memory_region(e->vm, 1, 0, PFN_GPA, PFN_PAGES * PAGE,
						  e->pfn_hva);
			virt_map(e->vm, PFN_GPA, PFN_GPA, PFN_PAGES);
			e->has_pfn = true;
			e->pfn.vmcb_gpa = PFN_GPA;
			e->pfn.vmcb_gva = PFN_GPA;
			e->pfn.msrpm_gpa = PFN_GPA + PAGE;
			e->pfn.iopm_gpa = PFN_GPA + 3 * PAGE;
			e->pfn.spare_gpa = PFN_GPA + 6 * PAGE;
			if (e->gm >= 0) {
				struct guestmap_memslot s = {
					.slot = 1, .guest_phys_addr = PFN_GPA,
					.memory_size = PFN_PAGES * PAGE,
					.userspace_addr = (uintptr_t)e->pfn_hva,
				};

				TEST_ASSERT(!ioctl(e->gm, GUESTMAP_SET_MEMSLOT, &s),
					    "GUESTMAP_SET_MEMSLOT (PFN-only): %s", strerror(errno));
			}
		}
	}

	if (e->gm >= 0 && gm_has_svm)
		gm_vcpu_create(e);
	run_until(e, SYNC_NEXT);
}

static void env_destroy(struct env *e)
{
	if (!e->vm)
		return;
	memset(&cmd, 0, sizeof(cmd));
	cmd.done = 1;
	sync_global_to_guest(e->vm, cmd);
	run_until(e, 0);
	if (e->gm >= 0)
		close(e->gm);
	kvm_vm_free(e->vm);
	if (e->pfn_hva)
		munmap(e->pfn_hva, PFN_PAGES * PAGE);
}

/* ------------------------------------------------------------------ */
/* Report.                                                            */

static const char *const check_names[] = {
	[GUESTMAP_SVM_CHECK_L1_SVME] = "L1_SVME",
	[GUESTMAP_SVM_CHECK_L1_PAGING] = "L1_PAGING",
	[GUESTMAP_SVM_CHECK_L1_CPL] = "L1_CPL",
	[GUESTMAP_SVM_CHECK_HSAVE] = "HSAVE",
	[GUESTMAP_SVM_CHECK_SMM] = "SMM",
	[GUESTMAP_SVM_CHECK_EFER_SVME] = "EFER_SVME",
	[GUESTMAP_SVM_CHECK_CR0_NW] = "CR0_NW",
	[GUESTMAP_SVM_CHECK_CR0_HIGH] = "CR0_HIGH",
	[GUESTMAP_SVM_CHECK_DR6] = "DR6",
	[GUESTMAP_SVM_CHECK_DR7] = "DR7",
	[GUESTMAP_SVM_CHECK_LONG_PAE] = "LONG_PAE",
	[GUESTMAP_SVM_CHECK_LONG_PE] = "LONG_PE",
	[GUESTMAP_SVM_CHECK_LONG_CR3] = "LONG_CR3",
	[GUESTMAP_SVM_CHECK_CS_L_D] = "CS_L_D",
	[GUESTMAP_SVM_CHECK_CR4] = "CR4",
	[GUESTMAP_SVM_CHECK_EFER] = "EFER",
	[GUESTMAP_SVM_CHECK_VMRUN_INTERCEPT] = "VMRUN_INTERCEPT",
	[GUESTMAP_SVM_CHECK_ASID] = "ASID",
	[GUESTMAP_SVM_CHECK_NP] = "NP",
	[GUESTMAP_SVM_CHECK_NCR3] = "NCR3",
	[GUESTMAP_SVM_CHECK_MSRPM] = "MSRPM",
	[GUESTMAP_SVM_CHECK_IOPM] = "IOPM",
	[GUESTMAP_SVM_CHECK_V_NMI] = "V_NMI",
	[GUESTMAP_SVM_CHECK_CR3] = "CR3",
	[GUESTMAP_SVM_CHECK_MSRPM_READ] = "MSRPM_READ",
};

static void fmt_exits(char *buf, size_t len, int exits)
{
	if (exits < 0)
		snprintf(buf, len, "exits ?");
	else
		snprintf(buf, len, "exits %s%s%s", exits & EXIT_L0 ? "L0" : "",
			 (exits & EXIT_L0) && (exits & EXIT_L1) ? "+" : "",
			 exits & EXIT_L1 ? "L1" : (exits & EXIT_L0) ? "" : "none");
}

static void fmt(char *buf, size_t len, const struct outcome *o, bool access,
		bool is_gm, bool detail)
{
	char ex[32] = "";

	if (!o->known) {
		if (is_gm && o->err)
			snprintf(buf, len, "error: %s: %s", o->err_what, strerror(o->err));
		else
			snprintf(buf, len, "-");
		return;
	}
	if (access && o->result == ENTERED) {
		if (is_gm) {
			fmt_exits(ex, sizeof(ex), o->exits);
		} else if (o->exits >= 0) {
			/* L1 is seen; L0 only through the tracepoint. */
			if (o->l0 < 0)
				snprintf(ex, sizeof(ex), "exits %s?",
					 o->exits & EXIT_L1 ? "L0+L1" : "L1 no, L0 ");
			else
				fmt_exits(ex, sizeof(ex), o->exits);
		}
	}
	switch (o->result) {
	case ENTERED:
		snprintf(buf, len, "ENTERED%s%s%s", ex[0] ? " " : "", ex,
			 detail ? o->note : "");
		break;
	case EXCEPTION:
		snprintf(buf, len, "%s%s", vector_name(o->vector), detail ? o->note : "");
		break;
	case INVALID:
		if (is_gm && o->check < ARRAY_SIZE(check_names) && check_names[o->check])
			snprintf(buf, len, "VMEXIT_INVALID(%s)", check_names[o->check]);
		else
			snprintf(buf, len, "VMEXIT_INVALID%s", detail ? o->note : "");
		break;
	default:
		snprintf(buf, len, "result %u", o->result);
	}
	if (is_gm && o->err)
		snprintf(buf + strlen(buf), len - strlen(buf), " [error: %s: %s]",
			 o->err_what, strerror(o->err));
}

static bool same_class(const struct outcome *a, const struct outcome *b)
{
	return a->known && b->known && a->result == b->result &&
	       (a->result != EXCEPTION || a->vector == b->vector);
}

/* Agreement on an access: L1 always, L0 where KVM's L0 exits are seen. */
static bool same_exits(int gm, const struct outcome *k)
{
	if (gm < 0 || k->exits < 0)
		return gm == k->exits;
	if ((gm & EXIT_L1) != (k->exits & EXIT_L1))
		return false;
	return k->l0 < 0 || (gm & EXIT_L0) == (k->exits & EXIT_L0);
}

static void judge(struct tcase *c)
{
	struct outcome exp = {
		.known = true, .result = c->exp, .vector = c->exp_vector,
		.exits = c->exp_exits, .l0 = 1,
	};
	bool kvm_rule = same_class(&c->kvm, &exp) &&
			(c->exp_exits < 0 || c->kvm.result != ENTERED ||
			 same_exits(c->exp_exits, &c->kvm));
	bool agree = same_class(&c->gm, &c->kvm) && !c->gm.err &&
		     (!c->op || c->kvm.result != ENTERED || same_exits(c->gm.exits, &c->kvm));

	c->pass = kvm_only ? kvm_rule : agree;
	if (!kvm_only && !kvm_rule) {
		char k[128];

		fmt(k, sizeof(k), &c->kvm, c->op, false, true);
		ksft_print_msg("note: %s: KVM gave %s, not what 6.12's %s says\n",
			       c->name, k, c->why);
	}
}

static void print_table(void)
{
	char g[160], k[160], x[64];
	int i;

	ksft_print_msg("rule | guestmap | KVM | 6.12's rule\n");
	for (i = 0; i < ncases; i++) {
		struct tcase *c = &cases[i];
		struct outcome exp = {
			.known = true, .result = c->exp, .vector = c->exp_vector,
			.exits = c->exp_exits, .l0 = 1,
		};

		if (c->skip) {
			ksft_print_msg("%s | skipped | skipped | -\n", c->name);
			continue;
		}
		fmt(g, sizeof(g), &c->gm, c->op, true, false);
		fmt(k, sizeof(k), &c->kvm, c->op, false, true);
		fmt(x, sizeof(x), &exp, c->op, true, false);
		ksft_print_msg("%s | %s | %s | %s%s\n", c->name, g, k, x,
			       c->pass ? "" : "   <-- FAIL");
	}
}

static bool read_npt(void)
{
	char v = 'N';
	int fd = open("/sys/module/kvm_amd/parameters/npt", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &v, 1) != 1)
			v = 'N';
		close(fd);
	}
	return v == 'Y' || v == '1';
}

int main(int argc, char *argv[])
{
	static struct env envs[2];
	struct guestmap_api_version api = { 0 };
	int opt, fd, i;

	while ((opt = getopt(argc, argv, "k")) != -1) {
		if (opt == 'k') {
			kvm_only = true;
		} else {
			fprintf(stderr, "usage: %s [-k]\n"
				"  -k  KVM only: check KVM's outcome of each case against 6.12's rule, without guestmap's nested SVM\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();

	/* kvm_cpu_has() skips without /dev/kvm; SVM is there with nested=1. */
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_SVM));

	fd = open_dev();
	if (fd >= 0 && !ioctl(fd, GUESTMAP_GET_API_VERSION, &api))
		gm_has_svm = api.caps & GUESTMAP_CAP_NESTED_SVM;
	if (fd >= 0)
		close(fd);
	if (!gm_has_svm && !kvm_only) {
		if (fd < 0)
			ksft_exit_skip("no /dev/guestmap (%s); -k runs KVM's half alone\n",
				       strerror(errno));
		ksft_exit_skip("guestmap lacks GUESTMAP_CAP_NESTED_SVM (caps 0x%llx); "
			       "-k runs KVM's half alone\n", (unsigned long long)api.caps);
	}
	if (kvm_only)
		ksft_print_msg("-k: each case is judged by KVM against 6.12's rule%s\n",
			       gm_has_svm ? "" :
			       "; guestmap has no nested SVM, its column is empty");

	npt_enabled = read_npt();
	env_create(&envs[0], "first VM", false, true);
	env_create(&envs[1], "VM without NPT in its model", true, false);
	ksft_print_msg("first VM: MAXPHYADDR %u, %s, L0 npt=%d, %u CPUID entries%s\n",
		       envs[0].maxphy, envs[0].amd_compat ? "AMD-compatible" : "Intel-compatible",
		       npt_enabled, envs[0].vcpu->cpuid->nent,
		       envs[0].has_pfn ? ", PFN-only memory at gpa 0x10000000" : "");

	add_vmrun_cases(false, 0, "", true);
	add_vmrun_cases(false, GUESTMAP_SVM_RUN_CACHED, " (RUN_CACHED)", false);
	add_intercept_cases(&envs[0]);
	add_live_cases(&envs[0]);
	add_pfn_cases(&envs[0]);
	add_no_npt_cases();

	trace_setup();
	ksft_set_plan(ncases);
	for (i = 0; i < ncases; i++) {
		struct tcase *c = &cases[i];
		char g[160], k[160];

		if (c->skip) {
			ksft_test_result_skip("%s: %s\n", c->name, c->skip_why);
			continue;
		}
		run_case(&envs[c->env], c);
		judge(c);
		fmt(g, sizeof(g), &c->gm, c->op, true, false);
		fmt(k, sizeof(k), &c->kvm, c->op, false, true);
		ksft_print_msg("%s | guestmap %s | KVM %s\n", c->name, g, k);
		ksft_test_result(c->pass, "%s\n", c->name);
	}
	trace_teardown();
	print_table();
	env_destroy(&envs[0]);
	env_destroy(&envs[1]);
	if (ksft_get_fail_cnt())
		ksft_exit_fail();
	ksft_exit_pass();
}
