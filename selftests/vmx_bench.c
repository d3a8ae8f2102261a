// SPDX-License-Identifier: GPL-2.0
/*
 * A nested VMX entry and exit loop, in one VM run ("make bench"): what
 * VMRESUME and VM exit do with guest memory.  Per iteration, the entry
 * checks vmcs12, attaches the APIC-access page, the virtual-APIC page and
 * the posted-interrupt descriptor, and merges L1's MSR bitmap into the
 * vCPU's (the bitmap page mapped for the merge, then unmapped); the exit
 * writes the exit into vmcs12, writes vmcs12 back and detaches the three
 * pages.  The pages are in memory with a struct page (anonymous) or in
 * PFN-only memory (RAM hidden by mem=, through /dev/mem), each timed:
 *
 *   held    guestmap's GUESTMAP_BENCH_NESTED_VMX on a vCPU that holds
 *           the pages from entry to exit, mapped per entry, as 6.12's
 *           kvm_vcpu_map() holds them;
 *   cached  the same on a vCPU created GUESTMAP_VMX_VCPU_CACHED, the
 *           pages reached through its pfn caches; and once more on each
 *           memory with L1 not using MSR bitmaps, so that the entry
 *           maps and merges no bitmap: what the merge costs;
 *   kvm     KVM's own kvm_vcpu_map()/kvm_vcpu_unmap() on a real vCPU
 *           whose memslots map the same memory, as 6.12's
 *           nested_get_vmcs12_pages(), nested_vmx_prepare_msr_bitmap()
 *           and nested_vmx_vmexit() do (gm_kvm_probe.ko, "nested_vmx"):
 *           the three pages mapped and held, L1's MSR bitmap mapped for
 *           the merge of the MSRs KVM merges, and the three unmapped.
 *
 * Each repetition times every row, in turns of about 0.1 s each, so that
 * a busy host slows all alike; a ratio is taken within a repetition, and
 * its median, min and max over the repetitions are printed.  Each mode
 * on each kind of memory has its own nested vCPU, with its own VMXON
 * region and vmcs12 (the three pages and the bitmap are shared).  Needs
 * GUESTMAP_HIDDEN (selftests/run_vm_tests.sh), a test build of guestmap
 * (GM_TEST_OPS=1), and /dev/kvm and gm_kvm_probe.ko for the KVM rows.
 * Under TCG only ratios mean anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include <linux/guestmap.h>
#include <linux/guestmap_test.h>

#include "guestmap_util.h"
#include "guestmap_bench.h"
#include "guestmap_vmx.h"

#define NR(a)		(sizeof(a) / sizeof(*(a)))

/*
 * Each memory: 16 pages.  The VMXON region and vmcs12 of its held vCPU
 * (mode 0) and of its cached one (mode 1), then what vmcs12 names.
 */
#define NPAGES		16
#define VMXON_OFF(m)	((2 * (m)) * PAGE)
#define VMCS_OFF(m)	((2 * (m) + 1) * PAGE)
#define MSR_BITMAP_OFF	(4 * PAGE)
#define VAPIC_OFF	(5 * PAGE)
#define APIC_ACCESS_OFF	(6 * PAGE)
/* The PI descriptor need only be 64-byte aligned: put it inside a page. */
#define PI_DESC_OFF	(7 * PAGE + 0x40)
#define PML_OFF		(8 * PAGE)
#define VMREAD_BM_OFF	(9 * PAGE)
#define VMWRITE_BM_OFF	(10 * PAGE)
#define GPA_PAGE	0x100000ULL
#define GPA_PFN		0x200000ULL
#define MAXPHY		36

/* KVM's struct vmcs12 offset of vm_exit_reason (vmcs12.h). */
#define O_VM_EXIT_REASON 812
/* EXIT_REASON_VMCALL, SDM appendix C: the exit each iteration writes. */
#define EXIT_VMCALL	18

/*
 * The controls are guestmap_vmx.h's, as nested_vmx_l2_test's setup_l1()
 * sets them: KVM's must-be-one bits, TPR shadow with APIC-access
 * virtualization, virtual-interrupt delivery and posted interrupts, EPT
 * with PML, MSR bitmaps; 64-bit host and guest.
 */

