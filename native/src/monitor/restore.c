/*
 * A container restored from a checkpoint (M_RESTORE) instead of cloned: the
 * monitor runs the restorer lxkit names (criu restore, with --restore-sibling
 * and --restore-detached) as its own child. The restored init is made a
 * sibling of the restorer, so it is the monitor's child as a cloned init
 * would be: the monitor reaps it, holds its namespaces and serves its
 * command socket the same way from then on. The restorer's output comes
 * back in the answer when it fails, with what the restorer's log says.
 *
 * A checkpointed console and ttys were ptys of the container's own devpts,
 * whose masters the monitor held: no restorer can make those again. Before
 * the restore (M_PTYS) the monitor opens ptys of its own /dev/ptmx in their
 * place, as LXC's restore does: it keeps their masters as a start's (the
 * console drained and logged, the ttys lent to lxkit console), and the
 * restorer gets their slaves at fds 3, 4, ... (criu --inherit-fd) and their
 * paths to bind on /dev/console and /dev/ttyN (criu --ext-mount-map).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"
#include "ops.h"
#include "../common/timeline.h"

#define OUTPUT_MAX 4096

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define RESTORE_PTYS_MAX 65 /* the console and 64 ttys (M.ttys) */
/* The slaves of M_PTYS's ptys, for the restorer's fds 3, 4, ...: closed once it ran. */
static int slaves[RESTORE_PTYS_MAX];
static int nslaves;

static void close_slaves(void)
{
	for (int i = 0; i < nslaves; i++)
		close(slaves[i]);
	nslaves = 0;
}

/* ints: (kind, index) per pty. Answers M_PTYS_OPENED with the slaves' paths. */
void do_restore_ptys(const struct record *r)
{
	uint32_t n = r->nints / 2;
	int masters[RESTORE_PTYS_MAX];
	char paths[RESTORE_PTYS_MAX][64];
	const char *strs[RESTORE_PTYS_MAX];
	close_slaves();
	if (n > RESTORE_PTYS_MAX || M.console >= 0 || M.nttys > 0) {
		send_result_errno(n > RESTORE_PTYS_MAX ? E2BIG : EBUSY, "open", "/dev/ptmx");
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t kind = r->ints[2 * i], index = r->ints[2 * i + 1];
		if (kind != PTY_CONSOLE && (kind != PTY_TTY || index < 1 || index > (int64_t)(sizeof(M.ttys) / sizeof(M.ttys[0])))) {
			for (int j = 0; j < nslaves; j++)
				close(masters[j]);
			close_slaves();
			send_result_errno(EINVAL, "open", "/dev/ptmx");
			return;
		}
		const char *failed = "open";
		int unlock = 0, master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), slave = -1;
		if (master >= 0 && (failed = "ioctl(TIOCSPTLCK)", ioctl(master, TIOCSPTLCK, &unlock) == 0) &&
		    (failed = "ioctl(TIOCGPTPEER)", (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0)) {
			/* The slave's path as this mount namespace names it: where the restorer binds it from. */
			char link[64];
			snprintf(link, sizeof(link), "/proc/self/fd/%d", slave);
			ssize_t len = readlink(link, paths[i], sizeof(paths[i]) - 1);
			if (len > 0) {
				paths[i][len] = '\0';
				masters[nslaves] = master;
				slaves[nslaves++] = slave;
				strs[i] = paths[i];
				continue;
			}
			failed = "readlink";
		}
		int err = errno;
		if (slave >= 0)
			close(slave);
		if (master >= 0)
			close(master);
		for (int j = 0; j < nslaves; j++)
			close(masters[j]);
		close_slaves();
		send_result_errno(err, failed, "/dev/ptmx");
		return;
	}
	/* All open: the masters are the container's from now on, as a start's op_pty hands them over. */
	for (uint32_t i = 0; i < n; i++) {
		if (r->ints[2 * i] == PTY_CONSOLE) {
			console_take(masters[i]);
			continue;
		}
		int at = (int)r->ints[2 * i + 1] - 1;
		for (; M.nttys < at; M.nttys++)
			M.ttys[M.nttys] = -1;
		if (at < M.nttys && M.ttys[at] >= 0)
			close(M.ttys[at]);
		M.ttys[at] = masters[i];
		if (at >= M.nttys)
			M.nttys = at + 1;
	}
	(void)!send_record(M.control, M_PTYS_OPENED, NULL, 0, strs, n);
}

