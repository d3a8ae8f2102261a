// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap tracepoint selftests: each event of the "guestmap" trace system
 * fires when its operation runs, with the field values that operation
 * must produce.  The last test fails for an event of the system that no
 * test here covers (the covered[] table), so a new tracepoint needs one.
 *
 * Each test records in a tracefs instance of its own
 * (instances/gm_trace_<pid>): nothing else clears, enables or reads its
 * buffer.  It enables the events it checks, runs the operation, disables
 * them and reads the "name: key=value ..." lines the events print
 * (c/guestmap_trace.h), keeping those of its own task (or of the child it
 * forked); the last test checks that every key read here is in the
 * event's format file.
 *
 * Where each expected value comes from; never from the module:
 *  - what the test set up: the gfns, the number of pages and the user
 *    ranges it faulted, mapped, protected or unmapped, the ioctl command
 *    it issued, the pfn cache and vCPU it chose, the exit code it gave.
 *  - the MMU notifier events, their ranges, and what a mirror must do for
 *    them: Linux 6.12's own code and include/linux/mmu_notifier.h.
 *    mprotect() sends MMU_NOTIFY_PROTECTION_VMA over the range
 *    (change_pud_range(), mm/mprotect.c): a read-only range stays
 *    readable, so the mirror write-protects its writable entries; munmap()
 *    sends MMU_NOTIFY_UNMAP over the range (unmap_vmas(), mm/memory.c),
 *    after which the CPU frees its page tables too, so the mirror zaps and
 *    frees the emptied tables; MADV_DONTNEED sends MMU_NOTIFY_CLEAR
 *    (zap_page_range_single()), which zaps the entries but leaves the
 *    tables; "4" to clear_refs sends MMU_NOTIFY_SOFT_DIRTY over 0..-1UL
 *    (clear_refs_write(), fs/proc/task_mmu.c), write-protecting every pte;
 *    the exit of the last user of an mm sends MMU_NOTIFY_RELEASE over
 *    0..ULONG_MAX to every interval notifier (mn_itree_release(),
 *    mm/mmu_notifier.c), before the files are closed (do_exit(): exit_mm()
 *    then exit_files()).  Each of these is one notifier call for a range
 *    in one VMA and one PUD, all from the task that made the call.
 *  - errnos: the UAPI (include/uapi/linux/guestmap.h): EFAULT where
 *    nothing is mapped, ENOENT for a gpa in no slot, EINVAL for an
 *    unaligned memslot, EEXIST to create a vCPU over an id in use, EINVAL
 *    for a #VMEXIT outside guest mode; ENOTTY for an ioctl no driver
 *    knows.
 *  - how a page is mapped: KVM 6.12's kvm_vcpu_map() pins a page that has
 *    a struct page (the zero page included) and memremap()s a bare pfn
 *    (RAM above mem= has no struct page: pfn_valid() is false); its
 *    kvm_vcpu_unmap(map, dirty) marks a written page dirty, and a pfn
 *    without a refcounted page never (kvm_release_pfn_dirty()); a MAP_READ
 *    is never marked dirty (the UAPI's access flags); every successful
 *    kvm_vcpu_map() has its kvm_vcpu_unmap().  A gfn_to_pfn_cache maps
 *    on its first use and again after an invalidation (a refresh), and is
 *    reused otherwise (virt/kvm/pfncache.c); it has no unmap.
 *  - why a pfn cache view is dropped (reason=, c/guestmap_trace.h): an
 *    MMU notifier event on its page (event); the deletion of the memslot
 *    holding its frame (slot_deleted); any other memslot creation or
 *    deletion (slots_changed: the memslots generation changes, so
 *    kvm_gpc_check() fails for every view made before and the next use
 *    refreshes); the destruction of the nested vCPU using it (forgotten).
 *    The view of nested vCPU id is GUESTMAP_NR_CACHES + id, after the
 *    caches GUESTMAP_ACCESS names (src/nested/vcpus.rs, cache_of()).
 *  - a memslot's deletion zaps its entries outside any MMU notifier event
 *    and frees the mirror's tables wholly inside its gfn range
 *    (src/mirror/table.rs, zap(true)): 512 4 KiB pages from a 2 MiB-
 *    aligned gfn fill one leaf table, and every table above spans more
 *    than the slot.
 *  - fault rounds: at most 8 MiB (2048 pages) each (c/guestmap_trace.h).
 *  - nested SVM: the AMD APM vol. 2 (15.5.1, the VMRUN checks; 15.11, the
 *    MSR permission map: 2 bits per MSR, MSRs 0-1FFFh from byte 0,
 *    C000_0000h- from 800h, C001_0000h- from 1000h) and KVM 6.12's
 *    arch/x86/kvm/svm/nested.c: nested_svm_vmrun_msrpm() reads L1's map
 *    only if L1 intercepts MSR_PROT, one 32-bit word per word L0 lets L1
 *    use (here: the words of the MSRs GUESTMAP_SVM_SET_L0_MSR opened),
 *    skipping the x2APIC range, and stops at the first it cannot read.
 *    VMRUN's exceptions: #UD is vector 6, #GP vector 13 (APM vol. 2,
 *    8.2): EFER.SVME clear is #UD, CPL above 0 is #GP (15.5.1).  A
 *    #VMEXIT outside guest mode has no VMCB12 (vmcb12=0x0 in its event).
 *
 * Run as root in the test VM with guestmap.ko loaded; GUESTMAP_HIDDEN
 * (selftests/run_vm_tests.sh) names RAM above mem= for the memremap test,
 * which skips without it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"
#include "guestmap_mirror.h"
#include "guestmap_svm.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

#define TRACEFS		"/sys/kernel/tracing"
#define EVENTS_DIR	TRACEFS "/events/guestmap"

#define SZ_2M		(2UL << 20)
#define SLOT_GPA	0x40000000UL	/* 1 GiB: 2 MiB- and 1 GiB-aligned */
#define SLOT_GFN	(SLOT_GPA / PAGE)
#define OTHER_GPA	0x80000000UL	/* a second slot */
#define ULONG_MAX_STR	"0xffffffffffffffff"

/* One event as it was printed: its name, task, and key=value fields. */
#define TR_FIELDS	12
struct tr_event {
	char name[40];
	int pid;
	int nfields;
	char key[TR_FIELDS][24];
	char val[TR_FIELDS][40];
	char line[400];
};

/* A test's tracefs instance, and the events last read from it. */
struct tracer {
	char dir[64];
	char *text;
	struct tr_event *ev;
	int n;
};

static void tr_free_events(struct tracer *t)
{
	free(t->text);
	free(t->ev);
	t->text = NULL;
	t->ev = NULL;
	t->n = 0;
}

