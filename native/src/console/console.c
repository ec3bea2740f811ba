/*
 * lxkit-console: this terminal on a tty of a running container
 * (lxc-console). The pty master comes from the container's monitor over its
 * command socket (C_CONSOLE); for the console, a socket that the monitor
 * joins to the console's master, logging what goes by; the session lasts until the user types the
 * escape character then 'q' (Ctrl-a q by default), or the tty hangs up.
 * The request comes on fd 3 (CN_REQUEST); a failure is reported there as an
 * M_RESULT record (ENOENT: no such tty; EBUSY: the console is taken).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "../common/cmdclient.h"
#include "../common/helper.h"
#include "../common/proto.h"
#include "../common/ptyproxy.h"


int main(void)
{
	struct record r;
	if (helper_request(CN_REQUEST, 2, 1, &r) < 0)
		return 1;
	int tty = (int)r.ints[0], escape = (int)r.ints[1];
	int sock = cmd_connect(r.strs[0]);
	if (sock < 0) {
		helper_report(errno, "connect", r.strs[0]);
		return 1;
	}
	int64_t ints[1] = { tty };
	struct record reply;
	uint8_t *reply_payload;
	int master;
	if (cmd_request(sock, C_CONSOLE, ints, 1, NULL, 0, &reply, &reply_payload, &master) < 0) {
		helper_report(errno, "recvmsg", r.strs[0]);
		return 1;
	}
	if (reply.nints < 1 || reply.ints[0] != 0 || master < 0) {
		char what[32];
		snprintf(what, sizeof(what), tty ? "/dev/tty%d" : "/dev/console", tty);
		helper_report(reply.nints > 0 && reply.ints[0] ? (int)reply.ints[0] : ENOENT, "console", what);
		return 1;
	}
	/* Told like lxc-console tells it. */
	char key = (char)(escape >= 1 && escape <= 26 ? 'a' + escape - 1 : '?');
	if (escape >= 0)
		dprintf(2, "\nConnected to tty %d\nType <Ctrl %c q> to exit the console, <Ctrl %c Ctrl %c> to enter Ctrl %c itself\n", tty, key, key, key, key);
	else
		dprintf(2, "\nConnected to tty %d\n", tty);
	/* The monitor keeps the console for us while this socket is open; the console's own size goes through it. */
	pty_proxy(master, -1, escape, -1, tty == 0 ? sock : -1);
	close(master);
	close(sock);
	return 0;
}
