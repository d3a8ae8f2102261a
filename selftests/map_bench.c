// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-page mapping costs, in kernel loops, in one VM run ("make bench"):
 *
 *   page      map + 8-byte read + unmap of memory with a struct page
 *             (pinned, direct map): the struct-page path;
 *   remap     the same on PFN-only memory (RAM hidden by mem=): memremap();
 *   cache     a pfn-cache read of the same PFN-only page;
 *   kvm page  KVM's kvm_vcpu_map()/kvm_vcpu_unmap() on a real vCPU over
 *   kvm pfn   the same two memories (gm_kvm_probe.ko).
 *
 * Needs GUESTMAP_HIDDEN (selftests/run_vm_tests.sh), /dev/kvm and
 * gm_kvm_probe.ko for the KVM lines.  Under TCG only ratios mean anything.
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

#define PAGE		4096UL
#define GPA_PAGE	0x100000UL
#define GPA_PFN		0x200000UL
#define ITERS		20000
#define REPS		5

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double gm_ns_per_op(int fd, uint64_t gpa, uint32_t op)
{
	double v[REPS];
	int i;

	for (i = 0; i < REPS; i++) {
		struct guestmap_bench b = {
			.gpa = gpa, .op = op, .iterations = ITERS,
		};

		if (ioctl(fd, GUESTMAP_BENCH, &b))
			die("GUESTMAP_BENCH");
		v[i] = (double)b.ns / ITERS;
	}
	qsort(v, REPS, sizeof(*v), cmp);
	return v[REPS / 2];
}

/* KVM's kvm_vcpu_map() on @vcpu at @gpa, via gm_kvm_probe; -1 if absent. */
static double kvm_ns_per_op(int vcpu, uint64_t gpa, int *by_page)
{
	const char *path = "/sys/kernel/debug/gm_kvm_probe/map";
	double v[REPS];
	int i;

	for (i = 0; i < REPS; i++) {
		unsigned long long ns;
		char s[64];
		int fd = open(path, O_RDWR), n;

		if (fd < 0)
			return -1;
		n = snprintf(s, sizeof(s), "%d %lu %d", vcpu, gpa / PAGE, ITERS);
		if (write(fd, s, n) != n)
			die(path);
		memset(s, 0, sizeof(s));
		if (pread(fd, s, sizeof(s) - 1, 0) <= 0 ||
		    sscanf(s, "%llu %d", &ns, by_page) != 2)
			die(path);
		close(fd);
		v[i] = (double)ns / ITERS;
	}
	qsort(v, REPS, sizeof(*v), cmp);
	return v[REPS / 2];
}

static void slot(int fd, uint32_t id, uint64_t gpa, void *hva)
{
	struct guestmap_memslot m = {
		.slot = id, .guest_phys_addr = gpa, .memory_size = 16 * PAGE,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &m))
		die("GUESTMAP_SET_MEMSLOT");
}

static int kvm_vcpu(void *anon, void *pfnmem)
{
	int kvm = open("/dev/kvm", O_RDWR), vm, i;
	void *mem[2] = { anon, pfnmem };
	uint64_t gpa[2] = { GPA_PAGE, GPA_PFN };

	if (kvm < 0)
		return -1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i, .guest_phys_addr = gpa[i],
			.memory_size = 16 * PAGE,
			.userspace_addr = (uintptr_t)mem[i],
		};

		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
			die("KVM_SET_USER_MEMORY_REGION");
	}
	return ioctl(vm, KVM_CREATE_VCPU, 0);
}

int main(void)
{
	const char *hidden = getenv("GUESTMAP_HIDDEN");
	unsigned long size, phys;
	double page, remap, cache, cache_page, kpage, kpfn;
	int fd, mem, vcpu, kvm_by_page[2] = { -1, -1 };
	char *anon, *pfnmem;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!hidden || sscanf(hidden, "%li@%li", &size, &phys) != 2)
		die("GUESTMAP_HIDDEN");
	fd = open("/dev/guestmap", O_RDWR);
	mem = open("/dev/mem", O_RDWR);
	if (fd < 0 || mem < 0)
		die("open");
	anon = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	pfnmem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      mem, phys);
	if (anon == MAP_FAILED || pfnmem == MAP_FAILED)
		die("mmap");
	memset(anon, 1, 16 * PAGE);
	memset(pfnmem, 2, 16 * PAGE);
	slot(fd, 0, GPA_PAGE, anon);
	slot(fd, 1, GPA_PFN, pfnmem);

	page = gm_ns_per_op(fd, GPA_PAGE, GUESTMAP_ACCESS_MAP_READ);
	remap = gm_ns_per_op(fd, GPA_PFN, GUESTMAP_ACCESS_MAP_READ);
	cache = gm_ns_per_op(fd, GPA_PFN, GUESTMAP_ACCESS_CACHE_READ);
	cache_page = gm_ns_per_op(fd, GPA_PAGE, GUESTMAP_ACCESS_CACHE_READ);
	vcpu = kvm_vcpu(anon, pfnmem);
	kpage = vcpu < 0 ? -1 : kvm_ns_per_op(vcpu, GPA_PAGE, &kvm_by_page[0]);
	kpfn = vcpu < 0 ? -1 : kvm_ns_per_op(vcpu, GPA_PFN, &kvm_by_page[1]);

	printf("# %d iterations of map + read 8 bytes + unmap, median of %d\n",
	       ITERS, REPS);
	printf("# guestmap struct page (pin, direct map)   %8.0f ns/op\n", page);
	printf("# guestmap PFN-only via memremap()         %8.0f ns/op\n", remap);
	printf("# guestmap PFN-only via the pfn cache      %8.0f ns/op\n", cache);
	printf("# guestmap struct page via the pfn cache   %8.0f ns/op\n", cache_page);
	if (vcpu >= 0) {
		printf("# kvm_vcpu_map() struct page (kmap: %d)    %8.0f ns/op\n",
		       kvm_by_page[0], kpage);
		printf("# kvm_vcpu_map() PFN-only (kmap: %d)       %8.0f ns/op\n",
		       kvm_by_page[1], kpfn);
	} else {
		printf("# KVM not measured: no /dev/kvm or vCPU (%s)\n",
		       strerror(errno));
	}
	printf("bench: map.memremap_over_page %.2f\n", remap / page);
	printf("bench: map.pfn_cache_over_page %.2f\n", cache / page);
	if (vcpu >= 0 && kpage > 0 && kpfn > 0) {
		printf("bench: map.kvm_vcpu_map_page_over_page %.2f\n", kpage / page);
		printf("bench: map.kvm_vcpu_map_pfn_over_pfn_cache %.2f\n", kpfn / cache);
		printf("bench: map.kvm_vcpu_map_pfn_over_memremap %.2f\n", kpfn / remap);
	}
	return 0;
}
