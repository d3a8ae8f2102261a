// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap ioctl fuzzer: random ioctls on /dev/guestmap, interleaved with
 * random changes to the memory behind the memslots, each result checked
 * against the ABI (include/uapi/linux/guestmap.h, Documentation/uapi.rst).
 *
 * Random arguments alone mostly test the argument checks.  To reach the
 * paths behind them, the fuzzer keeps a model of what it did: the memslots
 * it created and the protection of every page of the memory it maps them
 * to.  From the model it works out, before each call, which results the
 * ABI allows: success only if no documented error applies, else any errno
 * documented for one of the errors that apply (the ABI does not say which
 * check comes first).  ENOMEM is always tolerated.  Anything else fails
 * the test: an errno the ABI does not document for the command (EAGAIN
 * above all), success where an error is mandatory (a write to a READONLY
 * slot, a read of memory user space cannot read, a QUERY past 2^48), or
 * an error where success is.  Successful calls are checked too: data read
 * or written through the guest must be what user space sees at the slot's
 * address, QUERY must not show entries user space could not use, and the
 * statistics must add up.  GUESTMAP_WALK walks from a root in a slot,
 * through whatever the memory holds or through tables written for it;
 * every valid walk asks for no A/D updates (it must not change the data
 * the other checks compare), and its answer must be consistent, with the
 * entries it read those user space sees.
 *
 * The memory: an arena of 2 MiB windows, reserved PROT_NONE, into which
 * memory events map anonymous memory, shared and private memfd pages and,
 * when the VM has them (GUESTMAP_RESERVED, GUESTMAP_HIDDEN, pmem in
 * /proc/iomem), /dev/mem PFNMAP ranges, then munmap, mprotect (NONE, READ,
 * RW), MADV_DONTNEED, MADV_FREE and mremap them.  Slots are created and
 * deleted at a few guest addresses again and again (READONLY or not,
 * overlapping, at and past 2^48), so caches and mirror entries meet new
 * memory at old addresses.  Argument pointers are mostly good; else NULL,
 * unmapped, kernel, non-canonical, read-only (output fails) or cut short
 * by a guard page.  Every so often the model is checked against
 * /proc/self/maps and GET_STATS against what QUERY finds.
 *
 * Tests:
 *
 * single_thread: deterministic for a given seed.  Every failure prints
 *   the call, the results allowed and why, and a command line that
 *   replays the run up to it; --trace prints every step on the way (the
 *   kernel must behave the same, which it does for a fresh context).  Now
 *   and then a forked child makes random calls on the parent's fd, which
 *   must all fail with EIO.
 * threads: four threads at once, each with its own seed (derived from
 *   --seed), slot ids, guest addresses and memory, plus four fixed slots
 *   they share (one READONLY, two on PROT_NONE memory, one of them
 *   /dev/mem), while the main thread signals them (EINTR is then allowed)
 *   and forks children.  Thread interleavings are not reproducible, so
 *   only what holds in any interleaving is checked.
 *
 * A few failures of each kind are shown, and a count of each at the end:
 * one bug must not hide the others.
 *
 * Both end by checking that the context still works.  The VM runner
 * (scripts/vm-run) fails the run on any oops, WARN, KASAN or lockdep
 * report, so the kernel log is not read here.
 *
 * Options, accepted among the harness's own:
 *   --seed N      seed (default 1, or $GM_FUZZ_SEED)
 *   --count N     ioctls in all, half per test (default 200000, or
 *                 $GM_FUZZ_COUNT)
 *   --seconds S   time limit in all, half per test (default 60, or
 *                 $GM_FUZZ_SECONDS)
 *   --trace       print every call and memory event of single_thread
 *   --trace-file F  ... to the file F instead (much faster)
 *   --exclude L   comma-separated commands or ACCESS ops never to issue
 *                 (e.g. CACHE_READ,CACHE_WRITE), to get past a known bug
 *   --devdax      turn pmem namespace0.0 into device-dax (ndctl) for the
 *                 run, as map_test does for a test: its /dev/mem pages are
 *                 then compound ZONE_DEVICE pages, whose tails have no
 *                 reference count of their own
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/guestmap.h>
#include <linux/guestmap_test.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

/*
 * The memory slots map to lives in one arena of windows, reserved
 * PROT_NONE up front so that nothing else is ever mapped there: the model
 * then knows every page of it.  Windows are 2 MiB aligned, for THP.
 */
#define NWIN		16
#define WIN_SIZE	(2UL << 20)
#define WIN_PAGES	(WIN_SIZE / PAGE)
#define ARENA_PAGES	(NWIN * WIN_PAGES)
#define ARENA_SIZE	(NWIN * WIN_SIZE)

/* threads: windows and slots 0-3 are the fixed ones, then per thread. */
#define NTHREADS	4
#define NFIXED		4
#define THREAD_WINS	3
#define THREAD_IDS	7

#define NSLOTS		GUESTMAP_MAX_MEMSLOTS
#define RW_MAX		((uint64_t)GUESTMAP_RW_MAX)
#define BIG		(GUESTMAP_RW_MAX + 2 * PAGE)	/* any copy, misaligned */
#define MEMFD_SIZE	(4UL << 20)
#define MAPS_BUF	(2UL << 20)
#define LOW_LIMIT	0x10000UL	/* mmap_min_addr: never mapped below */
#define USER_TOP	(1ULL << 47)	/* this process maps nothing above */
#define KERNEL_ADDR	0xffff888000000000ULL	/* the direct map */
#define GPA_LIMIT	(1ULL << GUESTMAP_GPA_BITS)
#define ZONE_SHIFT	40		/* threads: a TiB of gpas each */
#define ZONE		(1ULL << ZONE_SHIFT)
#define SHARED_ZONE	(5 * ZONE)	/* threads: anyone's above this */
#define RO_BIG_PAGES	16384		/* READONLY slots may reach past */
#define MAX_SHOWN	20		/* failures printed per world */
#define SHOWN_PER_KIND	3		/* ... and per kind of failure */
#define NKINDS		32
#define NERRNO		160
#define EVENT_PERCENT	6		/* memory events per 100 steps */

#define B(e)		(1ULL << (e))
#define OK		B(0)		/* success, in a set of results */

#define PRESENT		GUESTMAP_PAGE_PRESENT
#define WRITABLE	GUESTMAP_PAGE_WRITABLE
#define CLASS(e)	(((e) & GUESTMAP_PAGE_CLASS_MASK) >> GUESTMAP_PAGE_CLASS_SHIFT)

/* What one page of the arena is, as far as the model knows. */
#define PS_MAPPED	0x01
#define PS_R		0x02
#define PS_W		0x04
#define PS_UNKNOWN	0x08
#define PS_KIND(s)	((s) >> 4)
#define PS(kind, prot)	(PS_MAPPED | (prot) | ((kind) << 4))

/* GUESTMAP_WALK: the control bits, entry bits and EPT pointer it takes. */
#define WK_CR0_PE	(1ULL << 0)
#define WK_CR0_WP	(1ULL << 16)
#define WK_CR0_PG	(1ULL << 31)
#define WK_CR4_PAE	(1ULL << 5)
#define WK_CR4_LA57	(1ULL << 12)
#define WK_CR4_SMEP	(1ULL << 20)
#define WK_CR4_SMAP	(1ULL << 21)
#define WK_CR4_PKE	(1ULL << 22)
#define WK_CR4_PKS	(1ULL << 24)
#define WK_CR4_LAM_SUP	(1ULL << 28)
#define WK_EFER_LME	(1ULL << 8)
#define WK_EFER_LMA	(1ULL << 10)
#define WK_EFER_NXE	(1ULL << 11)
#define WK_ADDR_MASK	(((1ULL << 52) - 1) & ~(PAGE - 1))	/* bits 51:12 */
#define WK_PS		(1ULL << 7)	/* a large page, in EPT too */
#define WK_NX		(1ULL << 63)
#define WK_EPT_RWX	7ULL
#define WK_EPT_WB	(6ULL << 3)	/* a leaf's memory type */
#define WK_EPTP_WB4	(6ULL | (3ULL << 3))	/* WB, a 4-level walk */
#define WK_EPTP_AD	(1ULL << 6)
#define WK_PTE_RW	0x67ULL		/* P, RW, US, A, D */
#define WK_NFAULTS	(GUESTMAP_WALK_EPT_MISCONFIG + 1)
#define WK_ACCESS	(GUESTMAP_WALK_WRITE | GUESTMAP_WALK_USER | GUESTMAP_WALK_FETCH)
#define WK_FLAGS	(GUESTMAP_WALK_AC | GUESTMAP_WALK_IMPLICIT | GUESTMAP_WALK_NO_AD | \
			 GUESTMAP_WALK_CACHED | GUESTMAP_WALK_AMD | GUESTMAP_WALK_GBPAGES | \
			 GUESTMAP_WALK_EXECONLY)

enum kind {
	K_FILLER,	/* the arena's PROT_NONE reservation */
	K_ANON,
	K_MEMFD_SH,
	K_MEMFD_PRIV,
	K_RESERVED,	/* /dev/mem of memmap=$ RAM: PFNMAP, PG_reserved */
	K_HIDDEN,	/* /dev/mem of RAM above mem=: PFNMAP, no struct page */
	K_PMEM,		/* /dev/mem of pmem: PFNMAP, refcounted ZONE_DEVICE */
};

static bool is_devmem(int kind)
{
	return kind >= K_RESERVED;
}

enum cmd {
	C_VERSION, C_MEMSLOT, C_FAULT, C_STATS, C_QUERY, C_READ, C_WRITE,
	C_CLASSIFY, C_ACCESS, C_BENCH, C_WALK, NR_CMDS
};

static const unsigned int cmd_nr[NR_CMDS] = {
	GUESTMAP_GET_API_VERSION, GUESTMAP_SET_MEMSLOT, GUESTMAP_MIRROR_FAULT,
	GUESTMAP_GET_STATS, GUESTMAP_QUERY, GUESTMAP_READ_GUEST,
	GUESTMAP_WRITE_GUEST, GUESTMAP_CLASSIFY, GUESTMAP_ACCESS,
	GUESTMAP_BENCH, GUESTMAP_WALK,
};

/* What a call does: a command, or for ACCESS its op. */
enum op {
	OP_VERSION, OP_MEMSLOT, OP_FAULT, OP_STATS, OP_QUERY, OP_READ,
	OP_WRITE, OP_CLASSIFY, OP_MAP_READ, OP_MAP_WRITE, OP_ACC_READ,
	OP_ACC_WRITE, OP_CMPXCHG, OP_CACHE_READ, OP_CACHE_WRITE, OP_ACC_BAD,
	OP_BENCH, OP_WALK, OP_UNKNOWN, NR_OPS
};

static const char * const op_name[NR_OPS] = {
	"GET_API_VERSION", "SET_MEMSLOT", "MIRROR_FAULT", "GET_STATS",
	"QUERY", "READ_GUEST", "WRITE_GUEST", "CLASSIFY", "ACCESS/MAP_READ",
	"ACCESS/MAP_WRITE", "ACCESS/READ", "ACCESS/WRITE", "ACCESS/CMPXCHG",
	"ACCESS/CACHE_READ", "ACCESS/CACHE_WRITE", "ACCESS/bad op", "BENCH",
	"WALK", "unknown number",
};

static const signed char op_cmd[NR_OPS] = {
	C_VERSION, C_MEMSLOT, C_FAULT, C_STATS, C_QUERY, C_READ, C_WRITE,
	C_CLASSIFY, C_ACCESS, C_ACCESS, C_ACCESS, C_ACCESS, C_ACCESS,
	C_ACCESS, C_ACCESS, C_ACCESS, C_BENCH, C_WALK, -1,
};

/* How often each is picked: the access paths most. */
static const unsigned int op_weight[NR_OPS] = {
	2, 14, 8, 2, 5, 9, 9, 4, 5, 5, 4, 4, 4, 6, 5, 1, 3, 8, 6,
};

/* GUESTMAP_ACCESS_* of the ACCESS ops, in enum op order from MAP_READ. */
static const unsigned int acc_code[] = {
	GUESTMAP_ACCESS_MAP_READ, GUESTMAP_ACCESS_MAP_WRITE,
	GUESTMAP_ACCESS_READ, GUESTMAP_ACCESS_WRITE, GUESTMAP_ACCESS_CMPXCHG,
	GUESTMAP_ACCESS_CACHE_READ, GUESTMAP_ACCESS_CACHE_WRITE,
};

static enum op access_kind(uint32_t code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(acc_code); i++)
		if (acc_code[i] == code)
			return OP_MAP_READ + i;
	return OP_ACC_BAD;
}

static bool writes_guest(enum op op)
{
	return op == OP_WRITE || op == OP_MAP_WRITE || op == OP_ACC_WRITE ||
	       op == OP_CMPXCHG || op == OP_CACHE_WRITE;
}

static bool one_page_op(enum op op)
{
	return op == OP_MAP_READ || op == OP_MAP_WRITE ||
	       op == OP_CACHE_READ || op == OP_CACHE_WRITE;
}

/* ioctl types the VFS handles itself (fs/ioctl.c), never the driver. */
static const unsigned int vfs_types[] = { 0x00, 0x15, 'T', 'X', 'f', 0x94 };

enum event {
	EV_MUNMAP, EV_MMAP, EV_MPROTECT, EV_DONTNEED, EV_FREE, EV_MREMAP,
	EV_TOUCH, EV_THP, NR_EVENTS
};

static const char * const ev_name[NR_EVENTS] = {
	"munmap", "mmap", "mprotect", "MADV_DONTNEED", "MADV_FREE", "mremap",
	"touch", "MADV_(NO)HUGEPAGE",
};

/* Where a call's argument pointer points. */
enum argcls {
	ARG_GOOD, ARG_RO, ARG_STRADDLE, ARG_NULL, ARG_KERNEL, ARG_LOW,
	ARG_NONCANON,
};

static const char * const arg_name[] = {
	"good", "read-only", "straddling a guard page", "NULL", "kernel",
	"unmapped", "non-canonical",
};

union args {
	struct guestmap_api_version v;
	struct guestmap_memslot m;
	struct guestmap_fault f;
	struct guestmap_stats s;
	struct guestmap_query q;
	struct guestmap_rw rw;
	struct guestmap_classify c;
	struct guestmap_access a;
	struct guestmap_bench b;
	struct guestmap_walk wk;
	uint8_t raw[160];
};

struct call {
	enum op op;
	int cmd;		/* enum cmd, -1 for an unknown number */
	unsigned int nr;
	size_t size;		/* of the argument the number names */
	enum argcls argcls;
	unsigned int mis;	/* misalignment of a good argument */
	unsigned int cut;	/* bytes before the guard page */
	bool garbage;		/* argument fields random */
	uint64_t argp;
	union args in, out;
	uint64_t allowed;	/* OK and B(errno) */
	char why[160];		/* why success is not allowed */
	char cause[64];		/* the kind of reason, for grouping failures */
	int ret, err;
};

struct mslot {
	bool used, fixed;
	uint32_t flags;
	uint64_t gpa, size, hva;
};

struct tally {
	uint64_t calls[NR_OPS];
	uint64_t res[NR_OPS][NERRNO];	/* [0]: success */
	double secs[NR_OPS];		/* in the kernel, or near */
	double ev_secs, check_secs;	/* memory events, census and model */
	double ev_time[NR_EVENTS];
	uint64_t events[NR_EVENTS];
	uint64_t child_calls, forks, fork_errors, signals;
	uint64_t walk_faults[WK_NFAULTS];	/* GUESTMAP_WALK's answers */
	uint64_t walk_chains;		/* walks through tables it wrote */
};

/* One fuzzing actor: the single thread, one of the threads, or main. */
struct world {
	char name[16];
	int tid;		/* -1: single_thread */
	bool mt;		/* other threads use the context too */
	bool child;		/* in a forked child: every call gets EIO */
	int fd;
	uint64_t rng;
	int id_lo, id_hi;	/* slot ids this world creates and deletes */
	int win_lo, win_hi;	/* windows whose memory this world changes */
	uint64_t zone_lo, zone_hi;	/* gpas only this world uses */
	uint64_t bases[24];
	int nbases;
	uint64_t hist[8];	/* gpas of slots lately created or deleted */
	unsigned int nhist;
	struct mslot slot[NSLOTS];
	char *scratch, *argpg, *in, *out, *ro;
	size_t scratch_len;
	int memfd, devfd;
	/* /dev/mem ranges of K_RESERVED, K_HIDDEN, K_PMEM: our part, all */
	uint64_t dev_phys[3], dev_pages[3], dev_lo[3], dev_hi[3];
	char *maps;
	uint8_t *tmp;
	struct {			/* failures by call, message and cause */
		int op;
		const char *fmt;
		char cause[64];
		uint64_t n;
	} fk[NKINDS];
	unsigned int nfk;
	uint64_t shown;
	struct guestmap_stats last;
	bool have_last;
	bool done;
	uint64_t iter, ncalls, budget, fails, sink;
	uint64_t bad;		/* the page uaccess() found inaccessible */
	uint64_t first_wrong;	/* sync_maps(): page, model and kernel state */
	double deadline, start;
	struct tally t;
};

static uint64_t opt_seed = 1;
static uint64_t opt_count = 200000;
static double opt_seconds = 60;
static bool opt_trace;
static bool opt_devdax;
static FILE *trace_file;
static uint32_t opt_exclude;

