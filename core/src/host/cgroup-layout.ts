/**
 * How cgroups are mounted on this host: legacy (v1 only), hybrid (v1
 * controllers plus a v2 hierarchy) or unified (v2 only), with each
 * hierarchy's controllers. Read from /proc/self/mountinfo.
 *
 * Synchronous reads behind an async interface: a dozen small kernel files,
 * each read in microseconds, where node:fs/promises would cost a CLI start
 * its ~1.5 ms load and every read a thread-pool hop.
 */
import { existsSync, readFileSync } from 'node:fs';

export type CgroupLayoutKind = 'legacy' | 'hybrid' | 'unified' | 'none';

export interface CgroupHierarchy {
  readonly version: 1 | 2;
  readonly mountpoint: string;
  /** v1: the controllers bound to the hierarchy (a named one as `name=systemd`); v2: cgroup.controllers. */
  readonly controllers: readonly string[];
  /** v1 only: cgroup.clone_children is present at the root. */
  readonly cloneChildren?: boolean;
}

export interface CgroupLayout {
  readonly kind: CgroupLayoutKind;
  readonly hierarchies: readonly CgroupHierarchy[];
}

/** Mount options of a cgroup v1 super block that are not controllers. */
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode', 'favordynmods']);

/** Unescapes the octal escapes mountinfo uses for blanks in paths. */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface MountInfoEntry {
  readonly mountpoint: string;
  readonly root: string;
  readonly fstype: string;
  readonly source: string;
  readonly superOptions: readonly string[];
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0 || fields.length < sep + 4) continue;
    out.push({
      root: unescape(fields[3]!),
      mountpoint: unescape(fields[4]!),
      fstype: fields[sep + 1]!,
      source: unescape(fields[sep + 2]!),
      superOptions: fields[sep + 3]!.split(','),
    });
  }
  return out;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export async function readCgroupLayout(mountinfo = '/proc/self/mountinfo'): Promise<CgroupLayout> {
  const mounts = parseMountInfo(readFileSync(mountinfo, 'utf8'));
  const hierarchies: CgroupHierarchy[] = [];
  for (const m of mounts) {
    if (m.fstype === 'cgroup') {
      const controllers = m.superOptions.filter((o) => !NOT_CONTROLLERS.has(o));
      const cloneChildren = existsSync(`${m.mountpoint}/cgroup.clone_children`);
      hierarchies.push({ version: 1, mountpoint: m.mountpoint, controllers, cloneChildren });
    } else if (m.fstype === 'cgroup2') {
      const text = readOr(`${m.mountpoint}/cgroup.controllers`, '');
      hierarchies.push({ version: 2, mountpoint: m.mountpoint, controllers: text.split(/\s+/).filter(Boolean) });
    }
  }
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  const kind: CgroupLayoutKind = v1 && v2 ? 'hybrid' : v1 ? 'legacy' : v2 ? 'unified' : 'none';
  return { kind, hierarchies };
}
