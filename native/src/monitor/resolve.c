/*
 * Resolving paths inside the container's root without ever leaving it.
 *
 * A path marked PF_IN_ROOT is resolved beneath the root directory with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): symlinks are followed as
 * long as they stay inside, and a path that would leave the root (an absolute
 * symlink, "..") fails with EXDEV instead of reaching the host. Kernels
 * without openat2 get a component walk that refuses every symlink, as LXC's
 * safe_mount does. Mounts then target /proc/self/fd/N of the resolved fd, so
 * nothing can swap the path between the check and the mount.
 */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../common/kernel.h"


int root_fd = -1;

static int no_openat2;

/* openat2 beneath dirfd; falls back to a symlink-refusing walk without it. */
static int walk_nofollow(int dirfd, const char *rel, int flags)
{
	char *dup = strdup(rel), *save = NULL;
	int fd = dup ? fcntl(dirfd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd < 0) {
		free(dup);
		return -1;
	}
	for (char *c = strtok_r(dup, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			close(fd);
			free(dup);
			errno = EXDEV;
			return -1;
		}
		int last = save == NULL || *save == '\0';
		int next = openat(fd, c, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		if (next < 0) {
			free(dup);
			errno = err;
			return -1;
		}
		fd = next;
	}
	free(dup);
	return fd;
}

int open_beneath(int dirfd, const char *path, int flags)
{
	while (*path == '/')
		path++;
	const char *rel = *path ? path : ".";
	if (!no_openat2) {
		struct open_how how = {
			.flags = (unsigned long long)(flags | O_CLOEXEC),
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		if (flags & O_CREAT)
			how.mode = 0644;
		int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		no_openat2 = 1;
	}
	return walk_nofollow(dirfd, rel, flags);
}

int open_path(const char *path, int pf, int flags)
{
	if (pf & PF_IN_ROOT) {
		if (root_fd < 0) {
			errno = EBADF;
			return -1;
		}
		return open_beneath(root_fd, path, flags);
	}
	return open(path, flags | O_CLOEXEC);
}

/* Splits "a/b/c" into the parent "a/b" (or "." ) and the name "c". */
static void split(const char *path, char *parent, size_t n, const char **name)
{
	const char *end = path + strlen(path);
	while (end > path && end[-1] == '/')
		end--;
	const char *slash = end;
	while (slash > path && slash[-1] != '/')
		slash--;
	*name = slash;
	size_t plen = (size_t)(slash - path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (plen == 0 || plen >= n) {
		snprintf(parent, n, "%s", plen == 0 && path[0] == '/' ? "/" : ".");
		return;
	}
	memcpy(parent, path, plen);
	parent[plen] = '\0';
}

int mkdir_p(const char *path, int pf, mode_t mode)
{
	int fd = mkdir_open(path, pf, mode);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int mkdir_open(const char *path, int pf, mode_t mode)
{
	/* Mostly there already: one lookup instead of one per component and another to open it. */
	int fd = open_path(path, pf, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/*
	 * Missing: its parent made (or found) the same way, then the last
	 * component, then it, opened from the root again, so that every
	 * component, symlinks included, is judged against the root.
	 */
	char parent[4096];
	const char *name;
	split(path, parent, sizeof(parent), &name);
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(parent, path) == 0)
		return -1; /* the root itself (errno: ENOENT) */
	int pfd = mkdir_open(parent, pf, mode);
	if (pfd < 0)
		return -1;
	int r = mkdirat(pfd, name, mode);
	int err = errno;
	close(pfd);
	if (r < 0 && err != EEXIST) {
		errno = err;
		return -1;
	}
	return open_path(path, pf, O_PATH | O_DIRECTORY);
}

int create_file(const char *path, int pf, mode_t mode)
{
	int fd = open_path(path, pf, O_PATH);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return -1;
	char parent[4096];
	const char *name;
	split(path, parent, sizeof(parent), &name);
	if (mkdir_p(parent, pf, 0755) < 0)
		return -1;
	int pfd = open_path(parent, pf, O_PATH | O_DIRECTORY);
	if (pfd < 0)
		return -1;
	int f = openat(pfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode);
	int err = errno;
	close(pfd);
	if (f < 0 && err != EEXIST) {
		errno = err;
		return -1;
	}
	if (f >= 0)
		close(f);
	return open_path(path, pf, O_PATH);
}

/*
 * The last parent directory borrow_parent opened, kept for the ops that
 * follow while none of them can change what its path resolves to (devices
 * and symlinks made in /dev one after the other): the fd pins the directory
 * itself, so what is made through it lands there whatever happens to the path.
 */
static char kept_parent[4096];
static int kept_pf;
static int kept_fd = -1;

int borrow_parent(const char *path, int pf, const char **name)
{
	char parent[4096];
	split(path, parent, sizeof(parent), name);
	if (kept_fd >= 0 && kept_pf == pf && strcmp(parent, kept_parent) == 0)
		return kept_fd;
	resolve_forget();
	int fd = open_path(parent, pf, O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		kept_fd = fd;
		kept_pf = pf;
		snprintf(kept_parent, sizeof(kept_parent), "%s", parent);
	}
	return fd;
}

void resolve_forget(void)
{
	if (kept_fd >= 0)
		close(kept_fd);
	kept_fd = -1;
}
