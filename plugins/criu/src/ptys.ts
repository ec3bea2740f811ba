/**
 * The container's console and ttys across a checkpoint, as LXC's criu
 * support carries its console. They are ptys of the container's own devpts
 * bound on /dev/console and /dev/ttyN, but their masters are the monitor's,
 * outside what criu dumps: criu is told that each slave is external (`--external
 * tty[rdev:dev]`) and that each bind of one is an external mount (`--ext-mount-map`).
 * At a restore the new monitor opens a pty of the host for each, and criu
 * gives the restored processes that slave in place of the old one
 * (`--inherit-fd`) and binds it where the old one was.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { OpenedPty, RestorePty } from '@lxkit/core';

/** A checkpointed pty: what it was to the container, criu's name for its slave, and where it was bound. */
export interface CheckpointedPty extends RestorePty {
  /** `tty[RDEV:DEV]` (hex), criu's key for an external tty. */
  readonly id: string;
  /** Its binds in the container (`/dev/console`, `/dev/lxc/tty1`…). */
  readonly mountpoints: readonly string[];
}

/** The major numbers of Unix 98 pty slaves (UNIX98_PTY_SLAVE_MAJOR and the 7 after it). */
const PTS_MAJOR_FIRST = 136n;
const PTS_MAJOR_LAST = 143n;

/** glibc's major() of a dev_t. */
const major = (dev: bigint) => ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);

/** A mountinfo field with its octal escapes (`\040`) undone. */
const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** What a bind's mount point says it is: the console, tty N, or neither (a pty bound by someone else). */
function kindOf(mountpoint: string): RestorePty | undefined {
  const name = basename(mountpoint);
  if (name === 'console') return { kind: 'console', index: 0 };
  const tty = /^tty([1-9][0-9]*)$/.exec(name);
  return tty ? { kind: 'tty', index: Number(tty[1]) } : undefined;
}

/**
 * The console and ttys of the container whose init is `pid`: its devpts
 * files bound elsewhere (mountinfo: a devpts mount whose root is not the
 * instance's) that are pty slaves, grouped by pty.
 */
export async function containerPtys(pid: number): Promise<CheckpointedPty[]> {
  const info = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
  const byId = new Map<string, { kind: RestorePty; mountpoints: string[] }>();
  for (const line of info.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'devpts') continue;
    const fields = left.split(' ');
    const root = unescape(fields[3] ?? '/');
    const mountpoint = unescape(fields[4] ?? '');
    if (root === '/' || !mountpoint) continue;
    const kind = kindOf(mountpoint);
    if (!kind) continue;
    // The init's own view of the file: the bound pty, not what its parent directory holds.
    const st = await stat(`/proc/${pid}/root${mountpoint}`, { bigint: true }).catch(() => undefined);
    if (!st?.isCharacterDevice() || major(st.rdev) < PTS_MAJOR_FIRST || major(st.rdev) > PTS_MAJOR_LAST) continue;
    const id = `tty[${st.rdev.toString(16)}:${st.dev.toString(16)}]`;
    const seen = byId.get(id) ?? { kind, mountpoints: [] };
    seen.mountpoints.push(mountpoint);
    byId.set(id, seen);
  }
  return [...byId].map(([id, { kind, mountpoints }]) => ({ ...kind, id, mountpoints }));
}

/** criu's name for a pty's bind, as an external mount: the mount point without its leading slash. */
const mountKey = (mountpoint: string) => mountpoint.replace(/^\/+/, '');

/** At a dump (or pre-dump): each pty slave is external, and each bind of one an external mount. */
export function dumpPtyArgs(ptys: readonly CheckpointedPty[]): string[] {
  return ptys.flatMap((p) => [...p.mountpoints.flatMap((m) => ['--ext-mount-map', `${m}:${mountKey(m)}`]), '--external', p.id]);
}

/** At a restore: each pty's new slave in place of the old one, and bound where the old one was. */
export function restorePtyArgs(ptys: readonly (CheckpointedPty & Pick<OpenedPty, 'path' | 'fd'>)[]): string[] {
  return ptys.flatMap((p) => ['--inherit-fd', `fd[${p.fd}]:${p.id}`, ...p.mountpoints.flatMap((m) => ['--ext-mount-map', `${mountKey(m)}:${p.path}`])]);
}

/** Why the config cannot give the restored container the ptys the checkpoint had, naming the key; undefined when it can. */
export function ptysRefused(ptys: readonly CheckpointedPty[], config: import('@lxkit/core').ContainerConfig): string | undefined {
  const at = (key: string) => {
    const e = config.last(key);
    return e ? ` (${e.file}:${e.line})` : '';
  };
  const model = config.model;
  if (ptys.some((p) => p.kind === 'console') && model.console.path === 'none') {
    return `the checkpoint has a console, and lxc.console.path = none${at('lxc.console.path')} gives it none`;
  }
  const tty = Math.max(0, ...ptys.filter((p) => p.kind === 'tty').map((p) => p.index));
  if (tty > model.tty.max) return `the checkpoint has tty ${tty}, and lxc.tty.max = ${model.tty.max}${at('lxc.tty.max')} gives fewer`;
  return undefined;
}
