/*
 * lxkit-attach: runs a program inside a running container (lxc-attach).
 *
 * lxkit's JavaScript sends one request on fd 3 (A_REQUEST, see proto.h):
 * which namespaces to enter, the ids, the environment, the cwd, the command,
 * and whether to give it a pty. This helper gets the container's init pidfd
 * from its monitor (the command socket), then forks a child that enters
 * every namespace at once (setns on the pidfd) and forks again, so that the
 * command is in the container's pid namespace too. The command's exit
 * status (128+N for signal N) is this helper's. A failure before the
 * command runs is reported on fd 3 as an M_RESULT record (errno, syscall,
 * path) and gives exit status 1; a command that cannot be run gives 126 or
 * 127, with a message on stderr, as a shell does.
 *
 * `lxkit-attach relay` is the other use: a command socket reached in a
 * container's network namespace (relay.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cmdclient.h"
#include "../common/helper.h"
#include "../common/proto.h"
#include "../common/ptyproxy.h"
#include "../monitor/fdpass.h"
#include "../common/kernel.h"
#include "../common/confine.h"
#include "../common/signals.h"
#include "relay.h"



extern char **environ;

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Writes this process into `dir` (its cgroup.procs); 0, or -1 with errno, `path` and *syscall naming what failed. */
static int enter_cgroup(const char *dir, char *path, size_t size, const char **syscall)
{
	*syscall = "write";
	if (snprintf(path, size, "%s/cgroup.procs", dir) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ret = write(fd, "0", 1) < 0 ? -1 : 0;
	int err = errno;
	close(fd);
	errno = err;
	return ret;
}

/*
 * The unified hierarchy's cgroup of the init may hold no process of its own
 * once the container enabled controllers below it (systemd does: it moves
 * itself to init.scope first). As lxc-attach: the program goes into a leaf
 * made for it, `.lxc`, or `.lxc-N` while the one before is refused as busy
 * (its own controllers enabled); the monitor removes them with the
 * container's cgroup.
 */
static int enter_unified_leaf(const char *dir, char *path, size_t size, const char **syscall)
{
	for (int i = 0; i < 1000; i++) {
		char leaf[4096];
		int n = i == 0 ? snprintf(leaf, sizeof(leaf), "%s/.lxc", dir) : snprintf(leaf, sizeof(leaf), "%s/.lxc-%d", dir, i);
		if (n >= (int)sizeof(leaf)) {
			snprintf(path, size, "%.*s", (int)(size - 1), dir);
			*syscall = "mkdir";
			errno = ENAMETOOLONG;
			return -1;
		}
		int made = mkdir(leaf, 0755) == 0;
		if (!made && errno != EEXIST) {
			snprintf(path, size, "%s", leaf);
			*syscall = "mkdir";
			return -1;
		}
		if (enter_cgroup(leaf, path, size, syscall) == 0)
			return 0;
		int err = errno;
		if (made)
			(void)rmdir(leaf);
		errno = err;
		if (err != EBUSY)
			return -1;
	}
	return -1;
}

/* The user's login shell from the container's /etc/passwd (read after entering its mount namespace). */
static const char *shell_of(uid_t uid)
{
	static char shell[256];
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return "/bin/sh";
	char line[1024];
	const char *found = NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *fields[7] = { 0 };
		char *p = line;
		for (int i = 0; i < 7 && p; i++) {
			fields[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (fields[2] && fields[6] && (uid_t)strtoul(fields[2], NULL, 10) == uid) {
			fields[6][strcspn(fields[6], "\n")] = 0;
			if (*fields[6]) {
				snprintf(shell, sizeof(shell), "%s", fields[6]);
				found = shell;
			}
		}
	}
	fclose(f);
	return found ? found : "/bin/sh";
}

struct request {
	int nsflags, uid, gid, pty, clear_env;
	int elevated;           /* ELEVATE_* bits (lxc-attach -e): what of the container's confinement is left out */
	int has_caps;
	uint64_t bounding;
	int no_new_privs;       /* lxc.no_new_privs: applied with -e too, as LXC does */
	int64_t personality;    /* personality(2): -a's, else lxc.arch's (with -e too, as LXC); -1: lxkit's own */
	int remount;            /* -R: /proc and /sys mounted anew, in a mount namespace of the command's own (not with the container's) */
	const char *pty_log;    /* -L: where a pty's output is logged too, or NULL */
	const char *label;      /* "" for none */
	const void *filter;     /* seccomp BPF; filter_len 0 for none */
	size_t filter_len;
	int notify;             /* the filter has notify rules that the monitor serves: its listener goes there */
	int monitor;            /* the command socket, kept open for that */
	const char *socket, *cwd;
	char **argv;
	const char **set;
	const char **keep;
	const char **config_env; /* lxc.environment as the container was started with, bare names resolved here */
	int argc, nset, nkeep, nconfig_env;
};

/* Puts NAME=VALUE in env (k entries), in place of a NAME already there. */
static void put_env(char **env, size_t *k, const char *entry)
{
	size_t len = strcspn(entry, "=");
	for (size_t j = 0; j < *k; j++)
		if (strncmp(env[j], entry, len + 1) == 0)
			env[j] = env[--*k];
	env[(*k)++] = (char *)entry;
}

/*
 * The command's environment, as lxc-attach makes it: lxkit's own (or nothing
 * but the kept names), container=lxc, lxc.environment, the -v settings.
 */
static char **environment(const struct request *q)
{
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	char **env = calloc(n + (size_t)q->nconfig_env + (size_t)q->nset + 4, sizeof(char *));
	size_t k = 0;
	for (char **e = environ; env && *e; e++) {
		int keep = !q->clear_env;
		for (int i = 0; !keep && i < q->nkeep; i++) {
			size_t len = strlen(q->keep[i]);
			keep = strncmp(*e, q->keep[i], len) == 0 && (*e)[len] == '=';
		}
		if (keep && strncmp(*e, "container=", 10) != 0)
			env[k++] = *e;
	}
	if (!env)
		return environ;
	env[k++] = "container=lxc";
	int has_path = 0;
	for (size_t i = 0; i < k; i++)
		has_path |= strncmp(env[i], "PATH=", 5) == 0;
	if (!has_path)
		env[k++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (int i = 0; i < q->nconfig_env; i++)
		put_env(env, &k, q->config_env[i]);
	for (int i = 0; i < q->nset; i++)
		put_env(env, &k, q->set[i]);
	env[k] = NULL;
	return env;
}

/*
 * lxc.environment, from the monitor (the config the container was started
 * with): NAME=VALUE as written, a bare NAME with this process's value (left
 * out when it has none), an empty value clearing what came before, as LXC
 * reads the key.
 */
static int config_environment(int sock, struct request *q)
{
	static const char *const key[1] = { "lxc.environment" };
	struct record reply;
	uint8_t *payload;
	int none;
	if (cmd_request(sock, C_CONFIG, NULL, 0, key, 1, &reply, &payload, &none) < 0)
		return -1;
	if (none >= 0)
		close(none);
	(void)payload;
	q->config_env = calloc(reply.nstrs + 1, sizeof(char *));
	if (!q->config_env)
		return -1;
	q->nconfig_env = 0;
	for (uint32_t i = 0; i < reply.nstrs; i++) {
		/* The reply's payload is kept for the life of this helper, as its strings are used in place. */
		const char *v = reply.strs[i];
		if (!*v) {
			q->nconfig_env = 0;
		} else if (strchr(v, '=')) {
			q->config_env[q->nconfig_env++] = v;
		} else {
			const char *inherited = getenv(v);
			char *entry = NULL;
			if (inherited && asprintf(&entry, "%s=%s", v, inherited) < 0)
				return -1;
			if (entry)
				q->config_env[q->nconfig_env++] = entry;
		}
	}
	return 0;
}

/*
 * lxc-attach -R: the command keeps the host's mounts but sees the
 * container's processes and network devices, through a /proc and a /sys
 * of its own (made from inside the container's pid and network
 * namespaces), in a mount namespace of its own so that the host's stay.
 */
static int remount_sys_proc(const char **what)
{
	if (unshare(CLONE_NEWNS) < 0)
		return *what = "unshare(CLONE_NEWNS)", -1;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return *what = "making / a slave", -1;
	if (umount2("/proc", MNT_DETACH) < 0 && errno != EINVAL)
		return *what = "umount /proc", -1;
	if (mount("none", "/proc", "proc", 0, NULL) < 0)
		return *what = "mount /proc", -1;
	/*
	 * /sys only where it was a mount (EINVAL: it was not). Without flags, as
	 * LXC: the network namespace's sysfs is read-only all the same when the
	 * container mounted it so (sys:ro, sys:mixed).
	 */
	if (umount2("/sys", MNT_DETACH) == 0) {
		if (mount("none", "/sys", "sysfs", 0, NULL) < 0)
			return *what = "mount /sys", -1;
	} else if (errno != EINVAL) {
		return *what = "umount /sys", -1;
	}
	return 0;
}

/* In the container's pid namespace: take the pty, the ids, the environment, and exec. */
static void run_command(const struct request *q, int slave)
{
	if (slave >= 0) {
		/* Its own session, with the pty as controlling terminal: ^C typed there is the command's. */
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		if (slave > 2)
			close(slave);
	}
	uid_t uid = q->uid >= 0 ? (uid_t)q->uid : 0;
	gid_t gid = q->gid >= 0 ? (gid_t)q->gid : 0;
	const char *what = NULL;
	/* As LXC: only when the container's mount namespace is not entered. Before the caps go. */
	if (q->remount && !(q->nsflags & CLONE_NEWNS) && remount_sys_proc(&what) < 0) {
		dprintf(2, "lxkit-attach: -R: %s: %s\n", what, strerror(errno));
		_exit(126);
	}
	/* The container's confinement (not with -e), as its init got it: caps, label, then the filter. */
	if (!(q->elevated & ELEVATE_CAP) && q->has_caps && confine_caps(q->bounding, 0, 0, &what) < 0) {
		dprintf(2, "lxkit-attach: %s: %s\n", what, strerror(errno));
		_exit(126);
	}
	if (!(q->elevated & ELEVATE_LSM) && *q->label && confine_label(q->label, &what) < 0) {
		dprintf(2, "lxkit-attach: AppArmor label %s: %s: %s\n", q->label, what, strerror(errno));
		_exit(126);
	}
	if (q->personality >= 0 && personality((unsigned long)q->personality) < 0) {
		dprintf(2, "lxkit-attach: personality %#llx: %s\n", (unsigned long long)q->personality, strerror(errno));
		_exit(126);
	}
	if (q->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(2, "lxkit-attach: no_new_privs: %s\n", strerror(errno));
		_exit(126);
	}
	int listener = -1;
	if (!(q->elevated & ELEVATE_LSM) && q->filter_len && confine_seccomp(q->filter, q->filter_len, q->notify ? &listener : NULL, &what) < 0) {
		dprintf(2, "lxkit-attach: seccomp filter: %s: %s\n", what, strerror(errno));
		_exit(126);
	}
	if (listener >= 0) {
		/*
		 * The monitor serves it as the init's (the proxy answers). Once sent it is
		 * the monitor's to hold; if it never gets there, closing ours makes the
		 * notify calls fail with ENOSYS, never hang.
		 */
		if (send_fd_record(q->monitor, C_NOTIFY_LISTENER, NULL, 0, listener) < 0)
			dprintf(2, "lxkit-attach: seccomp notifications will fail with ENOSYS: sending the listener to the monitor: %s\n", strerror(errno));
		close(listener);
	}
	if (q->monitor >= 0)
		close(q->monitor);
	if (setgroups(0, NULL) < 0 && errno != EPERM) {
		dprintf(2, "lxkit-attach: setgroups: %s\n", strerror(errno));
		_exit(126);
	}
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		dprintf(2, "lxkit-attach: cannot become %d:%d in the container: %s\n", (int)uid, (int)gid, strerror(errno));
		_exit(126);
	}
	char **env = environment(q);
	char *shell[2] = { (char *)shell_of(uid), NULL };
	char **argv = q->argc > 0 ? q->argv : shell;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = env;
	execvp(argv[0], argv);
	int err = errno;
	dprintf(2, "lxkit-attach: cannot run %s: %s\n", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

static int status_of(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	/* Spawned by posix_spawn: the C libraries' own signals come ignored (common/signals.h). */
	signals_reset_internal();
	if (argc > 1 && strcmp(argv[1], "relay") == 0)
		return relay();
	struct record r;
	if (helper_request(A_REQUEST, 9, 2, &r) < 0)
		return 1;
	struct request q = {
		.nsflags = (int)r.ints[0],
		.uid = (int)r.ints[1],
		.gid = (int)r.ints[2],
		.pty = (int)r.ints[3],
		.clear_env = (int)r.ints[4],
		.elevated = (int)r.ints[5],
		.argc = (int)r.ints[6],
		.nset = (int)r.ints[7],
		.nkeep = (int)r.ints[8],
		.personality = r.nints >= 10 ? r.ints[9] : -1,
		.remount = r.nints >= 11 && r.ints[10],
		.socket = r.strs[0],
		.cwd = r.strs[1],
	};
	if (2 + q.argc + q.nset + q.nkeep > (int)r.nstrs) {
		helper_report(EPROTO, "read", "(request)");
		return 1;
	}
	q.argv = calloc((size_t)q.argc + 1, sizeof(char *));
	for (int i = 0; i < q.argc; i++)
		q.argv[i] = (char *)r.strs[2 + i];
	q.set = (const char **)&r.strs[2 + q.argc];
	q.keep = (const char **)&r.strs[2 + q.argc + q.nset];
	if (r.nints >= 12 && r.ints[11] && 2 + q.argc + q.nset + q.nkeep < (int)r.nstrs)
		q.pty_log = r.strs[2 + q.argc + q.nset + q.nkeep];
	/* Made here, in lxkit's working directory, with or without a pty, as lxc-attach makes it. */
	int log = -1;
	if (q.pty_log && (log = open(q.pty_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		helper_report(errno, "open", q.pty_log);
		return 1;
	}

	int sock = cmd_connect(q.socket);
	if (sock < 0) {
		helper_report(errno, "connect", q.socket);
		return 1;
	}
	uint8_t *reply_payload;
	struct record reply;
	int pidfd;
	if (cmd_request(sock, C_PIDFD, NULL, 0, NULL, 0, &reply, &reply_payload, &pidfd) < 0) {
		helper_report(errno, "recvmsg", q.socket);
		return 1;
	}
	if (reply.nints < 4 || reply.nstrs < 2 || reply.ints[0] != 0 || pidfd < 0) {
		helper_report(reply.nints > 0 && reply.ints[0] ? (int)reply.ints[0] : ESRCH, "pidfd", "(the container's init)");
		return 1;
	}
	/*
	 * Only a running container (not one starting, stopping or frozen), in the
	 * namespaces asked for that it has. The pidfd's reply tells both; a monitor
	 * started by an older lxkit says them in GET_STATE only.
	 */
	int64_t clone_flags, state;
	if (reply.nints >= 8) {
		clone_flags = reply.ints[6];
		state = reply.ints[7];
	} else {
		struct record st;
		uint8_t *st_payload;
		int none;
		if (cmd_request(sock, C_GET_STATE, NULL, 0, NULL, 0, &st, &st_payload, &none) < 0 || st.nints < 6) {
			helper_report(errno ? errno : EPROTO, "recvmsg", q.socket);
			return 1;
		}
		state = st.ints[0];
		clone_flags = st.ints[5];
		if (none >= 0)
			close(none);
	}
	if (state != STATE_RUNNING) {
		helper_report(ESRCH, "pidfd", "(the container's init)");
		return 1;
	}
	q.nsflags &= (int)clone_flags;
	pid_t init_pid = (pid_t)reply.ints[1];
	q.has_caps = (int)reply.ints[2];
	q.bounding = (uint64_t)reply.ints[3];
	q.no_new_privs = reply.nints >= 5 && reply.ints[4];
	if (q.personality < 0 && reply.nints >= 9)
		q.personality = reply.ints[8];
	q.label = reply.strs[0];
	q.filter = reply.strs[1];
	q.filter_len = reply.lens[1];
	q.notify = reply.nints >= 6 && reply.ints[5];
	if (config_environment(sock, &q) < 0) {
		helper_report(errno ? errno : EPROTO, "recvmsg", q.socket);
		return 1;
	}
	/* The command itself sends its filter's listener on it (CLOEXEC: gone at its exec either way). */
	q.monitor = q.notify && !(q.elevated & ELEVATE_LSM) ? sock : -1;
	if (q.monitor < 0)
		close(sock);

	/*
	 * The pty comes from the container's own devpts when it has one (so that
	 * the program's tty has a name there): the child opens it after entering
	 * the mount namespace and passes the master back on `link`. The host's
	 * devpts is the fallback.
	 */
	int master = -1, slave = -1, link[2] = { -1, -1 };
	if (q.pty) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0) {
			helper_report(errno, "openpty", "/dev/ptmx");
			return 1;
		}
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link) < 0) {
			helper_report(errno, "socketpair", NULL);
			return 1;
		}
	}

	/* Signals to this helper (a terminal's ^C without a pty) are for the command: it is in our process group. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	pid_t child = fork();
	if (child < 0) {
		helper_report(errno, "fork", NULL);
		return 1;
	}
	if (child == 0) {
		/*
		 * The container's cgroups (the init's), joined from the host before any
		 * namespace, by this child only (this helper stays outside, proxying):
		 * the program is limited and frozen with the container (not with -e).
		 */
		for (uint32_t i = 2; !(q.elevated & ELEVATE_CGROUP) && i < reply.nstrs; i++) {
			char path[4096];
			struct statfs sf;
			int unified = statfs(reply.strs[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
			const char *syscall;
			if ((unified ? enter_unified_leaf(reply.strs[i], path, sizeof(path), &syscall) : enter_cgroup(reply.strs[i], path, sizeof(path), &syscall)) < 0) {
				helper_report(errno, syscall, path);
				_exit(1);
			}
		}
		/*
		 * The container's core scheduling domain (lxc.sched.core), when its init
		 * has one: pulled from the init before its pid namespace is entered.
		 */
		uint64_t cookie = 0;
		if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, init_pid, PR_SCHED_CORE_SCOPE_THREAD, (unsigned long)&cookie) == 0 && cookie != 0 &&
		    prctl(PR_SCHED_CORE, PR_SCHED_CORE_SHARE_FROM, init_pid, PR_SCHED_CORE_SCOPE_THREAD, 0) < 0) {
			helper_report(errno, "prctl", "PR_SCHED_CORE_SHARE_FROM (the container's core scheduling domain)");
			_exit(1);
		}
		if (q.nsflags && setns(pidfd, q.nsflags) < 0) {
			helper_report(errno, "setns", "(the container's namespaces)");
			_exit(1);
		}
		close(pidfd);
		if (!*q.cwd || chdir(q.cwd) < 0)
			(void)!chdir("/");
		if (q.pty) {
			close(link[0]);
			int cmaster = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
			int cslave = cmaster >= 0 && unlockpt(cmaster) == 0 ? ioctl(cmaster, TIOCGPTPEER, O_RDWR | O_NOCTTY) : -1;
			int64_t none[1] = { 0 };
			if (cslave >= 0 && send_fd_record(link[1], A_REQUEST, none, 1, cmaster) == 0) {
				close(slave);
				slave = cslave;
			}
			if (cmaster >= 0)
				close(cmaster);
			close(link[1]);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		pid_t cmd = fork();
		if (cmd < 0) {
			helper_report(errno, "fork", NULL);
			_exit(1);
		}
		if (cmd == 0)
			run_command(&q, slave);
		if (q.monitor >= 0)
			close(q.monitor);
		if (slave >= 0)
			close(slave);
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		int status;
		while (waitpid(cmd, &status, 0) < 0)
			if (errno != EINTR)
				_exit(1);
		_exit(status_of(status));
	}
	close(pidfd);
	if (q.monitor >= 0)
		close(q.monitor);
	if (slave >= 0)
		close(slave);
	if (q.pty) {
		close(link[1]);
		uint16_t t;
		uint8_t *p = NULL;
		int cmaster = -1;
		if (recv_frame(link[0], &t, &p, &cmaster) > 0 && cmaster >= 0) {
			close(master);
			master = cmaster;
		}
		free(p);
		close(link[0]);
	}
	if (master >= 0) {
		int child_fd = (int)syscall(SYS_pidfd_open, child, 0);
		pty_proxy(master, child_fd, -1, log, -1);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return status_of(status);
}
