// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap race stress: guest accesses of every kind against everything
 * that can happen to the memory under them, with every byte checked.
 *
 * N pages of guest memory: the first half anonymous private memory
 * (slot 0), the second half a shared memfd mapping (slot 1), and the
 * middle half of both again behind a READONLY alias (slot 2).  For a
 * bounded time, threads read and write them through every guest path
 * (READ_GUEST, WRITE_GUEST, ACCESS READ, WRITE, MAP_READ, MAP_WRITE with
 * and without GUESTMAP_ACCESS_DIRTY, CMPXCHG, CACHE_READ and CACHE_WRITE
 * through pfn caches), fault them into the mirror and read and write
 * them from user space, while other threads mprotect them read-only and
 * PROT_NONE, mremap them away and back, munmap and map fresh memory,
 * MADV_DONTNEED, MADV_FREE, punch holes, MADV_PAGEOUT, move them to the
 * other NUMA node, clear soft-dirty bits, fork, and delete and re-create
 * the slots (moving the pages under a slot while it is gone).
 *
 * The check is exact, not "looks plausible".  Each page has a lock and an
 * expected copy: what user space wrote, or what a successful guest write
 * wrote.  Whatever checks data (guest and user reads and writes) holds the
 * locks of its pages.  Mutators that keep the data (mprotect, mremap,
 * fork, page-out, migration, soft-dirty, slots) take no page lock and
 * race freely; mutators that destroy it (MADV_DONTNEED, munmap + mmap,
 * hole punching, MADV_FREE followed by a guest write) hold the locks of
 * their pages and set the new expected content.  So every successful read must equal the
 * expected copy, and at the end, with every thread stopped and the memory
 * paged out once more, user space must hold each page's expected copy
 * ("every guest write is found afterwards") and the guest must read it
 * back through every slot and path.
 *
 * An access may fail only where a racing mutator explains it: ENOENT
 * while its slot was being re-created, EFAULT while its pages were
 * unmapped, PROT_NONE or moved away, or, for a write, PROT_READ; a write
 * through the READONLY alias must fail with EPERM.  Mutators bump
 * per-page and per-slot sequence counts around their windows (odd while
 * open) and an access compares the counts before and after it.  A failed
 * write must leave each page whole: the old or the new content, or for the
 * copy_to_user() path (ACCESS WRITE), new bytes up to where a racing
 * mprotect() stopped it and old ones after.  Any other errno, EAGAIN in
 * particular, is a failure.
 *
 * Every successful guest write must last, MAP_WRITE and CMPXCHG without
 * GUESTMAP_ACCESS_DIRTY included: Documentation/guest-memory.rst says the
 * flag matters only for pages reached without GUP, which are not used
 * here.  A report names the path that wrote the page last, so a loss on
 * those paths alone is told apart.
 *
 * Words written carry a tag, the page index, a generation and the word
 * index, so a mismatch report says which page and which write the bytes
 * it found came from.  Failures are printed as they happen (the next one
 * may be an oops that ends the VM); counts of every operation, how many
 * raced, and the mirror's statistics are printed at the end.
 *
 * Options (and environment): --seconds S (GM_STRESS_SECONDS, default 10),
 * --seed N (GM_STRESS_SEED, default from the clock; printed), --pages N
 * (GM_STRESS_PAGES, default 128), --swap or --no-swap (GM_STRESS_SWAP=1
 * or 0; by default, if no swap is on and zram0 exists, 256 MiB of swap is
 * set up there for the run and taken down after it).  10 s is meant for
 * make check, 60 s for the debug kernel; under TCG the VM run takes about
 * a minute more than --seconds.  Run as root in the test VM with
 * guestmap.ko loaded, booted with numa=fake=2 for migration
 * (GM_TEST_APPEND in scripts/lib.sh; with one node, move_pages is skipped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#define MPOL_MF_MOVE	(1 << 1)

#define WORDS		(PAGE / 8)
#define RW_GPA		0x40000000UL	/* slots 0 (anonymous) and 1 (memfd) */
#define RO_GPA		0x80000000UL	/* slot 2, the READONLY alias */
#define NR_SLOTS	3
#define RO_SLOT		2
#define MAX_CHUNK	8	/* pages one mutator acts on at once */
#define MAX_RW		4	/* pages one READ_GUEST or WRITE_GUEST covers */
#define MAX_SPAN	16	/* pages one MIRROR_FAULT covers */
#define NR_STICKY	4	/* pfn caches that each always cache one page */
#define MAX_REPORTS	12
#define REPORT_LEN	1200
#define TAG		0x5aULL	/* top byte of every word the test writes */
#define CHILD_TAG	0xc1ULL	/* ... and of those a forked child writes */
#define ZRAM_SIZE	(256UL << 20)

enum op {
	OP_READ_GUEST, OP_ACCESS_READ, OP_MAP_READ, OP_CACHE_READ,
	OP_WRITE_GUEST, OP_ACCESS_WRITE, OP_MAP_WRITE, OP_MAP_WRITE_DIRTY,
	OP_CACHE_WRITE, OP_CMPXCHG, OP_CMPXCHG_DIRTY, OP_RO_WRITE,
	OP_FAULT_READ, OP_FAULT_WRITE, OP_USER_READ, OP_USER_WRITE,
	OP_MPROTECT_RO, OP_MPROTECT_NONE, OP_MREMAP, OP_REMAP_FRESH,
	OP_DONTNEED, OP_FREE_WRITE, OP_PUNCH_HOLE, OP_PAGEOUT, OP_MIGRATE,
	OP_CLEAR_REFS, OP_FORK, OP_SLOTS,
	NR_OPS,
	/* Not operations: what else sets a page's expected copy. */
	OP_INIT = NR_OPS, OP_RESYNC,
};

static const char * const op_name[] = {
	[OP_READ_GUEST] = "READ_GUEST",
	[OP_ACCESS_READ] = "ACCESS READ",
	[OP_MAP_READ] = "ACCESS MAP_READ",
	[OP_CACHE_READ] = "ACCESS CACHE_READ",
	[OP_WRITE_GUEST] = "WRITE_GUEST",
	[OP_ACCESS_WRITE] = "ACCESS WRITE",
	[OP_MAP_WRITE] = "ACCESS MAP_WRITE",
	[OP_MAP_WRITE_DIRTY] = "ACCESS MAP_WRITE|DIRTY",
	[OP_CACHE_WRITE] = "ACCESS CACHE_WRITE",
	[OP_CMPXCHG] = "ACCESS CMPXCHG",
	[OP_CMPXCHG_DIRTY] = "ACCESS CMPXCHG|DIRTY",
	[OP_RO_WRITE] = "write to READONLY slot",
	[OP_FAULT_READ] = "MIRROR_FAULT read",
	[OP_FAULT_WRITE] = "MIRROR_FAULT write",
	[OP_USER_READ] = "user-space read",
	[OP_USER_WRITE] = "user-space write",
	[OP_MPROTECT_RO] = "mprotect READ, RW",
	[OP_MPROTECT_NONE] = "mprotect NONE, RW",
	[OP_MREMAP] = "mremap away, back",
	[OP_REMAP_FRESH] = "munmap + mmap",
	[OP_DONTNEED] = "MADV_DONTNEED",
	[OP_FREE_WRITE] = "MADV_FREE + guest write",
	[OP_PUNCH_HOLE] = "punch hole",
	[OP_PAGEOUT] = "MADV_PAGEOUT",
	[OP_MIGRATE] = "move_pages",
	[OP_CLEAR_REFS] = "clear soft-dirty",
	[OP_FORK] = "fork",
	[OP_SLOTS] = "delete + re-create slot",
	[OP_INIT] = "the initial fill",
	[OP_RESYNC] = "a resync after a reported mismatch",
};

/* What each kind of operation did; raced: failed as a racing mutator explains. */
struct count {
	atomic_ulong n, ok, raced, bad, mismatch;
};

/* A page of guest memory, as the test expects it to be. */
struct gpage {
	pthread_mutex_t lock;
	/* Sequence counts, odd while a mutator's window is open. */
	atomic_uint noacc;	/* unmapped, PROT_NONE or moved away */
	atomic_uint nowr;	/* PROT_READ */
	/* The rest under @lock. */
	uint8_t last_op;	/* what set @exp last */
	bool after_free;	/* ... as the guest write after MADV_FREE */
	uint32_t last_gen;
	uint64_t exp[WORDS];
};

static struct {
	int fd, memfd, clear_refs;
	char *resv, *mem, *away;
	size_t resv_len;
	unsigned int npages, na, ro_first, ro_n, nodes, cpus;
	unsigned int hot[NR_STICKY];	/* the page of each sticky cache */
	struct gpage *pg;
	atomic_uint gone[NR_SLOTS];	/* odd while the slot is deleted */
	/*
	 * Held for writing by the windows that leave pages inaccessible
	 * or read-only (mprotect, mremap), for reading by the mutators that
	 * need their pages mapped and writable (madvise, munmap + mmap): a
	 * MADV_DONTNEED over a range moved away half-way would do half.
	 */
	pthread_rwlock_t layout;
	atomic_int stop;
	atomic_uint gen;
	atomic_ulong failures;
	struct count cnt[NR_OPS];
	pid_t child;
} S;

static unsigned long opt_seconds = 10, opt_pages = 128;
static unsigned long long opt_seed;
static int opt_swap = -1;	/* -1: if there is zram0 and no swap yet */

/* xorshift64*, one per thread, seeded by splitmix64 from --seed. */
struct rng {
	uint64_t s;
};

static void rng_init(struct rng *r, uint64_t seed, unsigned int id)
{
	uint64_t z = seed + (id + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	r->s = (z ^ (z >> 31)) | 1;
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(struct rng *r, unsigned int n)
{
	return (rnd(r) >> 16) % n;
}

static void pause_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Word @i of page @p as written in generation @gen. */
static uint64_t word(uint64_t tag, unsigned int p, uint32_t gen, unsigned int i)
{
	return tag << 56 | (uint64_t)p << 40 | (uint64_t)(gen & 0x7fffffff) << 9 | i;
}

static void fill(uint64_t *w, unsigned int p, uint32_t gen)
{
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		w[i] = word(TAG, p, gen, i);
}

static uint32_t next_gen(void)
{
	return atomic_fetch_add(&S.gen, 1) + 1;
}

static void describe(char *s, size_t n, uint64_t w)
{
	unsigned int tag = w >> 56;

	if (!w)
		snprintf(s, n, "zero");
	else if (tag == TAG || tag == CHILD_TAG)
		snprintf(s, n, "%spage %u gen %u word %u",
			 tag == TAG ? "" : "a forked child's ",
			 (unsigned int)(w >> 40 & 0xffff),
			 (unsigned int)(w >> 9 & 0x7fffffff),
			 (unsigned int)(w & 511));
	else
		snprintf(s, n, "foreign %016llx", (unsigned long long)w);
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "an unknown errno";
}

static char *hva(unsigned int p)
{
	return S.mem + (size_t)p * PAGE;
}

static unsigned int rw_slot(unsigned int p)
{
	return p < S.na ? 0 : 1;
}

static uint64_t gpa_of(unsigned int p, bool ro)
{
	if (ro)
		return RO_GPA + (uint64_t)(p - S.ro_first) * PAGE;
	return RW_GPA + (uint64_t)p * PAGE;
}

static int xioctl(unsigned long req, void *arg)
{
	return ioctl(S.fd, req, arg) ? errno : 0;
}

static int set_slot(unsigned int slot, bool create)
{
	struct guestmap_memslot m = { .slot = slot };

	if (create && slot == RO_SLOT) {
		m.flags = GUESTMAP_MEM_READONLY;
		m.guest_phys_addr = RO_GPA;
		m.memory_size = (uint64_t)S.ro_n * PAGE;
		m.userspace_addr = (uintptr_t)hva(S.ro_first);
	} else if (create) {
		m.guest_phys_addr = gpa_of(slot ? S.na : 0, false);
		m.memory_size = (uint64_t)(slot ? S.npages - S.na : S.na) * PAGE;
		m.userspace_addr = (uintptr_t)hva(slot ? S.na : 0);
	}
	return xioctl(GUESTMAP_SET_MEMSLOT, &m);
}

/*
 * Counts a failure and prints the first MAX_REPORTS at once, as TAP
 * comments: a later failure may be an oops that ends the VM.  stderr is
 * unbuffered, so printing maps no memory.
 */
static void report(const char *fmt, ...)
{
	char text[REPORT_LEN];
	va_list ap;

	if (atomic_fetch_add(&S.failures, 1) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# FAIL: %s\n", text);
}

/*
 * User-space access to the region that survives a racing mprotect() or
 * mremap(): SIGSEGV (or SIGBUS) jumps back, and words_done says how many
 * words were copied before the fault.  Word by word in order, so a write
 * stopped half-way left exactly a prefix of the new words.
 */
struct fault_ctx {
	sigjmp_buf *jmp;
	unsigned int words_done;
};

static __thread struct fault_ctx fault;

static void on_fault(int sig)
{
	if (fault.jmp)
		siglongjmp(*fault.jmp, 1);
	/* Not one of ours: die of it. */
	signal(sig, SIG_DFL);
}

static bool copy_words(uint64_t *dst, const uint64_t *src, unsigned int n,
		       unsigned int *done)
{
	unsigned int i;
	sigjmp_buf jb;

	fault.words_done = 0;
	if (sigsetjmp(jb, 1)) {
		fault.jmp = NULL;
		*done = fault.words_done;
		return false;
	}
	fault.jmp = &jb;
	/*
	 * The compiler barriers keep each word's store before the count that
	 * says it was done, and the count before the next word's access.
	 */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++) {
		__atomic_store_n(&dst[i], __atomic_load_n(&src[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		fault.words_done = i + 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
	fault.jmp = NULL;
	*done = n;
	return true;
}

/* User space's view of page @p, waiting out a window that hides it. */
static bool user_page(unsigned int p, uint64_t *out)
{
	unsigned int done, tries;

	for (tries = 0; tries < 20000; tries++) {
		if (copy_words(out, (uint64_t *)hva(p), WORDS, &done))
			return true;
		pause_us(500);
	}
	return false;
}

/*
 * Windows: a mutator calls window() before it starts and after it is
 * done; an access snapshots the counts of its pages and slot before it
 * and compares them after a failure.
 */
static void window(atomic_uint *seq)
{
	atomic_fetch_add(seq, 1);
}

static void pages_window(unsigned int p, unsigned int n, bool noacc)
{
	unsigned int i;

	for (i = p; i < p + n; i++)
		window(noacc ? &S.pg[i].noacc : &S.pg[i].nowr);
}

struct snap {
	unsigned int slot, first, n, gone;
	unsigned int noacc[MAX_SPAN], nowr[MAX_SPAN];
};

static void snap(struct snap *s, unsigned int slot, unsigned int first, unsigned int n)
{
	unsigned int i;

	s->slot = slot;
	s->first = first;
	s->n = n;
	s->gone = atomic_load(&S.gone[slot]);
	for (i = 0; i < n; i++) {
		s->noacc[i] = atomic_load(&S.pg[first + i].noacc);
		s->nowr[i] = atomic_load(&S.pg[first + i].nowr);
	}
}

/* A window was open when the snapshot was taken, or opened since. */
static bool moved(unsigned int before, unsigned int after)
{
	return (before & 1) || before != after;
}

/* Whether a racing mutator explains @err of an access snapshotted as @s. */
static bool explained(const struct snap *s, int err, bool write)
{
	struct snap t;
	unsigned int i;

	snap(&t, s->slot, s->first, s->n);
	if (err == ENOENT)
		return moved(s->gone, t.gone);
	if (err != EFAULT)
		return false;
	for (i = 0; i < s->n; i++)
		if (moved(s->noacc[i], t.noacc[i]) ||
		    (write && moved(s->nowr[i], t.nowr[i])))
			return true;
	return false;
}

/* Counts an operation done (@ok), failed as a race explains, or failed. */
static void tally(enum op op, bool ok, bool raced)
{
	atomic_fetch_add(&S.cnt[op].n, 1);
	atomic_fetch_add(ok ? &S.cnt[op].ok : raced ? &S.cnt[op].raced : &S.cnt[op].bad, 1);
}

/* Counts the outcome of an access; true if it succeeded. */
static bool outcome(enum op op, int err, const struct snap *s, bool write,
		    const char *what)
{
	struct count *c = &S.cnt[op];

	atomic_fetch_add(&c->n, 1);
	if (!err) {
		atomic_fetch_add(&c->ok, 1);
		return true;
	}
	if (explained(s, err, write)) {
		atomic_fetch_add(&c->raced, 1);
		return false;
	}
	atomic_fetch_add(&c->bad, 1);
	report("%s of pages %u..%u failed with %s, and no racing operation explains it",
	       what, s->first, s->first + s->n - 1, errname(err));
	return false;
}

static void set_exp(unsigned int p, const uint64_t *w, enum op op, uint32_t gen,
		    bool after_free)
{
	struct gpage *g = &S.pg[p];

	if (w)
		memcpy(g->exp, w, PAGE);
	else
		memset(g->exp, 0, PAGE);
	g->last_op = op;
	g->last_gen = gen;
	g->after_free = after_free;
}

static void hexdump(char *s, size_t n, const uint8_t *b, unsigned int len)
{
	unsigned int i;

	s[0] = 0;
	for (i = 0; i < len && 3 * i + 3 < n; i++)
		snprintf(s + 3 * i, n - 3 * i, "%02x ", b[i]);
}

/*
 * Reports that @got, bytes @off..@off + @len of page @p as @what saw
 * them, differ from the expected copy: where, with a hexdump of both, the
 * page, generation and word the first differing word was expected to be
 * and found to be, what wrote the page last, and what user space holds
 * now.  Then makes the expected copy what user space holds, so that one
 * bug is reported once and not by every later access to the page.
 * Called with the page's lock held.
 */
static void mismatch(enum op op, unsigned int p, unsigned int off, const uint8_t *got,
		     unsigned int len, const char *what)
{
	struct gpage *g = &S.pg[p];
	const uint8_t *exp = (const uint8_t *)g->exp + off;
	char de[64], dg[64], he[3 * 16 + 1], hg[3 * 16 + 1];
	unsigned int i, k, diff = 0, w, start, n;
	bool readable;
	const char *holds;
	uint64_t user[WORDS], gw;

	if (op < NR_OPS)
		atomic_fetch_add(&S.cnt[op].mismatch, 1);
	for (i = 0; i < len && exp[i] == got[i]; i++)
		;
	for (k = i; k < len; k++)
		diff += exp[k] != got[k];
	/* The first differing word wholly inside the range, to decode. */
	w = (off + i) / 8;
	for (w += w * 8 < off; w * 8 + 8 <= off + len; w++)
		if (memcmp(got + w * 8 - off, &g->exp[w], 8))
			break;
	if (w * 8 + 8 > off + len)
		w = (off + i) / 8;
	describe(de, sizeof(de), g->exp[w]);
	if (w * 8 >= off && w * 8 + 8 <= off + len) {
		memcpy(&gw, got + w * 8 - off, 8);
		describe(dg, sizeof(dg), gw);
	} else {
		snprintf(dg, sizeof(dg), "(a partial word)");
	}
	start = (off + i) & ~7U;
	start = start < off ? 0 : start - off;
	n = len - start < 16 ? len - start : 16;
	hexdump(he, sizeof(he), exp + start, n);
	hexdump(hg, sizeof(hg), got + start, n);
	readable = user_page(p, user);
	if (!readable)
		holds = "nothing readable";
	else if (!memcmp(user, g->exp, PAGE))
		holds = "the expected copy: the access returned wrong data";
	else if (!memcmp((uint8_t *)user + off, got, len))
		holds = "what the access found: the expected data is gone";
	else
		holds = "something else again";
	report("page %u (%s): %s: %u of bytes %u..%u differ, the first at byte %u\n"
	       "#   word %u: expected %s, found %s\n"
	       "#   from byte %u, expected: %s\n"
	       "#   from byte %u, found:    %s\n"
	       "#   the page was last set by %s%s (gen %u); user space now holds %s",
	       p, p < S.na ? "anonymous, slot 0" : "memfd, slot 1", what, diff, off,
	       off + len - 1, off + i, w, de, dg, off + start, he, off + start, hg,
	       op_name[g->last_op], g->after_free ? " after MADV_FREE" : "",
	       g->last_gen, holds);
	if (readable)
		set_exp(p, user, OP_RESYNC, 0, false);
}

/* Compares what an access read, from byte @off of page @p on, with the expected copies. */
static void check_read(enum op op, unsigned int p, unsigned int off, const uint8_t *buf,
		       unsigned int len, const char *what)
{
	while (len) {
		unsigned int n = len < PAGE - off ? len : PAGE - off;

		if (memcmp(buf, (uint8_t *)S.pg[p].exp + off, n))
			mismatch(op, p, off, buf, n, what);
		buf += n;
		len -= n;
		off = 0;
		p++;
	}
}

/*
 * After a failed write of @new to page @p, user space must hold the old
 * or the new page whole; with @prefix, also the new bytes up to some
 * point and the old ones after it (copy_to_user() stops where a racing
 * mprotect() caught it, at any byte).
 */
static void resolve(enum op op, unsigned int p, const uint64_t *new, bool prefix,
		    uint32_t gen, const char *what)
{
	struct gpage *g = &S.pg[p];
	const uint8_t *u, *nw = (const uint8_t *)new, *old = (const uint8_t *)g->exp;
	uint64_t user[WORDS];
	char how[160];
	unsigned int i;

	if (!user_page(p, user)) {
		report("page %u stayed inaccessible for seconds after %s failed", p, what);
		return;
	}
	u = (const uint8_t *)user;
	if (!memcmp(user, g->exp, PAGE))
		return;
	if (!memcmp(user, new, PAGE)) {
		set_exp(p, new, op, gen, false);
		return;
	}
	if (prefix) {
		for (i = 0; i < PAGE && u[i] == nw[i]; i++)
			;
		if (!memcmp(u + i, old + i, PAGE - i)) {
			set_exp(p, user, op, gen, false);
			return;
		}
	}
	snprintf(how, sizeof(how), "user space, after %s failed, (neither the old nor the new page)",
		 what);
	mismatch(op, p, 0, u, PAGE, how);
}

/* One GUESTMAP_ACCESS of a whole page or part of one. */
static int access_op(uint32_t op, uint32_t flags, uint64_t gpa, void *buf, uint64_t len,
		     unsigned int cache, uint32_t *via)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
		.flags = flags, .cache = cache,
	};
	int err = xioctl(GUESTMAP_ACCESS, &a);

	*via = a.via;
	return err;
}

/* How GUESTMAP_ACCESS reached the page, for reports ("" if it did not say). */
static const char *via_name(uint32_t via)
{
	switch (via) {
	case GUESTMAP_VIA_PAGE: return " via a pinned page";
	case GUESTMAP_VIA_REMAP: return " via memremap()";
	case GUESTMAP_VIA_CACHE: return " via the cache, valid";
	case GUESTMAP_VIA_CACHE_REFRESH: return " via the cache, refreshed";
	}
	return "";
}

/* A whole-page guest write of @buf to page @p through @op's path. */
static int write_page(enum op op, unsigned int p, bool ro, const uint64_t *buf,
		      unsigned int cache, uint32_t *via)
{
	struct guestmap_rw rw = {
		.gpa = gpa_of(p, ro), .len = PAGE, .buf = (uintptr_t)buf,
	};

	*via = 0;
	switch (op) {
	case OP_WRITE_GUEST:
		return xioctl(GUESTMAP_WRITE_GUEST, &rw);
	case OP_ACCESS_WRITE:
		return access_op(GUESTMAP_ACCESS_WRITE, 0, rw.gpa, (void *)buf, PAGE, 0, via);
	case OP_MAP_WRITE:
	case OP_MAP_WRITE_DIRTY:
		return access_op(GUESTMAP_ACCESS_MAP_WRITE,
				 op == OP_MAP_WRITE_DIRTY ? GUESTMAP_ACCESS_DIRTY : 0,
				 rw.gpa, (void *)buf, PAGE, 0, via);
	default:
		return access_op(GUESTMAP_ACCESS_CACHE_WRITE, 0, rw.gpa, (void *)buf, PAGE,
				 cache, via);
	}
}

/* A first page and a count of up to @max pages inside one slot. */
static unsigned int pick(struct rng *r, bool ro, unsigned int max, unsigned int *n)
{
	unsigned int lo, hi, p;

	if (ro) {
		lo = S.ro_first;
		hi = S.ro_first + S.ro_n;
	} else {
		p = below(r, S.npages);
		lo = p < S.na ? 0 : S.na;
		hi = p < S.na ? S.na : S.npages;
	}
	p = lo + below(r, hi - lo);
	*n = 1 + below(r, max);
	if (*n > hi - p)
		*n = hi - p;
	return p;
}

/*
 * Pfn caches: as a hypervisor ties a cache to one guest structure, caches
 * 0..NR_STICKY-1 each serve one "hot" page only, so a stale view left by
 * a missed invalidation is used by the next access to that cache instead
 * of being retargeted away; the others serve any page.
 */
static unsigned int cache_for(struct rng *r, unsigned int p, bool ro)
{
	unsigned int i;

	for (i = 0; !ro && i < NR_STICKY; i++)
		if (S.hot[i] == p)
			return i;
	return NR_STICKY + below(r, GUESTMAP_NR_CACHES - NR_STICKY);
}

/* The page of a cached access: half the time a hot page. */
static unsigned int cache_page(struct rng *r, bool ro, unsigned int *n)
{
	if (!ro && below(r, 2)) {
		*n = 1;
		return S.hot[below(r, NR_STICKY)];
	}
	return pick(r, ro, 1, n);
}

static void lock_pages(unsigned int p, unsigned int n)
{
	unsigned int i;

	/* Always in ascending order: no two lockers deadlock. */
	for (i = p; i < p + n; i++)
		pthread_mutex_lock(&S.pg[i].lock);
}

static void unlock_pages(unsigned int p, unsigned int n)
{
	unsigned int i;

	for (i = p; i < p + n; i++)
		pthread_mutex_unlock(&S.pg[i].lock);
}

/* A chunk of up to MAX_CHUNK pages inside the anonymous or the memfd half. */
static unsigned int chunk(struct rng *r, int half, unsigned int *n)
{
	unsigned int lo = half ? S.na : 0, hi = half ? S.npages : S.na;
	unsigned int p = lo + below(r, hi - lo);

	*n = 1 + below(r, MAX_CHUNK);
	if (*n > hi - p)
		*n = hi - p;
	return p;
}

/* Guest reads, each checked byte for byte. */
static void guest_read(struct rng *r, uint8_t *buf)
{
	enum op op = OP_READ_GUEST + below(r, 4);
	bool ro = below(r, 4) == 0, multi = op == OP_READ_GUEST || op == OP_ACCESS_READ;
	unsigned int n, p = op == OP_CACHE_READ ? cache_page(r, ro, &n) :
			    pick(r, ro, multi ? MAX_RW : 1, &n);
	unsigned int off = 0, len = n * PAGE, cache = cache_for(r, p, ro);
	uint32_t via = 0;
	char what[128];
	struct snap s;
	int err;

	/* Half the time, a random byte range of those pages. */
	if (below(r, 2)) {
		off = below(r, PAGE);
		len = 1 + below(r, n * PAGE - off);
		n = (off + len + PAGE - 1) / PAGE;
	}
	memset(buf, 0xee, len);
	lock_pages(p, n);
	snap(&s, ro ? RO_SLOT : rw_slot(p), p, n);
	if (op == OP_READ_GUEST) {
		struct guestmap_rw rw = {
			.gpa = gpa_of(p, ro) + off, .len = len, .buf = (uintptr_t)buf,
		};

		err = xioctl(GUESTMAP_READ_GUEST, &rw);
		snprintf(what, sizeof(what), "READ_GUEST through slot %u", s.slot);
	} else {
		static const uint32_t ops[] = {
			GUESTMAP_ACCESS_READ, GUESTMAP_ACCESS_MAP_READ, GUESTMAP_ACCESS_CACHE_READ,
		};

		err = access_op(ops[op - OP_ACCESS_READ], 0, gpa_of(p, ro) + off, buf, len,
				cache, &via);
		snprintf(what, sizeof(what), "%s through slot %u%s", op_name[op], s.slot,
			 via_name(via));
		if (op == OP_CACHE_READ)
			snprintf(what, sizeof(what), "%s of cache %u through slot %u%s",
				 op_name[op], cache, s.slot, via_name(via));
	}
	if (outcome(op, err, &s, false, what))
		check_read(op, p, off, buf, len, what);
	unlock_pages(p, n);
}

/* Writes through the READONLY alias: EPERM, and nothing changes. */
static void ro_write(struct rng *r, uint64_t *buf)
{
	static const enum op paths[] = {
		OP_WRITE_GUEST, OP_ACCESS_WRITE, OP_MAP_WRITE, OP_MAP_WRITE_DIRTY,
		OP_CACHE_WRITE, OP_CMPXCHG,
	};
	enum op path = paths[below(r, 6)];
	unsigned int n, p = pick(r, true, 1, &n), k = below(r, WORDS);
	struct count *c = &S.cnt[OP_RO_WRITE];
	uint64_t user[WORDS];
	char what[96];
	struct snap s;
	uint32_t via;
	int err;

	fill(buf, p, next_gen());
	lock_pages(p, 1);
	snap(&s, RO_SLOT, p, 1);
	if (path == OP_CMPXCHG) {
		struct guestmap_access a = {
			.gpa = gpa_of(p, true) + 8 * k, .len = 8, .op = GUESTMAP_ACCESS_CMPXCHG,
			.old = S.pg[p].exp[k], .new = buf[k],
		};

		err = xioctl(GUESTMAP_ACCESS, &a);
	} else {
		err = write_page(path, p, true, buf, cache_for(r, p, true), &via);
	}
	snprintf(what, sizeof(what), "%s through the READONLY slot", op_name[path]);
	atomic_fetch_add(&c->n, 1);
	if (err == EPERM) {
		atomic_fetch_add(&c->ok, 1);
	} else if (err == ENOENT && explained(&s, err, true)) {
		atomic_fetch_add(&c->raced, 1);
	} else {
		atomic_fetch_add(&c->bad, 1);
		report("%s of page %u returned %s, not EPERM", what, p,
		       err ? errname(err) : "success");
		if (user_page(p, user) && memcmp(user, S.pg[p].exp, PAGE))
			mismatch(OP_RO_WRITE, p, 0, (uint8_t *)user, PAGE, what);
	}
	unlock_pages(p, 1);
}

/* Guest writes; a success sets the expected copy, a failure is resolved. */
static void guest_write(struct rng *r, uint64_t *buf)
{
	static const enum op ops[] = {
		OP_WRITE_GUEST, OP_ACCESS_WRITE, OP_MAP_WRITE, OP_MAP_WRITE_DIRTY,
		OP_CACHE_WRITE, OP_CMPXCHG, OP_CMPXCHG_DIRTY,
	};
	enum op op = ops[below(r, 7)];
	unsigned int i, n, p, k = below(r, WORDS), cache;
	uint32_t gen[MAX_RW], via = 0;
	struct guestmap_access a = { 0 };
	char what[128];
	struct snap s;
	int err;

	if (S.ro_n && below(r, 8) == 0)
		return ro_write(r, buf);
	if (op == OP_CACHE_WRITE)
		p = cache_page(r, false, &n);
	else
		p = pick(r, false, op == OP_WRITE_GUEST ? MAX_RW : 1, &n);
	cache = cache_for(r, p, false);
	lock_pages(p, n);
	for (i = 0; i < n; i++) {
		gen[i] = next_gen();
		fill(buf + i * WORDS, p + i, gen[i]);
	}
	snap(&s, rw_slot(p), p, n);
	if (op == OP_WRITE_GUEST) {
		struct guestmap_rw rw = {
			.gpa = gpa_of(p, false), .len = n * PAGE, .buf = (uintptr_t)buf,
		};

		err = xioctl(GUESTMAP_WRITE_GUEST, &rw);
		snprintf(what, sizeof(what), "WRITE_GUEST of %u pages", n);
	} else if (op == OP_CMPXCHG || op == OP_CMPXCHG_DIRTY) {
		/* One word changes: the new page is the old one but for it. */
		uint64_t new = buf[k];

		memcpy(buf, S.pg[p].exp, PAGE);
		buf[k] = new;
		a = (struct guestmap_access){
			.gpa = gpa_of(p, false) + 8 * k, .len = 8, .op = GUESTMAP_ACCESS_CMPXCHG,
			.flags = op == OP_CMPXCHG_DIRTY ? GUESTMAP_ACCESS_DIRTY : 0,
			.old = S.pg[p].exp[k], .new = new,
		};
		err = xioctl(GUESTMAP_ACCESS, &a);
		via = a.via;
		snprintf(what, sizeof(what), "%s of word %u%s", op_name[op], k,
			 via_name(via));
	} else {
		err = write_page(op, p, false, buf, cache, &via);
		if (op == OP_CACHE_WRITE)
			snprintf(what, sizeof(what), "%s of cache %u%s", op_name[op], cache,
				 via_name(via));
		else
			snprintf(what, sizeof(what), "%s%s", op_name[op], via_name(via));
	}
	if (outcome(op, err, &s, true, what)) {
		if ((op == OP_CMPXCHG || op == OP_CMPXCHG_DIRTY) && a.old != S.pg[p].exp[k]) {
			/* It read something else: it did not swap. */
			mismatch(op, p, 8 * k, (uint8_t *)&a.old, 8, what);
		} else {
			for (i = 0; i < n; i++)
				set_exp(p + i, buf + i * WORDS, op, gen[i], false);
		}
	} else {
		for (i = 0; i < n; i++)
			resolve(op, p + i, buf + i * WORDS, op == OP_ACCESS_WRITE, gen[i], what);
	}
	unlock_pages(p, n);
}

/* User-space reads and writes of whole pages. */
static void user_op(struct rng *r, uint64_t *buf)
{
	bool write = below(r, 2);
	enum op op = write ? OP_USER_WRITE : OP_USER_READ;
	unsigned int p = below(r, S.npages), done;
	uint32_t gen = next_gen();
	struct snap s;

	lock_pages(p, 1);
	snap(&s, rw_slot(p), p, 1);
	if (write) {
		fill(buf, p, gen);
		if (copy_words((uint64_t *)hva(p), buf, WORDS, &done)) {
			outcome(op, 0, &s, true, op_name[op]);
		} else {
			outcome(op, EFAULT, &s, true, op_name[op]);
			/* Stopped at word @done: the new words before it, the old after. */
			memcpy(buf + done, S.pg[p].exp + done, (WORDS - done) * 8);
		}
		set_exp(p, buf, op, gen, false);
	} else {
		if (outcome(op, copy_words(buf, (uint64_t *)hva(p), WORDS, &done) ? 0 : EFAULT,
			    &s, false, op_name[op]))
			check_read(op, p, 0, (uint8_t *)buf, PAGE, op_name[op]);
	}
	unlock_pages(p, 1);
}

/* MIRROR_FAULT of up to MAX_SPAN pages, with no page lock: errnos only. */
static void fault_op(struct rng *r)
{
	bool ro = S.ro_n && below(r, 4) == 0, write = below(r, 2);
	enum op op = write ? OP_FAULT_WRITE : OP_FAULT_READ;
	unsigned int n, p = pick(r, ro, MAX_SPAN, &n);
	struct guestmap_fault f = {
		.gpa = gpa_of(p, ro), .size = (uint64_t)n * PAGE,
		.flags = write ? GUESTMAP_FAULT_WRITE : 0,
	};
	struct snap s;
	int err;

	snap(&s, ro ? RO_SLOT : rw_slot(p), p, n);
	err = xioctl(GUESTMAP_MIRROR_FAULT, &f);
	if (!(ro && write)) {
		outcome(op, err, &s, write, op_name[op]);
		return;
	}
	/* A write fault on the READONLY slot is EPERM, or ENOENT while it is gone. */
	if (err == EPERM) {
		tally(op, true, false);
	} else if (err == ENOENT && explained(&s, err, true)) {
		tally(op, false, true);
	} else {
		tally(op, false, false);
		report("write MIRROR_FAULT of pages %u..%u through the READONLY slot: %s, not EPERM",
		       p, p + n - 1, err ? errname(err) : "success");
	}
}

/* A thread; its buffer is allocated before any thread starts (see TEST). */
struct worker {
	pthread_t th;
	unsigned int id;
	void *buf;
};

static void *reader(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop))
		guest_read(&r, w->buf);
	return NULL;
}

static void *writer(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop))
		guest_write(&r, w->buf);
	return NULL;
}

static void *user(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop))
		user_op(&r, w->buf);
	return NULL;
}

