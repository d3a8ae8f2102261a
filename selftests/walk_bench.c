// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page-table walks, in one VM run ("make bench"): a 4-level walk
 * of a 4 KiB mapping, supervisor read, with its tables in memory with a
 * struct page (anonymous) or in PFN-only memory (RAM hidden by mem=,
 * through /dev/mem), each timed:
 *
 *   plain    guestmap's GUESTMAP_BENCH_WALK, a loop in the kernel: each
 *            level mapped for its read and unmapped (pinned, or memremap
 *            of the bare pfn), as kvm_vcpu_map() would;
 *   cached   the same through the walk cache (GUESTMAP_WALK_CACHED): a
 *            pfn cache per level;
 *   ioctl    GUESTMAP_WALK, cached, one ioctl per walk: what user space
 *            pays, set against...
 *   kvm      ...KVM_TRANSLATE on a real vCPU (kvm_amd, nested) whose
 *            memslots map the same memory and whose CR3 is the same
 *            root: KVM's own paging_tmpl.h walk, one ioctl per walk.
 *
 * The A bits are set by the first walk, so the timed walks read only, as
 * KVM_TRANSLATE's do after its first.  Needs GUESTMAP_HIDDEN
 * (selftests/run_vm_tests.sh) and a test build of guestmap
 * (GM_TEST_OPS=1); /dev/kvm for the KVM rows.  Under TCG only ratios
 * mean anything.
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
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include <linux/guestmap.h>
#include <linux/guestmap_test.h>

#include "guestmap_util.h"
#include "guestmap_bench.h"

/* Each memory: PML4, PDPT, PD, PT, then the page mapped. */
#define NPAGES		5
#define GPA_PAGE	0x100000ULL
#define GPA_PFN		0x200000ULL
#define GVA		0x40201000ULL	/* PML4 0, PDPT 1, PD 1, PT 1 */
#define MAXPHY		36

/* x86-64 paging bits, SDM Vol. 3A 2.5 and 4.5. */
#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define CR0_PE		(1ULL << 0)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

enum row { GM_PAGE, GM_PFN, GM_CACHED_PAGE, GM_CACHED_PFN, GM_IOCTL_PAGE,
	   GM_IOCTL_PFN, KVM_PAGE, KVM_PFN, NR_ROWS };

static const char *const row_name[NR_ROWS] = {
	[GM_PAGE]	 = "guestmap mapped per level, struct page",
	[GM_PFN]	 = "guestmap mapped per level, PFN-only",
	[GM_CACHED_PAGE] = "guestmap walk cache, struct page",
	[GM_CACHED_PFN]	 = "guestmap walk cache, PFN-only",
	[GM_IOCTL_PAGE]	 = "GUESTMAP_WALK ioctl (cached), struct page",
	[GM_IOCTL_PFN]	 = "GUESTMAP_WALK ioctl (cached), PFN-only",
	[KVM_PAGE]	 = "KVM_TRANSLATE ioctl, struct page",
	[KVM_PFN]	 = "KVM_TRANSLATE ioctl, PFN-only",
};

struct ctx {
	int gm;			/* /dev/guestmap */
	int vcpu;		/* KVM vCPU fd, -1 if none */
	char *mem[2];		/* struct page, PFN-only */
};

/* The tables in @mem, at @gpa: GVA maps the last page, 4 KiB. */
static void build_tables(char *mem, uint64_t gpa)
{
	uint64_t *t = (uint64_t *)mem;

	memset(mem, 0, NPAGES * PAGE);
	t[0] = (gpa + 1 * PAGE) | PTE_P | PTE_W;
	t[512 + 1] = (gpa + 2 * PAGE) | PTE_P | PTE_W;
	t[1024 + 1] = (gpa + 3 * PAGE) | PTE_P | PTE_W;
	t[1536 + 1] = (gpa + 4 * PAGE) | PTE_P | PTE_W;
}

static void gm_slot(int fd, uint32_t id, uint64_t gpa, void *hva)
{
	struct guestmap_memslot s = {
		.slot = id, .guest_phys_addr = gpa,
		.memory_size = NPAGES * PAGE, .userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &s))
		die("GUESTMAP_SET_MEMSLOT");
}

static struct guestmap_walk walk_of(uint64_t root, uint32_t flags)
{
	struct guestmap_walk w = {
		.root = root, .addr = GVA, .cr0 = CR0_PE | CR0_PG,
		.cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA,
		.format = GUESTMAP_WALK_LONG, .flags = flags,
		.maxphyaddr = MAXPHY,
	};

	return w;
}

/* A KVM vCPU in long mode whose memslots map @mem at the same gpas. */
static int kvm_vcpu(char *const mem[2])
{
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu, i;
	const uint64_t gpa[2] = { GPA_PAGE, GPA_PFN };
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;

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
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return -1;
	/* EFER.LME needs CPUID's long mode (kvm_valid_efer()). */
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid)
		die("calloc");
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid))
		die("KVM_SET_CPUID2");
	free(cpuid);
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cr0 = CR0_PE | CR0_PG;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	sregs.cs.l = 1;
	sregs.cs.db = 0;
	sregs.cr3 = GPA_PAGE;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	return vcpu;
}

