// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap's mirror against KVM's TDP MMU (kvm_amd npt=1, tdp_mmu=1) on
 * the same user buffer, in one VM run ("make bench").  Not a test: it
 * never fails on a figure, only on an error.  Under TCG only the ratios of
 * one run mean anything.
 *
 * For each size (64 and 512 MiB) and backing (4K pages with
 * MADV_NOHUGEPAGE; THP with MADV_HUGEPAGE on a 2 MiB aligned buffer;
 * hugetlb 2 MiB pages, MAP_HUGETLB, with vm.nr_hugepages raised for the
 * row and restored after it), one buffer alive at a time, populated by
 * writing it, and REPS repetitions, each with a new KVM VM (one vCPU, one
 * memslot over the buffer) and a new guestmap context (one memslot over
 * the buffer), both at GPA:
 *
 *   fault_in           KVM_PRE_FAULT_MEMORY of the whole buffer against
 *                      GUESTMAP_MIRROR_FAULT (GUESTMAP_FAULT_WRITE) of it,
 *                      on the populated buffer: both build only their own
 *                      tables;
 *   restore_mprotect   the same again after mprotect(PROT_READ) then
 *                      mprotect(PROT_READ | PROT_WRITE) of the buffer;
 *   restore_softdirty  after "echo 4 > /proc/self/clear_refs";
 *   restore_dontneed   after MADV_DONTNEED of the first eighth: the
 *                      re-fault of that eighth only;
 *   table_kb_per_gib   the SecPageTables delta (/proc/meminfo) across
 *                      fault_in, per GiB mapped.
 *
 * Before each restore is timed, user space writes the range again
 * (one byte per 4 KiB page), so that the CPU page tables are populated
 * and writable and both sides measure only their own table work:
 * KVM_PRE_FAULT_MEMORY faults for read (kvm_arch_vcpu_pre_fault_memory()
 * passes no PFERR_WRITE_MASK) and maps writable only what the host pte
 * already allows (hva_to_pfn_fast()), while a guestmap write fault would
 * make the CPU side writable itself.  After a soft-dirty clear the ptes
 * are write-protected, and after mprotect a private hugetlb pte stays
 * read-only until written; after MADV_DONTNEED the eighth has no page at
 * all.  The writes send no invalidation (the write faults reuse the
 * exclusive anonymous page, or fill an empty pte), so what the event made
 * each side drop is still dropped when the restore is timed.
 *
 * Each figure is the median of REPS with min and max; ratio = KVM median
 * / guestmap median (> 1: guestmap faster, or smaller), shown with the
 * min and max of the ratios within single repetitions, which a host
 * busy with other work disturbs less.  A row whose max/min exceeds 1.5 on
 * either side is "noisy".  Which side runs first alternates between
 * repetitions.  Neither root table is in the SecPageTables delta: KVM
 * allocates its TDP root in the first KVM_PRE_FAULT_MEMORY but accounts
 * only the tables it links below it (tdp_account_mmu_page()), and
 * guestmap's root comes with the context, opened before the count.
 *
 * Checks, printed as comments: KVM's binary stats (KVM_GET_STATS_FD:
 * pages_4k, pages_2m, pages_1g) and GUESTMAP_GET_STATS after fault_in,
 * after each event and after each restore (first repetition; a
 * repetition where a side did not map the whole buffer back is reported
 * in every repetition), and once per backing, through the kvm_mmu_set_spte
 * tracepoint, whether KVM_PRE_FAULT_MEMORY mapped writable and at what
 * level.
 *
 * Output: the table on stdout ("# " lines are commentary), and one JSON
 * object per row to the file of "-o FILE" or $TDP_BENCH_JSON.  Run
 * details come from $GM_BENCH_KERNEL (the kernel cache key),
 * $GM_BENCH_GIT and $GM_BENCH_STAMP (scripts/bench.sh sets them).
 * Options: -r REPS, -s SIZES_MIB (comma separated), -b BACKINGS
 * (4k,thp,hugetlb), -o FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include <linux/guestmap.h>

