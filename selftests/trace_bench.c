// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of guestmap's tracepoints ("make bench"): one measurement of
 * the module loaded now.  scripts/bench.sh runs it in one VM boot on the
 * normal build and on a build without tracepoints (GM_NO_TRACE=1) in
 * turn, swapping the modules between runs, and sets each measurement of
 * the normal build against the two of the other build made just before
 * and just after it: under TCG, on a shared host, only such ratios mean
 * anything.
 *
 * Two loops, over a memslot of PAGES 4K anonymous pages (MADV_NOHUGEPAGE),
 * every page written before anything is timed, so that page allocation
 * is not measured:
 *
 *   fault  GUESTMAP_MIRROR_FAULT of one page (write) per call, over the
 *          whole slot, freshly created.  ioctl_enter, fault_start, fault
 *          and ioctl_exit fire once per page: the most the fault path
 *          fires per unit of work (a call of up to 2048 pages fires them
 *          once).  Re-creating the slot (which drops the entries, not the
 *          memory) and the checks of GUESTMAP_GET_STATS are not timed.
 *   map    GUESTMAP_ACCESS MAP_READ of 8 bytes of each page in turn, the
 *          slot faulted in first (not timed): map, copy out, unmap, as
 *          kvm_vcpu_map() does.  ioctl_enter, map_start, map, unmap and
 *          ioctl_exit fire per access: the most tracepoint calls per unit
 *          of work of any path.
 *
 * Each call is timed on its own, and the result is the 10th percentile
 * of the calls of ROUNDS runs of each loop, in ns per call (a page
 * faulted, or an access).  On a shared host the VM's vCPU threads lose
 * their CPU now and then, for milliseconds: a call that spans such a gap
 * is stretched many times over, and when the host is busy so are a good
 * part of them, which moves a run's mean (printed too) and even the
 * median of the calls by tens of per cent.  The calls no gap touched
 * are alike, and the tracepoints add to every one of them: the low
 * decile is their cost, and moves far less with the host (only when it
 * slows the VM down throughout a run).
 *
 * With a module that has tracepoints, the loops run with the guestmap
 * events disabled, then with them enabled (written to
 * /sys/kernel/tracing/events/guestmap/enable), into the ring buffer as it
 * is set up (overwrite mode: a full buffer costs the same); the events
 * recorded per call are printed, to show that they were.  A module
 * without them runs as it is.  Each state starts with one untimed run of
 * each loop: a module just loaded has its code untranslated by TCG, its
 * data in no cache and its allocations not made, and enabling the events
 * brings code into play that has not run yet; that cold start is not
 * what is measured.  The machine-readable lines are, for each state
 * measured,
 *
 *   trace_bench: events=<none|disabled|enabled> fault=<ns> map=<ns>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "guestmap_util.h"
#include "guestmap_mirror.h"

#define PAGES		512UL
#define LEN		(PAGES * PAGE)
#define GPA		0x40000000UL
#define ROUNDS		11
#define SAMPLES		(PAGES * ROUNDS)
#define TRACING		"/sys/kernel/tracing"
#define EVENTS		TRACING "/events/guestmap/enable"

enum { NONE, DISABLED, ENABLED };
static const char * const state_name[] = { "none", "disabled", "enabled" };

static int fd;
static char *mem;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void slot(uint64_t size)
{
	errno = set_slot(fd, 0, 0, GPA, size, mem);
	if (errno)
		die("GUESTMAP_SET_MEMSLOT");
}

/* The events the ring buffer took so far: kept plus overwritten. */
static uint64_t recorded(void)
{
	uint64_t n = 0;
	char line[128];
	glob_t g;
	size_t i;

	if (glob(TRACING "/per_cpu/cpu*/stats", 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "entries: ", 9) ||
			    !strncmp(line, "overrun: ", 9))
				n += strtoull(line + 9, NULL, 10);
		fclose(f);
	}
	globfree(&g);
	return n;
}

/*
 * Faults the whole slot, freshly created, a page per call, timing each
 * call into @op[PAGES]; adds the events recorded meanwhile to *@events,
 * if not NULL.  Returns the mean, in ns per page.
 */
static double fault_run(double *op, uint64_t *events)
{
	struct guestmap_stats before, after;
	uint64_t t, total = 0;
	size_t i;

	slot(LEN);
	before = stats(fd);
	bench_check("entries present in a new slot", before.entries_present, 0);
	if (events)
		*events -= recorded();
	for (i = 0; i < PAGES; i++) {
		t = now_ns();
		errno = fault(fd, GPA + i * PAGE, PAGE, 1);
		t = now_ns() - t;
		if (errno)
			die("GUESTMAP_MIRROR_FAULT");
		op[i] = t;
		total += t;
	}
	if (events)
		*events += recorded();
	after = stats(fd);
	bench_check("pages faulted", after.pages_faulted - before.pages_faulted,
		    PAGES);
	bench_check("entries present after the faults", after.entries_present,
		    PAGES);
	/* Drop the entries, keep the memory. */
	slot(0);
	return (double)total / PAGES;
}

