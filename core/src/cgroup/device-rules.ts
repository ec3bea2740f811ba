/**
 * Device rules of devices.allow / devices.deny, as the v1 devices controller
 * takes them and LXC compiles them for the unified hierarchy:
 * `a`, or `<type> <major>:<minor> <access>` with type a|b|c, major and minor
 * numbers or `*`, access a combination of r, w, m.
 */
import { invalid } from '../config/values.js';

export interface DeviceRule {
  readonly type: 'a' | 'b' | 'c';
  /** -1 for `*`. */
  readonly major: number;
  readonly minor: number;
  readonly access: string;
}

export function parseDeviceRule(value: string): DeviceRule {
  const v = value.trim();
  if (v === 'a') return { type: 'a', major: -1, minor: -1, access: 'rwm' };
  const m = /^([abc])(?:\s+(\*|[0-9]+):(\*|[0-9]+))?(?:\s+([rwm]{1,3}))?$/.exec(v);
  if (!m) invalid(`"${value}" is not a device rule; expected "a" or "<a|b|c> <major|*>:<minor|*> <rwm>"`);
  const access = m[4] ?? 'rwm';
  if (new Set(access).size !== access.length) invalid(`"${access}" repeats an access letter`);
  const num = (s: string | undefined) => (s === undefined || s === '*' ? -1 : Number(s));
  return { type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access };
}
