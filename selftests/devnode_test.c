// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/guestmap as a distribution sets it up, the way it sets up /dev/kvm:
 *
 * - on_demand.loads_module_on_open: with the module installed (in
 *   /lib/modules/$(uname -r)/extra, made writable for the test) and
 *   depmod run, modules.devname names the node, "kmod static-nodes"
 *   describes it as systemd-tmpfiles creates it at boot, and the first
 *   open() of that node, with the module not loaded, loads it:
 *   misc_open() finds no device with the minor and calls
 *   request_module("char-major-10-<minor>"), which modprobe resolves.
 *   The module stays loaded (the tests after this one need it).
 * - group_access.member_may_open: the node is root:root 0600 as the
 *   kernel creates it; the shipped udev rule (udev/60-guestmap.rules),
 *   applied by systemd-udevd, makes it root:guestmap 0660; then a member
 *   of the group without any capability can open and use it, and gets no
 *   pfns (Documentation/security.rst), while anyone else gets EACCES.
 *
 * Both run as root and change the guest's system state for a while (a
 * writable /lib/modules/<release>, guestmap unloaded, a "guestmap" group,
 * a udev rule).  Each records what it changed in struct changes and
 * undoes it in its teardown, which the harness runs when an assertion
 * fails, but not when a test times out: then the harness kills the
 * test's whole process group, teardown included, and the next test's
 * set-up or, after the last, this program's own process as it exits
 * undoes what is left.  Run in the test VM early, right after
 * guestmap_test (selftests/Makefile's order), so the programs after it
 * find guestmap loaded whatever happened here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

/* include/uapi/linux/major.h; devices.txt: "10 char  Non-serial mice, misc features" */
#define MISC_MAJOR	10
/* devices.txt, major 10: "243-254  Reserved for local use" */
#define LOCAL_MINOR_FIRST	243
#define LOCAL_MINOR_LAST	254

/* Room for the paths here: a few directories deep. */
#define PATH_LEN	256

#define NOBODY		65534

/*
 * Seconds each test may take.  The harness's default, 30, is too short
 * on the KASAN kernel under TCG, where copying /lib/modules/<release>,
 * depmod and loading the module took longer (make check-debug); a test
 * killed at its timeout loses its teardown (see struct changes).
 */
#ifndef DEVNODE_TIMEOUT
#define DEVNODE_TIMEOUT	300
#endif
#define RULES_DIR	"/run/udev/rules.d"
#define RULE		"60-guestmap.rules"

/* The exit status of "sh -c CMD", whose output becomes TAP comments. */
static int run(const char *fmt, ...)
{
	char cmd[8 * PATH_LEN], line[512];
	va_list ap;
	FILE *f;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	fflush(stdout);
	f = popen(cmd, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		printf("#   %s", line);
	status = pclose(f);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (status)
		printf("# %s: status %d\n", cmd, status);
	return status;
}

/* Whether the shell finds program @name. */
static bool have(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* The first line of @path, without its newline, into @buf; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out, ret = -1;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		goto out_in;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto out;
	ret = n == 0 ? 0 : -1;
out:
	close(out);
out_in:
	close(in);
	return ret;
}

static bool module_loaded(void)
{
	return access("/sys/module/guestmap", F_OK) == 0;
}

/* This program's directory, where the repository's udev/ is "../udev". */
static int self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	*strrchr(buf, '/') = 0;
	return 0;
}

/*
 * Steps of use_device(), for a child to report in its exit status which
 * one failed.
 */
enum {
	USE_OK,
	USE_OPEN,
	USE_VERSION,
	USE_MEMSLOT,
	USE_FAULT,
	USE_RW,
	USE_QUERY,
	USE_PFN,
	USE_SETUP,
	USE_CAPS,
};

static const char *const use_step[] = {
	"ok", "open", "GET_API_VERSION", "SET_MEMSLOT", "MIRROR_FAULT",
	"READ_GUEST/WRITE_GUEST", "QUERY", "pfn visibility", "set-up",
	"capabilities left",
};

/*
 * Opens the device and uses it: a memslot over one page, a fault, guest
 * reads and writes, and a query of the mirror, whose pfn bits must be
 * what /proc/self/pagemap shows this process (the kernel's own rule for
 * who sees pfns, Documentation/admin-guide/mm/pagemap.rst): the page's
 * pfn with CAP_SYS_ADMIN, zero without.  A USE_* step.
 */
static int use_device(bool sys_admin)
{
	struct guestmap_api_version v;
	struct guestmap_memslot slot;
	struct guestmap_fault fault = { .gpa = 0, .size = PAGE, .flags = GUESTMAP_FAULT_WRITE };
	struct guestmap_rw rw;
	struct guestmap_query q;
	uint64_t entry = 0, pfn, want_pfn;
	char in[16] = "guestmap member", out[16];
	char *mem;
	int fd;

	fd = open_dev();
	if (fd < 0)
		return USE_OPEN;
	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v) ||
	    v.version != GUESTMAP_API_VERSION || v.page_size != PAGE)
		return USE_VERSION;

	mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return USE_SETUP;
	slot = (struct guestmap_memslot){
		.slot = 0, .guest_phys_addr = 0, .memory_size = PAGE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(fd, GUESTMAP_SET_MEMSLOT, &slot))
		return USE_MEMSLOT;
	if (ioctl(fd, GUESTMAP_MIRROR_FAULT, &fault))
		return USE_FAULT;

	rw = (struct guestmap_rw){ .gpa = 8, .len = sizeof(in), .buf = (uintptr_t)in };
	if (ioctl(fd, GUESTMAP_WRITE_GUEST, &rw) || memcmp(mem + 8, in, sizeof(in)))
		return USE_RW;
	rw.buf = (uintptr_t)out;
	if (ioctl(fd, GUESTMAP_READ_GUEST, &rw) || memcmp(out, in, sizeof(in)))
		return USE_RW;

	q = (struct guestmap_query){ .gpa = 0, .npages = 1, .entries = (uintptr_t)&entry };
	if (ioctl(fd, GUESTMAP_QUERY, &q) || !(entry & GUESTMAP_PAGE_PRESENT) ||
	    ((entry & GUESTMAP_PAGE_CLASS_MASK) >> GUESTMAP_PAGE_CLASS_SHIFT) !=
	    GUESTMAP_CLASS_PAGE)
		return USE_QUERY;
	pfn = entry >> GUESTMAP_PAGE_PFN_SHIFT;
	want_pfn = pagemap_pfn(mem);
	if (pfn != want_pfn || (sys_admin ? pfn == 0 : pfn != 0)) {
		fprintf(stderr, "# query pfn %#llx, pagemap pfn %#llx\n",
			(unsigned long long)pfn, (unsigned long long)want_pfn);
		return USE_PFN;
	}
	close(fd);
	munmap(mem, PAGE);
	return USE_OK;
}