#define PAGE		4096UL
#define MIB		(1UL << 20)
#define HPAGE		(2 * MIB)
#define GPA		0x40000000UL	/* 1 GiB: aligned for any page size */
#define MAX_REPS	15
#define DEF_REPS	5
#define NOISY		1.5
#define TRACEFS		"/sys/kernel/tracing"
#define SPTE_EVENT	TRACEFS "/events/kvmmmu/kvm_mmu_set_spte/enable"

enum backing { B_4K, B_THP, B_HUGETLB, NR_BACKINGS };
static const char *const backing_name[NR_BACKINGS] = { "4k", "thp", "hugetlb" };

enum measure {
	M_FAULT_IN, M_MPROTECT, M_SOFTDIRTY, M_DONTNEED, M_TABLES, NR_MEASURES
};
static const char *const measure_name[NR_MEASURES] = {
	"fault_in", "restore_mprotect", "restore_softdirty",
	"restore_dontneed", "table_kb_per_gib",
};

static int reps = DEF_REPS;
static FILE *json;
static const char *kernel_key, *git_rev, *stamp;
static struct utsname uts;
static int kvm_fd = -1;
static long saved_nr_hugepages = -1;

static void restore_hugepages(void);

static void die(const char *what)
{
	perror(what);
	restore_hugepages();
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "tdp_bench: %s\n", what);
	restore_hugepages();
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * The value of @key in /proc/meminfo, in kB; -1 if missing.  The per-CPU
 * deltas of the vmstat counters (SecPageTables is one) are folded in
 * first (vm.stat_refresh), or a small delta could hide in them.
 */
static long meminfo_kb(const char *key)
{
	int rfd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	size_t n = strlen(key);
	char line[256];
	long v = -1;
	FILE *f;

	if (rfd >= 0) {
		if (write(rfd, "1", 1) != 1)
			v = -1;
		close(rfd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The first line of @path, without its newline, in @buf; "" if none. */
static const char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static long get_nr_hugepages(void)
{
	char b[64];

	return strtol(read_line("/proc/sys/vm/nr_hugepages", b, sizeof(b)),
		      NULL, 10);
}

static int set_nr_hugepages(long n)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", n);
	return write_str("/proc/sys/vm/nr_hugepages", b);
}

static void restore_hugepages(void)
{
	if (saved_nr_hugepages >= 0) {
		if (set_nr_hugepages(saved_nr_hugepages))
			fprintf(stderr, "tdp_bench: could not restore nr_hugepages to %ld\n",
				saved_nr_hugepages);
		saved_nr_hugepages = -1;
	}
}

static void clear_soft_dirty(void)
{
	if (write_str("/proc/self/clear_refs", "4"))
		die("/proc/self/clear_refs");
}

/* One byte per 4 KiB page: populates, and makes each pte writable. */
static void touch(char *p, size_t len, char v)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		p[i] = v;
}

/* AnonHugePages of the vma at @p, in kB, from /proc/self/smaps; -1 if none. */
static long anon_huge_kb(void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256], start[32];
	int in = 0;
	long v = -1;

	if (!f)
		return -1;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start)))
			in = 1;
		else if (in && !strncmp(line, "AnonHugePages:", 14)) {
			v = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A buffer of @len bytes of backing @b, not populated; NULL if hugetlb fails. */
static char *buffer(size_t len, enum backing b)
{
	char *p, *a;

	if (b == B_HUGETLB) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* 2 MiB aligned, so that THPs (and KVM's 2M mappings) may fit. */
	p = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	a = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + HPAGE - a);
	if (madvise(a, len, b == B_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die("madvise");
	return a;
}

/* KVM: a VM, its stats fd, one vCPU and one memslot over the buffer. */
struct kvm {
	int vm, vcpu, stats;
	off_t off_4k, off_2m, off_1g;	/* of the stats in the stats fd */
};

struct kvm_pages {
	uint64_t p4k, p2m, p1g;
};

static void kvm_find_stats(struct kvm *k)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz;
	uint32_t i;

	k->stats = ioctl(k->vm, KVM_GET_STATS_FD, NULL);
	if (k->stats < 0)
		die("KVM_GET_STATS_FD");
	if (pread(k->stats, &h, sizeof(h), 0) != sizeof(h))
		die("kvm stats header");
	dsz = sizeof(*d) + h.name_size;
	d = malloc(dsz);
	if (!d)
		die("malloc");
	k->off_4k = k->off_2m = k->off_1g = -1;
	for (i = 0; i < h.num_desc; i++) {
		off_t at;

		if (pread(k->stats, d, dsz, h.desc_offset + i * dsz) != (ssize_t)dsz)
			die("kvm stats descriptor");
		at = h.data_offset + d->offset;
		if (!strcmp(d->name, "pages_4k"))
			k->off_4k = at;
		else if (!strcmp(d->name, "pages_2m"))
			k->off_2m = at;
		else if (!strcmp(d->name, "pages_1g"))
			k->off_1g = at;
	}
	free(d);
	if (k->off_4k < 0 || k->off_2m < 0 || k->off_1g < 0)
		fail("KVM's VM stats have no pages_4k, pages_2m or pages_1g");
}

static uint64_t kvm_stat(struct kvm *k, off_t at)
{
	uint64_t v;

	if (pread(k->stats, &v, sizeof(v), at) != sizeof(v))
		die("kvm stats data");
	return v;
}

static struct kvm_pages kvm_pages(struct kvm *k)
{
	struct kvm_pages p = {
		kvm_stat(k, k->off_4k), kvm_stat(k, k->off_2m),
		kvm_stat(k, k->off_1g),
	};

	return p;
}

/* 4 KiB pages mapped. */
static uint64_t kvm_mapped(struct kvm_pages p)
{
	return p.p4k + 512 * p.p2m + 512 * 512 * p.p1g;
}

static void kvm_open(struct kvm *k, char *buf, size_t len)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = GPA, .memory_size = len,
		.userspace_addr = (uintptr_t)buf,
	};

	k->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION");
	k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	if (k->vcpu < 0)
		die("KVM_CREATE_VCPU");
	kvm_find_stats(k);
}

