/**
 * What LVM says about logical volumes (one `lvs` of a volume group), and
 * the names in a rootfs value: `/dev/<vg>/<lv>`.
 */
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { LxkitError, storageTool, type StorageTarget } from '@lxkit/core';

export interface Volume {
  readonly vg: string;
  readonly lv: string;
  /** `/dev/<vg>/<lv>`. */
  readonly path: string;
  /** In bytes. */
  readonly size: number;
  /** lvs' lv_attr: [0] `s`/`S` a classic snapshot, `t` a thin pool, `V` a thin volume. */
  readonly attr: string;
  /** The LV it is a snapshot of, if any (classic or thin). */
  readonly origin: string | undefined;
}

/** Runs an LVM tool (or mkfs); a failure is LXKIT_COMMAND_FAILED with what lxkit was doing and what it said. */
export const lvmTool = (tool: string, args: readonly string[], what: string, t: StorageTarget, path: string): Promise<string> =>
  // LVM warns of every descriptor it inherits; Node's own are no concern of its (LXC sets the same).
  storageTool(tool, args, { what, container: t.name, path, env: { LVM_SUPPRESS_FD_WARNINGS: '1' } });

/** The volume group and logical volume of `/dev/<vg>/<lv>`; anything else is LXKIT_CONFIG_INVALID naming it. */
export function namesOf(source: string, container: string): { vg: string; lv: string } {
  const m = /^\/dev\/([^/]+)\/([^/]+)$/.exec(source);
  if (!m) {
    throw new LxkitError('LXKIT_CONFIG_INVALID', `lxc.rootfs.path = lvm:${source} of container "${container}": an LVM root filesystem is /dev/<volume group>/<logical volume>`, {
      key: 'lxc.rootfs.path',
      container,
    });
  }
  return { vg: m[1]!, lv: m[2]! };
}

/** The logical volumes of volume group `vg`. */
export async function volumesOf(vg: string, t: StorageTarget): Promise<Volume[]> {
  const out = await lvmTool('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '--separator', '\t', '-o', 'vg_name,lv_name,lv_size,lv_attr,origin', vg], `listing the logical volumes of ${vg}`, t, vg);
  return out
    .split('\n')
    .map((l) => l.trim().split('\t'))
    .filter((f) => f.length >= 4)
    .map(([g, lv, size, attr, origin]) => ({ vg: g!, lv: lv!, path: `/dev/${g}/${lv}`, size: Number(size), attr: attr!, origin: origin || undefined }));
}

/** The logical volume `source`, or undefined when its volume group has none of that name. */
export async function findVolume(source: string, t: StorageTarget): Promise<Volume | undefined> {
  const { vg, lv } = namesOf(source, t.name);
  return (await volumesOf(vg, t)).find((v) => v.lv === lv);
}

export const isClassicSnapshot = (v: Volume): boolean => v.attr[0] === 's' || v.attr[0] === 'S';
export const isThinVolume = (v: Volume): boolean => v.attr[0] === 'V';

/**
 * Whether `path` is a block device LVM made (LXC's lvm_detect: its
 * device-mapper uuid starts with `LVM-`). Synchronous, as detection is.
 */
export function isLogicalVolume(path: string): boolean {
  try {
    const st = statSync(path);
    if (!st.isBlockDevice()) return false;
    // dev_t as the kernel encodes it: 12 bits of major above 8 bits of minor (and the rest further up).
    const major = Math.floor(st.rdev / 256) & 0xfff;
    const minor = (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & ~0xff) >>> 0);
    return readFileSync(`/sys/dev/block/${major}:${minor}/dm/uuid`, 'utf8').startsWith('LVM-');
  } catch {
    return false;
  }
}

/** Whether volume group `vg` exists (`-B best`); no LVM tools means no. */
export function volumeGroupExists(vg: string): boolean {
  if (!/^[A-Za-z0-9+_.-]+$/.test(vg)) return false;
  return spawnSync('vgs', ['--noheadings', '-o', 'vg_name', vg], { stdio: 'ignore', env: { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1' } }).status === 0;
}