/*
 * The MSRs 6.12's nested_vmx_prepare_msr_bitmap() merges (without x2APIC
 * virtualization), which L0 passes through to L1 for the accesses KVM
 * merges: reads and writes, or writes only.  gm_kvm_probe merges the
 * same.
 */
static const struct {
	uint32_t msr;
	uint32_t l0_intercepts;
} passthrough[] = {
	{ 0xc0000100, 0 },			/* FS_BASE */
	{ 0xc0000101, 0 },			/* GS_BASE */
	{ 0xc0000102, 0 },			/* KERNEL_GS_BASE */
	{ 0x48, 0 },				/* SPEC_CTRL */
	{ 0x49, GUESTMAP_VMX_MSR_READ },	/* PRED_CMD */
	{ 0x10b, GUESTMAP_VMX_MSR_READ },	/* FLUSH_CMD */
};

enum row { GM_HELD_PAGE, GM_HELD_PFN, GM_CACHED_PAGE, GM_CACHED_PFN,
	   GM_CACHED_PAGE_UNMERGED, GM_CACHED_PFN_UNMERGED, KVM_PAGE, KVM_PFN,
	   NR_ROWS };

static const char *const row_name[NR_ROWS] = {
	[GM_HELD_PAGE]	 = "guestmap held per entry, struct page",
	[GM_HELD_PFN]	 = "guestmap held per entry, PFN-only",
	[GM_CACHED_PAGE] = "guestmap pfn cache, struct page",
	[GM_CACHED_PFN]	 = "guestmap pfn cache, PFN-only",
	[GM_CACHED_PAGE_UNMERGED] = "pfn cache, struct page, no MSR bitmaps",
	[GM_CACHED_PFN_UNMERGED] = "pfn cache, PFN-only, no MSR bitmaps",
	[KVM_PAGE]	 = "kvm_vcpu_map() per entry, struct page",
	[KVM_PFN]	 = "kvm_vcpu_map() per entry, PFN-only",
};

struct ctx {
	int gm;			/* /dev/guestmap */
	int vcpu;		/* KVM vCPU fd, -1 if none */
	char *mem[2];		/* struct page, PFN-only */
	int kvm_err;		/* why there is none */
	int kvm_by_page[2];	/* kvm_vcpu_map() kmap()ed it */
};

/*
 * The memory of each kind: the VMXON regions' and vmcs12s' revision
 * identifiers, and L1's MSR bitmap, which intercepts FS_BASE's writes
 * and lets L2 have the rest.
 */
static void good_mem(char *mem)
{
	memset(mem, 0, NPAGES * PAGE);
	put_u32(mem + VMXON_OFF(0), VMCS12_REVISION);
	put_u32(mem + VMCS_OFF(0), VMCS12_REVISION);
	put_u32(mem + VMXON_OFF(1), VMCS12_REVISION);
	put_u32(mem + VMCS_OFF(1), VMCS12_REVISION);
	/* Write bits of C0000000h-C0001FFFh at C00h, SDM 25.6.9. */
	mem[MSR_BITMAP_OFF + 0xc00 + 0x100 / 8] = 1;
}

static void gm_slot(int fd, uint32_t id, uint64_t gpa, void *hva)
{
	struct guestmap_memslot m = {
		.slot = id, .guest_phys_addr = gpa,
		.memory_size = NPAGES * PAGE, .userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &m))
		die("GUESTMAP_SET_MEMSLOT");
}

/* Instruction @insn of vCPU @id: its result, or dies. */
static uint32_t gm_insn(int fd, uint32_t id, uint32_t insn, uint64_t operand,
			uint64_t value)
{
	struct guestmap_vmx_insn r = {
		.vcpu = id, .insn = insn, .operand = operand, .value = value,
	};

	if (ioctl(fd, GUESTMAP_VMX_INSN, &r))
		die("GUESTMAP_VMX_INSN");
	return r.result;
}

static void gm_op(int fd, uint32_t id, uint32_t op, uint64_t arg,
		  uint64_t value)
{
	struct guestmap_vmx_op r = {
		.vcpu = id, .op = op, .arg = arg, .value = value,
	};

	if (ioctl(fd, GUESTMAP_VMX_OP, &r))
		die("GUESTMAP_VMX_OP");
}