static void kvm_close(struct kvm *k)
{
	close(k->stats);
	close(k->vcpu);
	close(k->vm);
}

/*
 * KVM_PRE_FAULT_MEMORY of [GPA + off, + len): it may stop early (a signal,
 * need_resched() with a page done) and says so in range.size: go on.
 */
static double kvm_fault(struct kvm *k, size_t off, size_t len)
{
	struct kvm_pre_fault_memory r = { .gpa = GPA + off, .size = len };
	double t = now();

	while (r.size)
		if (ioctl(k->vcpu, KVM_PRE_FAULT_MEMORY, &r) &&
		    errno != EINTR && errno != EAGAIN)
			die("KVM_PRE_FAULT_MEMORY");
	return now() - t;
}

/* guestmap: a context with one memslot over the buffer. */
static int gm_open(char *buf, size_t len)
{
	struct guestmap_memslot m = {
		.guest_phys_addr = GPA, .memory_size = len,
		.userspace_addr = (uintptr_t)buf,
	};
	int fd = open("/dev/guestmap", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/guestmap");
	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &m))
		die("GUESTMAP_SET_MEMSLOT");
	return fd;
}

static double gm_fault(int fd, size_t off, size_t len)
{
	struct guestmap_fault f = {
		.gpa = GPA + off, .size = len, .flags = GUESTMAP_FAULT_WRITE,
	};
	double t = now();

	/* EINTR only on a signal, with part done: the rest is quick. */
	while (ioctl(fd, GUESTMAP_MIRROR_FAULT, &f))
		if (errno != EINTR)
			die("GUESTMAP_MIRROR_FAULT");
	return now() - t;
}

static void gm_stats(int fd, struct guestmap_stats *s)
{
	if (ioctl(fd, GUESTMAP_GET_STATS, s))
		die("GUESTMAP_GET_STATS");
}

