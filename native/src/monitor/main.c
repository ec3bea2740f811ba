/*
 * lxkit-monitor: the container's parent (LXC's "[lxc monitor]").
 *
 * Node is multi-threaded and must never enter a namespace, so this small
 * single-threaded program does: it clones the container's first process into
 * new namespaces (clone3), forwards the op batches JavaScript sends to it,
 * holds the container's namespace references and pty masters, proxies the
 * console, reaps the init and reports its exit status.
 *
 * fd 3: the control socket to JavaScript (frames of common/proto.h);
 * fd 4: optional, the container's lock, held for as long as this runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../common/proto.h"
#include "child.h"
#include "fdpass.h"
#include "ops.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#define CONTROL_FD 3
#define LOCK_FD 4

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Closes every fd from 3 up except those of `kept` (in any order): close_range over the gaps. */
static void close_all_but(int *kept, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && kept[j - 1] > kept[j]; j--) {
			int t = kept[j];
			kept[j] = kept[j - 1];
			kept[j - 1] = t;
		}
	unsigned int from = 3;
	for (int i = 0; i <= n; i++) {
		if (i < n && (unsigned int)kept[i] < from)
			continue;
		/* [from, last]: up to the next kept fd, or everything after the last one. */
		unsigned int last = i < n ? (unsigned int)kept[i] - 1 : ~0U;
		if (last >= from && syscall(SYS_close_range, from, last, 0) < 0) {
			/* Kernels before 5.9: one by one, up to the soft limit. */
			long max = sysconf(_SC_OPEN_MAX);
			if (i == n)
				last = (unsigned int)(max > 0 ? max - 1 : 1023);
			for (unsigned int fd = from; fd <= last; fd++)
				close((int)fd);
		}
		if (i < n)
			from = (unsigned int)kept[i] + 1;
	}
}

struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static const struct {
	const char *name;
	int type;
} NAMESPACES[] = {
	{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },	 { "pid", CLONE_NEWPID },   { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC },   { "net", CLONE_NEWNET },	 { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};
#define NNS (sizeof(NAMESPACES) / sizeof(NAMESPACES[0]))

static struct {
	pid_t pid;
	int pidfd, sock;
	int ns[NNS];
	int stdio;
	int console;         /* pty master of /dev/console, proxied when stdio is STDIO_CONSOLE */
	int console_peer;    /* a slave fd of our own, so that the master never reports a hang-up */
	int ttys[64], nttys; /* masters of /dev/ttyN, kept open so that getty keeps its line */
	int awaiting;        /* a batch is with the child */
	int exited, quit;
	int exit_code, exit_signal;
	struct termios saved;
	int raw;
	int stdin_eof;
} M = { .pid = -1, .pidfd = -1, .sock = -1, .console = -1, .console_peer = -1 };

static void mlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mlog(int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int64_t ints[1] = { level };
	const char *strs[1] = { msg };
	(void)!send_record(CONTROL_FD, M_LOG, ints, 1, strs, 1);
}

static void restore_tty(void)
{
	if (M.raw) {
		tcsetattr(0, TCSADRAIN, &M.saved);
		M.raw = 0;
	}
}

static void send_result_errno(int err, const char *syscall, const char *path)
{
	int64_t ints[4] = { 0, 0, err, 0 };
	const char *strs[4] = { syscall, path ? path : "", "", "" };
	(void)!send_record(CONTROL_FD, M_RESULT, ints, 4, strs, 4);
}

static void send_ok(void)
{
	int64_t ints[4] = { 1, 0, 0, 0 };
	const char *strs[4] = { "", "", "", "" };
	(void)!send_record(CONTROL_FD, M_RESULT, ints, 4, strs, 4);
}

static int ns_type(const char *name, size_t n)
{
	for (size_t i = 0; i < NNS; i++)
		if (strlen(NAMESPACES[i].name) == n && strncmp(NAMESPACES[i].name, name, n) == 0)
			return NAMESPACES[i].type;
	return 0;
}

static void do_clone(const struct record *r)
{
	uint64_t flags = (uint64_t)(r->nints > 0 ? r->ints[0] : 0);
	int pdeath = (int)(r->nints > 1 ? r->ints[1] : SIGKILL);
	M.stdio = (int)(r->nints > 2 ? r->ints[2] : STDIO_INHERIT);
	int join_fds[NNS], join_types[NNS], njoin = 0;

	/* lxc.namespace.share.*: "name=path". The pid namespace is joined here (for children only). */
	for (uint32_t i = 0; i < r->nstrs && njoin < (int)NNS; i++) {
		const char *eq = strchr(r->strs[i], '=');
		int type = eq ? ns_type(r->strs[i], (size_t)(eq - r->strs[i])) : 0;
		int fd = eq ? open(eq + 1, O_RDONLY | O_CLOEXEC) : -1;
		if (!type || fd < 0) {
			send_result_errno(type ? errno : EINVAL, "open", eq ? eq + 1 : r->strs[i]);
			return;
		}
		if (type == CLONE_NEWPID) {
			if (setns(fd, CLONE_NEWPID) < 0) {
				send_result_errno(errno, "setns", eq + 1);
				close(fd);
				return;
			}
			close(fd);
			continue;
		}
		join_fds[njoin] = fd;
		join_types[njoin++] = type;
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		send_result_errno(errno, "socketpair", NULL);
		return;
	}
	int pidfd = -1;
	struct clone_args_v0 args = { .flags = flags | CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags | CLONE_PIDFD | SIGCHLD), NULL, &pidfd, NULL, 0);
	if (pid < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		send_result_errno(err, "clone3", NULL);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		/* Nothing of the monitor's leaks into the container: every fd but stdio and our socket goes. */
		int keep = sv[1];
		int kept[NNS + 1];
		kept[0] = keep;
		for (int j = 0; j < njoin; j++)
			kept[1 + j] = join_fds[j];
		close_all_but(kept, njoin + 1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_main(keep, join_fds, join_types, njoin, pdeath);
		_exit(1);
	}
	for (int j = 0; j < njoin; j++)
		close(join_fds[j]);
	close(sv[1]);
	M.pid = pid;
	M.pidfd = pidfd;
	M.sock = sv[0];

	int64_t ints[1 + NNS];
	const char *names[NNS];
	char path[64];
	ints[0] = pid;
	for (size_t i = 0; i < NNS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, NAMESPACES[i].name);
		M.ns[i] = open(path, O_RDONLY | O_CLOEXEC);
		ints[1 + i] = M.ns[i];
		names[i] = NAMESPACES[i].name;
	}
	(void)!send_record(CONTROL_FD, M_CLONED, ints, 1 + NNS, names, NNS);
}

/*
 * A detached copy of `source` (a bind mount not attached anywhere) for the
 * child to attach, made here because the child's ids may not reach it; with
 * `idmap`, mapped into the child's user namespace (idmap=container).
 */
static void do_detached_tree(const struct record *r)
{
	const char *source = r->nstrs > 0 ? r->strs[0] : "";
	int slot = (int)(r->nints > 0 ? r->ints[0] : -1);
	int recursive = (int)(r->nints > 1 ? r->ints[1] : 1);
	int idmap = (int)(r->nints > 2 ? r->ints[2] : 1);
	int userns = M.ns[0];
	if (M.pid < 0 || (idmap && userns < 0)) {
		send_result_errno(EINVAL, "mount_setattr", source);
		return;
	}
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tree < 0) {
		send_result_errno(errno, "open_tree", source);
		return;
	}
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
	if (idmap && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0) {
		int err = errno;
		close(tree);
		send_result_errno(err, "mount_setattr", source);
		return;
	}
	int64_t ints[1] = { slot };
	int ret = send_fd_record(M.sock, M_FD, ints, 1, tree);
	int err = errno;
	close(tree);
	if (ret < 0)
		send_result_errno(err, "sendmsg", "(child)");
	else
		send_ok();
}

