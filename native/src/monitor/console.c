/*
 * The container's /dev/console: a pty whose master the monitor holds.
 *
 *   STDIO_CONSOLE   proxied to the monitor's stdin and stdout, the terminal
 *                   in raw mode (lxkit start -F);
 *   STDIO_DETACHED  its output drained, so that the init never blocks on a
 *                   full pty (daemon mode).
 *
 * Either way the output also goes to lxc.console.logfile and to
 * lxc.console.path (a file or device: lxc-start -c) when they are set. A
 * client of the command socket (lxkit console -t 0) may take the console
 * over; the monitor then leaves the master alone until that client goes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

void console_set_winsize(void)
{
	struct winsize ws;
	if (M.console >= 0 && M.stdio == STDIO_CONSOLE && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(M.console, TIOCSWINSZ, &ws);
}

void console_restore_tty(void)
{
	if (M.raw) {
		tcsetattr(0, TCSADRAIN, &M.saved);
		M.raw = 0;
	}
}

void console_take(int master)
{
	if (M.console >= 0)
		close(M.console);
	if (M.console_peer >= 0)
		close(M.console_peer);
	M.console = master;
	M.console_peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	if (M.stdio == STDIO_CONSOLE && isatty(0) && !M.raw && tcgetattr(0, &M.saved) == 0) {
		struct termios raw = M.saved;
		cfmakeraw(&raw);
		if (tcsetattr(0, TCSADRAIN, &raw) == 0)
			M.raw = 1;
	}
	console_set_winsize();
}

int console_polled(void)
{
	return M.console >= 0 && M.console_client < 0 && (M.stdio == STDIO_CONSOLE || M.stdio == STDIO_DETACHED) && !M.exited;
}

/* The log moved to PATH.1 and a new one begun (lxc.console.rotate). */
static int rotate_log(void)
{
	char old[4096];
	if (snprintf(old, sizeof(old), "%s.1", M.console_log_path) >= (int)sizeof(old) || rename(M.console_log_path, old) < 0)
		return -1;
	int fd = open(M.console_log_path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	dup3(fd, M.console_log, O_CLOEXEC);
	close(fd);
	return 0;
}

/*
 * lxc.console.logfile within lxc.console.size, as LXC keeps it: what fits
 * goes in; at the limit the log is rotated to PATH.1 (lxc.console.rotate)
 * and the rest goes to the new one, or, not rotated, the rest is lost and
 * the next output empties the log first. A chunk larger than the limit
 * keeps its first bytes. A log that is no regular file has no limit.
 */
static void write_log(const char *buf, size_t n)
{
	struct stat st;
	int64_t limit = M.console_log_size;
	if (limit <= 0 || fstat(M.console_log, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)!write_all(M.console_log, buf, n);
		return;
	}
	int64_t left = limit - st.st_size;
	if (left <= 0 && !M.console_log_rotate) {
		if (ftruncate(M.console_log, 0) < 0)
			return;
		(void)!write_all(M.console_log, buf, (size_t)n <= (uint64_t)limit ? n : (size_t)limit);
		return;
	}
	if (left < 0)
		left = 0;
	if ((int64_t)n <= left) {
		(void)!write_all(M.console_log, buf, n);
		return;
	}
	(void)!write_all(M.console_log, buf, (size_t)left);
	if (!M.console_log_rotate || rotate_log() < 0)
		return;
	n -= (size_t)left;
	(void)!write_all(M.console_log, buf + left, (int64_t)n <= limit ? n : (size_t)limit);
}

static void emit(const char *buf, size_t n)
{
	if (M.stdio == STDIO_CONSOLE)
		(void)!write_all(1, buf, n);
	if (M.console_log >= 0)
		write_log(buf, n);
	if (M.console_copy >= 0)
		(void)!write_all(M.console_copy, buf, n);
}

void console_on_output(void)
{
	char buf[4096];
	ssize_t n = read(M.console, buf, sizeof(buf));
	if (n > 0)
		emit(buf, (size_t)n);
}

/* What is still in the pty when the init has exited. */
void console_drain(void)
{
	char buf[4096];
	ssize_t n;
	if (M.console < 0 || M.console_client >= 0)
		return;
	while ((n = read(M.console, buf, sizeof(buf))) > 0)
		emit(buf, (size_t)n);
}

void console_on_input(void)
{
	char buf[4096];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n > 0 && M.console >= 0)
		(void)!write_all(M.console, buf, (size_t)n);
	else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		M.stdin_eof = 1;
}

/* Daemon mode: the terminal (if any) is lxkit's, which goes away; the console is drained from now on. */
void console_detach_terminal(void)
{
	console_restore_tty();
	if (M.stdio == STDIO_CONSOLE)
		M.stdio = STDIO_DETACHED;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		close(null);
	}
	M.stdin_eof = 1;
}