/* Creates the test's instance; -1 without tracefs or guestmap's events. */
static int tr_create(struct tracer *t)
{
	char path[128];

	memset(t, 0, sizeof(*t));
	if (access(TRACEFS "/instances", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(EVENTS_DIR, F_OK))
		return -1;
	snprintf(t->dir, sizeof(t->dir), TRACEFS "/instances/gm_trace_%d", getpid());
	rmdir(t->dir);
	if (mkdir(t->dir, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/events/guestmap", t->dir);
	return access(path, F_OK) ? -1 : 0;
}

static void tr_destroy(struct tracer *t)
{
	char path[128];

	if (!t->dir[0])
		return;
	snprintf(path, sizeof(path), "%s/events/guestmap/enable", t->dir);
	write_str(path, "0");
	rmdir(t->dir);
	tr_free_events(t);
	t->dir[0] = '\0';
}

/*
 * Empties the buffer and enables @events, a space-separated list of
 * guestmap events without their "guestmap_" prefix; 0 or -1.
 */
static int tr_begin(struct tracer *t, const char *events)
{
	char path[160], list[256], *name, *save;

	tr_free_events(t);
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	if (write_str(path, ""))
		return -1;
	snprintf(list, sizeof(list), "%s", events);
	for (name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		snprintf(path, sizeof(path), "%s/events/guestmap/guestmap_%s/enable",
			 t->dir, name);
		if (write_str(path, "1"))
			return -1;
	}
	return 0;
}

/*
 * One line of the trace, "comm-pid [cpu] flags ts: guestmap_x: k=v ...",
 * into @e; -1 if it is no guestmap event.
 */
static int tr_parse(const char *line, struct tr_event *e)
{
	char buf[sizeof(e->line)], *p, *colon, *b, *tok, *save, *eq;

	memset(e, 0, sizeof(*e));
	snprintf(e->line, sizeof(e->line), "%s", line);
	snprintf(buf, sizeof(buf), "%s", line);
	p = strstr(buf, ": guestmap_");
	if (!p)
		return -1;
	colon = strchr(p + 2, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	snprintf(e->name, sizeof(e->name), "%s", p + 2);
	/* The pid: the digits after the last '-' before " [cpu]". */
	*p = '\0';
	b = strrchr(buf, '[');
	if (b) {
		while (b > buf && b[-1] == ' ')
			b--;
		while (b > buf && b[-1] >= '0' && b[-1] <= '9')
			b--;
		e->pid = atoi(b);
	}
	for (tok = strtok_r(colon + 1, " ", &save); tok && e->nfields < TR_FIELDS;
	     tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		snprintf(e->key[e->nfields], sizeof(e->key[0]), "%s", tok);
		snprintf(e->val[e->nfields], sizeof(e->val[0]), "%s", eq + 1);
		e->nfields++;
	}
	return 0;
}

/*
 * Disables the instance's events and reads them: those of task @pid, or
 * of every task if @pid is 0.  The number read, or -1.
 */
static int tr_end(struct tracer *t, pid_t pid)
{
	char path[160], *copy, *line, *save;
	int cap = 64;

	snprintf(path, sizeof(path), "%s/events/guestmap/enable", t->dir);
	write_str(path, "0");
	tr_free_events(t);
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	t->text = read_all(path);
	t->ev = malloc(cap * sizeof(*t->ev));
	if (!t->text || !t->ev)
		return -1;
	copy = strdup(t->text);
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (t->n == cap) {
			struct tr_event *bigger = realloc(t->ev, 2 * cap * sizeof(*t->ev));

			if (!bigger)
				break;
			t->ev = bigger;
			cap *= 2;
		}
		if (tr_parse(line, &t->ev[t->n]))
			continue;
		if (pid && t->ev[t->n].pid != pid)
			continue;
		t->n++;
	}
	free(copy);
	return t->n;
}

/* The value of @key in @e, "<none>" if it has none. */
static const char *tr_s(const struct tr_event *e, const char *key)
{
	int i;

	for (i = 0; i < e->nfields; i++)
		if (!strcmp(e->key[i], key))
			return e->val[i];
	return "<none>";
}

/* A number: hex with 0x, negative with '-'; ~0 if absent. */
static uint64_t tr_u(const struct tr_event *e, const char *key)
{
	const char *s = tr_s(e, key);

	if (!strcmp(s, "<none>"))
		return ~0ULL;
	return strtoull(s, NULL, 0);
}

static int tr_i(const struct tr_event *e, const char *key)
{
	return (int)tr_u(e, key);
}

/* Whether @e is event guestmap_@name with every "key=value" of @match. */
static int tr_matches(const struct tr_event *e, const char *name, const char *match)
{
	char m[256], *tok, *save, *eq;

	if (strncmp(e->name, "guestmap_", 9) || strcmp(e->name + 9, name))
		return 0;
	snprintf(m, sizeof(m), "%s", match ? match : "");
	for (tok = strtok_r(m, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			return 0;
		*eq = '\0';
		if (strcmp(tr_s(e, tok), eq + 1))
			return 0;
	}
	return 1;
}

/* The number of events guestmap_@name with @match. */
static int tr_count(const struct tracer *t, const char *name, const char *match)
{
	int i, n = 0;

	for (i = 0; i < t->n; i++)
		n += tr_matches(&t->ev[i], name, match);
	return n;
}

/*
 * The index of the first event guestmap_@name, from index @from, whose
 * fields include the "key=value" list printf()'d from @fmt; -1 (and the
 * trace logged) if there is none.
 */
static int __printf(5, 6)
tr_find(struct __test_metadata *_metadata, const struct tracer *t, int from,
	const char *name, const char *fmt, ...)
{
	char match[256];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(match, sizeof(match), fmt, ap);
	va_end(ap);
	for (i = from < 0 ? 0 : from; i < t->n; i++)
		if (tr_matches(&t->ev[i], name, match))
			return i;
	TH_LOG("no guestmap_%s with \"%s\" from event %d of %d in:\n%s",
	       name, match, from, t->n, t->text ? t->text : "(no trace)");
	return -1;
}

/* Logs the trace read last, for a failed check. */
#define TR_LOG(t) TH_LOG("trace:\n%s", (t)->text ? (t)->text : "(no trace)")

/*
 * The events checked, each with the keys this file reads from its text;
 * every event of the system must be here.
 */
static const struct {
	const char *name;
	const char *keys;
	const char *tests;
} covered[] = {
	{ "guestmap_ioctl_enter", "ctx cmd", "ioctls_carry_cmd_and_ret" },
	{ "guestmap_ioctl_exit", "ctx cmd ret", "ioctls_carry_cmd_and_ret" },
	{ "guestmap_ctx_create", "ctx mm", "contexts_follow_open_and_close" },
	{ "guestmap_ctx_destroy", "ctx", "contexts_follow_open_and_close" },
	{ "guestmap_invalidate_start", "mirror event start end blockable",
	  "inv.*, exit_releases_the_mirror" },
	{ "guestmap_invalidate",
	  "mirror event start end action zapped wrprotected tables_freed huge_partial",
	  "inv.*, exit_releases_the_mirror" },
	{ "guestmap_fault_start", "mirror gfn npages write", "fault_*" },
	{ "guestmap_fault",
	  "mirror gfn npages write entries_4k entries_2m entries_1g retries ret",
	  "fault_*" },
	{ "guestmap_map_start", "mirror gfn npages write", "map.*" },
	{ "guestmap_map", "mirror gfn write kind path ret", "map.*" },
	{ "guestmap_unmap", "mirror gfn kind path dirty", "map.*" },
	{ "guestmap_cache_invalidate", "mirror cache gfn reason",
	  "map.cache_*, svm.destroyed_vcpu_forgets_its_cache_view" },
	{ "guestmap_slot_delete", "mirror gfn npages zapped tables_freed",
	  "inv.slot_deletion_zaps_and_frees, map.cache_*" },
	{ "guestmap_svm_vmrun", "vcpu vmcb12 result vector check ret", "svm.*" },
	{ "guestmap_svm_msrpm_merge", "vcpu msrpm words ret",
	  "svm.msrpm_merge_reads_the_words_l0_opened" },
	{ "guestmap_svm_vmexit", "vcpu vmcb12 exit_code cached ret",
	  "svm.vmrun_entered_and_vmexit" },
};

/* A test with a trace instance and a context of its own. */
FIXTURE(tr) {
	struct tracer t;
	int fd;
};

FIXTURE_SETUP(tr)
{
	self->fd = -1;
	if (tr_create(&self->t))
		SKIP(return, "no tracefs instances or no guestmap events");
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(tr)
{
	if (self->fd >= 0)
		close(self->fd);
	tr_destroy(&self->t);
}

/*
 * Each ioctl is an enter and an exit event with its command, the exit
 * with what the syscall returns: 0, or -errno.
 */
TEST_F(tr, ioctls_carry_cmd_and_ret)
{
	struct guestmap_memslot bad = { .slot = 0, .memory_size = PAGE + 1 };
	struct guestmap_api_version v;
	unsigned int cmd_ver = GUESTMAP_GET_API_VERSION;
	unsigned int cmd_bad = _IO(GUESTMAP_IO, 0x7f);
	unsigned int cmd_slot = GUESTMAP_SET_MEMSLOT;
	struct tracer *t = &self->t;
	char ctx[40];
	int i, j;

	ASSERT_EQ(0, tr_begin(t, "ioctl_enter ioctl_exit"));
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &v));
	ASSERT_EQ(-1, ioctl(self->fd, cmd_bad));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, GUESTMAP_SET_MEMSLOT, &bad));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_LE(0, tr_end(t, getpid()));

	EXPECT_EQ(3, tr_count(t, "ioctl_enter", NULL)) TR_LOG(t);
	EXPECT_EQ(3, tr_count(t, "ioctl_exit", NULL)) TR_LOG(t);
	i = tr_find(_metadata, t, 0, "ioctl_enter", "cmd=0x%x", cmd_ver);
	ASSERT_LE(0, i);
	snprintf(ctx, sizeof(ctx), "%s", tr_s(&t->ev[i], "ctx"));
	j = tr_find(_metadata, t, i, "ioctl_exit", "ctx=%s cmd=0x%x ret=0", ctx, cmd_ver);
	ASSERT_LT(i, j);
	i = tr_find(_metadata, t, j, "ioctl_enter", "ctx=%s cmd=0x%x", ctx, cmd_bad);
	ASSERT_LT(j, i);
	j = tr_find(_metadata, t, i, "ioctl_exit", "ctx=%s cmd=0x%x ret=%d",
		    ctx, cmd_bad, -ENOTTY);
	ASSERT_LT(i, j);
	i = tr_find(_metadata, t, j, "ioctl_enter", "ctx=%s cmd=0x%x", ctx, cmd_slot);
	ASSERT_LT(j, i);
	j = tr_find(_metadata, t, i, "ioctl_exit", "ctx=%s cmd=0x%x ret=%d",
		    ctx, cmd_slot, -EINVAL);
	ASSERT_LT(i, j);
}

/*
 * Each open() creates a context bound to the opener's mm, and its close
 * destroys it: two opens of one process, one mm; a forked child's open,
 * its own mm.
 */
TEST_F(tr, contexts_follow_open_and_close)
{
	struct guestmap_api_version v;
	struct tracer *t = &self->t;
	char a[40], b[40], c[40], mm[40];
	int fa, fb, i, j, k, status;
	pid_t pid;

	ASSERT_EQ(0, tr_begin(t, "ctx_create ctx_destroy ioctl_enter"));
	fa = open_dev();
	ASSERT_LE(0, fa);
	fb = open_dev();
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, ioctl(fb, GUESTMAP_GET_API_VERSION, &v));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fc = open_dev();

		_exit(fc < 0 || ioctl(fc, GUESTMAP_GET_API_VERSION, &v) || close(fc));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	close(fb);
	close(fa);
	ASSERT_LE(0, tr_end(t, 0));

	i = tr_find(_metadata, t, 0, "ctx_create", "%s", "");
	ASSERT_LE(0, i);
	EXPECT_EQ(getpid(), t->ev[i].pid);
	snprintf(a, sizeof(a), "%s", tr_s(&t->ev[i], "ctx"));
	snprintf(mm, sizeof(mm), "%s", tr_s(&t->ev[i], "mm"));
	j = tr_find(_metadata, t, i + 1, "ctx_create", "mm=%s", mm);
	ASSERT_LT(i, j);
	EXPECT_EQ(getpid(), t->ev[j].pid);
	snprintf(b, sizeof(b), "%s", tr_s(&t->ev[j], "ctx"));
	EXPECT_STRNE(a, b) TR_LOG(t);
	/* fb's ioctl names fb's context. */
	EXPECT_LT(j, tr_find(_metadata, t, j, "ioctl_enter", "ctx=%s", b));
	/* The child's context, on its own mm, and gone with its close. */
	k = tr_find(_metadata, t, j + 1, "ctx_create", "%s", "");
	ASSERT_LT(j, k);
	EXPECT_EQ(pid, t->ev[k].pid);
	snprintf(c, sizeof(c), "%s", tr_s(&t->ev[k], "ctx"));
	EXPECT_STRNE(mm, tr_s(&t->ev[k], "mm")) TR_LOG(t);
	EXPECT_STRNE(a, c) TR_LOG(t);
	EXPECT_STRNE(b, c) TR_LOG(t);
	EXPECT_LT(k, tr_find(_metadata, t, k, "ioctl_enter", "ctx=%s", c));
	k = tr_find(_metadata, t, k, "ctx_destroy", "ctx=%s", c);
	EXPECT_LT(0, k);
	/* Closed in the order fb, fa, after the child. */
	i = tr_find(_metadata, t, k, "ctx_destroy", "ctx=%s", b);
	EXPECT_LT(k, i);
	EXPECT_LT(i, tr_find(_metadata, t, i, "ctx_destroy", "ctx=%s", a));
	EXPECT_EQ(3, tr_count(t, "ctx_destroy", NULL)) TR_LOG(t);
	EXPECT_EQ(3, tr_count(t, "ctx_create", NULL)) TR_LOG(t);
}

