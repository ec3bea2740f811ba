/**
 * A root filesystem made reachable on the host for a template, a copy or a
 * clone hook (a backend's open()): mounted with util-linux's mount on a
 * private temporary directory, unmounted and removed by close(). Only
 * storage that is not a plain directory needs this (overlay, loop).
 */
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importExeca } from '../esm-imports.js';
import { LxkitError } from '../errors.js';
import { runTool } from '../host/tool.js';
import type { OpenedRootfs } from './backend.js';

export interface HostMount {
  /** `-t`; undefined lets mount find out (a loop file's filesystem). */
  readonly fstype?: string;
  readonly source: string;
  readonly options: readonly string[];
  /** For errors: the container. */
  readonly container: string;
}

export async function mountOnHost(m: HostMount): Promise<OpenedRootfs> {
  const { execa } = await importExeca();
  const dir = await mkdtemp(join(tmpdir(), 'lxkit-rootfs-'));
  const argv = [...(m.fstype ? ['-t', m.fstype] : []), ...(m.options.length ? ['-o', m.options.join(',')] : []), m.source, dir];
  const r = await execa('mount', argv, { reject: false, stdin: 'ignore', all: true });
  if (r.failed) {
    await rmdir(dir).catch(() => undefined);
    throw new LxkitError('LXKIT_COMMAND_FAILED', `cannot mount the root filesystem ${m.source} of container "${m.container}": mount ${argv.join(' ')}: ${String(r.all ?? '').trim() || `exit ${r.exitCode}`}`, {
      container: m.container,
      path: m.source,
    });
  }
  return {
    path: dir,
    async close() {
      const u = await execa('umount', [dir], { reject: false, stdin: 'ignore', all: true });
      if (u.failed) throw new LxkitError('LXKIT_COMMAND_FAILED', `cannot unmount ${dir}: ${String(u.all ?? '').trim()}`, { path: dir, container: m.container });
      await rmdir(dir);
    },
  };
}

/** Runs a storage tool (btrfs, losetup, mkfs...); its failure is LXKIT_COMMAND_FAILED saying what lxkit was doing and what the tool said. */
export function storageTool(file: string, args: readonly string[], o: { what: string; container: string; path?: string; env?: Record<string, string> }): Promise<string> {
  return runTool(file, args, {
    what: `${o.what} for container "${o.container}"`,
    code: 'LXKIT_COMMAND_FAILED',
    details: { container: o.container, ...(o.path ? { path: o.path } : {}) },
    ...(o.env ? { env: o.env } : {}),
  });
}

/** The filesystem type on a block device or image file, as blkid reads it; none is LXKIT_ROOTFS_MISSING naming it. */
export async function filesystemType(path: string, o: { container: string; what: string }): Promise<string> {
  const type = await storageTool('blkid', ['-o', 'value', '-s', 'TYPE', path], { what: `reading the filesystem type of ${path}`, container: o.container, path });
  if (!type) throw new LxkitError('LXKIT_ROOTFS_MISSING', `${o.what} ${path} of container "${o.container}" holds no filesystem blkid knows`, { path, container: o.container });
  return type;
}
