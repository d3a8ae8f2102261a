// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap selftests for what the memory manager and user space do to
 * guest memory besides munmap and mprotect:
 *
 * - userfaultfd: a guest access to a missing page waits for user space to
 *   resolve it (as postcopy migration needs), killably, without holding a
 *   lock an invalidation needs, and without letting other threads of the
 *   process hang uninterruptibly behind it;
 * - NUMA balancing: its hinting faults send MMU_NOTIFY_PROTECTION_VMA with
 *   the vma still readable, which the mirror answers by write-protecting
 *   in place;
 * - the OOM reaper: the one sender of non-blockable invalidations.
 *
 * Run as root in the test VM with guestmap.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#define GPA	0x200000UL

static int set_slot(int fd, uint64_t gpa, uint64_t size, const void *hva)
{
	struct guestmap_memslot m = {
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

static int guest_rw(int fd, uint64_t gpa, void *buf, uint64_t len, int write)
{
	struct guestmap_rw rw = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

	return ioctl(fd, write ? GUESTMAP_WRITE_GUEST : GUESTMAP_READ_GUEST, &rw) ?
	       errno : 0;
}

static int acc(int fd, uint32_t op, uint64_t gpa, void *buf, uint64_t len)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
	};

	return ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;
}

static int fault(int fd, uint64_t gpa, uint64_t size, int write)
{
	struct guestmap_fault f = {
		.gpa = gpa, .size = size,
		.flags = write ? GUESTMAP_FAULT_WRITE : 0,
	};

	return ioctl(fd, GUESTMAP_MIRROR_FAULT, &f) ? errno : 0;
}

static struct guestmap_stats stats(int fd)
{
	struct guestmap_stats s = { 0 };

	ioctl(fd, GUESTMAP_GET_STATS, &s);
	return s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* ---- userfaultfd ---- */

#define UFFD_PAGES	8
#define NEVER		1	/* the page the handler never resolves */
#define UNTOUCHED	6	/* the page nothing may fault in */

struct uffd_env {
	int uffd;
	char *region;
	char *src;
	int faults[UFFD_PAGES];
};

/* Resolves every missing fault but page NEVER's, after 300 ms. */
static void *uffd_handler(void *arg)
{
	struct uffd_env *e = arg;
	struct uffd_msg msg;

	while (read(e->uffd, &msg, sizeof(msg)) == sizeof(msg)) {
		unsigned long page;
		struct uffdio_copy copy;

		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		page = (msg.arg.pagefault.address - (uintptr_t)e->region) / PAGE;
		if (page >= UFFD_PAGES)
			continue;
		__atomic_add_fetch(&e->faults[page], 1, __ATOMIC_SEQ_CST);
		if (page == NEVER)
			continue;
		usleep(300 * 1000);
		snprintf(e->src, PAGE, "resolved-%lu", page);
		copy = (struct uffdio_copy) {
			.dst = (uintptr_t)e->region + page * PAGE,
			.src = (uintptr_t)e->src, .len = PAGE,
		};
		ioctl(e->uffd, UFFDIO_COPY, &copy);
	}
	return NULL;
}

struct blocked {
	int fd;
	uint64_t gpa;
	int ret;
};

struct change {
	int fd;
	int done;
};

/* Deletes the slot: waits for every access of the context in flight. */
static void *blocked_set_slot(void *arg)
{
	struct change *c = arg;

	set_slot(c->fd, GPA, 0, NULL);
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;
	char buf[16];

	b->ret = guest_rw(b->fd, b->gpa, buf, sizeof(buf), 0);
	return NULL;
}

/*
 * The child's part: every kind of access to missing pages waits for the
 * handler; then a thread blocks for good on page NEVER, holding the
 * context's slot table shared, while an invalidation and a stats read
 * must still go through, another access runs beside it, and a memslot
 * change waits behind it killably.  Exit codes name the failed step.
 */
static int uffd_child(int ready)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_env e = { 0 };
	struct blocked a, b;
	struct change ch = { 0 };
	pthread_t h, ta, tb, tc;
	char buf[16], c = 1;
	double t;
	int fd = open_dev();

