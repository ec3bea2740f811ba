/**
 * @lxkit/plugin-caps: capabilities. Owns lxc.cap.drop and lxc.cap.keep and
 * models them as capability numbers; the bounding, permitted, effective,
 * inheritable and ambient sets are applied by the security issue's work.
 */
import { definePlugin, notEnforcedYet, tapConfigKeys, VERSION } from '@lxkit/core';
import { capsKeys, createCapsModel, type CapsModel } from './keys.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    caps?: CapsModel;
  }
}

export { CAPABILITIES } from './capabilities.js';
export { parseCap, type CapsModel } from './keys.js';

export default definePlugin({
  name: 'caps',
  version: VERSION,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    // Read and validated now; enforced when this plugin's issue lands. Saying so beats silence.
    runtime.hooks.preStart.tap('caps', (ctx) => {
      const caps = ctx.container.config.model.caps;
      if (caps && (caps.drop.length > 0 || caps.keep !== undefined)) notEnforcedYet(ctx, 'lxc.cap.drop/lxc.cap.keep', 'the capability sets');
    });
    tapConfigKeys(runtime, 'caps', capsKeys, createCapsModel, (caps, config, check) => {
      // LXC refuses to start with both; saying so at validation time is kinder.
      if (caps.drop.length > 0 && caps.keep !== undefined) {
        const last = [...config.entries].reverse().find((e) => e.key === 'lxc.cap.drop' || e.key === 'lxc.cap.keep');
        if (last) check.error(last, 'lxc.cap.drop and lxc.cap.keep cannot both be set (clear one with an empty value)');
      }
    });
  },
});
