/**
 * A veth's host end on an Open vSwitch bridge (lxc.net.N.link naming one),
 * as LXC puts it there: a port added with `ovs-vsctl add-port`, its VLANs
 * set on the port rather than on a kernel bridge's (veth.vlan.id: an access
 * port with that tag; veth.vlan.tagged.id: trunks, with vlan.id as the
 * native untagged VLAN), and the port deleted with `ovs-vsctl del-port`
 * when the container is gone, since Open vSwitch keeps a port in its
 * database after its device has gone with the container's namespace.
 *
 * LXC takes any link that is not a kernel bridge for an Open vSwitch one;
 * lxkit asks Open vSwitch (`br-exists`), so that a mistaken link (eth0) is
 * an error naming it rather than a failed `add-port`. ovs-vsctl finds its
 * database as it would from a shell (OVS_RUNDIR, the default socket).
 */
import { existsSync } from 'node:fs';
import { importExeca, type Logger } from '@lxkit/core';
import { networkError, type PlannedDevice } from './device.js';
import type { NetDevice } from './keys.js';

/** ovs-vsctl otherwise waits for ever for a database (or a vswitchd) that is not there. */
const TIMEOUT_S = 10;

interface Ran {
  readonly ok: boolean;
  readonly exitCode: number | undefined;
  readonly missing: boolean;
  readonly said: string;
}

async function ovsVsctl(args: readonly string[]): Promise<Ran> {
  const { execa } = await importExeca();
  const r = await execa('ovs-vsctl', [`--timeout=${TIMEOUT_S}`, ...args], { reject: false, stdin: 'ignore' });
  const missing = (r as { code?: string }).code === 'ENOENT';
  const said = String(r.stderr || r.stdout || '').trim().replace(/^ovs-vsctl: /gm, '') || (missing ? 'ovs-vsctl is not installed' : `exit status ${r.exitCode ?? r.signal}`);
  return { ok: r.exitCode === 0, exitCode: r.exitCode, missing, said };
}

export const isKernelBridge = (link: string): boolean => existsSync(`/sys/class/net/${link}/bridge`);

/** Whether `link` is a bridge of Open vSwitch's, with `why` when Open vSwitch could not be asked (not installed, no database). */
export async function isOvsBridge(link: string): Promise<{ ovs: boolean; why?: string }> {
  const r = await ovsVsctl(['br-exists', link]);
  // br-exists: 0 yes, 2 no; anything else is Open vSwitch failing to answer.
  if (r.ok) return { ovs: true };
  if (r.exitCode === 2) return { ovs: false };
  return { ovs: false, why: r.missing ? 'ovs-vsctl is not installed' : `ovs-vsctl br-exists ${link}: ${r.said}` };
}

/** The port's VLAN columns, as LXC sets them (none when no VLAN key is set). */
export function ovsVlanSettings(dev: NetDevice): string[] {
  const { vlanId, vlanTaggedIds } = dev.veth;
  const tag = typeof vlanId === 'number' && vlanId > 0 ? vlanId : undefined;
  if (vlanTaggedIds.length > 0) {
    // Untagged frames are dropped only with vlan.id none; without vlan.id LXC leaves them to the port's native VLAN too.
    return [`vlan_mode=${vlanId === 'none' ? 'trunk' : 'native-untagged'}`, ...(tag !== undefined ? [`tag=${tag}`] : []), `trunks=${vlanTaggedIds.join(',')}`];
  }
  return tag !== undefined ? ['vlan_mode=access', `tag=${tag}`] : [];
}

/** pre-start: what Open vSwitch cannot do with the device's VLAN keys. */
export function checkOvsVlans(device: PlannedDevice): void {
  const { vlanId, vlanTaggedIds } = device.dev.veth;
  if (vlanId === 'none' && vlanTaggedIds.length === 0) {
    throw networkError(device, 'veth.vlan.id', `"none" (no untagged VLAN) needs veth.vlan.tagged.id on an Open vSwitch bridge: a port there is either an access port of one VLAN or a trunk`);
  }
}

/** start-host: `port` (the veth's host end) added to `bridge`, its VLANs set, in one transaction. */
export async function addOvsPort(device: PlannedDevice, bridge: string, port: string): Promise<void> {
  const vlans = ovsVlanSettings(device.dev);
  const r = await ovsVsctl(['--may-exist', 'add-port', bridge, port, ...(vlans.length ? ['--', 'set', 'port', port, ...vlans] : [])]);
  if (!r.ok) throw networkError(device, 'link', `cannot add ${port} to the Open vSwitch bridge ${bridge}: ${r.said}`);
}

/** stop: the port gone from the bridge (a failure is logged, as LXC warns). */
export async function deleteOvsPort(bridge: string, port: string, log: Logger): Promise<void> {
  const r = await ovsVsctl(['--if-exists', 'del-port', bridge, port]);
  if (r.ok) log.info(`removed port ${port} from the Open vSwitch bridge ${bridge}`);
  else log.warn(`cannot remove port ${port} from the Open vSwitch bridge ${bridge}: ${r.said}`);
}