static void vmwrite(int fd, uint32_t id, uint64_t field, uint64_t value)
{
	bench_check("VMWRITE", gm_insn(fd, id, GUESTMAP_VMX_VMWRITE, field,
				       value), GUESTMAP_VMX_SUCCEED);
}

/*
 * Nested VMX vCPU @id, held or @cached, on the memory at @gpa: a CPU
 * with VMX and PAE, MAXPHYADDR 36, KVM's capability MSRs; L1 in 64-bit
 * mode at CPL 0 with CR4.VMXE, L0 passing @passthrough through; VMXON,
 * VMPTRLD of vmcs12 @m and a vmcs12 that passes every check, with the
 * values nested_vmx_l2_test's setup_l1() gives; then launched and exited
 * once, so that each iteration is a VMRESUME.
 */
static void gm_vcpu(int fd, uint32_t id, int cached, uint64_t gpa)
{
	struct guestmap_cpuid_entry e[] = {
		{ .function = 0, .eax = 1 },
		{ .function = 1, .ecx = 1U << 5, .edx = 1U << 6 },
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000008, .eax = MAXPHY },
	};
	struct guestmap_vmx_vcpu v = {
		.vcpu = id, .nent = NR(e), .entries = (uintptr_t)e,
		.flags = cached ? GUESTMAP_VMX_VCPU_CACHED : 0,
	};
	struct guestmap_vmx_l1 l1 = {
		.vcpu = id, .cr0 = 0x80000031, .cr4 = 0x2020,
		.feature_control = 5, .efer = 0x500,
	};
	const struct { uint32_t f; uint64_t v; } fields[] = {
		{ F_PIN_BASED, PIN_DEFAULT },
		{ F_CPU_BASED, PROC_DEFAULT },
		{ F_SECONDARY, P2_DEFAULT },
		{ F_EXIT_CONTROLS, EXIT_DEFAULT },
		{ F_ENTRY_CONTROLS, ENTRY_DEFAULT },
		{ F_MSR_BITMAP, gpa + MSR_BITMAP_OFF },
		{ F_VIRTUAL_APIC_PAGE, gpa + VAPIC_OFF },
		{ F_APIC_ACCESS_ADDR, gpa + APIC_ACCESS_OFF },
		{ F_POSTED_INTR_NV, 0xf2 },
		{ F_POSTED_INTR_DESC, gpa + PI_DESC_OFF },
		{ F_TPR_THRESHOLD, 0 },
		{ F_EPT_POINTER, EPTP },
		{ F_PML_ADDRESS, gpa + PML_OFF },
		{ F_GUEST_PML_INDEX, 511 },
		{ F_VMREAD_BITMAP, gpa + VMREAD_BM_OFF },
		{ F_VMWRITE_BITMAP, gpa + VMWRITE_BM_OFF },
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
	unsigned int i;

	if (ioctl(fd, GUESTMAP_VMX_CREATE_VCPU, &v))
		die("GUESTMAP_VMX_CREATE_VCPU");
	if (ioctl(fd, GUESTMAP_VMX_SET_L1, &l1))
		die("GUESTMAP_VMX_SET_L1");
	for (i = 0; i < NR(passthrough); i++)
		gm_op(fd, id, GUESTMAP_VMX_OP_L0_MSR, passthrough[i].msr,
		      passthrough[i].l0_intercepts);
	bench_check("VMXON", gm_insn(fd, id, GUESTMAP_VMX_VMXON,
				     gpa + VMXON_OFF(cached), 0),
		    GUESTMAP_VMX_SUCCEED);
	bench_check("VMPTRLD", gm_insn(fd, id, GUESTMAP_VMX_VMPTRLD,
				       gpa + VMCS_OFF(cached), 0),
		    GUESTMAP_VMX_SUCCEED);
	for (i = 0; i < NR(fields); i++)
		vmwrite(fd, id, fields[i].f, fields[i].v);
	bench_check("VMLAUNCH", gm_insn(fd, id, GUESTMAP_VMX_VMLAUNCH, 0, 0),
		    GUESTMAP_VMX_ENTERED);
	gm_op(fd, id, GUESTMAP_VMX_OP_VMEXIT, EXIT_VMCALL, 0);
}

