/**
 * The container side of every device, the same whatever its type, queued
 * as ops for the first process (which is in the container's network
 * namespace): addresses, then `up` (lxc.net.N.flags), then the gateways,
 * in LXC's order. The gateways are resolved and checked at pre-start.
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

/** A device's default route: through a gateway address, or on the link itself (`dev`). */
export interface Gateway {
  readonly family: 4 | 6;
  readonly via: string | 'dev';
}

/**
 * pre-start: the device's gateways, `auto` resolved to the bridge's address;
 * throws (naming the key) for one that cannot be set: a gateway needs the
 * device up, as in LXC.
 */
export function gatewaysOf(device: PlannedDevice): Gateway[] {
  const { dev } = device;
  const out: Gateway[] = [];
  for (const family of [4, 6] as const) {
    const gateway = family === 4 ? dev.ipv4Gateway : dev.ipv6Gateway;
    if (gateway === undefined) continue;
    if (!dev.up) throw networkError(device, `ipv${family}.gateway`, `a gateway needs the device up (lxc.net.${dev.index}.flags = up), as in LXC`);
    out.push({ family, via: gateway === 'auto' ? autoGateway(device, family) : gateway });
  }
  return out;
}

/**
 * pre-mount: the ops that set the device up from inside, with its gateways
 * from gatewaysOf(); first `link`'s MAC address and MTU, where the device
 * was made without them.
 */
export function queueInside(ops: OpQueue, device: PlannedDevice, gateways: readonly Gateway[], link?: { readonly hwaddr?: Buffer; readonly mtu?: number }): void {
  const { dev, name } = device;
  if (link?.hwaddr) ops.netLink(name, { hwaddr: link.hwaddr }, opInfo(device, 'hwaddr', `setting the MAC address of ${name}`));
  if (link?.mtu) ops.netLink(name, { mtu: link.mtu }, opInfo(device, 'mtu', `setting the MTU of ${name} to ${link.mtu}`));
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
  for (const { family, via } of gateways) {
    const info = (how: string) => opInfo(device, `ipv${family}.gateway`, `adding the default route ${how} on ${name}`);
    if (via === 'dev') ops.netRoute(name, { family }, info('on the link'));
    else ops.netRoute(name, { family, gateway: family === 4 ? ipv4Bytes(via) : ipv6Bytes(via) }, info(`via ${via}`));
  }
}

/** What an op does, and the config line it comes from (for the error of a failing op). */
function opInfo(device: PlannedDevice, sub: string, what: string): OpInfo {
  const o = origin(device, sub);
  return o.file !== undefined && o.line !== undefined ? { what, origin: { file: o.file, line: o.line, key: o.key } } : { what };
}
