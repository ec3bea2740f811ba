/*
 * lxkit-monitor: the container's parent (LXC's "[lxc monitor]").
 *
 * Node is multi-threaded and must never enter a namespace, so this small
 * single-threaded program does: it clones the container's first process into
 * new namespaces (clone3), forwards the op batches JavaScript sends to it,
 * holds the container's namespace references and pty masters, proxies or
 * drains the console, serves the container's command socket, reaps the init
 * and reports its exit. In daemon mode it stays alone with the container and
 * starts lxkit's stop work when the init exits.
 *
 * fd 3: the control socket to JavaScript (frames of common/proto.h);
 * fd 4: optional, the container's lock, held for as long as this runs.
 *
 * The parts: control.c (the controller), console.c, command.c; see monitor.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "monitor.h"
#include "netns.h"
#include "../common/signals.h"
#include "../common/timeline.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * The monitor makes its own cgroups once the container runs and nothing has
 * needed it for SETTLE_IDLE_MS (what a start, or a command right after it,
 * does first), and at the latest SETTLE_LATEST_MS after that (a container
 * busy on its console).
 */
#define SETTLE_IDLE_MS 5
#define SETTLE_LATEST_MS 100

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

const struct ns_info NAMESPACES[NNS] = {
	{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },	  { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC },   { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

int ns_index(const char *name)
{
	for (int i = 0; i < NNS; i++)
		if (strcmp(NAMESPACES[i].name, name) == 0)
			return i;
	return -1;
}

struct monitor M = {
	.control = 3,
	.pid = -1,
	.pidfd = -1,
	.sock = -1,
	.console = -1,
	.console_peer = -1,
	.console_log = -1,
	.console_copy = -1,
	.console_client = -1,
	.console_proxy = -1,
	.confine_personality = -1,
	.state = STATE_STARTING,
};

/* lxkit's reading of the monitor's levels: 5 and up ERROR, 4 WARN, below DEBUG; and their syslog severities. */
static const char *level_name(int level) { return level >= 5 ? "ERROR" : level == 4 ? "WARN" : "DEBUG"; }
static int level_severity(int level) { return level >= 5 ? 3 : level == 4 ? 4 : 7; }

/* A line in the log file while no controller is attached, as lxkit writes its own ("PROGRAM NAME YYYYmmddHHMMSS.mmm LEVEL    monitor - text"). */
static void mlog_to_file(int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	char line[768];
	int n = snprintf(line, sizeof(line), "%s %s %04d%02d%02d%02d%02d%02d.%03ld %-8s monitor - %s\n", M.log_program ? M.log_program : "lxkit",
			 M.log_container ? M.log_container : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, level_name(level), msg);
	if (n <= 0)
		return;
	/* Opened for each line, as lxkit does: nothing holds the file while nothing is said. */
	int fd = open(M.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	close(fd);
}

/* The same line to syslog, as lxkit sends its own: RFC 3164, "<PRI>Mmm dd hh:mm:ss PROGRAM[PID]: NAME: LEVEL monitor - text"; dropped when nobody listens. */
static void mlog_to_syslog(int level, const char *msg)
{
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char text[768];
	int n = snprintf(text, sizeof(text), "<%d>%s %2d %02d:%02d:%02d %s[%d]: %s%s%s monitor - %s", M.log_facility * 8 + level_severity(level), months[tm.tm_mon],
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, M.log_program ? M.log_program : "lxkit", (int)getpid(),
			 M.log_container ? M.log_container : "", M.log_container ? ": " : "", level_name(level), msg);
	if (n <= 0)
		return;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(M.log_syslog) >= sizeof(addr.sun_path))
		return;
	strcpy(addr.sun_path, M.log_syslog);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	(void)!sendto(fd, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, 0, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
}

void mlog(int level, const char *fmt, ...)
{
	int to_lxkit = M.control >= 0 && level >= M.log_min;
	int to_file = M.control < 0 && M.log_file && level >= M.log_file_min;
	int to_syslog = M.control < 0 && M.log_syslog && level >= M.log_syslog_min;
	if (!to_lxkit && !to_file && !to_syslog)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_file)
		mlog_to_file(level, msg);
	if (to_syslog)
		mlog_to_syslog(level, msg);
	if (to_lxkit) {
		int64_t ints[1] = { level };
		const char *strs[1] = { msg };
		(void)!send_record(M.control, M_LOG, ints, 1, strs, 1);
	}
}

void send_result_errno(int err, const char *syscall, const char *path)
{
	int64_t ints[4] = { 0, 0, err, 0 };
	const char *strs[4] = { syscall, path ? path : "", "", "" };
	if (M.control >= 0)
		(void)!send_record(M.control, M_RESULT, ints, 4, strs, 4);
}

void send_ok(void)
{
	int64_t ints[4] = { 1, 0, 0, 0 };
	const char *strs[4] = { "", "", "", "" };
	if (M.control >= 0)
		(void)!send_record(M.control, M_RESULT, ints, 4, strs, 4);
}

void set_state(int state)
{
	if (state == M.state)
		return;
	M.state = state;
	command_broadcast_state(state);
}

static void *release_thread(void *arg)
{
	(void)arg;
	release_namespaces();
	timeline_mark("released");
	return NULL;
}

/*
 * The container's end: its cgroups removed and, when the monitor ends the
 * container itself (M_END_ALONE, or a daemon without lxkit's stop work),
 * its namespaces and ttys let go. The two are kernel work of their own (the
 * mount namespace's teardown, the memory cgroup's offlining), so they go
 * side by side: the namespaces on a thread of their own while this one
 * removes the cgroups. The cgroups are gone before STOPPED (the next start
 * must not find them); the namespaces may still be going, as with LXC, which
 * lets go of its namespace fds after STOPPED: nothing of the container runs
 * any more, and its mounts were only ever in its own mount namespace. The
 * monitor exits once they are gone. Returns whether a thread was started.
 */
static int end_container(pthread_t *t)
{
	int threaded = 0;
	if (M.release_pending) {
		M.release_pending = 0;
		threaded = pthread_create(t, NULL, release_thread, NULL) == 0;
		if (!threaded)
			release_thread(NULL);
	}
	cgroup_remove_all();
	timeline_mark("cgroups-removed");
	return threaded;
}

#define MAX_POLL 112 /* the fds below, 32 seccomp listeners, the command socket and 64 clients */

int main(int argc, char **argv)
{
	timeline_open("monitor");
	timeline_mark("start");
	/* Spawned by posix_spawn: the C libraries' own signals come ignored (common/signals.h). */
	signals_reset_internal();
	/* Closed stdio would be taken by the next open (the signalfd, a namespace fd): fill it with /dev/null. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	for (size_t i = 0; i < NNS; i++)
		M.ns[i] = -1;
	prctl(PR_SET_NAME, "lxkit-monitor", 0, 0, 0);
	child_args(argv[0], (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]));
	fcntl(M.control, F_SETFD, FD_CLOEXEC);
	fcntl(LOCK_FD, F_SETFD, FD_CLOEXEC); /* may not be open: then this fails harmlessly */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * --netns: lxkit expects this start to want a network namespace made ahead
	 * of the clone (netns.c), from the config it read last time: made now,
	 * before anything is read, it is ready sooner. A clone that wants none
	 * lets it go.
	 */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--netns") == 0) {
			timeline_mark("netns");
			netns_prepare();
			timeline_mark("netns-made");
			M.netns_at_start = 1;
		}

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
	long settle_by = 0;
	pthread_t releasing;
	int released_by_thread = 0;

	for (;;) {
		if (M.quit && (M.exited || M.pid < 0)) {
			/*
			 * Done: the lock goes first and lxkit hears so at once, without
			 * waiting for this process to exit (which can take a while when the
			 * last references to the container's namespaces go with it). The
			 * cgroups go before the lock: the next start must not find them.
			 */
			released_by_thread = end_container(&releasing);
			notify_close();
			close(LOCK_FD);
			/* Whoever hears STOPPED may start the container again at once: its socket name must be free. */
			command_unlisten();
			set_state(STATE_STOPPED);
			command_close();
			timeline_mark("stopped");
			send_ok();
			break;
		}
		struct pollfd p[MAX_POLL];
		int np = 0, ic = -1, is, ip = -1, ii = -1, im = -1, i0 = -1, ix = -1;
		if (M.control >= 0) {
			p[np] = (struct pollfd){ .fd = M.control, .events = POLLIN };
			ic = np++;
		}
		p[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		is = np++;
		if (M.sock >= 0) {
			p[np] = (struct pollfd){ .fd = M.sock, .events = POLLIN };
			ip = np++;
		}
		if (M.pidfd >= 0 && !M.exited) {
			p[np] = (struct pollfd){ .fd = M.pidfd, .events = POLLIN };
			ii = np++;
		}
		if (console_polled()) {
			p[np] = (struct pollfd){ .fd = M.console, .events = POLLIN };
			im = np++;
			if (M.stdio == STDIO_CONSOLE && !M.stdin_eof && M.console_proxy < 0) {
				p[np] = (struct pollfd){ .fd = 0, .events = POLLIN };
				i0 = np++;
			}
		}
		if (M.console_proxy >= 0) {
			p[np] = (struct pollfd){ .fd = M.console_proxy, .events = (short)(POLLIN | (M.console_pending_len ? POLLOUT : 0)) };
			ix = np++;
		}
		int first_notify = np;
		int nnotify = notify_add_pollfds(p + np, MAX_POLL - np);
		np += nnotify;
		int first_command = np;
		np += command_add_pollfds(p + np, MAX_POLL - np);
		/* The monitor's own cgroups wait until the container runs and nobody needs the monitor for a moment. */
		int timeout = -1;
		if (cgroup_settle_pending() && M.state == STATE_RUNNING) {
			if (settle_by == 0)
				settle_by = now_ms() + SETTLE_LATEST_MS;
			long left = settle_by - now_ms();
			timeout = left <= 0 ? 0 : left < SETTLE_IDLE_MS ? (int)left : SETTLE_IDLE_MS;
		}
		int ready = poll(p, (nfds_t)np, timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (timeout >= 0 && (ready == 0 || now_ms() >= settle_by)) {
			cgroup_settle();
			if (ready == 0)
				continue;
		}
		if (ic >= 0 && p[ic].revents && control_on_message() < 0)
			control_lost();
		if (ip >= 0 && p[ip].revents && M.sock >= 0)
			child_on_message();
		if (ii >= 0 && p[ii].revents && M.pidfd >= 0)
			init_on_exit();
		if (im >= 0 && (p[im].revents & POLLIN) && console_polled())
			console_on_output();
		if (p[is].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					console_set_winsize();
				else if (si.ssi_signo == SIGCHLD)
					control_reap();
			}
		}
		if (i0 >= 0 && p[i0].revents)
			console_on_input();
		if (ix >= 0 && p[ix].revents && M.console_proxy >= 0)
			console_on_proxy(p[ix].revents);
		notify_on_ready(p + first_notify, nnotify);
		command_on_ready(p + first_command, np - first_command);
	}
	if (released_by_thread)
		pthread_join(releasing, NULL);
	console_restore_tty();
	return M.abandoned ? 1 : 0;
}
