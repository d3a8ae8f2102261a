// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap selftests: the device, its per-mm contexts and the ioctl ABI.
 *
 * Run as root in the test VM, with guestmap.ko loaded and GUESTMAP_KO
 * naming the module file (for the unload/reload test).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#define MODULE_NAME	"guestmap"
#define REFCNT_PATH	"/sys/module/" MODULE_NAME "/refcnt"
#define HOLDERS_PATH	"/sys/module/" MODULE_NAME "/holders"
#define TRACEFS		"/sys/kernel/tracing"
#define EXEC_PROBE_ENV	"GUESTMAP_TEST_EXEC_PROBE_FD"

static int get_version(int fd, struct guestmap_api_version *v)
{
	return ioctl(fd, GUESTMAP_GET_API_VERSION, v);
}

/* errno of GET_API_VERSION on fd, or 0 if it succeeded. */
static int version_errno(int fd)
{
	struct guestmap_api_version v;

	return get_version(fd, &v) ? errno : 0;
}

/*
 * After exec() the inherited fd meets a new address space.  The test execs
 * this same binary with EXEC_PROBE_ENV set: the probe runs before main()
 * and exits with the ioctl's errno.
 */
__attribute__((constructor)) static void exec_probe(void)
{
	const char *s = getenv(EXEC_PROBE_ENV);

	if (s)
		_exit(version_errno(atoi(s)));
}

static int read_refcnt(void)
{
	char buf[32] = "";
	int fd, n;

	fd = open(REFCNT_PATH, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* Whether no module uses guestmap's exports: holders/ lists them. */
static int holders_empty(void)
{
	DIR *d = opendir(HOLDERS_PATH);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			empty = 0;
	closedir(d);
	return empty;
}

static int delete_module(const char *name, int flags)
{
	return syscall(__NR_delete_module, name, flags);
}

static int finit_module(int fd)
{
	return syscall(__NR_finit_module, fd, "", 0);
}

TEST(device_node_is_a_misc_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* MISC_MAJOR, include/uapi/linux/major.h */
	ASSERT_EQ(10, major(st.st_rdev));
	/* devtmpfs's default: the module asks for no wider access. */
	EXPECT_EQ(0600, st.st_mode & 07777);
}

TEST(open_close)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
}

TEST(api_version)
{
	struct guestmap_api_version v;
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, get_version(fd, &v));
	ASSERT_EQ(GUESTMAP_API_VERSION, v.version);
	EXPECT_EQ(2, v.version);
	/* The page size as user space knows it, from the auxv. */
	EXPECT_EQ(sysconf(_SC_PAGESIZE), v.page_size);
	EXPECT_EQ(GUESTMAP_CAP_MIRROR | GUESTMAP_CAP_MAP | GUESTMAP_CAP_NESTED_SVM |
		  GUESTMAP_CAP_HUGE | GUESTMAP_CAP_NESTED_VMX | GUESTMAP_CAP_WALK,
		  v.caps);
	close(fd);
}

TEST(unknown_ioctl_is_enotty)
{
	const unsigned long cmds[] = {
		_IO(GUESTMAP_IO, 0x7f),
		_IOR(GUESTMAP_IO, 0x01, struct guestmap_api_version),
		/* GET_API_VERSION's number with another size or direction */
		_IOR(GUESTMAP_IO, 0x00, __u32),
		_IOW(GUESTMAP_IO, 0x00, struct guestmap_api_version),
		_IOWR(GUESTMAP_IO, 0x00, struct guestmap_api_version),
		_IO(0xAE, 0x00),	/* KVM_GET_API_VERSION */
		TCGETS,
	};
	struct guestmap_api_version v;
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	size_t i;

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], &v));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
	close(fd);
}

TEST(bad_user_pointer_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	char *ro, *rw;

	ASSERT_LE(0, fd);

	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION, (void *)1));
	EXPECT_EQ(EFAULT, errno);
#ifdef __i386__
	/*
	 * No 32-bit pointer names the kernel (compat_ptr() zero-extends
	 * it); the top page is above every 32-bit task's TASK_SIZE.
	 */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION, (void *)-PAGE));
	EXPECT_EQ(EFAULT, errno);
#else
	/* A kernel address (the x86-64 direct map). */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION,
			    (void *)0xffff888000000000ul));
	EXPECT_EQ(EFAULT, errno);
#endif

	/* Mapped but read-only: the kernel must not write to it. */
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, page);

	/* The struct straddles the end of a mapping. */
	rw = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rw);
	ASSERT_EQ(0, munmap(rw + page, page));
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_GET_API_VERSION, rw + page - 8));
	EXPECT_EQ(EFAULT, errno);
	/* ... and just fits. */
	EXPECT_EQ(0, ioctl(fd, GUESTMAP_GET_API_VERSION,
			   rw + page - sizeof(struct guestmap_api_version)));
	munmap(rw, page);

	/* The context is unharmed. */
	EXPECT_EQ(0, version_errno(fd));
	close(fd);
}

TEST(forked_child_gets_eio)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	int status;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(version_errno(fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EIO, WEXITSTATUS(status));
	/* The owner keeps full use of its context. */
	EXPECT_EQ(0, version_errno(fd));
	close(fd);
}

