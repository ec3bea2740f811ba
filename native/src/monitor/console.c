/*
 * The container's /dev/console: a pty whose master the monitor holds.
 *
 *   STDIO_CONSOLE   proxied to the monitor's stdin and stdout, the terminal
 *                   in raw mode (lxkit start -F);
 *   STDIO_DETACHED  its output drained, so that nothing blocks on a full pty
 *                   (daemon mode; the init's stdio is /dev/null, as LXC's).
 *
 * Either way the output also goes to lxc.console.logfile, to the ring
 * buffer (lxc.console.buffer.size) and to lxc.console.path (a file or
 * device: lxc-start -c) when they are set. A client of the command socket
 * (lxkit console -t 0) may take the console over: it gets one end of a
 * socket pair and the monitor goes on between it and the master, as LXC's
 * console proxy does, so that what the container writes meanwhile is still
 * logged and buffered. Its window size comes as C_WINSIZE requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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
	if (M.console >= 0 && M.stdio == STDIO_CONSOLE && M.console_proxy < 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
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
	/* Not while the client has output still to take: the container waits, as on a slow terminal. */
	return M.console >= 0 && !M.exited && M.console_pending_len == 0 &&
	       (M.console_proxy >= 0 || M.stdio == STDIO_CONSOLE || M.stdio == STDIO_DETACHED);
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

/* What the client has not taken, then `buf`: the rest waits in console_pending (at most one read's worth). */
static void to_client(const char *buf, size_t n)
{
	while (M.console_pending_len > 0) {
		ssize_t w = write(M.console_proxy, M.console_pending + M.console_pending_at, M.console_pending_len);
		if (w <= 0)
			break;
		M.console_pending_at += (size_t)w;
		M.console_pending_len -= (size_t)w;
	}
	/* Still full: only while the init's last output is drained; the client misses it, the log does not. */
	if (M.console_pending_len > 0 || n == 0)
		return;
	ssize_t w = write(M.console_proxy, buf, n);
	if (w < 0)
		w = 0;
	if ((size_t)w < n && n - (size_t)w <= sizeof(M.console_pending)) {
		memcpy(M.console_pending, buf + w, n - (size_t)w);
		M.console_pending_at = 0;
		M.console_pending_len = n - (size_t)w;
	}
}

static void emit(const char *buf, size_t n)
{
	if (M.console_proxy >= 0)
		to_client(buf, n);
	else if (M.stdio == STDIO_CONSOLE)
		(void)!write_all(1, buf, n);
	ring_write(buf, n);
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
	if (M.console < 0)
		return;
	while ((n = read(M.console, buf, sizeof(buf))) > 0)
		emit(buf, (size_t)n);
}

int console_give(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	console_release();
	M.console_proxy = sv[0];
	return sv[1];
}

void console_release(void)
{
	if (M.console_proxy >= 0)
		close(M.console_proxy);
	M.console_proxy = -1;
	M.console_pending_len = M.console_pending_at = 0;
	M.console_client = -1;
	/* The foreground terminal has the console back, at its own size. */
	console_set_winsize();
}

void console_on_proxy(short revents)
{
	if (revents & POLLOUT)
		to_client(NULL, 0);
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		char buf[4096];
		ssize_t n = read(M.console_proxy, buf, sizeof(buf));
		if (n > 0 && M.console >= 0)
			(void)!write_all(M.console, buf, (size_t)n);
		else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			console_release();
	}
}

void console_set_client_winsize(const int64_t *ints, uint32_t n)
{
	if (n < 2 || M.console < 0)
		return;
	struct winsize ws = { .ws_row = (unsigned short)ints[0], .ws_col = (unsigned short)ints[1],
			      .ws_xpixel = n > 2 ? (unsigned short)ints[2] : 0, .ws_ypixel = n > 3 ? (unsigned short)ints[3] : 0 };
	ioctl(M.console, TIOCSWINSZ, &ws);
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
