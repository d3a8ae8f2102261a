// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap's mirror against its anchor, test_hmm's dmirror, in one run on
 * one kernel with the same 64 MiB buffers.  Not a test: "make bench" runs
 * it in the VM with test_hmm.ko loaded.  Under TCG only ratios mean
 * anything; both sides are timed the same way, median of REPS runs.
 *
 * Both devices offer "read the process's memory through the mirror,
 * faulting in what is missing": HMM_DMIRROR_READ and GUESTMAP_READ_GUEST.
 * Measured for each:
 *   cold     first read of a populated buffer: every page faulted;
 *   warm     the same again: nothing to fault, only the copy;
 *   mprotect read after mprotect(PROT_READ) then mprotect(RW);
 *   softdirty read after echo 4 > /proc/self/clear_refs.
 * "restore" is (mprotect or softdirty) minus warm: the cost of what the
 * event made the mirror redo.  guestmap also reports MIRROR_FAULT alone
 * (fault, no copy) and the pages it refaulted; dmirror drops its whole
 * mirror on any invalidation (dmirror_interval_invalidate()), so it
 * refaults every page, shown by its fault rounds.
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

#include <linux/guestmap.h>
#include <test_hmm_uapi.h>

#define PAGE	4096UL
#define LEN	(64UL << 20)
#define NPAGES	(LEN / PAGE)
#define REPS	5
#define GPA	0x40000000UL

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static char *populated(int nohuge)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		die("mmap");
	if (nohuge && madvise(p, LEN, MADV_NOHUGEPAGE))
		die("madvise");
	for (i = 0; i < LEN; i += PAGE)
		p[i] = (char)i;
	return p;
}

static void clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		die("/proc/self/clear_refs");
	close(fd);
}

static void event(const char *which, char *buf)
{
	if (!strcmp(which, "mprotect")) {
		if (mprotect(buf, LEN, PROT_READ) ||
		    mprotect(buf, LEN, PROT_READ | PROT_WRITE))
			die("mprotect");
	} else {
		clear_soft_dirty();
	}
}

/* One device under test: how to attach a buffer and read through it. */
struct dut {
	const char *name;
	int (*attach)(struct dut *d, char *buf);
	double (*read)(struct dut *d, char *buf, char *out);
	/* Fault the whole buffer in, no copy; NULL if the device has none. */
	double (*fault)(struct dut *d);
	void (*detach)(struct dut *d);
	/* Nonzero if the mirror freed table pages; NULL if not visible. */
	int (*check)(struct dut *d);
	int fd;
	uint64_t refaulted;	/* pages the last read or fault installed */
};

static int dm_attach(struct dut *d, char *buf)
{
	d->fd = open("/dev/hmm_dmirror0", O_RDWR);
	return d->fd < 0 ? -1 : 0;
}

static double dm_read(struct dut *d, char *buf, char *out)
{
	struct hmm_dmirror_cmd c = {
		.addr = (uintptr_t)buf, .ptr = (uintptr_t)out, .npages = NPAGES,
	};
	double t = now();

	if (ioctl(d->fd, HMM_DMIRROR_READ, &c))
		die("HMM_DMIRROR_READ");
	t = now() - t;
	/*
	 * c.faults counts fault rounds, not pages.  dmirror keeps no entry
	 * across an invalidation, so a round after one refaults every page.
	 */
	d->refaulted = c.faults ? NPAGES : 0;
	return t;
}

static void dm_detach(struct dut *d)
{
	close(d->fd);
}

static uint64_t gm_pages_faulted(int fd)
{
	struct guestmap_stats s;

	if (ioctl(fd, GUESTMAP_GET_STATS, &s))
		die("GUESTMAP_GET_STATS");
	return s.pages_faulted;
}

static int gm_attach(struct dut *d, char *buf)
{
	struct guestmap_memslot m = {
		.guest_phys_addr = GPA, .memory_size = LEN,
		.userspace_addr = (uintptr_t)buf,
	};

	d->fd = open("/dev/guestmap", O_RDWR);
	if (d->fd < 0 || ioctl(d->fd, GUESTMAP_SET_MEMSLOT, &m))
		return -1;
	return 0;
}

static double gm_read(struct dut *d, char *buf, char *out)
{
	uint64_t before = gm_pages_faulted(d->fd);
	double t = now();
	size_t off;

	for (off = 0; off < LEN; off += GUESTMAP_RW_MAX) {
		struct guestmap_rw rw = {
			.gpa = GPA + off, .len = GUESTMAP_RW_MAX,
			.buf = (uintptr_t)out + off,
		};

		if (ioctl(d->fd, GUESTMAP_READ_GUEST, &rw))
			die("GUESTMAP_READ_GUEST");
	}
	t = now() - t;
	d->refaulted = gm_pages_faulted(d->fd) - before;
	return t;
}

static double gm_fault(struct dut *d)
{
	struct guestmap_fault f = { .gpa = GPA, .size = LEN };
	uint64_t before = gm_pages_faulted(d->fd);
	double t = now();

	if (ioctl(d->fd, GUESTMAP_MIRROR_FAULT, &f))
		die("GUESTMAP_MIRROR_FAULT");
	t = now() - t;
	d->refaulted = gm_pages_faulted(d->fd) - before;
	return t;
}

static int gm_tables_freed(struct dut *d)
{
	struct guestmap_stats s;

	if (ioctl(d->fd, GUESTMAP_GET_STATS, &s))
		die("GUESTMAP_GET_STATS");
	return s.tables_freed != 0;
}

static void gm_detach(struct dut *d)
{
	close(d->fd);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, REPS, sizeof(*v), cmp);
	return v[REPS / 2];
}

