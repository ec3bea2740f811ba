/**
 * lxc.net.N.type = ipvlan: on the parent `link`, in lxc.net.N.ipvlan.mode
 * (l3 by default) with lxc.net.N.ipvlan.isolation (bridge by default), as LXC.
 */
import { onParent } from './parent.js';

const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;
const MODES = { l2: 0, l3: 1, l3s: 2 } as const;
const ISOLATION = { bridge: 0, private: 1, vepa: 2 } as const;

export const ipvlan = onParent('ipvlan', 'ipvlan', (d) => [
  { type: IFLA_IPVLAN_MODE, size: 2, value: MODES[d.dev.ipvlanMode ?? 'l3'] },
  { type: IFLA_IPVLAN_FLAGS, size: 2, value: ISOLATION[d.dev.ipvlanIsolation ?? 'bridge'] },
]);