static void *faulter(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop))
		fault_op(&r);
	return NULL;
}

/* A mapping of fresh memory at @p: anonymous, or the memfd again (same data). */
static bool map_fresh(unsigned int p, unsigned int n)
{
	bool anon = p < S.na;
	void *q = mmap(hva(p), (size_t)n * PAGE, PROT_READ | PROT_WRITE,
		       (anon ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED) | MAP_FIXED_NOREPLACE,
		       anon ? -1 : S.memfd, anon ? 0 : (off_t)(p - S.na) * PAGE);

	return q == hva(p);
}

/*
 * Mutators of the address space: mprotect read-only and PROT_NONE, and
 * mremap away and back, keep the data and take no page lock; munmap +
 * mmap of fresh memory replaces it under the pages' locks.
 */
static void vma_op(struct rng *r, uint64_t *buf)
{
	unsigned int i, n, p = chunk(r, below(r, 2), &n);
	size_t len = (size_t)n * PAGE;
	int what = below(r, 4), err = 0;
	uint32_t gen;

	if (what < 3) {
		pthread_rwlock_wrlock(&S.layout);
		pages_window(p, n, what != 0);
		if (what < 2) {
			err = mprotect(hva(p), len, what ? PROT_NONE : PROT_READ);
			pause_us(below(r, 500));
			err |= mprotect(hva(p), len, PROT_READ | PROT_WRITE);
			tally(what ? OP_MPROTECT_NONE : OP_MPROTECT_RO, !err, false);
			if (err)
				report("mprotect of pages %u..%u failed: %s", p, p + n - 1,
				       errname(errno));
		} else if (mremap(hva(p), len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
				  S.away) == MAP_FAILED) {
			/* EFAULT: the chunk spans two vmas, as a split can leave it. */
			tally(OP_MREMAP, false, errno == EFAULT);
		} else {
			pause_us(below(r, 500));
			if (mremap(S.away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
				   hva(p)) != hva(p) ||
			    mmap(S.away, MAX_CHUNK * PAGE, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
				 -1, 0) != S.away) {
				report("mremap back of pages %u..%u failed: %s", p, p + n - 1,
				       errname(errno));
				atomic_store(&S.stop, 1);
			}
			tally(OP_MREMAP, true, false);
		}
		pages_window(p, n, what != 0);
		pthread_rwlock_unlock(&S.layout);
		return;
	}

	pthread_rwlock_rdlock(&S.layout);
	lock_pages(p, n);
	pages_window(p, n, true);
	err = munmap(hva(p), len);
	if (err || !map_fresh(p, n)) {
		/* Nothing else maps memory while the threads run. */
		report("munmap + mmap of pages %u..%u failed: %s", p, p + n - 1,
		       errname(errno));
		atomic_store(&S.stop, 1);
		err = 1;
	}
	for (i = p; !err && i < p + n; i++) {
		if (below(r, 2)) {
			gen = next_gen();
			fill(buf, i, gen);
			memcpy(hva(i), buf, PAGE);
			set_exp(i, buf, OP_REMAP_FRESH, gen, false);
		} else if (i < S.na) {
			/* Fresh anonymous memory reads as zeroes ... */
			set_exp(i, NULL, OP_REMAP_FRESH, 0, false);
		}
		/* ... the memfd keeps its data. */
	}
	pages_window(p, n, true);
	unlock_pages(p, n);
	pthread_rwlock_unlock(&S.layout);
	tally(OP_REMAP_FRESH, !err, false);
}

