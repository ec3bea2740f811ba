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
#include <stdlib.h>
#include <sys/ioctl.h>
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

static void emit(const char *buf, size_t n)
{
	if (M.stdio == STDIO_CONSOLE)
		(void)!write_all(1, buf, n);
	if (M.console_log >= 0)
		(void)!write_all(M.console_log, buf, n);
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
