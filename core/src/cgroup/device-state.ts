/**
 * A container's device rules on the unified hierarchy, where they are an
 * eBPF program: attached to its cgroup at start, and kept on that cgroup as
 * the extended attribute `trusted.lxkit.devices` (the settings in order, as
 * JSON), so that lxkit device can add to them while it runs and load the
 * program again. They go with the cgroup.
 */
import { native } from '../native-package.js';
import { deviceProgram, devicePolicy } from './device-program.js';
import type { DeviceRule } from './device-rules.js';

export interface DeviceSetting {
  readonly allow: boolean;
  readonly rule: DeviceRule;
}

const XATTR = 'trusted.lxkit.devices';

/** Loads the program for `settings` into the cgroup v2 directory `dir` (replacing the one there with `replace`), and records them. */
export function attachDeviceSettings(dir: string, settings: readonly DeviceSetting[], o: { replace: boolean }): void {
  native().attachDeviceProgram(dir, deviceProgram(devicePolicy(settings)), o.replace);
  native().setXattr(dir, XATTR, Buffer.from(JSON.stringify(settings)));
}

/** The settings recorded on cgroup `dir`, or undefined when it has no program of lxkit's. */
export function recordedDeviceSettings(dir: string): DeviceSetting[] | undefined {
  const raw = native().getXattr(dir, XATTR);
  return raw === undefined ? undefined : (JSON.parse(raw.toString('utf8')) as DeviceSetting[]);
}
