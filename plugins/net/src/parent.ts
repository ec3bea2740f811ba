/**
 * The types made on a host device, the parent (lxc.net.N.link): macvlan,
 * ipvlan and vlan. Each is made directly in the container's network
 * namespace, on a parent that stays on the host, so nothing is left to undo:
 * the device goes with the namespace.
 */
import { nativeAddon, type StartContext } from '@lxkit/core';
import { networkError, sysfsNet, where, type NetworkImpl, type PlannedDevice } from './device.js';

/** One attribute of the kind's IFLA_INFO_DATA (its IFLA_<KIND>_* number, 2 or 4 bytes). */
export interface KindData {
  type: number;
  size: 2 | 4;
  value: number;
}

/** The parent, which must exist on the host (LXC refuses these types without one too). */
export function parentOf(device: PlannedDevice): string {
  const link = device.dev.link;
  if (link === undefined) throw networkError(device, 'type', `a ${device.dev.type} device is made on a host interface: set lxc.net.${device.dev.index}.link`);
  if (sysfsNet(link, 'ifindex') === undefined) throw networkError(device, 'link', `there is no network interface "${link}" on the host`);
  return link;
}

/**
 * An implementation of a type made on a parent: `kind` is the kernel's link
 * kind, `data` its attributes for the device (its mode, its id).
 */
export function onParent(type: string, kind: string, data: (device: PlannedDevice) => KindData[]): NetworkImpl {
  return {
    type,
    check: (device) => void parentOf(device),
    create(ctx: StartContext, device: PlannedDevice, netns: string) {
      const parent = parentOf(device);
      const { dev } = device;
      try {
        nativeAddon().netLinkCreate(
          kind,
          parent,
          { name: device.name, ...(dev.mtu ? { mtu: dev.mtu } : {}), ...(device.hwaddr ? { hwaddr: device.hwaddr } : {}) },
          netns,
          data(device),
        );
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { detail?: string };
        const hint = e.code === 'EOPNOTSUPP' ? ` (this kernel has no ${kind} devices)` : '';
        throw networkError(device, 'type', `cannot make the ${kind} device ${device.name} on ${parent}: ${e.detail ?? e.message}${hint}`, e);
      }
      ctx.log.info(`${where(device, 'type').replace(/: $/, '')}: ${kind} ${device.name} on ${parent} in the container`);
    },
  };
}
