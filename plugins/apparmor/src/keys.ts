/** lxc.apparmor.* keys. */
import { defineKeys, parseBool01, type KeyHandler } from '@lxkit/core';

export interface AppArmorModel {
  /**
   * unset → lxc-container-default-cgns; `unchanged`; `unconfined`;
   * `generated`; or the name of a loaded profile.
   */
  profile?: string;
  allowIncomplete: boolean;
  allowNesting: boolean;
  /** Extra lines appended to a generated profile. */
  raw: string[];
}

export function createAppArmorModel(): AppArmorModel {
  return { allowIncomplete: false, allowNesting: false, raw: [] };
}

export const apparmorKeys = defineKeys<AppArmorModel>('apparmor', [
  {
    key: 'lxc.apparmor.profile',
    apply(m, v) {
      if (v === '') delete m.profile;
      else m.profile = v;
    },
  },
  { key: 'lxc.apparmor.allow_incomplete', apply: (m, v) => void (m.allowIncomplete = v === '' ? false : parseBool01(v)) },
  { key: 'lxc.apparmor.allow_nesting', apply: (m, v) => void (m.allowNesting = v === '' ? false : parseBool01(v)) },
  {
    key: 'lxc.apparmor.raw',
    apply(m, v) {
      if (v === '') m.raw = [];
      else m.raw.push(v);
    },
  },
] satisfies KeyHandler<AppArmorModel>[]);