/*
 * Checks the fault_start/fault pair of one round: gfn, npages and the
 * write flag as asked, ret 0, and the leaf entries installed.  Returns the
 * index of the fault event.
 */
static int check_round(struct __test_metadata *_metadata, struct tracer *t, int from,
		       uint64_t gfn, uint64_t npages, int write, uint64_t e4k, uint64_t e2m)
{
	int s, e;

	s = tr_find(_metadata, t, from, "fault_start", "gfn=0x%llx npages=%llu write=%d",
		    (unsigned long long)gfn, (unsigned long long)npages, write);
	if (s < 0)
		return -1;
	e = tr_find(_metadata, t, s, "fault",
		    "mirror=%s gfn=0x%llx npages=%llu write=%d entries_4k=%llu entries_2m=%llu entries_1g=0 ret=0",
		    tr_s(&t->ev[s], "mirror"), (unsigned long long)gfn,
		    (unsigned long long)npages, write, (unsigned long long)e4k,
		    (unsigned long long)e2m);
	EXPECT_LT(s, e);
	EXPECT_NE(~0ULL, tr_u(&t->ev[e < 0 ? s : e], "retries")) TR_LOG(t);
	return e;
}

/*
 * A fault of N 4 KiB pages is one round that installs N 4 KiB entries;
 * the same fault again installs none (they are there); a read fault is
 * write=0.
 */
TEST_F(tr, fault_of_4k_pages)
{
	struct tracer *t = &self->t;
	char *buf = map_aligned(24 * PAGE, SZ_2M);
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(buf, 24 * PAGE, MADV_NOHUGEPAGE));
	fill(buf, 16 * PAGE, 1);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, 16 * PAGE, buf));
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, OTHER_GPA, 8 * PAGE, buf + 16 * PAGE));
	ASSERT_EQ(0, tr_begin(t, "fault_start fault"));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, 16 * PAGE, 1));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, 16 * PAGE, 1));
	ASSERT_EQ(0, fault(self->fd, OTHER_GPA, 8 * PAGE, 0));
	ASSERT_LE(0, tr_end(t, getpid()));

	EXPECT_EQ(3, tr_count(t, "fault_start", NULL)) TR_LOG(t);
	EXPECT_EQ(3, tr_count(t, "fault", NULL)) TR_LOG(t);
	i = check_round(_metadata, t, 0, SLOT_GFN, 16, 1, 16, 0);
	ASSERT_LE(0, i);
	i = check_round(_metadata, t, i + 1, SLOT_GFN, 16, 1, 0, 0);
	ASSERT_LE(0, i);
	i = check_round(_metadata, t, i + 1, OTHER_GPA / PAGE, 8, 0, 8, 0);
	ASSERT_LE(0, i);
	munmap(buf, 24 * PAGE);
}

/* A 2 MiB the CPU maps with one PMD (a THP) is one 2 MiB entry. */
TEST_F(tr, fault_of_a_thp_is_one_2m_entry)
{
	struct tracer *t = &self->t;
	struct guestmap_api_version v;
	char *buf;

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &v));
	if (!(v.caps & GUESTMAP_CAP_HUGE))
		SKIP(return, "the module maps no huge entries (no GUESTMAP_CAP_HUGE)");
	buf = map_aligned(SZ_2M, SZ_2M);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(buf, SZ_2M, MADV_HUGEPAGE));
	fill(buf, SZ_2M, 2);
	if (smaps_kb(buf, SZ_2M, "AnonHugePages") != (long)(SZ_2M >> 10))
		SKIP(munmap(buf, SZ_2M); return, "no THP for the buffer");
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_2M, buf));
	ASSERT_EQ(0, tr_begin(t, "fault_start fault"));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	ASSERT_LE(0, tr_end(t, getpid()));
	EXPECT_EQ(1, tr_count(t, "fault", NULL)) TR_LOG(t);
	ASSERT_LE(0, check_round(_metadata, t, 0, SLOT_GFN, SZ_2M / PAGE, 1, 0, 1));
	munmap(buf, SZ_2M);
}