/* A KVM vCPU whose memslots map @mem at the same gpas; -1 if none. */
static int kvm_vcpu(char *const mem[2])
{
	int kvm = open("/dev/kvm", O_RDWR), vm, i;
	const uint64_t gpa[2] = { GPA_PAGE, GPA_PFN };

	if (kvm < 0)
		return -1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i, .guest_phys_addr = gpa[i],
			.memory_size = NPAGES * PAGE,
			.userspace_addr = (uintptr_t)mem[i],
		};

		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
			die("KVM_SET_USER_MEMORY_REGION");
	}
	return ioctl(vm, KVM_CREATE_VCPU, 0);
}

/* Nanoseconds for @iters entries and exits of vCPU @id by guestmap. */
static uint64_t gm_run(int fd, uint32_t id, unsigned long iters)
{
	struct guestmap_bench b = {
		.op = GUESTMAP_BENCH_NESTED_VMX, .cache = id,
		.iterations = iters,
	};

	if (ioctl(fd, GUESTMAP_BENCH, &b))
		die("GUESTMAP_BENCH (NESTED_VMX)");
	return b.ns;
}

/* Nanoseconds for @iters entries and exits by KVM, via gm_kvm_probe. */
static uint64_t kvm_run(int vcpu, uint64_t gpa, unsigned long iters,
			int *by_page)
{
	const char *path = "/sys/kernel/debug/gm_kvm_probe/nested_vmx";
	unsigned long long ns;
	char s[128];
	int fd = open(path, O_RDWR), n;

	if (fd < 0)
		die(path);
	n = snprintf(s, sizeof(s), "%d %llu %llu %llu %llu %lu", vcpu,
		     (unsigned long long)(gpa + APIC_ACCESS_OFF) / PAGE,
		     (unsigned long long)(gpa + VAPIC_OFF) / PAGE,
		     (unsigned long long)(gpa + PI_DESC_OFF) / PAGE,
		     (unsigned long long)(gpa + MSR_BITMAP_OFF) / PAGE, iters);
	if (write(fd, s, n) != n)
		die(path);
	memset(s, 0, sizeof(s));
	if (pread(fd, s, sizeof(s) - 1, 0) <= 0 ||
	    sscanf(s, "%llu %d", &ns, by_page) != 2)
		die(path);
	close(fd);
	return ns;
}

/* Nanoseconds for @iters iterations of row @r. */
static uint64_t run_row(void *p, int r, unsigned long iters)
{
	struct ctx *c = p;
	int pfn = r == GM_HELD_PFN || r == GM_CACHED_PFN ||
		  r == GM_CACHED_PFN_UNMERGED || r == KVM_PFN;
	int unmerged = r == GM_CACHED_PAGE_UNMERGED ||
		       r == GM_CACHED_PFN_UNMERGED;
	int cached = r == GM_CACHED_PAGE || r == GM_CACHED_PFN || unmerged;
	uint32_t id = 2 * pfn + cached;
	char *reason = c->mem[pfn] + VMCS_OFF(cached) + O_VM_EXIT_REASON;
	uint64_t ns;

	if (r == KVM_PAGE || r == KVM_PFN)
		return kvm_run(c->vcpu, pfn ? GPA_PFN : GPA_PAGE, iters,
			       &c->kvm_by_page[pfn]);
	if (cached)
		vmwrite(c->gm, id, F_CPU_BASED, unmerged ?
			PROC_DEFAULT & ~PROC_MSR_BITMAPS : PROC_DEFAULT);
	/* Each loop must write its exits back: start from another reason. */
	put_u32(reason, 0);
	ns = gm_run(c->gm, id, iters);
	if (u32_at(reason) != EXIT_VMCALL) {
		fprintf(stderr, "vmx_bench: %s: no exit written back\n",
			row_name[r]);
		exit(1);
	}
	return ns;
}