/*
 * In a child running as uid and gid nobody, with @gid as its only
 * supplementary group (none if 0), and so with no capability: the errno
 * of open() if it fails, else the USE_* step that failed (as 1000 + step)
 * or 0.
 */
static int as_nobody(gid_t gid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(gid ? 1 : 0, &gid) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100 + USE_SETUP);
		/* A root-to-nobody setresuid() clears every capability set. */
		if (syscall(SYS_capget, &h, d) || d[0].effective || d[1].effective ||
		    d[0].permitted || d[1].permitted)
			_exit(100 + USE_CAPS);
		ret = open_dev();
		if (ret < 0)
			_exit(errno < 100 ? errno : 99);
		close(ret);
		_exit(100 + use_device(false));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	ret = WEXITSTATUS(status);
	/* An errno below 100, or 100 + a step. */
	return ret >= 100 ? ret - 100 + 1000 : ret;
}

static const char *step_name(int ret)
{
	return ret >= 1000 && ret - 1000 < (int)ARRAY_SIZE(use_step) ?
		use_step[ret - 1000] : strerror(ret);
}

/*
 * What the tests changed in the system, to be undone.  In memory shared
 * with this program's own process: kselftest_harness.h's
 * __timeout_handler() kills a test that outlives its timeout with its
 * whole process group, before its teardown runs; then the next test's
 * set-up, or this process as it exits, undoes what is left (undo_left()).
 * A killed test may still be finishing a system call, and the modprobe
 * its open() started is not killed at all: undo_left() first waits for
 * the test's process to be gone and for guestmap to be neither coming
 * nor going.  A flag may then be set for a change that was never made:
 * each flag is set before its change, and each undo is harmless for a
 * change never made: a mount is undone only if it is the test's own
 * tmpfs, a file removed only if the test made it, and a udevd stopped
 * only if none answered before the test started it.  Each undo clears
 * its flags, so running it again does nothing.
 */
