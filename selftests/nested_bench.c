// SPDX-License-Identifier: GPL-2.0
/*
 * A nested SVM entry and exit loop, in one VM run ("make bench"): what
 * VMRUN and #VMEXIT do with guest memory.  Per iteration: map VMCB12,
 * copy its control and save areas, check them, merge L1's MSR permission
 * map into the vCPU's (reading the words of the MSRs L0 passes through,
 * four bytes at a time), unmap; map VMCB12 again, write L2's state and
 * the exit back, unmap.  VMCB12 and the map are in memory with a struct
 * page (anonymous) or in PFN-only memory (RAM hidden by mem=, through
 * /dev/mem), each timed:
 *
 *   map     guestmap's GUESTMAP_BENCH_NESTED_SVM, VMCB12 mapped per
 *           entry and per exit, as kvm_vcpu_map() maps it;
 *   cached  the same through the vCPU's pfn cache
 *           (GUESTMAP_SVM_RUN_CACHED); and once more on PFN-only memory
 *           with L1 not intercepting MSR_PROT, so that VMRUN merges no
 *           map: what the merge costs;
 *   kvm     KVM's own kvm_vcpu_map()/kvm_vcpu_read_guest()/
 *           kvm_vcpu_unmap() on a real vCPU whose memslots map the same
 *           memory, as 6.12's nested_svm_vmrun() and nested_svm_vmexit()
 *           do (gm_kvm_probe.ko, "nested").
 *
 * Each repetition times every row, in turns of about 0.1 s each, so that
 * a busy host slows all alike; a ratio is taken within a
 * repetition, and its median, min and max over the repetitions are
 * printed.  Each kind of memory has its own nested vCPU, so that the
 * cached rows never refresh a cache the other row moved.  Needs
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
#include "guestmap_svm.h"

#define EXIT_VMMCALL	0x81

/* Each memory: 16 pages; VMCB12, the MSR map (2 pages), the I/O map (3). */
#define NPAGES		16
#define VMCB_OFF	0
#define MSRPM_OFF	(2 * PAGE)
#define IOPM_OFF	(4 * PAGE)
#define GPA_PAGE	0x100000ULL
#define GPA_PFN		0x200000ULL
#define HSAVE		0x300000ULL

/*
 * The MSRs KVM passes through to L1 (svm.c's direct_access_msrs, but for
 * those only some CPUs have, and the x2APIC ones): L0 lets L1 use them,
 * so VMRUN reads their words of L1's map.  gm_kvm_probe reads the same.
 */
static const uint32_t passthrough[] = {
	0xc0000100, 0xc0000101, 0xc0000102,	/* FS, GS, KERNEL_GS_BASE */
	0xc0000081, 0xc0000082, 0xc0000083,	/* STAR, LSTAR, CSTAR */
	0xc0000084,				/* SFMASK */
	0x174, 0x175, 0x176,			/* SYSENTER_CS, _ESP, _EIP */
};

/* How many words of the MSR map hold @passthrough's bits. */
static int msrpm_words(void)
{
	unsigned int i, j, n = 0;
	uint32_t w[sizeof(passthrough) / sizeof(*passthrough)];

	for (i = 0; i < sizeof(passthrough) / sizeof(*passthrough); i++) {
		/* APM 15.11: ranges at 0, 800h, 1000h bytes; 4 MSRs a byte. */
		uint32_t msr = passthrough[i];
		uint32_t byte = msr >= 0xc0010000 ? 0x1000 + (msr - 0xc0010000) / 4 :
				msr >= 0xc0000000 ? 0x800 + (msr - 0xc0000000) / 4 :
				msr / 4;

		for (j = 0; j < n && w[j] != byte / 4; j++)
			;
		if (j == n)
			w[n++] = byte / 4;
	}
	return n;
}

enum row { GM_MAP_PAGE, GM_MAP_PFN, GM_CACHED_PAGE, GM_CACHED_PFN,
	   GM_CACHED_PFN_UNMERGED, KVM_PAGE, KVM_PFN, NR_ROWS };

