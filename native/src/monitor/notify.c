/*
 * seccomp notifications (a policy's `notify` rules): the monitor holds the
 * filter's listener and hands each notification to the proxy named by
 * lxc.seccomp.notify.proxy, in LXC's wire format, so that LXC's proxies
 * (LXD's among them) work unchanged:
 *
 *   over a SOCK_SEQPACKET unix socket, one message per notification:
 *     { u64 reserved = 0; i32 monitor pid; i32 init pid;
 *       u16 sizes of seccomp_notif, seccomp_notif_resp, seccomp_data;
 *       u64 cookie length }
 *     struct seccomp_notif, struct seccomp_notif_resp, the cookie,
 *     with SCM_RIGHTS: /proc/<pid> (a directory fd) and /proc/<pid>/mem;
 *   the proxy answers with the same layout (without the cookie), its
 *   seccomp_notif_resp filled in, and the monitor passes that to the kernel.
 *
 * The init's filter has a listener, and so does each attached program's
 * (lxkit-attach installs the same filter and sends its listener over the
 * command socket): each is polled until every task of its filter is gone
 * (POLLHUP). Whatever goes wrong (no proxy, the proxy gone, a malformed
 * answer, a stale request) the syscall fails with ENOSYS, as with LXC. The proxy is
 * connected at the first notification and again after a failure; its
 * socket has LXC's 30 s timeouts so that a stuck proxy cannot hang the
 * monitor for good.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor.h"

struct proxy_header {
	uint64_t reserved;
	int32_t monitor_pid;
	int32_t init_pid;
	struct seccomp_notif_sizes sizes;
	uint64_t cookie_len;
};

/* [0]: the init's filter's; the rest: attached programs' filters'. -1: a free slot. */
#define NOTIFY_MAX 32
static int listeners[NOTIFY_MAX] = { [0 ... NOTIFY_MAX - 1] = -1 };
static int proxy = -1;
static char *proxy_addr; /* "unix:/path" or "unix:@name"; NULL: none */
static char *cookie;
static struct seccomp_notif_sizes sizes;
static void *req, *resp;

void notify_configure(const char *addr, const char *ck)
{
	free(proxy_addr);
	free(cookie);
	proxy_addr = addr && *addr ? strdup(addr) : NULL;
	cookie = ck && *ck ? strdup(ck) : NULL;
}

static void put(int slot, int fd)
{
	if (listeners[slot] >= 0)
		close(listeners[slot]);
	listeners[slot] = fd;
	if (fd < 0 || req)
		return;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0) {
		/* The kernel's structs may be larger than this build's: use its sizes. */
		req = calloc(1, sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif));
		resp = calloc(1, sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ? sizes.seccomp_notif_resp : sizeof(struct seccomp_notif_resp));
	}
	if (!req || !resp) {
		mlog(4, "monitor: seccomp notifications cannot be served (%s)", strerror(errno));
		close(fd);
		listeners[slot] = -1;
	}
}

void notify_take(int fd)
{
	put(0, fd);
}

void notify_add(int fd)
{
	for (int i = 1; i < NOTIFY_MAX; i++) {
		if (listeners[i] < 0) {
			put(i, fd);
			return;
		}
	}
	/* Closing it makes the program's notify calls fail with ENOSYS: never a hang. */
	mlog(4, "monitor: more than %d attached programs with seccomp notifications; this one gets ENOSYS", NOTIFY_MAX - 1);
	close(fd);
}

int notify_active(void)
{
	return listeners[0] >= 0;
}

int notify_add_pollfds(struct pollfd *p, int max)
{
	int n = 0;
	for (int i = 0; i < NOTIFY_MAX && n < max; i++)
		if (listeners[i] >= 0)
			p[n++] = (struct pollfd){ .fd = listeners[i], .events = POLLIN };
	return n;
}

void notify_close(void)
{
	for (int i = 0; i < NOTIFY_MAX; i++)
		put(i, -1);
	if (proxy >= 0)
		close(proxy);
	proxy = -1;
}

