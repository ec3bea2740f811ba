/*
 * The caller's right to the target network namespace (access.h).
 */
#define _GNU_SOURCE
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Whether a user namespace that `ruid` created owns the namespace `nsfd`,
 * directly or through its ancestors: such a user has every capability in
 * it (user_namespaces(7)). The walk ends at the initial user namespace,
 * whose parent the kernel refuses (EPERM).
 */
static int owned_by(int nsfd, uid_t ruid)
{
	int u = ioctl(nsfd, NS_GET_USERNS);
	while (u >= 0) {
		uid_t owner;
		int r = ioctl(u, NS_GET_OWNER_UID, &owner);
		if (r == 0 && owner == ruid) {
			close(u);
			return 1;
		}
		int parent = r == 0 ? ioctl(u, NS_GET_PARENT) : -1;
		close(u);
		u = parent;
	}
	return 0;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int caller_netns(const char *path, uid_t ruid, gid_t rgid, char *why, size_t whylen)
{
	/* The effective ids become the caller's for the open; the saved ones keep root to come back to. */
	if (setresgid((gid_t)-1, rgid, (gid_t)-1) < 0 || setresuid((uid_t)-1, ruid, (uid_t)-1) < 0) {
		snprintf(why, whylen, "cannot take the caller's ids");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = errno;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0) {
		/* Going on with the caller's ids would do nothing harmful, but nothing right either. */
		perror("lxkit-user-nic: cannot take root's ids back");
		exit(1);
	}
	if (fd < 0) {
		errno = err;
		snprintf(why, whylen, "cannot open %s as uid %u", path, (unsigned)ruid);
		return -1;
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		errno = EINVAL;
		snprintf(why, whylen, "%s is not a network namespace", path);
		return -1;
	}
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int mine = self >= 0 && same_file(fd, self);
	if (self >= 0)
		close(self);
	if (mine) {
		close(fd);
		errno = EPERM;
		snprintf(why, whylen, "%s is the host's network namespace: a device is handed to a container's only", path);
		return -1;
	}
	if (ruid != 0 && !owned_by(fd, ruid)) {
		close(fd);
		errno = EPERM;
		snprintf(why, whylen, "%s belongs to no user namespace of uid %u", path, (unsigned)ruid);
		return -1;
	}
	return fd;
}
