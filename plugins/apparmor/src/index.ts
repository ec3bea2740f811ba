/**
 * @lxkit/plugin-apparmor: AppArmor confinement. Owns lxc.apparmor.* and
 * models it; profile generation, loading and the label transition come with
 * the security issue's work.
 */
import { definePlugin, tapConfigKeys, VERSION } from '@lxkit/core';
import { apparmorKeys, createAppArmorModel, type AppArmorModel } from './keys.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    apparmor?: AppArmorModel;
  }
}

export type { AppArmorModel } from './keys.js';

export default definePlugin({
  name: 'apparmor',
  version: VERSION,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    tapConfigKeys(runtime, 'apparmor', apparmorKeys, createAppArmorModel);
  },
});
