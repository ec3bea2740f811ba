/**
 * @lxkit/plugin-cgmanager: cgroup management. Owns lxc.cgroup.* and
 * lxc.cgroup2.* and the lxc.cgroup.dir* keys, and makes each container's
 * cgroups through a driver chosen by name (`hooks.cgroupDriver.for(name)`):
 * `cgroupfs` (the default), `systemd` (a transient scope per container,
 * through systemd's manager API) or `cgmanager` (through a cgmanager D-Bus
 * service, such as `lxkit cgmanager`); a site plugin may tap the map to add
 * its own.
 */
import { definePlugin, LxkitError, STAGE_AUTO_CGROUP, tapConfigKeys, VERSION, type CgroupDriver } from '@lxkit/core';
import * as v from 'valibot';
import { cgroupfsDriver } from './cgroupfs/driver.js';
import { cgmanagerDriver } from './cgmanager/driver.js';
import { systemdDriver } from './systemd/driver.js';
import { cgroupKeys, createCgroupModel, type CgroupModel } from './keys.js';
import { cgroupMountOps } from './mounts.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    cgroup?: CgroupModel;
  }
}

export { deviceAllowed, devicePolicy, deviceProgram, parseDeviceRule, type DevicePolicy, type DeviceRule } from '@lxkit/core';
export { cgroupNames, parseProcCgroup, type CgroupNames } from './placement.js';
export { applyLimits } from './limits.js';
export { cgroupfsDriver, type CgroupfsOptions } from './cgroupfs/driver.js';
export { cgmanagerDriver, type CgmanagerDriverOptions } from './cgmanager/driver.js';
export { systemdBooted, systemdDriver, type SystemdDriverOptions } from './systemd/driver.js';
export { escapeUnitName, scopeUnit } from './systemd/unit.js';
export { CgmanagerClient } from './cgmanager/client.js';
export { startCgmanagerService, type CgmanagerService, type CgmanagerServiceOptions } from './cgmanager/service.js';
export { CGM_API_VERSION, CGM_BUS_NAME, CGM_ERRORS, CGM_INTERFACE, CGM_METHODS, CGM_PATH } from './cgmanager/api.js';
export { createCgroupModel, type CgroupModel, type CgroupSetting } from './keys.js';

const Options = v.optional(
  v.strictObject({
    /** Which driver makes the cgroups: cgroupfs (default), systemd, cgmanager, or one a plugin adds. */
    driver: v.optional(v.pipe(v.string(), v.minLength(1))),
    /** The cgmanager driver's bus (unix:path=…); the system bus when absent. */
    cgmanagerAddress: v.optional(v.pipe(v.string(), v.minLength(1))),
    /** The systemd driver's bus (unix:path=…); the system bus for root, the session bus otherwise. */
    systemdAddress: v.optional(v.pipe(v.string(), v.minLength(1))),
    /** The slice the systemd driver's scopes go in. */
    systemdSlice: v.optional(v.pipe(v.string(), v.regex(/\.slice$/, 'a slice name ends in .slice'))),
  }),
);

export default definePlugin({
  name: 'cgmanager',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  options: Options,
  apply(runtime, options) {
    const driverName = options?.driver ?? 'cgroupfs';
    const { pattern, use } = runtime.toolkit.cgroup;
    runtime.hooks.cgroupDriver.for('cgroupfs').tap('cgmanager', () => cgroupfsDriver({ pattern, use }));
    runtime.hooks.cgroupDriver.for('systemd').tap('cgmanager', () =>
      systemdDriver({ address: options?.systemdAddress, slice: options?.systemdSlice, pattern, use }),
    );
    runtime.hooks.cgroupDriver.for('cgmanager').tap('cgmanager', () => cgmanagerDriver({ address: options?.cgmanagerAddress, pattern }));
    let chosen: CgroupDriver | undefined;
    const driver = () => {
      chosen ??= runtime.hooks.cgroupDriver.get(driverName)?.call();
      if (!chosen) throw new LxkitError('LXKIT_UNSUPPORTED', `cgroup driver "${driverName}" is not provided by any enabled plugin`, { plugin: 'cgmanager' });
      return chosen;
    };
    runtime.hooks.preStart.tapPromise('cgmanager', (ctx) => driver().prepare(ctx));
    runtime.hooks.cloning.tapPromise('cgmanager', async (ctx) => driver().cloning?.(ctx));
    runtime.hooks.startHost.tapPromise('cgmanager', (ctx) => driver().placed(ctx));
    // The cgroup mounts follow from the placement (known after pre-start) and namespaceNames.
    runtime.hooks.cloneFirst.tap('cgmanager', (ctx) => {
      const d = driver();
      return d.placedWork ? d.placedWork(ctx) : `the ${d.name} cgroup driver places the container at start-host`;
    });
    runtime.hooks.mount.tap({ name: 'cgmanager', stage: STAGE_AUTO_CGROUP }, (ctx) => cgroupMountOps(ctx, driver().placement(ctx)));
    tapConfigKeys(runtime, 'cgroup', cgroupKeys, createCgroupModel, (model, config, check) => {
      // LXC: lxc.cgroup.dir excludes the .container/.monitor pair, and the pair goes together.
      const container = model.dirContainer !== undefined;
      const monitor = model.dirMonitor !== undefined;
      if (container !== monitor) {
        const e = config.last(container ? 'lxc.cgroup.dir.container' : 'lxc.cgroup.dir.monitor');
        if (e) check.error(e, 'lxc.cgroup.dir.container and lxc.cgroup.dir.monitor must be set together');
      }
      if (model.dir !== undefined && (container || monitor)) {
        const e = config.last('lxc.cgroup.dir');
        if (e) check.error(e, 'lxc.cgroup.dir cannot be combined with lxc.cgroup.dir.container/.monitor');
      }
    });
  },
});
