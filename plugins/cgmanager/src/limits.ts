/**
 * lxc.cgroup.* and lxc.cgroup2.* applied to a container's cgroups, in
 * config order: v1 settings go to the hierarchy holding their controller,
 * v2 settings to the unified one. Device rules go to the v1 devices
 * controller when there is one; otherwise (and always for lxc.cgroup2.)
 * they become one eBPF device program on the unified hierarchy, as LXC does.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { attachDeviceSettings, LxkitError, parseDeviceRule, type DeviceRule } from '@lxkit/core';
import type { CgroupModel, CgroupSetting } from './keys.js';

/** A hierarchy the container has a cgroup in. */
export interface PlacedHierarchy {
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
  /** The container's cgroup (limits). */
  readonly limit: string;
}

function settingError(s: CgroupSetting, container: string, message: string, err?: NodeJS.ErrnoException): LxkitError {
  const o = s.origin;
  return new LxkitError('LXKIT_CGROUP_FAILED', `${o.file}:${o.line}: ${o.key} = ${s.value}: ${message}`, {
    file: o.file,
    line: o.line,
    key: o.key,
    container,
    ...(err ? { cause: err, ...(err.errno !== undefined ? { errno: err.errno } : {}), syscall: err.syscall ?? 'write', ...(err.path ? { path: err.path } : {}) } : {}),
  });
}

function write(dir: string, s: CgroupSetting, container: string): void {
  const path = `${dir}/${s.file}`;
  try {
    writeFileSync(path, s.value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // cgroupfs refuses to create files: a name that is not there fails with EACCES, not ENOENT.
    const why = e.code === 'ENOENT' || !existsSync(path) ? `the cgroup has no file ${s.file}` : `the kernel refused it (${e.code})`;
    throw settingError(s, container, `${why} (${path})`, e);
  }
}

const isDeviceFile = (file: string) => file === 'devices.allow' || file === 'devices.deny';

/**
 * `warn`: device rules that cannot be applied because the caller is not
 * root (no writable devices controller or unified hierarchy, or EACCES)
 * are skipped with a warning, as LXC does: a user's container has no
 * device access through its user namespace anyway.
 */
export function applyLimits(
  model: CgroupModel | undefined,
  placed: readonly PlacedHierarchy[],
  container: string,
  opts: { root: boolean; warn: (message: string) => void } = { root: true, warn: () => undefined },
): void {
  if (!model) return;
  const unified = placed.find((h) => h.version === 2);
  const v1Devices = placed.find((h) => h.version === 1 && h.controllers.includes('devices'));
  const bpfRules: { allow: boolean; rule: DeviceRule }[] = [];
  let bpfOrigin: CgroupSetting | undefined;
  const pureUnified = placed.length > 0 && placed.every((h) => h.version === 2);
  const ignored: CgroupSetting[] = [];
  const toProgram = (s: CgroupSetting) => {
    bpfRules.push({ allow: s.file === 'devices.allow', rule: parseDeviceRule(s.value) });
    bpfOrigin ??= s;
  };
  for (const s of model.v1) {
    if (isDeviceFile(s.file) && !v1Devices) {
      toProgram(s);
      continue;
    }
    if (isDeviceFile(s.file) && !opts.root) {
      try {
        write(v1Devices!.limit, s, container);
      } catch (err) {
        opts.warn(`${(err as Error).message}; skipped (device access is bounded by the user namespace)`);
      }
      continue;
    }
    const controller = s.file.split('.')[0]!;
    if (pureUnified) {
      // As LXC: legacy limits are dropped with one warning on a cgroup2-only host (device rules above still apply).
      ignored.push(s);
      continue;
    }
    const h = placed.find((p) => p.version === 1 && p.controllers.includes(controller));
    if (!h) throw settingError(s, container, `no cgroup v1 hierarchy has the "${controller}" controller (use lxc.cgroup2.* on the unified hierarchy)`);
    write(h.limit, s, container);
  }
  if (ignored.length > 0) {
    const first = ignored[0]!.origin;
    opts.warn(`${first.file}:${first.line}: ignoring ${ignored.length} lxc.cgroup.* limit(s) (${ignored.map((s) => s.file).join(', ')}): this host has only the unified cgroup hierarchy; use lxc.cgroup2.*`);
  }
  for (const s of model.v2) {
    if (isDeviceFile(s.file)) {
      toProgram(s);
      continue;
    }
    if (!unified) throw settingError(s, container, 'this host has no cgroup v2 (unified) hierarchy (use lxc.cgroup.* on v1 hierarchies)');
    write(unified.limit, s, container);
  }
  if (bpfRules.length === 0) return;
  if (!unified && !opts.root) {
    opts.warn(`${bpfOrigin!.origin.file}:${bpfOrigin!.origin.line}: device rules skipped: no devices controller or cgroup v2 hierarchy is delegated to this user`);
    return;
  }
  if (!unified) throw settingError(bpfOrigin!, container, 'device rules need the devices controller or a cgroup v2 hierarchy, and this host has neither');
  try {
    attachDeviceSettings(unified!.limit, bpfRules, { replace: false });
  } catch (err) {
    if (!opts.root && ['EPERM', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      opts.warn(`${bpfOrigin!.origin.file}:${bpfOrigin!.origin.line}: device rules skipped: loading a device program needs root`);
      return;
    }
    const e = err as NodeJS.ErrnoException & { detail?: string };
    throw settingError(bpfOrigin!, container, `loading the device program into ${unified!.limit} failed (${e.code})${e.detail ? `: ${e.detail.trim()}` : ''}`, e);
  }
}
