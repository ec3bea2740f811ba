/*
 * lxkit-attach relay: lxkit's way to a command socket in a container's
 * network namespace (an abstract unix socket is its network namespace's
 * alone), for `lxkit ls --nesting`: the monitors of containers nested in a
 * running container listen in its network namespace.
 *
 * The request (AR_RELAY on fd 3) names the namespace (a path such as
 * /proc/PID/ns/net) and the socket. This helper enters the namespace (a
 * fresh single-threaded process: lxkit's own never does), connects, says so
 * with an M_RESULT record (ok 1; or ok 0 with errno, syscall and path), then
 * copies bytes both ways until either side closes. Whatever the monitor
 * passes with them (a console's fd) is not relayed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../common/cmdclient.h"
#include "../common/helper.h"
#include "../common/proto.h"
#include "relay.h"

/* Copies what `from` has to `to`; 0 at the end of `from` or on an error. */
static int pass(int from, int to)
{
	char buf[16384];
	ssize_t n;
	while ((n = read(from, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

int relay(void)
{
	/* Never outlives lxkit's process, whose end closes fd 3 anyway. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct record r;
	if (helper_request(AR_RELAY, 0, 2, &r) < 0)
		return 1;
	const char *netns = r.strs[0], *name = r.strs[1];
	int ns = open(netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		helper_report(errno, "open", netns);
		return 1;
	}
	if (setns(ns, CLONE_NEWNET) < 0) {
		helper_report(errno, "setns", netns);
		return 1;
	}
	close(ns);
	int sock = cmd_connect(name);
	if (sock < 0) {
		helper_report(errno, "connect", name);
		return 1;
	}
	int64_t ok[4] = { 1, 0, 0, 0 };
	const char *none[4] = { "", "", "", "" };
	if (send_record(CONTROL_FD, M_RESULT, ok, 4, none, 4) < 0)
		return 1;
	struct pollfd p[2] = { { .fd = CONTROL_FD, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents && !pass(CONTROL_FD, sock))
			return 0;
		if (p[1].revents && !pass(sock, CONTROL_FD))
			return 0;
	}
}