static void *vma_thread(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop)) {
		vma_op(&r, w->buf);
		pause_us(below(&r, 1000));
	}
	return NULL;
}

/*
 * MADV_FREE, then a whole-page guest write through a random path, each
 * path as a hypervisor writes (MAP_WRITE with GUESTMAP_ACCESS_DIRTY): the
 * page must keep the write whatever reclaim does to a lazily freed page.
 * Called with the page's lock held and the layout read-locked, so that
 * only a slot re-creation (ENOENT) may delay it.
 */
static void free_write(struct rng *r, unsigned int p, uint64_t *buf)
{
	static const enum op paths[] = {
		OP_WRITE_GUEST, OP_ACCESS_WRITE, OP_MAP_WRITE_DIRTY, OP_CACHE_WRITE,
	};
	enum op path = paths[below(r, 4)];
	unsigned int tries, done_words, cache = cache_for(r, p, false);
	uint32_t gen = next_gen(), via;
	char what[96];
	struct snap s;
	int err;

	fill(buf, p, gen);
	snprintf(what, sizeof(what), "%s after MADV_FREE", op_name[path]);
	for (tries = 0; tries < 1000; tries++) {
		snap(&s, 0, p, 1);
		err = write_page(path, p, false, buf, cache, &via);
		if (!err) {
			tally(OP_FREE_WRITE, true, false);
			set_exp(p, buf, path, gen, true);
			return;
		}
		if (!explained(&s, err, true)) {
			report("%s of page %u failed with %s, and no racing operation explains it",
			       what, p, errname(err));
			break;
		}
		pause_us(200);
	}
	/* The guest could not write it; user space does, which ends the lazy free. */
	tally(OP_FREE_WRITE, false, tries == 1000);
	if (!copy_words((uint64_t *)hva(p), buf, WORDS, &done_words))
		report("page %u not writable from user space after MADV_FREE", p);
	set_exp(p, buf, OP_USER_WRITE, gen, false);
}

