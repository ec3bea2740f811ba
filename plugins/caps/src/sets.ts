/**
 * The five capability sets a container's init (or an attached program)
 * runs with, computed once from lxc.cap.drop / lxc.cap.keep:
 *
 * - bounding: every capability up to the kernel's last, less the dropped
 *   ones (or only the kept ones; `none` keeps nothing);
 * - permitted and effective: what exec gives — the bounding set for uid 0,
 *   nothing for another uid (no ambient capabilities are handed down);
 * - inheritable and ambient: empty, as LXC lowers the ambient set before exec.
 */
import type { CapsModel } from './keys.js';

export interface CapabilitySets {
  readonly bounding: bigint;
  readonly permitted: bigint;
  readonly effective: bigint;
  readonly inheritable: bigint;
  readonly ambient: bigint;
}

const mask = (caps: readonly number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);

/** All capabilities up to `lastCap`. */
export const allCaps = (lastCap: number): bigint => (1n << BigInt(lastCap + 1)) - 1n;

/**
 * The sets for `model` (undefined: nothing configured, all kept) with
 * `defaultDrop` applied when the config says nothing about capabilities.
 */
export function capabilitySets(model: CapsModel | undefined, lastCap: number, uid: number, defaultDrop: readonly number[] = []): CapabilitySets {
  const all = allCaps(lastCap);
  let bounding: bigint;
  if (model?.keep === 'none') bounding = 0n;
  else if (model?.keep !== undefined) bounding = mask(model.keep) & all;
  else bounding = all & ~mask(model?.explicit ? model.drop : defaultDrop);
  const permitted = uid === 0 ? bounding : 0n;
  return { bounding, permitted, effective: permitted, inheritable: 0n, ambient: 0n };
}

/** As /proc/PID/status prints a set (CapBnd: 000001ffffffffff). */
export const formatCapSet = (set: bigint): string => set.toString(16).padStart(16, '0');
