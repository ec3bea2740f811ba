/*
 * The controller: lxkit's JavaScript on the other end of M.control. It
 * asks for the clone and the op batches, hears the init's exit, and runs the
 * stop hooks. In daemon mode it leaves once the container runs; when the
 * init exits, the monitor starts lxkit's stop work as a new controller
 * (M.after_exit), which adopts the container through M_ADOPTED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fdpass.h"
#include "monitor.h"
#include "netns.h"
#include "ops.h"
#include "../common/kernel.h"
#include "../common/timeline.h"


struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Writes this process into the cgroup `dir` (the fallback of CLONE_INTO_CGROUP). */
static int enter_cgroup_fd(int dirfd)
{
	int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char pid[16];
	int n = snprintf(pid, sizeof(pid), "%d", getpid());
	ssize_t w = write(fd, pid, (size_t)n);
	close(fd);
	return w < 0 ? -1 : 0;
}

static pid_t after_exit_pid = -1;

/*
 * An fd on namespace NAMESPACES[i] of the child: from its pidfd where the
 * kernel hands namespaces out (6.11), else from /proc/<pid>/ns/<name>, a
 * path walk through procfs (measured here with the close: 4.3 against
 * 6.5 µs, eight of them between the clone and its answer).
 */
static int ns_open(size_t i)
{
	static const unsigned long get[NNS] = {
		PIDFD_GET_USER_NAMESPACE, PIDFD_GET_MNT_NAMESPACE, PIDFD_GET_PID_NAMESPACE,    PIDFD_GET_UTS_NAMESPACE,
		PIDFD_GET_IPC_NAMESPACE,  PIDFD_GET_NET_NAMESPACE, PIDFD_GET_CGROUP_NAMESPACE, PIDFD_GET_TIME_NAMESPACE,
	};
	static int no_ioctl;
	if (!no_ioctl && M.pidfd >= 0) {
		int fd = ioctl(M.pidfd, get[i], 0);
		if (fd >= 0)
			return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? (close(fd), -1) : fd;
		/* Pidfds without ioctls (ENOTTY), or the namespace type is not built in (EOPNOTSUPP). */
		if (errno != ENOTTY && errno != EINVAL)
			return -1;
		no_ioctl = 1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", M.pid, NAMESPACES[i].name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

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

static int ns_type(const char *name, size_t n)
{
	for (size_t i = 0; i < NNS; i++)
		if (strlen(NAMESPACES[i].name) == n && strncmp(NAMESPACES[i].name, name, n) == 0)
			return NAMESPACES[i].type;
	return 0;
}

/* The init's pid and the namespace fds, to the controller (M_CLONED, or M_ADOPTED for a new one). */
static void send_container(uint16_t type)
{
	int64_t ints[1 + NNS];
	const char *names[NNS];
	ints[0] = M.pid;
	for (size_t i = 0; i < NNS; i++) {
		ints[1 + i] = M.ns[i];
		names[i] = NAMESPACES[i].name;
	}
	(void)!send_record(M.control, type, ints, 1 + NNS, names, NNS);
}

static void do_clone(const struct record *r)
{
	timeline_mark("clone");
	/* lxkit sends CLONE right behind SERVE: no container without its command socket. */
	if (M.serve_failed) {
		send_result_errno(ECANCELED, "clone3", "(the container's command socket could not be served)");
		return;
	}
	uint64_t flags = (uint64_t)(r->nints > 0 ? r->ints[0] : 0);
	int pdeath = (int)(r->nints > 1 ? r->ints[1] : SIGKILL);
	M.stdio = (int)(r->nints > 2 ? r->ints[2] : STDIO_INHERIT);
	int join_fds[NNS], join_types[NNS], njoin = 0;

	/*
	 * lxc.namespace.share.*: "name=path". The pid namespace is joined here (for children only).
	 * "into-cgroup=dir": the unified-hierarchy cgroup the child starts in (CLONE_INTO_CGROUP).
	 */
	int cgroup_fd = -1;
	for (uint32_t i = 0; i < r->nstrs && njoin < (int)NNS; i++) {
		if (strncmp(r->strs[i], "into-cgroup=", 12) == 0) {
			if (cgroup_fd >= 0)
				close(cgroup_fd);
			cgroup_fd = open(r->strs[i] + 12, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cgroup_fd < 0) {
				send_result_errno(errno, "open", r->strs[i] + 12);
				return;
			}
			continue;
		}
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
	struct clone_args_v2 args = { .flags = flags | CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	pid_t pid = -1;
	/* The network namespace made ahead (netns.c): the child starts in it. Not for a user namespace's. */
	int host_net = -1;
	if ((flags & CLONE_NEWNET) && !(flags & CLONE_NEWUSER) && (host_net = netns_enter_prepared()) >= 0) {
		args.flags &= ~(uint64_t)CLONE_NEWNET;
		mlog(1, "monitor: the first process starts in the network namespace made ahead of its clone");
	}
	netns_drop_prepared();
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
		pid = (pid_t)syscall(SYS_clone3, &args, (size_t)CLONE_ARGS_SIZE_VER2);
		args.flags &= ~CLONE_INTO_CGROUP;
		/*
		 * Kernels without CLONE_INTO_CGROUP (before 5.7: E2BIG, EINVAL; no clone3:
		 * ENOSYS): the monitor enters the cgroup itself so that the child starts
		 * there, and leaves it for its own once the container runs (cgroup_settle).
		 */
		if (pid < 0 && enter_cgroup_fd(cgroup_fd) == 0)
			M.in_payload_cgroup = 1;
		else if (pid < 0) {
			int err = errno;
			if (host_net >= 0) {
				netns_return(host_net);
				close(host_net);
			}
			close(cgroup_fd);
			close(sv[0]);
			close(sv[1]);
			send_result_errno(err, "write", "cgroup.procs");
			return;
		}
	}
	if (pid < 0)
		pid = (pid_t)syscall(SYS_clone3, &args, (size_t)CLONE_ARGS_SIZE_VER0);
	if (pid < 0 && errno == ENOSYS)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)(args.flags | SIGCHLD), NULL, &pidfd, NULL, 0);
	if (host_net >= 0 && pid != 0) {
		int err = errno;
		netns_return(host_net);
		close(host_net);
		errno = err;
	}
	if (cgroup_fd >= 0 && pid != 0)
		close(cgroup_fd);
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
		int kept[NNS + 2];
		int nkept = 0;
		kept[nkept++] = sv[1];
		for (int j = 0; j < njoin; j++)
			kept[nkept++] = join_fds[j];
		/* The timeline's file, if one is kept: closed before the container's program runs (child.c). */
		if (timeline_fd() >= 0)
			kept[nkept++] = timeline_fd();
		close_all_but(kept, nkept);
		/*
		 * A daemon's init (lxc-start -d, lxc-execute -d): lxkit's stdio is not the
		 * container's to keep. Its console, if any, is /dev/console only, as LXC's.
		 */
		if (M.stdio == STDIO_NULL || M.stdio == STDIO_DETACHED) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			for (int fd = 0; fd < 3 && null >= 0; fd++)
				dup2(null, fd);
			if (null > 2)
				close(null);
		}
		timeline_who("child");
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_main(sv[1], join_fds, join_types, njoin, pdeath, M.stdio == STDIO_NULL || M.stdio == STDIO_DETACHED);
		_exit(1);
	}
	for (int j = 0; j < njoin; j++)
		close(join_fds[j]);
	close(sv[1]);
	M.pid = pid;
	M.pidfd = pidfd;
	M.sock = sv[0];
	M.clone_flags = flags;
	M.init_ran = 0;
	for (size_t i = 0; i < NNS; i++)
		M.ns[i] = ns_open(i);
	/* Marked before the message goes: lxkit's own mark of it must come after. */
	timeline_mark("cloned");
	send_container(M_CLONED);
}

