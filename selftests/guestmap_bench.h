/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The measuring loop "make bench"'s benchmarks share: rows timed in
 * turns, so that a busy host slows all alike, and ratios taken within a
 * repetition, printed as the median, min and max over the repetitions.
 * Under TCG only ratios mean anything.
 */
#ifndef _GUESTMAP_BENCH_H
#define _GUESTMAP_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_REPS	5
/*
 * Each measurement runs about this long on an idle host (iterations
 * calibrated; up to three times as long on a busy one)...
 */
#define BENCH_TARGET_NS	700000000.0
#define BENCH_CALIBRATE	16
/* ... in this many turns. */
#define BENCH_TURNS	8
#define BENCH_MAX_ROWS	16

struct bench {
	const char *prefix;		/* "walk": results are walk.<name> */
	int rows;
	const char *const *row_name;
	int name_width;			/* of the names' column; 0: 44 */
	/* Nanoseconds for @iters iterations of row @row. */
	uint64_t (*run)(void *ctx, int row, unsigned long iters);
	void *ctx;
	unsigned long iters[BENCH_MAX_ROWS];		/* per turn */
	double ns[BENCH_MAX_ROWS][BENCH_REPS];		/* per iteration */
};

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double bench_median(const double *v, double *min, double *max)
{
	double s[BENCH_REPS];

	memcpy(s, v, sizeof(s));
	qsort(s, BENCH_REPS, sizeof(*s), bench_cmp);
	*min = s[0];
	*max = s[BENCH_REPS - 1];
	return s[BENCH_REPS / 2];
}

/*
 * Iterations of a turn of row @r, for about BENCH_TARGET_NS in
 * BENCH_TURNS turns, from the fastest of three short runs (the first
 * also warms up).
 */
static inline unsigned long bench_calibrate(struct bench *b, int r)
{
	double per = 0, n;
	int i;

	for (i = 0; i < 3; i++) {
		double t = (double)b->run(b->ctx, r, BENCH_CALIBRATE) /
			   BENCH_CALIBRATE;

		if (!i || t < per)
			per = t;
	}
	n = per > 0 ? BENCH_TARGET_NS / BENCH_TURNS / per : 1 << 20;
	if (n < 2)
		n = 2;
	if (n > 1 << 20)
		n = 1 << 20;
	return (unsigned long)n;
}

/* Calibrates and times every row, BENCH_REPS times. */
static inline void bench_measure(struct bench *b)
{
	int i, r, t;

	for (r = 0; r < b->rows; r++)
		b->iters[r] = bench_calibrate(b, r);
	for (i = 0; i < BENCH_REPS; i++) {
		for (t = 0; t < BENCH_TURNS; t++)
			for (r = 0; r < b->rows; r++)
				b->ns[r][i] += b->run(b->ctx, r, b->iters[r]);
		for (r = 0; r < b->rows; r++)
			b->ns[r][i] /= (double)BENCH_TURNS * b->iters[r];
	}
}

/* One line per row: median ns per iteration, min-max, iterations. */
static inline void bench_print_rows(const struct bench *b, const char *unit)
{
	int r, width = b->name_width ? b->name_width : 44;

	printf("# ns per %s: median of %d runs (min-max); iterations per run\n",
	       unit, BENCH_REPS);
	for (r = 0; r < b->rows; r++) {
		double min, max, med = bench_median(b->ns[r], &min, &max);

		printf("# %-*s %9.0f (%.0f-%.0f) x%lu\n", width, b->row_name[r],
		       med, min, max, BENCH_TURNS * b->iters[r]);
	}
}

/*
 * Ratio of row @a over row @over, taken in each repetition: its median,
 * min and max on a "bench: " line, and the goal if there is one
 * (@goal_cmp '>' or '<'; 0: none).
 */
static inline void bench_ratio(const struct bench *b, const char *name, int a,
			       int over, char goal_cmp, double goal)
{
	double v[BENCH_REPS], min, max, med;
	int i;

	for (i = 0; i < BENCH_REPS; i++)
		v[i] = b->ns[a][i] / b->ns[over][i];
	med = bench_median(v, &min, &max);
	printf("bench: %s.%s %.2f (min %.2f max %.2f, %d runs)\n", b->prefix,
	       name, med, min, max, BENCH_REPS);
	if (goal_cmp == '>')
		printf("# goal %s.%s >= %.1f: %s\n", b->prefix, name, goal,
		       med >= goal ? "met" : "NOT met");
	else if (goal_cmp == '<')
		printf("# goal %s.%s <= %.1f: %s\n", b->prefix, name, goal,
		       med <= goal ? "met" : "NOT met");
}

#endif /* _GUESTMAP_BENCH_H */
