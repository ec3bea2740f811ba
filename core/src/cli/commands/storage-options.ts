/** Storage options shared by create and copy: -B's types and LXC's size syntax (--fssize 2G, -L 500M). */
import { InvalidArgumentError } from 'commander';

/** LXC's storage types (lxc-create -B); which of them work depends on the enabled plugins. */
export const STORAGE_TYPES = ['dir', 'best', 'btrfs', 'loop', 'lvm', 'overlay', 'overlayfs', 'rbd', 'zfs'];

export function storageType(value: string): string {
  if (!STORAGE_TYPES.includes(value)) throw new InvalidArgumentError(`"${value}" is not a storage type; use ${STORAGE_TYPES.join(', ')}`);
  return value;
}

/** A size as LXC reads it: a number of bytes with an optional K, M, G or T suffix (powers of 1024). */
export function storageSize(value: string): number {
  const m = /^([0-9]+)([KMGT]?)B?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size: write bytes, or a number with K, M, G or T`);
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  const bytes = Number(m[1]) * 1024 ** power;
  if (bytes <= 0 || !Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`"${value}" is not a usable size`);
  return bytes;
}
