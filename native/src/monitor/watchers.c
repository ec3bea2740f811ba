/*
 * lxkit monitor's watchers (lxc-monitor's clients): each one listens on the
 * abstract stream socket "<watch prefix><its pid>" and registers that pid as
 * an empty file in the lxcpath's watchers directory (core/src/command/watch.ts).
 * Every state change, and the init's exit, goes to each of them as one frame
 * on a connection of its own.
 *
 * Why a directory: the monitor tells watchers at every state change, most of
 * them on the path of a start or a stop, and nearly always nobody watches.
 * Finding the listening sockets among the host's (a sock_diag dump, or
 * /proc/net/unix) walks every unix socket of the host at each change: ~25 µs
 * on an idle machine, 0.2 ms with 1000 listening sockets, 1 ms with 5000.
 * A directory that is not there costs one failed open. A registration whose
 * watcher is gone (killed before it could remove it) is removed here when
 * nobody answers at its name.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor.h"

/* One frame to the watcher listening on "<prefix><pid>"; -1 with errno when nobody answers there. */
static int notify_one(const char *prefix, const char *pid, const struct buf *b)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t np = strlen(prefix), n = np + strlen(pid);
	if (n + 1 > sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* An abstract name: a NUL, then the name (no NUL of its own). */
	memcpy(addr.sun_path + 1, prefix, np);
	memcpy(addr.sun_path + 1 + np, pid, n - np);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0; /* the monitor's trouble, not the watcher's: keep its registration */
	int ret = connect(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
	int err = errno;
	/* A watcher that is slow to read misses this event rather than holding the monitor up. */
	if (ret == 0)
		(void)!send(fd, b->data, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	errno = err;
	return ret;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

void watchers_notify(uint16_t type, const int64_t *ints, uint32_t nints)
{
	if (!M.watch_prefix || !*M.watch_prefix || !M.watch_dir || !*M.watch_dir || !M.name)
		return;
	int dfd = open(M.watch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return; /* nobody watches this lxcpath now (the last watcher to leave removes the directory) */
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	const char *strs[1] = { M.name };
	struct buf b;
	frame_begin(&b, type);
	rec_put(&b, ints, nints, strs, NULL, 1);
	frame_end(&b);
	for (struct dirent *e; (e = readdir(d));) {
		if (!all_digits(e->d_name))
			continue;
		/* Nobody listens at that name: its watcher ended without removing the file. */
		if (notify_one(M.watch_prefix, e->d_name, &b) < 0 && errno == ECONNREFUSED)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	buf_free(&b);
	closedir(d);
}
