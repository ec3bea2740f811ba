/**
 * The keys of a veth whose work is on the host, beyond the pair itself: the
 * routes, proxy entries and bridge-port VLANs lxkit puts there. What cannot
 * do host work — lxkit-user-nic for a user other than root, a criu restore
 * that only makes the pair again — refuses a device that sets one, naming
 * the key and what it would have put on the host.
 */
import type { NetDevice } from './keys.js';

export interface HostSideKey {
  /** The subkey of lxc.net.N. */
  readonly sub: string;
  /** What it puts on the host. */
  readonly what: string;
}

const KEYS: readonly (HostSideKey & { readonly set: (d: NetDevice) => boolean })[] = [
  { sub: 'veth.mode', what: "router mode's routes and proxy entries on the host", set: (d) => d.veth.mode === 'router' },
  { sub: 'veth.ipv4.route', what: 'routes on the host', set: (d) => d.veth.ipv4Routes.length > 0 },
  { sub: 'veth.ipv6.route', what: 'routes on the host', set: (d) => d.veth.ipv6Routes.length > 0 },
  { sub: 'veth.vlan.id', what: "the bridge port's VLANs on the host", set: (d) => d.veth.vlanId !== undefined },
  { sub: 'veth.vlan.tagged.id', what: "the bridge port's VLANs on the host", set: (d) => d.veth.vlanTaggedIds.length > 0 },
  { sub: 'l2proxy', what: 'proxy entries on the host', set: (d) => d.l2proxy },
];

/** The host-side keys `dev` sets, in a fixed order. */
export const vethHostSideKeys = (dev: NetDevice): HostSideKey[] => KEYS.filter((k) => k.set(dev)).map(({ sub, what }) => ({ sub, what }));