/* Medians over REPS of the phases, all in seconds. */
struct result {
	double cold, warm;		/* read: fault + copy, then copy */
	double cold_fault;		/* fault alone (dut->fault) */
	double ev_read[2];		/* read after each event */
	double ev_restore[2];		/* what the event cost to redo */
	uint64_t ev_pages[2];		/* pages refaulted after each event */
};

static const char *const events[2] = { "mprotect", "softdirty" };

/*
 * The restore cost of an event: for a device with a fault-only call, that
 * call after the event (measured directly); otherwise the read after the
 * event less the warm read of the same run, both copying the same bytes.
 */
static void run(struct dut *d, int nohuge, struct result *r)
{
	double cold[REPS], warm[REPS], cf[REPS], er[2][REPS], rs[2][REPS];
	char *out = malloc(LEN);
	int i, e;

	if (!out)
		die("malloc");
	for (i = 0; i < REPS; i++) {
		char *buf = populated(nohuge);

		if (d->fault) {
			/* Fault alone, on a context of its own. */
			if (d->attach(d, buf))
				die(d->name);
			cf[i] = d->fault(d);
			if (d->refaulted != NPAGES)
				die("fault alone did not install every page");
			d->detach(d);
		} else {
			cf[i] = 0;
		}
		if (d->attach(d, buf))
			die(d->name);
		cold[i] = d->read(d, buf, out);
		if (memcmp(out, buf, LEN))
			die("cold read returned other data");
		warm[i] = d->read(d, buf, out);
		for (e = 0; e < 2; e++) {
			event(events[e], buf);
			if (d->fault) {
				rs[e][i] = d->fault(d);
				r->ev_pages[e] = d->refaulted;
				er[e][i] = d->read(d, buf, out);
			} else {
				er[e][i] = d->read(d, buf, out);
				r->ev_pages[e] = d->refaulted;
				rs[e][i] = er[e][i] - warm[i];
			}
			if (memcmp(out, buf, LEN))
				die("read after an event returned other data");
			if (d->check && d->check(d))
				die("the event freed mirror tables");
		}
		d->detach(d);
		munmap(buf, LEN);
	}
	r->cold = median(cold);
	r->warm = median(warm);
	r->cold_fault = median(cf);
	for (e = 0; e < 2; e++) {
		r->ev_read[e] = median(er[e]);
		r->ev_restore[e] = median(rs[e]);
	}
	free(out);
}

static void report(const char *name, struct result *r)
{
	int e;

	printf("# %-8s read cold %7.1f ms, warm %7.1f ms", name,
	       r->cold * 1e3, r->warm * 1e3);
	if (r->cold_fault)
		printf(", fault alone %6.1f ms", r->cold_fault * 1e3);
	printf("\n");
	for (e = 0; e < 2; e++)
		printf("# %-8s   %-9s read %7.1f ms, restore %6.2f ms, %5llu pages refaulted\n",
		       "", events[e], r->ev_read[e] * 1e3,
		       r->ev_restore[e] * 1e3,
		       (unsigned long long)r->ev_pages[e]);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

int main(void)
{
	struct dut dm = { "dmirror", dm_attach, dm_read, NULL, dm_detach, NULL };
	struct dut gm = {
		"guestmap", gm_attach, gm_read, gm_fault, gm_detach,
		gm_tables_freed,
	};
	int nohuge;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# %lu MiB, %lu pages, median of %d runs, one VM, one kernel\n",
	       LEN >> 20, NPAGES, REPS);
	for (nohuge = 0; nohuge < 2; nohuge++) {
		const char *cfg = nohuge ? "4k" : "thp";
		struct result rd = { 0 }, rg = { 0 };
		double dm_fault, gm_fault_read;

		printf("# buffers: %s\n", nohuge ? "MADV_NOHUGEPAGE (4K pages)" :
		       "the kernel's THP default");
		run(&dm, nohuge, &rd);
		run(&gm, nohuge, &rg);
		report("dmirror", &rd);
		report("guestmap", &rg);
		/* Fault cost inside the read: cold less warm, both devices. */
		dm_fault = rd.cold - rd.warm;
		gm_fault_read = rg.cold - rg.warm;
		printf("bench: %s.dmirror_fault_pages_per_s %.0f\n", cfg,
		       ratio(NPAGES, dm_fault));
		printf("bench: %s.guestmap_fault_pages_per_s %.0f\n", cfg,
		       ratio(NPAGES, rg.cold_fault));
		printf("bench: %s.fault_throughput_ratio %.2f\n", cfg,
		       ratio(dm_fault, rg.cold_fault));
		printf("bench: %s.fault_in_read_ratio %.2f\n", cfg,
		       ratio(dm_fault, gm_fault_read));
		printf("bench: %s.cold_read_ratio %.2f\n", cfg,
		       ratio(rd.cold, rg.cold));
		printf("bench: %s.mprotect_restore_ratio %.1f\n", cfg,
		       ratio(rd.ev_restore[0], rg.ev_restore[0]));
		printf("bench: %s.softdirty_restore_ratio %.1f\n", cfg,
		       ratio(rd.ev_restore[1], rg.ev_restore[1]));
		printf("bench: %s.mprotect_pages_refaulted dmirror %llu guestmap %llu\n",
		       cfg, (unsigned long long)rd.ev_pages[0],
		       (unsigned long long)rg.ev_pages[0]);
		printf("bench: %s.softdirty_pages_refaulted dmirror %llu guestmap %llu\n",
		       cfg, (unsigned long long)rd.ev_pages[1],
		       (unsigned long long)rg.ev_pages[1]);
	}
	return 0;
}
