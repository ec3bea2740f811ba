/**
 * lxc-copy -e: a snapshot copy of a container set up to be started once and
 * removed when it stops (lxc.ephemeral = 1, unless the data is to be kept),
 * with extra mounts of host directories (`-m bind=…`, `-m overlay=…`). What
 * starts it, and runs a command in it, is the caller's (lxkit copy -e).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { LxkitError } from '../errors.js';
import type { CloneOptions } from './clone.js';
import type { Container } from './container.js';

/**
 * A host directory (or file) mounted into the copy: `bind` as it is (read-only
 * with `readOnly`), `overlay` with a new upper layer of the copy's own, so
 * that what the container writes there stays out of the host's directory.
 * `target` is inside the container (the source's own path by default).
 */
export type EphemeralMount =
  | { readonly kind: 'bind'; readonly source: string; readonly target?: string; readonly readOnly?: boolean }
  | { readonly kind: 'overlay'; readonly source: string; readonly target?: string };

export interface EphemeralOptions extends Omit<CloneOptions, 'snapshot'> {
  /** The copy stays after it stops (lxc-copy -D): no lxc.ephemeral. */
  keepData?: boolean;
  mounts?: readonly EphemeralMount[];
  /**
   * Its overlay's upper layer on a tmpfs (lxc-copy -t): what it writes
   * never reaches the disk. As LXC does it: a pre-mount hook script in the
   * copy's directory mounts the tmpfs in the container's mount namespace.
   * Only for an overlay copy that is removed at stop, and (in lxkit) one
   * without lxc.idmap, whose overlay the host mounts.
   */
  tmpfs?: boolean;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Six random letters and digits, as mkdtemp's XXXXXX. */
const randomSuffix = () => [...randomBytes(6)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');

/** LXC's name for an ephemeral copy given none: `<name>_XXXXXX`. */
export function ephemeralName(name: string): string {
  return `${name}_${randomSuffix()}`;
}

/** A mount's lxc.mount.entry line; an overlay's upper and work directories are made in the copy's directory. */
async function mountEntry(m: EphemeralMount, dir: string, container: string): Promise<string> {
  const source = normalize(m.source);
  // Relative: lxc.mount.entry resolves it below the rootfs, as lxc-copy writes it.
  const target = normalize(m.target ?? m.source).replace(/^\/+/, '');
  const usage = (why: string) => new LxkitError('LXKIT_USAGE', `container "${container}": the ${m.kind} mount ${m.source}${m.target ? `:${m.target}` : ''}: ${why}`, { container, path: source });
  if (!source.startsWith('/')) throw usage('its source is not an absolute path');
  // lxc.mount.entry is split at blanks, its options at commas.
  const odd = [source, target].find((p) => /[\s,]/.test(p));
  if (odd !== undefined) throw usage(`"${odd}" has a blank or a comma, which a mount entry cannot hold`);
  if (target === '' || target === '.') throw usage('it has no place in the container');
  const st = await stat(source).catch(() => undefined);
  if (!st) throw new LxkitError('LXKIT_USAGE', `container "${container}": the ${m.kind} mount's source ${source} does not exist`, { container, path: source });
  if (m.kind === 'bind') return `${source} ${target} none bind,optional,${m.readOnly ? 'ro' : 'rw'},create=${st.isDirectory() ? 'dir' : 'file'} 0 0`;
  if (!st.isDirectory()) throw new LxkitError('LXKIT_USAGE', `container "${container}": the overlay mount's source ${source} is not a directory`, { container, path: source });
  const layers = await mkdtemp(join(dir, 'mount-'));
  await mkdir(join(layers, 'delta'));
  await mkdir(join(layers, 'work'));
  return `${source} ${target} overlay lowerdir=${source},upperdir=${layers}/delta,workdir=${layers}/work,create=dir 0 0`;
}

const shellQuoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** lxc-copy -t's hook: a fresh tmpfs over the copy's overlay directory (the upper and work directories are made again). */
async function tmpfsHook(copy: Container): Promise<string> {
  const dir = (await copy.paths()).dir;
  const overlayDir = join(dir, 'overlay');
  const { rootfs, idmap } = (await copy.loadConfig()).model;
  const refuse = (why: string) => new LxkitError('LXKIT_UNSUPPORTED', `container "${copy.name}" cannot be placed on a tmpfs (-t): ${why}`, { container: copy.name });
  const path = rootfs.path ?? '';
  if (!/^overlay(fs)?:/.test(path) || !path.endsWith(`:${overlayDir}/delta`)) throw refuse(`its root filesystem is ${path || "the host's"}, not an overlay with its upper layer in ${overlayDir}`);
  if (idmap.length > 0) throw refuse('it has lxc.idmap, and the host mounts the overlay of a user namespace, outside the tmpfs');
  const script = join(dir, `pre-start-${randomSuffix()}`);
  await writeFile(script, `#!/bin/sh\nmount -n -t tmpfs -o mode=0755 none ${shellQuoted(overlayDir)}\nmkdir -p ${shellQuoted(`${overlayDir}/delta`)} ${shellQuoted(`${overlayDir}/work`)}\n`, { mode: 0o755 });
  return script;
}

/**
 * Makes the ephemeral copy `newName` of `source` (a snapshot: an overlay on a
 * dir container, as lxc-copy -e) and resolves with it, not yet started. A
 * failure after the copy was made removes it.
 */
export async function ephemeralCopy(source: Container, newName: string, opts: EphemeralOptions = {}): Promise<Container> {
  const { keepData, mounts = [], tmpfs, ...clone } = opts;
  if (tmpfs && keepData) throw new LxkitError('LXKIT_USAGE', `container "${newName}": a copy on a tmpfs (-t) cannot keep its data (-D)`, { container: newName });
  const copy = await source.clone(newName, { ...clone, snapshot: true });
  try {
    const dir = (await copy.paths()).dir;
    if (tmpfs) await copy.setConfigItem('lxc.hook.pre-mount', await tmpfsHook(copy));
    if (!keepData) await copy.setConfigItem('lxc.ephemeral', '1');
    for (const m of mounts) await copy.setConfigItem('lxc.mount.entry', await mountEntry(m, dir, newName));
    await copy.saveConfig();
  } catch (err) {
    await copy.destroy().catch(() => undefined);
    throw err;
  }
  return copy;
}
