/**
 * @lxkit/plugin-seccomp: seccomp confinement. Owns lxc.seccomp.* and models
 * it; compiling LXC policy files to BPF and loading them in the child come
 * with the security issue's work.
 */
import { definePlugin, notEnforcedYet, tapConfigKeys, VERSION } from '@lxkit/core';
import { createSeccompModel, seccompKeys, type SeccompModel } from './keys.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    seccomp?: SeccompModel;
  }
}

export type { SeccompModel } from './keys.js';

export default definePlugin({
  name: 'seccomp',
  version: VERSION,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    // Read and validated now; enforced when this plugin's issue lands. Saying so beats silence.
    runtime.hooks.preStart.tap('seccomp', (ctx) => {
      const seccomp = ctx.container.config.model.seccomp;
      if (seccomp?.profile) notEnforcedYet(ctx, 'lxc.seccomp.profile', 'the seccomp filter');
    });
    tapConfigKeys(runtime, 'seccomp', seccompKeys, createSeccompModel);
  },
});