/* A forked child writes its copy and finds the context is not its own. */
static void child(struct rng *r)
{
	uint64_t buf[WORDS];
	struct guestmap_rw rw = { .gpa = RW_GPA, .len = 8, .buf = (uintptr_t)buf };
	unsigned int i, k, p, n;
	int code = 0;

	for (k = 0; k < 4; k++) {
		p = below(r, S.na);
		for (i = 0; i < WORDS; i++)
			buf[i] = word(CHILD_TAG, p, 0, i);
		copy_words((uint64_t *)hva(p), buf, WORDS, &n);
	}
	if (ioctl(S.fd, GUESTMAP_READ_GUEST, &rw) != -1 || errno != EIO)
		code = 1;
	/* Live a while, so that the parent's writes break CoW for real. */
	pause_us(below(r, 20000));
	_exit(code);
}

static void reap(void)
{
	int status;

	if (S.child <= 0)
		return;
	if (waitpid(S.child, &status, 0) != S.child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		report("forked child %d: status %#x (1: its ioctl did not fail with EIO)",
		       S.child, status);
	S.child = 0;
}

/*
 * Mutators that destroy data hold their pages' locks and set the new
 * expected content: MADV_DONTNEED (zeroes, or the memfd's data), holes
 * punched in the memfd (zeroes), MADV_FREE + guest write (the write).
 * fork() takes no lock: the child's writes must not reach the parent.
 */
static void madv_op(struct rng *r, uint64_t *buf)
{
	/* MADV_FREE twice as often: it is where writes get lost. */
	static const int kinds[] = { 0, 1, 1, 2, 3 };
	int what = kinds[below(r, 5)], err;
	unsigned int i, n, p;
	pid_t pid;

	if (what == 3) {
		reap();
		pid = fork();
		if (pid == 0)
			child(r);
		S.child = pid;
		tally(OP_FORK, pid > 0, false);
		return;
	}
	/* MADV_FREE is for private anonymous memory, holes for the memfd. */
	p = chunk(r, what == 1 ? 0 : what == 2 ? 1 : (int)below(r, 2), &n);
	pthread_rwlock_rdlock(&S.layout);
	lock_pages(p, n);
	switch (what) {
	case 0:
		err = madvise(hva(p), (size_t)n * PAGE, MADV_DONTNEED);
		for (i = p; !err && i < p + n && i < S.na; i++)
			set_exp(i, NULL, OP_DONTNEED, 0, false);
		tally(OP_DONTNEED, !err, false);
		break;
	case 1:
		err = madvise(hva(p), (size_t)n * PAGE, MADV_FREE);
		for (i = p; !err && i < p + n; i++)
			free_write(r, i, buf);
		if (err)
			tally(OP_FREE_WRITE, false, false);
		break;
	default:
		if (below(r, 2))
			err = fallocate(S.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)(p - S.na) * PAGE, (off_t)n * PAGE);
		else
			err = madvise(hva(p), (size_t)n * PAGE, MADV_REMOVE);
		for (i = p; !err && i < p + n; i++)
			set_exp(i, NULL, OP_PUNCH_HOLE, 0, false);
		tally(OP_PUNCH_HOLE, !err, false);
		break;
	}
	if (err)
		report("%s of pages %u..%u failed: %s",
		       what == 0 ? "MADV_DONTNEED" : what == 1 ? "MADV_FREE" : "punching holes",
		       p, p + n - 1, errname(errno));
	unlock_pages(p, n);
	pthread_rwlock_unlock(&S.layout);
}