	e.uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	e.region = mmap(NULL, UFFD_PAGES * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e.src = malloc(PAGE);
	if (fd < 0 || e.uffd < 0 || e.region == MAP_FAILED || !e.src)
		return 10;
	reg.range.start = (uintptr_t)e.region;
	reg.range.len = UFFD_PAGES * PAGE;
	if (ioctl(e.uffd, UFFDIO_API, &api) || ioctl(e.uffd, UFFDIO_REGISTER, &reg))
		return 11;
	if (set_slot(fd, GPA, UFFD_PAGES * PAGE, e.region))
		return 12;
	pthread_create(&h, NULL, uffd_handler, &e);

	/* Each path waits for the handler, then sees what it put there. */
	t = now();
	if (guest_rw(fd, GPA, buf, 11, 0) || memcmp(buf, "resolved-0", 11))
		return 20;
	if (now() - t < 0.25)
		return 21;
	if (acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + 2 * PAGE, buf, 11) ||
	    memcmp(buf, "resolved-2", 11))
		return 22;
	if (acc(fd, GUESTMAP_ACCESS_READ, GPA + 3 * PAGE, buf, 11) ||
	    memcmp(buf, "resolved-3", 11))
		return 23;
	if (acc(fd, GUESTMAP_ACCESS_CACHE_READ, GPA + 4 * PAGE, buf, 11) ||
	    memcmp(buf, "resolved-4", 11))
		return 24;
	if (fault(fd, GPA + 5 * PAGE, PAGE, 1) ||
	    guest_rw(fd, GPA + 5 * PAGE, buf, 11, 0) || memcmp(buf, "resolved-5", 11))
		return 25;
	/* CLASSIFY faults nothing in: no fault for the handler to see. */
	{
		struct guestmap_classify cl = {
			.addr = (uintptr_t)e.region + UNTOUCHED * PAGE,
		};

		if (ioctl(fd, GUESTMAP_CLASSIFY, &cl) != -1 || errno != EFAULT)
			return 26;
		if (e.faults[UNTOUCHED])
			return 27;
	}

	/* A thread blocks for good, holding the context's slot table. */
	a = (struct blocked) { .fd = fd, .gpa = GPA + NEVER * PAGE };
	pthread_create(&ta, NULL, blocked_read, &a);
	while (!__atomic_load_n(&e.faults[NEVER], __ATOMIC_SEQ_CST))
		usleep(10 * 1000);
	usleep(200 * 1000);
	/* An invalidation of the slot needs no lock the blocked thread has. */
	t = now();
	if (madvise(e.region, PAGE, MADV_DONTNEED) || now() - t > 2)
		return 30;
	if (stats(fd).invalidations[GUESTMAP_EVENT_CLEAR] == 0)
		return 31;
	/* Another access runs beside it. */
	b = (struct blocked) { .fd = fd, .gpa = GPA + 4 * PAGE, .ret = -1 };
	pthread_create(&tb, NULL, blocked_read, &b);
	pthread_join(tb, NULL);
	if (b.ret)
		return 32;
	/* A memslot change waits behind it, killably. */
	ch.fd = fd;
	pthread_create(&tc, NULL, blocked_set_slot, &ch);
	usleep(200 * 1000);
	if (__atomic_load_n(&ch.done, __ATOMIC_SEQ_CST))
		return 33;
	if (write(ready, &c, 1) != 1)
		return 40;
	pause();
	return 41;
}

/*
 * The parent watches: with the hung-task timeout at 3 s, waiting 8 s lets
 * the detector report any thread waiting uninterruptibly (the runner
 * fails on "blocked for more than"); then SIGKILL must end the child at
 * once.
 */
FIXTURE(events) {
	int unused;
};

