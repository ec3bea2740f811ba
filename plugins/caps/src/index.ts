/**
 * @lxkit/plugin-caps: capabilities. Owns lxc.cap.drop and lxc.cap.keep and
 * models them as capability numbers; the bounding, permitted, effective,
 * inheritable and ambient sets are applied by the security issue's work.
 */
import { definePlugin, tapConfigKeys, VERSION } from '@lxkit/core';
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
    tapConfigKeys(runtime, 'caps', capsKeys, createCapsModel, (caps, config, check) => {
      // LXC refuses to start with both; saying so at validation time is kinder.
      if (caps.drop.length > 0 && caps.keep !== undefined) {
        const last = [...config.entries].reverse().find((e) => e.key === 'lxc.cap.drop' || e.key === 'lxc.cap.keep');
        if (last) check.error(last, 'lxc.cap.drop and lxc.cap.keep cannot both be set (clear one with an empty value)');
      }
    });
  },
});