/*
 * MAP_READ of 8 bytes of every page, the slot faulted in, timing each
 * call into @op[PAGES]; as fault_run() otherwise.
 */
static double map_run(double *op, uint64_t *events)
{
	struct guestmap_stats before, after;
	uint64_t t, total = 0, word, sum = 0;
	size_t i;

	slot(LEN);
	errno = fault(fd, GPA, LEN, 1);
	if (errno)
		die("GUESTMAP_MIRROR_FAULT");
	before = stats(fd);
	if (events)
		*events -= recorded();
	for (i = 0; i < PAGES; i++) {
		struct guestmap_access a = {
			.gpa = GPA + i * PAGE, .len = sizeof(word),
			.buf = (uintptr_t)&word,
			.op = GUESTMAP_ACCESS_MAP_READ,
		};

		t = now_ns();
		if (ioctl(fd, GUESTMAP_ACCESS, &a))
			die("GUESTMAP_ACCESS");
		t = now_ns() - t;
		op[i] = t;
		total += t;
		sum += word;
	}
	if (events)
		*events += recorded();
	after = stats(fd);
	/* Every page reads 1, as written, and nothing faulted again. */
	bench_check("sum of the words read", sum, PAGES);
	bench_check("faults during the map loop", after.faults - before.faults, 0);
	slot(0);
	return (double)total / PAGES;
}

static void write_file(const char *path, const char *s)
{
	int wfd = open(path, O_WRONLY | O_TRUNC);

	if (wfd < 0 || write(wfd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(wfd);
}

static void set_events(int state)
{
	write_file(EVENTS, state == ENABLED ? "1" : "0");
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Prints @what: the mean of each run in @run[ROUNDS], then the 10th
 * percentile, median and 90th percentile of the calls in @op[SAMPLES];
 * returns the 10th percentile.
 */
static double summary(const char *what, double *run, double *op)
{
	int i;

	printf("# %s: run means", what);
	for (i = 0; i < ROUNDS; i++)
		printf(" %.0f", run[i]);
	qsort(op, SAMPLES, sizeof(*op), cmp);
	printf("; per call: p10 %.0f median %.0f p90 %.0f ns\n",
	       op[SAMPLES / 10], op[SAMPLES / 2], op[SAMPLES - SAMPLES / 10]);
	return op[SAMPLES / 10];
}

int main(void)
{
	static double fault_ns[SAMPLES], map_ns[SAMPLES];
	double fault_run_ns[ROUNDS], map_run_ns[ROUNDS];
	uint64_t fault_events = 0, map_events = 0;
	int states[2], nstates, round, i;
	struct guestmap_api_version v;
	cpu_set_t cpu;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* One vCPU throughout: no migration between the runs compared. */
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu))
		die("sched_setaffinity");
	fd = open_dev();
	if (fd < 0)
		die(DEV_PATH);
	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v))
		die("GUESTMAP_GET_API_VERSION");
	if (!(v.caps & GUESTMAP_CAP_MIRROR) || !(v.caps & GUESTMAP_CAP_MAP)) {
		fprintf(stderr, "trace_bench: no GUESTMAP_CAP_MIRROR or GUESTMAP_CAP_MAP\n");
		return 1;
	}
	if (access(EVENTS, F_OK) == 0) {
		states[0] = DISABLED;
		states[1] = ENABLED;
		nstates = 2;
	} else if (errno == ENOENT) {
		states[0] = NONE;
		nstates = 1;
	} else {
		die(EVENTS);
	}

	mem = populate_4k(LEN);

	printf("# %lu pages of 4K, %d rounds after one untimed; events %s\n",
	       PAGES, ROUNDS, nstates == 1 ? "none (no tracepoints)" : "disabled, then enabled");
	for (i = 0; i < nstates; i++) {
		int s = states[i];
		uint64_t *fe = s == ENABLED ? &fault_events : NULL;
		uint64_t *me = s == ENABLED ? &map_events : NULL;
		char what[64];
		double f, m;

		if (s != NONE)
			set_events(s);
		/* Round -1 is the untimed one: into the first round's place. */
		for (round = -1; round < ROUNDS; round++) {
			int r = round < 0 ? 0 : round;

			fault_run_ns[r] = fault_run(fault_ns + r * PAGES, fe);
			map_run_ns[r] = map_run(map_ns + r * PAGES, me);
		}
		if (s == ENABLED)
			set_events(DISABLED);
		snprintf(what, sizeof(what), "fault, events %s", state_name[s]);
		f = summary(what, fault_run_ns, fault_ns);
		snprintf(what, sizeof(what), "map, events %s", state_name[s]);
		m = summary(what, map_run_ns, map_ns);
		printf("trace_bench: events=%s fault=%.1f map=%.1f\n",
		       state_name[s], f, m);
		if (s == ENABLED)
			printf("# events recorded: %.2f per page faulted, %.2f per access\n",
			       (double)fault_events / (PAGES * (ROUNDS + 1)),
			       (double)map_events / (PAGES * (ROUNDS + 1)));
	}
	munmap(mem, LEN);
	close(fd);
	return 0;
}
