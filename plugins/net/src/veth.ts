/**
 * lxc.net.N.type = veth: a pair, one end on the host (lxc.net.N.veth.pair,
 * else vethXXXXXX; on the bridge lxc.net.N.link when set; always up), the
 * other made directly in the container's network namespace under its
 * container name, so that it never shows on the host. Both ends get
 * lxc.net.N.mtu, else the bridge's MTU, as LXC gives them.
 *
 * In router mode (lxc.net.N.veth.mode) the host end is on no bridge: the
 * host routes to the container instead (veth-routes.ts, with the
 * veth.ipv4/ipv6.route routes of either mode).
 *
 * The bridge may be Open vSwitch's (ovs.ts): the host end is then added
 * as its port, and that port is deleted when the container is gone (for a
 * user other than root, both by lxkit-user-nic).
 * Nothing else undoes it at the end: a veth pair goes when either end's
 * namespace goes, and the container's goes with the container; the routes
 * and proxy entries go with the host end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nativeAddon, type StartContext } from '@lxkit/core';
import { networkError, randomName, sysfsNet, where, type NetworkImpl, type PlannedDevice } from './device.js';
import { checkRouterMode, hostRoutes } from './veth-routes.js';
import { checkVlans, setVlans } from './veth-vlan.js';
import { checkUserVeth, createUserVeth } from './user-nic.js';
import { addOvsPort, checkOvsVlans, isKernelBridge, isOvsBridge } from './ovs.js';
import type { NetDevice } from './keys.js';

/** A user other than root makes no devices: lxkit-user-nic does (user-nic.ts). */
const unprivileged = () => process.getuid?.() !== 0;

/** How long a host name of an earlier run of the container may take to go (its namespace's clean-up is the kernel's, afterwards). */
const OLD_PAIR_WAIT_MS = 2000;

interface Bridge {
  readonly name: string;
  readonly ovs: boolean;
}

/** The bridge the host end goes on: lxc.net.N.link, a kernel bridge or an Open vSwitch one. */
async function bridgeOf(device: PlannedDevice): Promise<Bridge | undefined> {
  const link = device.dev.link;
  // Router mode routes to the container instead of bridging it.
  if (link === undefined || device.dev.veth.mode === 'router') return undefined;
  if (sysfsNet(link, 'ifindex') === undefined) throw networkError(device, 'link', `there is no network interface "${link}" on the host`);
  if (isKernelBridge(link)) return { name: link, ovs: false };
  const { ovs, why } = await isOvsBridge(link);
  // Open vSwitch's database is root's: a user other than root who cannot ask leaves the question to lxkit-user-nic, which asks as root.
  if (!ovs && why !== undefined && unprivileged()) return { name: link, ovs: true };
  if (!ovs) {
    throw networkError(
      device,
      'link',
      `"${link}" is not a bridge, of the kernel's or of Open vSwitch's${why ? ` (${why})` : ''} (a veth's host end is put on a bridge; macvlan, ipvlan or phys use an interface itself)`,
    );
  }
  return { name: link, ovs: true };
}

/** What check() found, for create() at the same start: asking Open vSwitch is a process each time. */
const checked = new WeakMap<NetDevice, Bridge | undefined>();

/** Whether the container's end left a port to delete from an Open vSwitch bridge (what bridgeOf accepted then). */
export const onOvsBridge = (dev: NetDevice): boolean =>
  dev.type === 'veth' && dev.veth.mode !== 'router' && dev.link !== undefined && !isKernelBridge(dev.link) && sysfsNet(dev.link, 'ifindex') !== undefined;

async function create(ctx: StartContext, device: PlannedDevice, netns: string): Promise<string> {
  const { dev } = device;
  if (unprivileged()) {
    const host = await createUserVeth(ctx, device, netns);
    ctx.runtimeConfig(`lxc.net.${dev.index}.veth.pair`, host);
    ctx.log.info(`${where(device, 'type').replace(/: $/, '')}: veth ${host} on ${dev.link} <-> ${device.name} in the container (lxkit-user-nic)`);
    return host;
  }
  const on = checked.has(dev) ? checked.get(dev) : await bridgeOf(device);
  checked.delete(dev);
  // An Open vSwitch bridge takes its ports through its database, after the pair is made.
  const bridge = on && !on.ovs ? on.name : undefined;
  const mtu = dev.mtu ?? (on ? Number(sysfsNet(on.name, 'mtu')) || undefined : undefined);
  const host = dev.veth.pair ?? randomName('veth');
  // Both ends get the queue counts, as LXC gives them.
  const queues = { ...(dev.veth.rxQueues ? { rxQueues: dev.veth.rxQueues } : {}), ...(dev.veth.txQueues ? { txQueues: dev.veth.txQueues } : {}) };
  const make = () =>
    nativeAddon().netVethCreate(
      { name: host, up: true, ...(mtu ? { mtu } : {}), ...(bridge ? { master: bridge } : {}), ...queues },
      { name: device.name, ...(mtu ? { mtu } : {}), ...(device.hwaddr ? { hwaddr: device.hwaddr } : {}), ...queues },
      netns,
    );
  try {
    try {
      make();
    } catch (err) {
      // A fixed name still held by the container's previous run, whose namespace the kernel is still taking down.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || dev.veth.pair === undefined) throw err;
      for (let waited = 0; waited < OLD_PAIR_WAIT_MS && sysfsNet(host, 'ifindex') !== undefined; waited += 20) await sleep(20);
      make();
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { detail?: string };
    const what =
      e.code === 'EEXIST'
        ? `cannot make the veth pair: the name "${host}" is taken on the host`
        : `cannot make the veth pair ${host} (host) / ${device.name} (container): ${e.detail ?? e.message}`;
    throw networkError(device, e.code === 'EEXIST' && dev.veth.pair !== undefined ? 'veth.pair' : 'type', what, e);
  }
  if (on?.ovs) await addOvsPort(device, on.name, host);
  setVlans(device, bridge, host);
  hostRoutes(device, host);
  // The running config has the host end's name, generated or not (LXC's get_running_config_item; lxkit info's Link lines).
  ctx.runtimeConfig(`lxc.net.${dev.index}.veth.pair`, host);
  ctx.log.info(
    `${where(device, 'type').replace(/: $/, '')}: veth ${host}${on ? ` on ${on.ovs ? 'the Open vSwitch bridge ' : ''}${on.name}` : ''} <-> ${device.name} in the container${mtu ? `, mtu ${mtu}` : ''}`,
  );
  return host;
}

export const veth: NetworkImpl = {
  type: 'veth',
  async check(device) {
    if (unprivileged()) {
      checkUserVeth(device);
      await bridgeOf(device);
      return;
    }
    const on = await bridgeOf(device);
    checked.set(device.dev, on);
    if (on?.ovs) checkOvsVlans(device);
    else checkVlans(device, on?.name);
    checkRouterMode(device);
  },
  create,
  // lxkit-user-nic makes the container's end plain: its MAC address and MTU are then set from inside.
  insideLink(device) {
    if (!unprivileged()) return undefined;
    return { ...(device.hwaddr ? { hwaddr: device.hwaddr } : {}), ...(device.dev.mtu ? { mtu: device.dev.mtu } : {}) };
  },
};