static void *madv_thread(void *arg)
{
	struct worker *w = arg;
	struct rng r;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop)) {
		madv_op(&r, w->buf);
		pause_us(below(&r, 1000));
	}
	reap();
	return NULL;
}

/*
 * Moves pages @p..@p + @n - 1 to another NUMA node (the test VM boots with
 * numa=fake=2): same data, new pages.  0, or a negative errno.
 */
static int migrate(unsigned int p, unsigned int n)
{
	void *pages[MAX_SPAN];
	int nodes[MAX_SPAN], status[MAX_SPAN];
	unsigned int i;

	if (S.nodes < 2)
		return -ENODEV;
	for (i = 0; i < n; i++)
		pages[i] = hva(p + i);
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
		return -errno;
	for (i = 0; i < n; i++)
		nodes[i] = status[i] >= 0 ? (status[i] + 1) % S.nodes : 0;
	/* A page not present (or moved away just then) has nothing to move. */
	return syscall(SYS_move_pages, 0, n, pages, nodes, status, MPOL_MF_MOVE) < 0 ?
	       -errno : 0;
}

/*
 * Runs the calling thread on @cpu, or anywhere for -1.  MADV_PAGEOUT
 * drains only its own CPU's LRU batches, and MADV_FREE takes effect only
 * once the batch its folio waits in is drained: reclaim must come from
 * every CPU, as it does in real life.
 */