static void print_state(const char *when, struct kvm *k, int gm)
{
	struct kvm_pages p = kvm_pages(k);
	struct guestmap_stats s;

	gm_stats(gm, &s);
	printf("#   %-18s kvm pages_4k %7llu pages_2m %4llu pages_1g %llu | guestmap entries_present %7llu entries_2m %4llu entries_1g %llu pages_faulted %7llu entries_zapped %7llu entries_wrprotected %7llu tables_allocated %4llu\n",
	       when, (unsigned long long)p.p4k, (unsigned long long)p.p2m,
	       (unsigned long long)p.p1g,
	       (unsigned long long)s.entries_present,
	       (unsigned long long)s.entries_2m,
	       (unsigned long long)s.entries_1g,
	       (unsigned long long)s.pages_faulted,
	       (unsigned long long)s.entries_zapped,
	       (unsigned long long)s.entries_wrprotected,
	       (unsigned long long)s.tables_allocated);
}

/* After a restore: both sides must map all @npages again. */
static void check_mapped(const char *when, int rep, struct kvm *k, int gm,
			 uint64_t npages)
{
	struct guestmap_stats s;
	uint64_t kv = kvm_mapped(kvm_pages(k));

	gm_stats(gm, &s);
	if (kv != npages || s.entries_present != npages)
		printf("# CHECK rep %d %s: kvm maps %llu, guestmap %llu of %llu pages\n",
		       rep, when, (unsigned long long)kv,
		       (unsigned long long)s.entries_present,
		       (unsigned long long)npages);
}

/*
 * The level and write permission of the SPTE that KVM_PRE_FAULT_MEMORY of
 * the page at @off installs, from the kvm_mmu_set_spte tracepoint, into
 * @out; "?" if tracing is not available.
 */
static void spte_probe(struct kvm *k, size_t off, char *out, size_t len)
{
	char line[512], *s;
	FILE *f;

	snprintf(out, len, "?");
	if (write_str(SPTE_EVENT, "1"))
		return;
	if (write_str(TRACEFS "/trace", "")) {
		write_str(SPTE_EVENT, "0");
		return;
	}
	kvm_fault(k, off, PAGE);
	write_str(SPTE_EVENT, "0");
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int level;

		s = strstr(line, "kvm_mmu_set_spte:");
		if (!s)
			continue;
		s = strchr(s, '(');
		if (s && strstr(s, "level") &&
		    sscanf(strstr(s, "level"), "level %d", &level) == 1) {
			snprintf(out, len, "%s, %s", s[2] == 'w' ? "writable" : "read-only",
				 level == 1 ? "4K" : level == 2 ? "2M" : "1G");
			break;
		}
	}
	fclose(f);
}

/*
 * What KVM_PRE_FAULT_MEMORY maps, on a VM of its own: the first page of the
 * populated buffer, then again after a soft-dirty clear with no user write
 * since (the pte write-protected); the buffer is written again after.
 */
static void probe(char *buf, size_t len, const char *bname)
{
	char fresh[64], sd[64];
	struct kvm k;

	kvm_open(&k, buf, len);
	spte_probe(&k, 0, fresh, sizeof(fresh));
	clear_soft_dirty();
	spte_probe(&k, 0, sd, sizeof(sd));
	kvm_close(&k);
	touch(buf, len, 3);
	printf("# %s: KVM_PRE_FAULT_MEMORY maps (kvm_mmu_set_spte): %s; after a soft-dirty clear, before any write: %s\n",
	       bname, fresh, sd);
}

/* Median, min and max of the REPS values of one side. */
struct stat3 {
	double med, min, max;
};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 stat3(const double *v)
{
	double s[MAX_REPS];
	struct stat3 r;

	memcpy(s, v, reps * sizeof(*s));
	qsort(s, reps, sizeof(*s), cmp);
	r.min = s[0];
	r.max = s[reps - 1];
	r.med = reps % 2 ? s[reps / 2] : (s[reps / 2 - 1] + s[reps / 2]) / 2;
	return r;
}

static int noisy(struct stat3 s)
{
	return s.min > 0 ? s.max / s.min > NOISY : s.max > 0;
}

