/* See ptyproxy.h. */
#define _GNU_SOURCE
#include "ptyproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "proto.h"

/* This terminal's size to the master, or as C_WINSIZE to `sizes` (a monitor proxying the console). */
static void pass_winsize(int master, int sizes)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return;
	if (sizes < 0) {
		ioctl(master, TIOCSWINSZ, &ws);
		return;
	}
	int64_t ints[4] = { ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel };
	(void)!send_record(sizes, C_WINSIZE, ints, 4, NULL, 0);
}

/* The program's output, to stdout and to the log (lxc-attach -L) when there is one. */
static void output(const char *buf, size_t n, int log)
{
	(void)!write_all(1, buf, n);
	if (log >= 0)
		(void)!write_all(log, buf, n);
}

/* What the master still has for us (the program ended, the rest of its output is there). */
static void drain(int master, int log)
{
	char buf[4096];
	ssize_t n;
	int flags = fcntl(master, F_GETFL);
	fcntl(master, F_SETFL, flags | O_NONBLOCK);
	while ((n = read(master, buf, sizeof(buf))) > 0)
		output(buf, (size_t)n, log);
	fcntl(master, F_SETFL, flags);
}

int pty_proxy(int master, int pidfd, int escape, int log, int sizes)
{
	struct termios saved, raw;
	int tty = isatty(0) && tcgetattr(0, &saved) == 0;
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSADRAIN, &raw);
		pass_winsize(master, sizes);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	int escaped = 0, left = 0, stdin_open = 1;
	char buf[4096];
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = master, .events = POLLIN },
			{ .fd = stdin_open ? 0 : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
				break; /* EIO: every slave fd is closed */
			if (n > 0)
				output(buf, (size_t)n, log);
		}
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				stdin_open = 0;
			} else if (escape < 0) {
				(void)!write_all(master, buf, (size_t)n);
			} else {
				for (ssize_t i = 0; i < n && !left; i++) {
					unsigned char ch = (unsigned char)buf[i];
					if (escaped) {
						escaped = 0;
						if (ch == 'q') {
							left = 1;
							break;
						}
						if (ch != escape) {
							char e = (char)escape;
							(void)!write_all(master, &e, 1);
						}
						(void)!write_all(master, &buf[i], 1);
					} else if (ch == escape) {
						escaped = 1;
					} else {
						(void)!write_all(master, &buf[i], 1);
					}
				}
				if (left)
					break;
			}
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				pass_winsize(master, sizes);
		}
		if (pidfd >= 0 && p[3].revents) {
			drain(master, log);
			break;
		}
	}
	if (tty)
		tcsetattr(0, TCSADRAIN, &saved);
	close(sfd);
	return left;
}
