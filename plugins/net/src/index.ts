/**
 * @lxkit/plugin-net: container networking. Owns lxc.net and lxc.net.N.* and
 * models them; the network types (empty, none, veth, macvlan, ipvlan, vlan,
 * phys over rtnetlink) come with the networking issue's work.
 */
import { definePlugin, tapConfigKeys, VERSION } from '@lxkit/core';
import { createNetModel, netKeys, type NetModel } from './keys.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    net?: NetModel;
  }
}

export { NET_TYPES, type IPv4Address, type NetDevice, type NetModel, type NetTypeName } from './keys.js';

export default definePlugin({
  name: 'net',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    tapConfigKeys(runtime, 'net', netKeys, createNetModel);
  },
});
