/*
 * A container restored from a checkpoint (M_RESTORE) instead of cloned: the
 * monitor runs the restorer lxkit names (criu restore, with --restore-sibling
 * and --restore-detached) as its own child. The restored init is made a
 * sibling of the restorer, so it is the monitor's child as a cloned init
 * would be: the monitor reaps it, holds its namespaces and serves its
 * command socket the same way from then on. The restorer's output comes
 * back in the answer when it fails, with what the restorer's log says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"
#include "../common/timeline.h"

#define OUTPUT_MAX 4096

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
void do_restore(const struct record *r)
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
		/* Nothing of the monitor's for the restorer, nor for the tree it restores. */
		syscall(SYS_close_range, 3, ~0U, 0);
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
