/**
 * @lxkit/plugin-cgmanager: cgroup management. Owns lxc.cgroup.* and
 * lxc.cgroup2.* and models them; the cgroupfs, systemd and cgmanager drivers
 * come with the cgroup issue's work.
 */
import { definePlugin, notEnforcedYet, tapConfigKeys, VERSION } from '@lxkit/core';
import { cgroupKeys, createCgroupModel, type CgroupModel } from './keys.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    cgroup?: CgroupModel;
  }
}

export { parseDeviceRule, type DeviceRule } from './devices.js';
export type { CgroupModel, CgroupSetting } from './keys.js';

export default definePlugin({
  name: 'cgmanager',
  version: VERSION,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    // Read and validated now; enforced when this plugin's issue lands. Saying so beats silence.
    runtime.hooks.preStart.tap('cgmanager', (ctx) => {
      const cgroup = ctx.container.config.model.cgroup;
      if (cgroup && (cgroup.v1.length > 0 || cgroup.v2.length > 0)) notEnforcedYet(ctx, 'lxc.cgroup.*/lxc.cgroup2.*', 'cgroup limits');
    });
    tapConfigKeys(runtime, 'cgroup', cgroupKeys, createCgroupModel, (model, config, check) => {
      // LXC: lxc.cgroup.dir excludes the .container/.monitor pair, and the pair goes together.
      const last = (key: string) => [...config.entries].reverse().find((e) => e.key === key);
      const container = model.dirContainer !== undefined;
      const monitor = model.dirMonitor !== undefined;
      if (container !== monitor) {
        const e = last(container ? 'lxc.cgroup.dir.container' : 'lxc.cgroup.dir.monitor');
        if (e) check.error(e, 'lxc.cgroup.dir.container and lxc.cgroup.dir.monitor must be set together');
      }
      if (model.dir !== undefined && (container || monitor)) {
        const e = last('lxc.cgroup.dir');
        if (e) check.error(e, 'lxc.cgroup.dir cannot be combined with lxc.cgroup.dir.container/.monitor');
      }
    });
  },
});