/*
 * The restorer's stdout and stderr: the last OUTPUT_MAX - 1 bytes (the end
 * is what says why it failed), moved once per read rather than per byte.
 */
static size_t read_output(int fd, char *out)
{
	const size_t cap = OUTPUT_MAX - 1;
	size_t len = 0;
	char buf[1024];
	_Static_assert(sizeof(buf) < OUTPUT_MAX, "a read fits in the kept output");
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + (size_t)n > cap) {
			size_t drop = len + (size_t)n - cap;
			memmove(out, out + drop, len - drop);
			len -= drop;
		}
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	out[len] = '\0';
	return len;
}

/* The parent of `pid` as /proc says, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	stat[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything but ends at the last ')'. */
	char *end = strrchr(stat, ')');
	int ppid = -1;
	return end && sscanf(end + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

static void fail(int err, const char *syscall, const char *path, const char *detail, const char *output)
{
	int64_t ints[4] = { 0, 0, err, 0 };
	const char *strs[4] = { syscall, path ? path : "", detail ? detail : "", output ? output : "" };
	if (M.control >= 0)
		(void)!send_record(M.control, M_RESULT, ints, 4, strs, 4);
}

/* ints: the restored namespaces' CLONE_NEW* flags; strs: the file the restorer writes the init's pid to, then its argv. */
static void run_restorer(const struct record *r)
{
	timeline_mark("restore");
	if (M.serve_failed) {
		send_result_errno(ECANCELED, "execve", "(the container's command socket could not be served)");
		return;
	}
	if (r->nstrs < 2) {
		send_result_errno(EINVAL, "execve", "(no restorer)");
		return;
	}
	const char *pidfile = r->strs[0];
	uint64_t flags = (uint64_t)(r->nints > 0 ? r->ints[0] : 0);
	char **argv = calloc(r->nstrs, sizeof(char *));
	if (!argv) {
		send_result_errno(ENOMEM, "calloc", NULL);
		return;
	}
	for (uint32_t i = 1; i < r->nstrs; i++)
		argv[i - 1] = (char *)r->strs[i];
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		free(argv);
		send_result_errno(errno, "pipe2", NULL);
		return;
	}
	unlink(pidfile);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		/* The ptys' slaves at 3, 4, ... (moved above that range first, so that none is overwritten before it moves). */
		int high[RESTORE_PTYS_MAX];
		for (int i = 0; i < nslaves; i++)
			if ((high[i] = fcntl(slaves[i], F_DUPFD_CLOEXEC, 3 + nslaves)) < 0)
				_exit(127);
		for (int i = 0; i < nslaves; i++)
			if (dup2(high[i], 3 + i) < 0)
				_exit(127);
		/* Nothing else of the monitor's for the restorer, nor for the tree it restores. */
		syscall(SYS_close_range, 3 + nslaves, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int err = errno;
	close(out[1]);
	free(argv);
	if (pid < 0) {
		close(out[0]);
		send_result_errno(err, "fork", NULL);
		return;
	}
	char output[OUTPUT_MAX];
	read_output(out[0], output);
	close(out[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	timeline_mark("restored");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char detail[128];
		if (WIFEXITED(status))
			snprintf(detail, sizeof(detail), "%s exited with status %d", r->strs[1], WEXITSTATUS(status));
		else
			snprintf(detail, sizeof(detail), "%s was killed by signal %d", r->strs[1], WTERMSIG(status));
		fail(0, "execve", r->strs[1], detail, output);
		return;
	}
	char text[32] = "";
	int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	pid_t init = n > 0 ? (pid_t)strtol(text, NULL, 10) : 0;
	if (init <= 0) {
		fail(n < 0 ? errno : EINVAL, "read", pidfile, "the restorer wrote no pid", output);
		return;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
	if (pidfd < 0) {
		fail(errno, "pidfd_open", pidfile, "the restored init is gone", output);
		return;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	/* Only a child can be reaped: the restorer must have made it the monitor's (--restore-sibling). */
	if (parent_of(init) != getpid()) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
		fail(ECHILD, "waitid", pidfile, "the restored init is not the monitor's child (the restorer must restore it as its sibling)", output);
		return;
	}
	adopt_restored(init, pidfd, flags);
}

void do_restore(const struct record *r)
{
	run_restorer(r);
	/* The restored processes hold their own; a failed restore leaves the masters to the monitor's end. */
	close_slaves();
}
