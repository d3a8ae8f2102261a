// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent faults within one context, in one VM run ("make bench"):
 * two threads faulting disjoint halves of a 1 GiB memslot against one
 * thread faulting all of it, through the same context fd.  The result is
 * the throughput of two threads over that of one: 2.0 if faults of one
 * context scale perfectly over the VM's two vCPUs, 1.0 if they are
 * serialised.
 *
 * The memory is populated (every page written) before anything is timed,
 * so what is measured is the mirror's fault path (hmm walk and install),
 * not page allocation; it is 4K pages (MADV_NOHUGEPAGE), so that the walk
 * is the same whatever THP finds free.  Each GUESTMAP_MIRROR_FAULT covers
 * CHUNK bytes (one walk batch), so that the threads interleave.  Between
 * runs the memslot is deleted and re-created: that drops the mirror's
 * entries but not the memory.  GUESTMAP_GET_STATS must show that every
 * run faulted every page.
 *
 * Each repetition times one thread and two threads back to back, in
 * alternating order; the ratio is taken per repetition and reported as
 * the median with its min and max.  Under TCG only the ratio means
 * anything, and one ratio alone little: a run takes a few hundred ms, and
 * on a busy host single ratios ranged from 0.5 to 1.3, hence REPS 15.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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

#define LEN		(1UL << 30)
#define NPAGES		(LEN / PAGE)
#define CHUNK		(512 * PAGE)
#define NCHUNKS		(LEN / CHUNK)
#define GPA		0x40000000UL
#define REPS		15
#define MAX_THREADS	2

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int fd;
static pthread_barrier_t start;

/* One thread's share: chunks [first, first + count). */
struct worker {
	pthread_t thread;
	size_t first, count;
};

static void *fault_share(void *arg)
{
	struct worker *w = arg;
	size_t i;

	pthread_barrier_wait(&start);
	for (i = w->first; i < w->first + w->count; i++) {
		struct guestmap_fault f = {
			.gpa = GPA + i * CHUNK, .size = CHUNK,
			.flags = GUESTMAP_FAULT_WRITE,
		};

		if (ioctl(fd, GUESTMAP_MIRROR_FAULT, &f))
			die("GUESTMAP_MIRROR_FAULT");
	}
	return NULL;
}

static void get_stats(struct guestmap_stats *s)
{
	if (ioctl(fd, GUESTMAP_GET_STATS, s))
		die("GUESTMAP_GET_STATS");
}

static void set_slot(void *hva, uint64_t size)
{
	struct guestmap_memslot m = {
		.slot = 0, .guest_phys_addr = GPA, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &m))
		die("GUESTMAP_SET_MEMSLOT");
}

/*
 * Faults the whole slot, freshly created over @mem, with @n threads
 * sharing it in disjoint halves; returns the time from their common start
 * to the last one's end, in seconds.
 */
static double fault_all(char *mem, int n)
{
	struct worker w[MAX_THREADS];
	struct guestmap_stats before, after;
	double t;
	int i;

	set_slot(mem, LEN);
	get_stats(&before);
	bench_check("entries present in a new slot", before.entries_present, 0);
	if (pthread_barrier_init(&start, NULL, n + 1))
		die("pthread_barrier_init");
	for (i = 0; i < n; i++) {
		w[i].first = i * (NCHUNKS / n);
		w[i].count = NCHUNKS / n;
		errno = pthread_create(&w[i].thread, NULL, fault_share, &w[i]);
		if (errno)
			die("pthread_create");
	}
	pthread_barrier_wait(&start);
	t = now();
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	t = now() - t;
	pthread_barrier_destroy(&start);

	get_stats(&after);
	bench_check("pages faulted", after.pages_faulted - before.pages_faulted,
		    NPAGES);
	bench_check("entries present after the faults", after.entries_present,
		    NPAGES);
	/* Drop the entries, keep the memory. */
	set_slot(mem, 0);
	get_stats(&after);
	bench_check("entries present after deleting the slot",
		    after.entries_present, 0);
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Then the median is v[REPS / 2], the min v[0], the max v[REPS - 1]. */
static void sort_reps(double *v)
{
	qsort(v, REPS, sizeof(*v), cmp);
}

int main(void)
{
	double one[REPS], two[REPS], ratio[REPS];
	struct guestmap_api_version v;
	struct guestmap_stats s;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char *mem;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cpus < 2) {
		printf("# SKIP fault_bench: %ld online CPU, two needed\n", cpus);
		return 0;
	}
	fd = open_dev();
	if (fd < 0)
		die(DEV_PATH);
	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v))
		die("GUESTMAP_GET_API_VERSION");
	if (!(v.caps & GUESTMAP_CAP_MIRROR)) {
		printf("# SKIP fault_bench: no GUESTMAP_CAP_MIRROR\n");
		return 0;
	}

	mem = populate_4k(LEN);

	printf("# %lu MiB, %lu pages, %lu KiB per MIRROR_FAULT (write), one context, %ld online CPUs, %d runs\n",
	       LEN >> 20, NPAGES, CHUNK >> 10, cpus, REPS);
	for (i = 0; i < REPS; i++) {
		if (i % 2) {
			two[i] = fault_all(mem, 2);
			one[i] = fault_all(mem, 1);
		} else {
			one[i] = fault_all(mem, 1);
			two[i] = fault_all(mem, 2);
		}
		/* Throughput ratio: the same pages, so time one over two. */
		ratio[i] = one[i] / two[i];
		printf("# run %2d: one thread %8.1f ms, two threads %8.1f ms, ratio %.2f\n",
		       i + 1, one[i] * 1e3, two[i] * 1e3, ratio[i]);
	}
	get_stats(&s);
	printf("# retries over all runs: %llu\n",
	       (unsigned long long)s.retries);

	sort_reps(one);
	sort_reps(two);
	sort_reps(ratio);
	printf("# one thread:  median %8.1f ms (min %.1f max %.1f), %.0f pages/s\n",
	       one[REPS / 2] * 1e3, one[0] * 1e3, one[REPS - 1] * 1e3,
	       NPAGES / one[REPS / 2]);
	printf("# two threads: median %8.1f ms (min %.1f max %.1f), %.0f pages/s\n",
	       two[REPS / 2] * 1e3, two[0] * 1e3, two[REPS - 1] * 1e3,
	       NPAGES / two[REPS / 2]);
	printf("bench: fault.two_threads_over_one %.2f (min %.2f max %.2f, %d runs)\n",
	       ratio[REPS / 2], ratio[0], ratio[REPS - 1], REPS);
	munmap(mem, LEN);
	close(fd);
	return 0;
}
