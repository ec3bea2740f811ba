/**
 * What the running kernel's AppArmor offers, read once per process from
 * sysfs and securityfs. The reads go through a seam so that every
 * combination (disabled, no mount mediation, stacking, already confined)
 * is unit-testable on a host without AppArmor.
 */
import { readFileSync } from 'node:fs';

export interface AppArmorHost {
  /** /sys/module/apparmor/parameters/enabled reads Y. */
  enabled: boolean;
  /** The kernel mediates mounts (without it a profile is incomplete: lxc.apparmor.allow_incomplete). */
  mountMediation: boolean;
  /** Profiles can be stacked (features/domain/stack, domain version ≥ 1.2). */
  canStack: boolean;
  /** lxkit itself runs in a stacked namespace (a nested container). */
  stacked: boolean;
  /** This process may load policy (CAP_MAC_ADMIN effective). */
  admin: boolean;
  /** This process's label, the mode suffix removed; undefined when unreadable. */
  label: string | undefined;
}

export type ReadFile = (path: string) => string | undefined;

const SECURITYFS = '/sys/kernel/security/apparmor';
const CAP_MAC_ADMIN = 33n;

export const readText: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** A label as the kernel reports it (`name (enforce)\n`) without the mode. */
export const bareLabel = (text: string): string => text.replace(/\0/g, '').trim().replace(/\s+\((enforce|complain|kill|unconfined|user)\)$/, '');

export function probeHost(read: ReadFile = readText): AppArmorHost {
  const enabled = read('/sys/module/apparmor/parameters/enabled')?.trim().startsWith('Y') ?? false;
  if (!enabled) return { enabled, mountMediation: false, canStack: false, stacked: false, admin: false, label: undefined };
  const version = /^(\d+)\.(\d+)/.exec(read(`${SECURITYFS}/features/domain/version`) ?? '');
  const canStack =
    read(`${SECURITYFS}/features/domain/stack`)?.trim() === 'yes' && !!version && (Number(version[1]) > 1 || (Number(version[1]) === 1 && Number(version[2]) >= 2));
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(read('/proc/self/status') ?? '');
  const label = read('/proc/self/attr/apparmor/current') ?? read('/proc/self/attr/current');
  return {
    enabled,
    mountMediation: read(`${SECURITYFS}/features/mount/mask`) !== undefined,
    canStack,
    stacked: canStack && read(`${SECURITYFS}/.ns_stacked`)?.trim() === 'yes',
    admin: !!capEff && ((BigInt(`0x${capEff[1]}`) >> CAP_MAC_ADMIN) & 1n) === 1n,
    label: label === undefined ? undefined : bareLabel(label),
  };
}

/** Whether a profile of that name is loaded (root can read the list). */
export function profileLoaded(name: string, read: ReadFile = readText): boolean {
  const list = read(`${SECURITYFS}/profiles`);
  return list !== undefined && list.split('\n').some((l) => bareLabel(l) === name);
}

/** The policy namespace directory of a stacked container. */
export const namespaceDir = (ns: string): string => `${SECURITYFS}/policy/namespaces/${ns}`;
