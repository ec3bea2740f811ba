/*
 * lxkit-monitor's shared state and the interfaces of its parts:
 *   main.c     the poll loop and signals
 *   control.c  the controller (lxkit's JavaScript): clone, batches, exit, daemon mode
 *   console.c  the console pty: proxied to a terminal, or drained to a log
 *   command.c  the container's command socket (lxkit info/stop/wait/console/attach…)
 *   cgroup.c   the container's cgroups: freeze, cgroup.kill, removal at the end
 *   notify.c   seccomp notifications, forwarded to lxc.seccomp.notify.proxy
 *   netns.c    stepping into network namespaces and back; the container's made ahead of its clone
 *   restore.c  a container restored from a checkpoint instead of cloned
 */
#ifndef LXKIT_MONITOR_H
#define LXKIT_MONITOR_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include "../common/proto.h"

#define LOCK_FD 4
#define NNS 8

struct ns_info {
	const char *name;
	int type;
};
extern const struct ns_info NAMESPACES[NNS];
int ns_index(const char *name); /* NAMESPACES index of `name`, or -1 */

struct monitor {
	int control; /* the controller's socket (lxkit's JavaScript); -1 while there is none (daemon mode) */
	pid_t pid;   /* the container's init, as the host sees it; -1 before clone */
	int pidfd;
	int sock; /* to the container's first process until it execs */
	int ns[NNS];
	uint64_t clone_flags;
	int stdio;           /* STDIO_* of the init */
	int console;         /* pty master of /dev/console */
	int console_peer;    /* a slave fd of our own, so that the master never reports a hang-up */
	int console_log;     /* lxc.console.logfile, or -1 */
	char *console_log_path;
	int64_t console_log_size; /* lxc.console.size in bytes: 0 for no limit */
	int console_log_rotate;   /* lxc.console.rotate: at the limit the log goes to PATH.1, else it is emptied */
	int console_copy;    /* lxc.console.path (lxc-start -c), or -1 */
	int console_client;  /* the command-socket client attached to the console (tty 0), or -1 */
	int console_proxy;   /* our end of the client's socket pair: the console goes through the monitor (logged, buffered), or -1 */
	char console_pending[4096]; /* output the client has not taken yet: the console is not read meanwhile */
	size_t console_pending_len, console_pending_at;
	int ttys[64], nttys; /* masters of /dev/ttyN, kept open so that getty keeps its line */
	int awaiting;        /* a batch is with the child */
	uint64_t ns_moving;  /* CLONE_NEW* of the namespaces a batch with the child may move it to (its UNSHARE, SETNS ops) */
	int init_ran;        /* the init was exec'd (the batch that ends in its exec succeeded) */
	int end_alone;       /* M_END_ALONE: 1, or 2 when a SIGHUP exit is a reboot (then lxkit ends it) */
	int exited, quit, daemon;
	int release_pending; /* the monitor ends the container itself: namespaces and ttys let go beside the cgroups' removal (main.c) */
	int in_payload_cgroup; /* entered the init's unified cgroup itself (no CLONE_INTO_CGROUP), until it settles */
	int abandoned; /* the controller vanished before the container's end: it was killed */
	int serve_failed; /* SERVE was answered with an error: no clone follows (the errno) */
	int netns_at_start; /* --netns: the network namespace was made as the monitor started */
	int exit_code, exit_signal;
	int state; /* STATE_* */
	char **after_exit; /* argv of lxkit's stop work, run when the init exits without a controller */
	int after_exit_always; /* run it at every exit; otherwise only for a reboot (SIGHUP) */
	char *config;      /* the container's effective config, "key = value" lines (C_CONFIG) */
	char *runtime; /* "key = value" lines the start chose (M_CONFIG_ADD): the running config has them after `config` */
	char *name;        /* the container's name, for lxkit monitor */
	char *watch_prefix; /* abstract names of lxkit monitor's sockets for this lxcpath (a pid follows) */
	char *watch_dir;    /* where they register, a file named by the pid each (watchers.c) */
	/* What an attached program is confined with (M_CONFINE), handed out with the pidfd. */
	int confine_caps;
	int64_t confine_bounding;
	int confine_nnp;
	int64_t confine_personality; /* lxc.arch's personality(2), or -1 */
	char *confine_label;
	char *confine_filter;
	uint32_t confine_filter_len;
	struct termios saved;
	int raw;
	int stdin_eof;
	int log_min; /* M_LOG of a lower level is not sent: lxkit would drop it (SERVE says; 0 before) */
	char *log_file, *log_program, *log_container, *log_syslog; /* M_LOG_TARGETS: where the lines go while no controller is attached */
	int log_file_min, log_facility, log_syslog_min;
};
extern struct monitor M;

/* main.c */
void mlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void send_result_errno(int err, const char *syscall, const char *path);
void send_ok(void);
void set_state(int state);

/* control.c */
int control_on_message(void); /* 0: go on; -1: the controller is gone */
void control_lost(void);
void child_on_message(void);
void init_on_exit(void);
void control_reap(void);
void release_namespaces(void);
void adopt_restored(pid_t pid, int pidfd, uint64_t flags);

/* restore.c */
void do_restore(const struct record *r);
void do_restore_ptys(const struct record *r);

/* console.c */
void console_take(int master);
void console_set_winsize(void);
void console_restore_tty(void);
void console_drain(void);
int console_polled(void); /* whether the monitor reads the console master now */
void console_on_output(void);
void console_on_input(void);
void console_detach_terminal(void);
int console_give(void);            /* a socket pair end for the client of tty 0 (the monitor keeps the other), or -1 */
void console_release(void);        /* the client of tty 0 is gone */
void console_on_proxy(short revents);
void console_set_client_winsize(const int64_t *ints, uint32_t n);

/* ring.c: lxc.console.buffer.size */
int ring_init(uint64_t bytes);
int ring_enabled(void);
void ring_write(const char *buf, size_t n);
void ring_clear(void);
char *ring_take(uint64_t max, int clear, size_t *len); /* the oldest (at most max, 0: all) bytes, moved past, or all cleared */

/* cgroup.c */
void cgroup_set(const struct record *r);
int cgroup_count(void);
char *cgroup_describe(int i);
const char *cgroup_init_dir(int i);
int cgroup_freeze(int freeze, int timeout_ms);
void cgroup_after_stop_signal(int sig);
void cgroup_leave_monitor(void);
int cgroup_failure(const char **path);
int cgroup_settle_pending(void);
void cgroup_settle(void);
void cgroup_remove_all(void);

/* notify.c */
void notify_configure(const char *proxy, const char *cookie);
void notify_take(int listener); /* the init's filter's listener (replacing an earlier init's) */
void notify_add(int listener);  /* an attached program's */
int notify_active(void);        /* whether the init's listener is served */
int notify_add_pollfds(struct pollfd *p, int max);
void notify_on_ready(const struct pollfd *p, int n);
void notify_close(void);

/* netns.c */
#include "netns.h"

/* command.c */
int command_listen(const char *name);
int command_add_pollfds(struct pollfd *p, int max);
void command_on_ready(const struct pollfd *p, int n);
void command_broadcast_state(int state);
void command_broadcast_exit(int code, int signal); /* to lxkit monitor's watchers only, as lxc-monitor's "exited with status" */
void command_unlisten(void);
void command_close(void);

/* watchers.c */
void watchers_notify(uint16_t type, const int64_t *ints, uint32_t nints);

#endif