static void set_winsize(void)
{
	struct winsize ws;
	if (M.console >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(M.console, TIOCSWINSZ, &ws);
}

static void on_child_fd(const uint8_t *payload, long n, int fd)
{
	struct record r;
	if (fd < 0 || rec_get(payload, (size_t)n, &r) < 0 || r.nints < 2) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (r.ints[0] == PTY_CONSOLE) {
		if (M.console >= 0)
			close(M.console);
		if (M.console_peer >= 0)
			close(M.console_peer);
		M.console = fd;
		M.console_peer = ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (M.stdio == STDIO_CONSOLE && isatty(0) && !M.raw && tcgetattr(0, &M.saved) == 0) {
			struct termios raw = M.saved;
			cfmakeraw(&raw);
			if (tcsetattr(0, TCSADRAIN, &raw) == 0)
				M.raw = 1;
		}
		set_winsize();
	} else if (M.nttys < (int)(sizeof(M.ttys) / sizeof(M.ttys[0]))) {
		M.ttys[M.nttys++] = fd;
	} else {
		close(fd);
	}
}

/* Something from the child: a batch result, an fd, or EOF (its init was exec'd, or it died). */
static void on_child(void)
{
	uint16_t type;
	uint8_t *payload = NULL;
	int fd = -1;
	long n = recv_frame(M.sock, &type, &payload, &fd);
	if (n <= 0 && !payload) {
		/* The socket is close-on-exec: EOF while a batch was pending means the init runs. */
		if (M.awaiting && !M.exited)
			(void)!send_record(CONTROL_FD, M_RUNNING, NULL, 0, NULL, 0);
		M.awaiting = 0;
		close(M.sock);
		M.sock = -1;
		return;
	}
	if (type == M_FD) {
		on_child_fd(payload, n, fd);
	} else if (type == M_RESULT) {
		struct buf b;
		frame_begin(&b, M_RESULT);
		buf_put(&b, payload, (size_t)n);
		frame_end(&b);
		(void)!write_all(CONTROL_FD, b.data, b.len);
		buf_free(&b);
		M.awaiting = 0;
		if (fd >= 0)
			close(fd);
	} else {
		mlog(4, "monitor: unexpected message %u from the container's first process", type);
		if (fd >= 0)
			close(fd);
	}
	free(payload);
}

static void drain_console(void)
{
	char buf[4096];
	if (M.console < 0 || M.stdio != STDIO_CONSOLE)
		return;
	int flags = fcntl(M.console, F_GETFL);
	fcntl(M.console, F_SETFL, flags | O_NONBLOCK);
	ssize_t n;
	while ((n = read(M.console, buf, sizeof(buf))) > 0)
		(void)!write_all(1, buf, (size_t)n);
}

static void on_exit_of_init(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)M.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	/*
	 * What the first process said before it ended comes first: pty fds
	 * queued on its socket, and the end of the socket that means "the init
	 * runs" (a command can exit before the monitor got to read those).
	 */
	while (M.sock >= 0 && poll(&(struct pollfd){ .fd = M.sock, .events = POLLIN }, 1, 0) > 0)
		on_child();
	drain_console();
	restore_tty();
	M.exited = 1;
	if (si.si_code == CLD_EXITED) {
		M.exit_code = si.si_status;
		M.exit_signal = 0;
	} else {
		M.exit_code = 128 + si.si_status;
		M.exit_signal = si.si_status;
	}
	/* If the child died while a batch was pending, JavaScript hears it from the exit. */
	M.awaiting = 0;
	int64_t ints[2] = { M.exit_code, M.exit_signal };
	(void)!send_record(CONTROL_FD, M_EXITED, ints, 2, NULL, 0);
	close(M.pidfd);
	M.pidfd = -1;
}

static void release_namespaces(void)
{
	for (size_t i = 0; i < NNS; i++) {
		if (M.ns[i] >= 0)
			close(M.ns[i]);
		M.ns[i] = -1;
	}
	for (int i = 0; i < M.nttys; i++)
		close(M.ttys[i]);
	M.nttys = 0;
	if (M.console >= 0)
		close(M.console);
	if (M.console_peer >= 0)
		close(M.console_peer);
	M.console = M.console_peer = -1;
}