static void run_on(int cpu)
{
	cpu_set_t set;
	unsigned int i;

	CPU_ZERO(&set);
	for (i = 0; i < S.cpus && i < CPU_SETSIZE; i++)
		if (cpu < 0 || (unsigned int)cpu == i)
			CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Reclaim, migration and soft-dirty clears, racing everything, with no lock. */
static void *reclaim_thread(void *arg)
{
	struct worker *w = arg;
	unsigned int p, n, k;
	struct rng r;
	int err;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop)) {
		run_on(below(&r, S.cpus));
		k = below(&r, 8);
		if (k >= 4 && k < 7) {
			p = below(&r, S.npages);
			n = 1 + below(&r, MAX_SPAN);
			if (n > S.npages - p)
				n = S.npages - p;
			err = -migrate(p, n);
			/* ENOENT, EFAULT: part of the range was away just then. */
			tally(OP_MIGRATE, !err, err == ENOENT || err == EFAULT || err == ENODEV);
			if (err && err != ENOENT && err != EFAULT && err != ENODEV)
				report("move_pages of pages %u..%u: %s", p, p + n - 1,
				       errname(err));
		} else if (k < 4) {
			p = below(&r, S.npages);
			n = 1 + below(&r, 2 * MAX_SPAN);
			if (n > S.npages - p)
				n = S.npages - p;
			err = madvise(hva(p), (size_t)n * PAGE, MADV_PAGEOUT) ? errno : 0;
			/* ENOMEM: part of the range was moved away just then. */
			tally(OP_PAGEOUT, !err, err == ENOMEM);
			if (err && err != ENOMEM)
				report("MADV_PAGEOUT of pages %u..%u: %s", p, p + n - 1,
				       errname(err));
		} else {
			err = write(S.clear_refs, "4", 1) != 1;
			tally(OP_CLEAR_REFS, !err, false);
			if (err)
				report("clear_refs: %s", errname(errno));
		}
		pause_us(below(&r, 2000));
	}
	return NULL;
}