struct on_demand_changes {
	char ko[PATH_LEN];	/* the module file, to reload it */
	char stage[PATH_LEN];	/* a tmpfs with a copy of /lib/modules/<release> */
	char bound[PATH_LEN];	/* where the stage is bound */
	bool stage_mounted;	/* the stage was made, and maybe mounted */
	bool moddir_bound;
	bool node_made;		/* DEV_PATH made by mknod(), not by devtmpfs */
	bool unloaded;		/* guestmap was loaded, and the test unloaded it */
};

struct group_access_changes {
	char tmp[PATH_LEN];	/* a tmpfs for a copy of /etc/group */
	char group[2 * PATH_LEN];	/* the copy */
	bool tmp_mounted;	/* tmp was made, and maybe mounted */
	bool group_bound;	/* the copy is bound over /etc/group */
	bool rule_installed;
	bool udevd_started;
	bool node_changed;	/* DEV_PATH's owner or mode */
};

static struct changes {
	pid_t pid;		/* the process running the test */
	struct on_demand_changes on_demand;
	struct group_access_changes group_access;
} *changes;
static pid_t harness_pid;

static void __attribute__((constructor)) changes_map(void)
{
	changes = mmap(NULL, sizeof(*changes), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (changes == MAP_FAILED) {
		perror("mmap");
		exit(KSFT_FAIL);
	}
	harness_pid = getpid();
}

/* Waits up to @ms for @cond(), polling every 10 ms; its last answer. */
static bool wait_for(bool (*cond)(void), int ms)
{
	for (; ms > 0 && !cond(); ms -= 10)
		usleep(10000);
	return cond();
}

static bool test_gone(void)
{
	return !changes->pid || (kill(changes->pid, 0) && errno == ESRCH);
}

/* Not "coming" (modprobe still in finit_module()) nor "going". */
static bool module_settled(void)
{
	char state[16] = "";
	FILE *f = fopen("/sys/module/guestmap/initstate", "re");

	if (!f)
		return true;
	if (!fgets(state, sizeof(state), f))
		state[0] = 0;
	fclose(f);
	return strncmp(state, "coming", 6) && strncmp(state, "going", 5);
}

/* Unloads guestmap, waiting up to 5 s for a last user to close it. */
static int unload(void)
{
	int ms;

	for (ms = 0; syscall(SYS_delete_module, "guestmap", O_NONBLOCK); ms += 10) {
		if ((errno != EWOULDBLOCK && errno != EBUSY) || ms >= 5000)
			return -1;
		usleep(10000);
	}
	return 0;
}

/* Whether @path is the root of a mount, @path's parent being on another. */
static bool mount_root(const char *path)
{
	char parent[PATH_LEN + 4];
	struct stat st, pst;

	snprintf(parent, sizeof(parent), "%s/..", path);
	return !stat(path, &st) && !stat(parent, &pst) && st.st_dev != pst.st_dev;
}

/* Whether @a and @b are the same file (a bind mount shows one at both). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * Leaves guestmap loaded as the test found it, with the node devtmpfs
 * makes, which goes away on unload (guestmap_test's unload test checks
 * that), rather than the one mknod() made.
 */
static void undo_on_demand(struct on_demand_changes *c)
{
	int fd;

	if (c->node_made && module_loaded() && unload())
		ksft_print_msg("unloading guestmap: %s\n", strerror(errno));
	if (c->node_made && !module_loaded() && unlink(DEV_PATH) && errno != ENOENT)
		ksft_print_msg("unlink " DEV_PATH ": %s\n", strerror(errno));
	c->node_made = false;
	if (c->unloaded && !module_loaded()) {
		fd = open(c->ko, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			ksft_print_msg("reloading %s: %s\n", c->ko, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	c->unloaded = false;
	/* Only the stage's own bind: what was mounted there before stays. */
	if (c->moddir_bound && same_file(c->bound, c->stage) && mount_root(c->stage) &&
	    umount2(c->bound, MNT_DETACH))
		ksft_print_msg("umount %s: %s\n", c->bound, strerror(errno));
	c->moddir_bound = false;
	if (c->stage_mounted) {
		if (mount_root(c->stage) && umount2(c->stage, MNT_DETACH))
			ksft_print_msg("umount %s: %s\n", c->stage, strerror(errno));
		rmdir(c->stage);
	}
	c->stage_mounted = false;
}

static void undo_group_access(struct group_access_changes *c)
{
	if (c->rule_installed)
		unlink(RULES_DIR "/" RULE);
	if (c->rule_installed)
		run("udevadm control --reload");
	/* An event still in flight would apply the rule after the chmod(). */
	if (c->rule_installed || c->udevd_started)
		run("udevadm settle --timeout=60");
	if (c->udevd_started)
		run("udevadm control --exit");
	c->rule_installed = c->udevd_started = false;
	/* Back to the kernel's root:root 0600 for the tests after this one. */
	if (c->node_changed && (chown(DEV_PATH, 0, 0) || chmod(DEV_PATH, 0600)))
		ksft_print_msg("restoring " DEV_PATH ": %s\n", strerror(errno));
	c->node_changed = false;
	if (c->group_bound && same_file("/etc/group", c->group) &&
	    umount2("/etc/group", MNT_DETACH))
		ksft_print_msg("umount /etc/group: %s\n", strerror(errno));
	c->group_bound = false;
	if (c->tmp_mounted) {
		if (mount_root(c->tmp))
			umount2(c->tmp, MNT_DETACH);
		rmdir(c->tmp);
	}
	c->tmp_mounted = false;
}

/*
 * After a test was killed: what its teardown did not undo, in the
 * reverse order of the tests (the node's mode before the module).
 */
static void undo_left(void)
{
	struct on_demand_changes *od = &changes->on_demand;
	struct group_access_changes *ga = &changes->group_access;

	if (!wait_for(test_gone, 30000))
		ksft_print_msg("the killed test's process %d is still there\n", changes->pid);
	changes->pid = 0;
	if (!wait_for(module_settled, 60000))
		ksft_print_msg("guestmap is still coming or going\n");
	if (ga->tmp_mounted || ga->group_bound || ga->rule_installed || ga->udevd_started ||
	    ga->node_changed) {
		ksft_print_msg("undoing what group_access left\n");
		undo_group_access(ga);
	}
	if (od->stage_mounted || od->moddir_bound || od->node_made || od->unloaded) {
		ksft_print_msg("undoing what on_demand left\n");
		undo_on_demand(od);
	}
}

/*
 * A test's set-up: what an earlier, killed test left is undone, then its
 * own record of changes @c, @len bytes, starts empty.
 */
static void *begin_test(void *c, size_t len)
{
	undo_left();
	changes->pid = getpid();
	return memset(c, 0, len);
}

/* After the last test. */
static void __attribute__((destructor)) undo_at_exit(void)
{
	if (getpid() == harness_pid && changes)
		undo_left();
}

FIXTURE(on_demand) {
	char release[65];
	char moddir[PATH_LEN];
	struct on_demand_changes *c;
};

FIXTURE_SETUP(on_demand)
{
	char modprobe[PATH_LEN] = "", ns[64] = "", ns1[64] = "";
	struct utsname u;

	self->c = begin_test(&changes->on_demand, sizeof(changes->on_demand));
	if (geteuid())
		SKIP(return, "needs root");
	if (!have("depmod") || !have("modprobe") || !have("kmod") || !have("modinfo"))
		SKIP(return, "needs kmod (depmod, modprobe, modinfo, kmod static-nodes)");
	ASSERT_EQ(0, uname(&u));
	snprintf(self->release, sizeof(self->release), "%s", u.release);
	snprintf(self->moddir, sizeof(self->moddir), "/lib/modules/%s", u.release);
	/*
	 * The modprobe request_module() runs sees the mounts of the initial
	 * mount namespace, init's: this test's must be made there.
	 */
	if (readlink("/proc/1/ns/mnt", ns1, sizeof(ns1) - 1) <= 0 ||
	    readlink("/proc/self/ns/mnt", ns, sizeof(ns) - 1) <= 0 || strcmp(ns1, ns))
		SKIP(return, "not in init's mount namespace");
	/* Where the request_module() helper looks (kernel.modprobe). */
	if (read_line("/proc/sys/kernel/modprobe", modprobe, sizeof(modprobe)) ||
	    access(modprobe, X_OK))
		SKIP(return, "kernel.modprobe is not an executable modprobe (%s)", modprobe);
}

FIXTURE_TEARDOWN(on_demand)
{
	undo_on_demand(self->c);
}

/*
 * The node as "kmod static-nodes --format=tmpfiles" describes it:
 * "c! /dev/guestmap 0600 - - - 10:246".
 */
static int static_node(const char *path, mode_t *mode, unsigned int *major,
		       unsigned int *minor)
{
	char line[512], type[8], node[256];
	/*
	 * kmod writes to the path "/dev/stdout" by default, a link systemd
	 * makes and devtmpfs does not: name the pipe itself.
	 */
	FILE *f = popen("kmod static-nodes --format=tmpfiles --output=/proc/self/fd/1", "re");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int m;

		if (sscanf(line, "%7s %255s %o - - - %u:%u", type, node, &m, major,
			   minor) == 5 && !strcmp(node, path) && type[0] == 'c') {
			*mode = m;
			found = 0;
		}
	}
	pclose(f);
	return found;
}

TEST_F_TIMEOUT(on_demand, loads_module_on_open, DEVNODE_TIMEOUT)
{
	char path[4 * PATH_LEN], line[512], name[64], devnode[64];
	unsigned int major = 0, minor = 0, smajor, sminor;
	struct guestmap_api_version v;
	const char *env = getenv("GUESTMAP_KO");
	bool found = false;
	struct on_demand_changes *c = self->c;
	struct stat st;
	mode_t mode;
	FILE *f;
	int fd;

	snprintf(c->ko, sizeof(c->ko), "%s", env ? env : "./guestmap.ko");
	if (access(c->ko, R_OK))
		SKIP(return, "no module file %s (GUESTMAP_KO)", c->ko);

	/* Not loaded: nothing may hold it (an open file, a user of its exports). */
	if (module_loaded()) {
		/* Before, so that being killed in between still reloads it. */
		c->unloaded = true;
		if (syscall(SYS_delete_module, "guestmap", O_NONBLOCK))
			SKIP(return, "cannot unload guestmap: %s", strerror(errno));
	}
	ASSERT_FALSE(module_loaded());
	ASSERT_NE(0, access(DEV_PATH, F_OK)) TH_LOG("devtmpfs kept " DEV_PATH);

	/*
	 * A writable /lib/modules/<release>: a tmpfs with a copy of what is
	 * there, bound over it, seen by the modprobe the kernel runs too (it
	 * runs in the initial mount namespace, which is this one).
	 */
	snprintf(c->stage, sizeof(c->stage), "/tmp/gm-devnode.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(c->stage));
	c->stage_mounted = true;
	ASSERT_EQ(0, mount("gm-devnode", c->stage, "tmpfs", 0, "mode=0755"))
		TH_LOG("tmpfs: %s", strerror(errno));
	if (access(self->moddir, F_OK) == 0) {
		ASSERT_EQ(0, run("cp -a '%s/.' '%s/'", self->moddir, c->stage));
		snprintf(c->bound, sizeof(c->bound), "%s", self->moddir);
	} else {
		/* None for this kernel: a /lib/modules with only it. */
		snprintf(path, sizeof(path), "%s/%s", c->stage, self->release);
		ASSERT_EQ(0, mkdir(path, 0755));
		snprintf(c->bound, sizeof(c->bound), "/lib/modules");
	}
	c->moddir_bound = true;
	ASSERT_EQ(0, mount(c->stage, c->bound, NULL, MS_BIND, NULL))
		TH_LOG("bind %s: %s", c->bound, strerror(errno));

	snprintf(path, sizeof(path), "%s/extra", self->moddir);
	ASSERT_EQ(0, mkdir(path, 0755) && errno != EEXIST ? -1 : 0)
		TH_LOG("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/extra/guestmap.ko", self->moddir);
	ASSERT_EQ(0, copy_file(c->ko, path, 0644));

	/* The aliases the module carries (its .modinfo). */
	ASSERT_EQ(0, run("modinfo -F alias '%s' | grep -qx 'devname:guestmap'", path))
		TH_LOG("no devname:guestmap alias");
	ASSERT_EQ(0, run("depmod -a '%s'", self->release));

	/* depmod's "<module> <devname> c<major>:<minor>" for the node. */
	snprintf(path, sizeof(path), "%s/modules.devname", self->moddir);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "guestmap %63s c%u:%u", devnode, &major, &minor) == 3) {
			found = true;
			break;
		}
	}
	fclose(f);
	ASSERT_TRUE(found) TH_LOG("no guestmap line in %s", path);
	EXPECT_STREQ("guestmap", devnode);
	ASSERT_EQ(MISC_MAJOR, major);
	EXPECT_GE(minor, LOCAL_MINOR_FIRST);
	EXPECT_LE(minor, LOCAL_MINOR_LAST);
	/* And the other alias, which misc_open() asks modprobe for. */
	snprintf(name, sizeof(name), "char-major-%u-%u", major, minor);
	ASSERT_EQ(0, run("modinfo -F alias '%s/extra/guestmap.ko' | grep -qx '%s'",
			 self->moddir, name));
	ASSERT_EQ(0, run("modprobe -n -v '%s' | grep -q guestmap.ko", name))
		TH_LOG("modprobe does not resolve %s to guestmap", name);

	/* The node as systemd-tmpfiles creates it at boot, from kmod. */
	ASSERT_EQ(0, static_node(DEV_PATH, &mode, &smajor, &sminor))
		TH_LOG("kmod static-nodes does not list " DEV_PATH);
	EXPECT_EQ(major, smajor);
	EXPECT_EQ(minor, sminor);
	/* kmod's default for a node no rule widens: root only. */
	EXPECT_EQ(0600, mode);
	umask(0);
	c->node_made = true;
	ASSERT_EQ(0, mknod(DEV_PATH, S_IFCHR | mode, makedev(smajor, sminor)))
		TH_LOG("mknod: %s", strerror(errno));

	/* The first open() loads the module. */
	ASSERT_FALSE(module_loaded());
	fd = open_dev();
	ASSERT_LE(0, fd) TH_LOG("open " DEV_PATH ": %s", strerror(errno));
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, read_line("/sys/module/guestmap/initstate", line, sizeof(line)));
	EXPECT_STREQ("live", line);
	ASSERT_EQ(0, ioctl(fd, GUESTMAP_GET_API_VERSION, &v));
	EXPECT_EQ(GUESTMAP_API_VERSION, v.version);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), v.page_size);
	close(fd);

	/* The device has the number its aliases promised. */
	ASSERT_EQ(0, read_line("/sys/class/misc/guestmap/dev", line, sizeof(line)));
	snprintf(name, sizeof(name), "%u:%u", major, minor);
	EXPECT_STREQ(name, line);
	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_EQ(makedev(major, minor), st.st_rdev);
}

