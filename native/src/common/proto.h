/*
 * The wire format between lxkit's JavaScript and its C helpers
 * (core/src/start/protocol.ts is the other side; keep the two in step).
 *
 * A frame is
 *     u32 length      bytes that follow (type + reserved + payload), little endian
 *     u16 type        M_* below
 *     u16 reserved    0
 *     payload
 * Most payloads are one record:
 *     u32 nints, i64 ints[nints], u32 nstrs, { u32 len, bytes[len], 0 } [nstrs]
 * Each string carries a trailing NUL (not counted in len) so that a decoded
 * record points into the frame without copying. A batch payload is
 *     u32 nops, { u16 code, u16 reserved, record } [nops]
 */
#ifndef LXKIT_PROTO_H
#define LXKIT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX (16u << 20)
#define REC_MAX_INTS 64
#define REC_MAX_STRS 512

enum msg_type {
	/* JS -> monitor */
	M_CLONE = 1,         /* ints: flags, pdeath signal, stdio mode; strs: "nstype=path" to join */
	M_BATCH = 2,         /* batch payload, run by the child */
	M_DETACHED_TREE = 3, /* strs: source; ints: slot, recursive, idmap -> a detached (idmapped) mount, sent to the child */
	M_KILL = 4,          /* ints: signal */
	M_RELEASE = 5,       /* close the namespace references held since clone -> M_RESULT once they are */
	M_QUIT = 6,          /* exit once the container is gone -> M_RESULT, once the lock is let go */
	M_SERVE = 7,         /* strs: command socket name (abstract), the effective config ("key = value" lines), console log path or "", lxkit monitor's socket prefix, container name, console path or "", the directory where lxkit monitor's watchers register */
	M_STATE = 8,         /* ints: STATE_*, told to the command socket's subscribers */
	M_DAEMONIZE = 9,     /* strs: argv of lxkit's stop work, run when the init exits (ints[0] 0: only for a reboot); the controller then leaves */
	M_CGROUPS = 10,      /* strs: the container's and the monitor's cgroups (monitor/cgroup.c), removed by the monitor at the end; no reply; several add up */
	M_CONFINE = 11,      /* ints: has caps, bounding set, no_new_privs; strs: AppArmor label or "", seccomp BPF or "" -> kept for attach (no reply) */
	M_NOTIFY = 12,       /* strs: seccomp notify proxy ("unix:/path", "unix:@name" or ""), cookie -> where the listener's notifications go (no reply) */
	M_NETNS = 13,        /* make the container's network namespace now, for the clone to start in (no reply) */
	M_END_ALONE = 14,    /* ints: 1, or 2 when a SIGHUP exit is a reboot -> at the init's exit (once it ran) the monitor ends the container itself: M_EXITED says so, M_RESULT when done (no reply now) */
	M_MOUNT_NS = 15,     /* lxc.monitor.unshare: the monitor moves to a mount namespace of its own (a slave of the host's) before pre-start -> M_RESULT */
	M_NET_GIVE_BACK = 17, /* strs: a host device's name in the container, its name on the host; ints: its MTU to restore (0: kept) -> moved back to the monitor's namespace when the container ends (no reply) */
	M_NET_UNPROXY = 18,  /* strs: a host interface, an address (4 or 16 bytes); ints: family (4|6) -> that proxy entry removed when the container ends (no reply) */
	M_CONFIG_ADD = 16,   /* strs: "key = value" lines appended to the effective config it reports (values known at start: a veth's generated name); no reply */
	M_LOG_TARGETS = 19,  /* strs: log file or "", program, container, syslog socket or ""; ints: the file's lowest level, syslog facility, syslog's lowest level -> while no controller is attached (daemon mode) the monitor's lines go there as lxkit sends its own (no reply) */
	M_RESTORE = 20,      /* ints: the restored namespaces' CLONE_NEW* flags; strs: the pid file, the restorer's argv (criu restore --restore-sibling) -> M_CLONED once the init runs again (no batch follows), or M_RESULT (strs[3]: the restorer's output) */
	M_PTYS = 21,         /* ints: (kind PTY_*, index) per pty -> ptys of the monitor's /dev/ptmx for a restore's console and ttys: the monitor keeps the masters as a start's, and the restorer gets the slaves at fds 3, 4, ... -> M_PTYS_OPENED, or M_RESULT */
	/* monitor -> JS */
	M_CLONED = 100,  /* ints: pid, then one fd per namespace; strs: namespace names */
	M_RESULT = 101,  /* ints: ok, failed op index, errno, ops done; strs: syscall, path, detail, output */
	M_EXITED = 102,  /* ints: exit code (128+signal when killed), killing signal or 0, 1 when the monitor ends the container itself (M_END_ALONE) */
	M_LOG = 103,     /* ints: level; strs: message */
	M_RUNNING = 104, /* the container's init runs (exec succeeded) */
	M_ADOPTED = 105, /* to a controller the monitor started: as M_CLONED, then M_EXITED follows */
	M_PTYS_OPENED = 106, /* strs: each pty's slave as a path of the monitor's mount namespace, in M_PTYS's order */

