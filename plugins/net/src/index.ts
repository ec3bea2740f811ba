/**
 * @lxkit/plugin-net: container networking. Owns lxc.net and lxc.net.N.* and
 * models them (keys.ts); makes each device at start through its type's
 * implementation (`hooks.network.for(type)`), over rtnetlink:
 *
 * - pre-start: the devices planned and checked (names, MAC addresses, the
 *   bridge, gateways), so that a wrong config fails before anything is made;
 * - start-host: each device made on the host and handed into the
 *   container's network namespace under its container name (veth.ts);
 * - pre-mount: its addresses, `up` and gateways set from inside (inside.ts).
 *
 * Types: empty and none (the core's), veth (bridge mode), macvlan, ipvlan,
 * vlan, phys; every lxc.net.N key of LXC 5 is applied.
 */
import { definePlugin, LxkitError, notReplayable, STAGE_EARLY, tapConfigKeys, VERSION, type Runtime, type StartContext } from '@lxkit/core';
import { networkError, planDevices, type NetworkImpl, type PlannedDevice } from './device.js';
import { gatewaysOf, queueInside, type Gateway } from './inside.js';
import { addL2proxy, checkL2proxy } from './l2proxy.js';
import { createNetModel, netKeys, type NetModel } from './keys.js';
import { emptyScriptsUp, hasScriptsDown, scriptsDown, scriptUp, vethHostEnd } from './scripts.js';
import { deleteOvsPort } from './ovs.js';
import { deleteUserOvsPort } from './user-nic.js';
import { ipvlan } from './ipvlan.js';
import { macvlan } from './macvlan.js';
import { phys } from './phys.js';
import { onOvsBridge, veth } from './veth.js';
import { vlan } from './vlan.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    net?: NetModel;
  }
}

export { NET_TYPES, type IPv4Address, type NetDevice, type NetModel, type NetTypeName } from './keys.js';
export { planDevices, randomName, type NetworkImpl, type PlannedDevice } from './device.js';
export { vethHostSideKeys, type HostSideKey } from './veth-host-side.js';
export { completeHwaddr, formatHwaddr, ipv4Broadcast, ipv4Bytes, ipv4Prefix, ipv6Bytes, ipv6Prefix } from './addresses.js';
export {
  DEFAULT_SETTINGS_FILES,
  RUN_DIR,
  dnsmasqArgs,
  iptablesRules,
  netServiceStatus,
  nftRuleset,
  readNetServiceSettings,
  readShellVariables,
  settingsFrom,
  startNetService,
  stopNetService,
  type NetServiceOptions,
  type NetServiceSettings,
  type NetServiceStatus,
  type ShellVariable,
  type ShellVariables,
  type Subnet,
} from './service/index.js';

const unsupported = (device: PlannedDevice, sub: string, message: string): LxkitError => networkError(device, sub, message, undefined, 'LXKIT_UNSUPPORTED');

function implementation(runtime: Runtime, device: PlannedDevice): NetworkImpl {
  const impl = runtime.hooks.network.get(device.dev.type!)?.call() as NetworkImpl | undefined;
  if (!impl || typeof impl.create !== 'function') throw unsupported(device, 'type', `no enabled plugin makes network type "${device.dev.type}" yet`);
  return impl;
}

/** A device of this start, planned and checked, its gateways resolved. */
type Ready = PlannedDevice & { readonly gateways: readonly Gateway[] };

/** pre-start: every device planned and checked before anything is made. */
async function plan(runtime: Runtime, ctx: StartContext): Promise<Ready[]> {
  const devices = planDevices(ctx.container.config.model.net?.devices ?? [], ctx.container.config, ctx.container.name);
  const ready: Ready[] = [];
  for (const device of devices) {
    if (process.getuid?.() !== 0 && device.dev.type !== 'veth') {
      throw unsupported(device, 'type', `a user other than root gets veth devices only (on a bridge, through lxkit-user-nic, within /etc/lxc/lxc-usernet), as with LXC's lxc-user-nic: a ${device.dev.type} device needs root`);
    }
    // For a user other than root, the veth's check refuses l2proxy (it needs root) before this would look at the host's sysctls.
    await implementation(runtime, device).check?.(device);
    checkL2proxy(device);
    if (!ctx.namespaceNames.has('net')) throw unsupported(device, 'type', 'the container has no network namespace of its own to put the device in (lxc.namespace.share.net)');
    ready.push({ ...device, gateways: gatewaysOf(device) });
  }
  return ready;
}

