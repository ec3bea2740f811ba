/**
 * LXC 1.x/2.x config keys and their current names.
 *
 * One translator serves both uses: loading (a legacy line is read as its
 * current key, with a warning) and `lxkit update-config` (the file is
 * rewritten). It is stateful because two legacy forms depend on other lines:
 * unindexed `lxc.network.*` keys belong to the network opened by the last
 * `lxc.network.type`, and `lxc.rootfs` takes its type prefix from
 * `lxc.rootfs.backend` wherever that appears.
 */

/** Renamed one to one (lxc-update-config's list, plus the keys it forgets). */
const RENAMED: Readonly<Record<string, string>> = {
  'lxc.utsname': 'lxc.uts.name',
  'lxc.aa_profile': 'lxc.apparmor.profile',
  'lxc.aa_allow_incomplete': 'lxc.apparmor.allow_incomplete',
  'lxc.se_context': 'lxc.selinux.context',
  'lxc.id_map': 'lxc.idmap',
  'lxc.tty': 'lxc.tty.max',
  'lxc.pts': 'lxc.pty.max',
  'lxc.devttydir': 'lxc.tty.dir',
  'lxc.mount': 'lxc.mount.fstab',
  'lxc.seccomp': 'lxc.seccomp.profile',
  'lxc.console': 'lxc.console.path',
  'lxc.haltsignal': 'lxc.signal.halt',
  'lxc.rebootsignal': 'lxc.signal.reboot',
  'lxc.stopsignal': 'lxc.signal.stop',
  'lxc.syslog': 'lxc.log.syslog',
  'lxc.loglevel': 'lxc.log.level',
  'lxc.logfile': 'lxc.log.file',
  'lxc.init_cmd': 'lxc.init.cmd',
  'lxc.init_uid': 'lxc.init.uid',
  'lxc.init_gid': 'lxc.init.gid',
};

/** Keys LXC 3 dropped without replacement. */
const REMOVED = new Set(['lxc.rootfs.backend', 'lxc.pivotdir', 'lxc.kmsg']);

/** Storage types that can prefix lxc.rootfs.path (storage.c). */
const ROOTFS_TYPES = ['dir', 'btrfs', 'zfs', 'lvm', 'rbd', 'overlay', 'overlayfs', 'loop', 'nbd'];

export type Translation =
  /** Read the line as `key = value`. */
  | { readonly kind: 'rename'; readonly key: string; readonly value: string; readonly note: string }
  /** The key no longer exists; the line is ignored (and removed by update-config). */
  | { readonly kind: 'drop'; readonly note: string }
  /** A legacy line that cannot be translated. */
  | { readonly kind: 'error'; readonly note: string };

export function isLegacyKey(key: string): boolean {
  return (
    key in RENAMED ||
    REMOVED.has(key) ||
    key === 'lxc.rootfs' ||
    key === 'lxc.network' ||
    key.startsWith('lxc.network.') ||
    key.startsWith('lxc.limit.')
  );
}

function networkSubkey(sub: string): string {
  // 2.x wrote addresses as lxc.network.ipv4; 3.0 named them ipv4.address.
  if (sub === 'ipv4' || sub === 'ipv6') return `${sub}.address`;
  return sub;
}

export class LegacyTranslator {
  readonly #backend: string | undefined;
  /** Index the next unindexed lxc.network.type opens. */
  #nextIndex: number;
  #current = -1;

  /**
   * `all` is every entry of the config being translated, in order: the
   * translator looks ahead for lxc.rootfs.backend and for indexes already
   * used by `lxc.network.N.*` keys, so that unindexed networks do not collide
   * with indexed ones.
   */
  constructor(all: readonly { key: string; value: string }[]) {
    let backend: string | undefined;
    let maxIndexed = -1;
    for (const { key, value } of all) {
      if (key === 'lxc.rootfs.backend') backend = value || undefined;
      const m = /^lxc\.network\.([0-9]+)\./.exec(key);
      if (m) maxIndexed = Math.max(maxIndexed, Number(m[1]));
    }
    this.#backend = backend;
    this.#nextIndex = maxIndexed + 1;
  }

  /** Undefined when `key` is not a legacy key. */
  translate(key: string, value: string): Translation | undefined {
    const renamed = RENAMED[key];
    if (renamed) return { kind: 'rename', key: renamed, value, note: `legacy key, read as ${renamed}` };
    if (REMOVED.has(key)) return { kind: 'drop', note: 'legacy key with no current equivalent; ignored' };
    if (key.startsWith('lxc.limit.')) {
      const to = 'lxc.prlimit.' + key.slice('lxc.limit.'.length);
      return { kind: 'rename', key: to, value, note: `legacy key, read as ${to}` };
    }
    if (key === 'lxc.rootfs') return this.#rootfs(value);
    if (key === 'lxc.network') {
      return { kind: 'rename', key: 'lxc.net', value, note: 'legacy key, read as lxc.net' };
    }
    if (key.startsWith('lxc.network.')) return this.#network(key.slice('lxc.network.'.length), value);
    return undefined;
  }

  #rootfs(value: string): Translation {
    const hasPrefix = ROOTFS_TYPES.some((t) => value.startsWith(t + ':'));
    // Without lxc.rootfs.backend, 2.x detected the type at start; a bare path
    // keeps that (LXC's converter forces dir: and loses btrfs/zfs detection).
    const path = this.#backend && !hasPrefix && value !== '' ? `${this.#backend}:${value}` : value;
    return { kind: 'rename', key: 'lxc.rootfs.path', value: path, note: 'legacy key, read as lxc.rootfs.path' };
  }

  #network(rest: string, value: string): Translation {
    const indexed = /^([0-9]+)\.(.+)$/.exec(rest);
    if (indexed) {
      const to = `lxc.net.${indexed[1]}.${networkSubkey(indexed[2]!)}`;
      return { kind: 'rename', key: to, value, note: `legacy key, read as ${to}` };
    }
    if (rest === 'type') this.#current = this.#nextIndex++;
    if (this.#current < 0) {
      return { kind: 'error', note: `legacy key before any lxc.network.type; it belongs to no network` };
    }
    const to = `lxc.net.${this.#current}.${networkSubkey(rest)}`;
    return { kind: 'rename', key: to, value, note: `legacy key, read as ${to}` };
  }
}
