/*
 * The ops the container's first process runs, in batches sent by JavaScript
 * (core/src/start/ops.ts builds them; keep the codes and argument layouts in
 * step). Every op's record starts with ints[0] = path flags (PF_*).
 */
#ifndef LXKIT_OPS_H
#define LXKIT_OPS_H

#include "../common/proto.h"

enum op_code {
	OP_MAKE_RSLAVE = 1,  /* (none): mount propagation of / becomes rslave */
	OP_SET_ROOT = 2,     /* strs: path -> the root later PF_IN_ROOT paths resolve beneath */
	OP_MOUNT = 3,        /* strs: source, target, fstype, data; ints: pf, mountflags, remount flags */
	OP_ATTACH_TREE = 4,  /* strs: target; ints: pf, fd slot of a detached mount */
	OP_MKDIR = 5,        /* strs: path; ints: pf, mode */
	OP_MKNOD = 6,        /* strs: path; ints: pf, mode (type|perm), major, minor */
	OP_SYMLINK = 7,      /* strs: link text, path; ints: pf */
	OP_WRITE = 8,        /* strs: path, data; ints: pf, mode */
	OP_PIVOT = 9,        /* pivot_root into the root and detach the old one */
	OP_SETHOSTNAME = 10, /* strs: name */
	OP_RUN = 11,         /* strs: argv..., env...; ints: pf, argc, envc -> run to completion */
	OP_EXEC = 12,        /* strs: argv..., env..., cwd; ints: pf, mode, argc, envc, uid, gid, stdio slot, ngroups, groups... */
	OP_NO_NEW_PRIVS = 13,
	OP_PRLIMIT = 14,     /* ints: pf, resource, soft, hard (-1: unlimited) */
	OP_UMOUNT = 15,      /* strs: path; ints: pf, umount2 flags */
	OP_PTY = 16,         /* strs: ptmx, bind target or ""; ints: pf, kind, index, slave slot or -1, mode or -1 */
	OP_BECOME_ROOT = 17, /* setresuid/gid 0 in a new user namespace, drop supplementary groups */
	OP_SETNS = 18,       /* strs: path; ints: pf, nstype */
	OP_LOOPBACK_UP = 19, /* bring lo up in the network namespace */
	OP_UNSHARE = 20,     /* ints: pf, flags */
	OP_CHOWN = 21,       /* strs: path; ints: pf, uid, gid */
	OP_CAPS = 22,        /* ints: pf, bounding, inheritable, ambient (bit masks) -> applied now */
	OP_LSM_LABEL = 23,   /* strs: AppArmor label -> changed to right before exec */
	OP_SECCOMP = 24,     /* ints[1]: has notify rules; strs: BPF program (struct sock_filter[]) -> installed right before exec (its listener to the monitor) */
	OP_BOOT_ID = 25,     /* strs: file, target; ints: pf -> a random id written to file, bound read-only on target (skipped if target is missing) */
	OP_PERSONALITY = 26, /* ints: pf, persona -> personality(2) */
	OP_SESSION_KEYRING = 27, /* a new anonymous session keyring, joined (a kernel without keyctl, or one refusing it, is no error: as LXC) */
	OP_SCHED_CORE = 28,  /* a core scheduling cookie of the thread group's own (its children inherit it) */
	OP_NET_LINK = 29,    /* strs: ifname, new name or "", hwaddr (6 bytes) or ""; ints: pf, mtu (0: kept), up -> the device changed */
	OP_NET_ADDR = 30,    /* strs: ifname, address (4 or 16 bytes), broadcast (4 bytes) or ""; ints: pf, family (4|6), prefix */
	OP_NET_ROUTE = 31,   /* strs: ifname, gateway or "" (on the link), destination or "" (default); ints: pf, family (4|6), prefix */
};

/* Path flags. */
#define PF_IN_ROOT 0x1        /* the (first) path resolves beneath the root, never leaving it */
#define PF_OPTIONAL 0x2       /* a missing source or target skips the op */
#define PF_CREATE_DIR 0x4     /* create the target (and parents) as a directory */
#define PF_CREATE_FILE 0x8    /* create the target as an empty file (parents as directories) */
#define PF_SOURCE_IN_ROOT 0x10 /* the mount source resolves beneath the root too */
#define PF_PARENTS 0x20       /* mkdir: create missing parents */
#define PF_SOURCE_SLOT 0x40   /* the mount source is a received fd: strs[0] is its slot number */

/* OP_EXEC modes. */
#define EXEC_REPLACE 0 /* exec the program as the container's init */
#define EXEC_INIT 1    /* stay as a small init: run the program as a child, reap, forward signals */

/* OP_PTY kinds, echoed to the monitor with the master fd. */
#define PTY_TTY 0
#define PTY_CONSOLE 1
/* M_FD kind of the seccomp listener the child hands over (not a pty). */
#define FD_SECCOMP_LISTENER 100

/* Monitor <-> child only. */
#define M_FD 200 /* ints: slot, or kind and index; carries one fd (SCM_RIGHTS) */

#define FD_SLOTS 64

#endif
