/*
 * lxkit's C front: the `lxkit` command. It replays a command from its launch
 * plan when it has a valid one, and otherwise runs the Node CLI
 * (core/bin/lxkit.cjs), asking it to record a plan. docs/launch-plans.md
 * says what a plan is and when it is valid; core/src/launch-plan/format.ts
 * is the other side of the entries below (keep the two in step).
 */
#ifndef LXKIT_FRONT_H
#define LXKIT_FRONT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/proto.h"

#define PLAN_FORMAT 2

enum plan_entry {
	P_HEAD = 500,
	P_ARGS = 501,
	P_ENV = 502,
	P_STAT = 503,
	P_CONTENT = 504,
	P_EXISTS = 505,
	P_READDIR = 506,
	P_REALPATH = 507,
	P_ACCESS = 508,
	P_READLINK = 509,
	P_MKDIR = 510,
	P_WRITE = 511,
	P_CHOWN = 512,
	P_RMDIR = 513,
	P_MKDIRP = 514,
	P_OUTPUT = 515,
	P_LOCK = 520,
	P_SPAWN = 521,
	P_SEND = 522,
	P_RECV = 523,
	P_TAIL = 530,
};

/* P_TAIL's kinds (format.ts TAIL): where the front carries on by itself. */
enum plan_tail {
	TAIL_FOREGROUND = 1, /* the init's exit waited for, signals forwarded: exit with its status */
	TAIL_DAEMON = 2,     /* the container left to its monitor: exit 0 */
	TAIL_STOP = 3,       /* lxc-stop on the command socket: front_stop() */
	TAIL_HELPER = 4,     /* a terminal helper (lxkit-attach) has its request: exit with its status */
};

/* What an lxkit stop's plan resolved (format.ts STOP_SIGNAL for `signal`). */
enum stop_signal { STOP_HALT = 0, STOP_REBOOT = 1, STOP_KILL = 2 };
struct stop_request {
	const char *container;
	const char *socket; /* the command socket's abstract name */
	enum stop_signal signal;
	long timeout; /* seconds before SIGKILL; -1: forever */
	int nokill, nowait;
};

/* A front's verdict: the command is the Node CLI's after all (nothing of it has been done). */
#define FRONT_TO_NODE (-1)

/* What a replay has done so far: what an abandoned one undoes. */
struct replay {
	int argc;
	char **argv; /* the command's arguments, after the program's name */
	int lock;    /* the container's lock, -1 before P_LOCK */
	int control; /* the monitor's control socket, -1 before P_SPAWN */
	pid_t monitor;
	int running;               /* the init runs (M_RUNNING came): from then on the command is under way, never done again */
	int exited;                /* an M_EXITED came */
	int64_t exit_code, ending; /* its code, and whether the monitor ends the container itself */
	const char **made;         /* directories made (P_MKDIR), removed again by an abandoned replay */
	size_t nmade;
	const char *container; /* the hand-over's container name (points into the plan), for messages */
	struct stop_request stop; /* a TAIL_STOP's request (points into the plan) */
	const char *why; /* why a replay was abandoned, for LXKIT_PLAN_DEBUG */
	char whybuf[512];
};

/*
 * Replays the plan in `data`: checks every input, does every action, up to
 * the hand-over (P_TAIL). Returns 0 there, with *tail set to the entry's
 * kind; -1 when the plan does not hold (r->why says why): nothing of it is
 * left then (undo()).
 */
int replay(struct replay *r, const uint8_t *data, size_t len, int *tail);

/* The plan's hand-over kind (and its container) without replaying it: what a replay that failed on the way was heading for. 0: none. */
int plan_tail(const uint8_t *data, size_t len, const char **container);

/* Keeps what an M_EXITED says (the init's exit code, whether the monitor ends the container itself) for the tail. */
void note_exit(struct replay *r, const struct record *exited);

/* Undoes an abandoned replay: the monitor (and with it the container's first process) ends, directories made are removed. */
void undo(struct replay *r);

/* Stops a container as `lxkit stop` does; returns the exit status, or FRONT_TO_NODE before any signal was sent. */
int front_stop(const struct stop_request *q);

/* A signal as lxc.signal.* writes it (a number or a SIG name); -1 when it is none. */
int signal_number(const char *s);

/* mkdir -p (each missing directory with `mode`); 0 when `path` is a directory afterwards. */
int make_parents(const char *path, mode_t mode);

/* Writes the normalised form of a /proc file (format.ts normalise()) into out; returns its length. */
size_t normalise(const char *path, const char *in, size_t n, char *out, size_t cap);

#endif
