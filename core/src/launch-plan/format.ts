/**
 * A launch plan on disk: a sequence of frames in the helpers' wire format
 * (start/protocol.ts), each one record. native/src/front/plan.h is the other
 * side: keep the two in step. In order, the front checks each input entry
 * against the host as it is now and does each action entry; any difference
 * or failure hands the command to the Node CLI (docs/launch-plans.md).
 */

/** Bumped whenever an entry's meaning changes: a plan of another format is not used. */
export const PLAN_FORMAT = 2;

export const P = {
  /** ints: format, uid, gid, euid, egid, umask, isatty(0), isatty(1), isatty(2); strs: cwd. */
  HEAD: 500,
  /** strs: the command's arguments (after the program's name). */
  ARGS: 501,
  /** strs: the environment, sorted. */
  ENV: 502,

  // Inputs: what the recorded run consulted, compared with what is there now.
  /**
   * ints: errno (0: found), dev, ino, mode, uid, gid, size, mtime s, mtime ns, ctime s, ctime ns, nofollow; strs: path.
   * A file of a real filesystem; a directory's size and times are -1 (not compared: a readdir records what is in it).
   */
  STAT: 503,
  /** ints: errno, normalised; strs: path, content. A file of /proc or /sys, by its content. */
  CONTENT: 504,
  /** ints: errno, file type (st_mode & S_IFMT), nofollow; strs: path. Whether a /proc or /sys path is there. */
  EXISTS: 505,
  /** ints: errno; strs: path, "<type><name>" sorted (type: d, f, l, o). */
  READDIR: 506,
  /** ints: errno; strs: path, the real path. */
  REALPATH: 507,
  /** ints: errno, mode; strs: path. access(2). */
  ACCESS: 508,
  /** ints: errno; strs: path, target. */
  READLINK: 509,

  // Actions, done in order; each must end as it did in the recorded run (errno).
  /** ints: mode, errno; strs: path. */
  MKDIR: 510,
  /** ints: open flags, mode, errno; strs: path, data. */
  WRITE: 511,
  /** ints: uid, gid, errno; strs: path. */
  CHOWN: 512,
  /** ints: errno; strs: path. */
  RMDIR: 513,
  /** ints: mode; strs: path. mkdir -p: it is there afterwards, whoever made it. */
  MKDIRP: 514,
  /** ints: fd; strs: bytes. What the command wrote on its standard output or error. */
  OUTPUT: 515,

  /** strs: path. The container's lock: open O_WRONLY|O_APPEND|O_CREAT 0600, flock LOCK_EX|LOCK_NB. */
  LOCK: 520,
  /** ints: per fd from 4 on, what it is (1: the lock); strs: path, argv... The monitor, with its control socket as fd 3. */
  SPAWN: 521,
  /** ints: frame type; strs: payload. A frame to the monitor. */
  SEND: 522,
  /** ints: frame type, ok (M_RESULT's ints[0], else 1). A frame the monitor must send next (M_LOG aside). */
  RECV: 523,
  /**
   * ints: kind (TAIL), then the kind's own; strs: container, then the kind's own. The hand-over (active.ts PlanTail):
   *   FOREGROUND, DAEMON, HELPER: nothing more;
   *   STOP: ints signal (STOP_SIGNAL), timeout s, nokill, nowait; strs: the command socket's name.
   */
  TAIL: 530,
} as const;

export const TAIL = { foreground: 1, daemon: 2, stop: 3, helper: 4 } as const;
export const STOP_SIGNAL = { halt: 0, reboot: 1, kill: 2 } as const;

/** Lines of /proc/self/status that are the same for any process of the same user and credentials. */
export const STATUS_KEYS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];

/**
 * What of a /proc file a plan compares, for the few that differ between any
 * two processes (the recording Node and the front): of /proc/self/status the
 * credential lines; of /proc/self/limits the limit names and hard limits
 * (Node raises its soft limit of open files). Returns undefined for a file
 * compared whole. native/src/front/replay.c normalises the same way.
 */
export function normalise(path: string, content: string): string | undefined {
  if (path === '/proc/self/status') {
    return content
      .split('\n')
      .filter((l) => STATUS_KEYS.includes(l.slice(0, l.indexOf(':'))))
      .join('\n');
  }
  if (path === '/proc/self/limits') {
    return content
      .split('\n')
      .map((l) => `${l.slice(0, 26).trimEnd()}|${l.slice(47, 68).trim()}`)
      .join('\n');
  }
  return undefined;
}
