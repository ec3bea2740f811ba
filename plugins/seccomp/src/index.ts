/**
 * @lxkit/plugin-seccomp: seccomp confinement. Owns lxc.seccomp.* and models
 * it; compiling LXC policy files to BPF and loading them in the child come
 * with the security issue's work.
 */
import { definePlugin, tapConfigKeys, VERSION } from '@lxkit/core';
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
    tapConfigKeys(runtime, 'seccomp', seccompKeys, createSeccompModel);
  },
});
