/*
 * lxkit-front: the `lxkit` command without Node when it can be.
 *
 * `lxkit execute`, `start`, `stop` and `attach` spend most of their time
 * starting Node and running lxkit's JavaScript for the first time in the
 * process, not on the container. This program replays such a command from a
 * launch plan that an earlier run of the same command (same arguments,
 * working directory, environment and credentials) recorded — every file it
 * consulted, every directory and file it wrote, the lock, the monitor's (or
 * lxkit-attach's) spawn and the frames sent to it — once every input is
 * checked to be as it was, and then carries the command on by itself from
 * the plan's hand-over (front.h enum plan_tail). Anything else, and any
 * difference found on the way, runs the Node CLI (core/bin/lxkit.cjs), with
 * LXKIT_PLAN_RECORD when it may record a plan. See docs/launch-plans.md.
 *
 * Environment: LXKIT_NO_PLAN=1 always runs Node (and records nothing);
 * LXKIT_PLAN_DEBUG=1 says on stderr why a plan was not used; LXKIT_NODE
 * names the node binary (default: `node` on PATH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/proto.h"
#include "front.h"


/* The commands that have plans: what the recorder knows how to hand over (P_TAIL). */
static const char *const REPLAYED[] = { "execute", "start", "stop", "attach", NULL };

static int debug;

/* $XDG_CACHE_HOME/lxkit/plans or ~/.cache/lxkit/plans, as core/bin/lxkit.cjs places its caches. */
static int plans_dir(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n = xdg && *xdg ? snprintf(out, cap, "%s/lxkit/plans", xdg) : home && *home ? snprintf(out, cap, "%s/.cache/lxkit/plans", home) : -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* A plan is code run as its user: its directory and file must be the user's, writable by nobody else. */
static int trusted(const struct stat *st, int dir)
{
	return (dir ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode)) && st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

/* The plan's file for this command: named by a hash of the user, working directory and arguments. */
static int plan_path(int argc, char **argv, char *out, size_t cap)
{
	char dir[PATH_MAX - 32], cwd[PATH_MAX];
	if (plans_dir(dir, sizeof(dir)) < 0 || !getcwd(cwd, sizeof(cwd)))
		return -1;
	uint64_t h = 0xcbf29ce484222325ULL;
	char uid[24];
	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	const char *parts[2] = { uid, cwd };
	for (int i = 0; i < 2 + argc - 1; i++) {
		const char *s = i < 2 ? parts[i] : argv[i - 1];
		for (const unsigned char *p = (const unsigned char *)s; ; p++) {
			h = (h ^ *p) * 0x100000001b3ULL;
			if (!*p)
				break;
		}
	}
	snprintf(out, cap, "%s/%016llx.plan", dir, (unsigned long long)h);
	return 0;
}

static uint8_t *load_plan(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st, dst;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	uint8_t *data = NULL;
	if (fstat(fd, &st) == 0 && trusted(&st, 0) && st.st_size > 0 && st.st_size < FRAME_MAX && lstat(dirname(dir), &dst) == 0 && trusted(&dst, 1)) {
		data = malloc((size_t)st.st_size);
		if (data && read(fd, data, (size_t)st.st_size) != st.st_size) {
			free(data);
			data = NULL;
		}
		*len = (size_t)st.st_size;
	}
	close(fd);
	return data;
}

/* The Node CLI, beside this program: <root>/native/build/Release/lxkit-front -> <root>/core/bin/lxkit.cjs. */
static void run_node(char **argv, const char *record)
{
	char exe[PATH_MAX], script[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		fprintf(stderr, "lxkit: cannot find the lxkit front's own path: %s\n", strerror(errno));
		exit(127);
	}
	exe[n] = 0;
	char *root = dirname(dirname(dirname(dirname(exe))));
	snprintf(script, sizeof(script), "%s/core/bin/lxkit.cjs", root);
	if (record) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", record);
		char *d = dirname(dir);
		/* Made for the recorder, which writes into an existing directory only. */
		struct stat st;
		if (make_parents(d, 0700) == 0 && lstat(d, &st) == 0 && trusted(&st, 1))
			setenv("LXKIT_PLAN_RECORD", record, 1);
	}
	const char *node = getenv("LXKIT_NODE");
	int argc = 0;
	while (argv[argc])
		argc++;
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	args[0] = (char *)(node && *node ? node : "node");
	args[1] = script;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	execvp(args[0], args);
	fprintf(stderr, "lxkit: cannot run %s: %s\n", args[0], strerror(errno));
	exit(127);
}

static int quiet(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			return 1;
	return 0;
}

/*
 * After the hand-over, as core/src/start/run.ts runContainer does for an
 * application container: SIGINT, SIGTERM and SIGHUP go to the container
 * (its small init passes them on), the init's exit and the monitor's end of
 * the container are waited for, and the init's status is the exit status.
 */