/* The lead's goal for a row: the ratio it should reach; 0 for none. */
static double goal(enum backing b, enum measure m)
{
	if (b == B_4K)
		return m == M_FAULT_IN || m == M_TABLES ? 0 : 50;
	return 1;
}

static void json_stat(const char *side, struct stat3 s)
{
	fprintf(json, ", \"%s_median\": %.6g, \"%s_min\": %.6g, \"%s_max\": %.6g",
		side, s.med, side, s.min, side, s.max);
}

/* One row of the table, and its JSON line; times in seconds in @kv, @gv. */
static void row(size_t mib, enum backing b, enum measure m, const double *kv,
		const double *gv)
{
	int time = m != M_TABLES;
	double scale = time ? 1e3 : 1, kvs[MAX_REPS], gvs[MAX_REPS], rr[MAX_REPS];
	struct stat3 k, gm, rep = { 0 };
	double ratio, g;
	int i, n, per_rep = 1;
	char rs[32], rrs[40], gs[32];

	for (i = 0; i < reps; i++) {
		kvs[i] = kv[i] * scale;
		gvs[i] = gv[i] * scale;
		if (gvs[i] > 0)
			rr[i] = kvs[i] / gvs[i];
		else
			per_rep = 0;
	}
	k = stat3(kvs);
	gm = stat3(gvs);
	if (per_rep)
		rep = stat3(rr);
	ratio = gm.med > 0 ? k.med / gm.med : 0;
	n = noisy(k) || noisy(gm);
	g = goal(b, m);
	if (gm.med > 0)
		snprintf(rs, sizeof(rs), "%.2f", ratio);
	else
		snprintf(rs, sizeof(rs), "n/a");
	if (per_rep)
		snprintf(rrs, sizeof(rrs), "[%.2f %.2f]", rep.min, rep.max);
	else
		snprintf(rrs, sizeof(rrs), "[-]");
	if (!g)
		snprintf(gs, sizeof(gs), "-");
	else
		snprintf(gs, sizeof(gs), ">=%g %s", g, gm.med <= 0 ? "n/a" :
			 ratio >= g ? "met" : "MISSED");
	printf("%4zu %-7s %-17s %9.2f [%8.2f %9.2f] %9.2f [%8.2f %9.2f] %8s %-17s %-5s %s\n",
	       mib, backing_name[b], measure_name[m], k.med, k.min, k.max,
	       gm.med, gm.min, gm.max, rs, rrs, n ? "noisy" : "", gs);
	if (!json)
		return;
	fprintf(json, "{\"kernel\": \"%s\", \"uname\": \"%s\", \"git\": \"%s\", \"timestamp\": \"%s\", \"size_mib\": %zu, \"backing\": \"%s\", \"measure\": \"%s\", \"unit\": \"%s\", \"reps\": %d",
		kernel_key, uts.release, git_rev, stamp, mib, backing_name[b],
		measure_name[m], time ? "ms" : "kB/GiB", reps);
	json_stat("kvm", k);
	json_stat("guestmap", gm);
	if (gm.med > 0)
		fprintf(json, ", \"ratio\": %.4g", ratio);
	else
		fprintf(json, ", \"ratio\": null");
	if (per_rep)
		fprintf(json, ", \"ratio_rep_min\": %.4g, \"ratio_rep_max\": %.4g",
			rep.min, rep.max);
	else
		fprintf(json, ", \"ratio_rep_min\": null, \"ratio_rep_max\": null");
	fprintf(json, ", \"noisy\": %s", n ? "true" : "false");
	if (g)
		fprintf(json, ", \"goal_ratio_min\": %g, \"goal_met\": %s}\n", g,
			gm.med <= 0 ? "null" : ratio >= g ? "true" : "false");
	else
		fprintf(json, ", \"goal_ratio_min\": null, \"goal_met\": null}\n");
	fflush(json);
}

/*
 * Times @kf(KVM) and @gf(guestmap) over [off, off + len), the side that
 * goes first alternating with @rep.
 */