/* Nothing mapped at the slot's user address: the round fails, -EFAULT. */
TEST_F(tr, fault_of_unmapped_memory_is_efault)
{
	struct tracer *t = &self->t;
	char *buf = map_aligned(16 * PAGE, PAGE);
	int i, j;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, munmap(buf, 16 * PAGE));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, 16 * PAGE, buf));
	ASSERT_EQ(0, tr_begin(t, "fault_start fault ioctl_exit"));
	ASSERT_EQ(EFAULT, fault(self->fd, SLOT_GPA, 16 * PAGE, 0));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = tr_find(_metadata, t, 0, "fault_start", "gfn=0x%lx npages=16 write=0", SLOT_GFN);
	ASSERT_LE(0, i);
	j = tr_find(_metadata, t, i, "fault",
		    "gfn=0x%lx write=0 entries_4k=0 entries_2m=0 entries_1g=0 ret=%d",
		    SLOT_GFN, -EFAULT);
	ASSERT_LT(i, j);
	/* The round is at most what was asked. */
	EXPECT_GE(16, tr_u(&t->ev[j], "npages")) TR_LOG(t);
	EXPECT_LT(j, tr_find(_metadata, t, j, "ioctl_exit", "cmd=0x%x ret=%d",
			     (unsigned int)GUESTMAP_MIRROR_FAULT, -EFAULT));
}

/*
 * A fault of more than 2048 pages runs in rounds of at most 2048 pages
 * each, one after the other, that together make up the fault.
 */
TEST_F_TIMEOUT(tr, fault_in_rounds_of_at_most_2048_pages, 180)
{
	const uint64_t npages = 5000, max_round = 2048;
	struct tracer *t = &self->t;
	uint64_t at = SLOT_GFN, n, e4k = 0;
	char *buf = map_aligned(npages * PAGE, SZ_2M);
	int i, rounds = 0;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(buf, npages * PAGE, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, npages * PAGE, buf));
	ASSERT_EQ(0, tr_begin(t, "fault_start fault"));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, npages * PAGE, 1));
	ASSERT_LE(0, tr_end(t, getpid()));
	for (i = 0; i < t->n; i++) {
		if (!tr_matches(&t->ev[i], "fault", NULL))
			continue;
		n = tr_u(&t->ev[i], "npages");
		EXPECT_EQ(at, tr_u(&t->ev[i], "gfn")) TR_LOG(t);
		EXPECT_GE(max_round, n) TR_LOG(t);
		EXPECT_LT(0, n) TR_LOG(t);
		EXPECT_EQ(0, tr_i(&t->ev[i], "ret")) TR_LOG(t);
		EXPECT_EQ(1, tr_i(&t->ev[i], "write")) TR_LOG(t);
		/* Its start came first, with the same round. */
		EXPECT_LE(0, tr_find(_metadata, t, i - 1, "fault_start",
				     "gfn=0x%llx npages=%llu write=1",
				     (unsigned long long)at, (unsigned long long)n)) TR_LOG(t);
		e4k += tr_u(&t->ev[i], "entries_4k");
		at += n;
		rounds++;
	}
	EXPECT_EQ(SLOT_GFN + npages, at) TR_LOG(t);
	EXPECT_LE((npages + max_round - 1) / max_round, rounds) TR_LOG(t);
	EXPECT_EQ(rounds, tr_count(t, "fault_start", NULL)) TR_LOG(t);
	/* 4 KiB pages (MADV_NOHUGEPAGE): one 4 KiB entry each. */
	EXPECT_EQ(npages, e4k) TR_LOG(t);
	munmap(buf, npages * PAGE);
}

/*
 * The invalidations: a slot of 2 MiB, 2 MiB-aligned in both spaces (the
 * CPU splits no PMD and the mirror's leaf table covers just the slot), of
 * 512 4 KiB pages all faulted for writing.
 */
#define INV_PAGES	512UL

FIXTURE(inv) {
	struct tracer t;
	int fd;
	char *buf;
};

FIXTURE_SETUP(inv)
{
	self->fd = -1;
	self->buf = NULL;
	if (tr_create(&self->t))
		SKIP(return, "no tracefs instances or no guestmap events");
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->buf = map_aligned(SZ_2M, SZ_2M);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, madvise(self->buf, SZ_2M, MADV_NOHUGEPAGE));
	fill(self->buf, SZ_2M, 3);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_2M, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
}

FIXTURE_TEARDOWN(inv)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, SZ_2M);
	tr_destroy(&self->t);
}

/*
 * The one invalidation an operation on [@start, @end) caused: its start
 * event first, with the same mirror, event and range, blockable; then the
 * end event with @action.  Returns the index of the end event.
 */
static int check_invalidation(struct __test_metadata *_metadata, struct tracer *t,
			      const char *event, uint64_t start, uint64_t end,
			      const char *action)
{
	int s, e;

	EXPECT_EQ(1, tr_count(t, "invalidate_start", NULL)) TR_LOG(t);
	EXPECT_EQ(1, tr_count(t, "invalidate", NULL)) TR_LOG(t);
	s = tr_find(_metadata, t, 0, "invalidate_start",
		    "event=%s start=0x%llx end=0x%llx blockable=1", event,
		    (unsigned long long)start, (unsigned long long)end);
	if (s < 0)
		return -1;
	e = tr_find(_metadata, t, s, "invalidate",
		    "mirror=%s event=%s start=0x%llx end=0x%llx action=%s",
		    tr_s(&t->ev[s], "mirror"), event, (unsigned long long)start,
		    (unsigned long long)end, action);
	EXPECT_LT(s, e);
	return e;
}

/* mprotect(PROT_READ): PROTECTION_VMA over the range; write-protect all. */
TEST_F(inv, mprotect_read_write_protects)
{
	struct tracer *t = &self->t;
	int i;

	ASSERT_EQ(0, tr_begin(t, "invalidate_start invalidate"));
	ASSERT_EQ(0, mprotect(self->buf, SZ_2M, PROT_READ));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = check_invalidation(_metadata, t, "protection_vma", (uintptr_t)self->buf,
			       (uintptr_t)self->buf + SZ_2M, "wrprotect");
	ASSERT_LE(0, i);
	EXPECT_EQ(INV_PAGES, tr_u(&t->ev[i], "wrprotected")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "zapped")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "tables_freed")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "huge_partial")) TR_LOG(t);
}

/* munmap(): UNMAP over the range; zap all, free the emptied table. */
TEST_F(inv, munmap_zaps_and_frees)
{
	struct tracer *t = &self->t;
	int i;

	ASSERT_EQ(0, tr_begin(t, "invalidate_start invalidate"));
	ASSERT_EQ(0, munmap(self->buf, SZ_2M));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = check_invalidation(_metadata, t, "unmap", (uintptr_t)self->buf,
			       (uintptr_t)self->buf + SZ_2M, "zap_free");
	self->buf = NULL;
	ASSERT_LE(0, i);
	EXPECT_EQ(INV_PAGES, tr_u(&t->ev[i], "zapped")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "wrprotected")) TR_LOG(t);
	EXPECT_LE(1, tr_u(&t->ev[i], "tables_freed")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "huge_partial")) TR_LOG(t);
}

/* MADV_DONTNEED: CLEAR over the range; zap all, keep the tables. */
TEST_F(inv, dontneed_zaps)
{
	struct tracer *t = &self->t;
	int i;

	ASSERT_EQ(0, tr_begin(t, "invalidate_start invalidate"));
	ASSERT_EQ(0, madvise(self->buf, SZ_2M, MADV_DONTNEED));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = check_invalidation(_metadata, t, "clear", (uintptr_t)self->buf,
			       (uintptr_t)self->buf + SZ_2M, "zap");
	ASSERT_LE(0, i);
	EXPECT_EQ(INV_PAGES, tr_u(&t->ev[i], "zapped")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "wrprotected")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "tables_freed")) TR_LOG(t);
}

/* A soft-dirty clear: SOFT_DIRTY over 0..-1UL; write-protect all. */
TEST_F(inv, soft_dirty_clear_write_protects)
{
	struct tracer *t = &self->t;
	int i;

	ASSERT_EQ(0, tr_begin(t, "invalidate_start invalidate"));
	ASSERT_EQ(0, clear_soft_dirty());
	ASSERT_LE(0, tr_end(t, getpid()));
	i = check_invalidation(_metadata, t, "soft_dirty", 0, ~0ULL, "wrprotect");
	ASSERT_LE(0, i);
	EXPECT_EQ(INV_PAGES, tr_u(&t->ev[i], "wrprotected")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "zapped")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[i], "tables_freed")) TR_LOG(t);
}

/*
 * Deleting the slot: one slot_delete of its gfns, with its 512 entries
 * zapped and its one leaf table freed (the tables above span more than
 * the slot: kept), outside any MMU notifier event.
 */