FIXTURE_SETUP(events)
{
}

FIXTURE_TEARDOWN(events)
{
}

TEST_F_TIMEOUT(events, userfaultfd_waits_are_killable_and_lock_nothing, 120)
{
	const char *hung = "/proc/sys/kernel/hung_task_timeout_secs";
	char old[32] = "20";
	int pipefd[2], status;
	double t;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		_exit(uffd_child(pipefd[1]));
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		/* The child's exit code names the step that failed. */
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	read_file(hung, old, sizeof(old));
	if (write_file(hung, "3"))
		TH_LOG("no hung-task detector: only killability is checked");
	sleep(8);
	write_file(hung, old);
	t = now();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_GT(5, now() - t);
}

static void on_alarm(int sig)
{
}

/*
 * A write-only vma (PROT_WRITE without PROT_READ) registered with
 * userfaultfd: hmm reports every page of it as an error, while a write
 * fault there succeeds, so the walk retried forever (until a signal).  It
 * is refused like any memory the process may not read.
 */
TEST_F(events, a_write_only_userfaultfd_range_is_refused)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct sigaction sa = { .sa_handler = on_alarm };
	char *w = mmap(NULL, 2 * PAGE, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC), fd = open_dev();
	double t;

	ASSERT_NE(MAP_FAILED, w);
	ASSERT_LE(0, uffd);
	ASSERT_LE(0, fd);
	reg.range.start = (uintptr_t)w;
	reg.range.len = 2 * PAGE;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	ASSERT_EQ(0, set_slot(fd, GPA, 2 * PAGE, w));
	/* Were it to loop, the alarm ends it with EINTR. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(5);
	t = now();
	EXPECT_EQ(EFAULT, guest_rw(fd, GPA, "written", 8, 1));
	EXPECT_EQ(EFAULT, fault(fd, GPA, PAGE, 1));
	EXPECT_GT(2, now() - t);
	alarm(0);
	close(fd);
	close(uffd);
	munmap(w, 2 * PAGE);
}

/* ---- NUMA balancing ---- */

#define SCHED_NUMA	"/sys/kernel/debug/sched/numa_balancing/"

/*
 * task_numa_work() makes the ptes of the task's memory PROT_NONE to catch
 * hinting faults, sending MMU_NOTIFY_PROTECTION_VMA while the vma stays
 * readable: the mirror write-protects its entries in place and keeps
 * them, and the data stays coherent both ways.  The busy loop lets the
 * scanner run (it runs on return to user space).
 */