static void set_cr3(int vcpu, uint64_t cr3)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cr3 = cr3;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static uint64_t run_row(void *p, int r, unsigned long iters)
{
	struct ctx *c = p;
	int pfn = r % 2;
	uint64_t root = pfn ? GPA_PFN : GPA_PAGE, want = root + 4 * PAGE;
	uint64_t start, ns;
	unsigned long i;

	if (r == KVM_PAGE || r == KVM_PFN) {
		struct kvm_translation tr = { .linear_address = GVA };

		set_cr3(c->vcpu, root);
		start = now_ns();
		for (i = 0; i < iters; i++)
			if (ioctl(c->vcpu, KVM_TRANSLATE, &tr))
				die("KVM_TRANSLATE");
		ns = now_ns() - start;
		bench_check("KVM_TRANSLATE", tr.valid ? tr.physical_address : 0,
			    want);
		return ns;
	}
	if (r == GM_IOCTL_PAGE || r == GM_IOCTL_PFN) {
		struct guestmap_walk w;

		start = now_ns();
		for (i = 0; i < iters; i++) {
			w = walk_of(root, GUESTMAP_WALK_CACHED);
			if (ioctl(c->gm, GUESTMAP_WALK, &w))
				die("GUESTMAP_WALK");
		}
		ns = now_ns() - start;
		bench_check("GUESTMAP_WALK", w.fault ? 0 : w.gpa, want);
		return ns;
	}
	{
		struct guestmap_walk w = walk_of(root, r >= GM_CACHED_PAGE ?
						 GUESTMAP_WALK_CACHED : 0);
		struct guestmap_bench b = {
			.gpa = (uintptr_t)&w, .op = GUESTMAP_BENCH_WALK,
			.iterations = iters,
		};

		if (ioctl(c->gm, GUESTMAP_BENCH, &b))
			die("GUESTMAP_BENCH (WALK)");
		return b.ns;
	}
}

int main(void)
{
	unsigned long size, phys;
	struct ctx c;
	struct bench b = {
		.prefix = "walk", .row_name = row_name, .run = run_row,
		.ctx = &c,
	};
	int kvm_err, i;

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
	build_tables(c.mem[0], GPA_PAGE);
	build_tables(c.mem[1], GPA_PFN);
	gm_slot(c.gm, 0, GPA_PAGE, c.mem[0]);
	gm_slot(c.gm, 1, GPA_PFN, c.mem[1]);
	/* The first walk sets the A bits: the timed ones read only. */
	for (i = 0; i < 2; i++) {
		struct guestmap_walk w = walk_of(i ? GPA_PFN : GPA_PAGE, 0);

		if (ioctl(c.gm, GUESTMAP_WALK, &w))
			die("GUESTMAP_WALK");
		bench_check("first walk", w.fault, GUESTMAP_WALK_OK);
	}
	c.vcpu = kvm_vcpu(c.mem);
	kvm_err = errno;
	b.rows = c.vcpu >= 0 ? NR_ROWS : KVM_PAGE;

	bench_measure(&b);
	printf("# guest page-table walk: 4-level, 4 KiB leaf, supervisor read, A bits already set\n");
	bench_print_rows(&b, "walk");
	if (c.vcpu < 0)
		printf("# KVM not measured: no /dev/kvm or vCPU (%s)\n",
		       strerror(kvm_err));

	bench_ratio(&b, "cached_pfn_over_cached_page", GM_CACHED_PFN,
		    GM_CACHED_PAGE, '<', 1.5);
	bench_ratio(&b, "plain_pfn_over_cached_pfn", GM_PFN, GM_CACHED_PFN,
		    0, 0);
	bench_ratio(&b, "plain_page_over_cached_page", GM_PAGE,
		    GM_CACHED_PAGE, 0, 0);
	bench_ratio(&b, "plain_pfn_over_plain_page", GM_PFN, GM_PAGE, 0, 0);
	bench_ratio(&b, "ioctl_page_over_cached_page", GM_IOCTL_PAGE,
		    GM_CACHED_PAGE, 0, 0);
	if (c.vcpu >= 0) {
		bench_ratio(&b, "kvm_translate_page_over_ioctl_page", KVM_PAGE,
			    GM_IOCTL_PAGE, 0, 0);
		bench_ratio(&b, "kvm_translate_pfn_over_ioctl_pfn", KVM_PFN,
			    GM_IOCTL_PFN, 0, 0);
		bench_ratio(&b, "kvm_translate_page_over_cached_page",
			    KVM_PAGE, GM_CACHED_PAGE, 0, 0);
		bench_ratio(&b, "kvm_translate_pfn_over_cached_pfn", KVM_PFN,
			    GM_CACHED_PFN, 0, 0);
	}
	return 0;
}