TEST_F(inv, slot_deletion_zaps_and_frees)
{
	struct tracer *t = &self->t;
	int i;

	ASSERT_EQ(0, tr_begin(t, "slot_delete invalidate_start invalidate"));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, 0, NULL));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = tr_find(_metadata, t, 0, "slot_delete",
		    "gfn=0x%lx npages=%lu zapped=%lu tables_freed=1",
		    SLOT_GFN, INV_PAGES, INV_PAGES);
	ASSERT_LE(0, i);
	EXPECT_EQ(1, tr_count(t, "slot_delete", NULL)) TR_LOG(t);
	EXPECT_EQ(0, tr_count(t, "invalidate_start", NULL)) TR_LOG(t);
	EXPECT_EQ(0, tr_count(t, "invalidate", NULL)) TR_LOG(t);
}

/*
 * A process that exits with a mirror: RELEASE over 0..ULONG_MAX when its
 * mm goes, every entry dropped; then its file is closed, and the context
 * destroyed.
 */
TEST_F(tr, exit_releases_the_mirror)
{
	struct tracer *t = &self->t;
	int s, e, d, status;
	pid_t pid;

	ASSERT_EQ(0, tr_begin(t, "invalidate_start invalidate fault ctx_create ctx_destroy"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *buf = map_aligned(SZ_2M, SZ_2M);
		int fd = open_dev();

		if (!buf || fd < 0 || madvise(buf, SZ_2M, MADV_NOHUGEPAGE))
			_exit(2);
		fill(buf, SZ_2M, 4);
		if (set_slot(fd, 0, 0, SLOT_GPA, SZ_2M, buf) ||
		    fault(fd, SLOT_GPA, SZ_2M, 1))
			_exit(3);
		_exit(0);	/* with fd open and buf mapped */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_LE(0, tr_end(t, pid));
	s = tr_find(_metadata, t, 0, "fault", "gfn=0x%lx ret=0", SLOT_GFN);
	ASSERT_LE(0, s);
	s = tr_find(_metadata, t, s, "invalidate_start",
		    "mirror=%s event=release start=0x0 end=%s blockable=1",
		    tr_s(&t->ev[s], "mirror"), ULONG_MAX_STR);
	ASSERT_LE(0, s);
	e = tr_find(_metadata, t, s, "invalidate",
		    "mirror=%s event=release start=0x0 end=%s action=release",
		    tr_s(&t->ev[s], "mirror"), ULONG_MAX_STR);
	ASSERT_LT(s, e);
	EXPECT_EQ(INV_PAGES, tr_u(&t->ev[e], "zapped")) TR_LOG(t);
	EXPECT_EQ(0, tr_u(&t->ev[e], "wrprotected")) TR_LOG(t);
	EXPECT_EQ(1, tr_count(t, "invalidate", "event=release")) TR_LOG(t);
	/* exit_mm() before exit_files(): the context goes after. */
	d = tr_find(_metadata, t, 0, "ctx_create", "%s", "");
	ASSERT_LE(0, d);
	EXPECT_LT(e, tr_find(_metadata, t, e, "ctx_destroy", "ctx=%s",
			     tr_s(&t->ev[d], "ctx")));
}

/*
 * The mappings: a slot of 16 pages at GPA, 4 KiB pages; pages 0-11
 * written, 12-15 never touched.
 */
#define GPA		0x100000UL
#define GFN		(GPA / PAGE)

FIXTURE(map) {
	struct tracer t;
	int fd;
	char *buf;
};

FIXTURE_SETUP(map)
{
	self->fd = -1;
	self->buf = NULL;
	if (tr_create(&self->t))
		SKIP(return, "no tracefs instances or no guestmap events");
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->buf = map_aligned(16 * PAGE, PAGE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, madvise(self->buf, 16 * PAGE, MADV_NOHUGEPAGE));
	fill(self->buf, 12 * PAGE, 5);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, GPA, 16 * PAGE, self->buf));
}

FIXTURE_TEARDOWN(map)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, 16 * PAGE);
	tr_destroy(&self->t);
}

/* One GUESTMAP_ACCESS of 8 bytes at @gpa; 0 or errno, *via out. */
static int access8(int fd, uint32_t op, uint64_t gpa, uint32_t flags, uint32_t cache,
		   uint32_t *via)
{
	char b[8] = "written";
	struct guestmap_access a = {
		.gpa = gpa, .len = 8, .buf = (uintptr_t)b, .op = op,
		.flags = flags, .cache = cache,
	};
	int ret = ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;

	if (via)
		*via = a.via;
	return ret;
}

/*
 * One kvm_vcpu_map()-style access of @gfn: map_start, map with @kind and
 * @path, unmap with @dirty, in that order, of the same mirror.
 */
static void check_map(struct __test_metadata *_metadata, struct tracer *t, int *from,
		      uint64_t gfn, int write, const char *kind, const char *path, int dirty)
{
	const char *mirror;
	int s, m, u;

	s = tr_find(_metadata, t, *from, "map_start", "gfn=0x%llx npages=1 write=%d",
		    (unsigned long long)gfn, write);
	ASSERT_LE(0, s);
	mirror = tr_s(&t->ev[s], "mirror");
	m = tr_find(_metadata, t, s, "map", "mirror=%s gfn=0x%llx write=%d kind=%s path=%s ret=0",
		    mirror, (unsigned long long)gfn, write, kind, path);
	ASSERT_LT(s, m);
	u = tr_find(_metadata, t, m, "unmap", "mirror=%s gfn=0x%llx kind=%s path=%s dirty=%d",
		    mirror, (unsigned long long)gfn, kind, path, dirty);
	ASSERT_LT(m, u);
	*from = u + 1;
}

/*
 * An ordinary page is pinned; a write marks it dirty on unmap, a read
 * never (not even asked to: GUESTMAP_ACCESS_DIRTY on a MAP_READ).
 */
TEST_F(map, map_of_a_page_is_pinned)
{
	struct tracer *t = &self->t;
	uint32_t via;
	int from = 0;

	ASSERT_EQ(0, tr_begin(t, "map_start map unmap"));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE + 8, 0, 0, &via));
	EXPECT_EQ(GUESTMAP_VIA_PAGE, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + 2 * PAGE, 0, 0, &via));
	EXPECT_EQ(GUESTMAP_VIA_PAGE, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + 3 * PAGE,
			     GUESTMAP_ACCESS_DIRTY, 0, &via));
	ASSERT_LE(0, tr_end(t, getpid()));
	EXPECT_EQ(3, tr_count(t, "map_start", NULL)) TR_LOG(t);
	EXPECT_EQ(3, tr_count(t, "map", NULL)) TR_LOG(t);
	EXPECT_EQ(3, tr_count(t, "unmap", NULL)) TR_LOG(t);
	/* Every successful map has its unmap. */
	EXPECT_EQ(tr_count(t, "map", "path=pinned ret=0"),
		  tr_count(t, "unmap", "path=pinned")) TR_LOG(t);
	check_map(_metadata, t, &from, GFN + 1, 0, "page", "pinned", 0);
	check_map(_metadata, t, &from, GFN + 2, 1, "page", "pinned", 1);
	check_map(_metadata, t, &from, GFN + 3, 0, "page", "pinned", 0);
	EXPECT_EQ(0, memcmp(self->buf + 2 * PAGE, "written", 8));
}

/*
 * Never-written anonymous memory that the CPU maps with the shared zero
 * page (two such pages have one pfn in /proc/self/pagemap) is mapped as
 * the zero page, by a pinned map and by a pfn cache, and never dirtied.
 */
TEST_F(map, map_of_the_zero_page_is_kind_zero)
{
	struct tracer *t = &self->t;
	uint64_t z;
	int from = 0, i;

	/* A read fault of each, as a load would make it. */
	ASSERT_EQ(0, madvise(self->buf + 12 * PAGE, 2 * PAGE, MADV_POPULATE_READ));
	z = pagemap_pfn(self->buf + 12 * PAGE);
	if (!z || z != pagemap_pfn(self->buf + 13 * PAGE))
		SKIP(return, "reads of anonymous memory do not map the zero page here");
	ASSERT_EQ(0, tr_begin(t, "map_start map unmap"));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + 12 * PAGE, 0, 0, NULL));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 13 * PAGE, 0, 2, NULL));
	ASSERT_LE(0, tr_end(t, getpid()));
	/* Still the zero page: nothing above wrote. */
	EXPECT_EQ(z, pagemap_pfn(self->buf + 12 * PAGE));
	check_map(_metadata, t, &from, GFN + 12, 0, "zero", "pinned", 0);
	i = tr_find(_metadata, t, from, "map",
		    "gfn=0x%lx write=0 kind=zero path=cache_refresh ret=0", GFN + 13);
	EXPECT_LE(0, i);
}

