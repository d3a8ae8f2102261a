// SPDX-License-Identifier: GPL-2.0
/*
 * A short tour of /dev/guestmap for "make run": what a context is and what
 * the module answers.  Not a test; selftests/guestmap_test.c asserts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>

static const char *result(int ret)
{
	return ret ? strerrorname_np(errno) : "ok";
}

int main(void)
{
	struct guestmap_api_version v;
	struct stat st;
	int fd, status;
	pid_t pid;

	fd = open("/dev/guestmap", O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		perror("/dev/guestmap");
		return 1;
	}
	printf("/dev/guestmap: misc char device %u:%u\n",
	       major(st.st_rdev), minor(st.st_rdev));
	printf("open(): a new context, bound to this process's mm (pid %d)\n",
	       getpid());

	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v)) {
		perror("GUESTMAP_GET_API_VERSION");
		return 1;
	}
	printf("GUESTMAP_GET_API_VERSION (0x%08lx): version %u, page size %u, caps 0x%llx\n",
	       (unsigned long)GUESTMAP_GET_API_VERSION, v.version, v.page_size,
	       (unsigned long long)v.caps);

	pid = fork();
	if (pid == 0)
		_exit(ioctl(fd, GUESTMAP_GET_API_VERSION, &v) ? errno : 0);
	waitpid(pid, &status, 0);
	printf("the same ioctl from a forked child (another mm): %s\n",
	       WEXITSTATUS(status) ? strerrorname_np(WEXITSTATUS(status)) : "ok");

	printf("an unknown ioctl: %s\n",
	       result(ioctl(fd, _IO(GUESTMAP_IO, 0x7f))));
	printf("GUESTMAP_GET_API_VERSION to a NULL pointer: %s\n",
	       result(ioctl(fd, GUESTMAP_GET_API_VERSION, NULL)));

	close(fd);
	printf("close(): context released\n");
	return 0;
}