/* Slots deleted and re-created on the same memory, sometimes two at once. */
static void *slot_thread(void *arg)
{
	struct worker *w = arg;
	unsigned int set[2], k, nset;
	struct rng r;
	int err = 0;

	rng_init(&r, opt_seed, w->id);
	while (!atomic_load(&S.stop)) {
		nset = 1;
		set[0] = below(&r, NR_SLOTS);
		/*
		 * The alias's notifier also invalidates caches of the pages it
		 * covers: delete it with a RW slot so those go unwatched too.
		 */
		if (set[0] == RO_SLOT && below(&r, 2)) {
			set[0] = below(&r, 2);
			set[nset++] = RO_SLOT;
		}
		for (k = 0; k < nset; k++) {
			window(&S.gone[set[k]]);
			err = err ?: set_slot(set[k], false);
		}
		/*
		 * While a slot is gone, its notifier sees nothing: half the
		 * time, move the hot pages under it to new pages (same data)
		 * just then.  A pfn cache that outlived the slot then maps a
		 * freed page, which the next access through it must not use.
		 */
		if (set[0] != RO_SLOT && below(&r, 2))
			for (k = 0; k < NR_STICKY; k++)
				if (rw_slot(S.hot[k]) == set[0])
					migrate(S.hot[k], 1);
		pause_us(below(&r, 2000));
		for (k = 0; k < nset; k++) {
			err = err ?: set_slot(set[k], true);
			window(&S.gone[set[k]]);
		}
		tally(OP_SLOTS, !err, false);
		if (err) {
			report("deleting or re-creating slots failed: %s", errname(err));
			atomic_store(&S.stop, 1);
		}
		pause_us(below(&r, 3000));
	}
	return NULL;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Takes down the swap zram_swap() set up, and frees zram0's memory. */
static void zram_off(void)
{
	int fd;

	swapoff("/dev/zram0");
	fd = open("/sys/block/zram0/reset", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			note("zram0 reset failed: %s", errname(errno));
		close(fd);
	}
}

/*
 * Swap on zram0, so that MADV_PAGEOUT really swaps (and swap-cache pages
 * come back); true if this test set it up.  Left alone if any swap is on,
 * or if zram0 is configured already (someone else's).
 */
static bool zram_swap(void)
{
	char line[256], *hdr;
	int n = 0, fd;
	bool ok;
	FILE *f;

	f = fopen("/proc/swaps", "r");
	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	if (n > 1 || opt_swap == 0)
		return false;
	fd = open("/sys/block/zram0/disksize", O_WRONLY);
	if (fd < 0)
		return false;
	ok = dprintf(fd, "%lu", ZRAM_SIZE) > 0;
	close(fd);
	if (!ok)
		return false;
	/* mkswap: version 1, the last page, no bad pages, the magic. */
	hdr = calloc(1, PAGE);
	fd = open("/dev/zram0", O_WRONLY);
	ok = hdr && fd >= 0;
	if (ok) {
		((uint32_t *)(hdr + 1024))[0] = 1;
		((uint32_t *)(hdr + 1024))[1] = ZRAM_SIZE / PAGE - 1;
		memcpy(hdr + PAGE - 10, "SWAPSPACE2", 10);
		ok = pwrite(fd, hdr, PAGE, 0) == PAGE && !fsync(fd);
	}
	if (fd >= 0)
		close(fd);
	free(hdr);
	if (ok && !swapon("/dev/zram0", 0))
		return true;
	zram_off();
	return false;
}

/* The memory: a reservation holding the region and the place mremap moves chunks to. */
static int setup_memory(void)
{
	unsigned int p;
	uint32_t gen;

	S.na = S.npages / 2;
	S.ro_first = S.na / 2;
	S.ro_n = S.npages / 2;
	/* Anonymous and memfd pages, each behind the alias and not. */
	S.hot[0] = 1;
	S.hot[1] = S.ro_first + 1;
	S.hot[2] = S.na + 1;
	S.hot[3] = S.npages - 2;
	S.resv_len = (S.npages + MAX_CHUNK + 3) * PAGE;
	S.resv = mmap(NULL, S.resv_len, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (S.resv == MAP_FAILED)
		return -1;
	S.mem = S.resv + PAGE;
	S.away = S.mem + (S.npages + 1) * PAGE;
	S.memfd = memfd_create("guestmap-stress", MFD_CLOEXEC);
	if (S.memfd < 0 || ftruncate(S.memfd, (off_t)(S.npages - S.na) * PAGE))
		return -1;
	if (munmap(S.mem, (size_t)S.npages * PAGE) || !map_fresh(0, S.na) ||
	    !map_fresh(S.na, S.npages - S.na))
		return -1;
	for (S.nodes = 0; S.nodes < 64; S.nodes++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u", S.nodes);
		if (access(path, F_OK))
			break;
	}
	S.pg = calloc(S.npages, sizeof(*S.pg));
	if (!S.pg)
		return -1;
	for (p = 0; p < S.npages; p++) {
		pthread_mutex_init(&S.pg[p].lock, NULL);
		gen = next_gen();
		fill((uint64_t *)hva(p), p, gen);
		set_exp(p, (uint64_t *)hva(p), OP_INIT, gen, false);
	}
	return 0;
}

/* Every page read back through every slot and several guest paths. */
static void guest_check(struct rng *r, uint8_t *buf, const char *when)
{
	static const uint32_t paths[] = {
		GUESTMAP_ACCESS_CACHE_READ, GUESTMAP_ACCESS_MAP_READ, GUESTMAP_ACCESS_READ,
	};
	static const char * const names[] = { "CACHE_READ", "MAP_READ", "ACCESS READ" };
	unsigned int p, k;
	uint32_t via;
	char what[128];
	int err;

	for (p = 0; p < S.npages; p++) {
		struct guestmap_rw rw = {
			.gpa = gpa_of(p, false), .len = PAGE, .buf = (uintptr_t)buf,
		};

		snprintf(what, sizeof(what), "READ_GUEST %s", when);
		err = xioctl(GUESTMAP_READ_GUEST, &rw);
		if (err)
			report("%s of page %u: %s", what, p, errname(err));
		else if (memcmp(buf, S.pg[p].exp, PAGE))
			mismatch(OP_RESYNC, p, 0, buf, PAGE, what);
		if (p >= S.ro_first && p < S.ro_first + S.ro_n) {
			snprintf(what, sizeof(what), "READ_GUEST through the READONLY slot %s",
				 when);
			rw.gpa = gpa_of(p, true);
			err = xioctl(GUESTMAP_READ_GUEST, &rw);
			if (err)
				report("%s of page %u: %s", what, p, errname(err));
			else if (memcmp(buf, S.pg[p].exp, PAGE))
				mismatch(OP_RESYNC, p, 0, buf, PAGE, what);
		}
		for (k = 0; k < ARRAY_SIZE(paths); k++) {
			unsigned int cache = cache_for(r, p, false);

			err = access_op(paths[k], 0, gpa_of(p, false), buf, PAGE, cache, &via);
			if (k)
				snprintf(what, sizeof(what), "%s %s%s", names[k], when,
					 via_name(via));
			else
				snprintf(what, sizeof(what), "%s of cache %u %s%s", names[k],
					 cache, when, via_name(via));
			if (err)
				report("%s of page %u: %s", what, p, errname(err));
			else if (memcmp(buf, S.pg[p].exp, PAGE))
				mismatch(OP_RESYNC, p, 0, buf, PAGE, what);
		}
	}
}

/*
 * With every thread stopped: the guest must read every page as expected
 * (before anything else touches the pfn caches); then, with the memory
 * paged out once more (a write left on a clean page is lost now if it
 * ever is), user space must hold every expected copy, and the guest read
 * it back again.
 */
static void final_check(uint8_t *buf)
{
	unsigned int p;
	struct rng r;

	rng_init(&r, opt_seed, 99);
	guest_check(&r, buf, "at the end");
	for (p = 0; p < S.cpus; p++) {
		run_on(p);
		madvise(S.mem, (size_t)S.npages * PAGE, MADV_PAGEOUT);
	}
	run_on(-1);
	for (p = 0; p < S.npages; p++) {
		if (!user_page(p, (uint64_t *)buf))
			report("page %u unreadable from user space at the end", p);
		else if (memcmp(buf, S.pg[p].exp, PAGE))
			mismatch(OP_RESYNC, p, 0, buf, PAGE,
				 "user space at the end, after MADV_PAGEOUT");
	}
	guest_check(&r, buf, "at the end, after MADV_PAGEOUT");
}

static void print_counts(void)
{
	static const char * const events[] = {
		"unmap", "clear", "protection_vma", "protection_page", "soft_dirty",
		"release", "migrate", "exclusive",
	};
	struct guestmap_stats st;
	unsigned int i;

	note("%-24s %9s %9s %9s %5s %8s", "operation", "done", "ok", "raced", "bad",
	     "mismatch");
	for (i = 0; i < NR_OPS; i++)
		note("%-24s %9lu %9lu %9lu %5lu %8lu", op_name[i], atomic_load(&S.cnt[i].n),
		     atomic_load(&S.cnt[i].ok), atomic_load(&S.cnt[i].raced),
		     atomic_load(&S.cnt[i].bad), atomic_load(&S.cnt[i].mismatch));
	if (xioctl(GUESTMAP_GET_STATS, &st))
		return;
	for (i = 0; i < GUESTMAP_NR_EVENTS; i++)
		note("invalidations.%s: %llu", events[i],
		     (unsigned long long)st.invalidations[i]);
	note("faults %llu, pages faulted %llu, retries %llu, zapped %llu, write-protected %llu",
	     (unsigned long long)st.faults, (unsigned long long)st.pages_faulted,
	     (unsigned long long)st.retries, (unsigned long long)st.entries_zapped,
	     (unsigned long long)st.entries_wrprotected);
}

TEST(stress)
{
	static void *(*const fns[])(void *) = {
		reader, reader, writer, writer, user, faulter,
		vma_thread, madv_thread, reclaim_thread, slot_thread,
	};
	struct worker w[ARRAY_SIZE(fns)];
	struct guestmap_api_version v;
	struct sigaction sa = { .sa_handler = on_fault };
	bool swap_mine = false;
	pthread_rwlockattr_t ra;
	struct timespec t0, t;
	unsigned long failures;
	unsigned int i;
	uint8_t *buf;

	S.npages = opt_pages;
	S.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	S.fd = open_dev();
	ASSERT_LE(0, S.fd);
	ASSERT_EQ(0, xioctl(GUESTMAP_GET_API_VERSION, &v));
	if (~v.caps & (GUESTMAP_CAP_MIRROR | GUESTMAP_CAP_MAP))
		SKIP(return, "the module lacks the mirror or guest mapping");
	ASSERT_EQ(PAGE, v.page_size);
	S.clear_refs = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, S.clear_refs);
	ASSERT_EQ(0, setup_memory());
	for (i = 0; i < NR_SLOTS; i++)
		ASSERT_EQ(0, set_slot(i, true));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	pthread_rwlockattr_init(&ra);
	/* mprotect and mremap windows must not starve behind madvise. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&S.layout, &ra);
	buf = malloc(PAGE);
	ASSERT_NE(NULL, buf);
	if (opt_swap)
		swap_mine = zram_swap();
	if (opt_swap == 1 && !swap_mine)
		note("--swap: could not set up swap on zram0; using what there is");
	note("%lu s, seed %llu, %u pages (%u anonymous, %u memfd, %u behind the READONLY alias), swap: %s",
	     opt_seconds, opt_seed, S.npages, S.na, S.npages - S.na, S.ro_n,
	     swap_mine ? "zram0, set up by this test" : "as the system has it");

	/*
	 * Allocate every buffer first: once the mutators run, nothing else may
	 * map memory, or it could land where mremap() moved a chunk from (and
	 * mremap() back would silently replace it).
	 */
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		w[i].id = i;
		w[i].buf = malloc(MAX_RW * PAGE);
		ASSERT_NE(NULL, w[i].buf);
	}
	for (i = 0; i < ARRAY_SIZE(fns); i++)
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, fns[i], &w[i]));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pause_us(100000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!atomic_load(&S.stop) && t.tv_sec - t0.tv_sec < (long)opt_seconds);
	atomic_store(&S.stop, 1);
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		pthread_join(w[i].th, NULL);
		free(w[i].buf);
	}

	final_check(buf);
	print_counts();
	failures = atomic_load(&S.failures);
	if (failures)
		TH_LOG("%lu failures, the first %lu printed as they happened (FAIL: above)",
		       failures, failures < MAX_REPORTS ? failures : MAX_REPORTS);
	EXPECT_EQ(0, failures);
	/* A run that never got to race proves nothing. */
	for (i = 0; i < NR_OPS; i++)
		EXPECT_LT(0, atomic_load(&S.cnt[i].n))
			TH_LOG("no %s ran", op_name[i]);

	close(S.fd);
	munmap(S.resv, S.resv_len);
	close(S.memfd);
	close(S.clear_refs);
	if (swap_mine)
		zram_off();
	free(buf);
}