/*
 * A pfn cache: mapped on first use (cache_refresh), then reused
 * (cache_hit); mprotect() and munmap() of its page invalidate it
 * (reason=event), and the next use refreshes it; deleting its slot
 * invalidates it with reason=slot_deleted.  No other view is valid then:
 * no slots_changed.
 */
TEST_F(map, cache_invalidate_by_mprotect_munmap_and_slot_deletion)
{
	struct tracer *t = &self->t;
	uint64_t gfn = GFN + 2;
	uint32_t via;
	int i;

	ASSERT_EQ(0, tr_begin(t, "map_start map cache_invalidate"));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_WRITE, GPA + 4 * PAGE, 0, 1, &via));
	ASSERT_EQ(0, mprotect(self->buf + 2 * PAGE, PAGE, PROT_READ));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	ASSERT_EQ(0, munmap(self->buf + 2 * PAGE, PAGE));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, 0, NULL));
	ASSERT_LE(0, tr_end(t, getpid()));

	i = tr_find(_metadata, t, 0, "map_start", "gfn=0x%llx npages=1 write=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%llx write=0 kind=page path=cache_refresh ret=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%llx write=0 kind=page path=cache_hit ret=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%lx write=1 kind=page path=cache_refresh ret=0",
		    GFN + 4);
	ASSERT_LE(0, i);
	/* mprotect(): cache 3 only (cache 1 is on another page). */
	i = tr_find(_metadata, t, i, "cache_invalidate", "cache=3 gfn=0x%llx reason=event",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%llx write=0 kind=page path=cache_refresh ret=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	/* munmap() */
	i = tr_find(_metadata, t, i, "cache_invalidate", "cache=3 gfn=0x%llx reason=event",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	/* The slot's deletion: cache 1, still valid. */
	i = tr_find(_metadata, t, i, "cache_invalidate", "cache=1 gfn=0x%lx reason=slot_deleted",
		    GFN + 4);
	ASSERT_LE(0, i);
	EXPECT_EQ(3, tr_count(t, "cache_invalidate", NULL)) TR_LOG(t);
	EXPECT_EQ(2, tr_count(t, "cache_invalidate", "reason=event")) TR_LOG(t);
	EXPECT_EQ(0, tr_count(t, "cache_invalidate", "cache=1 reason=event")) TR_LOG(t);
	EXPECT_EQ(0, tr_count(t, "cache_invalidate", "reason=slots_changed")) TR_LOG(t);
}

/*
 * A memslot created while caches 3 and 5 have valid views of slot 0:
 * both views were made under the old layout, so both are dropped with
 * reason=slots_changed, and the next use of cache 3 refreshes it.
 * Deleting the new slot (nothing faulted there: nothing zapped, no table)
 * drops cache 3's new view again, slots_changed: its frame is not in the
 * deleted slot; cache 5's view is gone already.
 */
TEST_F(map, cache_views_go_when_the_memslots_change)
{
	struct tracer *t = &self->t;
	char *other = map_aligned(4 * PAGE, PAGE);
	uint32_t via;
	int i;

	ASSERT_NE(NULL, other);
	ASSERT_EQ(0, tr_begin(t, "map cache_invalidate slot_delete"));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_WRITE, GPA + 4 * PAGE, 0, 5, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, OTHER_GPA, 4 * PAGE, other));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 2 * PAGE, 0, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, 0, 0, NULL));
	ASSERT_LE(0, tr_end(t, getpid()));

	i = tr_find(_metadata, t, 0, "map", "gfn=0x%lx write=0 path=cache_hit ret=0", GFN + 2);
	ASSERT_LE(0, i);
	/* The creation. */
	EXPECT_LT(i, tr_find(_metadata, t, i, "cache_invalidate",
			     "cache=5 gfn=0x%lx reason=slots_changed", GFN + 4));
	i = tr_find(_metadata, t, i, "cache_invalidate",
		    "cache=3 gfn=0x%lx reason=slots_changed", GFN + 2);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%lx write=0 kind=page path=cache_refresh ret=0",
		    GFN + 2);
	ASSERT_LE(0, i);
	/* The deletion. */
	i = tr_find(_metadata, t, i, "cache_invalidate",
		    "cache=3 gfn=0x%lx reason=slots_changed", GFN + 2);
	ASSERT_LE(0, i);
	EXPECT_LT(i, tr_find(_metadata, t, i, "slot_delete",
			     "gfn=0x%lx npages=4 zapped=0 tables_freed=0", OTHER_GPA / PAGE));
	EXPECT_EQ(3, tr_count(t, "cache_invalidate", NULL)) TR_LOG(t);
	EXPECT_EQ(1, tr_count(t, "cache_invalidate", "cache=5")) TR_LOG(t);
	EXPECT_EQ(1, tr_count(t, "slot_delete", NULL)) TR_LOG(t);
	munmap(other, 4 * PAGE);
}

/* Nothing mapped there: the map fails, -EFAULT, and nothing is unmapped. */
TEST_F(map, map_of_unmapped_memory_fails)
{
	struct tracer *t = &self->t;
	uint64_t gfn = OTHER_GPA / PAGE;
	char *hole = map_aligned(PAGE, PAGE);
	int i;

	ASSERT_NE(NULL, hole);
	ASSERT_EQ(0, munmap(hole, PAGE));
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, OTHER_GPA, PAGE, hole));
	ASSERT_EQ(0, tr_begin(t, "map_start map unmap"));
	ASSERT_EQ(EFAULT, access8(self->fd, GUESTMAP_ACCESS_MAP_READ, OTHER_GPA, 0, 0, NULL));
	ASSERT_EQ(EFAULT, access8(self->fd, GUESTMAP_ACCESS_CACHE_READ, OTHER_GPA, 0, 6, NULL));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = tr_find(_metadata, t, 0, "map_start", "gfn=0x%llx npages=1 write=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%llx write=0 kind=unknown path=none ret=%d",
		    (unsigned long long)gfn, -EFAULT);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i + 1, "map_start", "gfn=0x%llx npages=1 write=0",
		    (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "map", "gfn=0x%llx write=0 kind=unknown path=none ret=%d",
		    (unsigned long long)gfn, -EFAULT);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, tr_count(t, "unmap", NULL)) TR_LOG(t);
}

/*
 * RAM above mem= has no struct page: memremap()'d (kind pfnmap, as
 * QUERY's class of a VM_PFNMAP/VM_IO mapping), and never marked dirty,
 * not even after a write.
 */
TEST_F(map, map_of_pfn_only_memory_is_memremap)
{
	struct tracer *t = &self->t;
	unsigned long size, phys;
	uint32_t via;
	int from = 0;
	char *p;

	if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
		SKIP(return, "no RAM above mem=: boot with GM_TEST_APPEND, set GUESTMAP_HIDDEN");
	p = map_devmem(phys, 16 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, OTHER_GPA, 16 * PAGE, p));
	ASSERT_EQ(0, tr_begin(t, "map_start map unmap"));
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_READ, OTHER_GPA + PAGE, 0, 0, &via));
	EXPECT_EQ(GUESTMAP_VIA_REMAP, via);
	ASSERT_EQ(0, access8(self->fd, GUESTMAP_ACCESS_MAP_WRITE, OTHER_GPA + 2 * PAGE,
			     GUESTMAP_ACCESS_DIRTY, 0, &via));
	EXPECT_EQ(GUESTMAP_VIA_REMAP, via);
	ASSERT_LE(0, tr_end(t, getpid()));
	check_map(_metadata, t, &from, OTHER_GPA / PAGE + 1, 0, "pfnmap", "memremap", 0);
	check_map(_metadata, t, &from, OTHER_GPA / PAGE + 2, 1, "pfnmap", "memremap", 0);
	EXPECT_EQ(2, tr_count(t, "map", "path=memremap ret=0")) TR_LOG(t);
	EXPECT_EQ(2, tr_count(t, "unmap", "path=memremap")) TR_LOG(t);
	EXPECT_EQ(0, memcmp(p + 2 * PAGE, "written", 8));
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, 0, 0, NULL));
	munmap(p, 16 * PAGE);
}

