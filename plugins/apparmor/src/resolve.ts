/**
 * Which label a container runs under, decided as LXC decides it
 * (lsm/apparmor.c, apparmor_prepare), as a pure function of the config and
 * the host so that every branch is unit-tested here, without AppArmor.
 */
import type { AppArmorHost } from './host.js';
import type { AppArmorModel } from './keys.js';

/** LXC's default profiles (its lxc-containers policy). */
export const LXC_DEFAULT_PROFILE = 'lxc-container-default';
export const LXC_DEFAULT_PROFILE_CGNS = 'lxc-container-default-cgns';

export type Resolution =
  /** Nothing to change; `info` says why (logged at INFO). */
  | { action: 'none'; info: string }
  /** Change to `profile` (generate and load it first when `generated`). */
  | { action: 'label'; profile: string; generated: boolean; isDefault: boolean }
  | { action: 'refuse'; key: string; reason: string };

export interface ResolveInput {
  model: AppArmorModel;
  host: AppArmorHost;
  /** The host has cgroup namespaces (picks the -cgns default). */
  cgroupns: boolean;
  /** The generated profile's name (profileName()), for `generated`. */
  generatedName: string;
}

/** A label that means "not confined" for the purpose of changing (LXC also lets its own lxc-start profile change). */
const unconfined = (label: string | undefined): boolean => label === undefined || label === 'unconfined' || label === '/usr/bin/lxc-start';

export function resolveProfile({ model, host, cgroupns, generatedName }: ResolveInput): Resolution {
  if (!host.enabled) return { action: 'none', info: 'AppArmor is not enabled on this host: no AppArmor confinement (lxc.apparmor.* has no effect)' };
  if (model.profile === 'unchanged') return { action: 'none', info: 'AppArmor profile unchanged (lxc.apparmor.profile = unchanged)' };
  const generated = model.profile === 'generated';
  if (generated && !host.admin) {
    return { action: 'refuse', key: 'lxc.apparmor.profile', reason: 'a generated profile must be loaded, which needs CAP_MAC_ADMIN; lxkit does not have it here' };
  }
  const requested = generated ? generatedName : model.profile;
  if (!host.canStack && !unconfined(host.label)) {
    if (requested === undefined || requested === host.label) return { action: 'none', info: `AppArmor: lxkit already runs under ${host.label}; the container keeps it` };
    return {
      action: 'refuse',
      key: 'lxc.apparmor.profile',
      reason: `lxkit runs confined by ${host.label} and this kernel cannot stack profiles, so the container cannot change to ${requested}`,
    };
  }
  const profile = requested ?? (cgroupns ? LXC_DEFAULT_PROFILE_CGNS : LXC_DEFAULT_PROFILE);
  if (profile === 'unconfined' && unconfined(host.label)) return { action: 'none', info: 'AppArmor profile unconfined, as lxkit is' };
  if (!host.mountMediation && profile !== 'unconfined' && !model.allowIncomplete) {
    return {
      action: 'refuse',
      key: 'lxc.apparmor.allow_incomplete',
      reason: `this kernel's AppArmor does not mediate mounts, so ${profile} would confine the container only in part; set lxc.apparmor.allow_incomplete = 1 to start it anyway`,
    };
  }
  return { action: 'label', profile, generated, isDefault: requested === undefined };
}