/* A message from JavaScript; returns 0 to go on, -1 when the control socket is gone. */
static int on_control(void)
{
	uint16_t type;
	uint8_t *payload = NULL;
	long n = frame_read(CONTROL_FD, &type, &payload);
	if (n <= 0 && !payload)
		return -1;
	struct record r;
	switch (type) {
	case M_CLONE:
		if (M.pid >= 0 || rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(M.pid >= 0 ? EBUSY : EPROTO, "clone3", NULL);
		else
			do_clone(&r);
		break;
	case M_BATCH:
		if (M.sock < 0) {
			send_result_errno(ESRCH, "batch", "(the container's first process is gone)");
		} else if (send_frame(M.sock, M_BATCH, payload, (size_t)n) < 0) {
			send_result_errno(errno, "sendmsg", "(child)");
		} else {
			M.awaiting = 1;
		}
		break;
	case M_DETACHED_TREE:
		if (rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(EPROTO, "open_tree", NULL);
		else
			do_detached_tree(&r);
		break;
	case M_KILL:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nints > 0 && M.pidfd >= 0)
			syscall(SYS_pidfd_send_signal, M.pidfd, (int)r.ints[0], NULL, 0);
		break;
	case M_RELEASE:
		release_namespaces();
		break;
	case M_QUIT:
		M.quit = 1;
		break;
	}
	free(payload);
	return 0;
}

static void proxy(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n > 0)
		(void)!write_all(to, buf, (size_t)n);
}

int main(void)
{
	for (size_t i = 0; i < NNS; i++)
		M.ns[i] = -1;
	/* Closed stdio would be taken by the next open (the signalfd, a namespace fd): fill it with /dev/null. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	prctl(PR_SET_NAME, "lxkit-monitor", 0, 0, 0);
	fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
	fcntl(LOCK_FD, F_SETFD, FD_CLOEXEC); /* may not be open: then this fails harmlessly */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Signals sent to the whole process group (a terminal's, or timeout's) are
	 * for lxkit to act on: it sends the container's halt signal. The monitor is
	 * told what to do through its socket; SIGKILL still ends it.
	 */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	for (;;) {
		if (M.quit && (M.exited || M.pid < 0)) {
			/*
			 * Done: the lock goes first and lxkit hears so at once, without
			 * waiting for this process to exit (which can take a while when the
			 * last references to the container's namespaces go with it).
			 */
			close(LOCK_FD);
			send_ok();
			break;
		}
		struct pollfd p[6];
		int np = 0, ic = -1, is = -1, ip = -1, ii = -1, im = -1, i0 = -1;
		int proxying = M.console >= 0 && M.stdio == STDIO_CONSOLE && !M.exited;
		p[np] = (struct pollfd){ .fd = CONTROL_FD, .events = POLLIN };
		ic = np++;
		p[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		is = np++;
		if (M.sock >= 0) {
			p[np] = (struct pollfd){ .fd = M.sock, .events = POLLIN };
			ip = np++;
		}
		if (M.pidfd >= 0) {
			p[np] = (struct pollfd){ .fd = M.pidfd, .events = POLLIN };
			ii = np++;
		}
		if (proxying) {
			p[np] = (struct pollfd){ .fd = M.console, .events = POLLIN };
			im = np++;
			if (!M.stdin_eof) {
				p[np] = (struct pollfd){ .fd = 0, .events = POLLIN };
				i0 = np++;
			}
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (ic >= 0 && p[ic].revents) {
			if (on_control() < 0) {
				/* lxkit is gone: nobody can finish the container's life, so end it. */
				if (M.pidfd >= 0) {
					syscall(SYS_pidfd_send_signal, M.pidfd, SIGKILL, NULL, 0);
					waitid((idtype_t)P_PIDFD, (id_t)M.pidfd, &(siginfo_t){ 0 }, WEXITED);
				}
				restore_tty();
				return 1;
			}
		}
		if (ip >= 0 && p[ip].revents && M.sock >= 0)
			on_child();
		if (ii >= 0 && p[ii].revents)
			on_exit_of_init();
		if (im >= 0 && (p[im].revents & POLLIN))
			proxy(M.console, 1);
		if (is >= 0 && p[is].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo == SIGWINCH)
				set_winsize();
		}
		if (i0 >= 0 && p[i0].revents && M.console >= 0) {
			char buf[4096];
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0)
				(void)!write_all(M.console, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				M.stdin_eof = 1;
		}
	}
	restore_tty();
	return M.exited ? 0 : 1;
}