/*
 * Nested SVM: 16 pages at SVM_GPA, VMCB12 first, L1's MSR permission map
 * (2 pages) at +2 pages, its I/O map (3 pages) at +4; vCPU 0 is an L1 in
 * long mode that may VMRUN.
 */
#define SVM_GPA		0x100000ULL
#define MSRPM_OFF	(2 * PAGE)
#define IOPM_OFF	(4 * PAGE)
#define HSAVE		0x200000ULL

/* An L1 in long mode at CPL @cpl, which may VMRUN if @cpl is 0. */
static int set_l1_cpl(int fd, uint32_t id, uint32_t cpl)
{
	struct guestmap_svm_l1 l1 = {
		.vcpu = id, .cpl = cpl, .efer = EFER_SVME | EFER_LME | EFER_LMA,
		.cr0 = CR0_PG | CR0_PE, .hsave_pa = HSAVE,
	};

	return ioctl(fd, GUESTMAP_SVM_SET_L1, &l1) ? errno : 0;
}

static int set_l1(int fd, uint32_t id)
{
	return set_l1_cpl(fd, id, 0);
}

static int open_l0_msr(int fd, uint32_t id, uint32_t msr)
{
	struct guestmap_svm_l0_msr l0 = { .vcpu = id, .msr = msr };

	return ioctl(fd, GUESTMAP_SVM_SET_L0_MSR, &l0) ? errno : 0;
}

static int vmrun(int fd, uint32_t id, uint64_t gpa, uint32_t flags,
		 struct guestmap_svm_vmrun *r)
{
	memset(r, 0, sizeof(*r));
	r->vcpu = id;
	r->flags = flags;
	r->vmcb12_gpa = gpa;
	return ioctl(fd, GUESTMAP_SVM_VMRUN, r) ? errno : 0;
}

static int vmexit(int fd, uint32_t id, uint64_t code)
{
	struct guestmap_svm_vmexit x = { .vcpu = id, .exit_code = code };

	return ioctl(fd, GUESTMAP_SVM_VMEXIT, &x) ? errno : 0;
}

FIXTURE(svm) {
	struct tracer t;
	int fd;
	char *mem;
};

FIXTURE_SETUP(svm)
{
	struct guestmap_api_version ver;

	self->fd = -1;
	self->mem = NULL;
	if (tr_create(&self->t))
		SKIP(return, "no tracefs instances or no guestmap events");
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &ver));
	if (!(ver.caps & GUESTMAP_CAP_NESTED_SVM))
		SKIP(return, "the module has no nested SVM");
	self->mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	svm_good_vmcb(self->mem, SVM_GPA + MSRPM_OFF, SVM_GPA + IOPM_OFF);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SVM_GPA, 16 * PAGE, self->mem));
	ASSERT_EQ(0, create_vcpu(self->fd, 0, 48));
	ASSERT_EQ(0, set_l1(self->fd, 0));
}

FIXTURE_TEARDOWN(svm)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, 16 * PAGE);
	tr_destroy(&self->t);
}

/*
 * A VMCB12 that passes every check enters; #VMEXIT writes the exit code
 * given back, through the vCPU's pfn cache with GUESTMAP_SVM_RUN_CACHED.
 * Without MSR_PROT intercepted, L1's MSR map is not merged.  A #VMEXIT
 * outside guest mode fails, EINVAL, and is traced with no VMCB12; one
 * whose VMCB12 is in no memslot any more fails, ENOENT, traced with it.
 */
TEST_F(svm, vmrun_entered_and_vmexit)
{
	struct tracer *t = &self->t;
	struct guestmap_svm_vmrun r;
	int i;

	ASSERT_EQ(0, tr_begin(t, "svm_vmrun svm_vmexit svm_msrpm_merge"));
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7c));		/* MSR */
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x81));		/* VMMCALL */
	ASSERT_EQ(EINVAL, vmexit(self->fd, 0, 0x78));		/* HLT */
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, 0, NULL));
	ASSERT_EQ(ENOENT, vmexit(self->fd, 0, 0x7c));
	ASSERT_LE(0, tr_end(t, getpid()));
	i = tr_find(_metadata, t, 0, "svm_vmrun",
		    "vcpu=0 vmcb12=0x%llx result=entered vector=0 check=0 ret=0", SVM_GPA);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmexit",
		    "vcpu=0 vmcb12=0x%llx exit_code=0x7c cached=0 ret=0", SVM_GPA);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmrun",
		    "vcpu=0 vmcb12=0x%llx result=entered vector=0 check=0 ret=0", SVM_GPA);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmexit",
		    "vcpu=0 vmcb12=0x%llx exit_code=0x81 cached=1 ret=0", SVM_GPA);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmexit",
		    "vcpu=0 vmcb12=0x0 exit_code=0x78 cached=0 ret=%d", -EINVAL);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmrun",
		    "vcpu=0 vmcb12=0x%llx result=entered vector=0 check=0 ret=0", SVM_GPA);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmexit",
		    "vcpu=0 vmcb12=0x%llx exit_code=0x7c cached=0 ret=%d", SVM_GPA, -ENOENT);
	ASSERT_LE(0, i);
	EXPECT_EQ(3, tr_count(t, "svm_vmrun", NULL)) TR_LOG(t);
	EXPECT_EQ(4, tr_count(t, "svm_vmexit", NULL)) TR_LOG(t);
	EXPECT_EQ(0, tr_count(t, "svm_msrpm_merge", NULL)) TR_LOG(t);
}

/*
 * The ways VMRUN does not enter: a consistency check of VMCB12 fails
 * (DR6 bits 63:32 set: VMEXIT_INVALID, check DR6, no vector); L1 cannot
 * VMRUN (a new vCPU's EFER.SVME is clear: #UD, vector 6, check L1_SVME;
 * CPL 3: #GP, vector 13, check L1_CPL); VMCB12 in no memslot (ENOENT, no
 * result).
 */