int main(void)
{
	unsigned long size, phys;
	struct ctx c = { .kvm_by_page = { -1, -1 } };
	struct bench b = {
		.prefix = "vmx", .row_name = row_name, .name_width = 40,
		.run = run_row, .ctx = &c,
	};
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!env_range("GUESTMAP_HIDDEN", &size, &phys) ||
	    size < NPAGES * PAGE) {
		errno = EINVAL;
		die("GUESTMAP_HIDDEN");
	}
	c.gm = open_dev();
	if (c.gm < 0)
		die(DEV_PATH);
	c.mem[0] = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	c.mem[1] = map_devmem(phys, NPAGES * PAGE, PROT_READ | PROT_WRITE);
	if (c.mem[0] == MAP_FAILED || c.mem[1] == MAP_FAILED)
		die("mmap");
	good_mem(c.mem[0]);
	good_mem(c.mem[1]);
	gm_slot(c.gm, 0, GPA_PAGE, c.mem[0]);
	gm_slot(c.gm, 1, GPA_PFN, c.mem[1]);
	for (i = 0; i < 4; i++)
		gm_vcpu(c.gm, i, i % 2, i / 2 ? GPA_PFN : GPA_PAGE);
	c.vcpu = kvm_vcpu(c.mem);
	if (c.vcpu >= 0 &&
	    access("/sys/kernel/debug/gm_kvm_probe/nested_vmx", F_OK))
		c.vcpu = -1;
	c.kvm_err = errno;
	b.rows = c.vcpu >= 0 ? NR_ROWS : KVM_PAGE;

	bench_measure(&b);

	printf("# nested VMX entry + exit: VMRESUME checks vmcs12, attaches the APIC-access, virtual-APIC and PI pages, reads L1's MSR bitmap (held: mapped for it; cached: the pfn cache) and merges it (KVM: maps it, merges the %zu MSRs it merges); VM exit writes vmcs12 back (KVM: nothing) and detaches the pages\n",
	       NR(passthrough));
	bench_print_rows(&b, "entry+exit");
	if (c.vcpu >= 0)
		printf("# kvm_vcpu_map() kmap()ed: struct page %d, PFN-only %d\n",
		       c.kvm_by_page[0], c.kvm_by_page[1]);
	else
		printf("# KVM not measured: no /dev/kvm, vCPU or gm_kvm_probe (%s)\n",
		       strerror(c.kvm_err));

	if (c.vcpu >= 0)
		bench_ratio(&b, "kvm_vcpu_map_pfn_over_cached_pfn", KVM_PFN,
			    GM_CACHED_PFN, '>', 15);
	bench_ratio(&b, "cached_pfn_over_cached_page", GM_CACHED_PFN,
		    GM_CACHED_PAGE, '<', 1.5);
	bench_ratio(&b, "held_pfn_over_cached_pfn", GM_HELD_PFN, GM_CACHED_PFN,
		    0, 0);
	bench_ratio(&b, "held_pfn_over_held_page", GM_HELD_PFN, GM_HELD_PAGE,
		    0, 0);
	bench_ratio(&b, "cached_page_over_held_page", GM_CACHED_PAGE,
		    GM_HELD_PAGE, 0, 0);
	bench_ratio(&b, "cached_pfn_over_cached_pfn_unmerged", GM_CACHED_PFN,
		    GM_CACHED_PFN_UNMERGED, 0, 0);
	bench_ratio(&b, "cached_page_over_cached_page_unmerged",
		    GM_CACHED_PAGE, GM_CACHED_PAGE_UNMERGED, 0, 0);
	bench_ratio(&b, "cached_pfn_unmerged_over_cached_page_unmerged",
		    GM_CACHED_PFN_UNMERGED, GM_CACHED_PAGE_UNMERGED, 0, 0);
	if (c.vcpu >= 0) {
		bench_ratio(&b, "kvm_vcpu_map_page_over_held_page", KVM_PAGE,
			    GM_HELD_PAGE, 0, 0);
		bench_ratio(&b, "kvm_vcpu_map_pfn_over_held_pfn", KVM_PFN,
			    GM_HELD_PFN, 0, 0);
		bench_ratio(&b, "kvm_vcpu_map_pfn_over_kvm_vcpu_map_page",
			    KVM_PFN, KVM_PAGE, 0, 0);
	}
	return 0;
}