static void time_both(int rep, struct kvm *k, int gm, size_t off, size_t len,
		      double *kt, double *gt)
{
	if (rep % 2) {
		*gt = gm_fault(gm, off, len);
		*kt = kvm_fault(k, off, len);
	} else {
		*kt = kvm_fault(k, off, len);
		*gt = gm_fault(gm, off, len);
	}
}

static void run(size_t mib, enum backing b)
{
	size_t len = mib * MIB, eighth = len / 8;
	uint64_t npages = len / PAGE;
	double t[NR_MEASURES][2][MAX_REPS];
	double t0 = now();
	long need = len / HPAGE + 2, huge;
	static int probed[NR_BACKINGS];
	enum measure m;
	char *buf;
	int rep;

	if (b == B_HUGETLB) {
		saved_nr_hugepages = get_nr_hugepages();
		if (saved_nr_hugepages < need && set_nr_hugepages(need))
			fprintf(stderr, "tdp_bench: writing nr_hugepages: %s\n",
				strerror(errno));
		if (meminfo_kb("HugePages_Free") < need) {
			printf("# %zu MiB hugetlb: SKIP, only %ld of %ld 2 MiB pages could be reserved\n",
			       mib, meminfo_kb("HugePages_Free"), need);
			restore_hugepages();
			return;
		}
	}
	buf = buffer(len, b);
	if (!buf) {
		printf("# %zu MiB hugetlb: SKIP, mmap(MAP_HUGETLB): %s\n", mib,
		       strerror(errno));
		restore_hugepages();
		return;
	}
	touch(buf, len, 1);
	if (b == B_HUGETLB)
		huge = (meminfo_kb("HugePages_Total") - meminfo_kb("HugePages_Free")) *
			meminfo_kb("Hugepagesize");
	else
		huge = anon_huge_kb(buf);
	printf("# %zu MiB %s: %s %ld kB of %zu kB, populated in %.1f s\n", mib,
	       backing_name[b], b == B_HUGETLB ? "hugetlb pages in use" : "AnonHugePages",
	       huge, len >> 10, now() - t0);
	if (!probed[b]) {
		probe(buf, len, backing_name[b]);
		probed[b] = 1;
	}

	for (rep = 0; rep < reps; rep++) {
		struct guestmap_stats s0, s1;
		struct kvm k;
		long sec0, sec1, sec2;
		int gm, show = rep == 0;

		kvm_open(&k, buf, len);
		gm = gm_open(buf, len);
		gm_stats(gm, &s0);

		/* 1 and 5: fault-in, and the table pages it took. */
		if (rep % 2) {
			sec0 = meminfo_kb("SecPageTables");
			t[M_FAULT_IN][1][rep] = gm_fault(gm, 0, len);
			sec1 = meminfo_kb("SecPageTables");
			t[M_FAULT_IN][0][rep] = kvm_fault(&k, 0, len);
			sec2 = meminfo_kb("SecPageTables");
			t[M_TABLES][0][rep] = (sec2 - sec1) * (1024.0 / mib);
			t[M_TABLES][1][rep] = (sec1 - sec0) * (1024.0 / mib);
		} else {
			sec0 = meminfo_kb("SecPageTables");
			t[M_FAULT_IN][0][rep] = kvm_fault(&k, 0, len);
			sec1 = meminfo_kb("SecPageTables");
			t[M_FAULT_IN][1][rep] = gm_fault(gm, 0, len);
			sec2 = meminfo_kb("SecPageTables");
			t[M_TABLES][0][rep] = (sec1 - sec0) * (1024.0 / mib);
			t[M_TABLES][1][rep] = (sec2 - sec1) * (1024.0 / mib);
		}
		gm_stats(gm, &s1);
		if (show) {
			printf("# %zu MiB %s, first repetition:\n", mib, backing_name[b]);
			print_state("after fault_in", &k, gm);
			printf("#   %-18s guestmap tables_allocated %llu pages = %.0f kB per GiB (SecPageTables: %.0f)\n",
			       "", (unsigned long long)(s1.tables_allocated - s0.tables_allocated),
			       (s1.tables_allocated - s0.tables_allocated) * 4.0 * 1024 / mib,
			       t[M_TABLES][1][rep]);
		}
		check_mapped("fault_in", rep, &k, gm, npages);

		/* 2: mprotect read-only, then read-write. */
		if (mprotect(buf, len, PROT_READ) ||
		    mprotect(buf, len, PROT_READ | PROT_WRITE))
			die("mprotect");
		touch(buf, len, 2);
		if (show)
			print_state("after mprotect", &k, gm);
		time_both(rep, &k, gm, 0, len, &t[M_MPROTECT][0][rep],
			  &t[M_MPROTECT][1][rep]);
		if (show)
			print_state("restored", &k, gm);
		check_mapped("restore_mprotect", rep, &k, gm, npages);

		/* 3: soft-dirty clear. */
		clear_soft_dirty();
		touch(buf, len, 3);
		if (show)
			print_state("after clear_refs", &k, gm);
		time_both(rep, &k, gm, 0, len, &t[M_SOFTDIRTY][0][rep],
			  &t[M_SOFTDIRTY][1][rep]);
		if (show)
			print_state("restored", &k, gm);
		check_mapped("restore_softdirty", rep, &k, gm, npages);

		/* 4: MADV_DONTNEED of the first eighth, written again. */
		if (madvise(buf, eighth, MADV_DONTNEED))
			die("MADV_DONTNEED");
		touch(buf, eighth, 4);
		if (show)
			print_state("after DONTNEED 1/8", &k, gm);
		time_both(rep, &k, gm, 0, eighth, &t[M_DONTNEED][0][rep],
			  &t[M_DONTNEED][1][rep]);
		if (show)
			print_state("restored", &k, gm);
		check_mapped("restore_dontneed", rep, &k, gm, npages);

		close(gm);
		kvm_close(&k);
		printf("# rep %d (KVM %s): fault_in kvm %.1f gm %.1f ms; mprotect %.2f/%.2f, softdirty %.2f/%.2f, dontneed %.2f/%.2f ms; tables %.0f/%.0f kB/GiB\n",
		       rep, rep % 2 ? "second" : "first", t[M_FAULT_IN][0][rep] * 1e3,
		       t[M_FAULT_IN][1][rep] * 1e3,
		       t[M_MPROTECT][0][rep] * 1e3, t[M_MPROTECT][1][rep] * 1e3,
		       t[M_SOFTDIRTY][0][rep] * 1e3, t[M_SOFTDIRTY][1][rep] * 1e3,
		       t[M_DONTNEED][0][rep] * 1e3, t[M_DONTNEED][1][rep] * 1e3,
		       t[M_TABLES][0][rep], t[M_TABLES][1][rep]);
	}
	munmap(buf, len);
	if (b == B_HUGETLB)
		restore_hugepages();
	printf("#%4s %-7s %-17s %9s [%8s %9s] %9s [%8s %9s] %8s %-17s %-5s %s\n",
	       "MiB", "backing", "measure", "kvm", "min", "max", "guestmap",
	       "min", "max", "ratio", "[per rep min max]", "", "goal");
	for (m = 0; m < NR_MEASURES; m++)
		row(mib, b, m, t[m][0], t[m][1]);
	printf("# %zu MiB %s: %.0f s\n", mib, backing_name[b], now() - t0);
}