TEST_F(svm, vmrun_vmexit_invalid_exception_and_error)
{
	struct tracer *t = &self->t;
	struct guestmap_svm_vmrun r;

	put64(self->mem, VMCB_DR6, 1ULL << 32);
	ASSERT_EQ(0, create_vcpu(self->fd, 1, 48));
	ASSERT_EQ(0, create_vcpu(self->fd, 2, 48));
	ASSERT_EQ(0, set_l1_cpl(self->fd, 2, 3));
	ASSERT_EQ(0, tr_begin(t, "svm_vmrun"));
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	ASSERT_EQ(0, vmrun(self->fd, 1, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_EXCEPTION, r.result);
	EXPECT_EQ(6, r.vector);
	ASSERT_EQ(0, vmrun(self->fd, 2, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_EXCEPTION, r.result);
	EXPECT_EQ(13, r.vector);
	ASSERT_EQ(ENOENT, vmrun(self->fd, 0, SVM_GPA + 16 * PAGE, 0, &r));
	ASSERT_LE(0, tr_end(t, getpid()));
	EXPECT_LE(0, tr_find(_metadata, t, 0, "svm_vmrun",
			     "vcpu=0 vmcb12=0x%llx result=vmexit_invalid vector=0 check=%d ret=0",
			     SVM_GPA, GUESTMAP_SVM_CHECK_DR6));
	EXPECT_LE(0, tr_find(_metadata, t, 0, "svm_vmrun",
			     "vcpu=1 vmcb12=0x%llx result=exception vector=6 check=%d ret=0",
			     SVM_GPA, GUESTMAP_SVM_CHECK_L1_SVME));
	EXPECT_LE(0, tr_find(_metadata, t, 0, "svm_vmrun",
			     "vcpu=2 vmcb12=0x%llx result=exception vector=13 check=%d ret=0",
			     SVM_GPA, GUESTMAP_SVM_CHECK_L1_CPL));
	EXPECT_LE(0, tr_find(_metadata, t, 0, "svm_vmrun",
			     "vcpu=0 vmcb12=0x%llx result=none vector=0 check=0 ret=%d",
			     SVM_GPA + 16 * PAGE, -ENOENT));
	EXPECT_EQ(4, tr_count(t, "svm_vmrun", NULL)) TR_LOG(t);
}

/*
 * A vCPU that reached VMCB12 through its pfn cache has a valid view,
 * GUESTMAP_NR_CACHES + its id.  Creating a vCPU over its id fails,
 * EEXIST, and drops nothing; destroying it drops the view,
 * reason=forgotten; the vCPU re-created over the id starts with no view:
 * its first access refreshes.
 */
TEST_F(svm, destroyed_vcpu_forgets_its_cache_view)
{
	const uint32_t id = 3, cmd = GUESTMAP_SVM_CREATE_VCPU;
	const uint64_t gfn = SVM_GPA / PAGE;
	struct tracer *t = &self->t;
	struct guestmap_svm_vmrun r;
	int i, j;

	ASSERT_EQ(0, create_vcpu(self->fd, id, 48));
	ASSERT_EQ(0, set_l1(self->fd, id));
	ASSERT_EQ(0, tr_begin(t, "cache_invalidate map ioctl_exit"));
	ASSERT_EQ(0, vmrun(self->fd, id, SVM_GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, id, 0x81));
	ASSERT_EQ(EEXIST, create_vcpu(self->fd, id, 48));
	ASSERT_EQ(0, destroy_vcpu(self->fd, id));
	ASSERT_EQ(0, create_vcpu(self->fd, id, 48));
	ASSERT_EQ(0, set_l1(self->fd, id));
	ASSERT_EQ(0, vmrun(self->fd, id, SVM_GPA, GUESTMAP_SVM_RUN_CACHED, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_LE(0, tr_end(t, getpid()));

	i = tr_find(_metadata, t, 0, "map",
		    "gfn=0x%llx write=1 path=cache_refresh ret=0", (unsigned long long)gfn);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "ioctl_exit", "cmd=0x%x ret=%d", cmd, -EEXIST);
	ASSERT_LE(0, i);
	j = tr_find(_metadata, t, i, "cache_invalidate", "cache=%u gfn=0x%llx reason=forgotten",
		    GUESTMAP_NR_CACHES + id, (unsigned long long)gfn);
	ASSERT_LT(i, j);
	/* ... by the destruction, the next CREATE_VCPU after the failed one. */
	EXPECT_LT(j, tr_find(_metadata, t, i, "ioctl_exit", "cmd=0x%x ret=0", cmd));
	EXPECT_EQ(1, tr_count(t, "cache_invalidate", NULL)) TR_LOG(t);
	EXPECT_LT(j, tr_find(_metadata, t, j, "map",
			     "gfn=0x%llx write=1 path=cache_refresh ret=0",
			     (unsigned long long)gfn));
}

/* The 32-bit word of the MSR permission map that holds @msr (APM 15.11). */
static unsigned int msrpm_word(uint32_t msr)
{
	unsigned int base = msr < 0x2000 ? 0 : msr < 0xc0010000 ? 0x800 : 0x1000;

	return (base + (msr & 0x1fff) / 4) / 4;
}

/*
 * With MSR_PROT intercepted, VMRUN merges one word of L1's map for each
 * word L0 opened: 3 MSRs in 3 words, outside the x2APIC range, are 3
 * words; a fourth in a word already open and an x2APIC MSR add none; a
 * vCPU whose L0 opened nothing reads none; a map in no memslot fails at
 * its first word, and VMRUN exits with VMEXIT_INVALID (MSRPM_READ).
 */
TEST_F(svm, msrpm_merge_reads_the_words_l0_opened)
{
	const uint32_t msrs[] = { 0x174, 0xc0000081, 0xc0000100 };
	struct tracer *t = &self->t;
	struct guestmap_svm_vmrun r;
	unsigned int k;
	int i;

	EXPECT_NE(msrpm_word(msrs[0]), msrpm_word(msrs[1]));
	EXPECT_NE(msrpm_word(msrs[1]), msrpm_word(msrs[2]));
	EXPECT_EQ(msrpm_word(0xc0000100), msrpm_word(0xc0000101));
	put32(self->mem, VMCB_INTERCEPT_WORD3, WORD3_MSR_PROT);
	memset(self->mem + MSRPM_OFF, 0, 2 * PAGE);
	for (k = 0; k < 3; k++)
		ASSERT_EQ(0, open_l0_msr(self->fd, 0, msrs[k]));
	ASSERT_EQ(0, create_vcpu(self->fd, 1, 48));
	ASSERT_EQ(0, set_l1(self->fd, 1));

	ASSERT_EQ(0, tr_begin(t, "svm_vmrun svm_msrpm_merge"));
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7c));
	ASSERT_EQ(0, open_l0_msr(self->fd, 0, 0xc0000101));	/* GS_BASE */
	ASSERT_EQ(0, open_l0_msr(self->fd, 0, 0x802));		/* x2APIC ID */
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 0, 0x7c));
	ASSERT_EQ(0, vmrun(self->fd, 1, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_ENTERED, r.result);
	ASSERT_EQ(0, vmexit(self->fd, 1, 0x7c));
	put64(self->mem, VMCB_MSRPM_BASE, 0x40000000);		/* in no slot */
	ASSERT_EQ(0, vmrun(self->fd, 0, SVM_GPA, 0, &r));
	ASSERT_EQ(GUESTMAP_SVM_VMEXIT_INVALID, r.result);
	ASSERT_LE(0, tr_end(t, getpid()));

	i = tr_find(_metadata, t, 0, "svm_msrpm_merge",
		    "vcpu=0 msrpm=0x%llx words=3 ret=0", SVM_GPA + MSRPM_OFF);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmrun", "vcpu=0 result=entered check=0 ret=0");
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_msrpm_merge",
		    "vcpu=0 msrpm=0x%llx words=3 ret=0", SVM_GPA + MSRPM_OFF);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_msrpm_merge",
		    "vcpu=1 msrpm=0x%llx words=0 ret=0", SVM_GPA + MSRPM_OFF);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_msrpm_merge",
		    "vcpu=0 msrpm=0x40000000 words=1 ret=%d", -EFAULT);
	ASSERT_LE(0, i);
	i = tr_find(_metadata, t, i, "svm_vmrun",
		    "vcpu=0 vmcb12=0x%llx result=vmexit_invalid check=%d ret=0",
		    SVM_GPA, GUESTMAP_SVM_CHECK_MSRPM_READ);
	ASSERT_LE(0, i);
	EXPECT_EQ(4, tr_count(t, "svm_msrpm_merge", NULL)) TR_LOG(t);
}

/* Whether the print format of event @name prints key @key ("key=..."). */
static int prints_key(const char *format, const char *key)
{
	const char *fmt = strstr(format, "print fmt: \"");
	char want[48];
	const char *p;

	if (!fmt)
		return 0;
	fmt += strlen("print fmt: \"");
	snprintf(want, sizeof(want), "%s=", key);
	for (p = strstr(fmt, want); p; p = strstr(p + 1, want))
		if (p == fmt || p[-1] == ' ')
			return 1;
	return 0;
}

/*
 * Every event of the guestmap system is in covered[] (so a new
 * tracepoint fails here until a test checks it), every entry of it is an
 * event, and the keys the tests read are in its print format.
 */
TEST(every_guestmap_event_is_covered)
{
	char path[256], keys[128], *key, *save, *format;
	struct dirent *d;
	unsigned int i;
	int found = 0;
	DIR *dir;

	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	dir = opendir(EVENTS_DIR);
	if (!dir)
		SKIP(return, "no tracefs or no guestmap events");
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "guestmap_", 9))
			continue;
		found++;
		for (i = 0; i < ARRAY_SIZE(covered); i++)
			if (!strcmp(covered[i].name, d->d_name))
				break;
		EXPECT_LT(i, ARRAY_SIZE(covered))
			TH_LOG("event %s has no test in trace_test.c", d->d_name);
	}
	closedir(dir);
	EXPECT_EQ(ARRAY_SIZE(covered), found);
	for (i = 0; i < ARRAY_SIZE(covered); i++) {
		snprintf(path, sizeof(path), EVENTS_DIR "/%s/format", covered[i].name);
		format = read_all(path);
		EXPECT_NE(NULL, format)
			TH_LOG("covered[] names %s, which is no event", covered[i].name);
		if (!format)
			continue;
		snprintf(keys, sizeof(keys), "%s", covered[i].keys);
		for (key = strtok_r(keys, " ", &save); key; key = strtok_r(NULL, " ", &save)) {
			int ok = prints_key(format, key);

			if (!ok)
				TH_LOG("%s no longer prints %s= (read by %s):\n%s",
				       covered[i].name, key, covered[i].tests, format);
			EXPECT_TRUE(ok);
		}
		free(format);
	}
}

TEST_HARNESS_MAIN
