/*
 * The container's first process: an op interpreter. It is cloned by the
 * monitor into the new namespaces, then runs the batches of ops JavaScript
 * sends at each lifecycle stage (through the monitor), replying with one
 * result per batch, until an OP_EXEC replaces it with the container's init
 * (or, for application containers, turns it into a small init).
 */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fdpass.h"
#include "../common/confine.h"
#include "netns.h"
#include "../common/netlink.h"
#include "resolve.h"
#include "../common/kernel.h"
#include "../common/signals.h"
#include "../common/timeline.h"


static int sock = -1; /* to the monitor (SOCK_SEQPACKET) */
static int pdeath_signal;

/*
 * The parent-death signal is cleared by every change of credentials
 * (prctl(2)): set it again after one. If the monitor went away while it was
 * off, its end of the socket says so, and the container must not outlive it.
 */
static void rearm_pdeath(void)
{
	if (pdeath_signal <= 0)
		return;
	prctl(PR_SET_PDEATHSIG, pdeath_signal, 0, 0, 0);
	struct pollfd p = { .fd = sock, .events = 0 };
	if (sock >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
		_exit(1);
}
static int slots[FD_SLOTS];

/*
 * Confinement kept for the exec: the label and the seccomp filter go on
 * last, so that nothing lxkit still does before exec is refused by them.
 */
static char *pending_label;
static void *pending_filter;
static size_t pending_filter_len;
static int pending_notify; /* the filter has notify rules: its listener goes to the monitor */

static int keep_copy(const struct record *r, void **dst, size_t *len)
{
	if (r->nstrs < 1) {
		errno = EINVAL;
		return -1;
	}
	free(*dst);
	*dst = malloc(r->lens[0] + 1);
	if (!*dst)
		return -1;
	memcpy(*dst, r->strs[0], r->lens[0]);
	((char *)*dst)[r->lens[0]] = 0;
	if (len)
		*len = r->lens[0];
	return 0;
}

/* What failed, for the result. */
struct failure {
	int err;
	const char *syscall;
	const char *path;
	char detail[512];
	struct buf output;
};

static int fail(struct failure *f, const char *syscall, const char *path)
{
	f->err = errno ? errno : EIO;
	f->syscall = syscall;
	f->path = path;
	return -1;
}

static const char *str(const struct record *r, uint32_t i)
{
	return i < r->nstrs ? r->strs[i] : "";
}

static int64_t num(const struct record *r, uint32_t i, int64_t dflt)
{
	return i < r->nints ? r->ints[i] : dflt;
}

static const char *fdpath(int fd, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
	return buf;
}

/* True for errors that PF_OPTIONAL turns into a skip (something is missing). */
static int missing(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ENODEV;
}

/*
 * A bind mount takes flags only by remounting: `flags` go on the mount now
 * at `target` (found through the path again, as *tfd holds what is under
 * it), with those the kernel locks kept (user namespaces). *tfd is
 * replaced by the new mount's.
 */
static int remount_bind(const char *target, int pf, unsigned long flags, int *tfd, struct failure *f)
{
	struct statvfs sv;
	char tbuf[64];
	if (*tfd >= 0)
		close(*tfd);
	*tfd = open_path(target, pf, O_PATH);
	unsigned long keep = 0;
	if (*tfd >= 0 && fstatvfs(*tfd, &sv) == 0)
		keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
	if (*tfd < 0 || mount(NULL, fdpath(*tfd, tbuf, sizeof(tbuf)), NULL, MS_REMOUNT | MS_BIND | keep | flags, NULL) < 0) {
		fail(f, "mount", target);
		snprintf(f->detail, sizeof(f->detail), "remounting with new flags");
		return -1;
	}
	return 0;
}

static int op_mount(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	unsigned long flags = (unsigned long)num(r, 1, 0);
	unsigned long remount = (unsigned long)num(r, 2, 0);
	const char *source = str(r, 0), *target = str(r, 1), *fstype = str(r, 2), *data = str(r, 3);
	char sbuf[64], tbuf[64];
	int sfd = -1, tfd = -1, ret = -1;

	if (pf & PF_SOURCE_SLOT) {
		int slot = atoi(source);
		if (slot < 0 || slot >= FD_SLOTS || slots[slot] < 0) {
			errno = EBADF;
			return fail(f, "mount", source);
		}
		source = fdpath(slots[slot], sbuf, sizeof(sbuf));
	} else if (pf & PF_SOURCE_IN_ROOT) {
		sfd = open_path(source, PF_IN_ROOT, O_PATH);
		if (sfd < 0) {
			if ((pf & PF_OPTIONAL) && missing(errno))
				return 0;
			return fail(f, "open", source);
		}
		source = fdpath(sfd, sbuf, sizeof(sbuf));
	} else if ((pf & PF_OPTIONAL) && *source == '/' && access(source, F_OK) < 0 && missing(errno)) {
		return 0;
	}

	if (pf & PF_CREATE_DIR) {
		tfd = mkdir_open(target, pf, 0755);
		if (tfd < 0 && !((pf & PF_OPTIONAL) && missing(errno))) {
			fail(f, "mkdir", target);
			goto out;
		}
	} else if (pf & PF_CREATE_FILE) {
		tfd = create_file(target, pf, 0644);
		if (tfd < 0 && !((pf & PF_OPTIONAL) && missing(errno))) {
			fail(f, "open", target);
			goto out;
		}
	} else {
		tfd = open_path(target, pf, O_PATH);
	}
	if (tfd < 0) {
		if ((pf & PF_OPTIONAL) && missing(errno)) {
			ret = 0;
			goto out;
		}
		fail(f, "open", target);
		goto out;
	}
	const char *t = fdpath(tfd, tbuf, sizeof(tbuf));
	if (mount(*source ? source : NULL, t, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0) {
		if ((pf & PF_OPTIONAL) && missing(errno)) {
			ret = 0;
			goto out;
		}
		/* The target is open: a missing path is the source of a bind mount (the one the user has to fix). */
		int err = errno;
		int bind_source = (flags & MS_BIND) && missing(err) && *source == '/' && !(pf & (PF_SOURCE_SLOT | PF_SOURCE_IN_ROOT));
		errno = err;
		fail(f, "mount", bind_source ? str(r, 0) : target);
		goto out;
	}
	if (remount && remount_bind(target, pf, remount, &tfd, f) < 0)
		goto out;
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return ret;
}

static int op_attach_tree(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	int slot = (int)num(r, 1, -1);
	const char *target = str(r, 0);
	if (slot < 0 || slot >= FD_SLOTS || slots[slot] < 0) {
		errno = EBADF;
		return fail(f, "move_mount", target);
	}
	int tfd = open_path(target, pf, O_PATH | O_DIRECTORY);
	if (tfd < 0)
		return fail(f, "open", target);
	int ret = (int)syscall(SYS_move_mount, slots[slot], "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	int err = errno;
	close(tfd);
	close(slots[slot]);
	slots[slot] = -1;
	errno = err;
	return ret < 0 ? fail(f, "move_mount", target) : 0;
}

static int op_mknod(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	const char *path = str(r, 0), *name;
	int dir = borrow_parent(path, pf, &name);
	if (dir < 0)
		return fail(f, "open", path);
	/* The mode asked for, not less: the caller's umask (022, from lxkit's) would leave /dev/null unwritable to users, as LXC's nodes are not. */
	mode_t mask = umask(0);
	int ret = mknodat(dir, name, (mode_t)num(r, 1, 0), makedev((unsigned)num(r, 2, 0), (unsigned)num(r, 3, 0)));
	int err = errno;
	umask(mask);
	if (ret < 0 && err != EEXIST)
		return fail(f, "mknod", path);
	return 0;
}

static int op_symlink(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	const char *text = str(r, 0), *path = str(r, 1), *name;
	int dir = borrow_parent(path, pf, &name);
	if (dir < 0)
		return fail(f, "open", path);
	int ret = symlinkat(text, dir, name);
	int err = errno;
	if (ret < 0 && err != EEXIST)
		return fail(f, "symlink", path);
	return 0;
}

static int op_write(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	const char *path = str(r, 0);
	int fd = open_path(path, pf, O_WRONLY | O_TRUNC);
	if (fd < 0 && errno == ENOENT && (pf & PF_CREATE_FILE)) {
		int c = create_file(path, pf, (mode_t)num(r, 1, 0644));
		if (c >= 0)
			close(c);
		fd = open_path(path, pf, O_WRONLY | O_TRUNC);
	}
	if (fd < 0) {
		if ((pf & PF_OPTIONAL) && missing(errno))
			return 0;
		return fail(f, "open", path);
	}
	int ret = write_all(fd, r->strs[1], r->lens[1]);
	int err = errno;
	close(fd);
	errno = err;
	return ret < 0 ? fail(f, "write", path) : 0;
}

/*
 * LXC's boot id of the container's own (lxc.autodev): a random id in
 * `file` (on the container's /dev), bound read-only over the kernel's
 * boot_id, so that what keys on it (systemd's journal) sees each start as a
 * boot. Made here, not by lxkit, so that a replayed launch plan gets a new
 * one too. Nothing to do when the container has no /proc.
 */
static int op_boot_id(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	const char *file = str(r, 0), *target = str(r, 1), *name;
	char fbuf[64], tbuf[64], text[40];
	unsigned char id[16];
	int tfd = open_path(target, pf, O_PATH);
	if (tfd < 0)
		return missing(errno) ? 0 : fail(f, "open", target);
	int ret = -1, fd = -1, ffd = -1;
	if (syscall(SYS_getrandom, id, sizeof(id), 0) != (long)sizeof(id)) {
		fail(f, "getrandom", NULL);
		goto out;
	}
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40); /* a version 4 (random) UUID, as LXC's */
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
	snprintf(text, sizeof(text), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", id[0], id[1], id[2], id[3], id[4],
		 id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
	int dir = borrow_parent(file, pf, &name);
	if (dir < 0) {
		fail(f, "open", file);
		goto out;
	}
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fchmod(fd, 0444) < 0) {
		fail(f, fd < 0 ? "open" : "write", file);
		goto out;
	}
	ffd = open_path(file, pf, O_PATH);
	if (ffd < 0 || mount(fdpath(ffd, fbuf, sizeof(fbuf)), fdpath(tfd, tbuf, sizeof(tbuf)), NULL, MS_BIND, NULL) < 0) {
		fail(f, ffd < 0 ? "open" : "mount", ffd < 0 ? file : target);
		goto out;
	}
	if (remount_bind(target, pf, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, &tfd, f) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ffd >= 0)
		close(ffd);
	if (tfd >= 0)
		close(tfd);
	return ret;
}

static int op_pivot(struct failure *f)
{
	timeline_mark("pivot");
	if (root_fd < 0) {
		errno = EBADF;
		return fail(f, "pivot_root", "(no root)");
	}
	/* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the container's. */
	if (fchdir(root_fd) < 0)
		return fail(f, "fchdir", "(root)");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(f, "pivot_root", ".");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(f, "umount2", "(old root)");
	if (chdir("/") < 0)
		return fail(f, "chdir", "/");
	/*
	 * The container's tree was made a slave of the host's, so nothing of it
	 * propagates out; shared again (new peer groups, as LXC's pivot leaves
	 * it), mounts inside propagate among its own binds and to namespaces
	 * made from it: nested containers, mount --make-rslave users.
	 */
	if (mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL) < 0)
		return fail(f, "mount", "/ (shared)");
	close(root_fd);
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root_fd < 0 ? fail(f, "open", "/") : 0;
}

/* argv and envp views into a record: strs[first..first+argc), then envc more. */
static char **vec(const struct record *r, uint32_t first, uint32_t n)
{
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		abort();
	for (uint32_t i = 0; i < n && first + i < r->nstrs; i++)
		v[i] = (char *)r->strs[first + i];
	return v;
}

static void reset_signals(void)
{
	sigset_t all;
	sigemptyset(&all);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* signal() refuses the C library's own. */
	signals_reset_internal();
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* execvpe with the PATH of the new environment (the container's), not ours. */
static void exec_in_path(char *const argv[], char *const envp[])
{
	const char *file = argv[0];
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char *const *e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	char candidate[4096];
	int err = ENOENT;
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		int n = snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)(end - p), p, file);
		if (n > 0 && (size_t)n < sizeof(candidate)) {
			execve(candidate, argv, envp);
			if (errno != ENOENT)
				err = errno;
		}
		p = *end ? end + 1 : end;
	}
	errno = err;
}