static int foreground(struct replay *r, const char *container, int silent)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { r->control, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && !r->exited) {
				int64_t sig = si.ssi_signo;
				send_record(r->control, M_KILL, &sig, 1, NULL, 0);
			}
			continue;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		uint16_t type;
		uint8_t *payload;
		struct record got;
		int decoded = record_read(r->control, &type, &payload, &got);
		if (decoded < 0)
			break;
		if (decoded && type == M_LOG && got.nints > 0 && got.ints[0] >= 5 && got.nstrs > 0 && !silent) {
			fprintf(stderr, "lxkit: %s: %s\n", container, got.strs[0]);
		} else if (decoded && type == M_EXITED && !r->exited) {
			note_exit(r, &got);
		} else if (decoded && type == M_RESULT && r->exited && r->ending) {
			if (!(got.nints > 0 && got.ints[0] == 1) && !silent)
				fprintf(stderr, "lxkit: %s: ending the container: %s\n", container, got.nstrs > 2 && *got.strs[2] ? got.strs[2] : "failed");
			free(payload);
			close(r->control);
			/* The monitor exits once the container's namespaces are let go, just after STOPPED: reaped here, not left to init. */
			while (r->monitor > 0 && waitpid(r->monitor, NULL, 0) < 0 && errno == EINTR)
				;
			return (int)r->exit_code;
		}
		free(payload);
	}
	if (!silent)
		fprintf(stderr, "lxkit: %s: the monitor of container \"%s\" exited unexpectedly\n", container, container);
	return r->exited ? (int)r->exit_code : 1;
}

/*
 * After the hand-over to a terminal helper, as core/src/command/helper-session.ts
 * does: the terminal's ^C and ^\ are the program's in the container; the
 * helper's exit status is the command's. A failure it reports (M_RESULT)
 * comes before its work starts: FRONT_TO_NODE, the Node CLI says what it is.
 */
static int helper(struct replay *r)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int failed = 0;
	for (;;) {
		uint16_t type;
		uint8_t *payload;
		struct record got;
		int decoded = record_read(r->control, &type, &payload, &got);
		if (decoded < 0)
			break;
		if (decoded && type == M_RESULT && got.nints > 0 && got.ints[0] == 0)
			failed = 1;
		free(payload);
	}
	close(r->control);
	int status = 0;
	while (waitpid(r->monitor, &status, 0) < 0 && errno == EINTR)
		;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (failed)
		return FRONT_TO_NODE;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	debug = getenv("LXKIT_PLAN_DEBUG") && !strcmp(getenv("LXKIT_PLAN_DEBUG"), "1");
	int replayed = 0;
	for (const char *const *c = REPLAYED; *c && argc > 1; c++)
		replayed |= !strcmp(argv[1], *c);
	const char *off = getenv("LXKIT_NO_PLAN");
	char path[PATH_MAX];
	if (!replayed || (off && !strcmp(off, "1")) || plan_path(argc, argv, path, sizeof(path)) < 0)
		run_node(argv, NULL);
	size_t len = 0;
	uint8_t *data = load_plan(path, &len);
	if (!data) {
		if (debug)
			fprintf(stderr, "lxkit: no launch plan yet (%s)\n", path);
		run_node(argv, path);
	}
	struct replay r = { .argc = argc - 1, .argv = argv + 1, .lock = -1, .control = -1, .monitor = -1 };
	/* A write to a monitor that has left is EPIPE, not death (as in Node); restored before any exec. */
	signal(SIGPIPE, SIG_IGN);
	int tail = 0;
	int failed = replay(&r, data, len, &tail) < 0 || tail < TAIL_FOREGROUND || tail > TAIL_HELPER;
	/* Once the init runs, the command is under way: whatever is left of the plan, its end is waited for, never a second run. */
	if (failed && !r.running) {
		if (debug)
			fprintf(stderr, "lxkit: launch plan not used: %s\n", r.why ? r.why : "an unknown hand-over");
		undo(&r);
		signal(SIGPIPE, SIG_DFL);
		run_node(argv, path);
	}
	if (failed)
		tail = plan_tail(data, len, &r.container);
	if (failed && tail == TAIL_DAEMON) {
		/* The monitor did not take the container over: it ends with its controller (as when lxkit dies at that point). */
		fprintf(stderr, "lxkit-start: %s: the container could not be left to its monitor: %s\n", r.container, r.why ? r.why : "");
		undo(&r);
		return 1;
	}
	if (!failed && tail == TAIL_DAEMON) {
		/* The monitor holds its own copy of the lock, and goes on without its controller (control.c control_lost()). */
		close(r.control);
		close(r.lock);
		return 0;
	}
	if (!failed && (tail == TAIL_STOP || tail == TAIL_HELPER)) {
		int status = tail == TAIL_STOP ? front_stop(&r.stop) : helper(&r);
		if (status == FRONT_TO_NODE) {
			if (debug)
				fprintf(stderr, "lxkit: the command is left to the Node CLI (container \"%s\" not running, or not as the plan expects)\n", r.container);
			signal(SIGPIPE, SIG_DFL);
			run_node(argv, NULL);
		}
		return status;
	}
	return foreground(&r, r.container ? r.container : "", quiet(argc, argv));
}
