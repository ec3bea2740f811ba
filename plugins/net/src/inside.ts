/**
 * The container side of every device, the same whatever its type, queued
 * as ops for the first process (which is in the container's network
 * namespace): addresses, then `up` (lxc.net.N.flags), then the gateways,
 * in LXC's order. A gateway needs the device up, as in LXC.
 */
import { nativeAddon, type OpInfo, type OpQueue } from '@lxkit/core';
import { ipv4Broadcast, ipv4Bytes, ipv4Prefix, ipv6Bytes, ipv6Prefix } from './addresses.js';
import { networkError, origin, type PlannedDevice } from './device.js';

/** lxc.net.N.ipv4.gateway = auto: the first address of the device's link (the bridge), as LXC takes it. */
function autoGateway(device: PlannedDevice, family: 4 | 6): string {
  const sub = `ipv${family}.gateway`;
  const link = device.dev.link;
  if (link === undefined) throw networkError(device, sub, `"auto" takes the address of lxc.net.${device.dev.index}.link, and none is set`);
  const found = nativeAddon()
    .interfaceAddresses(link)
    .find((a) => a.family === family && !(family === 6 && a.address.startsWith('fe80:')));
  if (!found) throw networkError(device, sub, `"auto" takes an IPv${family} address of ${link}, and it has none`);
  return found.address;
}

export function queueInside(ops: OpQueue, device: PlannedDevice): void {
  const { dev, name } = device;
  for (const a of dev.ipv4) {
    ops.netAddress(
      name,
      { family: 4, address: ipv4Bytes(a.address), prefix: ipv4Prefix(a), broadcast: ipv4Broadcast(a) },
      opInfo(device, 'ipv4.address', `adding ${a.address}/${ipv4Prefix(a)} to ${name}`),
    );
  }
  for (const a of dev.ipv6) {
    ops.netAddress(
      name,
      { family: 6, address: ipv6Bytes(a.address), prefix: ipv6Prefix(a) },
      opInfo(device, 'ipv6.address', `adding ${a.address}/${ipv6Prefix(a)} to ${name}`),
    );
  }
  if (dev.up) ops.netLink(name, { up: true }, opInfo(device, 'flags', `bringing ${name} up`));
  for (const family of [4, 6] as const) {
    const gateway = family === 4 ? dev.ipv4Gateway : dev.ipv6Gateway;
    if (gateway === undefined) continue;
    const sub = `ipv${family}.gateway`;
    if (!dev.up) throw networkError(device, sub, `a gateway needs the device up (lxc.net.${dev.index}.flags = up), as in LXC`);
    const info = (via: string) => opInfo(device, sub, `adding the default route ${via} on ${name}`);
    if (gateway === 'dev') {
      ops.netRoute(name, { family }, info('on the link'));
      continue;
    }
    const address = gateway === 'auto' ? autoGateway(device, family) : gateway;
    ops.netRoute(name, { family, gateway: family === 4 ? ipv4Bytes(address) : ipv6Bytes(address) }, info(`via ${address}`));
  }
}

/** What an op does, and the config line it comes from (for the error of a failing op). */
function opInfo(device: PlannedDevice, sub: string, what: string): OpInfo {
  const o = origin(device, sub);
  return o.file !== undefined && o.line !== undefined ? { what, origin: { file: o.file, line: o.line, key: o.key } } : { what };
}
