/** lxc.net.N.type = vlan: 802.1Q VLAN lxc.net.N.vlan.id on the parent `link` (the id is required, as in LXC). */
import { networkError, type NetworkImpl } from './device.js';
import { onParent, parentOf } from './parent.js';

const IFLA_VLAN_ID = 1;

const base = onParent('vlan', 'vlan', (d) => [{ type: IFLA_VLAN_ID, size: 2, value: d.dev.vlanId! }]);

export const vlan: NetworkImpl = {
  ...base,
  check(device) {
    parentOf(device);
    if (device.dev.vlanId === undefined) throw networkError(device, 'type', `a vlan device needs its id: set lxc.net.${device.dev.index}.vlan.id`);
  },
};
