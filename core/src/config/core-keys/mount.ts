/** lxc.mount.fstab, lxc.mount.entry and lxc.mount.auto. */
import type { ConfigEntry } from '../entries.js';
import type { KeyHandler } from '../keys.js';
import { invalid, parseUint } from '../values.js';
import { optional, set } from './helpers.js';
import type { CgroupMountMode, CoreModel, MountAuto, MountEntry } from './model.js';

type H = KeyHandler<CoreModel>;

/** getmntent(3) decodes these octal escapes in fstab fields. */
function decodeField(field: string): string {
  return field.replace(/\\(040|011|012|134)/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Splits one fstab line (an lxc.mount.entry value or a line of
 * lxc.mount.fstab) into a mount entry. `origin` says where it was written.
 */
export function parseMountEntry(line: string, origin: { file: string; line: number }): MountEntry {
  const fields = line.trim().split(/[ \t]+/).map(decodeField);
  if (fields.length < 3 || fields[0] === '') {
    invalid('expected "source target fstype [options [dump [pass]]]"');
  }
  if (fields.length > 6) invalid(`too many fields (${fields.length}); expected at most 6`);
  const [source, target, fstype, opts = 'defaults', dump = '0', pass = '0'] = fields as [string, string, string, ...string[]];
  const options = opts.split(',').filter((o) => o !== '');
  let create: 'dir' | 'file' | undefined;
  for (const o of options) {
    if (!o.startsWith('create=')) continue;
    const what = o.slice('create='.length);
    if (what !== 'dir' && what !== 'file') invalid(`create=${what}: expected create=dir or create=file`);
    create = what;
  }
  const entry: MountEntry = {
    source,
    target,
    fstype,
    options,
    dump: parseUint(dump, 'a dump frequency'),
    pass: parseUint(pass, 'a pass number'),
    optional: options.includes('optional'),
    relative: options.includes('relative'),
    origin,
    ...(create ? { create } : {}),
  };
  return entry;
}

const CGROUP_MODES: Record<string, CgroupMountMode> = { '': 'default', mixed: 'mixed', ro: 'ro', rw: 'rw' };

/** Applies one lxc.mount.auto token, later tokens of a kind replacing earlier ones as in LXC. */
function applyAutoToken(auto: MountAuto, token: string): void {
  if (token === 'proc' || token === 'proc:mixed') return void (auto.proc = 'mixed');
  if (token === 'proc:rw') return void (auto.proc = 'rw');
  if (token === 'sys' || token === 'sys:mixed') return void (auto.sys = 'mixed');
  if (token === 'sys:ro') return void (auto.sys = 'ro');
  if (token === 'sys:rw') return void (auto.sys = 'rw');
  const cg = /^(cgroup|cgroup-full)(?::(mixed|ro|rw))?(:force)?$/.exec(token);
  if (cg) {
    auto.cgroup = { full: cg[1] === 'cgroup-full', mode: CGROUP_MODES[cg[2] ?? '']!, force: cg[3] !== undefined };
    return;
  }
  if (token.startsWith('shmounts:')) {
    const [hostPath, containerPath = '/dev/.lxc-mounts', ...rest] = token.slice('shmounts:'.length).split(':');
    if (!hostPath || rest.length > 0) invalid(`"${token}": expected shmounts:HOSTPATH[:CONTAINERPATH]`);
    auto.shmounts = { hostPath, containerPath };
    return;
  }
  invalid(
    `unknown mount "${token}"; use proc[:mixed|:rw], sys[:ro|:mixed|:rw], cgroup[:mixed|:ro|:rw][:force], cgroup-full[…] or shmounts:PATH`,
  );
}

export const mountKeys: H[] = [
  { key: 'lxc.mount.fstab', apply: (m, v) => set(m.mount, 'fstab', optional(v, String)) },
  {
    key: 'lxc.mount.entry',
    apply(m, v, entry: ConfigEntry) {
      if (v === '') {
        m.mount.entries = [];
        return;
      }
      m.mount.entries.push(parseMountEntry(v, { file: entry.file, line: entry.line }));
    },
  },
  {
    key: 'lxc.mount.auto',
    apply(m, v) {
      if (v === '') {
        m.mount.auto = {};
        return;
      }
      for (const token of v.split(/[ \t]+/).filter(Boolean)) applyAutoToken(m.mount.auto, token);
    },
  },
];