TEST_F_TIMEOUT(events, numa_hinting_write_protects_in_place, 90)
{
	const size_t n = 64;
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char old_nb[16] = "0", old_delay[16] = "1000", old_min[16] = "1000";
	struct guestmap_stats s;
	int fd = open_dev();
	unsigned long sum = 0, rounds = 0;
	char buf[16];
	double t;
	size_t i;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_LE(0, fd);
	if (read_file("/proc/sys/kernel/numa_balancing", old_nb, sizeof(old_nb)) ||
	    write_file("/proc/sys/kernel/numa_balancing", "1"))
		SKIP(return, "no NUMA balancing (CONFIG_NUMA_BALANCING, two nodes)");
	read_file(SCHED_NUMA "scan_delay_ms", old_delay, sizeof(old_delay));
	read_file(SCHED_NUMA "scan_period_min_ms", old_min, sizeof(old_min));
	write_file(SCHED_NUMA "scan_delay_ms", "0");
	write_file(SCHED_NUMA "scan_period_min_ms", "100");
	for (i = 0; i < n; i++)
		snprintf(p + i * PAGE, 16, "numa page %zu", i);
	ASSERT_EQ(0, set_slot(fd, GPA, n * PAGE, p));
	ASSERT_EQ(0, fault(fd, GPA, n * PAGE, 1));
	for (t = now(); now() - t < 60; rounds++) {
		/* Touch the memory: the scanner runs for tasks that do. */
		for (i = 0; i < n; i++)
			sum += p[i * PAGE];
		s = stats(fd);
		if (s.invalidations[GUESTMAP_EVENT_PROTECTION_VMA])
			break;
	}
	EXPECT_EQ((rounds + 1) * n * 'n', sum);
	write_file("/proc/sys/kernel/numa_balancing", old_nb);
	write_file(SCHED_NUMA "scan_delay_ms", old_delay);
	write_file(SCHED_NUMA "scan_period_min_ms", old_min);
	if (!s.invalidations[GUESTMAP_EVENT_PROTECTION_VMA])
		SKIP(goto out, "the NUMA scanner did not run in 60 s");
	TH_LOG("%llu PROTECTION_VMA, %llu write-protected, %llu zapped, %llu present",
	       (unsigned long long)s.invalidations[GUESTMAP_EVENT_PROTECTION_VMA],
	       (unsigned long long)s.entries_wrprotected,
	       (unsigned long long)s.entries_zapped,
	       (unsigned long long)s.entries_present);
	/* Write-protected, not thrown away (unless migration moved pages). */
	EXPECT_LT(0, s.entries_wrprotected);
	if (!s.invalidations[GUESTMAP_EVENT_MIGRATE] &&
	    !s.invalidations[GUESTMAP_EVENT_CLEAR])
		EXPECT_EQ(n, s.entries_present);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, guest_rw(fd, GPA + i * PAGE, buf, 16, 0));
		ASSERT_EQ(0, memcmp(buf, p + i * PAGE, 16));
	}
	ASSERT_EQ(0, guest_rw(fd, GPA + 7 * PAGE, "guest wrote", 12, 1));
	EXPECT_EQ(0, memcmp(p + 7 * PAGE, "guest wrote", 12));
out:
	close(fd);
	munmap(p, n * PAGE);
}

/* ---- the OOM reaper ---- */