FIXTURE(group_access) {
	char rule[2 * PATH_LEN];
	struct group_access_changes *c;
};

static const char *const udevds[] = {
	"/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd", "/sbin/udevd",
};

FIXTURE_SETUP(group_access)
{
	char dir[PATH_LEN];

	self->c = begin_test(&changes->group_access, sizeof(changes->group_access));
	if (geteuid())
		SKIP(return, "needs root");
	if (!have("udevadm"))
		SKIP(return, "needs udevadm (udev)");
	/*
	 * Installed beside this program (TEST_FILES), or the repository's,
	 * next to selftests/, or in the current directory.
	 */
	ASSERT_EQ(0, self_dir(dir, sizeof(dir)));
	snprintf(self->rule, sizeof(self->rule), "%s/" RULE, dir);
	if (access(self->rule, R_OK))
		snprintf(self->rule, sizeof(self->rule), "%s/../udev/" RULE, dir);
	if (access(self->rule, R_OK))
		snprintf(self->rule, sizeof(self->rule), "udev/" RULE);
	ASSERT_EQ(0, access(self->rule, R_OK)) TH_LOG("no udev/" RULE);
	if (!module_loaded() || access(DEV_PATH, F_OK))
		SKIP(return, "guestmap is not loaded");
}

FIXTURE_TEARDOWN(group_access)
{
	undo_group_access(self->c);
}

