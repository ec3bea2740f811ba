/**
 * lxc.cgroup.* (v1 hierarchies) and lxc.cgroup2.* (unified hierarchy) keys.
 * Settings keep their order: LXC applies them in order, and device rules
 * depend on it (a rule `a` resets the list).
 */
import { defineKeys, invalid, parseBool01, parseDeviceRule, type KeyHandler } from '@lxkit/core';

export interface CgroupSetting {
  /** Controller file, e.g. `memory.limit_in_bytes`, `memory.max`, `devices.allow`. */
  readonly file: string;
  readonly value: string;
  /** Where it was set, for errors when the kernel refuses it. */
  readonly origin: { readonly file: string; readonly line: number; readonly key: string };
}

export interface CgroupModel {
  /** lxc.cgroup.<file> settings for v1 hierarchies. */
  v1: CgroupSetting[];
  /** lxc.cgroup2.<file> settings for the unified hierarchy. */
  v2: CgroupSetting[];
  dir?: string;
  dirContainer?: string;
  dirMonitor?: string;
  dirMonitorPivot?: string;
  dirContainerInner?: string;
  relative: boolean;
}

export function createCgroupModel(): CgroupModel {
  return { v1: [], v2: [], relative: false };
}

type DirKey = 'dir' | 'dirContainer' | 'dirMonitor' | 'dirMonitorPivot' | 'dirContainerInner';

function dirKey(key: string, field: DirKey): KeyHandler<CgroupModel> {
  return {
    key,
    apply(m, v) {
      if (v === '') {
        delete m[field];
        return;
      }
      if (v.split('/').includes('..')) invalid(`"${v}" must not contain ".."`);
      m[field] = v;
    },
  };
}

/** `lxc.cgroup.<file>` / `lxc.cgroup2.<file>`; an empty value removes that file's settings. */
function settings(prefix: 'lxc.cgroup.' | 'lxc.cgroup2.', list: 'v1' | 'v2'): KeyHandler<CgroupModel>[] {
  const bare = prefix.slice(0, -1);
  return [
    {
      key: bare,
      apply(m, v) {
        if (v !== '') invalid(`${bare} only takes an empty value (to clear); use ${prefix}<controller>.<file>`);
        m[list] = [];
      },
    },
    {
      key: prefix,
      apply(m, v, entry) {
        const file = entry.key.slice(prefix.length);
        if (v === '') {
          m[list] = m[list].filter((s) => s.file !== file);
          return;
        }
        if (file === 'devices.allow' || file === 'devices.deny') parseDeviceRule(v);
        m[list].push({ file, value: v, origin: { file: entry.file, line: entry.line, key: entry.key } });
      },
    },
  ];
}

export const cgroupKeys = defineKeys<CgroupModel>('cgmanager', [
  dirKey('lxc.cgroup.dir', 'dir'),
  dirKey('lxc.cgroup.dir.container', 'dirContainer'),
  dirKey('lxc.cgroup.dir.monitor', 'dirMonitor'),
  dirKey('lxc.cgroup.dir.monitor.pivot', 'dirMonitorPivot'),
  dirKey('lxc.cgroup.dir.container.inner', 'dirContainerInner'),
  { key: 'lxc.cgroup.relative', apply: (m, v) => void (m.relative = v === '' ? false : parseBool01(v)) },
  ...settings('lxc.cgroup.', 'v1'),
  ...settings('lxc.cgroup2.', 'v2'),
]);
