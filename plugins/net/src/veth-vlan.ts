/**
 * lxc.net.N.veth.vlan.id and .veth.vlan.tagged.id: the VLANs of the host
 * end's port on a VLAN-filtering bridge, as LXC sets them: `vlan.id` is the
 * port's untagged VLAN (its PVID) in place of the bridge's default one, or
 * `none` for no untagged VLAN at all; each `tagged.id` a tagged membership.
 * They go with the port.
 */
import { readFileSync } from 'node:fs';
import { nativeAddon } from '@lxkit/core';
import { networkError, type PlannedDevice } from './device.js';

const PVID = 2;
const UNTAGGED = 4;

const wantsVlans = (device: PlannedDevice) => device.dev.veth.vlanId !== undefined || device.dev.veth.vlanTaggedIds.length > 0;
const sub = (device: PlannedDevice) => (device.dev.veth.vlanId !== undefined ? 'veth.vlan.id' : 'veth.vlan.tagged.id');

const bridgeAttr = (bridge: string, attr: string): string | undefined => {
  try {
    return readFileSync(`/sys/class/net/${bridge}/bridge/${attr}`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** pre-start: VLANs need the veth on a bridge that filters VLANs. */
export function checkVlans(device: PlannedDevice, bridge: string | undefined): void {
  if (!wantsVlans(device)) return;
  if (bridge === undefined) throw networkError(device, sub(device), `VLANs are set on the bridge port of the veth: set lxc.net.${device.dev.index}.link to a bridge`);
  const filtering = bridgeAttr(bridge, 'vlan_filtering');
  if (filtering === undefined) throw networkError(device, sub(device), `this kernel's bridges do not filter VLANs (no ${bridge}/bridge/vlan_filtering)`);
  if (filtering !== '1') throw networkError(device, sub(device), `bridge ${bridge} does not filter VLANs: ip link set ${bridge} type bridge vlan_filtering 1`);
}

/** start-host, the host end on `bridge`: its VLANs. */
export function setVlans(device: PlannedDevice, bridge: string | undefined, host: string): void {
  if (!wantsVlans(device) || bridge === undefined) return;
  const { veth } = device.dev;
  const vlan = (key: string, add: boolean, vid: number, flags: number) => {
    try {
      nativeAddon().netBridgeVlan(host, add, vid, flags);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { detail?: string };
      throw networkError(device, key, `cannot ${add ? 'add' : 'remove'} VLAN ${vid} ${add ? 'to' : 'from'} ${host} on ${bridge}: ${e.detail ?? e.message}`, e);
    }
  };
  if (veth.vlanId !== undefined) {
    const defaultPvid = Number(bridgeAttr(bridge, 'default_pvid') ?? 0);
    if (defaultPvid > 0) vlan('veth.vlan.id', false, defaultPvid, 0);
    if (veth.vlanId !== 'none') vlan('veth.vlan.id', true, veth.vlanId, PVID | UNTAGGED);
  }
  for (const id of veth.vlanTaggedIds) vlan('veth.vlan.tagged.id', true, id, 0);
}
