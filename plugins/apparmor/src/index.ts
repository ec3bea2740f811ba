/**
 * @lxkit/plugin-apparmor: AppArmor confinement. Owns lxc.apparmor.* and
 * models it; profile generation, loading and the label transition come with
 * the security issue's work.
 */
import { definePlugin, notEnforcedYet, tapConfigKeys, VERSION } from '@lxkit/core';
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
    // Read and validated now; enforced when this plugin's issue lands. Saying so beats silence.
    runtime.hooks.preStart.tap('apparmor', (ctx) => {
      const apparmor = ctx.container.config.model.apparmor;
      if (apparmor?.profile && apparmor.profile !== 'unconfined' && apparmor.profile !== 'unchanged') notEnforcedYet(ctx, 'lxc.apparmor.profile', 'the AppArmor profile');
    });
    tapConfigKeys(runtime, 'apparmor', apparmorKeys, createAppArmorModel);
  },
});