static int op_run(const struct record *r, struct failure *f)
{
	uint32_t argc = (uint32_t)num(r, 1, 0), envc = (uint32_t)num(r, 2, 0);
	if (argc == 0 || argc + envc > r->nstrs) {
		errno = EINVAL;
		return fail(f, "execve", "(hook)");
	}
	char **argv = vec(r, 0, argc), **envp = vec(r, argc, envc);
	int out[2], status;
	if (pipe2(out, O_CLOEXEC) < 0)
		return fail(f, "pipe2", argv[0]);
	pid_t pid = fork();
	if (pid < 0)
		return fail(f, "fork", argv[0]);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		reset_signals();
		exec_in_path(argv, envp);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	char chunk[4096];
	ssize_t n;
	while ((n = read(out[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (f->output.len < 65536)
			buf_put(&f->output, chunk, (size_t)n);
	}
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(f, "waitpid", argv[0]);
	const char *prog = argv[0];
	free(argv);
	free(envp);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* Not a system call failure: errno 0 tells JavaScript the program itself failed. */
	fail(f, "execve", prog);
	f->err = 0;
	if (WIFEXITED(status))
		snprintf(f->detail, sizeof(f->detail), "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(f->detail, sizeof(f->detail), "killed by signal %d", WTERMSIG(status));
	return -1;
}

/* Whether the init made a session of its own (prepare_exec), which its command then does too. */
static int own_session;
/* A daemon's init: its stdio is /dev/null (the host's until prepare_exec). */
static int stdio_null;

/*
 * The container's /dev/null on 0-2, as LXC gives a daemon's init the one it
 * opens once the container is set up: nothing of the host's /dev stays open
 * in the container. Where the container has no such node, the host's stays.
 */
static void container_null_stdio(void)
{
	struct stat st;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (null < 0)
		return;
	if (fstat(null, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		for (int i = 0; i < 3; i++)
			dup2(null, i);
	if (null > 2)
		close(null);
}

/* Sets the identity and stdio the program will run with. */
static int prepare_exec(const struct record *r, uint32_t argc, uint32_t envc, struct failure *f)
{
	int64_t uid = num(r, 4, -1), gid = num(r, 5, -1), slot = num(r, 6, -1), ngroups = num(r, 7, -1);
	const char *cwd = str(r, argc + envc);
	/*
	 * The init leads a session of its own and has no controlling terminal,
	 * as under LXC: what it starts on the console (busybox's askfirst shell,
	 * a getty) takes the console as its own controlling terminal, which it
	 * cannot while the init's session holds it — no job control, and ^C
	 * would go to the init. The one exception is lxkit's own terminal passed
	 * through as the init's stdio (no console pty): the init and its command
	 * stay in the caller's session and foreground group, a job of the shell
	 * that runs lxkit, with its job control and ^C. EPERM: this process
	 * leads a group already.
	 */
	if (slot >= 0 || !isatty(0)) {
		if (setsid() < 0 && errno != EPERM)
			return fail(f, "setsid", NULL);
		own_session = 1;
	}
	if (slot >= 0) {
		if (slot >= FD_SLOTS || slots[slot] < 0) {
			errno = EBADF;
			return fail(f, "dup2", "(console)");
		}
		int tty = slots[slot];
		for (int i = 0; i < 3; i++)
			if (dup2(tty, i) < 0)
				return fail(f, "dup2", "/dev/console");
	} else if (stdio_null) {
		container_null_stdio();
	}
	const char *what = NULL;
	if (pending_label && confine_label(pending_label, &what) < 0)
		return fail(f, what, "(lxc.apparmor.profile)");
	if (pending_filter) {
		int listener = -1;
		if (confine_seccomp(pending_filter, pending_filter_len, pending_notify ? &listener : NULL, &what) < 0)
			return fail(f, what, "(lxc.seccomp.profile)");
		if (listener >= 0) {
			int64_t ints[2] = { FD_SECCOMP_LISTENER, 0 };
			int sent = send_fd_record(sock, M_FD, ints, 2, listener);
			close(listener);
			if (sent < 0)
				return fail(f, "sendmsg", "(the seccomp listener, to the monitor)");
		}
	}
	if (ngroups >= 0) {
		gid_t groups[REC_MAX_INTS];
		int n = 0;
		for (int64_t i = 0; i < ngroups && 8 + i < (int64_t)r->nints; i++)
			groups[n++] = (gid_t)r->ints[8 + i];
		if (setgroups((size_t)n, groups) < 0 && !(n == 0 && errno == EPERM))
			return fail(f, "setgroups", NULL);
	}
	if (gid >= 0 && setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		return fail(f, "setresgid", NULL);
	if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return fail(f, "setresuid", NULL);
	rearm_pdeath();
	if (*cwd && chdir(cwd) < 0)
		return fail(f, "chdir", cwd);
	return 0;
}

/*
 * The masters of the ttys made in a batch go to the monitor together, before
 * the batch's answer or the init's exec: one message, and one wake-up of the
 * monitor, for all of them. Nothing reads a tty meanwhile (the monitor only
 * holds them); the console's master, which the monitor reads, goes at once.
 */
static int tty_masters[FDS_MAX];
static int64_t tty_ids[2 * FDS_MAX];
static int ntty_masters;

static int send_tty_masters(void)
{
	if (ntty_masters == 0)
		return 0;
	int ret = send_fds_record(sock, M_FD, tty_ids, 2 * (uint32_t)ntty_masters, tty_masters, ntty_masters);
	for (int i = 0; i < ntty_masters; i++)
		close(tty_masters[i]);
	ntty_masters = 0;
	return ret;
}

/*
 * The init runs on in this process, a copy of the monitor without an exec:
 * `ps` in the container would call its PID 1 lxkit-monitor, which runs
 * outside. Its name and its arguments (what /proc/1/cmdline reads, the
 * monitor's argument memory, long enough) say lxkit-init instead.
 */
static char *args;
static size_t args_len;

void child_args(char *area, size_t len)
{
	args = area;
	args_len = len;
}

static void retitle_init(void)
{
	static const char title[] = "lxkit-init";
	prctl(PR_SET_NAME, title, 0, 0, 0);
	if (args && args_len >= sizeof(title)) {
		memset(args, 0, args_len);
		memcpy(args, title, sizeof(title));
	}
}

/*
 * The small init of application containers: runs the command as its child,
 * forwards signals to it, reaps every zombie, and exits with the command's
 * status (128+N when a signal killed it), as lxc-init does.
 */
static void become_init(char **argv, char **envp, struct failure *f)
{
	int errpipe[2];
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		fail(f, "pipe2", argv[0]);
		return;
	}
	/*
	 * vfork: the command borrows this process's memory until its exec, instead
	 * of a copy of its page tables that the exec would throw away at once
	 * (~0.1 ms of a start); this process waits meanwhile. The command touches
	 * nothing else of ours: its stack frames are below this one, and signal
	 * dispositions are its own (no CLONE_SIGHAND). A seccomp policy that
	 * refuses vfork(2) with an errno gets the fork it allows instead.
	 */
	pid_t cmd = vfork();
	if (cmd < 0)
		cmd = fork();
	if (cmd < 0) {
		fail(f, "fork", argv[0]);
		return;
	}
	if (cmd == 0) {
		reset_signals();
		/*
		 * With the init in a session of its own, the command leads one too,
		 * with its stdin as controlling terminal when that is a terminal no
		 * other session holds (the console), as lxc-init starts it; either
		 * may fail, and neither stops the command.
		 */
		if (own_session) {
			(void)setsid();
			(void)ioctl(0, TIOCSCTTY, 0);
		}
		exec_in_path(argv, envp);
		int err = errno;
		(void)!write(errpipe[1], &err, sizeof(err));
		_exit(127);
	}
	close(errpipe[1]);
	int err = 0;
	ssize_t n;
	while ((n = read(errpipe[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(err)) {
		errno = err;
		fail(f, "execve", argv[0]);
		waitpid(cmd, NULL, 0);
		return;
	}
	/* The command runs; the timeline's file is the host's, not for the container to reach through its init. */
	timeline_mark("command-runs");
	timeline_close();
	/* Running: the monitor learns it from the closed socket. */
	close(sock);
	sock = -1;
	retitle_init();
	for (;;) {
		siginfo_t si;
		if (sigwaitinfo(&all, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(cmd, si.si_signo);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != cmd)
				continue;
			/* As pid 1 of the namespace, exiting takes every other process with it. */
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	}
}

static int op_exec(const struct record *r, struct failure *f)
{
	int mode = (int)num(r, 1, EXEC_REPLACE);
	uint32_t argc = (uint32_t)num(r, 2, 0), envc = (uint32_t)num(r, 3, 0);
	if (argc == 0 || argc + envc + 1 > r->nstrs) {
		errno = EINVAL;
		return fail(f, "execve", "(init)");
	}
	timeline_mark("exec");
	/* Before the exec closes the socket (and before the ids change, whatever they allow). */
	if (send_tty_masters() < 0)
		return fail(f, "sendmsg", "(monitor)");
	if (prepare_exec(r, argc, envc, f) < 0)
		return -1;
	char **argv = vec(r, 0, argc), **envp = vec(r, argc, envc);
	if (mode == EXEC_INIT) {
		become_init(argv, envp, f);
		return -1;
	}
	reset_signals();
	exec_in_path(argv, envp);
	return fail(f, "execve", argv[0]);
}

static int op_pty(const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0), kind = (int)num(r, 1, PTY_TTY), index = (int)num(r, 2, 0), slot = (int)num(r, 3, -1);
	int mode = (int)num(r, 4, -1);
	const char *ptmx = str(r, 0), *target = str(r, 1);
	char buf[64];
	int master = open_path(ptmx, pf, O_RDWR | O_NOCTTY);
	if (master < 0)
		return fail(f, "open", ptmx);
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		close(master);
		return fail(f, "ioctl(TIOCSPTLCK)", ptmx);
	}
	/* The peer of the master, opened without a path lookup that could be raced; a tty that gets no file and no slot needs none. */
	int keep = slot >= 0 && slot < FD_SLOTS;
	int slave = *target || keep ? ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (slave < 0 && (*target || keep)) {
		close(master);
		return fail(f, "ioctl(TIOCGPTPEER)", ptmx);
	}
	if (mode >= 0 && slave >= 0 && fchmod(slave, (mode_t)mode) < 0) {
		int err = errno;
		close(master);
		close(slave);
		errno = err;
		return fail(f, "fchmod", *target ? target : ptmx);
	}
	if (*target) {
		char tb[64];
		int t = create_file(target, pf, 0600);
		if (t < 0 || mount(fdpath(slave, buf, sizeof(buf)), fdpath(t, tb, sizeof(tb)), NULL, MS_BIND, NULL) < 0) {
			int err = errno;
			if (t >= 0)
				close(t);
			close(master);
			close(slave);
			errno = err;
			return fail(f, t < 0 ? "open" : "mount", target);
		}
		close(t);
	}
	if (kind == PTY_TTY && (ntty_masters < FDS_MAX || send_tty_masters() == 0)) {
		tty_ids[2 * ntty_masters] = kind;
		tty_ids[2 * ntty_masters + 1] = index;
		tty_masters[ntty_masters++] = master;
	} else {
		int64_t ints[2] = { kind, index };
		int sent = send_fd_record(sock, M_FD, ints, 2, master);
		close(master);
		if (sent < 0) {
			if (slave >= 0)
				close(slave);
			return fail(f, "sendmsg", "(monitor)");
		}
	}
	if (keep) {
		if (slots[slot] >= 0)
			close(slots[slot]);
		slots[slot] = slave;
	} else if (slave >= 0) {
		close(slave);
	}
	return 0;
}

static int op_become_root(struct failure *f)
{
	if (setresgid(0, 0, 0) < 0)
		return fail(f, "setresgid", NULL);
	if (setresuid(0, 0, 0) < 0)
		return fail(f, "setresuid", NULL);
	/* Only allowed when the gid map was written with setgroups allowed (root-written maps). */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return fail(f, "setgroups", NULL);
	rearm_pdeath();
	return 0;
}

static int op_loopback_up(struct failure *f)
{
	const char *failed;
	return netns_loopback_up(&failed) < 0 ? fail(f, failed, "lo") : 0;
}

/* The container's network devices, configured from inside its network namespace (LXC does the same in its child). */
static int nlfd = -1;

static int net_failure(struct failure *f, const char *what, const char *ifname, const char *why)
{
	fail(f, "netlink", ifname);
	snprintf(f->detail, sizeof(f->detail), "%s%s%s", what, why[0] ? ": " : "", why);
	return -1;
}

/* The device `ifname` (strs[0]) of a net op, and the socket to change it with. */
static int net_device(const struct record *r, struct failure *f)
{
	if (nlfd < 0 && (nlfd = nl_open()) < 0)
		return fail(f, "socket", "NETLINK_ROUTE");
	int ifindex = (int)if_nametoindex(str(r, 0));
	if (ifindex == 0)
		return fail(f, "if_nametoindex", str(r, 0));
	return ifindex;
}

static const uint8_t *raw(const struct record *r, uint32_t i, uint32_t want)
{
	return i < r->nstrs && r->lens[i] == want ? (const uint8_t *)r->strs[i] : NULL;
}

static int op_net_link(const struct record *r, struct failure *f)
{
	char why[NL_WHY];
	int ifindex = net_device(r, f);
	if (ifindex < 0)
		return -1;
	struct nl_link change = {
		.name = str(r, 1)[0] ? str(r, 1) : NULL,
		.hwaddr = raw(r, 2, 6),
		.mtu = (uint32_t)num(r, 1, 0),
		.up = (int)num(r, 2, 0),
		.netns_fd = -1,
	};
	return nl_link_set(nlfd, ifindex, &change, why) < 0 ? net_failure(f, "changing the device", str(r, 0), why) : 0;
}

static int op_net_addr(const struct record *r, struct failure *f)
{
	char why[NL_WHY];
	int ifindex = net_device(r, f);
	if (ifindex < 0)
		return -1;
	int family = num(r, 1, 4) == 6 ? AF_INET6 : AF_INET;
	const uint8_t *addr = raw(r, 1, family == AF_INET ? 4 : 16);
	if (!addr) {
		errno = EINVAL;
		return fail(f, "netlink", str(r, 0));
	}
	if (nl_addr_add(nlfd, ifindex, family, addr, (int)num(r, 2, 0), raw(r, 2, 4), why) < 0)
		return net_failure(f, "adding an address", str(r, 0), why);
	return 0;
}

static int op_net_route(const struct record *r, struct failure *f)
{
	char why[NL_WHY];
	int ifindex = net_device(r, f);
	if (ifindex < 0)
		return -1;
	int family = num(r, 1, 4) == 6 ? AF_INET6 : AF_INET;
	uint32_t len = family == AF_INET ? 4 : 16;
	const uint8_t *gw = raw(r, 1, len), *dst = raw(r, 2, len);
	int prefix = (int)num(r, 2, 0);
	if (nl_route_add(nlfd, ifindex, family, dst, prefix, gw, why) == 0)
		return 0;
	/*
	 * A gateway outside every subnet of the device is reached on the link
	 * itself, as LXC does: a host route to it first, then the route again.
	 */
	if (errno == ENETUNREACH && gw && nl_route_add(nlfd, ifindex, family, gw, (int)len * 8, NULL, why) == 0 &&
	    nl_route_add(nlfd, ifindex, family, dst, prefix, gw, why) == 0)
		return 0;
	return net_failure(f, gw ? "adding the route through the gateway" : "adding the route", str(r, 0), why);
}

static int run_op(uint16_t code, const struct record *r, struct failure *f)
{
	int pf = (int)num(r, 0, 0);
	/* Directories, devices and symlinks made one after the other share their parent's fd; any other op may move a path. */
	if (code != OP_MKNOD && code != OP_SYMLINK && !(code == OP_MKDIR && !(pf & PF_PARENTS)))
		resolve_forget();
	errno = 0;
	switch (code) {
	case OP_MAKE_RSLAVE:
		return mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ? fail(f, "mount", "/") : 0;
	case OP_SET_ROOT: {
		int fd = open(str(r, 0), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return fail(f, "open", str(r, 0));
		if (root_fd >= 0)
			close(root_fd);
		root_fd = fd;
		return 0;
	}
	case OP_MOUNT:
		return op_mount(r, f);
	case OP_ATTACH_TREE:
		return op_attach_tree(r, f);
	case OP_MKDIR:
		if (pf & PF_PARENTS)
			return mkdir_p(str(r, 0), pf, (mode_t)num(r, 1, 0755)) < 0 ? fail(f, "mkdir", str(r, 0)) : 0;
		else {
			const char *name;
			int dir = borrow_parent(str(r, 0), pf, &name);
			if (dir < 0)
				return fail(f, "open", str(r, 0));
			int ret = mkdirat(dir, name, (mode_t)num(r, 1, 0755));
			return ret < 0 && errno != EEXIST ? fail(f, "mkdir", str(r, 0)) : 0;
		}
	case OP_MKNOD:
		return op_mknod(r, f);
	case OP_SYMLINK:
		return op_symlink(r, f);
	case OP_WRITE:
		return op_write(r, f);
	case OP_PIVOT:
		return op_pivot(f);
	case OP_SETHOSTNAME:
		return sethostname(str(r, 0), r->nstrs ? r->lens[0] : 0) < 0 ? fail(f, "sethostname", str(r, 0)) : 0;
	case OP_RUN:
		return op_run(r, f);
	case OP_EXEC:
		return op_exec(r, f);
	case OP_NO_NEW_PRIVS:
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? fail(f, "prctl", "PR_SET_NO_NEW_PRIVS") : 0;
	case OP_PERSONALITY:
		return personality((unsigned long)num(r, 1, 0)) < 0 ? fail(f, "personality", NULL) : 0;
	case OP_SCHED_CORE:
		/* PR_SCHED_CORE_CREATE for this thread group: EINVAL is a kernel without CONFIG_SCHED_CORE. */
		if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, PR_SCHED_CORE_SCOPE_THREAD_GROUP, 0) < 0)
			return fail(f, "prctl", errno == EINVAL ? "PR_SCHED_CORE (this kernel has no core scheduling)" : "PR_SCHED_CORE");
		return 0;
	case OP_SESSION_KEYRING:
		/* KEYCTL_JOIN_SESSION_KEYRING with no name: a new keyring of the container's own. */
		if (syscall(SYS_keyctl, 1, NULL) < 0 && errno != ENOSYS && errno != EACCES && errno != EPERM)
			return fail(f, "keyctl", "KEYCTL_JOIN_SESSION_KEYRING");
		return 0;
	case OP_PRLIMIT: {
		struct rlimit rl = {
			.rlim_cur = num(r, 2, -1) < 0 ? RLIM_INFINITY : (rlim_t)num(r, 2, 0),
			.rlim_max = num(r, 3, -1) < 0 ? RLIM_INFINITY : (rlim_t)num(r, 3, 0),
		};
		return setrlimit((int)num(r, 1, 0), &rl) < 0 ? fail(f, "setrlimit", NULL) : 0;
	}
	case OP_UMOUNT: {
		int fd = open_path(str(r, 0), pf, O_PATH);
		char b[64];
		if (fd < 0)
			return (pf & PF_OPTIONAL) && missing(errno) ? 0 : fail(f, "open", str(r, 0));
		int ret = umount2(fdpath(fd, b, sizeof(b)), (int)num(r, 1, 0));
		int err = errno;
		close(fd);
		errno = err;
		return ret < 0 ? fail(f, "umount2", str(r, 0)) : 0;
	}
	case OP_PTY:
		return op_pty(r, f);
	case OP_BECOME_ROOT:
		return op_become_root(f);
	case OP_SETNS: {
		int fd = open(str(r, 0), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(f, "open", str(r, 0));
		int ret = setns(fd, (int)num(r, 1, 0));
		int err = errno;
		close(fd);
		errno = err;
		return ret < 0 ? fail(f, "setns", str(r, 0)) : 0;
	}
	case OP_LOOPBACK_UP:
		return op_loopback_up(f);
	case OP_NET_LINK:
		return op_net_link(r, f);
	case OP_NET_ADDR:
		return op_net_addr(r, f);
	case OP_NET_ROUTE:
		return op_net_route(r, f);
	case OP_UNSHARE:
		return unshare((int)num(r, 1, 0)) < 0 ? fail(f, "unshare", NULL) : 0;
	case OP_CHOWN: {
		int fd = open_path(str(r, 0), pf, O_PATH);
		if (fd < 0)
			return fail(f, "open", str(r, 0));
		int ret = fchownat(fd, "", (uid_t)num(r, 1, -1), (gid_t)num(r, 2, -1), AT_EMPTY_PATH);
		int err = errno;
		close(fd);
		errno = err;
		return ret < 0 ? fail(f, "chown", str(r, 0)) : 0;
	}
	case OP_CAPS: {
		const char *what = NULL;
		return confine_caps((uint64_t)num(r, 1, -1), (uint64_t)num(r, 2, 0), (uint64_t)num(r, 3, 0), &what) < 0 ? fail(f, what, NULL) : 0;
	}
	case OP_LSM_LABEL:
		return keep_copy(r, (void **)&pending_label, NULL) < 0 ? fail(f, "malloc", NULL) : 0;
	case OP_BOOT_ID:
		return op_boot_id(r, f);
	case OP_SECCOMP:
		pending_notify = num(r, 1, 0) != 0;
		return keep_copy(r, &pending_filter, &pending_filter_len) < 0 ? fail(f, "malloc", NULL) : 0;
	default:
		errno = EOPNOTSUPP;
		return fail(f, "op", "(unknown op)");
	}
}

static void reply(const struct failure *f, int ok, uint32_t index, uint32_t done)
{
	(void)send_tty_masters();
	struct buf b;
	int64_t ints[4] = { ok, index, ok ? 0 : f->err, done };
	const char *strs[4] = { f->syscall ? f->syscall : "", f->path ? f->path : "", f->detail, "" };
	uint32_t lens[4] = { (uint32_t)strlen(strs[0]), (uint32_t)strlen(strs[1]), (uint32_t)strlen(strs[2]),
			     (uint32_t)f->output.len };
	strs[3] = f->output.len ? (const char *)f->output.data : "";
	frame_begin(&b, M_RESULT);
	rec_put(&b, ints, 4, strs, lens, 4);
	frame_end(&b);
	(void)!write_all(sock, b.data, b.len);
	buf_free(&b);
}

static void run_batch(const uint8_t *p, size_t n)
{
	/* Between batches lxkit's host-side taps may have changed the container's mounts. */
	resolve_forget();
	timeline_mark("batch");
	struct failure f = { 0 };
	buf_init(&f.output);
	if (n < 4) {
		errno = EPROTO;
		fail(&f, "batch", NULL);
		reply(&f, 0, 0, 0);
		return;
	}
	uint32_t nops = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	size_t at = 4;
	struct record *r = malloc(sizeof(*r));
	if (!r)
		abort();
	for (uint32_t i = 0; i < nops; i++) {
		if (n - at < 4) {
			errno = EPROTO;
			fail(&f, "batch", NULL);
			reply(&f, 0, i, i);
			free(r);
			return;
		}
		uint16_t code = (uint16_t)(p[at] | p[at + 1] << 8);
		at += 4;
		long used = rec_get(p + at, n - at, r);
		if (used < 0) {
			errno = EPROTO;
			fail(&f, "batch", NULL);
			reply(&f, 0, i, i);
			free(r);
			return;
		}
		at += (size_t)used;
		if (run_op(code, r, &f) < 0) {
			reply(&f, 0, i, i);
			free(r);
			buf_free(&f.output);
			return;
		}
	}
	reply(&f, 1, nops, nops);
	free(r);
	buf_free(&f.output);
}

void child_main(int sockfd, const int *join_fds, const int *join_types, int njoin, int pdeath, int null_stdio)
{
	sock = sockfd;
	stdio_null = null_stdio;
	for (int i = 0; i < FD_SLOTS; i++)
		slots[i] = -1;
	/* Dies with the monitor, as LXC's lxc.monitor.signal.pdeath. */
	pdeath_signal = pdeath;
	rearm_pdeath();
	/* Namespaces to share (lxc.namespace.share.*), the user namespace first. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < njoin; i++) {
			if ((join_types[i] == CLONE_NEWUSER) != (pass == 0))
				continue;
			if (setns(join_fds[i], join_types[i]) < 0) {
				struct failure f = { 0 };
				buf_init(&f.output);
				fail(&f, "setns", "(lxc.namespace.share)");
				reply(&f, 0, 0, 0);
				_exit(1);
			}
			close(join_fds[i]);
		}
	}
	for (;;) {
		uint16_t type;
		uint8_t *payload = NULL;
		int fd = -1;
		long n = recv_frame(sock, &type, &payload, &fd);
		if (n < 0 || (n == 0 && !payload))
			_exit(1); /* the monitor is gone */
		if (type == M_BATCH) {
			run_batch(payload, (size_t)n);
		} else if (type == M_FD) {
			struct record r;
			if (rec_get(payload, (size_t)n, &r) > 0 && r.nints >= 1 && r.ints[0] >= 0 && r.ints[0] < FD_SLOTS && fd >= 0) {
				if (slots[r.ints[0]] >= 0)
					close(slots[r.ints[0]]);
				slots[r.ints[0]] = fd;
				fd = -1;
			}
		}
		if (fd >= 0)
			close(fd);
		free(payload);
	}
}