	/* clients -> monitor, on the command socket */
	C_GET_STATE = 300, /* -> C_REPLY ints: state, init pid, monitor pid, exit code, exit signal, clone flags, daemon */
	C_SIGNAL = 301,    /* ints: signal, stopping (1: a stop: a frozen container is thawed for it; the state changes only once the init exits) -> C_REPLY ints: errno */
	C_SUBSCRIBE = 302, /* -> C_REPLY ints: state; then a C_STATE_EVENT at each change until the client leaves */
	C_CONSOLE = 303,   /* ints: tty number (0: /dev/console) -> C_REPLY ints: errno, with the tty's pty master, or for the console a socket the monitor proxies (SCM_RIGHTS) */
	C_PIDFD = 304,     /* -> C_REPLY ints: errno, init pid, has caps, bounding set, no_new_privs, notify (the filter's listener is served), clone flags, state; strs: AppArmor label, seccomp BPF, the init's cgroup dirs...; with the init's pidfd */
	C_CONFIG = 305,    /* strs: key; ints[0] 1: the running config (the start's values after the config's) -> C_REPLY ints: found; strs: values in reading order */
	C_IPS = 306,       /* -> C_REPLY strs: "interface family address/prefix" of the container's network namespace */
	C_CGROUPS = 307,   /* -> C_REPLY strs: "version\tcontrollers\tlimit dir\tinit dir" per hierarchy */
	C_FREEZE = 308,    /* ints: 1 freeze / 0 thaw, timeout ms (-1: default) -> C_REPLY ints: errno */
	C_NOTIFY_LISTENER = 309, /* with an attached program's seccomp listener (SCM_RIGHTS); no reply: the monitor serves it as the init's */
	C_WINSIZE = 310,   /* ints: rows, columns, x pixels, y pixels -> the console's size, from the console's client (no reply) */
	C_CONSOLE_LOG = 311, /* ints: read, clear, at most this many bytes (0: up to 64 KiB) -> C_REPLY ints: errno (EFAULT: no lxc.console.buffer.size); strs: the bytes read */
	/* monitor -> clients */
	C_REPLY = 350,
	C_STATE_EVENT = 351, /* ints: state; strs: the container's name (to lxkit monitor) */
	C_EXIT_EVENT = 352,  /* ints: the init's exit code (128+signal when killed), the signal or 0; strs: the container's name (to lxkit monitor) */

	/* JS -> lxkit-attach and lxkit-console (their fd 3); a failure before the work starts comes back as M_RESULT */
	A_REQUEST = 400,  /* ints: setns flags, uid, gid, pty, clear env, elevated, argc, nset, nkeep, personality (-1: the container's), remount /proc and /sys, a pty log follows; strs: command socket, cwd, argv..., VAR=VAL..., kept names..., pty log */
	CN_REQUEST = 401, /* ints: tty number, escape character (-1: none); strs: command socket */
	AR_RELAY = 402,   /* to `lxkit-attach relay`; strs: a network namespace's path, a command socket there -> M_RESULT (ok 1 once connected), then the socket's bytes both ways */
};

/* A_REQUEST's "elevated" bits (lxc-attach -e): what of the container's confinement is left out. */
enum elevate {
	ELEVATE_CAP = 1,    /* the capability bounding set */
	ELEVATE_CGROUP = 2, /* the init's cgroups */
	ELEVATE_LSM = 4,    /* the LSM label and the seccomp filter (LXC's LSM flag covers both) */
};

/* Container states, as LXC numbers them (lxc_state_t). */
enum container_state {
	STATE_STOPPED = 0,
	STATE_STARTING = 1,
	STATE_RUNNING = 2,
	STATE_STOPPING = 3,
	STATE_ABORTING = 4,
	STATE_FREEZING = 5,
	STATE_FROZEN = 6,
	STATE_THAWED = 7,
};

/* Standard I/O of the container's init (M_CLONE ints[2]). */
enum stdio_mode {
	STDIO_INHERIT = 0,  /* the monitor's own fds 0-2 (lxkit execute) */
	STDIO_CONSOLE = 1,  /* the console pty, proxied to the monitor's fds 0-1 */
	STDIO_NULL = 2,     /* /dev/null */
	STDIO_DETACHED = 3, /* a console pty drained to the console log (daemon mode; lxkit console attaches); the init's stdio is /dev/null */
};

struct record {
	uint32_t nints;
	int64_t ints[REC_MAX_INTS];
	uint32_t nstrs;
	const char *strs[REC_MAX_STRS];
	uint32_t lens[REC_MAX_STRS];
};

/* A growable output buffer. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_u16(struct buf *b, uint16_t v);
void buf_u32(struct buf *b, uint32_t v);
void buf_i64(struct buf *b, int64_t v);

/* Appends a record; `strs` may be NULL-terminated C strings (lens NULL) or have lengths. */
void rec_put(struct buf *b, const int64_t *ints, uint32_t nints, const char *const *strs, const uint32_t *lens,
	     uint32_t nstrs);

/* Decodes a record at p (n bytes available); returns bytes used, or -1 on malformed input. */
long rec_get(const uint8_t *p, size_t n, struct record *r);

/* Starts a frame of `type` in b (reserves the length), and closes it. */
void frame_begin(struct buf *b, uint16_t type);
void frame_end(struct buf *b);

/* Reads one frame from a stream fd into *out (malloc'd, caller frees); returns payload length, 0 on EOF, -1 on error. */
long frame_read(int fd, uint16_t *type, uint8_t **out);

/*
 * Reads one frame and decodes its payload as a record: 1, or 0 when it is
 * no record; *payload (malloc'd, the caller frees it) holds what r points
 * into. -1 at the end of the stream or on an error (*payload NULL).
 */
int record_read(int fd, uint16_t *type, uint8_t **payload, struct record *r);

/* Writes all of b. Returns 0 or -1 (errno set). */
int write_all(int fd, const void *p, size_t n);

/* One-record message. */
int send_record(int fd, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, uint32_t nstrs);

#endif