/*
 * A restored init (restore.c), the monitor's child as a cloned one: held and
 * reported as M_CLONED, and running at once (there is no batch to wait for).
 */
void adopt_restored(pid_t pid, int pidfd, uint64_t flags)
{
	M.pid = pid;
	M.pidfd = pidfd;
	M.clone_flags = flags;
	/* The restored processes have their own stdio; a console is drained as a daemon's (logged, kept, lent to lxkit console), as LXC leaves it. */
	M.stdio = STDIO_DETACHED;
	M.init_ran = 1;
	for (size_t i = 0; i < NNS; i++)
		M.ns[i] = (flags & (uint64_t)NAMESPACES[i].type) ? ns_open(i) : -1;
	timeline_mark("cloned");
	send_container(M_CLONED);
	set_state(STATE_RUNNING);
}

/*
 * A new filesystem of type `fstype` on `source` (an overlay, a loop device's
 * ext4), made by the host's root and attached nowhere: fsopen, one fsconfig
 * per comma-separated option (`key=value` a string, `key` a flag), fsmount.
 * On failure -1 with errno and *syscall set, and the kernel's own words
 * (the fs context's log) in `why`.
 */
static int new_filesystem(const char *fstype, const char *source, const char *options, const char **syscall_name, char *why, size_t whylen)
{
	why[0] = '\0';
	int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fs < 0) {
		*syscall_name = "fsopen";
		return -1;
	}
	int ret = 0;
	*syscall_name = "fsconfig";
	if (*source)
		ret = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", source, 0);
	char *copy = strdup(options);
	char *save = NULL;
	for (char *opt = copy ? strtok_r(copy, ",", &save) : NULL; ret >= 0 && opt; opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		if (eq) {
			*eq = '\0';
			ret = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
		} else {
			ret = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
	}
	free(copy);
	if (ret >= 0)
		ret = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int mnt = -1;
	if (ret >= 0) {
		*syscall_name = "fsmount";
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	}
	if (mnt < 0) {
		int err = errno;
		/* The fs context's messages ("e overlayfs: failed to resolve ..."): the last one says why. */
		char buf[256];
		ssize_t n;
		while ((n = read(fs, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = '\0';
			snprintf(why, whylen, "%s", n > 2 ? buf + 2 : buf);
		}
		errno = err;
	}
	int err = errno;
	close(fs);
	errno = err;
	return mnt;
}

/*
 * A detached mount for the child to attach, made here because the child's
 * ids may not reach its source, or because only the host's root may make
 * it: a copy of the tree at `source` (a bind mount), or with `fstype` a new
 * filesystem (new_filesystem). With `idmap`, mapped into the child's user
 * namespace (idmap=container).
 */
static void do_detached_tree(const struct record *r)
{
	const char *source = r->nstrs > 0 ? r->strs[0] : "";
	const char *fstype = r->nstrs > 1 ? r->strs[1] : "";
	const char *options = r->nstrs > 2 ? r->strs[2] : "";
	int slot = (int)(r->nints > 0 ? r->ints[0] : -1);
	int recursive = (int)(r->nints > 1 ? r->ints[1] : 1);
	int idmap = (int)(r->nints > 2 ? r->ints[2] : 1);
	int userns = M.ns[0];
	if (M.pid < 0 || (idmap && userns < 0)) {
		send_result_errno(EINVAL, "mount_setattr", source);
		return;
	}
	int tree;
	if (*fstype) {
		const char *call = "fsopen";
		char why[256];
		tree = new_filesystem(fstype, source, options, &call, why, sizeof(why));
		if (tree < 0) {
			int err = errno;
			char what[600];
			snprintf(what, sizeof(what), "%s%s%s%s", source, *why ? " (" : "", why, *why ? ")" : "");
			send_result_errno(err, call, what);
			return;
		}
	} else {
		tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
		if (tree < 0) {
			send_result_errno(errno, "open_tree", source);
			return;
		}
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

/* M_SERVE: the command socket, the config it answers from, the console log. */
static void do_serve(const struct record *r)
{
	const char *name = r->nstrs > 0 ? r->strs[0] : "";
	if (command_listen(name) < 0) {
		M.serve_failed = errno;
		send_result_errno(errno, "bind", name);
		return;
	}
	M.log_min = r->nints > 0 ? (int)r->ints[0] : 0;
	/* Said now that lxkit has told which messages it wants. */
	if (M.netns_at_start)
		mlog(1, "monitor: the network namespace was made as the monitor started (lxkit expected this start to want one)");
	free(M.config);
	M.config = strdup(r->nstrs > 1 ? r->strs[1] : "");
	M.watch_prefix = strdup(r->nstrs > 3 ? r->strs[3] : "");
	M.watch_dir = strdup(r->nstrs > 6 ? r->strs[6] : "");
	M.name = strdup(r->nstrs > 4 ? r->strs[4] : "");
	const char *log = r->nstrs > 2 ? r->strs[2] : "";
	if (*log) {
		M.console_log_path = strdup(log);
		M.console_log_size = r->nints > 1 ? r->ints[1] : 0;
		M.console_log_rotate = r->nints > 2 && r->ints[2];
		M.console_log = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (M.console_log < 0) {
			M.serve_failed = errno;
			send_result_errno(errno, "open", log);
			return;
		}
	}
	/* lxc.console.buffer.size, in bytes (lxkit rounded it as LXC does). */
	if (r->nints > 3 && r->ints[3] > 0 && ring_init((uint64_t)r->ints[3]) < 0) {
		M.serve_failed = ENOMEM;
		send_result_errno(ENOMEM, "malloc", "(lxc.console.buffer.size)");
		return;
	}
	/* lxc.console.path (lxc-start -c): a file or device that gets the console's output too. */
	const char *copy = r->nstrs > 5 ? r->strs[5] : "";
	if (*copy) {
		M.console_copy = open(copy, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (M.console_copy < 0) {
			M.serve_failed = errno;
			send_result_errno(errno, "open", copy);
			return;
		}
	}
	send_ok();
	/* The container exists from now on: lxkit monitor hears of it. */
	command_broadcast_state(M.state);
}

/*
 * M_DAEMONIZE: lxkit may leave; `strs` is its stop work, run when the init
 * exits. None: nothing of lxkit's is needed then (lxkit unshare -d), the
 * monitor waits for its child and exits with it.
 */
/* Lines of the running config (each "key = value\n"): what the start chose, as LXC's running config holds it. */
static void config_add(const char *lines, uint32_t len)
{
	size_t have = M.runtime ? strlen(M.runtime) : 0;
	char *grown = realloc(M.runtime, have + len + 1);
	if (!grown) {
		mlog(5, "monitor: no memory for the container's runtime config");
		return;
	}
	memcpy(grown + have, lines, len);
	grown[have + len] = 0;
	M.runtime = grown;
}

static void do_daemonize(const struct record *r)
{
	char **argv = NULL;
	if (r->nstrs > 0) {
		argv = calloc(r->nstrs + 1, sizeof(char *));
		if (!argv) {
			send_result_errno(ENOMEM, "daemonize", NULL);
			return;
		}
		for (uint32_t i = 0; i < r->nstrs; i++)
			argv[i] = strdup(r->strs[i]);
	}
	M.after_exit = argv;
	M.after_exit_always = r->nints > 0 && r->ints[0];
	M.daemon = 1;
	send_ok();
}

/* M_FD: fds, each with its kind and index (two ints per fd, in order). */
static void on_child_fds(const uint8_t *payload, long n, const int *fds, int nfds)
{
	struct record r;
	int ok = rec_get(payload, (size_t)n, &r) >= 0;
	for (int i = 0; i < nfds; i++) {
		int fd = fds[i];
		int64_t kind = ok && r.nints >= 2 * (uint32_t)(i + 1) ? r.ints[2 * i] : -1;
		if (kind == FD_SECCOMP_LISTENER)
			notify_take(fd);
		else if (kind == PTY_CONSOLE)
			console_take(fd);
		else if (kind == PTY_TTY && M.nttys < (int)(sizeof(M.ttys) / sizeof(M.ttys[0])))
			M.ttys[M.nttys++] = fd;
		else
			close(fd);
	}
}

/*
 * The namespace fds follow the child: a namespace it made with an unshare
 * op (the cgroup namespace, made once its cgroups are complete) replaces
 * the one it was cloned in, at the same fd number, which lxkit has handed
 * to hooks as /proc/<monitor>/fd/<n>, and counts among its clone flags.
 */
static void follow_namespaces(void)
{
	uint64_t moving = M.ns_moving;
	M.ns_moving = 0;
	if (M.pid < 0 || M.exited)
		return;
	for (size_t i = 0; i < NNS; i++) {
		struct stat held, now;
		/* Only those the batch could have changed: the others cost two syscalls each for nothing. */
		if (!(moving & (uint64_t)NAMESPACES[i].type) || M.ns[i] < 0)
			continue;
		int fd = ns_open(i);
		if (fd < 0)
			continue;
		if (fstat(M.ns[i], &held) == 0 && fstat(fd, &now) == 0 && held.st_ino != now.st_ino) {
			(void)dup3(fd, M.ns[i], O_CLOEXEC);
			/* Its own namespace from now on, as if cloned with it: attach joins it. */
			M.clone_flags |= (uint64_t)NAMESPACES[i].type;
		}
		close(fd);
	}
}

/* The namespaces a batch may move the child to: what its UNSHARE and SETNS ops name (unreadable: all). */
static uint64_t batch_namespaces(const uint8_t *p, size_t n)
{
	const uint64_t all = ~(uint64_t)0;
	if (n < 4)
		return all;
	uint32_t nops = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	struct record *r = malloc(sizeof(*r));
	if (!r)
		return all;
	uint64_t flags = 0;
	size_t at = 4;
	for (uint32_t i = 0; i < nops; i++) {
		long used = n - at >= 4 ? rec_get(p + at + 4, n - at - 4, r) : -1;
		if (used < 0) {
			flags = all;
			break;
		}
		uint16_t code = (uint16_t)(p[at] | p[at + 1] << 8);
		at += 4 + (size_t)used;
		if (code == OP_UNSHARE)
			flags |= r->nints > 1 ? (uint64_t)r->ints[1] : all;
		else if (code == OP_SETNS)
			flags |= r->nints > 1 && r->ints[1] ? (uint64_t)r->ints[1] : all;
	}
	free(r);
	return flags;
}

/* Something from the child: a batch result, an fd, or EOF (its init was exec'd, or it died). */
void child_on_message(void)
{
	uint16_t type;
	uint8_t *payload = NULL;
	int fds[FDS_MAX], nfds = 0;
	long n = recv_frame_fds(M.sock, &type, &payload, fds, FDS_MAX, &nfds);
	if (n <= 0 && !payload) {
		timeline_mark("child-eof");
		/* The socket is close-on-exec: EOF while a batch was pending means the init runs. */
		if (M.awaiting)
			follow_namespaces();
		if (M.awaiting)
			M.init_ran = 1;
		if (M.awaiting && !M.exited && M.control >= 0)
			(void)!send_record(M.control, M_RUNNING, NULL, 0, NULL, 0);
		/* RUNNING is the monitor's own to say, as STOPPED is: lxkit learns it from M_RUNNING. */
		if (M.awaiting && !M.exited)
			set_state(STATE_RUNNING);
		M.awaiting = 0;
		close(M.sock);
		M.sock = -1;
		return;
	}
	if (type == M_FD) {
		on_child_fds(payload, n, fds, nfds);
		nfds = 0;
	} else if (type == M_RESULT) {
		follow_namespaces();
		struct buf b;
		frame_begin(&b, M_RESULT);
		buf_put(&b, payload, (size_t)n);
		frame_end(&b);
		if (M.control >= 0)
			(void)!write_all(M.control, b.data, b.len);
		buf_free(&b);
		M.awaiting = 0;
	} else {
		mlog(4, "monitor: unexpected message %u from the container's first process", type);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(payload);
}

void release_namespaces(void)
{
	netns_give_back_all(M.ns[ns_index("net")]);
	netns_unproxy_all();
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

/*
 * Daemon mode, the init gone and nobody to tell: lxkit's stop work runs as a
 * new controller, on a socketpair as its fd 3 with the lock as fd 4. If it
 * cannot be started, the monitor lets the container go by itself.
 */
static int after_exit_started;

static void start_after_exit(void)
{
	int sv[2];
	after_exit_started = 1;
	if (!M.after_exit || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		release_namespaces();
		M.quit = 1;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0 || fcntl(LOCK_FD, F_SETFD, 0) < 0)
			_exit(127);
		/* The monitor's cgroup is removed while this may still be exiting. */
		cgroup_leave_monitor();
		int kept[2] = { 3, LOCK_FD };
		close_all_but(kept, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(M.after_exit[0], M.after_exit);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		release_namespaces();
		M.quit = 1;
		return;
	}
	after_exit_pid = pid;
	M.control = sv[0];
	send_container(M_ADOPTED);
	int64_t ints[2] = { M.exit_code, M.exit_signal };
	(void)!send_record(M.control, M_EXITED, ints, 2, NULL, 0);
}

void init_on_exit(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)M.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	timeline_mark("init-exited");
	/*
	 * What the first process said before it ended comes first: pty fds
	 * queued on its socket, and the end of the socket that means "the init
	 * runs" (a command can exit before the monitor got to read those).
	 */
	while (M.sock >= 0 && poll(&(struct pollfd){ .fd = M.sock, .events = POLLIN }, 1, 0) > 0)
		child_on_message();
	console_drain();
	console_restore_tty();
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
	close(M.pidfd);
	M.pidfd = -1;
	if (M.control >= 0) {
		/*
		 * M_END_ALONE: lxkit found nothing of its own to do at this end (no hook, no
		 * plugin's stop work) and it is no reboot: the container ends here at once,
		 * as in daemon mode, while lxkit hears of the exit; M_RESULT says when it is done.
		 * Not when the init never ran: that start is lxkit's to abort.
		 */
		int alone = M.end_alone && M.init_ran && !(M.end_alone == 2 && M.exit_signal == SIGHUP);
		M.end_alone = 0;
		int64_t ints[3] = { M.exit_code, M.exit_signal, alone };
		timeline_mark("exited");
		(void)!send_record(M.control, M_EXITED, ints, 3, NULL, 0);
		/* After lxkit's own news of it (a start waits on that), before STOPPING, as lxc-monitor shows it. */
		command_broadcast_exit(M.exit_code, M.exit_signal);
		if (alone) {
			mlog(1, "monitor: the container ends here (nothing of lxkit's is needed at its end)");
			set_state(STATE_STOPPING);
			M.release_pending = 1;
			M.quit = 1;
		}
	} else if (M.after_exit_always || M.exit_signal == SIGHUP) {
		command_broadcast_exit(M.exit_code, M.exit_signal);
		set_state(STATE_STOPPING);
		start_after_exit();
	} else {
		command_broadcast_exit(M.exit_code, M.exit_signal);
		/* Nothing for lxkit to do at this stop (no hooks, no plugin's stop work, no reboot): done here. */
		if (M.exit_signal)
			mlog(1, "monitor: the container ends here (nothing of lxkit's is needed at its end): its init was killed by signal %d", M.exit_signal);
		else
			mlog(1, "monitor: the container ends here (nothing of lxkit's is needed at its end): its init exited with status %d", M.exit_code);
		set_state(STATE_STOPPING);
		M.release_pending = 1;
		M.quit = 1;
	}
}

/* Reaps lxkit's stop work once it has exited (SIGCHLD). */
void control_reap(void)
{
	if (after_exit_pid > 0 && waitpid(after_exit_pid, NULL, WNOHANG) == after_exit_pid)
		after_exit_pid = -1;
}

/*
 * The controller is gone. In daemon mode that is expected once the init
 * runs: the terminal is let go and the container goes on. Otherwise (lxkit
 * was killed, or its stop work died) nobody can finish the container's
 * life, so it ends here.
 */
void control_lost(void)
{
	close(M.control);
	M.control = -1;
	if (M.daemon && !M.exited) {
		console_detach_terminal();
		setsid();
		return;
	}
	/*
	 * The init exited after this monitor took the hand-over (DAEMONIZE) but
	 * before lxkit had left: lxkit heard of the exit too late to finish the
	 * container, so the end is the daemon's, as if lxkit had left first. Not
	 * when lxkit finished it (QUIT), nor for the stop work's own end.
	 */
	if (M.daemon && M.exited && !M.quit && !after_exit_started) {
		console_detach_terminal();
		setsid();
		set_state(STATE_STOPPING);
		if (M.after_exit_always || M.exit_signal == SIGHUP) {
			start_after_exit();
		} else {
			M.release_pending = 1;
			M.quit = 1;
		}
		return;
	}
	if (M.pidfd >= 0) {
		M.abandoned = 1;
		syscall(SYS_pidfd_send_signal, M.pidfd, SIGKILL, NULL, 0);
		waitid((idtype_t)P_PIDFD, (id_t)M.pidfd, &(siginfo_t){ 0 }, WEXITED);
		close(M.pidfd);
		M.pidfd = -1;
		M.exited = 1;
	}
	if (!M.exited && M.pid < 0)
		M.abandoned = 1;
	release_namespaces();
	M.quit = 1;
}

/* A message from the controller; returns 0 to go on, -1 when it is gone. */
int control_on_message(void)
{
	uint16_t type;
	uint8_t *payload = NULL;
	long n = frame_read(M.control, &type, &payload);
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
	case M_RESTORE:
		if (M.pid >= 0 || rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(M.pid >= 0 ? EBUSY : EPROTO, "execve", NULL);
		else
			do_restore(&r);
		break;
	case M_PTYS:
		if (M.pid >= 0 || rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(M.pid >= 0 ? EBUSY : EPROTO, "open", "/dev/ptmx");
		else
			do_restore_ptys(&r);
		break;
	case M_BATCH: {
		timeline_mark("batch");
		const char *failed = NULL;
		int cgerr = cgroup_failure(&failed);
		if (M.sock < 0) {
			send_result_errno(ESRCH, "batch", "(the container's first process is gone)");
		} else if (cgerr) {
			/* Not one op runs outside the container's cgroups. */
			send_result_errno(cgerr, "write", failed);
		} else if (send_frame(M.sock, M_BATCH, payload, (size_t)n) < 0) {
			send_result_errno(errno, "sendmsg", "(child)");
		} else {
			M.awaiting = 1;
			M.ns_moving |= batch_namespaces(payload, (size_t)n);
		}
		break;
	}
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
		send_ok();
		break;
	case M_QUIT:
		M.quit = 1;
		break;
	case M_SERVE:
		if (rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(EPROTO, "serve", NULL);
		else {
			do_serve(&r);
			timeline_mark("served");
		}
		break;
	case M_STATE:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nints > 0)
			set_state((int)r.ints[0]);
		break;
	case M_CGROUPS:
		/* No reply: what could go wrong with it is in lxkit's hands (mkdir, limits). */
		if (rec_get(payload, (size_t)n, &r) < 0)
			mlog(5, "monitor: a malformed cgroup hand-over");
		else {
			cgroup_set(&r);
			timeline_mark("cgroups");
		}
		break;
	case M_CONFINE:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nints >= 2 && r.nstrs >= 2) {
			M.confine_caps = (int)r.ints[0];
			M.confine_bounding = r.ints[1];
			M.confine_nnp = r.nints >= 3 ? (int)r.ints[2] : 0;
			M.confine_personality = r.nints >= 4 ? r.ints[3] : -1;
			free(M.confine_label);
			free(M.confine_filter);
			M.confine_label = strdup(r.strs[0]);
			M.confine_filter = malloc(r.lens[1] + 1);
			if (M.confine_filter)
				memcpy(M.confine_filter, r.strs[1], r.lens[1] + 1);
			M.confine_filter_len = M.confine_filter ? r.lens[1] : 0;
		}
		break;
	case M_NET_UNPROXY:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nstrs >= 2 && r.nints >= 1)
			netns_unproxy(r.strs[0], r.ints[0] == 6 ? AF_INET6 : AF_INET, (const uint8_t *)r.strs[1], r.lens[1]);
		break;
	case M_NET_GIVE_BACK:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nstrs >= 2)
			netns_give_back(r.strs[0], r.strs[1], r.nints > 0 ? (unsigned)r.ints[0] : 0);
		break;
	case M_CONFIG_ADD:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nstrs >= 1)
			config_add(r.strs[0], r.lens[0]);
		break;
	case M_NOTIFY:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nstrs >= 2)
			notify_configure(r.strs[0], r.strs[1]);
		break;
	case M_NETNS:
		if (M.pid < 0) {
			timeline_mark("netns");
			netns_prepare();
			timeline_mark("netns-made");
		}
		break;
	case M_MOUNT_NS:
		/*
		 * As LXC's monitor with lxc.monitor.unshare: a slave of the host's, so
		 * that the host's mounts still come in and none made here go out.
		 * Everything after happens here: the clone (the container's mount
		 * namespace is a copy of this one), lxkit's host-side hook scripts
		 * (nsenter into /proc/<this>/ns/mnt), a daemon's stop work.
		 */
		if (M.pid >= 0) {
			send_result_errno(EBUSY, "unshare", "(the container's first process exists already)");
		} else if (unshare(CLONE_NEWNS) < 0) {
			send_result_errno(errno, "unshare", NULL);
		} else if (syscall(SYS_mount, NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) { /* mount(2): <sys/mount.h> clashes with <linux/mount.h> */
			send_result_errno(errno, "mount", "/");
		} else {
			send_ok();
		}
		break;
	case M_END_ALONE:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nints > 0)
			M.end_alone = (int)r.ints[0];
		break;
	case M_LOG_TARGETS:
		if (rec_get(payload, (size_t)n, &r) >= 0 && r.nstrs >= 4 && r.nints >= 3) {
			char **keep[] = { &M.log_file, &M.log_program, &M.log_container, &M.log_syslog };
			for (int i = 0; i < 4; i++) {
				free(*keep[i]);
				*keep[i] = r.strs[i][0] ? strdup(r.strs[i]) : NULL;
			}
			M.log_file_min = (int)r.ints[0];
			M.log_facility = (int)r.ints[1];
			M.log_syslog_min = (int)r.ints[2];
		}
		break;
	case M_DAEMONIZE:
		if (rec_get(payload, (size_t)n, &r) < 0)
			send_result_errno(EPROTO, "daemonize", NULL);
		else
			do_daemonize(&r);
		break;
	}
	free(payload);
	return 0;
}
