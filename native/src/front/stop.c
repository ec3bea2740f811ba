/*
 * The front's `lxkit stop` (a plan's STOP hand-over): what
 * core/src/container/running.ts RunningContainer.stop() does, on the
 * container's command socket. The plan has resolved where the container
 * is (its socket) and the options; everything about the running container
 * is asked of its monitor now. Anything unusual before a signal has gone
 * out (not running, a halt signal it cannot read, a refused signal) is left
 * to the Node CLI, which says what is wrong: FRONT_TO_NODE.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../common/cmdclient.h"
#include "../common/proto.h"
#include "front.h"

/* The first real-time signal as the kernel numbers it (glibc and musl reserve some; LXC's configs mean the kernel's). */
#define KERNEL_SIGRTMIN 34
#define KERNEL_SIGRTMAX 64

static const struct {
	const char *name;
	int number;
} SIGNALS[] = {
	{ "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },     { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },   { "IOT", SIGIOT },       { "BUS", SIGBUS },     { "FPE", SIGFPE },     { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },     { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },
	{ "TERM", SIGTERM },   { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },     { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "POLL", SIGPOLL },   { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/*
 * A signal as lxc.signal.* writes it (config/values.ts parseSignal): a
 * number, or a name with SIG (any case), SIGRTMIN+n and SIGRTMAX-n included.
 * -1 for anything else: the Node CLI then says what is wrong with it.
 */
int signal_number(const char *s)
{
	char *end;
	if (isdigit((unsigned char)*s)) {
		long n = strtol(s, &end, 10);
		return *end || n < 1 || n > KERNEL_SIGRTMAX ? -1 : (int)n;
	}
	if (strncasecmp(s, "SIG", 3) != 0)
		return -1;
	s += 3;
	int rtmin = !strncasecmp(s, "RTMIN", 5), rtmax = !strncasecmp(s, "RTMAX", 5);
	if (rtmin || rtmax) {
		long off = 0;
		if (s[5] == (rtmin ? '+' : '-') && isdigit((unsigned char)s[6]))
			off = strtol(s + 6, &end, 10);
		else if (s[5])
			return -1;
		else
			end = (char *)s + 5;
		long n = rtmin ? KERNEL_SIGRTMIN + off : KERNEL_SIGRTMAX - off;
		return *end || n < KERNEL_SIGRTMIN || n > KERNEL_SIGRTMAX ? -1 : (int)n;
	}
	for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++)
		if (!strcasecmp(s, SIGNALS[i].name))
			return SIGNALS[i].number;
	return -1;
}

/* The last value of `key` the container runs with, as a signal; `fallback` when it has none, -1 when it is no signal. */
static int configured_signal(int sock, const char *key, int fallback)
{
	struct record reply;
	uint8_t *payload;
	int fd;
	const char *strs[1] = { key };
	if (cmd_request(sock, C_CONFIG, NULL, 0, strs, 1, &reply, &payload, &fd) < 0)
		return -1;
	/* No value, or an empty one (config/core-keys/lifecycle.ts): the default. */
	int sig = reply.nstrs == 0 || !*reply.strs[reply.nstrs - 1] ? fallback : signal_number(reply.strs[reply.nstrs - 1]);
	free(payload);
	return sig;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A stop's conversation with the monitor: its socket, and what has come back. */
struct conversation {
	int sock;
	int awaiting; /* a reply to the C_SIGNAL just sent */
	int64_t err;  /* that reply's errno */
	int stopped;  /* STOPPED was announced, or the monitor has gone */
	int gone;
};

/*
 * Reads the command socket until nothing is awaited and, with `stopped`,
 * the container is STOPPED. Returns 0 then, -1 at `deadline` (ms of
 * now_ms(); -1: none) or when the monitor left.
 */
static int wait_for(struct conversation *c, int stopped, long deadline)
{
	while (c->awaiting || (stopped && !c->stopped)) {
		if (c->gone)
			return -1;
		long left = deadline < 0 ? -1 : deadline - now_ms();
		if (!c->awaiting && deadline >= 0 && left <= 0)
			return -1;
		struct pollfd p = { c->sock, POLLIN, 0 };
		if (poll(&p, 1, c->awaiting || left < 0 ? -1 : (int)left) <= 0)
			continue;
		uint16_t type;
		uint8_t *payload;
		struct record got;
		int decoded = record_read(c->sock, &type, &payload, &got);
		if (decoded < 0) {
			/* The monitor has gone: so has the container. */
			c->gone = c->stopped = 1;
			continue;
		}
		if (decoded) {
			if (type == C_REPLY && c->awaiting) {
				c->err = got.nints > 0 ? got.ints[0] : 0;
				c->awaiting = 0;
			} else if (type == C_STATE_EVENT && got.nints > 0 && got.ints[0] == STATE_STOPPED) {
				c->stopped = 1;
			}
		}
		free(payload);
	}
	return 0;
}

/* Sends C_SIGNAL as a stop (the state becomes STOPPING) and reads up to its reply. 0 with c->err, or -1: the monitor left first. */
static int stop_signal(struct conversation *c, int sig)
{
	if (send_record(c->sock, C_SIGNAL, (int64_t[]){ sig, 1 }, 2, NULL, 0) < 0)
		return -1;
	c->awaiting = 1;
	return wait_for(c, 0, -1);
}

int front_stop(const struct stop_request *q)
{
	int sock = cmd_connect(q->socket);
	if (sock < 0)
		return FRONT_TO_NODE;
	struct record reply;
	uint8_t *payload = NULL;
	int fd, ret = FRONT_TO_NODE;
	if (cmd_request(sock, C_GET_STATE, NULL, 0, NULL, 0, &reply, &payload, &fd) < 0 || reply.nints < 2 ||
	    reply.ints[0] == STATE_STOPPED || reply.ints[1] <= 0)
		goto out;
	free(payload);
	payload = NULL;
	if (q->signal == STOP_REBOOT) {
		int sig = configured_signal(sock, "lxc.signal.reboot", SIGINT);
		if (sig > 0 && cmd_request(sock, C_SIGNAL, (int64_t[]){ sig, 0 }, 2, NULL, 0, &reply, &payload, &fd) == 0)
			ret = 0;
		goto out;
	}
	/* lxc.signal.stop: what -k sends, and the timeout's kill (SIGKILL by default), as LXC's stop. */
	int kill_sig = configured_signal(sock, "lxc.signal.stop", SIGKILL);
	int sig = q->signal == STOP_KILL ? kill_sig : configured_signal(sock, "lxc.signal.halt", SIGPWR);
	if (sig < 0 || kill_sig < 0)
		goto out;
	/* Subscribed before the signal, so that no STOPPED can come unseen. */
	if (cmd_request(sock, C_SUBSCRIBE, NULL, 0, NULL, 0, &reply, &payload, &fd) < 0)
		goto out;
	long deadline = q->timeout >= 0 ? now_ms() + q->timeout * 1000L : -1;
	struct conversation c = { .sock = sock };
	if (stop_signal(&c, sig) == 0 && c.err != 0 && c.err != ESRCH)
		goto out; /* nothing was signalled: the Node CLI says so */
	/* From here on the stop is under way; a monitor that left without answering has ended the container meanwhile. */
	ret = 0;
	if (c.gone || q->nowait || wait_for(&c, 1, deadline) == 0)
		goto out;
	if (q->nokill) {
		fprintf(stderr, "lxkit-stop: %s: container \"%s\" did not halt within %ld s (--nokill: not killed)\n", q->container, q->container,
			q->timeout);
		ret = 1;
		goto out;
	}
	if (stop_signal(&c, kill_sig) == 0)
		wait_for(&c, 1, -1);
out:
	free(payload);
	close(sock);
	return ret;
}