TEST_F_TIMEOUT(group_access, member_may_open, DEVNODE_TIMEOUT)
{
	struct group_access_changes *c = self->c;
	const char *udevd = NULL;
	struct group *gr;
	struct stat st;
	gid_t gid;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(udevds); i++)
		if (access(udevds[i], X_OK) == 0)
			udevd = udevds[i];
	/* A running udevd answers a ping; otherwise this test starts one. */
	if (run("udevadm control --ping --timeout=5 >/dev/null 2>&1") && !udevd)
		SKIP(return, "no systemd-udevd to start");

	/* As the kernel creates it: root only. */
	ASSERT_EQ(0, stat(DEV_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	ret = as_nobody(0);
	EXPECT_EQ(EACCES, ret) TH_LOG("nobody: %s", step_name(ret));

	/* A "guestmap" group, added to a copy of /etc/group bound over it. */
	snprintf(c->tmp, sizeof(c->tmp), "/tmp/gm-group.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(c->tmp));
	c->tmp_mounted = true;
	ASSERT_EQ(0, mount("gm-group", c->tmp, "tmpfs", 0, "mode=0755"));
	gr = getgrnam("guestmap");
	if (gr) {
		gid = gr->gr_gid;
	} else {
		/* A system gid nothing uses, as groupadd --system picks one. */
		for (gid = 999; gid > 100 && getgrgid(gid); gid--)
			;
		ASSERT_NE(NULL, getgrgid(0));
		snprintf(c->group, sizeof(c->group), "%s/group", c->tmp);
		ASSERT_EQ(0, copy_file("/etc/group", c->group, 0644));
		ASSERT_EQ(0, run("echo 'guestmap:x:%u:' >>'%s'", gid, c->group));
		c->group_bound = true;
		ASSERT_EQ(0, mount(c->group, "/etc/group", NULL, MS_BIND, NULL))
			TH_LOG("bind /etc/group: %s", strerror(errno));
		gr = getgrnam("guestmap");
		ASSERT_NE(NULL, gr);
		ASSERT_EQ(gid, gr->gr_gid);
	}

	/* The shipped rule, applied by udevd as at boot or hotplug. */
	ASSERT_EQ(0, run("mkdir -p " RULES_DIR));
	/* Someone else's copy would be removed afterwards. */
	if (access(RULES_DIR "/" RULE, F_OK) == 0)
		SKIP(return, RULES_DIR "/" RULE " is already there");
	c->rule_installed = true;
	ASSERT_EQ(0, copy_file(self->rule, RULES_DIR "/" RULE, 0644));
	c->node_changed = true;
	if (run("udevadm control --ping --timeout=5 >/dev/null 2>&1") == 0) {
		ASSERT_EQ(0, run("udevadm control --reload"));
	} else {
		/*
		 * None answered: stop this one afterwards.  Only once started,
		 * so that a busy udevd that did not answer is never stopped (a
		 * kill before the flag leaves a spare udevd in the VM).
		 */
		ASSERT_EQ(0, run("%s --daemon", udevd));
		c->udevd_started = true;
		ASSERT_EQ(0, run("udevadm control --ping --timeout=30"));
	}
	ASSERT_EQ(0, run("udevadm trigger --action=add --sysname-match=guestmap"));
	ASSERT_EQ(0, run("udevadm settle --timeout=60"));

	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(gid, st.st_gid);

	/* A member, without capabilities: opens and uses it, sees no pfns. */
	ret = as_nobody(gid);
	EXPECT_EQ(1000 + USE_OK, ret) TH_LOG("member: %s", step_name(ret));
	/* Not a member: the same uid, without the group. */
	ret = as_nobody(0);
	EXPECT_EQ(EACCES, ret) TH_LOG("non-member: %s", step_name(ret));
	/* root, with CAP_SYS_ADMIN, does see them. */
	ret = use_device(true);
	EXPECT_EQ(USE_OK, ret) TH_LOG("root: %s", use_step[ret]);
}

TEST_HARNESS_MAIN