static int connect_proxy(void)
{
	if (!proxy_addr || strncmp(proxy_addr, "unix:", 5) != 0)
		return -1;
	const char *path = proxy_addr + 5;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract */
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 30 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void answer(int listener, struct seccomp_notif_resp *r)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, r) < 0 && errno != ENOENT)
		mlog(4, "monitor: answering a seccomp notification: %s", strerror(errno));
}

static void answer_enosys(int listener, uint64_t id)
{
	struct seccomp_notif_resp *r = resp;
	memset(r, 0, sizes.seccomp_notif_resp);
	r->id = id;
	r->error = -ENOSYS;
	answer(listener, r);
}

/* One round trip with the proxy; 0 when `resp` holds its answer. */
static int ask_proxy(const struct seccomp_notif *n, int fds[2])
{
	struct proxy_header h = { .monitor_pid = getpid(), .init_pid = M.pid, .sizes = sizes, .cookie_len = cookie ? strlen(cookie) : 0 };
	struct iovec iov[4] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)n, .iov_len = sizes.seccomp_notif },
		{ .iov_base = resp, .iov_len = sizes.seccomp_notif_resp },
		{ .iov_base = cookie, .iov_len = h.cookie_len },
	};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = cookie ? 4 : 3, .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, 2 * sizeof(int));
	size_t full = sizeof(h) + sizes.seccomp_notif + sizes.seccomp_notif_resp + h.cookie_len;
	if (sendmsg(proxy, &mh, MSG_NOSIGNAL) != (ssize_t)full)
		return -1;
	struct msghdr rh = { .msg_iov = iov, .msg_iovlen = mh.msg_iovlen };
	ssize_t got = recvmsg(proxy, &rh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (got < (ssize_t)(sizeof(h) + sizes.seccomp_notif + sizes.seccomp_notif_resp)) {
		errno = got < 0 ? errno : EPROTO;
		return -1;
	}
	return h.reserved == 0 ? 0 : (errno = EPROTO, -1);
}

/* One notification from listeners[slot]. */
static void serve(int slot)
{
	int listener = listeners[slot];
	struct seccomp_notif *n = req;
	memset(n, 0, sizes.seccomp_notif);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0) {
		if (errno == EINTR || errno == ENOENT) /* the caller went away meanwhile */
			return;
		/* The filter is gone (every filtered task exited): nothing more will come. */
		put(slot, -1);
		return;
	}
	uint64_t id = n->id;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%u", n->pid);
	int fds[2] = { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1 };
	snprintf(path, sizeof(path), "/proc/%u/mem", n->pid);
	fds[1] = open(path, O_RDWR | O_CLOEXEC);
	/* The fds must be the caller's: the id is still valid only while it waits. */
	if (fds[0] < 0 || fds[1] < 0 || ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) {
		answer_enosys(listener, id);
		goto out;
	}
	int ok = -1;
	for (int attempt = 0; attempt < 2 && ok < 0; attempt++) {
		if (proxy < 0 && (proxy = connect_proxy()) < 0)
			break;
		memset(resp, 0, sizes.seccomp_notif_resp);
		((struct seccomp_notif_resp *)resp)->id = id;
		ok = ask_proxy(n, fds);
		if (ok < 0) {
			mlog(4, "monitor: seccomp notify proxy %s: %s", proxy_addr, strerror(errno));
			close(proxy);
			proxy = -1;
		}
	}
	if (ok < 0 || ((struct seccomp_notif_resp *)resp)->id != id)
		answer_enosys(listener, id);
	else
		answer(listener, resp);
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void notify_on_ready(const struct pollfd *p, int n)
{
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		for (int i = 0; i < NOTIFY_MAX; i++) {
			if (listeners[i] != p[k].fd)
				continue;
			if (p[k].revents & POLLIN)
				serve(i);
			else /* POLLHUP: every task of that filter is gone */
				put(i, -1);
			break;
		}
	}
}
