/**
 * @lxkit/plugin-caps: capabilities. Owns lxc.cap.drop and lxc.cap.keep,
 * computes the capability sets once (sets.ts) and applies them as the
 * container's init starts (the `start` hook's caps stage, after the LSM
 * label and no_new_privs) and to attached programs (unless -e).
 *
 * When the config says nothing about capabilities, LXC's default drops
 * (its common.conf: mac_admin mac_override sys_time sys_module sys_rawio)
 * apply; the `defaultDrop` option changes that list ([] for none).
 */
import { readFileSync } from 'node:fs';
import { definePlugin, STAGE_CAPS, tapConfigKeys, VERSION } from '@lxkit/core';
import * as v from 'valibot';
import { lastCap } from './capabilities.js';
import { capsKeys, createCapsModel, parseCap, type CapsModel } from './keys.js';
import { allCaps, capabilitySets } from './sets.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    caps?: CapsModel;
  }
}

export { CAPABILITIES } from './capabilities.js';
export { parseCap, type CapsModel } from './keys.js';
export { allCaps, capabilitySets, formatCapSet, type CapabilitySets } from './sets.js';

/** LXC's common.conf drops. */
export const LXC_DEFAULT_DROP = ['mac_admin', 'mac_override', 'sys_time', 'sys_module', 'sys_rawio'] as const;

const Options = v.optional(
  v.strictObject({
    /** Capabilities dropped when the config sets neither lxc.cap.drop nor lxc.cap.keep (names or numbers). */
    defaultDrop: v.optional(v.array(v.union([v.string(), v.pipe(v.number(), v.integer(), v.minValue(0))]))),
  }),
);

/** The running kernel's last capability. */
export const kernelLastCap = (): number =>
  lastCap(() => {
    try {
      return readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8');
    } catch {
      return undefined;
    }
  });

export default definePlugin({
  name: 'caps',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  options: Options,
  apply(runtime, options) {
    const defaultDrop = (options?.defaultDrop ?? LXC_DEFAULT_DROP).map((c) => (typeof c === 'number' ? c : parseCap(c)));
    const last = kernelLastCap();
    // Its ops follow from the config and the init's uid alone.
    runtime.hooks.cloneFirst.tap('caps', () => undefined);
    runtime.hooks.start.tap({ name: 'caps', stage: STAGE_CAPS }, (ctx) => {
      const sets = capabilitySets(ctx.container.config.model.caps, last, ctx.init.uid ?? 0, defaultDrop);
      // Nothing to drop: the init keeps what it would have had anyway.
      if (sets.bounding === allCaps(last)) return;
      ctx.ops.caps(sets, { what: 'setting the capability sets (lxc.cap.drop/lxc.cap.keep)' });
      ctx.attachConfinement.caps = { bounding: sets.bounding };
    });
    tapConfigKeys(runtime, 'caps', capsKeys, createCapsModel, (caps, config, check) => {
      // LXC refuses to start with both; saying so at validation time is kinder.
      if (caps.drop.length > 0 && caps.keep !== undefined) {
        const last = config.last('lxc.cap.drop', 'lxc.cap.keep');
        if (last) check.error(last, 'lxc.cap.drop and lxc.cap.keep cannot both be set (clear one with an empty value)');
      }
    });
  },
});
