/**
 * lxc.net.N.type = phys: the host interface `link` itself, moved into the
 * container's network namespace under its container name (with
 * lxc.net.N.mtu and .hwaddr when set). Its monitor gives it back to the host
 * when the container ends, under its own name and with its own MTU, as LXC
 * gives it back (left to the kernel, a virtual device would go with the
 * namespace, and a physical one would come back under the container's name).
 */
import { nativeAddon, type StartContext } from '@lxkit/core';
import { networkError, sysfsNet, where, type NetworkImpl, type PlannedDevice } from './device.js';

function check(device: PlannedDevice): void {
  const link = device.dev.link;
  if (link === undefined) throw networkError(device, 'type', `a phys network hands a host interface to the container: set lxc.net.${device.dev.index}.link`);
  if (sysfsNet(link, 'ifindex') === undefined) throw networkError(device, 'link', `there is no network interface "${link}" on the host`);
}

function create(ctx: StartContext, device: PlannedDevice, netns: string): void {
  check(device);
  const { dev } = device;
  const link = dev.link!;
  const mtu = Number(sysfsNet(link, 'mtu')) || undefined;
  try {
    nativeAddon().netLinkMove(link, netns, { name: device.name, ...(dev.mtu ? { mtu: dev.mtu } : {}), ...(device.hwaddr ? { hwaddr: device.hwaddr } : {}) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { detail?: string };
    throw networkError(device, 'link', `cannot move ${link} into the container as ${device.name}: ${e.detail ?? e.message}`, e);
  }
  ctx.giveBackToHost(device.name, link, dev.mtu && dev.mtu !== mtu ? mtu : undefined);
  ctx.log.info(`${where(device, 'type').replace(/: $/, '')}: ${link} moved into the container as ${device.name}`);
}

export const phys: NetworkImpl = { type: 'phys', check, create };
