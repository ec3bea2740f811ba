#define _GNU_SOURCE
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int last_cap(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	last = 40;
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char b[16] = { 0 };
		if (read(fd, b, sizeof(b) - 1) > 0)
			last = atoi(b);
		close(fd);
	} else {
		/* No /proc (yet): probe the bounding set instead. */
		for (last = 0; prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0; last++)
			;
	}
	return last;
}

int confine_caps(uint64_t bounding, uint64_t inheritable, uint64_t ambient, const char **what)
{
	int last = last_cap();
	for (int c = 0; c <= last && c < 64; c++) {
		if (bounding & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			*what = "prctl(PR_CAPBSET_DROP)";
			return -1;
		}
	}
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0) {
		*what = "capget";
		return -1;
	}
	uint64_t permitted = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
	uint64_t inh = inheritable & permitted;
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	if (syscall(SYS_capset, &h, d) < 0) {
		*what = "capset";
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		*what = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
		return -1;
	}
	for (int c = 0; c <= last && c < 64; c++) {
		if (!(ambient & inh & (1ULL << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
			*what = "prctl(PR_CAP_AMBIENT_RAISE)";
			return -1;
		}
	}
	return 0;
}

static int open_label_attr(void)
{
	int fd = open("/proc/thread-self/attr/apparmor/current", O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open("/proc/thread-self/attr/current", O_WRONLY | O_CLOEXEC);
	return fd;
}

int confine_label(const char *label, const char **what)
{
	char cmd[4096];
	int n = snprintf(cmd, sizeof(cmd), "changeprofile %s", label);
	if (n < 0 || (size_t)n >= sizeof(cmd)) {
		errno = ENAMETOOLONG;
		*what = "write";
		return -1;
	}
	int fd = open_label_attr();
	int mounted = 0;
	if (fd < 0 && errno == ENOENT) {
		/* A container without /proc (no lxc.mount.auto proc): a private one for the write, as LXC does. */
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			*what = "mount(proc)";
			return -1;
		}
		mounted = 1;
		fd = open_label_attr();
	}
	if (fd < 0) {
		int err = errno;
		if (mounted)
			umount2("/proc", MNT_DETACH);
		errno = err;
		*what = "open";
		return -1;
	}
	ssize_t w = write(fd, cmd, (size_t)n);
	int err = errno;
	close(fd);
	if (mounted)
		umount2("/proc", MNT_DETACH);
	if (w != n) {
		errno = w < 0 ? err : EIO;
		*what = "write";
		return -1;
	}
	return 0;
}

int confine_seccomp(const void *prog, size_t len, int *listener, const char **what)
{
	if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		errno = EINVAL;
		*what = "seccomp";
		return -1;
	}
	struct sock_fprog fprog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)prog };
	if (listener) {
		/* A policy with notify rules: the filter comes with a listener for the monitor. */
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
		if (fd < 0) {
			*what = "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)";
			return -1;
		}
		*listener = (int)fd;
		return 0;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0)
		return 0;
	if (errno != ENOSYS) {
		*what = "seccomp(SECCOMP_SET_MODE_FILTER)";
		return -1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) {
		*what = "prctl(PR_SET_SECCOMP)";
		return -1;
	}
	return 0;
}
