/*
 * The container's command socket (LXC's "command" socket): an abstract unix
 * socket the monitor serves while the container exists, for lxkit info,
 * stop, wait, monitor, console and attach. Requests and replies are frames
 * of common/proto.h (C_* types); a reply may carry one fd (a pty master, the
 * init's pidfd).
 *
 * Only root, or the user the monitor runs as, may connect (SO_PEERCRED).
 * Clients are non-blocking: one that sends garbage or stops reading is
 * dropped, never waited for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "monitor.h"
#include "../common/kernel.h"


#define MAX_CLIENTS 64
#define CLIENT_BUF 65536

struct client {
	int fd;
	int passed; /* an fd the client sent (SCM_RIGHTS) for its next request, or -1 */
	int subscribed;
	size_t len;
	uint8_t *buf;
};

static int listen_fd = -1;
static struct client clients[MAX_CLIENTS];
static int initialized;

static void init_clients(void)
{
	if (initialized)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = clients[i].passed = -1;
	initialized = 1;
}

int command_listen(const char *name)
{
	init_clients();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	if (n == 0 || n + 1 > sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(addr.sun_path + 1, name, n); /* sun_path[0] = 0: an abstract name, gone with the monitor */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 || listen(fd, 128) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	listen_fd = fd;
	return 0;
}

static void drop(struct client *c)
{
	if (c->fd < 0)
		return;
	if (M.console_client == c->fd)
		console_release();
	close(c->fd);
	if (c->passed >= 0)
		close(c->passed);
	c->passed = -1;
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
	c->subscribed = 0;
}

/* One frame to a client; a client whose socket is full or gone is dropped. */
static void reply_lens(struct client *c, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, const uint32_t *lens, uint32_t nstrs, int fd)
{
	struct buf b;
	frame_begin(&b, type);
	rec_put(&b, ints, nints, strs, lens, nstrs);
	frame_end(&b);
	struct iovec iov = { .iov_base = b.data, .iov_len = b.len };
	union {
		struct cmsghdr align;
		char data[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.data;
		msg.msg_controllen = sizeof(control.data);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t w;
	do
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	size_t len = b.len;
	buf_free(&b);
	if (w != (ssize_t)len)
		drop(c);
}

static void reply(struct client *c, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, uint32_t nstrs, int fd)
{
	reply_lens(c, type, ints, nints, strs, NULL, nstrs, fd);
}

/* The most one C_CONSOLE_LOG reply carries: replies are sent without waiting, so within a socket's buffer. */
#define CONSOLE_LOG_CHUNK (64u << 10)

static void reply_errno(struct client *c, int err)
{
	int64_t ints[1] = { err };
	reply(c, C_REPLY, ints, 1, NULL, 0, -1);
}

/* `ifs` as lines of "iface family address/prefix" in text (cap bytes); returns the length. */
static size_t format_ifaddrs(const struct ifaddrs *ifs, char *text, size_t cap)
{
	size_t len = 0;
	text[0] = 0;
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		char addr[INET6_ADDRSTRLEN];
		int prefix = 0;
		const void *a, *m;
		size_t bytes;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			m = i->ifa_netmask ? (const void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr : NULL;
			bytes = 4;
		} else {
			a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			m = i->ifa_netmask ? (const void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr : NULL;
			bytes = 16;
		}
		for (size_t k = 0; m && k < bytes; k++)
			prefix += __builtin_popcount(((const unsigned char *)m)[k]);
		inet_ntop(i->ifa_addr->sa_family, a, addr, sizeof(addr));
		int n = snprintf(text + len, cap - len, "%s %s %s/%d\n", i->ifa_name, i->ifa_addr->sa_family == AF_INET ? "inet" : "inet6", addr, prefix);
		if (n < 0 || (size_t)n >= cap - len) {
			text[len] = 0; /* whole lines only */
			break;
		}
		len += (size_t)n;
	}
	return len;
}

/*
 * Root steps into the container's network namespace and back: no fork, ~0.3 ms
 * of every `info`. Returns the length, or -1 when it cannot (then a child does it).
 */
static ssize_t ifaddrs_here(int net, char *text, size_t cap)
{
	if (geteuid() != 0)
		return -1; /* could not step back into a namespace owned by the host's user namespace */
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	struct ifaddrs *ifs = NULL;
	ssize_t len = -1;
	if (setns(net, CLONE_NEWNET) == 0) {
		if (getifaddrs(&ifs) == 0)
			len = (ssize_t)format_ifaddrs(ifs, text, cap);
		netns_return(self);
	}
	if (ifs)
		freeifaddrs(ifs);
	close(self);
	return len;
}

/* The same, read by a short-lived child in the container's network namespace. */
static ssize_t ifaddrs_child(int net, char *text, size_t cap)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct ifaddrs *ifs;
		if (setns(net, CLONE_NEWNET) < 0 || getifaddrs(&ifs) < 0)
			_exit(1);
		size_t n = format_ifaddrs(ifs, text, cap);
		_exit(write(p[1], text, n) == (ssize_t)n ? 0 : 1);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (pid > 0 && len < cap - 1 && (n = read(p[0], text + len, cap - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	text[len] = 0;
	return (ssize_t)len;
}

/* The container's addresses, read in its network namespace. */
static void reply_ips(struct client *c)
{
	int net = M.ns[ns_index("net")];
	char text[8192];
	if (net < 0 || (ifaddrs_here(net, text, sizeof(text)) < 0 && ifaddrs_child(net, text, sizeof(text)) < 0)) {
		reply(c, C_REPLY, NULL, 0, NULL, 0, -1);
		return;
	}
	const char *lines[REC_MAX_STRS];
	uint32_t nlines = 0;
	for (char *line = strtok(text, "\n"); line && nlines < REC_MAX_STRS; line = strtok(NULL, "\n"))
		lines[nlines++] = line;
	reply(c, C_REPLY, NULL, 0, lines, nlines, -1);
}

/*
 * Every value of `key` in the effective config, in reading order; with
 * `running`, the values the start chose follow (LXC's running config).
 */
static void reply_config(struct client *c, const char *key, int running)
{
	const char *values[REC_MAX_STRS];
	char *copies[REC_MAX_STRS];
	uint32_t n = 0;
	size_t klen = strlen(key);
	const char *texts[2] = { M.config, running ? M.runtime : NULL };
	for (int t = 0; t < 2; t++)
	for (const char *line = texts[t]; line && *line && n < REC_MAX_STRS;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > klen + 3 && strncmp(line, key, klen) == 0 && strncmp(line + klen, " = ", 3) == 0) {
			copies[n] = strndup(line + klen + 3, len - klen - 3);
			values[n] = copies[n];
			n++;
		}
		line = end ? end + 1 : line + len;
	}
	int64_t ints[1] = { n };
	reply(c, C_REPLY, ints, 1, values, n, -1);
	for (uint32_t i = 0; i < n; i++)
		free(copies[i]);
}

static void handle(struct client *c, uint16_t type, const uint8_t *payload, size_t n)
{
	struct record r;
	if (rec_get(payload, n, &r) < 0) {
		drop(c);
		return;
	}
	switch (type) {
	case C_GET_STATE: {
		int64_t ints[7] = { M.state, M.pid, getpid(), M.exit_code, M.exit_signal, (int64_t)M.clone_flags, M.daemon };
		reply(c, C_REPLY, ints, 7, NULL, 0, -1);
		break;
	}
	case C_SIGNAL: {
		int sig = r.nints > 0 ? (int)r.ints[0] : 0;
		int stopping = r.nints > 1 && r.ints[1];
		if (M.pidfd < 0 || M.exited) {
			reply_errno(c, ESRCH);
			break;
		}
		if (syscall(SYS_pidfd_send_signal, M.pidfd, sig, NULL, 0) < 0) {
			reply_errno(c, errno);
			break;
		}
		/*
		 * The state stays as it is until the init exits (STOPPING comes then), as
		 * with LXC: a halt the init ignores leaves a container that still runs.
		 */
		if (stopping)
			cgroup_after_stop_signal(sig);
		reply_errno(c, 0);
		break;
	}
	case C_SUBSCRIBE: {
		c->subscribed = 1;
		int64_t ints[1] = { M.state };
		reply(c, C_REPLY, ints, 1, NULL, 0, -1);
		break;
	}
	case C_CONSOLE: {
		int tty = r.nints > 0 ? (int)r.ints[0] : 0;
		int fd = -1;
		if (tty == 0 && M.console >= 0 && !M.exited) {
			if (M.console_client >= 0) {
				reply_errno(c, EBUSY);
				break;
			}
			if ((fd = console_give()) < 0) {
				reply_errno(c, errno);
				break;
			}
		} else if (tty > 0 && tty <= M.nttys) {
			fd = M.ttys[tty - 1];
		}
		if (fd < 0) {
			reply_errno(c, ENOENT);
			break;
		}
		int64_t ints[1] = { 0 };
		reply(c, C_REPLY, ints, 1, NULL, 0, fd);
		if (tty == 0) {
			close(fd); /* the client's end */
			if (c->fd >= 0)
				M.console_client = c->fd;
			else
				console_release();
		}
		break;
	}
	case C_WINSIZE:
		/* Only the console's client sizes the console; a tty's client has its master. */
		if (c->fd == M.console_client)
			console_set_client_winsize(r.ints, r.nints);
		break;
	case C_CONSOLE_LOG: {
		/* ints: read, clear, at most this many bytes (0, or above a chunk: a chunk) -> ints: errno (EFAULT: no ring buffer, as LXC says); strs: what was read */
		if (!ring_enabled()) {
			reply_errno(c, EFAULT);
			break;
		}
		int rd = r.nints > 0 && r.ints[0], clear = r.nints > 1 && r.ints[1];
		uint64_t max = r.nints > 2 && r.ints[2] > 0 ? (uint64_t)r.ints[2] : 0;
		/* A larger buffer is read in turns (RunningContainer.consoleLog). */
		if (max == 0 || max > CONSOLE_LOG_CHUNK)
			max = CONSOLE_LOG_CHUNK;
		size_t len = 0;
		char *data = NULL;
		if (rd)
			data = ring_take(max, clear, &len);
		else if (clear)
			ring_clear();
		if (rd && !data) {
			reply_errno(c, ENOMEM);
			break;
		}
		int64_t ints[1] = { 0 };
		const char *strs[1] = { rd ? data : "" };
		uint32_t lens[1] = { rd ? (uint32_t)len : 0 };
		reply_lens(c, C_REPLY, ints, 1, strs, lens, 1, -1);
		free(data);
		break;
	}
	case C_PIDFD: {
		if (M.pidfd < 0 || M.exited) {
			reply_errno(c, ESRCH);
			break;
		}
		/* What an attached process gets: the init's confinement and cgroups. */
		const char *strs[34] = { M.confine_label ? M.confine_label : "", M.confine_filter ? M.confine_filter : "" };
		uint32_t lens[34] = { (uint32_t)strlen(strs[0]), M.confine_filter_len };
		uint32_t n = 2;
		for (int i = 0; i < cgroup_count() && n < 34; i++) {
			strs[n] = cgroup_init_dir(i);
			lens[n] = (uint32_t)strlen(strs[n]);
			n++;
		}
		int64_t ints[9] = { 0, M.pid, M.confine_caps, M.confine_bounding, M.confine_nnp, notify_active(), (int64_t)M.clone_flags, M.state, M.confine_personality };
		reply_lens(c, C_REPLY, ints, 9, strs, lens, n, M.pidfd);
		break;
	}
	case C_NOTIFY_LISTENER:
		if (c->passed >= 0) {
			notify_add(c->passed);
			c->passed = -1;
		}
		break;
	case C_CGROUPS: {
		char *lines[32];
		uint32_t n = 0;
		for (int i = 0; i < cgroup_count() && n < 32; i++)
			if ((lines[n] = cgroup_describe(i)))
				n++;
		reply(c, C_REPLY, NULL, 0, (const char *const *)lines, n, -1);
		for (uint32_t i = 0; i < n; i++)
			free(lines[i]);
		break;
	}
	case C_FREEZE: {
		int freeze = r.nints > 0 && r.ints[0];
		int timeout = r.nints > 1 ? (int)r.ints[1] : -1;
		reply_errno(c, cgroup_freeze(freeze, timeout));
		break;
	}
	case C_CONFIG:
		reply_config(c, r.nstrs > 0 ? r.strs[0] : "", r.nints > 0 && r.ints[0]);
		break;
	case C_IPS:
		reply_ips(c);
		break;
	default:
		drop(c);
	}
}

static void on_client(struct client *c)
{
	if (!c->buf && !(c->buf = malloc(CLIENT_BUF))) {
		drop(c);
		return;
	}
	/* recvmsg, not read: an attached program's seccomp listener comes as SCM_RIGHTS. */
	struct iovec iov = { .iov_base = c->buf + c->len, .iov_len = CLIENT_BUF - c->len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;
	do
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int fds[1];
		size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			memcpy(fds, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->passed >= 0) /* one at a time: extra fds are not kept */
				close(fds[0]);
			else
				c->passed = fds[0];
		}
	}
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			drop(c);
		return;
	}
	c->len += (size_t)n;
	while (c->fd >= 0 && c->len >= 8) {
		uint32_t flen = (uint32_t)c->buf[0] | (uint32_t)c->buf[1] << 8 | (uint32_t)c->buf[2] << 16 | (uint32_t)c->buf[3] << 24;
		if (flen < 4 || flen + 4 > CLIENT_BUF) {
			drop(c);
			return;
		}
		if (c->len < flen + 4)
			break;
		uint16_t type = (uint16_t)(c->buf[4] | c->buf[5] << 8);
		handle(c, type, c->buf + 8, flen - 4);
		if (c->fd < 0)
			return;
		memmove(c->buf, c->buf + 4 + flen, c->len - 4 - flen);
		c->len -= 4 + flen;
	}
	if (c->len == CLIENT_BUF)
		drop(c);
}

static void on_accept(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (cred.uid != 0 && cred.uid != geteuid())) {
			close(fd);
			continue;
		}
		struct client *c = NULL;
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
	}
}

int command_add_pollfds(struct pollfd *p, int max)
{
	int n = 0;
	/* Nothing before the first listen (the client slots are not set up yet). */
	if (!initialized || max < 1)
		return 0;
	if (listen_fd >= 0)
		p[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS && n < max; i++)
		if (clients[i].fd >= 0)
			p[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
	return n;
}

void command_on_ready(const struct pollfd *p, int n)
{
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		if (p[k].fd == listen_fd) {
			on_accept();
			continue;
		}
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd == p[k].fd)
				on_client(&clients[i]);
	}
}

void command_broadcast_state(int state)
{
	int64_t ints[1] = { state };
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && clients[i].subscribed)
			reply(&clients[i], C_STATE_EVENT, ints, 1, NULL, 0, -1);
	watchers_notify(C_STATE_EVENT, ints, 1);
}

void command_broadcast_exit(int code, int signal)
{
	int64_t ints[2] = { code, signal };
	watchers_notify(C_EXIT_EVENT, ints, 2);
}

/* The command socket's name is let go (a new start of the container may take it); clients stay. */
void command_unlisten(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}

void command_close(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		drop(&clients[i]);
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}
