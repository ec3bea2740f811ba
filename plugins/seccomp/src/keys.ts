/** lxc.seccomp.* keys. */
import { defineKeys, invalid, parseBool01, type KeyHandler } from '@lxkit/core';

export interface SeccompModel {
  /** Policy file (LXC seccomp policy format, version 1 or 2). */
  profile?: string;
  allowNesting: boolean;
  /** Where seccomp notifications are proxied: `unix:/path` or `unix:@abstract`. */
  notifyProxy?: string;
  notifyCookie?: string;
}

export function createSeccompModel(): SeccompModel {
  return { allowNesting: false };
}

function setOpt<K extends 'profile' | 'notifyProxy' | 'notifyCookie'>(m: SeccompModel, k: K, v: string): void {
  if (v === '') delete m[k];
  else m[k] = v;
}

export const seccompKeys = defineKeys<SeccompModel>('seccomp', [
  { key: 'lxc.seccomp.profile', apply: (m, v) => setOpt(m, 'profile', v) },
  { key: 'lxc.seccomp.allow_nesting', apply: (m, v) => void (m.allowNesting = v === '' ? false : parseBool01(v)) },
  {
    key: 'lxc.seccomp.notify.proxy',
    apply(m, v) {
      if (v !== '' && !/^unix:(@.+|\/.+)$/.test(v)) invalid(`"${v}": expected unix:/path or unix:@abstract-name`);
      setOpt(m, 'notifyProxy', v);
    },
  },
  { key: 'lxc.seccomp.notify.cookie', apply: (m, v) => setOpt(m, 'notifyCookie', v) },
] satisfies KeyHandler<SeccompModel>[]);