static int parse_list(const char *s, const char *const *names, int n, int *on)
{
	char *copy = strdup(s), *tok, *save;
	int i, ok = 1;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n && strcmp(tok, names[i]); i++)
			;
		if (i == n)
			ok = 0;
		else
			on[i] = 1;
	}
	free(copy);
	return ok;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
	static const char *const size_names[] = { "64", "512" };
	static const size_t sizes[] = { 64, 512 };
	int size_on[2] = { 1, 1 }, b_on[NR_BACKINGS] = { 1, 1, 1 };
	const char *out = getenv("TDP_BENCH_JSON");
	struct guestmap_api_version v;
	char npt[16], tdp[16], ts[32];
	double t0 = now();
	int opt, s, b, fd;

	while ((opt = getopt(argc, argv, "r:s:b:o:")) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > MAX_REPS)
				fail("-r: 1 to 15 repetitions");
			break;
		case 's':
			memset(size_on, 0, sizeof(size_on));
			if (!parse_list(optarg, size_names, 2, size_on))
				fail("-s: sizes are 64 and 512 (MiB)");
			break;
		case 'b':
			memset(b_on, 0, sizeof(b_on));
			if (!parse_list(optarg, backing_name, NR_BACKINGS, b_on))
				fail("-b: backings are 4k, thp and hugetlb");
			break;
		case 'o':
			out = optarg;
			break;
		default:
			fail("usage: tdp_bench [-r REPS] [-s 64,512] [-b 4k,thp,hugetlb] [-o FILE]");
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&uts);
	kernel_key = env_or("GM_BENCH_KERNEL", "unknown");
	git_rev = env_or("GM_BENCH_GIT", "unknown");
	if (!getenv("GM_BENCH_STAMP")) {
		time_t now_t = time(NULL);

		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", gmtime(&now_t));
	}
	stamp = env_or("GM_BENCH_STAMP", ts);
	if (out && *out) {
		json = fopen(out, "w");
		if (!json)
			die(out);
	}

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die("/dev/kvm (vm-run --kvm loads kvm_amd)");
	read_line("/sys/module/kvm_amd/parameters/npt", npt, sizeof(npt));
	read_line("/sys/module/kvm/parameters/tdp_mmu", tdp, sizeof(tdp));
	if (strcmp(npt, "Y") && strcmp(npt, "1"))
		fail("kvm_amd must be loaded with npt=1");
	if (strcmp(tdp, "Y") && strcmp(tdp, "1"))
		fail("kvm must be loaded with tdp_mmu=1");
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) <= 0)
		fail("KVM_CAP_PRE_FAULT_MEMORY: not offered (it needs TDP)");
	fd = open("/dev/guestmap", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/guestmap");
	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v))
		die("GUESTMAP_GET_API_VERSION");
	close(fd);
	if (!(v.caps & GUESTMAP_CAP_MIRROR))
		fail("guestmap.ko offers no mirror");

	printf("# tdp_bench: guestmap's mirror against KVM's TDP MMU on the same buffer\n");
	printf("# kernel %s (key %s), git %s, %s; kvm_amd npt=%s, kvm tdp_mmu=%s; guestmap caps %#llx (huge entries: %s)\n",
	       uts.release, kernel_key, git_rev, stamp, npt, tdp,
	       (unsigned long long)v.caps,
	       v.caps & GUESTMAP_CAP_HUGE ? "yes" : "no");
	printf("# median of %d repetitions [min max], ms (table_kb_per_gib: kB of SecPageTables per GiB mapped); ratio = KVM / guestmap medians (> 1: guestmap faster or smaller), with the min and max of the ratios of single repetitions; noisy: max/min > %.1f on a side\n",
	       reps, NOISY);
	printf("# fault_in: KVM_PRE_FAULT_MEMORY vs MIRROR_FAULT (write) of the whole populated buffer, new VM and context each repetition; restores: re-fault after mprotect RO+RW, after clear_refs 4, and of the first eighth after MADV_DONTNEED, each after user space wrote the range again (both sides build only their tables)\n");
	printf("# caveat: KVM_PRE_FAULT_MEMORY runs a full fault per page, so it is KVM's best case only for population, not for a guest that exits once per page\n");
	printf("# goals (not enforced): thp and hugetlb: every time ratio >= 1 and table memory no larger than KVM's (ratio >= 1); 4k: restore ratios >= 50\n");
	printf("# TCG: timings mean nothing alone, only ratios within this run\n");

	for (s = 0; s < 2; s++)
		for (b = 0; b < NR_BACKINGS; b++)
			if (size_on[s] && b_on[b])
				run(sizes[s], b);
	if (json)
		fclose(json);
	printf("# tdp_bench: done in %.0f s\n", now() - t0);
	return 0;
}