TEST(exec_gets_eio)
{
	int fd = open(DEV_PATH, O_RDWR);	/* no O_CLOEXEC: exec keeps it */
	char fdstr[16];
	int status;
	pid_t pid;

	ASSERT_LE(0, fd);
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		setenv(EXEC_PROBE_ENV, fdstr, 1);
		execl("/proc/self/exe", "guestmap_test", NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EIO, WEXITSTATUS(status));
	close(fd);
}

static void *thread_version(void *arg)
{
	return (void *)(long)version_errno(*(int *)arg);
}

TEST(thread_in_same_mm_may_use_fd)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	pthread_t t;
	void *ret;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_version, &fd));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (long)ret);
	close(fd);
}

TEST(contexts_are_independent)
{
	enum { N = 64 };
	int fds[N], i;

	for (i = 0; i < N; i++) {
		fds[i] = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	/* Closing some leaves the others working. */
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, close(fds[i]));
	for (i = 1; i < N; i += 2) {
		EXPECT_EQ(0, version_errno(fds[i]));
		close(fds[i]);
	}
}

struct race {
	int fd;
	int iterations;
	int failures;
};

static void *race_ioctls(void *arg)
{
	struct race *r = arg;
	int i, err;

	for (i = 0; i < r->iterations; i++) {
		err = version_errno(r->fd);
		/* EBADF once the fd is closed under us; anything else is wrong. */
		if (err == EBADF)
			break;
		if (err)
			__atomic_add_fetch(&r->failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Release runs only after in-flight ioctls: close() races them here. */
TEST(close_races_ioctls)
{
	enum { THREADS = 4, ROUNDS = 50 };
	pthread_t t[THREADS];
	struct race r;
	int round, i;

	for (round = 0; round < ROUNDS; round++) {
		r.fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		r.iterations = 200;
		r.failures = 0;
		ASSERT_LE(0, r.fd);
		for (i = 0; i < THREADS; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, race_ioctls, &r));
		usleep(round * 20);
		close(r.fd);
		for (i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		ASSERT_EQ(0, r.failures);
	}
}

TEST(open_fd_pins_the_module)
{
	int before, fd;

	before = read_refcnt();
	ASSERT_LE(0, before);
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(before + 1, read_refcnt());

	errno = 0;
	EXPECT_EQ(-1, delete_module(MODULE_NAME, O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	/* Still loaded and usable. */
	EXPECT_EQ(0, version_errno(fd));

	close(fd);
	EXPECT_EQ(before, read_refcnt());
}

TEST(unload_and_reload)
{
	const char *ko = getenv("GUESTMAP_KO");
	struct stat st;
	int kfd, fd;

	if (!ko)
		SKIP(return, "GUESTMAP_KO does not name guestmap.ko");
	/*
	 * A module using guestmap's exports (map_test's gm_kvm_probe, loaded
	 * by a run before this one, as the 32-bit run follows the 64-bit
	 * one) pins it: delete_module() could only fail.
	 */
	if (!holders_empty())
		SKIP(return, "another module uses guestmap (" HOLDERS_PATH ")");
	kfd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kfd) TH_LOG("%s: %s", ko, strerror(errno));

	ASSERT_EQ(0, delete_module(MODULE_NAME, O_NONBLOCK))
		TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_EQ(-1, stat(DEV_PATH, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, open(DEV_PATH, O_RDWR));

	ASSERT_EQ(0, finit_module(kfd)) TH_LOG("finit_module: %s", strerror(errno));
	/* A second load of the same module is refused. */
	errno = 0;
	EXPECT_EQ(-1, finit_module(kfd));
	EXPECT_EQ(EEXIST, errno);
	close(kfd);

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, version_errno(fd));
	close(fd);
}

/* The tracepoints are guestmap's only window for ftrace (profiling.rst). */
TEST(tracepoints_record_ioctls)
{
	const char *enable = TRACEFS "/events/guestmap/enable";
	char expect_ok[64], expect_bad[64];
	struct guestmap_api_version v;
	char *trace;
	int fd;

	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(enable, F_OK))
		SKIP(return, "no tracefs or no guestmap events");

	ASSERT_EQ(0, write_str(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_str(enable, "1"));
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_version(fd, &v));
	ASSERT_EQ(-1, ioctl(fd, _IO(GUESTMAP_IO, 0x7f)));
	close(fd);
	ASSERT_EQ(0, write_str(enable, "0"));

	trace = read_all(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);
	snprintf(expect_ok, sizeof(expect_ok), "cmd=0x%x ret=0",
		 (unsigned int)GUESTMAP_GET_API_VERSION);
	snprintf(expect_bad, sizeof(expect_bad), "cmd=0x%x ret=%d",
		 (unsigned int)_IO(GUESTMAP_IO, 0x7f), -ENOTTY);
	EXPECT_NE(NULL, strstr(trace, "guestmap_ctx_create: "));
	EXPECT_NE(NULL, strstr(trace, "guestmap_ioctl_enter: "));
	EXPECT_NE(NULL, strstr(trace, expect_ok)) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, expect_bad)) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, "guestmap_ctx_destroy: "));
	free(trace);
}

TEST_HARNESS_MAIN
