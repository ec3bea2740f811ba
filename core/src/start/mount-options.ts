/**
 * fstab option words → mount(2) flags and data, as LXC's parse_mntopts and
 * parse_propagationopts read them. Words that are not flags go to the
 * filesystem as data (size=64m, mode=755...); LXC's own words (optional,
 * create=, relative) are consumed by the caller.
 */

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** word → [flags to set, flags to clear] */
const FLAG_WORDS: Readonly<Record<string, readonly [number, number]>> = {
  defaults: [0, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  suid: [0, MS.NOSUID],
  nosuid: [MS.NOSUID, 0],
  dev: [0, MS.NODEV],
  nodev: [MS.NODEV, 0],
  exec: [0, MS.NOEXEC],
  noexec: [MS.NOEXEC, 0],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  remount: [MS.REMOUNT, 0],
  mand: [MS.MANDLOCK, 0],
  nomand: [0, MS.MANDLOCK],
  atime: [0, MS.NOATIME],
  noatime: [MS.NOATIME, 0],
  diratime: [0, MS.NODIRATIME],
  nodiratime: [MS.NODIRATIME, 0],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0],
  symfollow: [0, MS.NOSYMFOLLOW],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
};

const PROPAGATION_WORDS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** LXC's own option words, which never reach the kernel. */
const LXC_WORDS = /^(optional|relative|create=.*|idmap=.*)$/;

export interface ParsedMountOptions {
  /** Flags for the mount itself. */
  flags: number;
  /** For bind mounts: flags a remount applies afterwards (the kernel ignores them on the bind itself). */
  remount: number;
  /** Propagation to set afterwards (MS_PRIVATE...), 0 for none. */
  propagation: number;
  /** Filesystem data: the words that are not flags. */
  data: string;
}

export function parseMountOptions(words: readonly string[]): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const w of words) {
    const f = FLAG_WORDS[w];
    if (f) {
      flags = (flags | f[0]) & ~f[1];
      continue;
    }
    const p = PROPAGATION_WORDS[w];
    if (p !== undefined) {
      propagation |= p;
      continue;
    }
    if (!LXC_WORDS.test(w)) data.push(w);
  }
  // A bind mount takes ro/nosuid/nodev/noexec... only through a remount.
  const remountable = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;
  let remount = 0;
  if (flags & MS.BIND) {
    remount = flags & remountable;
    flags &= ~remountable;
  }
  return { flags, remount, propagation, data: data.join(',') };
}