static char *arena;
static uint8_t pst[ARENA_PAGES];
static uint64_t task_size;
static struct mslot fixed_slot[NFIXED];
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread unsigned long sigs_seen;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: small, and the same sequence everywhere. */
static uint64_t rnd(struct world *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct world *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

static bool chance(struct world *w, unsigned int percent)
{
	return below(w, 100) < percent;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static const char *errname(int e)
{
	const char *s = e ? strerrorname_np(e) : "ok";

	return s ? s : "E?";
}

/* Output from any thread, or from a forked child, in one piece. */
static void emit(struct world *w, const char *s)
{
	if (w->child) {
		if (write(1, s, strlen(s)) < 0)
			_exit(2);
		return;
	}
	pthread_mutex_lock(&print_lock);
	fputs(s, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

/* --- The arena and its model ------------------------------------------ */

static uint64_t arena_lo(void)
{
	return (uintptr_t)arena;
}

static bool in_arena(uint64_t a)
{
	return a >= arena_lo() && a < arena_lo() + ARENA_SIZE;
}

static uint8_t *ps(uint64_t a)
{
	return &pst[(a - arena_lo()) / PAGE];
}

static uint64_t win_addr(int win)
{
	return arena_lo() + win * WIN_SIZE;
}

static void set_state(uint64_t a, uint64_t len, uint8_t st)
{
	memset(ps(a), st, len / PAGE);
}

static int arena_init(void)
{
	char *p = mmap(NULL, ARENA_SIZE + WIN_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	/* The slack stays reserved: the arena's neighbours are PROT_NONE. */
	arena = (char *)(((uintptr_t)p + WIN_SIZE - 1) & ~(WIN_SIZE - 1));
	memset(pst, PS(K_FILLER, 0), sizeof(pst));
	/*
	 * Splitting and zeroing huge pages is slow in the debug kernel:
	 * memory gets THP only where an event asks for it.  The flag is
	 * per vma, so new mappings start without it again.
	 */
	madvise(arena, ARENA_SIZE, MADV_NOHUGEPAGE);
	/*
	 * The user address space ends at 2^47 - 4096 with 4-level paging and
	 * 2^56 - 4096 with 5-level: a hint above 2^47 is honoured only then.
	 */
	p = mmap((void *)(1UL << 52), PAGE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	task_size = (p != MAP_FAILED && (uintptr_t)p >= USER_TOP) ?
		    (1ULL << 56) - PAGE : USER_TOP - PAGE;
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	return 0;
}

/* The windows @w changes: [lo, hi). */
static uint64_t own_lo(struct world *w)
{
	return win_addr(w->win_lo);
}

static uint64_t own_hi(struct world *w)
{
	return win_addr(w->win_hi);
}

static bool in_own(struct world *w, uint64_t a, uint64_t len)
{
	return a >= own_lo(w) && a + len <= own_hi(w) && a + len >= a;
}

/* Only the fixed windows and its own are known to a thread. */
static bool known_window(struct world *w, uint64_t a)
{
	if (!w->mt)
		return true;
	return (a >= own_lo(w) && a < own_hi(w)) ||
	       (a >= win_addr(0) && a < win_addr(NFIXED));
}

/* Which /dev/mem range the physical address @off is in. */
static int devmem_kind(struct world *w, uint64_t off)
{
	int i;

	for (i = 0; i < 3; i++)
		if (off >= w->dev_lo[i] && off < w->dev_hi[i])
			return K_RESERVED + i;
	return K_RESERVED;
}

/*
 * Reads /proc/self/maps over [lo, hi) of the arena into w->tmp: the
 * kernel is the authority after a call that may have done half its work
 * (mprotect over a hole, mremap across vmas).  Returns the number of
 * pages whose mapping or protection the model got wrong, and with @fix
 * takes the kernel's word for them.
 */
static int sync_maps(struct world *w, uint64_t lo, uint64_t hi, bool fix)
{
	size_t len = 0, first = (lo - arena_lo()) / PAGE;
	size_t n = (hi - lo) / PAGE, i;
	char *line, *end;
	ssize_t r;
	int fd, wrong = 0;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < MAPS_BUF - 1) {
		r = read(fd, w->maps + len, MAPS_BUF - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	w->maps[len] = 0;
	memset(w->tmp, 0, n);
	for (line = w->maps; line < w->maps + len; line = end + 1) {
		unsigned long s, e, off;
		char perms[8];
		int pos = 0, kind;
		uint64_t a;

		end = strchr(line, '\n');
		if (!end)
			break;
		*end = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &s, &e, perms,
			   &off, &pos) < 4 || e <= lo || s >= hi)
			continue;
		if (strstr(line + pos, "/dev/mem"))
			kind = devmem_kind(w, off);
		else if (strstr(line + pos, "memfd:"))
			kind = perms[3] == 's' ? K_MEMFD_SH : K_MEMFD_PRIV;
		else
			kind = K_ANON;
		for (a = s > lo ? s : lo; a < e && a < hi; a += PAGE)
			w->tmp[(a - lo) / PAGE] =
				PS(kind, (perms[0] == 'r' ? PS_R : 0) |
					 (perms[1] == 'w' ? PS_W : 0));
	}
	for (i = 0; i < n; i++) {
		uint8_t m = pst[first + i], k = w->tmp[i];
		uint8_t bits = PS_MAPPED | PS_R | PS_W;

		if (!(m & PS_UNKNOWN) && ((m ^ k) & bits) && !wrong++)
			w->first_wrong = (lo + i * PAGE) | ((uint64_t)m << 48) |
					 ((uint64_t)k << 56);
		/* The kind of a mapping the model knows is more precise. */
		if (fix && ((m & PS_UNKNOWN) || ((m ^ k) & bits)))
			pst[first + i] = k;
	}
	return wrong;
}

/* --- What user space may touch ----------------------------------------- */

/* Layout of a world's scratch: every region followed by a guard page. */
#define SC_ARG		0
#define SC_IN		(2 * PAGE)
#define SC_OUT		(SC_IN + BIG + PAGE)
#define SC_RO		(SC_OUT + BIG + PAGE)
#define SC_LEN		(SC_RO + BIG + PAGE)

static int scratch_prot(struct world *w, uint64_t a)
{
	uint64_t off = a - (uintptr_t)w->scratch;

	if (off < PAGE)
		return PS_R | PS_W;
	if (off >= SC_IN && off < SC_IN + BIG)
		return PS_R | PS_W;
	if (off >= SC_OUT && off < SC_OUT + BIG)
		return PS_R | PS_W;
	if (off >= SC_RO && off < SC_RO + BIG)
		return PS_R;
	return 0;
}

/* PS_R | PS_W bits of the page at @a, or -1 if this world cannot know. */
static int page_prot(struct world *w, uint64_t a)
{
	uint8_t s;

	if (a < LOW_LIMIT || a >= USER_TOP)
		return 0;
	if (in_arena(a)) {
		if (!known_window(w, a))
			return -1;
		s = *ps(a);
		if (s & PS_UNKNOWN)
			return -1;
		return (s & PS_MAPPED) ? s & (PS_R | PS_W) : 0;
	}
	if (a >= (uintptr_t)w->scratch && a < (uintptr_t)w->scratch + w->scratch_len)
		return scratch_prot(w, a);
	return -1;
}

static int page_kind(struct world *w, uint64_t a)
{
	if (!in_arena(a) || !known_window(w, a) || (*ps(a) & PS_UNKNOWN))
		return -1;
	return PS_KIND(*ps(a));
}

/*
 * Whether @len bytes at @p can be read (or written) in full: 1 yes, 0 no
 * (EFAULT is certain), -1 unknown.  Callers keep @len bounded by a slot
 * or by GUESTMAP_RW_MAX.
 */
static int uaccess(struct world *w, uint64_t p, uint64_t len, bool write)
{
	uint64_t a, end = p + len;
	int res = 1, prot;

	if (!len)
		return 1;
	if (end < p)
		return 0;
	for (a = p & ~(PAGE - 1); a < end; a += PAGE) {
		prot = page_prot(w, a);
		if (prot < 0) {
			res = -1;
		} else if (!(prot & (write ? PS_W : PS_R))) {
			w->bad = a < p ? p : a;
			return 0;
		}
	}
	return res;
}

/* Whether bytes at @p are this world's to compare: known and stable. */
static bool data_known(struct world *w, uint64_t p, uint64_t len)
{
	if (w->mt && !in_own(w, p, len))
		return false;
	return in_arena(p) && uaccess(w, p, len, false) == 1;
}

static bool in_scratch_data(struct world *w, uint64_t p, uint64_t len)
{
	uint64_t off = p - (uintptr_t)w->scratch;

	return p >= (uintptr_t)w->scratch &&
	       ((off >= SC_IN && off + len <= SC_IN + BIG) ||
		(off >= SC_OUT && off + len <= SC_OUT + BIG) ||
		(off >= SC_RO && off + len <= SC_RO + BIG));
}

/* A pointer as the failure reports show it. */
static const char *pname(struct world *w, uint64_t p, char *b, size_t n)
{
	static const char * const region[] = { "arg", "in", "out", "ro" };
	static const uint64_t at[] = { SC_ARG, SC_IN, SC_OUT, SC_RO };
	uint64_t off = p - (uintptr_t)w->scratch;
	int i;

	if (in_arena(p)) {
		snprintf(b, n, "A+%#" PRIx64, p - arena_lo());
		return b;
	}
	if (p >= (uintptr_t)w->scratch && off < SC_LEN) {
		for (i = 3; i > 0 && off < at[i]; i--)
			;
		snprintf(b, n, "%s+%#" PRIx64, region[i], off - at[i]);
		return b;
	}
	snprintf(b, n, "%#" PRIx64, p);
	return b;
}

/* --- The slot model ---------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t a_last, uint64_t b, uint64_t b_last)
{
	return a <= b_last && b <= a_last;
}

/*
 * The slot holding the guest bytes [gpa, last]: 1 found, 0 certainly
 * none, -1 unknown (another thread's slot may hold them).
 */
static int lookup(struct world *w, uint64_t gpa, uint64_t last,
		  struct mslot **sp)
{
	struct mslot *s;
	int i;

	for (i = 0; i < NSLOTS; i++) {
		s = &w->slot[i];
		if (s->used && gpa >= s->gpa && last <= s->gpa + s->size - 1) {
			*sp = s;
			return 1;
		}
	}
	if (!w->mt)
		return 0;
	/* Other threads never create slots at our gpas, nor at the fixed. */
	if (overlaps(gpa, last, w->zone_lo, w->zone_hi - 1) ||
	    overlaps(gpa, last, 0, ZONE - 1))
		return 0;
	for (i = 0; i < NSLOTS; i++) {
		s = &w->slot[i];
		if (s->used && overlaps(gpa, last, s->gpa, s->gpa + s->size - 1))
			return 0;
	}
	return -1;
}

static bool own_id(struct world *w, uint32_t id)
{
	return id >= (uint32_t)w->id_lo && id < (uint32_t)w->id_hi;
}

static void hist_add(struct world *w, uint64_t gpa)
{
	w->hist[w->nhist++ % ARRAY_SIZE(w->hist)] = gpa;
}

/* A random slot this world knows, or NULL. */
static struct mslot *any_slot(struct world *w)
{
	int ids[NSLOTS], n = 0, i;

	for (i = 0; i < NSLOTS; i++)
		if (w->slot[i].used)
			ids[n++] = i;
	return n ? &w->slot[ids[below(w, n)]] : NULL;
}

/* --- Generators -------------------------------------------------------- */

static uint64_t wild_gpa(struct world *w)
{
	switch (below(w, 5)) {
	case 0:
		return GPA_LIMIT - 1 - below(w, 4 * PAGE);
	case 1:
		return GPA_LIMIT + below(w, 4 * PAGE);
	case 2:
		return ~0ULL - below(w, 4 * PAGE);
	case 3:
		return rnd(w) & (GPA_LIMIT - 1);
	default:
		return rnd(w);
	}
}

/*
 * Threads keep out of each other's gpas: only the thread whose gpas they
 * are touches its slots' memory there, so it alone may compare data.
 */
static uint64_t mt_gpa(struct world *w, uint64_t gpa)
{
	if (w->mt && gpa >= ZONE && gpa < SHARED_ZONE &&
	    !(gpa >= w->zone_lo && gpa < w->zone_hi))
		gpa = w->zone_lo + (gpa & (ZONE - 1));
	return gpa;
}

/* Whether guest bytes [gpa, last] are this world's alone. */
static bool own_gpas(struct world *w, uint64_t gpa, uint64_t last)
{
	return !w->mt || (gpa >= w->zone_lo && last < w->zone_hi && last >= gpa);
}

/* A guest address: mostly in or near a slot, sometimes anywhere. */
static uint64_t gen_gpa(struct world *w)
{
	struct mslot *s = any_slot(w);
	uint64_t r = below(w, 100);

	if (s && r < 65) {
		switch (below(w, 4)) {
		case 0:
			return s->gpa + s->size - 1 - below(w, min64(64, s->size));
		case 1:
			return s->gpa + below(w, 64);
		default:
			return s->gpa + below(w, s->size);
		}
	}
	if (w->nhist && r < 75)
		return w->hist[below(w, min64(w->nhist, ARRAY_SIZE(w->hist)))] +
		       below(w, 4 * PAGE);
	if (r < 92)
		return w->bases[below(w, w->nbases)] + below(w, 2 * WIN_SIZE);
	return mt_gpa(w, wild_gpa(w));
}

static uint64_t gen_len(struct world *w, uint64_t gpa)
{
	switch (below(w, 80)) {
	case 0 ... 1:
		return 0;
	case 2 ... 3:
		return RW_MAX + below(w, 2);	/* the limit, and one past */
	case 4 ... 5:
		return rnd(w);
	case 6:
		return 1 + below(w, RW_MAX);	/* slow: rarely */
	case 7 ... 15:
		return PAGE - (gpa & (PAGE - 1));	/* to the page's end */
	case 16 ... 23:
		return 1 + below(w, 64 * PAGE);
	case 24 ... 51:
		return 1 + below(w, 3 * PAGE);
	default:
		return 1 + below(w, 64);
	}
}

/* A page-aligned address in the windows this world may use. */
static uint64_t own_page(struct world *w)
{
	return own_lo(w) + below(w, (own_hi(w) - own_lo(w)) / PAGE) * PAGE;
}

/*
 * A user buffer for @len bytes, which the kernel reads (@src) or writes:
 * mostly good, sometimes NULL, unmapped, kernel, read-only, cut short by
 * a guard page, or guest memory itself.
 */
static uint64_t gen_buf(struct world *w, uint64_t len, bool src)
{
	char *good = src ? w->in : w->out;
	uint64_t l = min64(len, BIG);

	switch (below(w, 50)) {
	case 0:
		return 0;
	case 1:
		return PAGE + below(w, LOW_LIMIT - 2 * PAGE);
	case 2:
		return KERNEL_ADDR + below(w, 1ULL << 30);
	case 3:
		return chance(w, 50) ? USER_TOP + below(w, PAGE) :
				       0x8000000000000000ULL ^ rnd(w);
	case 4 ... 6:
		return (uintptr_t)good + BIG - 1 - below(w, l ? l : 1);
	case 7 ... 8:
		return (uintptr_t)w->ro + below(w, 16);
	case 9 ... 11:
		return own_page(w) + below(w, PAGE);
	default:
		return (uintptr_t)good + (chance(w, 30) ? below(w, 16) : 0);
	}
}

static uint32_t gen_cache(struct world *w)
{
	if (chance(w, 94))
		return below(w, GUESTMAP_NR_CACHES);
	return chance(w, 50) ? GUESTMAP_NR_CACHES + below(w, 8) : rnd(w);
}

/* A pointer random bytes made safe: the kernel may write through it. */
static uint64_t safe_ptr(struct world *w, uint64_t p)
{
	if (p < LOW_LIMIT || p >= USER_TOP || in_own(w, p, 1))
		return p;
	return p & (LOW_LIMIT - 1);
}

/*
 * Memory a slot may map: guest writes go there, so never memory of this
 * process outside the arena.  Returns whether [hva, hva + size) is so.
 */
static bool user_range_safe(struct world *w, const struct guestmap_memslot *m)
{
	uint64_t hva = m->userspace_addr, end = hva + m->memory_size;

	if (end <= LOW_LIMIT || hva >= USER_TOP)
		return true;	/* nothing is mapped there */
	if (in_own(w, hva, m->memory_size))
		return true;
	if (w->mt && hva >= win_addr(0) && end <= win_addr(NFIXED))
		return true;
	/* Guest reads of other memory are harmless; writes are refused. */
	return (m->flags & GUESTMAP_MEM_READONLY) && in_own(w, hva, 1) &&
	       m->memory_size <= RO_BIG_PAGES * PAGE;
}

static bool overlaps_fixed(uint64_t gpa, uint64_t last)
{
	int i;

	for (i = 0; i < NFIXED; i++)
		if (fixed_slot[i].used &&
		    overlaps(gpa, last, fixed_slot[i].gpa,
			     fixed_slot[i].gpa + fixed_slot[i].size - 1))
			return true;
	return false;
}

static void sanitize_memslot(struct world *w, struct guestmap_memslot *m)
{
	uint64_t gpa = m->guest_phys_addr, size = m->memory_size;
	uint64_t uend = m->userspace_addr + size, gend = gpa + size;

	if (!size) {
		/* Only this world's slots are its to delete. */
		if (w->mt && m->slot < NSLOTS && !own_id(w, m->slot))
			m->slot = NSLOTS + below(w, 64);
		return;
	}
	if (w->mt && m->slot < NSLOTS && !own_id(w, m->slot) &&
	    m->slot >= NFIXED)
		m->slot = w->id_lo + below(w, w->id_hi - w->id_lo);
	if ((gpa | size | m->userspace_addr) & (PAGE - 1) || uend < size ||
	    uend > task_size)
		return;		/* refused whatever the memory */
	if (!user_range_safe(w, m))
		m->memory_size = 1ULL << 57;	/* past the user range */
	/* A thread creates slots at its own gpas or at the shared ones. */
	if (w->mt && gend > gpa && gpa < SHARED_ZONE &&
	    !(gpa >= w->zone_lo && gend <= w->zone_hi) &&
	    !overlaps_fixed(gpa, gend - 1))
		m->guest_phys_addr = SHARED_ZONE + (gpa & (ZONE - 1));
	/*
	 * A slot at shared gpas maps this thread's memory for every thread:
	 * read-only, or another thread's write through it would change the
	 * data this thread compares, at its own gpas, in any interleaving.
	 */
	if (w->mt && !own_gpas(w, m->guest_phys_addr, m->guest_phys_addr + size - 1))
		m->flags |= GUESTMAP_MEM_READONLY;
}

static void gen_memslot(struct world *w, struct guestmap_memslot *m)
{
	int nids = w->id_hi - w->id_lo, used = 0, i, free_ids[NSLOTS], nfree = 0;
	struct mslot *s;
	uint64_t npages, hi, r;

	for (i = w->id_lo; i < w->id_hi; i++) {
		if (w->slot[i].used)
			used++;
		else
			free_ids[nfree++] = i;
	}
	memset(m, 0, sizeof(*m));
	if (nids && below(w, nids + 2) < (uint64_t)used) {
		/* Delete, mostly a slot that exists. */
		do {
			m->slot = w->id_lo + below(w, nids);
		} while (!w->slot[m->slot].used && chance(w, 85));
		if (chance(w, 4))
			m->slot = NSLOTS + below(w, 1000);
		if (chance(w, 15)) {
			m->guest_phys_addr = rnd(w);
			m->userspace_addr = rnd(w);
			m->flags = chance(w, 30) ? rnd(w) : 0;
		}
		return;
	}
	/* Create. */
	if (nfree && chance(w, 85))
		m->slot = free_ids[below(w, nfree)];
	else if (nids && chance(w, 90))
		m->slot = w->id_lo + below(w, nids);
	else
		m->slot = chance(w, 50) ? below(w, NSLOTS + 8) : rnd(w);
	m->flags = chance(w, 70) ? 0 : GUESTMAP_MEM_READONLY;
	if (chance(w, 3))
		m->flags = rnd(w);
	switch (below(w, 20)) {
	case 0 ... 9:
		npages = 1 + below(w, 16);
		break;
	case 10 ... 15:
		npages = 1 + below(w, 128);
		break;
	default:
		npages = 1 + below(w, 2 * WIN_PAGES);
		break;
	}
	if ((m->flags & GUESTMAP_MEM_READONLY) && chance(w, 5))
		npages = 1 + below(w, RO_BIG_PAGES);
	m->memory_size = npages * PAGE;
	s = any_slot(w);
	r = below(w, 20);
	if (r < 6 && w->nhist)		/* again where a slot was: new memory */
		m->guest_phys_addr =
			w->hist[below(w, min64(w->nhist, ARRAY_SIZE(w->hist)))];
	else if (r < 14)
		m->guest_phys_addr = w->bases[below(w, w->nbases)] +
				     below(w, WIN_PAGES) * PAGE;
	else if (r < 17 && s)		/* overlapping a slot */
		m->guest_phys_addr = s->gpa + below(w, s->size / PAGE) * PAGE;
	else if (r < 19)		/* at the end of the guest address space */
		m->guest_phys_addr = GPA_LIMIT - m->memory_size +
				     (below(w, 5) - 2) * PAGE;
	else
		m->guest_phys_addr = wild_gpa(w);
	r = below(w, 40);
	if (r == 0) {
		m->userspace_addr = below(w, LOW_LIMIT / PAGE) * PAGE;
	} else if (r == 1) {
		m->userspace_addr = own_page(w) + 1 + below(w, PAGE - 1);
	} else if (r == 2) {
		m->userspace_addr = task_size - below(w, 4) * PAGE;
	} else if (r == 3) {
		m->userspace_addr = chance(w, 50) ? KERNEL_ADDR : rnd(w);
	} else if (r == 4 && w->mt) {	/* the fixed windows: aliases */
		m->userspace_addr = win_addr(below(w, NFIXED)) +
				    below(w, WIN_PAGES / 2) * PAGE;
		m->memory_size = min64(m->memory_size, WIN_SIZE / 2);
	} else {
		m->userspace_addr = own_page(w);
		hi = own_hi(w);
		/* Most stay within the arena; some READONLY ones reach past. */
		if (m->userspace_addr + m->memory_size > hi &&
		    (!(m->flags & GUESTMAP_MEM_READONLY) || chance(w, 50)))
			m->memory_size = hi - m->userspace_addr;
	}
	if (chance(w, 3))
		m->memory_size |= 1 + below(w, PAGE - 1);
	if (chance(w, 2))
		m->memory_size = rnd(w);
}

static void gen_fault(struct world *w, struct guestmap_fault *f)
{
	struct mslot *s;
	uint64_t r;

	f->gpa = gen_gpa(w);
	if (chance(w, 92))
		f->gpa &= ~(PAGE - 1);
	r = below(w, 20);
	if (r == 0)
		f->size = 0;
	else if (r == 1)
		f->size = rnd(w);
	else if (r == 2)
		f->size = 1 + below(w, 16 * PAGE);
	else if (r < 6 && lookup(w, f->gpa, f->gpa, &s) == 1)
		f->size = s->gpa + s->size - f->gpa;	/* to the slot's end */
	else
		f->size = (1 + below(w, 16)) * PAGE;
	f->flags = chance(w, 50) ? GUESTMAP_FAULT_WRITE : 0;
	if (chance(w, 3))
		f->flags = rnd(w);
	f->pad = chance(w, 97) ? 0 : rnd(w);
}

/* A user address to classify. */
static uint64_t gen_addr(struct world *w)
{
	struct mslot *s = any_slot(w);
	uint64_t r = below(w, 20);

	if (r == 0)
		return 0;
	if (r == 1)
		return KERNEL_ADDR + below(w, 1ULL << 30);
	if (r == 2)
		return below(w, LOW_LIMIT);
	if (r == 3)
		return rnd(w);
	if (r < 6)
		return (uintptr_t)w->scratch + below(w, SC_LEN);
	if (r < 11 && s)
		return s->hva + below(w, s->size);
	return own_page(w) + below(w, PAGE);
}

static void gen_access(struct world *w, struct call *c)
{
	struct guestmap_access *a = &c->in.a;
	enum op op = c->op;
	struct mslot *s;
	uint64_t hva;

	a->gpa = gen_gpa(w);
	a->op = op == OP_ACC_BAD ? (chance(w, 50) ? below(w, 16) : rnd(w)) :
		acc_code[op - OP_MAP_READ];
	if (op == OP_CMPXCHG) {
		if (chance(w, 92))
			a->gpa &= ~7ULL;
		a->len = chance(w, 94) ? 8 : gen_len(w, a->gpa);
	} else if (one_page_op(op) && chance(w, 85)) {
		a->len = 1 + below(w, PAGE - (a->gpa & (PAGE - 1)));
	} else {
		a->len = gen_len(w, a->gpa);
	}
	a->buf = gen_buf(w, a->len, writes_guest(op));
	a->flags = chance(w, 50) ? GUESTMAP_ACCESS_DIRTY : 0;
	if (chance(w, 3))
		a->flags = rnd(w);
	a->cache = gen_cache(w);
	a->via = rnd(w);
	a->new = rnd(w);
	a->old = rnd(w);
	/* Half the cmpxchgs expect the value that is there, to succeed. */
	if (op == OP_CMPXCHG && chance(w, 50) &&
	    lookup(w, a->gpa, a->gpa + 7, &s) == 1) {
		hva = s->hva + (a->gpa - s->gpa);
		if (data_known(w, hva, 8))
			memcpy(&a->old, (void *)hva, 8);
	}
}

static void gen_bench(struct world *w, struct guestmap_bench *b)
{
	b->gpa = gen_gpa(w);
	if (chance(w, 85))
		b->gpa = (b->gpa & ~(PAGE - 1)) + below(w, PAGE / 8) * 8;
	b->op = chance(w, 50) ? GUESTMAP_ACCESS_MAP_READ :
				GUESTMAP_ACCESS_CACHE_READ;
	if ((opt_exclude & (1U << OP_CACHE_READ)) ||
	    (opt_exclude & (1U << OP_MAP_READ)))
		b->op = (opt_exclude & (1U << OP_CACHE_READ)) ?
			GUESTMAP_ACCESS_MAP_READ : GUESTMAP_ACCESS_CACHE_READ;
	if (chance(w, 8))
		b->op = below(w, 10);
	b->cache = gen_cache(w);
	switch (below(w, 20)) {
	case 0:
		b->iterations = 0;
		break;
	case 1:
		b->iterations = (1ULL << 24) + 1 + below(w, 100);
		break;
	case 2:
		b->iterations = rnd(w) | (1ULL << 40);
		break;
	default:
		b->iterations = 1 + below(w, 16);	/* loops cost time */
		break;
	}
	b->ns = rnd(w);
}

/* The levels of the walk @k asks for: EPT has 4, paging 4 or 5. */
static unsigned int walk_levels(const struct guestmap_walk *k)
{
	if (k->format == GUESTMAP_WALK_EPT)
		return 4;
	return (k->cr4 & WK_CR4_LA57) ? 5 : 4;
}

/* The table address bits of a root: 12 up to MAXPHYADDR (32 to 52). */
static uint64_t walk_pa(const struct guestmap_walk *k)
{
	return ((1ULL << k->maxphyaddr) - 1) & ~(PAGE - 1);
}

/* Whether @k's address is canonical (NPT and EPT take any gpa). */
static bool walk_canonical(const struct guestmap_walk *k)
{
	unsigned int shift = 64 - (12 + 9 * walk_levels(k));

	if (k->format != GUESTMAP_WALK_LONG)
		return true;
	return (uint64_t)((int64_t)(k->addr << shift) >> shift) == k->addr;
}

/* The index of @addr's entry in a table of @level. */
static uint64_t walk_index(uint64_t addr, int level)
{
	return (addr >> (12 + 9 * (level - 1))) & 511;
}

static unsigned int bit_len(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/*
 * Tables for @k that lead somewhere: every level's entry for @addr,
 * written by user space into the root's page (each level's table is that
 * page again), down to a random leaf.  Only where this world alone writes
 * and may write.  The walks take NO_AD: the kernel never writes them.
 */
static bool walk_chain(struct world *w, struct guestmap_walk *k)
{
	bool ept = k->format == GUESTMAP_WALK_EPT;
	uint64_t table = k->root & walk_pa(k), hva, target, e, perm;
	int levels = walk_levels(k), leaf, l;
	struct mslot *s;

	if (w->child || lookup(w, table, table + PAGE - 1, &s) != 1 ||
	    !own_gpas(w, table, table + PAGE - 1))
		return false;
	hva = s->hva + (table - s->gpa);
	if (!in_arena(hva) || (w->mt && !in_own(w, hva, PAGE)) ||
	    page_prot(w, hva) != (PS_R | PS_W))
		return false;
	leaf = chance(w, 70) ? 1 : chance(w, 70) ? 2 : 3;
	target = chance(w, 70) ? gen_gpa(w) : rnd(w);
	target &= walk_pa(k) & ~((PAGE << (9 * (leaf - 1))) - 1);
	for (l = levels; l >= leaf; l--) {
		if (ept) {
			perm = chance(w, 85) ? WK_EPT_RWX : below(w, 8);
			if (l == leaf)
				perm |= WK_EPT_WB;
		} else {
			perm = WK_PTE_RW;
			if (chance(w, 15))
				perm &= ~2ULL;		/* read-only */
			if (chance(w, 15))
				perm &= ~4ULL;		/* supervisor */
			if (chance(w, 10))
				perm |= WK_NX;
			if (chance(w, 3))
				perm &= ~1ULL;		/* not present */
		}
		if (l == leaf && l > 1)
			perm |= WK_PS;
		e = (l == leaf ? target : table) | perm;
		memcpy((void *)(hva + walk_index(k->addr, l) * 8), &e, 8);
	}
	return true;
}

/*
 * A walk: mostly a valid request whose root is in a slot, sometimes
 * through tables just written; a few requests are invalid on purpose.
 * Every valid one takes NO_AD, so that no walk writes guest memory.
 */
static void gen_walk(struct world *w, struct call *c)
{
	static const uint32_t accesses[] = {
		0, GUESTMAP_WALK_WRITE, GUESTMAP_WALK_FETCH, GUESTMAP_WALK_USER,
		GUESTMAP_WALK_USER | GUESTMAP_WALK_WRITE,
		GUESTMAP_WALK_USER | GUESTMAP_WALK_FETCH,
	};
	struct guestmap_walk *k = &c->in.wk;
	struct mslot *s = any_slot(w);
	uint64_t r = below(w, 100), root, mask;
	unsigned int min, va;
	bool ept, chain;

	/* The outputs: whatever the kernel leaves unwritten stays 0xa5. */
	memset(k, 0xa5, sizeof(*k));
	k->format = r < 50 ? GUESTMAP_WALK_LONG : r < 70 ? GUESTMAP_WALK_NPT :
		    GUESTMAP_WALK_EPT;
	ept = k->format == GUESTMAP_WALK_EPT;
	r = below(w, 100);
	if (s && r < 80)
		root = s->gpa + below(w, s->size / PAGE) * PAGE;
	else if (r < 90)
		root = gen_gpa(w);
	else
		root = rnd(w);
	root &= WK_ADDR_MASK;
	min = bit_len(root) > 32 ? bit_len(root) : 32;
	k->maxphyaddr = min + below(w, 53 - min);
	if (ept) {
		k->cr0 = 0;
		k->cr4 = 0;
		k->efer = 0;
		k->root = root | WK_EPTP_WB4 | (chance(w, 50) ? WK_EPTP_AD : 0);
		if (chance(w, 10))
			k->root &= ~7ULL;		/* UC */
	} else {
		k->cr0 = WK_CR0_PE | WK_CR0_PG | (chance(w, 50) ? WK_CR0_WP : 0);
		k->cr4 = WK_CR4_PAE | (chance(w, 30) ? WK_CR4_LA57 : 0) |
			 (chance(w, 30) ? WK_CR4_SMEP : 0) |
			 (chance(w, 30) ? WK_CR4_SMAP : 0);
		k->efer = WK_EFER_LME | WK_EFER_LMA | (chance(w, 60) ? WK_EFER_NXE : 0);
		k->root = root | (chance(w, 10) ? below(w, PAGE) : 0);
	}
	mask = (1ULL << k->maxphyaddr) - 1;
	va = 12 + 9 * walk_levels(k);
	r = below(w, 10);
	if (k->format != GUESTMAP_WALK_LONG)
		k->addr = (r < 7 ? rnd(w) : gen_gpa(w)) & mask;
	else if (r < 7)		/* canonical */
		k->addr = (uint64_t)((int64_t)(rnd(w) << (64 - va)) >> (64 - va));
	else if (r == 7)
		k->addr = below(w, 1ULL << 30);
	else if (r == 8)
		k->addr = (1ULL << (va - 1)) + below(w, PAGE);
	else
		k->addr = rnd(w);
	k->access = accesses[below(w, ept ? 3 : ARRAY_SIZE(accesses))];
	k->flags = GUESTMAP_WALK_NO_AD;
	if (chance(w, 40))
		k->flags |= GUESTMAP_WALK_CACHED;
	if (chance(w, 40))
		k->flags |= GUESTMAP_WALK_GBPAGES;
	if (ept && chance(w, 30))
		k->flags |= GUESTMAP_WALK_EXECONLY;
	if (!ept && chance(w, 20))
		k->flags |= GUESTMAP_WALK_AMD;
	if (k->format == GUESTMAP_WALK_LONG && chance(w, 20))
		k->flags |= GUESTMAP_WALK_AC;
	if (k->format == GUESTMAP_WALK_LONG && chance(w, 10))
		k->flags |= GUESTMAP_WALK_IMPLICIT;
	k->pad = 0;
	chain = chance(w, 35) && walk_chain(w, k);
	if (chance(w, 92)) {
		w->t.walk_chains += chain;
		return;
	}
	/* Invalid, one way or another: EINVAL whatever the tables. */
	switch (below(w, 8)) {
	case 0:
		k->pad = 1 + below(w, UINT32_MAX);
		break;
	case 1:
		k->maxphyaddr = chance(w, 50) ? 31 : 53;
		break;
	case 2:
		k->flags |= 1U << (7 + below(w, 25));
		break;
	case 3:
		k->format = 7;
		break;
	case 4:
		k->access = GUESTMAP_WALK_WRITE | GUESTMAP_WALK_FETCH;
		break;
	case 5:
	case 6:
		/* EPT takes no CR4 at all, which says less. */
		if (ept)
			k->format = GUESTMAP_WALK_LONG;
		k->cr4 |= chance(w, 50) ? WK_CR4_PKE :
			  chance(w, 50) ? WK_CR4_PKS : WK_CR4_LAM_SUP;
		break;
	default:
		k->root |= 1ULL << (k->maxphyaddr + below(w, 64 - k->maxphyaddr));
		break;
	}
}

/*
 * Commands of the ABI this fuzzer does not model (nested SVM:
 * selftests/nested_svm_test and svm_diff_test test them; nested VMX:
 * nested_vmx_test and nested_vmx_l2_test): never taken for unknown
 * numbers.
 */
static const unsigned int unmodelled_nr[] = {
	GUESTMAP_SVM_CREATE_VCPU, GUESTMAP_SVM_SET_L1, GUESTMAP_SVM_SET_L0_MSR,
	GUESTMAP_SVM_VMRUN, GUESTMAP_SVM_INTERCEPT, GUESTMAP_SVM_VMEXIT,
	GUESTMAP_VMX_CREATE_VCPU, GUESTMAP_VMX_SET_L1, GUESTMAP_VMX_INSN,
	GUESTMAP_VMX_OP,
};

static bool is_unmodelled(unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(unmodelled_nr); i++)
		if (unmodelled_nr[i] == nr)
			return true;
	return false;
}

/* An ioctl number that is not the ABI's: ENOTTY whatever the argument. */
static unsigned int gen_unknown(struct world *w)
{
	unsigned int base, nr, i;

	for (;;) {
		base = cmd_nr[below(w, NR_CMDS)];
		switch (below(w, 6)) {
		case 0:
			nr = _IOC(_IOC_DIR(base), _IOC_TYPE(base), _IOC_NR(base),
				  below(w, 1 << _IOC_SIZEBITS));
			break;
		case 1:
			nr = _IOC(below(w, 4), _IOC_TYPE(base), _IOC_NR(base),
				  _IOC_SIZE(base));
			break;
		case 2:
			nr = _IOC(_IOC_DIR(base), _IOC_TYPE(base), below(w, 256),
				  _IOC_SIZE(base));
			break;
		case 3:
			nr = _IOC(_IOC_DIR(base), below(w, 256), _IOC_NR(base),
				  _IOC_SIZE(base));
			break;
		case 4:
			nr = _IOC(below(w, 4), GUESTMAP_IO, below(w, 256),
				  below(w, 1 << _IOC_SIZEBITS));
			break;
		default:
			nr = rnd(w);
			break;
		}
		for (i = 0; i < NR_CMDS && cmd_nr[i] != nr; i++)
			;
		if (i < NR_CMDS || is_unmodelled(nr))
			continue;
		for (i = 0; i < ARRAY_SIZE(vfs_types) &&
			    vfs_types[i] != _IOC_TYPE(nr); i++)
			;
		if (i == ARRAY_SIZE(vfs_types))
			return nr;
	}
}

static enum op pick_op(struct world *w)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		if (!(opt_exclude & (1U << i)))
			total += op_weight[i];
	r = below(w, total);
	for (i = 0; i < NR_OPS; i++) {
		if (opt_exclude & (1U << i))
			continue;
		if (r < op_weight[i])
			break;
		r -= op_weight[i];
	}
	return i;
}

/* Random bytes for the argument, with what the kernel writes to defused. */
static void garble(struct world *w, struct call *c)
{
	unsigned int i;

	for (i = 0; i < sizeof(c->in.raw); i += 8) {
		uint64_t r = rnd(w);

		memcpy(&c->in.raw[i], &r, 8);
	}
	switch (c->cmd) {
	case C_MEMSLOT:
		sanitize_memslot(w, &c->in.m);
		break;
	case C_QUERY:
		c->in.q.entries = safe_ptr(w, c->in.q.entries);
		break;
	case C_READ:
	case C_WRITE:
		c->in.rw.buf = safe_ptr(w, c->in.rw.buf);
		c->in.rw.gpa = mt_gpa(w, c->in.rw.gpa);
		break;
	case C_ACCESS:
		c->in.a.buf = safe_ptr(w, c->in.a.buf);
		c->in.a.gpa = mt_gpa(w, c->in.a.gpa);
		c->op = access_kind(c->in.a.op);
		break;
	case C_BENCH:
		if (c->in.b.iterations <= 1ULL << 24)
			c->in.b.iterations %= 64;
		break;
	case C_WALK:
		/* No walk sets A/D bits: the data checks rely on it. */
		c->in.wk.flags |= GUESTMAP_WALK_NO_AD;
		break;
	}
}

static void gen_call(struct world *w, struct call *c)
{
	uint64_t r;

	memset(c, 0, sizeof(*c));
	c->op = pick_op(w);
	c->cmd = op_cmd[c->op];
	c->nr = c->cmd < 0 ? gen_unknown(w) : cmd_nr[c->cmd];
	c->size = _IOC_SIZE(c->nr);
	switch (c->op) {
	case OP_VERSION:
	case OP_STATS:
	case OP_UNKNOWN:
		break;
	case OP_MEMSLOT:
		gen_memslot(w, &c->in.m);
		sanitize_memslot(w, &c->in.m);
		break;
	case OP_FAULT:
		gen_fault(w, &c->in.f);
		break;
	case OP_QUERY:
		c->in.q.gpa = gen_gpa(w);
		if (chance(w, 92))
			c->in.q.gpa &= ~(PAGE - 1);
		switch (below(w, 20)) {
		case 0:
			c->in.q.npages = 0;
			break;
		case 1:
			c->in.q.npages = GUESTMAP_QUERY_MAX + below(w, 2);
			break;
		case 2:
			c->in.q.npages = rnd(w);
			break;
		case 3 ... 4:
			c->in.q.npages = 1 + below(w, GUESTMAP_QUERY_MAX);
			break;
		default:
			c->in.q.npages = 1 + below(w, 64);
			break;
		}
		c->in.q.entries = gen_buf(w, min64(c->in.q.npages, GUESTMAP_QUERY_MAX) * 8,
					  false);
		break;
	case OP_READ:
	case OP_WRITE:
		c->in.rw.gpa = gen_gpa(w);
		c->in.rw.len = gen_len(w, c->in.rw.gpa);
		c->in.rw.buf = gen_buf(w, c->in.rw.len, c->op == OP_WRITE);
		break;
	case OP_CLASSIFY:
		c->in.c.addr = gen_addr(w);
		c->in.c.class = rnd(w);
		c->in.c.flags = rnd(w);
		c->in.c.pfn = rnd(w);
		break;
	case OP_BENCH:
		gen_bench(w, &c->in.b);
		break;
	case OP_WALK:
		gen_walk(w, c);
		break;
	default:
		gen_access(w, c);
		c->op = access_kind(c->in.a.op);	/* a "bad" op may be good */
		break;
	}
	if (c->cmd >= 0 && c->cmd != C_VERSION && c->cmd != C_STATS &&
	    chance(w, 4)) {
		c->garbage = true;
		garble(w, c);
	}
	r = below(w, 100);
	if (r < 88) {
		c->argcls = ARG_GOOD;
		c->mis = chance(w, 20) ? below(w, 8) : 0;
	} else if (r < 91) {
		c->argcls = ARG_RO;
		c->mis = below(w, 8);
	} else if (r < 94 && c->size > 1) {
		c->argcls = ARG_STRADDLE;
		c->cut = 1 + below(w, min64(c->size, sizeof(c->in.raw)) - 1);
	} else {
		c->argcls = ARG_NULL + below(w, 4);
	}
}

/* Puts the argument where the call's class says, and sets c->argp. */
static void place_arg(struct world *w, struct call *c)
{
	uint64_t off;

	switch (c->argcls) {
	case ARG_GOOD:
		c->argp = (uintptr_t)w->argpg + c->mis;
		memcpy((void *)c->argp, &c->in, sizeof(c->in.raw));
		break;
	case ARG_RO:
		/* The ro view and w->in share their pages. */
		off = BIG - PAGE + c->mis;
		memcpy(w->in + off, &c->in, sizeof(c->in.raw));
		c->argp = (uintptr_t)w->ro + off;
		break;
	case ARG_STRADDLE:
		c->argp = (uintptr_t)w->argpg + PAGE - c->cut;
		memcpy((void *)c->argp, &c->in, c->cut);
		break;
	case ARG_NULL:
		c->argp = 0;
		break;
	case ARG_KERNEL:
		c->argp = chance(w, 50) ? KERNEL_ADDR + below(w, 1 << 20) :
					  0xffffffff81000000ULL;
		break;
	case ARG_LOW:
		c->argp = PAGE + below(w, LOW_LIMIT - 2 * PAGE);
		break;
	case ARG_NONCANON:
		c->argp = 0x0000800000000000ULL + below(w, 1ULL << 40);
		break;
	}
}

/* --- What the ABI allows ------------------------------------------------ */

struct pred {
	struct world *w;
	uint64_t err;		/* errors that certainly apply */
	uint64_t maybe;		/* errors that may apply */
	char *why;		/* the first certain error, in words */
	size_t why_len;
	char *cause;
};

static uint64_t allowed(const struct pred *p)
{
	return p->err ? p->err | p->maybe : OK | p->maybe;
}

/* Error @e certainly applies, for the reason @fmt. */
static void certain(struct pred *p, int e, const char *fmt, ...)
{
	va_list ap;

	if (!p->err && p->why_len) {
		va_start(ap, fmt);
		vsnprintf(p->why, p->why_len, fmt, ap);
		va_end(ap);
		snprintf(p->cause, sizeof(((struct call *)0)->cause), "%s", fmt);
	}
	p->err |= B(e);
}

/* What the page at @a is, for the reports. */
static const char *page_state(struct world *w, uint64_t a, char *b, size_t n)
{
	static const char * const kind_name[] = {
		"reserved arena", "anonymous", "shared memfd", "private memfd",
		"/dev/mem of memmap=$ RAM", "/dev/mem of RAM above mem=",
		"/dev/mem of pmem",
	};
	uint8_t st;

	if (!in_arena(a)) {
		snprintf(b, n, a < LOW_LIMIT ? "below mmap_min_addr" : a >= USER_TOP ?
			 "not user memory" : "a guard page or read-only");
		return b;
	}
	st = *ps(a);
	if (!(st & PS_MAPPED))
		snprintf(b, n, "unmapped");
	else
		snprintf(b, n, "%s %s", kind_name[PS_KIND(st)],
			 st & PS_W ? "PROT_READ|PROT_WRITE" : st & PS_R ? "PROT_READ" :
			 "PROT_NONE");
	return b;
}

/* EFAULT if @len bytes of @what at @ptr cannot be touched in full. */
static void mem_cond(struct pred *p, const char *what, uint64_t ptr,
		     uint64_t len, bool write)
{
	struct world *w = p->w;
	int access = uaccess(w, ptr, len, write);
	char b1[40], b2[64];

	if (!access) {
		bool first = !p->err;

		certain(p, EFAULT, "%s %s (%#" PRIx64 " bytes) cannot be %s: %s is %s",
			what, pname(w, ptr, b1, sizeof(b1)), len,
			write ? "written" : "read", pname(w, w->bad, b1, sizeof(b1)),
			page_state(w, w->bad, b2, sizeof(b2)));
		if (first && p->why_len)
			snprintf(p->cause, sizeof(((struct call *)0)->cause), "%.20s %.40s",
				 what, b2);
	} else if (access < 0) {
		p->maybe |= B(EFAULT);
	}
}

/* The slot rules for guest bytes [gpa, last]: ENOENT, EPERM, EFAULT. */
static void guest_cond(struct pred *p, uint64_t gpa, uint64_t last,
		       bool write, bool touches)
{
	struct world *w = p->w;
	struct mslot *s;
	int r;

	/* Guest addresses are 48 bits wide, for every ioctl. */
	if (last >= GPA_LIMIT) {
		certain(p, EINVAL, "gpa %#" PRIx64 "-%#" PRIx64 " past 2^48", gpa, last);
		return;
	}
	r = lookup(w, gpa, last, &s);
	if (!r) {
		certain(p, ENOENT, "no slot holds gpa %#" PRIx64 "-%#" PRIx64, gpa, last);
		return;
	}
	if (r < 0) {
		p->maybe |= B(ENOENT) | B(EPERM) | B(EFAULT);
		return;
	}
	if (write && (s->flags & GUESTMAP_MEM_READONLY))
		certain(p, EPERM, "a write to READONLY slot %td", s - w->slot);
	if (touches)
		mem_cond(p, "guest memory at", s->hva + (gpa - s->gpa), last - gpa + 1,
			 write);
}

static void pred_memslot(const struct guestmap_memslot *m, struct pred *p)
{
	uint64_t gend = m->guest_phys_addr + m->memory_size;
	uint64_t uend = m->userspace_addr + m->memory_size;
	struct world *w = p->w;
	bool id_ok = m->slot < NSLOTS;
	int i;

	if (m->flags & ~GUESTMAP_MEM_READONLY)
		certain(p, EINVAL, "unknown flags");
	if (!id_ok)
		certain(p, EINVAL, "slot id too large");
	if (!m->memory_size) {
		if (id_ok && !w->slot[m->slot].used)
			certain(p, EINVAL, "no slot %u to delete", m->slot);
		/* Whether a delete looks at the addresses is not said. */
		if ((m->guest_phys_addr | m->userspace_addr) & (PAGE - 1) ||
		    m->guest_phys_addr >= GPA_LIMIT || m->userspace_addr > task_size)
			p->maybe |= B(EINVAL);
		return;
	}
	if ((m->guest_phys_addr | m->memory_size | m->userspace_addr) & (PAGE - 1))
		certain(p, EINVAL, "not page aligned");
	if (gend < m->guest_phys_addr || gend > GPA_LIMIT)
		certain(p, EINVAL, "guest range past 2^48");
	if (uend < m->userspace_addr || uend > task_size)
		certain(p, EINVAL, "user range past TASK_SIZE");
	if (id_ok && w->slot[m->slot].used)
		certain(p, EEXIST, "slot %u in use", m->slot);
	for (i = 0; gend > m->guest_phys_addr && i < NSLOTS; i++) {
		const struct mslot *s = &w->slot[i];

		if (s->used && overlaps(m->guest_phys_addr, gend - 1, s->gpa,
					s->gpa + s->size - 1))
			certain(p, EEXIST, "overlaps slot %d", i);
	}
	/* Other threads' slots may be in the way outside our own gpas. */
	if (w->mt && !(m->guest_phys_addr >= w->zone_lo && gend <= w->zone_hi &&
		       gend > m->guest_phys_addr))
		p->maybe |= B(EEXIST);
}

static void pred_fault(const struct guestmap_fault *f, struct pred *p)
{
	uint64_t last = f->gpa + f->size - 1;

	if ((f->flags & ~GUESTMAP_FAULT_WRITE) || f->pad)
		certain(p, EINVAL, "unknown flags or pad");
	if ((f->gpa | f->size) & (PAGE - 1))
		certain(p, EINVAL, "not page aligned");
	if (!f->size || last < f->gpa) {
		certain(p, EINVAL, "empty or wrapping range");
		return;
	}
	/* Ending at 2^64 exactly: the end wraps, the last byte does not. */
	if (!(f->gpa + f->size))
		p->maybe |= B(EINVAL);
	guest_cond(p, f->gpa, last, f->flags & GUESTMAP_FAULT_WRITE, true);
}

static void pred_query(const struct guestmap_query *q, struct pred *p)
{
	uint64_t n = q->npages, last = q->gpa + n * PAGE - 1;

	if (n > GUESTMAP_QUERY_MAX)
		certain(p, EINVAL, "more than GUESTMAP_QUERY_MAX pages");
	if (q->gpa & (PAGE - 1))
		certain(p, EINVAL, "gpa not page aligned");
	if (!n)
		p->maybe |= B(EINVAL);
	if (!n || n > GUESTMAP_QUERY_MAX)
		return;
	/* Guest addresses are 48 bits: nothing to ask about above. */
	if (last < q->gpa || last >= GPA_LIMIT)
		certain(p, EINVAL, "pages past 2^48");
	mem_cond(p, "entries", q->entries, n * 8, true);
}

static void pred_rw(const struct guestmap_rw *rw, bool write, struct pred *p)
{
	uint64_t last = rw->gpa + rw->len - 1;

	if (!rw->len || rw->len > RW_MAX || last < rw->gpa) {
		certain(p, EINVAL, "length 0, over GUESTMAP_RW_MAX or wrapping");
		return;
	}
	guest_cond(p, rw->gpa, last, write, true);
	mem_cond(p, "buffer", rw->buf, rw->len, !write);
}

static void pred_access(const struct guestmap_access *a, struct pred *p)
{
	enum op k = access_kind(a->op);
	uint64_t last = a->gpa + a->len - 1;
	bool range = a->len && a->len <= RW_MAX && last >= a->gpa;
	bool wop = writes_guest(k);

	if (!range)
		certain(p, EINVAL, "length 0, over GUESTMAP_RW_MAX or wrapping");
	if (a->flags & ~GUESTMAP_ACCESS_DIRTY)
		certain(p, EINVAL, "unknown flags");
	if (k == OP_ACC_BAD)
		certain(p, EINVAL, "unknown op");
	if (range && one_page_op(k) && (a->gpa / PAGE) != (last / PAGE))
		certain(p, EINVAL, "a mapping across pages");
	if (k == OP_CMPXCHG && (a->len != 8 || (a->gpa & 7)))
		certain(p, EINVAL, "cmpxchg not of 8 aligned bytes");
	if ((k == OP_CACHE_READ || k == OP_CACHE_WRITE) &&
	    a->cache >= GUESTMAP_NR_CACHES)
		certain(p, EINVAL, "no cache %u", a->cache);
	/* The header gives DIRTY meaning for MAP_WRITE and CMPXCHG only. */
	if ((a->flags & GUESTMAP_ACCESS_DIRTY) && k != OP_MAP_WRITE &&
	    k != OP_CMPXCHG)
		p->maybe |= B(EINVAL);
	if (!range)
		return;
	guest_cond(p, a->gpa, last, wop, k != OP_ACC_BAD);
	if (k != OP_CMPXCHG && k != OP_ACC_BAD)
		mem_cond(p, "buffer", a->buf, a->len, !wop);
}

static void pred_bench(const struct guestmap_bench *b, struct pred *p)
{
	uint64_t last = b->gpa + 7;

	if (!b->iterations || b->iterations > 1ULL << 24)
		certain(p, EINVAL, "iterations 0 or over 2^24");
	if (b->op != GUESTMAP_ACCESS_MAP_READ &&
	    b->op != GUESTMAP_ACCESS_CACHE_READ)
		certain(p, EINVAL, "unknown op");
	if (b->op == GUESTMAP_ACCESS_CACHE_READ && b->cache >= GUESTMAP_NR_CACHES)
		certain(p, EINVAL, "no cache %u", b->cache);
	if (last < b->gpa || b->gpa / PAGE != last / PAGE) {
		certain(p, EINVAL, "8 bytes across pages");
		return;
	}
	guest_cond(p, b->gpa, last, false, true);
}

/*
 * EFAULT if the walk may reach a table page user space cannot read, or
 * one this world cannot follow: the tables are followed as far as the
 * model knows their entries (no A/D bit changes them: NO_AD), at least
 * as deep as the walk goes (reserved bits, which end it, are ignored).
 */
static void pred_walk_tables(const struct guestmap_walk *k, struct pred *p)
{
	bool ept = k->format == GUESTMAP_WALK_EPT;
	uint64_t table = k->root & walk_pa(k), gpa, hva, pte;
	struct world *w = p->w;
	struct mslot *s;
	int l, r;

	if (!walk_canonical(k))
		return;		/* #GP: no table is read */
	for (l = walk_levels(k); l >= 1; l--) {
		gpa = table + walk_index(k->addr, l) * 8;
		r = lookup(w, gpa, gpa + 7, &s);
		if (!r)
			return;	/* a table in no slot: not present */
		if (r < 0 || !own_gpas(w, gpa, gpa + 7))
			break;
		hva = s->hva + (gpa - s->gpa);
		if (!data_known(w, hva, 8))
			break;
		memcpy(&pte, (void *)hva, 8);
		if (!(pte & (ept ? WK_EPT_RWX : 1)) || l == 1 || (pte & WK_PS))
			return;
		table = pte & WK_ADDR_MASK;
	}
	p->maybe |= B(EFAULT);
}

static void pred_walk(const struct guestmap_walk *k, struct pred *p)
{
	bool phys_ok = k->maxphyaddr >= 32 && k->maxphyaddr <= 52;
	bool ept = k->format == GUESTMAP_WALK_EPT;
	bool npt = k->format == GUESTMAP_WALK_NPT;
	uint64_t pa = phys_ok ? walk_pa(k) : 0, memtype = k->root & 7;

	if (k->pad)
		certain(p, EINVAL, "pad not 0");
	if (!phys_ok)
		certain(p, EINVAL, "maxphyaddr outside 32-52");
	if (k->access & ~WK_ACCESS)
		certain(p, EINVAL, "unknown access bits");
	if ((k->access & GUESTMAP_WALK_WRITE) && (k->access & GUESTMAP_WALK_FETCH))
		certain(p, EINVAL, "a write that is also a fetch");
	if (k->flags & ~WK_FLAGS)
		certain(p, EINVAL, "unknown flags");
	if (k->format != GUESTMAP_WALK_LONG &&
	    (k->flags & (GUESTMAP_WALK_AC | GUESTMAP_WALK_IMPLICIT)))
		certain(p, EINVAL, "AC or IMPLICIT outside x86-64 paging");
	if (k->format == GUESTMAP_WALK_LONG || npt) {
		if (!(k->cr0 & WK_CR0_PG) || !(k->cr4 & WK_CR4_PAE) ||
		    !(k->efer & WK_EFER_LMA))
			certain(p, EINVAL, "not long mode");
		/* What else "long mode" asks for is not said. */
		if (!(k->efer & WK_EFER_LME) || (k->flags & GUESTMAP_WALK_EXECONLY))
			p->maybe |= B(EINVAL);
		/* Not modelled: refused for x86-64 paging, no matter to NPT. */
		if (!npt && (k->cr4 & (WK_CR4_PKE | WK_CR4_PKS | WK_CR4_LAM_SUP)))
			certain(p, EINVAL, "CR4.PKE, PKS or LAM_SUP");
		if (phys_ok && (k->root & ~(pa | (PAGE - 1))))
			certain(p, EINVAL, "CR3 bits above MAXPHYADDR");
		if (phys_ok && npt && (k->addr >> k->maxphyaddr))
			certain(p, EINVAL, "NPT address above MAXPHYADDR");
	} else if (ept) {
		if (k->access & GUESTMAP_WALK_USER)
			certain(p, EINVAL, "an EPT user access");
		if (k->cr0 || k->cr4 || k->efer || (k->flags & GUESTMAP_WALK_AMD))
			p->maybe |= B(EINVAL);
		if ((memtype != 0 && memtype != 6) || ((k->root >> 3) & 7) != 3 ||
		    (phys_ok && (k->root & ~(pa | 0x7f))))
			certain(p, EINVAL, "an invalid EPT pointer");
		if (phys_ok && (k->addr >> k->maxphyaddr))
			certain(p, EINVAL, "EPT address above MAXPHYADDR");
	} else {
		certain(p, EINVAL, "unknown format");
	}
	if (!p->err)
		pred_walk_tables(k, p);
}

/* The results the ABI allows for @c, from the model before the call. */
static uint64_t predict(struct world *w, struct call *c)
{
	struct pred p = {
		.w = w, .why = c->why, .why_len = sizeof(c->why), .cause = c->cause,
	};
	uint64_t a;
	int wr;

	c->why[0] = 0;
	c->cause[0] = 0;
	if (c->cmd < 0) {
		certain(&p, ENOTTY, "not a command of the ABI");
		return B(ENOTTY);
	}
	if (c->cmd == C_VERSION || c->cmd == C_STATS) {
		mem_cond(&p, "the argument", c->argp, c->size, true);
		return allowed(&p) | B(ENOMEM);
	}
	mem_cond(&p, "the argument", c->argp, c->size, false);
	if (p.err)
		return B(EFAULT);
	switch (c->cmd) {
	case C_MEMSLOT:
		pred_memslot(&c->in.m, &p);
		break;
	case C_FAULT:
		pred_fault(&c->in.f, &p);
		break;
	case C_QUERY:
		pred_query(&c->in.q, &p);
		break;
	case C_READ:
	case C_WRITE:
		pred_rw(&c->in.rw, c->cmd == C_WRITE, &p);
		break;
	case C_CLASSIFY:
		mem_cond(&p, "the address", c->in.c.addr, 1, false);
		/* Nothing is faulted in: a page not present now is EFAULT. */
		p.maybe |= B(EFAULT);
		break;
	case C_ACCESS:
		pred_access(&c->in.a, &p);
		break;
	case C_BENCH:
		pred_bench(&c->in.b, &p);
		break;
	case C_WALK:
		pred_walk(&c->in.wk, &p);
		break;
	}
	a = allowed(&p);
	/* _IOWR: the answer must reach user space too. */
	if (c->cmd == C_CLASSIFY || c->cmd == C_ACCESS || c->cmd == C_BENCH ||
	    c->cmd == C_WALK) {
		wr = uaccess(w, c->argp, c->size, true);
		if (!wr) {
			a = (a & ~OK) | B(EFAULT);
			if (!c->why[0])
				snprintf(c->why, sizeof(c->why), "the argument cannot be written");
		} else if (wr < 0) {
			a |= B(EFAULT);
		}
	}
	return a | B(ENOMEM);
}

/* --- Reporting ---------------------------------------------------------- */

static int describe(struct world *w, const struct call *c, char *b, size_t n)
{
	char p1[40], p2[40];
	const union args *in = &c->in;
	int len = 0;

	switch (c->cmd) {
	case C_MEMSLOT:
		len = snprintf(b, n, "SET_MEMSLOT(slot %u, flags %#x, gpa %#" PRIx64
			       ", size %#" PRIx64 ", hva %s)", in->m.slot, in->m.flags,
			       (uint64_t)in->m.guest_phys_addr,
			       (uint64_t)in->m.memory_size,
			       pname(w, in->m.userspace_addr, p1, sizeof(p1)));
		break;
	case C_FAULT:
		len = snprintf(b, n, "MIRROR_FAULT(gpa %#" PRIx64 ", size %#" PRIx64
			       ", flags %#x, pad %#x)", (uint64_t)in->f.gpa,
			       (uint64_t)in->f.size, in->f.flags, in->f.pad);
		break;
	case C_QUERY:
		len = snprintf(b, n, "QUERY(gpa %#" PRIx64 ", npages %#" PRIx64
			       ", entries %s)", (uint64_t)in->q.gpa,
			       (uint64_t)in->q.npages,
			       pname(w, in->q.entries, p1, sizeof(p1)));
		break;
	case C_READ:
	case C_WRITE:
		len = snprintf(b, n, "%s(gpa %#" PRIx64 ", len %#" PRIx64 ", buf %s)",
			       op_name[c->op], (uint64_t)in->rw.gpa,
			       (uint64_t)in->rw.len,
			       pname(w, in->rw.buf, p1, sizeof(p1)));
		break;
	case C_CLASSIFY:
		len = snprintf(b, n, "CLASSIFY(addr %s)",
			       pname(w, in->c.addr, p1, sizeof(p1)));
		break;
	case C_ACCESS:
		len = snprintf(b, n, "ACCESS(op %u, gpa %#" PRIx64 ", len %#" PRIx64
			       ", buf %s, flags %#x, old %#" PRIx64 ", new %#" PRIx64
			       ", cache %u)", in->a.op, (uint64_t)in->a.gpa,
			       (uint64_t)in->a.len,
			       pname(w, in->a.buf, p1, sizeof(p1)), in->a.flags,
			       (uint64_t)in->a.old, (uint64_t)in->a.new, in->a.cache);
		break;
	case C_BENCH:
		len = snprintf(b, n, "BENCH(gpa %#" PRIx64 ", op %u, cache %u, iterations %#"
			       PRIx64 ")", (uint64_t)in->b.gpa, in->b.op, in->b.cache,
			       (uint64_t)in->b.iterations);
		break;
	case C_WALK:
		len = snprintf(b, n, "WALK(format %u, root %#" PRIx64 ", addr %#" PRIx64
			       ", cr0 %#" PRIx64 ", cr4 %#" PRIx64 ", efer %#" PRIx64
			       ", access %#x, flags %#x, maxphyaddr %u, pad %#x)",
			       in->wk.format, (uint64_t)in->wk.root, (uint64_t)in->wk.addr,
			       (uint64_t)in->wk.cr0, (uint64_t)in->wk.cr4,
			       (uint64_t)in->wk.efer, in->wk.access, in->wk.flags,
			       in->wk.maxphyaddr, in->wk.pad);
		if (c->ret == 0 && c->argcls == ARG_GOOD)
			len += snprintf(b + len, n - len, " -> fault %u level %u gpa %#"
					PRIx64 " page size %#" PRIx64 " error %#" PRIx64
					" retries %u", c->out.wk.fault, c->out.wk.level,
					(uint64_t)c->out.wk.gpa, (uint64_t)c->out.wk.page_size,
					(uint64_t)c->out.wk.error, c->out.wk.retries);
		break;
	case C_VERSION:
	case C_STATS:
		len = snprintf(b, n, "%s", op_name[c->op]);
		break;
	default:
		len = snprintf(b, n, "ioctl %#x (dir %u, type %#x, nr %#x, size %u)",
			       c->nr, _IOC_DIR(c->nr), _IOC_TYPE(c->nr),
			       _IOC_NR(c->nr), _IOC_SIZE(c->nr));
		break;
	}
	len += snprintf(b + len, n - len, " [%s%s argument at %s]",
			c->garbage ? "random " : "", arg_name[c->argcls],
			pname(w, c->argp, p2, sizeof(p2)));
	return len;
}

static int set_names(uint64_t set, char *b, size_t n)
{
	int e, len = 0;

	for (e = 0; e < 64; e++)
		if (set & B(e))
			len += snprintf(b + len, n - len, " %s", errname(e));
	return len;
}

/* One failure: what was called, what came back, and why that is wrong. */
static void fail(struct world *w, const struct call *c, const char *fmt, ...)
{
	char b[1536];
	va_list ap;
	int len;

	unsigned int k;

	/* One bug must not hide the others: a few of each kind are shown. */
	w->fails++;
	for (k = 0; k < w->nfk; k++)
		if (w->fk[k].op == (c ? (int)c->op : -1) && w->fk[k].fmt == fmt &&
		    !strcmp(w->fk[k].cause, c && c->ret == 0 ? c->cause : ""))
			break;
	if (k == w->nfk && k < NKINDS) {
		w->fk[k].op = c ? (int)c->op : -1;
		w->fk[k].fmt = fmt;
		snprintf(w->fk[k].cause, sizeof(w->fk[k].cause), "%s",
			 c && c->ret == 0 ? c->cause : "");
		w->nfk++;
	}
	if (k < NKINDS && ++w->fk[k].n > SHOWN_PER_KIND)
		return;
	if (++w->shown > MAX_SHOWN && (k == NKINDS || w->fk[k].n > 1))
		return;
	len = snprintf(b, sizeof(b), "# FAIL %s seed %" PRIu64 " step %" PRIu64
		       " call %" PRIu64 ": ", w->name, opt_seed, w->iter, w->ncalls);
	if (c) {
		len += describe(w, c, b + len, sizeof(b) - len);
		len += snprintf(b + len, sizeof(b) - len, " = %s, allowed:",
				c->ret ? errname(c->err) : "0");
		len += set_names(c->allowed, b + len, sizeof(b) - len);
		if (c->why[0])
			len += snprintf(b + len, sizeof(b) - len, " (%s)", c->why);
		len += snprintf(b + len, sizeof(b) - len, ": ");
	}
	va_start(ap, fmt);
	len += vsnprintf(b + len, sizeof(b) - len, fmt, ap);
	va_end(ap);
	if (!w->mt && !w->child && len < (int)sizeof(b))
		len += snprintf(b + len, sizeof(b) - len,
				"\n#   replay: fuzz_test -t single_thread --seed %" PRIu64
				" --count %" PRIu64 " --trace", opt_seed, 2 * w->ncalls);
	if (len < (int)sizeof(b) - 1)
		snprintf(b + len, sizeof(b) - len, "\n");
	else
		b[sizeof(b) - 2] = '\n';
	if (trace_file && !w->mt && !w->child) {
		fputs(b, trace_file);
		fflush(trace_file);
	}
	emit(w, b);
}

/* How many failures of each kind: the shown ones stand for the rest. */
static void fail_summary(struct world *w)
{
	char b[256];
	unsigned int k;

	for (k = 0; k < w->nfk; k++) {
		snprintf(b, sizeof(b), "# %s: %" PRIu64 " x %s: %s%s%s%s\n", w->name,
			 w->fk[k].n, w->fk[k].op < 0 ? "-" : op_name[w->fk[k].op],
			 w->fk[k].fmt, w->fk[k].cause[0] ? " (" : "", w->fk[k].cause,
			 w->fk[k].cause[0] ? ")" : "");
		emit(w, b);
	}
}

static void trace(struct world *w, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int len;

	if (!opt_trace || w->mt || w->child)
		return;
	len = snprintf(b, sizeof(b), "# %" PRIu64 ": ", w->iter);
	va_start(ap, fmt);
	len += vsnprintf(b + len, sizeof(b) - len, fmt, ap);
	va_end(ap);
	if (len < (int)sizeof(b) - 1)
		snprintf(b + len, sizeof(b) - len, "\n");
	/* A file is written in blocks: tracing to it costs little time. */
	if (trace_file)
		fputs(b, trace_file);
	else
		emit(w, b);
}

/* --- Checks of what successful calls returned --------------------------- */

static uint64_t count_present(struct world *w, const struct call *c)
{
	uint64_t e, i, n = 0;

	for (i = 0; i < c->in.q.npages; i++) {
		memcpy(&e, (void *)(c->in.q.entries + i * 8), 8);
		n += !!(e & PRESENT);
	}
	return n;
}

/* Compares guest bytes at @gpa with user space's: @to_guest was written. */
static void check_data(struct world *w, struct call *c, uint64_t gpa,
		       uint64_t len, uint64_t buf, bool to_guest)
{
	const uint8_t *g, *u = (const void *)buf;
	struct mslot *s;
	uint64_t i, hva;

	if (lookup(w, gpa, gpa + len - 1, &s) != 1 || !own_gpas(w, gpa, gpa + len - 1))
		return;
	hva = s->hva + (gpa - s->gpa);
	if (!data_known(w, hva, len) || !in_scratch_data(w, buf, len))
		return;
	g = (const void *)hva;
	if (!memcmp(g, u, len))
		return;
	for (i = 0; g[i] == u[i]; i++)
		;
	page_state(w, hva + i, c->cause, sizeof(c->cause));
	if (to_guest)
		fail(w, c, "user space does not see the guest's write: at byte %#" PRIx64
		     " (A+%#" PRIx64 ") memory has %#x, the guest wrote %#x",
		     i, hva - arena_lo() + i, g[i], u[i]);
	else
		fail(w, c, "the guest read other data than user space sees: at byte %#"
		     PRIx64 " (A+%#" PRIx64 ") the guest read %#x, memory has %#x",
		     i, hva - arena_lo() + i, u[i], g[i]);
}

static void check_cmpxchg(struct world *w, struct call *c)
{
	const struct guestmap_access *in = &c->in.a, *out = &c->out.a;
	struct mslot *s;
	uint64_t hva, cur;

	if (c->argcls != ARG_GOOD || lookup(w, in->gpa, in->gpa + 7, &s) != 1 ||
	    !own_gpas(w, in->gpa, in->gpa + 7))
		return;
	hva = s->hva + (in->gpa - s->gpa);
	if (!data_known(w, hva, 8))
		return;
	memcpy(&cur, (void *)hva, 8);
	if (out->old == in->old ? cur != in->new : cur != out->old)
		fail(w, c, "cmpxchg found %#" PRIx64 ", memory now has %#" PRIx64,
		     (uint64_t)out->old, cur);
}

/* How an access reached memory: by the kind of memory behind it. */
static void check_via(struct world *w, struct call *c)
{
	const struct guestmap_access *a = &c->in.a;
	uint32_t via = c->out.a.via;
	struct mslot *s;
	int kind;

	if (c->argcls != ARG_GOOD)
		return;
	if (c->op == OP_CACHE_READ || c->op == OP_CACHE_WRITE) {
		if (via != GUESTMAP_VIA_CACHE && via != GUESTMAP_VIA_CACHE_REFRESH)
			fail(w, c, "a cache access reports via %u", via);
		return;
	}
	if (c->op != OP_MAP_READ && c->op != OP_MAP_WRITE && c->op != OP_CMPXCHG)
		return;
	if (via != GUESTMAP_VIA_PAGE && via != GUESTMAP_VIA_REMAP) {
		fail(w, c, "a mapping access reports via %u", via);
		return;
	}
	if (lookup(w, a->gpa, a->gpa, &s) != 1)
		return;
	kind = page_kind(w, s->hva + ((a->gpa - s->gpa) & ~(PAGE - 1)));
	if (kind >= 0 && via != (is_devmem(kind) ? GUESTMAP_VIA_REMAP : GUESTMAP_VIA_PAGE))
		fail(w, c, "%s memory reached via %u", is_devmem(kind) ?
		     "PFNMAP" : "ordinary", via);
}

static void check_classify(struct world *w, struct call *c)
{
	const struct guestmap_classify *r = &c->out.c;
	int kind = page_kind(w, c->in.c.addr);
	bool pfnmap = r->flags & GUESTMAP_PFN_MAPPED_PFNMAP;

	if (c->argcls != ARG_GOOD)
		return;
	if (r->class > GUESTMAP_PFN_P2PDMA || (r->flags & ~0xfU)) {
		fail(w, c, "class %u, flags %#x", r->class, r->flags);
		return;
	}
	if (kind < 0)
		return;
	if (kind == K_RESERVED && (r->class != GUESTMAP_PFN_RESERVED || !pfnmap))
		fail(w, c, "memmap=$ RAM through /dev/mem: class %u, flags %#x",
		     r->class, r->flags);
	if (kind == K_HIDDEN && (r->class != GUESTMAP_PFN_NO_PAGE || !pfnmap))
		fail(w, c, "RAM above mem= through /dev/mem: class %u, flags %#x",
		     r->class, r->flags);
	/* fsdax, or device-dax if a test left the namespace so. */
	if (kind == K_PMEM && (!pfnmap || (r->class != GUESTMAP_PFN_FS_DAX &&
					   r->class != GUESTMAP_PFN_DEVICE_GENERIC)))
		fail(w, c, "pmem through /dev/mem: class %u, flags %#x", r->class,
		     r->flags);
	if (!is_devmem(kind) && (pfnmap || (r->class != GUESTMAP_PFN_NORMAL &&
					    r->class != GUESTMAP_PFN_ZERO)))
		fail(w, c, "ordinary memory: class %u, flags %#x", r->class, r->flags);
}

/*
 * QUERY's entries against the model: the mirror holds only what some slot
 * maps and user space could use, writable only where user space may write.
 * Returns the number of present entries.
 */
static uint64_t check_query(struct world *w, struct call *c)
{
	uint64_t gfn, e, hva, present = 0, i, n = c->in.q.npages;
	struct mslot *s;
	int prot, kind;
	char b[64];

	if (!in_scratch_data(w, c->in.q.entries, n * 8))
		return 0;
	for (i = 0; i < n; i++) {
		memcpy(&e, (void *)(c->in.q.entries + i * 8), 8);
		gfn = c->in.q.gpa / PAGE + i;
		if (!(e & PRESENT)) {
			if (e) {
				fail(w, c, "gfn %#" PRIx64 ": entry %#" PRIx64
				     " without PRESENT", gfn, e);
				break;
			}
			continue;
		}
		present++;
		if (CLASS(e) < GUESTMAP_CLASS_PAGE || CLASS(e) > GUESTMAP_CLASS_PFNMAP ||
		    (CLASS(e) == GUESTMAP_CLASS_ZERO && (e & WRITABLE))) {
			fail(w, c, "gfn %#" PRIx64 ": entry %#" PRIx64, gfn, e);
			break;
		}
		if (lookup(w, gfn * PAGE, gfn * PAGE + PAGE - 1, &s) < 1) {
			if (!lookup(w, gfn * PAGE, gfn * PAGE + PAGE - 1, &s)) {
				fail(w, c, "gfn %#" PRIx64 " is in no slot, yet mirrored: %#"
				     PRIx64, gfn, e);
				break;
			}
			continue;
		}
		if ((e & WRITABLE) && (s->flags & GUESTMAP_MEM_READONLY)) {
			fail(w, c, "gfn %#" PRIx64 ": writable entry %#" PRIx64
			     " in READONLY slot %td", gfn, e, s - w->slot);
			break;
		}
		hva = s->hva + gfn * PAGE - s->gpa;
		prot = page_prot(w, hva);
		kind = page_kind(w, hva);
		if (prot < 0)
			continue;
		if (!(prot & PS_R) || ((e & WRITABLE) && !(prot & PS_W))) {
			page_state(w, hva, c->cause, sizeof(c->cause));
			fail(w, c, "gfn %#" PRIx64 ": entry %#" PRIx64 ", but user space %s A+%#"
			     PRIx64 ", %s", gfn, e, prot & PS_R ? "may only read" :
			     "cannot read", hva - arena_lo(),
			     page_state(w, hva, b, sizeof(b)));
			break;
		}
		if (kind >= 0 && is_devmem(kind) != (CLASS(e) == GUESTMAP_CLASS_PFNMAP)) {
			fail(w, c, "gfn %#" PRIx64 ": entry %#" PRIx64 " for %s memory", gfn,
			     e, is_devmem(kind) ? "PFNMAP" : "ordinary");
			break;
		}
	}
	return present;
}

static const char * const stat_name[] = {
	"invalidations[UNMAP]", "invalidations[CLEAR]",
	"invalidations[PROTECTION_VMA]", "invalidations[PROTECTION_PAGE]",
	"invalidations[SOFT_DIRTY]", "invalidations[RELEASE]",
	"invalidations[MIGRATE]", "invalidations[EXCLUSIVE]", "nonblocking",
	"faults", "pages_faulted", "retries", "entries_zapped",
	"entries_wrprotected", "tables_allocated", "tables_freed",
	"entries_present",
};

static void check_stats(struct world *w, struct call *c)
{
	const struct guestmap_stats *s = &c->out.s;
	uint64_t cur[ARRAY_SIZE(stat_name)], old[ARRAY_SIZE(stat_name)];
	unsigned int i;

	if (c->argcls != ARG_GOOD)
		return;
	memcpy(cur, s, sizeof(cur));
	memcpy(old, &w->last, sizeof(old));
	/* Counters since open(): only entries_present may go down. */
	for (i = 0; w->have_last && i < ARRAY_SIZE(cur) - 1; i++)
		if (cur[i] < old[i])
			fail(w, c, "%s went back from %" PRIu64 " to %" PRIu64,
			     stat_name[i], old[i], cur[i]);
	if (s->tables_freed > s->tables_allocated)
		fail(w, c, "%" PRIu64 " tables freed, %" PRIu64 " allocated",
		     (uint64_t)s->tables_freed, (uint64_t)s->tables_allocated);
	w->last = *s;
	w->have_last = true;
}

/* Which faults a walk of @format may answer. */
static bool walk_fault_ok(uint32_t format, uint32_t fault)
{
	switch (fault) {
	case GUESTMAP_WALK_OK:
		return true;
	case GUESTMAP_WALK_PF:
		return format != GUESTMAP_WALK_EPT;
	case GUESTMAP_WALK_GP:
		return format == GUESTMAP_WALK_LONG;
	case GUESTMAP_WALK_EPT_VIOLATION:
	case GUESTMAP_WALK_EPT_MISCONFIG:
		return format == GUESTMAP_WALK_EPT;
	}
	return false;
}

/* The error code of a fault against the access that took it. */
static bool walk_error_ok(const struct guestmap_walk *in, const struct guestmap_walk *out)
{
	uint64_t acc = in->access, wu = GUESTMAP_WALK_WRITE | GUESTMAP_WALK_USER;

	if (in->format == GUESTMAP_WALK_NPT)
		acc |= GUESTMAP_WALK_USER;	/* always a user access */
	if (out->fault == GUESTMAP_WALK_PF)
		return !(out->error & ~0x1fULL) && (out->error & wu) == (acc & wu) &&
		       (!(out->error & GUESTMAP_WALK_FETCH) || (acc & GUESTMAP_WALK_FETCH));
	/* EPT: bits 7 and 8 set, W as the access, R, W, X as granted. */
	if (out->fault == GUESTMAP_WALK_EPT_VIOLATION)
		return !(out->error & ~0x1bfULL) && (out->error & 0x180) == 0x180 &&
		       !(out->error & 2) == !(acc & GUESTMAP_WALK_WRITE);
	return true;
}

/*
 * A walk's answer: consistent in itself, and the entries it reports are
 * those in memory where the model knows them (NO_AD: the walk wrote
 * nothing).
 */
static void check_walk(struct world *w, struct call *c)
{
	const struct guestmap_walk *in = &c->in.wk, *out = &c->out.wk;
	int levels = walk_levels(in), l, i;
	uint64_t size, table, gpa, hva, pte;
	struct mslot *s;
	int r;

	if (c->argcls != ARG_GOOD)
		return;
	if (out->fault < WK_NFAULTS)
		w->t.walk_faults[out->fault]++;
	if (!walk_fault_ok(in->format, out->fault) || out->level > (uint32_t)levels) {
		fail(w, c, "fault %u at level %u for format %u, %d levels", out->fault,
		     out->level, in->format, levels);
		return;
	}
	if (in->format == GUESTMAP_WALK_LONG &&
	    (out->fault == GUESTMAP_WALK_GP) == walk_canonical(in))
		fail(w, c, "fault %u for a%s canonical address", out->fault,
		     walk_canonical(in) ? "" : " non-");
	if ((out->fault == GUESTMAP_WALK_GP) != !out->level)
		fail(w, c, "fault %u at level %u", out->fault, out->level);
	if (!walk_error_ok(in, out))
		fail(w, c, "fault %u with error %#" PRIx64 " for access %#x", out->fault,
		     (uint64_t)out->error, in->access);
	if ((in->flags & GUESTMAP_WALK_NO_AD) && out->retries)
		fail(w, c, "%u retries without A/D updates", out->retries);
	for (i = 0; i < GUESTMAP_WALK_MAX_LEVELS; i++)
		if ((i + 1 < (int)out->level || i >= levels || !out->level) && out->ptes[i]) {
			fail(w, c, "ptes[%d] is %#" PRIx64 " after a walk that ended at level %u",
			     i, (uint64_t)out->ptes[i], out->level);
			return;
		}
	if (out->fault == GUESTMAP_WALK_OK) {
		size = out->level <= 3 ? PAGE << (9 * (out->level - 1)) : 0;
		if (!size || out->page_size != size || ((out->gpa ^ in->addr) & (size - 1)) ||
		    (out->gpa >> in->maxphyaddr))
			fail(w, c, "a leaf at level %u: gpa %#" PRIx64 ", page size %#" PRIx64
			     " for addr %#" PRIx64, out->level, (uint64_t)out->gpa,
			     (uint64_t)out->page_size, (uint64_t)in->addr);
	}
	if (out->fault == GUESTMAP_WALK_GP)
		return;
	/* Each level's entry, from the root down: what user space sees. */
	table = in->root & walk_pa(in);
	for (l = levels; l >= (int)out->level && l >= 1; l--) {
		gpa = table + walk_index(in->addr, l) * 8;
		r = lookup(w, gpa, gpa + 7, &s);
		if (!r) {
			if (out->ptes[l - 1] || l != (int)out->level)
				fail(w, c, "the level %d table at gpa %#" PRIx64
				     " is in no slot, yet the walk read %#" PRIx64
				     " there and ended at level %u", l, gpa & ~(PAGE - 1),
				     (uint64_t)out->ptes[l - 1], out->level);
			return;
		}
		if (r < 0 || !own_gpas(w, gpa, gpa + 7))
			return;
		hva = s->hva + (gpa - s->gpa);
		if (!data_known(w, hva, 8))
			return;
		memcpy(&pte, (void *)hva, 8);
		if (pte != out->ptes[l - 1]) {
			page_state(w, hva, c->cause, sizeof(c->cause));
			fail(w, c, "the level %d entry at gpa %#" PRIx64 " (A+%#" PRIx64
			     ") is %#" PRIx64 ", the walk read %#" PRIx64, l, gpa,
			     hva - arena_lo(), pte, (uint64_t)out->ptes[l - 1]);
			return;
		}
		table = pte & WK_ADDR_MASK;
	}
}

static void post_check(struct world *w, struct call *c)
{
	const union args *in = &c->in;

	if (c->ret)
		return;
	switch (c->op) {
	case OP_VERSION:
		if (c->argcls == ARG_GOOD &&
		    (c->out.v.version != GUESTMAP_API_VERSION ||
		     c->out.v.page_size != PAGE ||
		     (c->out.v.caps & (GUESTMAP_CAP_MIRROR | GUESTMAP_CAP_MAP)) !=
		     (GUESTMAP_CAP_MIRROR | GUESTMAP_CAP_MAP)))
			fail(w, c, "version %u, page size %u, caps %#" PRIx64,
			     c->out.v.version, c->out.v.page_size,
			     (uint64_t)c->out.v.caps);
		break;
	case OP_STATS:
		check_stats(w, c);
		break;
	case OP_QUERY:
		check_query(w, c);
		break;
	case OP_CLASSIFY:
		check_classify(w, c);
		break;
	case OP_READ:
	case OP_WRITE:
		check_data(w, c, in->rw.gpa, in->rw.len, in->rw.buf, c->op == OP_WRITE);
		break;
	case OP_MAP_READ:
	case OP_MAP_WRITE:
	case OP_ACC_READ:
	case OP_ACC_WRITE:
	case OP_CACHE_READ:
	case OP_CACHE_WRITE:
		check_data(w, c, in->a.gpa, in->a.len, in->a.buf, writes_guest(c->op));
		check_via(w, c);
		break;
	case OP_CMPXCHG:
		check_cmpxchg(w, c);
		check_via(w, c);
		break;
	case OP_WALK:
		check_walk(w, c);
		break;
	default:
		break;
	}
}

/* The model follows what the kernel did, expected or not. */
static void update_model(struct world *w, const struct call *c)
{
	const struct guestmap_memslot *m = &c->in.m;
	struct mslot *s;

	if (c->cmd != C_MEMSLOT || c->ret || m->slot >= NSLOTS)
		return;
	s = &w->slot[m->slot];
	if (w->mt && !own_id(w, m->slot))
		return;
	if (!m->memory_size) {
		if (s->used)
			hist_add(w, s->gpa);
		s->used = false;
		return;
	}
	s->used = true;
	s->flags = m->flags;
	s->gpa = m->guest_phys_addr;
	s->size = m->memory_size;
	s->hva = m->userspace_addr;
	hist_add(w, s->gpa);
}

/* Fresh data to write, and a poison to read over. */
static void prepare_buffers(struct world *w, const struct call *c)
{
	uint64_t buf = 0, len = 0, i;

	if (c->cmd == C_READ || c->cmd == C_WRITE) {
		buf = c->in.rw.buf;
		len = c->in.rw.len;
	} else if (c->cmd == C_ACCESS) {
		buf = c->in.a.buf;
		len = c->in.a.len;
	}
	if (!len || len > RW_MAX || !in_scratch_data(w, buf, len))
		return;
	if (buf - (uintptr_t)w->scratch >= SC_OUT &&
	    buf - (uintptr_t)w->scratch < SC_OUT + BIG) {
		memset((void *)buf, 0xee, min64(len, 64));
		return;
	}
	if (buf - (uintptr_t)w->scratch >= SC_RO)
		buf -= SC_RO - SC_IN;	/* write the ro view's pages */
	for (i = 0; i < min64(len, 256); i += 8) {
		uint64_t r = rnd(w);

		memcpy((void *)(buf + i), &r, min64(8, len - i));
	}
}

/* Makes the call @c, checks its result and keeps the model up to date. */
static void run_call(struct world *w, struct call *c)
{
	unsigned long sigs;
	char b[1024];
	double t0;

	if (!w->child)
		prepare_buffers(w, c);
	place_arg(w, c);
	c->allowed = predict(w, c);
	/* Atomics, so the compiler reads the counter after the call. */
	sigs = __atomic_load_n(&sigs_seen, __ATOMIC_SEQ_CST);
	t0 = now();
	c->ret = ioctl(w->fd, c->nr, (void *)c->argp);
	c->err = c->ret ? errno : 0;
	w->t.secs[c->op] += now() - t0;
	if (c->err == EINTR && sigs != __atomic_load_n(&sigs_seen, __ATOMIC_SEQ_CST))
		c->allowed |= B(EINTR);
	w->ncalls++;
	if (c->argcls == ARG_GOOD)
		memcpy(&c->out, (void *)c->argp, sizeof(c->out.raw));
	w->t.calls[c->op]++;
	w->t.res[c->op][c->err < NERRNO ? c->err : NERRNO - 1]++;
	if (w->child) {
		if (c->ret != -1 || c->err != EIO)
			fail(w, c, "a forked child's ioctl must fail with EIO");
		return;
	}
	if (opt_trace && !w->mt) {
		describe(w, c, b, sizeof(b));
		trace(w, "%s = %s", b, c->ret ? errname(c->err) : "0");
	}
	if (c->ret && c->ret != -1)
		fail(w, c, "ioctl returned %d", c->ret);
	else if (!(c->allowed & (c->ret ? (c->err < 64 ? B(c->err) : 0) : OK)))
		fail(w, c, c->ret ? "errno not allowed here" :
				    "success where the ABI requires an error");
	post_check(w, c);
	update_model(w, c);
}

static bool get_stats(struct world *w, struct call *c)
{
	memset(c, 0, sizeof(*c));
	c->op = OP_STATS;
	c->cmd = C_STATS;
	c->nr = GUESTMAP_GET_STATS;
	c->size = sizeof(c->in.s);
	run_call(w, c);
	return !c->ret;
}

/*
 * GET_STATS's entries_present against the entries QUERY shows in every
 * slot: single_thread knows every slot, and nothing else may be mirrored.
 * The kernel may zap entries meanwhile (khugepaged, compaction), never
 * add any: the count must lie between the two statistics around it.
 */
static void census(struct world *w)
{
	uint64_t present = 0, off, n, before;
	struct call c;
	int i;

	if (!get_stats(w, &c))
		return;
	before = c.out.s.entries_present;
	for (i = 0; i < NSLOTS; i++) {
		const struct mslot *s = &w->slot[i];

		for (off = 0; s->used && off < s->size / PAGE; off += n) {
			n = min64(GUESTMAP_QUERY_MAX, s->size / PAGE - off);
			memset(&c, 0, sizeof(c));
			c.op = OP_QUERY;
			c.cmd = C_QUERY;
			c.nr = GUESTMAP_QUERY;
			c.size = sizeof(c.in.q);
			c.in.q.gpa = s->gpa + off * PAGE;
			c.in.q.npages = n;
			c.in.q.entries = (uintptr_t)w->out;
			run_call(w, &c);
			if (c.ret)
				return;
			present += count_present(w, &c);
		}
	}
	if (get_stats(w, &c) &&
	    (present > before || present < c.out.s.entries_present))
		fail(w, &c, "entries_present was %" PRIu64 ", then %" PRIu64
		     ", but QUERY finds %" PRIu64 " entries in the slots",
		     before, (uint64_t)c.out.s.entries_present, present);
}

/* --- Memory events -------------------------------------------------------- */

static int pick_kind(struct world *w)
{
	uint64_t r = below(w, 100);

	if (r < 34)
		return K_ANON;
	if (r < 52)
		return K_MEMFD_SH;
	if (r < 64)
		return K_MEMFD_PRIV;
	if (r < 78 && w->dev_pages[0])
		return K_RESERVED;
	if (r < 90 && w->dev_pages[1])
		return K_HIDDEN;
	if (w->dev_pages[2])
		return K_PMEM;
	return K_ANON;
}

static int pick_prot(struct world *w)
{
	uint64_t r = below(w, 100);

	return r < 70 ? PROT_READ | PROT_WRITE : r < 90 ? PROT_READ : PROT_NONE;
}

static uint8_t prot_bits(int prot)
{
	return ((prot & PROT_READ) ? PS_R : 0) | ((prot & PROT_WRITE) ? PS_W : 0);
}

static const char *prot_name(int prot)
{
	return prot == PROT_NONE ? "PROT_NONE" : prot == PROT_READ ? "PROT_READ" :
	       "PROT_READ|PROT_WRITE";
}

/* User space writes (or reads) the pages it may: data for the oracle. */
static void touch(struct world *w, uint64_t a, uint64_t len)
{
	uint64_t p, r, i, n = min64(len / PAGE, 8);

	for (i = 0; i < n; i++) {
		int prot;

		/* A few pages: faulting in whole windows costs too much. */
		p = n == len / PAGE ? a + i * PAGE : a + below(w, len / PAGE) * PAGE;
		prot = page_prot(w, p);

		if (prot < 0)
			continue;
		if (prot & PS_W) {
			r = rnd(w);
			memcpy((void *)p, &r, 8);
			memcpy((void *)(p + below(w, PAGE / 8) * 8), &r, 8);
		} else if (prot & PS_R) {
			w->sink += *(const uint8_t *)p;
		}
	}
}

/* A page range in this world's windows, often under a slot. */
static void pick_range(struct world *w, uint64_t *a, uint64_t *len)
{
	uint64_t lo = own_lo(w), hi = own_hi(w), first, n;
	int ids[NSLOTS], nids = 0, i;

	for (i = 0; i < NSLOTS; i++)
		if (w->slot[i].used && in_own(w, w->slot[i].hva, 1))
			ids[nids++] = i;
	if (nids && chance(w, 60)) {
		const struct mslot *s = &w->slot[ids[below(w, nids)]];

		first = s->hva + below(w, s->size / PAGE) * PAGE;
	} else {
		first = lo + below(w, (hi - lo) / PAGE) * PAGE;
	}
	/* Small: in the debug kernel, changing a page costs 100s of us. */
	n = chance(w, 80) ? 1 + below(w, 16) : chance(w, 90) ? 1 + below(w, 128) :
			    WIN_PAGES;
	if (first >= hi)
		first = hi - PAGE;
	*a = first;
	*len = min64(n * PAGE, hi - first);
}

static void ev_mmap(struct world *w, uint64_t a, uint64_t len)
{
	int kind = pick_kind(w), prot = pick_prot(w), fd = -1, flags = MAP_FIXED;
	uint64_t off = 0, npages;
	void *p;

	switch (kind) {
	case K_ANON:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case K_MEMFD_SH:
	case K_MEMFD_PRIV:
		flags |= kind == K_MEMFD_SH ? MAP_SHARED : MAP_PRIVATE;
		fd = w->memfd;
		off = below(w, (MEMFD_SIZE - len) / PAGE + 1) * PAGE;
		break;
	default:
		npages = w->dev_pages[kind - K_RESERVED];
		len = min64(len, npages * PAGE);
		/*
		 * Shared only: fork() fails (x86 PAT) once a private PFNMAP
		 * vma has an anonymous copy at its start, and the children
		 * are needed.
		 */
		flags |= MAP_SHARED;
		fd = w->devfd;
		off = w->dev_phys[kind - K_RESERVED] +
		      below(w, npages - len / PAGE + 1) * PAGE;
		break;
	}
	p = mmap((void *)a, len, prot, flags, fd, off);
	trace(w, "mmap(A+%#" PRIx64 ", %#" PRIx64 ", %s, kind %d, offset %#" PRIx64 ") = %s",
	      a - arena_lo(), len, prot_name(prot), kind, off,
	      p == MAP_FAILED ? errname(errno) : "0");
	if (p == MAP_FAILED) {
		sync_maps(w, a, a + len, true);	/* MAP_FIXED may have unmapped */
		return;
	}
	set_state(a, len, PS(kind, prot_bits(prot)));
	if (!is_devmem(kind) && chance(w, 75))
		madvise((void *)a, len, MADV_NOHUGEPAGE);
	if ((prot & PROT_WRITE) && chance(w, 60))
		touch(w, a, len);
}

static void ev_mprotect(struct world *w, uint64_t a, uint64_t len)
{
	int prot = pick_prot(w), r;
	uint64_t p;

	r = mprotect((void *)a, len, prot) ? errno : 0;
	trace(w, "mprotect(A+%#" PRIx64 ", %#" PRIx64 ", %s) = %s", a - arena_lo(), len,
	      prot_name(prot), errname(r));
	if (r && r != ENOMEM) {
		sync_maps(w, a, a + len, true);
		return;
	}
	/*
	 * Over a hole, mprotect() changes what precedes it and fails with
	 * ENOMEM.  (Reading /proc/self/maps instead would cost more than
	 * the call: the periodic check of the model covers this.)
	 */
	for (p = a; p < a + len && (*ps(p) & PS_MAPPED); p += PAGE)
		*ps(p) = (*ps(p) & ~(PS_R | PS_W)) | prot_bits(prot);
}

static void ev_mremap(struct world *w, uint64_t a, uint64_t len)
{
	uint64_t lo = own_lo(w), hi = own_hi(w), d;
	uint8_t *save = w->tmp;
	void *p;

	d = lo + below(w, (hi - lo - len) / PAGE + 1) * PAGE;
	if (overlaps(a, a + len - 1, d, d + len - 1))
		return;
	p = mremap((void *)a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)d);
	trace(w, "mremap(A+%#" PRIx64 ", %#" PRIx64 " to A+%#" PRIx64 ") = %s",
	      a - arena_lo(), len, d - arena_lo(), p == MAP_FAILED ? errname(errno) : "0");
	if (p == MAP_FAILED && errno == EFAULT) {
		/*
		 * Nothing at the source: refused first.  Else the source
		 * spans vmas, found out by mremap_to() only after it has
		 * unmapped the destination.
		 */
		if (*ps(a) & PS_MAPPED)
			set_state(d, len, 0);
		return;
	}
	if (p == MAP_FAILED) {
		sync_maps(w, a, a + len, true);
		sync_maps(w, d, d + len, true);
		return;
	}
	memcpy(save, ps(a), len / PAGE);
	set_state(a, len, 0);
	memcpy(ps(d), save, len / PAGE);
}

static void do_event(struct world *w)
{
	uint64_t a, len, r = below(w, 100);
	double t0 = now();
	enum event ev;
	int ret;

	pick_range(w, &a, &len);
	if (r < 12) {
		ev = EV_MUNMAP;
		ret = munmap((void *)a, len);
		trace(w, "munmap(A+%#" PRIx64 ", %#" PRIx64 ") = %d", a - arena_lo(), len, ret);
		set_state(a, len, 0);
	} else if (r < 36) {
		ev = EV_MMAP;
		ev_mmap(w, a, len);
	} else if (r < 58) {
		ev = EV_MPROTECT;
		ev_mprotect(w, a, len);
	} else if (r < 76) {
		ev = r < 68 ? EV_DONTNEED : EV_FREE;
		ret = madvise((void *)a, len, ev == EV_FREE ? MADV_FREE : MADV_DONTNEED);
		trace(w, "madvise(A+%#" PRIx64 ", %#" PRIx64 ", %s) = %s", a - arena_lo(),
		      len, ev_name[ev], ret ? errname(errno) : "0");
	} else if (r < 83) {
		ev = EV_MREMAP;
		ev_mremap(w, a, len);
	} else if (r < 97) {
		ev = EV_TOUCH;
		trace(w, "touch(A+%#" PRIx64 ", %#" PRIx64 ")", a - arena_lo(), len);
		touch(w, a, len);
	} else {
		ev = EV_THP;
		ret = madvise((void *)a, len, r & 1 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		trace(w, "madvise(A+%#" PRIx64 ", %#" PRIx64 ", %s) = %s", a - arena_lo(),
		      len, r & 1 ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE",
		      ret ? errname(errno) : "0");
	}
	w->t.events[ev]++;
	w->t.ev_time[ev] += now() - t0;
}

/* The model must still be what the kernel says; else the fuzzer erred. */
static void verify_model(struct world *w)
{
	int wrong = sync_maps(w, own_lo(w), own_hi(w), true);

	if (wrong)
		fail(w, NULL, "fuzzer bug: the model of %d pages disagreed with /proc/self/maps, first A+%#"
		     PRIx64 ": model %#x, kernel %#x", wrong,
		     (w->first_wrong & (USER_TOP - 1)) - arena_lo(),
		     (unsigned int)(w->first_wrong >> 48) & 0xff,
		     (unsigned int)(w->first_wrong >> 56));
}

/*
 * A forked child makes @n random calls on the parent's fd: each must fail
 * with EIO, whatever its number and argument.  The child's copy of the
 * generator runs on; the parent's is untouched, so it stays deterministic.
 */
static void child_burst(struct world *w, int n)
{
	struct call c;
	int status, i;
	pid_t pid;

	pthread_mutex_lock(&print_lock);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	pthread_mutex_unlock(&print_lock);
	if (pid < 0) {
		/* Memory, not the module: noted, and counted at the end. */
		w->t.fork_errors++;
		return;
	}
	if (!pid) {
		w->child = true;
		w->fails = 0;
		for (i = 0; i < n; i++) {
			gen_call(w, &c);
			run_call(w, &c);
		}
		_exit(w->fails ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail(w, NULL, "forked child: status %#x", status);
	w->t.child_calls += n;
	w->t.forks++;
	trace(w, "fork: %d calls from the child", n);
}

/* The fuzzing loop of one world, until its budget or time runs out. */
static void fuzz(struct world *w)
{
	struct call c;
	double t0;

	while (w->ncalls < w->budget) {
		if (!(w->iter & 63) && now() > w->deadline)
			break;
		w->iter++;
		if (chance(w, EVENT_PERCENT)) {
			t0 = now();
			do_event(w);
			w->t.ev_secs += now() - t0;
			continue;
		}
		if (!w->mt && (w->iter == 100 || !below(w, 4000)))
			child_burst(w, 64);
		if (!(w->iter % 1000)) {
			t0 = now();
			if (!w->mt)
				census(w);
			verify_model(w);
			w->t.check_secs += now() - t0;
		}
		gen_call(w, &c);
		run_call(w, &c);
	}
}

/* --- Worlds ----------------------------------------------------------------- */

/* The first /proc/iomem range named @name, as <size>@<phys>. */
static int iomem_range(const char *name, unsigned long *size, unsigned long *phys)
{
	unsigned long lo, hi;
	char line[256];
	int found = 0;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && !found && fgets(line, sizeof(line), f))
		if (strstr(line, name) && sscanf(line, " %lx-%lx", &lo, &hi) == 2 && hi > lo) {
			*phys = lo;
			*size = hi + 1 - lo;
			found = 1;
		}
	if (f)
		fclose(f);
	return found;
}

/* /dev/mem range @kind is @size bytes at @phys; @use of them are used. */
static void set_devmem(struct world *w, int kind, uint64_t phys, uint64_t size,
		       uint64_t use)
{
	int i = kind - K_RESERVED;

	w->dev_lo[i] = phys;
	w->dev_hi[i] = phys + size;
	w->dev_phys[i] = phys;
	w->dev_pages[i] = min64(size, use) / PAGE;
}

static int world_init(struct world *w, int fd, int tid)
{
	unsigned long size, phys;
	int sfd, i;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->tid = tid;
	w->memfd = -1;
	w->devfd = -1;
	w->scratch = mmap(NULL, SC_LEN, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	w->maps = malloc(MAPS_BUF);
	w->tmp = malloc(ARENA_PAGES);
	sfd = memfd_create("gmfuzz-scratch", MFD_CLOEXEC);
	w->memfd = memfd_create("gmfuzz", MFD_CLOEXEC);
	if (w->scratch == MAP_FAILED || !w->maps || !w->tmp || sfd < 0 ||
	    w->memfd < 0 || ftruncate(sfd, BIG) || ftruncate(w->memfd, MEMFD_SIZE))
		return -1;
	w->scratch_len = SC_LEN;
	w->argpg = w->scratch + SC_ARG;
	w->in = w->scratch + SC_IN;
	w->out = w->scratch + SC_OUT;
	w->ro = w->scratch + SC_RO;
	if (mprotect(w->argpg, PAGE, PROT_READ | PROT_WRITE) ||
	    mprotect(w->out, BIG, PROT_READ | PROT_WRITE) ||
	    mmap(w->in, BIG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, sfd, 0) ==
	    MAP_FAILED ||
	    mmap(w->ro, BIG, PROT_READ, MAP_SHARED | MAP_FIXED, sfd, 0) == MAP_FAILED)
		return -1;
	close(sfd);
	for (i = 0; i < NSLOTS; i++)
		w->slot[i].used = false;
	if (env_range("GUESTMAP_RESERVED", &size, &phys))
		set_devmem(w, K_RESERVED, phys, size, size);
	if (env_range("GUESTMAP_HIDDEN", &size, &phys))
		set_devmem(w, K_HIDDEN, phys, size, 2048 * PAGE);
	/* pmem's last 8 MiB, away from the filesystem map_test makes. */
	if (iomem_range("Persistent Memory", &size, &phys) && size >= (16UL << 20))
		set_devmem(w, K_PMEM, phys + size - (8UL << 20), 8UL << 20, 8UL << 20);
	if (w->dev_pages[0] || w->dev_pages[1] || w->dev_pages[2]) {
		w->devfd = open("/dev/mem", O_RDWR | O_CLOEXEC);
		if (w->devfd < 0)
			memset(w->dev_pages, 0, sizeof(w->dev_pages));
	}
	return 0;
}

static void set_bases(struct world *w, uint64_t zone, bool shared)
{
	static const uint64_t low[] = {
		0, 0x100000, 0x3ff00000, 0x40000000, 0xfff00000, 0x100000000ULL,
	};
	static const uint64_t high[] = {
		GPA_LIMIT - 0x400000, GPA_LIMIT - 0x4000, GPA_LIMIT,
		GPA_LIMIT + 0x200000, ~0ULL - 0xfff,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(low); i++)
		w->bases[w->nbases++] = zone + low[i];
	if (!w->mt)
		w->bases[w->nbases++] = 1ULL << 47;
	for (i = 0; shared && i < ARRAY_SIZE(high); i++)
		w->bases[w->nbases++] = high[i];
}

/* This world's windows, first half anonymous memory, the rest reserved. */
static int map_windows(struct world *w)
{
	int i;

	for (i = w->win_lo; i < w->win_hi; i++) {
		if (mmap((void *)win_addr(i), WIN_SIZE / 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return -1;
		set_state(win_addr(i), WIN_SIZE / 2, PS(K_ANON, PS_R | PS_W));
		touch(w, win_addr(i), WIN_SIZE / 4);
	}
	return 0;
}

static void tally_add(struct tally *to, const struct tally *t)
{
	unsigned int i, e;

	for (i = 0; i < NR_OPS; i++) {
		to->calls[i] += t->calls[i];
		to->secs[i] += t->secs[i];
		for (e = 0; e < NERRNO; e++)
			to->res[i][e] += t->res[i][e];
	}
	for (i = 0; i < NR_EVENTS; i++) {
		to->events[i] += t->events[i];
		to->ev_time[i] += t->ev_time[i];
	}
	to->ev_secs += t->ev_secs;
	to->check_secs += t->check_secs;
	to->child_calls += t->child_calls;
	to->forks += t->forks;
	to->fork_errors += t->fork_errors;
	to->signals += t->signals;
	for (i = 0; i < WK_NFAULTS; i++)
		to->walk_faults[i] += t->walk_faults[i];
	to->walk_chains += t->walk_chains;
}

static void report(const char *name, const struct tally *t, double secs)
{
	uint64_t total = 0, all[NERRNO] = { 0 };
	double kernel = 0;
	char b[1024];
	unsigned int i, e;
	int len;

	for (i = 0; i < NR_OPS; i++)
		total += t->calls[i];
	printf("# %s: seed %" PRIu64 ": %" PRIu64 " calls in %.1f s, %.0f calls/s\n",
	       name, opt_seed, total, secs, secs > 0 ? total / secs : 0);
	printf("# %s: %" PRIu64 " more calls from %" PRIu64 " forked children (%" PRIu64
	       " forks failed), %" PRIu64 " signals sent\n",
	       name, t->child_calls, t->forks, t->fork_errors, t->signals);
	for (i = 0; i < NR_OPS; i++)
		kernel += t->secs[i];
	printf("# %s: time in ioctls %.1f s, memory events %.1f s, census and model checks %.1f s\n",
	       name, kernel, t->ev_secs, t->check_secs);
	len = snprintf(b, sizeof(b), "# %s: memory events:", name);
	for (i = 0; i < NR_EVENTS; i++)
		len += snprintf(b + len, sizeof(b) - len, " %s %" PRIu64 " (%.0f us)%s",
				ev_name[i], t->events[i],
				t->events[i] ? t->ev_time[i] / t->events[i] * 1e6 : 0,
				i + 1 < NR_EVENTS ? "," : "");
	printf("%s\n", b);
	printf("# %s: WALK answers: OK %" PRIu64 ", #PF %" PRIu64 ", #GP %" PRIu64
	       ", EPT violation %" PRIu64 ", EPT misconfig %" PRIu64 "; %" PRIu64
	       " walks through tables written for them\n", name, t->walk_faults[0],
	       t->walk_faults[1], t->walk_faults[2], t->walk_faults[3],
	       t->walk_faults[4], t->walk_chains);
	for (i = 0; i <= NR_OPS; i++) {
		const uint64_t *res = i < NR_OPS ? t->res[i] : all;
		uint64_t n = i < NR_OPS ? t->calls[i] : total;

		if (!n)
			continue;
		len = snprintf(b, sizeof(b), "#   %-20s %9" PRIu64 " %6.0f us:",
			       i < NR_OPS ? op_name[i] : "all", n,
			       i < NR_OPS ? t->secs[i] / n * 1e6 : secs / n * 1e6);
		for (e = 0; e < NERRNO; e++) {
			if (i < NR_OPS)
				all[e] += res[e];
			if (res[e])
				len += snprintf(b + len, sizeof(b) - len, " %s %" PRIu64,
						e == NERRNO - 1 ? "other" : errname(e),
						res[e]);
		}
		printf("%s\n", b);
	}
	fflush(stdout);
}

/*
 * After the fuzzing, the context must still work: a new slot, a pattern
 * written and read back through the guest, compared with user space.
 */
static void context_works(struct __test_metadata *_metadata, int fd)
{
	struct guestmap_memslot m = { .guest_phys_addr = 0x123400000ULL };
	size_t len = 4 * PAGE, i;
	struct guestmap_rw rw;
	struct guestmap_stats st;
	char *p, *buf;

	for (m.slot = 0; m.slot < NSLOTS; m.slot++)
		ioctl(fd, GUESTMAP_SET_MEMSLOT, &m);	/* EINVAL if unused */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = malloc(len);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(NULL, buf);
	memset(p, 0x5a, len);
	m.slot = 0;
	m.memory_size = len;
	m.userspace_addr = (uintptr_t)p;
	ASSERT_EQ(0, ioctl(fd, GUESTMAP_SET_MEMSLOT, &m));
	for (i = 0; i < len; i++)
		buf[i] = i * 7 + 3;
	rw.gpa = m.guest_phys_addr + 100;
	rw.len = 5000;
	rw.buf = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(fd, GUESTMAP_WRITE_GUEST, &rw));
	EXPECT_EQ(0, memcmp(p + 100, buf, 5000));
	for (i = 0; i < len; i++)
		p[i] = ~i;
	rw.gpa = m.guest_phys_addr;
	rw.len = len;
	ASSERT_EQ(0, ioctl(fd, GUESTMAP_READ_GUEST, &rw));
	EXPECT_EQ(0, memcmp(buf, p, len));
	EXPECT_EQ(0, ioctl(fd, GUESTMAP_GET_STATS, &st));
	m.memory_size = 0;
	EXPECT_EQ(0, ioctl(fd, GUESTMAP_SET_MEMSLOT, &m));
	munmap(p, len);
	free(buf);
}

/* --- Tests ------------------------------------------------------------------- */

FIXTURE(fuzz) {
	int fd;
};

FIXTURE_SETUP(fuzz)
{
	struct guestmap_api_version v;

	self->fd = open_dev();
	if (self->fd < 0)
		SKIP(return, "no %s (is guestmap.ko loaded?)", DEV_PATH);
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &v));
	ASSERT_EQ(GUESTMAP_API_VERSION, v.version);
	ASSERT_EQ(PAGE, v.page_size);
	ASSERT_EQ(0, arena_init());
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(fuzz, single_thread, 180)
{
	struct world *w = malloc(sizeof(*w));
	double secs;

	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, world_init(w, self->fd, -1));
	snprintf(w->name, sizeof(w->name), "single_thread");
	w->rng = opt_seed;
	w->id_lo = 0;
	w->id_hi = NSLOTS;
	w->win_lo = 0;
	w->win_hi = NWIN;
	w->zone_lo = 0;
	w->zone_hi = ~0ULL;
	set_bases(w, 0, true);
	ASSERT_EQ(0, map_windows(w));
	w->budget = opt_count / 2;
	w->start = now();
	w->deadline = w->start + opt_seconds / 2;
	fuzz(w);
	secs = now() - w->start;
	census(w);
	verify_model(w);
	if (trace_file)
		fflush(trace_file);
	report(w->name, &w->t, secs);
	fail_summary(w);
	EXPECT_EQ(0, w->fails);
	EXPECT_LT(0, w->t.forks);	/* the EIO check ran */
	context_works(_metadata, self->fd);
}

static void on_sigusr1(int sig)
{
	__atomic_fetch_add(&sigs_seen, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	struct world *w = arg;

	fuzz(w);
	verify_model(w);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The fixed slots every thread may use and none may change: 0 on ordinary
 * memory, 1 READONLY (writes must fail), 2 on PROT_NONE memory and 3 on
 * PROT_NONE /dev/mem (reads must fail), each faulted in before.
 */
static int fixed_setup(struct world *m)
{
	static const uint64_t npages[NFIXED] = { 128, 128, 128, 64 };
	struct guestmap_memslot ms;
	struct guestmap_fault f;
	int i, kind;
	void *p;

	for (i = 0; i < NFIXED; i++) {
		uint64_t a = win_addr(i), len = npages[i] * PAGE;

		kind = i == 3 && m->dev_pages[0] >= npages[i] ? K_RESERVED : K_ANON;
		if (kind == K_RESERVED)
			p = mmap((void *)a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 m->devfd, m->dev_phys[0]);
		else
			p = mmap((void *)a, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		memset(p, 0x11 * (i + 1), len);
		set_state(a, len, PS(kind, PS_R | PS_W));
		ms.slot = i;
		ms.flags = i == 1 ? GUESTMAP_MEM_READONLY : 0;
		ms.guest_phys_addr = i * 0x10000000ULL;
		ms.memory_size = len;
		ms.userspace_addr = a;
		f.gpa = ms.guest_phys_addr;
		f.size = len;
		f.flags = 0;
		f.pad = 0;
		if (ioctl(m->fd, GUESTMAP_SET_MEMSLOT, &ms) ||
		    ioctl(m->fd, GUESTMAP_MIRROR_FAULT, &f))
			return -1;
		if (i >= 2) {
			if (mprotect(p, len, PROT_NONE))
				return -1;
			set_state(a, len, PS(kind, 0));
		}
		fixed_slot[i].used = true;
		fixed_slot[i].fixed = true;
		fixed_slot[i].flags = ms.flags;
		fixed_slot[i].gpa = ms.guest_phys_addr;
		fixed_slot[i].size = len;
		fixed_slot[i].hva = a;
	}
	memcpy(m->slot, fixed_slot, sizeof(fixed_slot));
	return 0;
}

TEST_F_TIMEOUT(fuzz, threads, 180)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct world *ws[NTHREADS], *m = malloc(sizeof(*m));
	pthread_t th[NTHREADS];
	double start, next_fork;
	struct tally total;
	uint64_t fails = 0;
	int i, running;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, world_init(m, self->fd, NTHREADS));
	snprintf(m->name, sizeof(m->name), "main");
	m->mt = true;
	m->rng = opt_seed * 0x100000001b3ULL + NTHREADS + 1;
	m->win_lo = 0;
	m->win_hi = NFIXED;
	m->zone_lo = 0;
	m->zone_hi = ZONE;
	set_bases(m, 0, false);
	ASSERT_EQ(0, fixed_setup(m));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	start = now();
	for (i = 0; i < NTHREADS; i++) {
		struct world *w = malloc(sizeof(*w));

		ASSERT_NE(NULL, w);
		ASSERT_EQ(0, world_init(w, self->fd, i));
		ws[i] = w;
		snprintf(w->name, sizeof(w->name), "thread%d", i);
		w->mt = true;
		w->rng = opt_seed * 0x100000001b3ULL + i + 1;
		w->id_lo = NFIXED + i * THREAD_IDS;
		w->id_hi = w->id_lo + THREAD_IDS;
		w->win_lo = NFIXED + i * THREAD_WINS;
		w->win_hi = w->win_lo + THREAD_WINS;
		w->zone_lo = (i + 1) * ZONE;
		w->zone_hi = (i + 2) * ZONE;
		set_bases(w, w->zone_lo, true);
		w->bases[w->nbases++] = fixed_slot[i % NFIXED].gpa;
		memcpy(w->slot, fixed_slot, sizeof(fixed_slot));
		/* Each its own part of the /dev/mem ranges. */
		w->dev_phys[0] += (64 + i * 240) * PAGE;
		w->dev_pages[0] = w->dev_pages[0] >= 1024 ? 240 : 0;
		w->dev_phys[1] += i * 512 * PAGE;
		w->dev_pages[1] = w->dev_pages[1] ? 512 : 0;
		w->dev_phys[2] += i * 512 * PAGE;
		w->dev_pages[2] = w->dev_pages[2] ? 512 : 0;
		ASSERT_EQ(0, map_windows(w));
		w->budget = (opt_count - opt_count / 2) / NTHREADS;
		w->start = start;
		w->deadline = start + opt_seconds / 2;
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker, ws[i]));
	next_fork = start + 1;
	do {
		usleep(500 + below(m, 4000));
		i = below(m, NTHREADS);
		if (!__atomic_load_n(&ws[i]->done, __ATOMIC_ACQUIRE) &&
		    !pthread_kill(th[i], SIGUSR1))
			m->t.signals++;
		/* A child's calls race the threads' memory changes. */
		if (now() > next_fork) {
			child_burst(m, 64);
			next_fork = now() + 1;
		}
		for (running = 0, i = 0; i < NTHREADS; i++)
			running += !__atomic_load_n(&ws[i]->done, __ATOMIC_ACQUIRE);
	} while (running);
	memset(&total, 0, sizeof(total));
	tally_add(&total, &m->t);
	fails += m->fails;
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		tally_add(&total, &ws[i]->t);
		fails += ws[i]->fails;
	}
	report("threads", &total, now() - start);
	fail_summary(m);
	for (i = 0; i < NTHREADS; i++)
		fail_summary(ws[i]);
	EXPECT_EQ(0, fails);
	EXPECT_LT(0, total.forks);
	context_works(_metadata, self->fd);
}

/* Fills @opt_exclude from a list of op names: "CACHE_READ,QUERY". */
static int parse_exclude(const char *list)
{
	char *s = strdup(list), *tok, *save = NULL;
	unsigned int i;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_OPS; i++) {
			const char *n = op_name[i], *slash = strchr(n, '/');

			if (!strcasecmp(tok, n) || (slash && !strcasecmp(tok, slash + 1)))
				break;
		}
		if (i == NR_OPS) {
			fprintf(stderr, "unknown op %s\n", tok);
			free(s);
			return -1;
		}
		opt_exclude |= 1U << i;
	}
	free(s);
	return 0;
}

#define NDCTL	"ndctl create-namespace -f -e namespace0.0 -m "

static void restore_fsdax(void)
{
	if (system(NDCTL "fsdax >/dev/null 2>&1"))
		printf("# fuzz_test: pmem namespace not restored to fsdax\n");
}

int main(int argc, char **argv)
{
	char **args = calloc(argc + 1, sizeof(*args));
	const char *e;
	int i, n = 0;

	e = getenv("GM_FUZZ_SEED");
	if (e)
		opt_seed = strtoull(e, NULL, 0);
	e = getenv("GM_FUZZ_COUNT");
	if (e)
		opt_count = strtoull(e, NULL, 0);
	e = getenv("GM_FUZZ_SECONDS");
	if (e)
		opt_seconds = strtod(e, NULL);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			opt_seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			opt_count = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			opt_seconds = strtod(argv[++i], NULL);
		} else if (!strcmp(argv[i], "--trace")) {
			opt_trace = true;
		} else if (!strcmp(argv[i], "--trace-file") && i + 1 < argc) {
			opt_trace = true;
			trace_file = fopen(argv[++i], "w");
			if (!trace_file) {
				perror(argv[i]);
				return KSFT_FAIL;
			}
		} else if (!strcmp(argv[i], "--devdax")) {
			opt_devdax = true;
		} else if (!strcmp(argv[i], "--exclude") && i + 1 < argc) {
			if (parse_exclude(argv[++i]))
				return KSFT_FAIL;
		} else {
			args[n++] = argv[i];
		}
	}
	if (opt_exclude == (1U << NR_OPS) - 1) {
		fprintf(stderr, "every op excluded\n");
		return KSFT_FAIL;
	}
	/* Each test runs for half the time, and then checks the context. */
	_fuzz_single_thread_object->timeout = opt_seconds / 2 + 120;
	_fuzz_threads_object->timeout = opt_seconds / 2 + 120;
	printf("# fuzz_test: seed %" PRIu64 ", %" PRIu64 " calls, %.0f s\n", opt_seed,
	       opt_count, opt_seconds);
	if (opt_devdax) {
		if (system(NDCTL "devdax >/dev/null 2>&1"))
			printf("# fuzz_test: no device-dax namespace (ndctl failed)\n");
		/* The harness exit()s: children _exit(), so only we restore. */
		atexit(restore_fsdax);
	}
	return test_harness_run(n, args);
}