static const char *const row_name[NR_ROWS] = {
	[GM_MAP_PAGE]	 = "guestmap map per entry, struct page",
	[GM_MAP_PFN]	 = "guestmap map per entry, PFN-only",
	[GM_CACHED_PAGE] = "guestmap pfn cache, struct page",
	[GM_CACHED_PFN]	 = "guestmap pfn cache, PFN-only",
	[GM_CACHED_PFN_UNMERGED] = "the same, no MSR_PROT: no merge",
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
 * A VMCB12 at @gpa that passes every check (svm_good_vmcb()),
 * intercepting MSR_PROT, its maps after it in @mem.
 */
static void good_vmcb(char *mem, uint64_t gpa)
{
	char *v = mem + VMCB_OFF;

	memset(mem, 0, NPAGES * PAGE);
	svm_good_vmcb(v, gpa + MSRPM_OFF, gpa + IOPM_OFF);
	put32(v, VMCB_INTERCEPT_WORD3, WORD3_MSR_PROT);
	/* L1 intercepts STAR's writes, lets L2 have the rest. */
	mem[MSRPM_OFF + 0x800 + 0x81 / 4] = 0x2 << (2 * (0x81 % 4));
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

/*
 * Nested vCPU @id: an AMD CPU with long mode, NX and SVM, MAXPHYADDR 48;
 * L1 in long mode at CPL 0 with EFER.SVME; L0 passing @passthrough.
 */
static void gm_vcpu(int fd, uint32_t id)
{
	struct guestmap_svm_l1 l1 = {
		.vcpu = id, .efer = EFER_SVME | EFER_LME | EFER_LMA,
		.cr0 = CR0_PG | CR0_PE, .hsave_pa = HSAVE,
	};
	unsigned int i;

	/* create_vcpu() leaves errno as the ioctl set it, for die(). */
	if (create_vcpu(fd, id, 48))
		die("GUESTMAP_SVM_CREATE_VCPU");
	if (ioctl(fd, GUESTMAP_SVM_SET_L1, &l1))
		die("GUESTMAP_SVM_SET_L1");
	for (i = 0; i < sizeof(passthrough) / sizeof(*passthrough); i++) {
		struct guestmap_svm_l0_msr m = {
			.vcpu = id, .msr = passthrough[i], .intercept = 0,
		};

		if (ioctl(fd, GUESTMAP_SVM_SET_L0_MSR, &m))
			die("GUESTMAP_SVM_SET_L0_MSR");
	}
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
static uint64_t gm_run(int fd, uint32_t id, uint64_t gpa, uint32_t flags,
		       unsigned long iters)
{
	struct guestmap_bench b = {
		.gpa = gpa, .op = GUESTMAP_BENCH_NESTED_SVM, .cache = id,
		.iterations = iters, .flags = flags,
	};

	if (ioctl(fd, GUESTMAP_BENCH, &b))
		die("GUESTMAP_BENCH (NESTED_SVM)");
	return b.ns;
}

/* Nanoseconds for @iters entries and exits by KVM, via gm_kvm_probe. */
static uint64_t kvm_run(int vcpu, uint64_t gpa, unsigned long iters,
			int *by_page)
{
	const char *path = "/sys/kernel/debug/gm_kvm_probe/nested";
	unsigned long long ns;
	char s[96];
	int fd = open(path, O_RDWR), n;

	if (fd < 0)
		die(path);
	n = snprintf(s, sizeof(s), "%d %llu %llu %lu", vcpu,
		     (unsigned long long)(gpa + VMCB_OFF) / PAGE,
		     (unsigned long long)(gpa + MSRPM_OFF) / PAGE, iters);
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
	int pfn = r == GM_MAP_PFN || r == GM_CACHED_PFN ||
		  r == GM_CACHED_PFN_UNMERGED || r == KVM_PFN;
	uint64_t gpa = pfn ? GPA_PFN : GPA_PAGE, ns;
	char *v = c->mem[pfn] + VMCB_OFF;

	/* Each loop must write its exits back: start from another code. */
	put64(v, VMCB_EXIT_CODE, 0);
	put32(v, VMCB_INTERCEPT_WORD3,
	      r == GM_CACHED_PFN_UNMERGED ? 0 : WORD3_MSR_PROT);
	switch (r) {
	case KVM_PAGE:
	case KVM_PFN:
		ns = kvm_run(c->vcpu, gpa, iters, &c->kvm_by_page[pfn]);
		break;
	default:
		ns = gm_run(c->gm, pfn, gpa, r == GM_MAP_PAGE ||
			    r == GM_MAP_PFN ? 0 : GUESTMAP_SVM_RUN_CACHED,
			    iters);
		break;
	}
	if (get64(v, VMCB_EXIT_CODE) != EXIT_VMMCALL) {
		fprintf(stderr, "nested_bench: %s: no exit written back\n",
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
		.prefix = "nested", .row_name = row_name, .name_width = 40,
		.run = run_row, .ctx = &c,
	};

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
	good_vmcb(c.mem[0], GPA_PAGE);
	good_vmcb(c.mem[1], GPA_PFN);
	gm_slot(c.gm, 0, GPA_PAGE, c.mem[0]);
	gm_slot(c.gm, 1, GPA_PFN, c.mem[1]);
	gm_vcpu(c.gm, 0);
	gm_vcpu(c.gm, 1);
	c.vcpu = kvm_vcpu(c.mem);
	if (c.vcpu >= 0 && access("/sys/kernel/debug/gm_kvm_probe/nested", F_OK))
		c.vcpu = -1;
	c.kvm_err = errno;
	b.rows = c.vcpu >= 0 ? NR_ROWS : KVM_PAGE;

	bench_measure(&b);

	printf("# nested SVM entry + exit: VMRUN maps VMCB12, copies, checks, merges the MSR maps (reading %d words of L1's: the %zu MSRs L0 passes through), unmaps; #VMEXIT maps, writes back, unmaps\n",
	       msrpm_words(), sizeof(passthrough) / sizeof(*passthrough));
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
	bench_ratio(&b, "map_pfn_over_cached_pfn", GM_MAP_PFN, GM_CACHED_PFN,
		    0, 0);
	bench_ratio(&b, "map_pfn_over_map_page", GM_MAP_PFN, GM_MAP_PAGE, 0, 0);
	bench_ratio(&b, "cached_page_over_map_page", GM_CACHED_PAGE,
		    GM_MAP_PAGE, 0, 0);
	bench_ratio(&b, "cached_pfn_over_cached_pfn_unmerged", GM_CACHED_PFN,
		    GM_CACHED_PFN_UNMERGED, 0, 0);
	if (c.vcpu >= 0) {
		bench_ratio(&b, "kvm_vcpu_map_page_over_map_page", KVM_PAGE,
			    GM_MAP_PAGE, 0, 0);
		bench_ratio(&b, "kvm_vcpu_map_pfn_over_map_pfn", KVM_PFN,
			    GM_MAP_PFN, 0, 0);
		bench_ratio(&b, "kvm_vcpu_map_pfn_over_kvm_vcpu_map_page",
			    KVM_PFN, KVM_PAGE, 0, 0);
	}
	return 0;
}
