/** lxc.net.N.type = macvlan: on the parent `link`, in lxc.net.N.macvlan.mode (private by default, as LXC). */
import { onParent } from './parent.js';

const IFLA_MACVLAN_MODE = 1;
const MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8 } as const;

export const macvlan = onParent('macvlan', 'macvlan', (d) => [{ type: IFLA_MACVLAN_MODE, size: 4, value: MODES[d.dev.macvlanMode ?? 'private'] }]);