export default definePlugin({
  name: 'net',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    tapConfigKeys(runtime, 'net', netKeys, createNetModel);
    for (const impl of [veth, macvlan, ipvlan, vlan, phys]) runtime.hooks.network.for(impl.type).tap('net', () => impl);

    const planned = new WeakMap<StartContext, Ready[]>();
    const devicesOf = (ctx: StartContext) => planned.get(ctx) ?? [];
    // The devices go into the namespace at start-host: the first process's ops wait for them.
    // Asked after pre-start, which planned the devices.
    runtime.hooks.cloneFirst.tap('net', (ctx) => {
      const first = devicesOf(ctx)[0];
      if (first) return `lxc.net.${first.dev.index} (${first.dev.type}) is made at start-host, before the container's ops set it up`;
      const script = (ctx.container.config.model.net?.devices ?? []).find((d) => d.type === 'empty' && d.scriptUp !== undefined);
      return script ? `lxc.net.${script.index}.script.up runs at start-host` : undefined;
    });
    runtime.hooks.preStart.tapPromise({ name: 'net', stage: STAGE_EARLY }, async (ctx) => {
      const devices = await plan(runtime, ctx);
      if (devices.length === 0) return;
      // Host work over rtnetlink, random names and MAC addresses: nothing a launch plan could replay.
      notReplayable(`lxc.net.${devices[0]!.dev.index} makes a ${devices[0]!.dev.type} device`);
      planned.set(ctx, devices);
    });
    runtime.hooks.startHost.tapPromise('net', async (ctx) => {
      const netns = ctx.namespaces['net'];
      for (const device of devicesOf(ctx)) {
        if (netns === undefined) throw unsupported(device, 'type', "the container's network namespace is not known at start-host");
        const host = await implementation(runtime, device).create(ctx, device, netns);
        addL2proxy(ctx, device);
        await scriptUp(ctx, device.dev, host || undefined);
      }
      await emptyScriptsUp(ctx, ctx.container.config.model.net?.devices ?? []);
    });
    // At a stop after an aborted start too (once cloned, as the devices are made after the clone).
    runtime.hooks.stop.tapPromise('net', async (ctx) => {
      const devices = ctx.container.config.model.net?.devices ?? [];
      await scriptsDown(ctx, devices);
      // Open vSwitch keeps a port in its database after its device has gone with the container's namespace.
      for (const dev of devices.filter(onOvsBridge)) {
        const port = await vethHostEnd(ctx, dev).catch((err: Error) => void ctx.log.warn(`lxc.net.${dev.index}: cannot tell which port to remove from ${dev.link}: ${err.message}`));
        if (!port) continue;
        if (process.getuid?.() === 0) await deleteOvsPort(dev.link!, port, ctx.log);
        else await deleteUserOvsPort(ctx, dev.link!, port);
      }
    });
    runtime.hooks.stopWork.tap('net', (ctx) => {
      const devices = ctx.container.config.model.net?.devices ?? [];
      if (hasScriptsDown(devices)) return 'lxc.net.N.script.down scripts';
      const ovs = devices.find(onOvsBridge);
      return ovs ? `lxc.net.${ovs.index}'s port is deleted from the Open vSwitch bridge ${ovs.link}` : undefined;
    });
    runtime.hooks.preMount.tap({ name: 'net', stage: STAGE_EARLY }, (ctx) => {
      for (const device of devicesOf(ctx)) queueInside(ctx.ops, device, device.gateways, implementation(runtime, device).insideLink?.(device));
    });
  },
});