static int send_fds(int sock, int *fds, int n, void *data, size_t len)
{
	char ctl[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { data, len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &m, 0) == (ssize_t)len ? 0 : -1;
}

static int recv_fds(int sock, int *fds, int n, void *data, size_t len)
{
	char ctl[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { data, len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *cm;

	if (recvmsg(sock, &m, 0) != (ssize_t)len)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}

#define CGROUP	"/sys/fs/cgroup"
#define OOM_CG	CGROUP "/guestmap-oom"

/* The victim: a mirror over its memory, then allocations until killed. */
static int oom_victim(int sock)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	size_t len = 8UL << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *u = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fds[2] = { open_dev(), syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK) };
	uintptr_t addr = (uintptr_t)u;
	char go, *big;

	if (p == MAP_FAILED || u == MAP_FAILED || fds[0] < 0 || fds[1] < 0 ||
	    write_file(OOM_CG "/cgroup.procs", "0"))
		return 1;
	memset(p, 0x42, len);
	if (set_slot(fds[0], GPA, len, p) || fault(fds[0], GPA, len, 1))
		return 2;
	reg.range.start = addr;
	reg.range.len = PAGE;
	if (ioctl(fds[1], UFFDIO_API, &api) || ioctl(fds[1], UFFDIO_REGISTER, &reg))
		return 3;
	/*
	 * Mapped before, touched after: the allocation only faults, under
	 * the mmap lock shared, so the reaper's mmap_read_trylock() never
	 * meets a writer (an mmap() per chunk held it for writing, and on a
	 * loaded host the reaper could give up before the victim let go).
	 */
	big = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (big == MAP_FAILED)
		return 5;
	if (send_fds(sock, fds, 2, &addr, sizeof(addr)) || read(sock, &go, 1) != 1)
		return 4;
	memset(big, 1, 1UL << 30);
	return 6;	/* the memory cgroup's limit is 48 MiB: never */
}

static long debugfs_stat(pid_t pid, const char *key)
{
	char pattern[96], line[128];
	glob_t g;
	long v = -1;
	FILE *f;

	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/guestmap/ctx-%d-*", pid);
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != 1) {
		globfree(&g);
		return -1;
	}
	f = fopen(g.gl_pathv[0], "r");
	globfree(&g);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

static void log_to_kernel(const char *s)
{
	write_file("/dev/kmsg", s);
}

/*
 * The OOM reaper unmaps a dying process's memory with non-blockable
 * invalidations (mmu_notifier_invalidate_range_start_nonblock()), the only
 * sender of them: the mirror must take them without sleeping and never
 * fail them.  The reaper only gets to an address space the victim does
 * not tear down itself first, so another process keeps it alive: it reads
 * the victim's memory with process_vm_readv() at a userfaultfd-missing
 * page whose fault nobody resolves, which holds mm_users while it waits
 * (with the mmap lock dropped).  The victim sits alone in a memory cgroup
 * and allocates until the OOM killer kills it; two seconds later the
 * reaper runs.  Its fd, passed to the parent, keeps the context and its
 * debugfs file alive, whose "nonblocking" count must rise.
 *
 * The OOM killer prints a report with a stack dump: the markers around
 * it tell the VM runner that this report, and only it, is expected.
 */
TEST_F_TIMEOUT(events, the_oom_reaper_invalidates_without_blocking, 120)
{
	int sv[2], fds[2], status, i;
	char go = 1, b;
	pid_t victim, reader;
	uintptr_t addr;
	long nb = -1;

	if (access(CGROUP "/cgroup.controllers", F_OK) &&
	    mount("none", CGROUP, "cgroup2", 0, NULL))
		SKIP(return, "no cgroup2 (CONFIG_MEMCG)");
	write_file(CGROUP "/cgroup.subtree_control", "+memory");
	rmdir(OOM_CG);
	ASSERT_EQ(0, mkdir(OOM_CG, 0755));
	ASSERT_EQ(0, write_file(OOM_CG "/memory.max", "48M"));
	write_file(OOM_CG "/memory.swap.max", "0");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	victim = fork();
	ASSERT_LE(0, victim);
	if (victim == 0) {
		close(sv[0]);
		_exit(oom_victim(sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(0, recv_fds(sv[0], fds, 2, &addr, sizeof(addr)));
	/* The reader: blocked in the victim's missing page, holding its mm. */
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		struct iovec local = { &b, 1 }, remote = { (void *)addr, 1 };

		/* process_vm_readv() pins with FOLL_UNLOCKABLE: it can wait. */
		_exit(process_vm_readv(victim, &local, 1, &remote, 1, 0) == 1 ? 0 : 1);
	}
	{
		struct pollfd pfd = { .fd = fds[1], .events = POLLIN };
		struct uffd_msg msg;

		ASSERT_EQ(1, poll(&pfd, 1, 20000));
		ASSERT_EQ(sizeof(msg), read(fds[1], &msg, sizeof(msg)));
		ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	}
	EXPECT_EQ(0, debugfs_stat(victim, "nonblocking"));
	log_to_kernel("guestmap-selftest: expect an OOM report: begin");
	ASSERT_EQ(1, write(sv[0], &go, 1));
	ASSERT_EQ(victim, waitpid(victim, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (i = 0; i < 300; i++) {
		nb = debugfs_stat(victim, "nonblocking");
		if (nb > 0)
			break;
		usleep(100 * 1000);
	}
	log_to_kernel("guestmap-selftest: expect an OOM report: end");
	TH_LOG("%ld non-blockable invalidations", nb);
	EXPECT_LT(0, nb);
	/* The reader waits killably; its exit lets the address space go. */
	ASSERT_EQ(0, kill(reader, SIGKILL));
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	close(fds[1]);
	close(fds[0]);
	close(sv[0]);
	rmdir(OOM_CG);
}

TEST_HARNESS_MAIN