static unsigned long long env_num(const char *name, unsigned long long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/* Takes this test's options out of argv; the harness gets the rest. */
int main(int argc, char **argv)
{
	int i, j;

	opt_seconds = env_num("GM_STRESS_SECONDS", opt_seconds);
	opt_seed = env_num("GM_STRESS_SEED", (unsigned long long)time(NULL) ^ getpid());
	opt_pages = env_num("GM_STRESS_PAGES", opt_pages);
	if (getenv("GM_STRESS_SWAP"))
		opt_swap = !!env_num("GM_STRESS_SWAP", 1);
	for (i = j = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			opt_seconds = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--pages") && i + 1 < argc)
			opt_pages = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--swap") || !strcmp(argv[i], "--no-swap"))
			opt_swap = !strcmp(argv[i], "--swap");
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	if (opt_pages < 2 * MAX_CHUNK || opt_pages > 8192 || opt_pages % 2) {
		fprintf(stderr, "--pages: an even number from %d to 8192\n", 2 * MAX_CHUNK);
		return KSFT_FAIL;
	}
	/*
	 * The harness kills a test after its timeout (30 s by default), set
	 * when TEST() defines it: give this one the run and time to check.
	 */
	_stress_object.timeout = opt_seconds + 300;
	return test_harness_run(j, argv);
}
