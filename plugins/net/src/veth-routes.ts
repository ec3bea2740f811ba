/**
 * The host side of a veth beyond the pair itself, as LXC sets it up:
 *
 * - lxc.net.N.veth.ipv4.route / .ipv6.route: routes on the host to those
 *   networks through the host end (`ip route add NET dev vethX`);
 * - lxc.net.N.veth.mode = router: no bridge; a host route to each of the
 *   container's addresses through the host end, and for each gateway the
 *   container is given (an address), forwarding and proxy ARP/NDP on the
 *   host end with a proxy entry for it, so that the container reaches the
 *   host through that gateway.
 *
 * All of it goes with the host end, which goes with the container.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { nativeAddon } from '@lxkit/core';
import { ipv4Bytes, ipv6Bytes } from './addresses.js';
import { networkError, type PlannedDevice } from './device.js';

const bytes = (family: 4 | 6, address: string) => (family === 4 ? ipv4Bytes(address) : ipv6Bytes(address));

/** The network a route names (the address with its host bits cleared), as the kernel wants a route's destination. */
function networkOf(family: 4 | 6, address: string, prefix: number): Buffer {
  const b = bytes(family, address);
  for (let bit = prefix; bit < b.length * 8; bit++) b[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return b;
}

function sysctl(device: PlannedDevice, family: 4 | 6, host: string, name: string): void {
  const path = `/proc/sys/net/ipv${family}/conf/${host}/${name}`;
  try {
    writeFileSync(path, '1');
  } catch (err) {
    throw networkError(device, 'veth.mode', `cannot turn on ${path}: ${(err as Error).message}`, err as NodeJS.ErrnoException);
  }
}

/**
 * pre-start: in router mode, an IPv6 gateway needs the host to forward IPv6
 * (proxy NDP answers only then): LXC refuses such a start, and so does lxkit,
 * before anything is made, naming the sysctl rather than setting it.
 */
export function checkRouterMode(device: PlannedDevice): void {
  const gw = device.dev.ipv6Gateway;
  if (device.dev.veth.mode !== 'router' || gw === undefined || gw === 'auto' || gw === 'dev') return;
  let on = false;
  try {
    on = readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim() === '1';
  } catch {
    // No IPv6: the gateway cannot work either.
  }
  if (!on) throw networkError(device, 'ipv6.gateway', 'a router-mode veth with an IPv6 gateway needs the host to forward IPv6: sysctl net.ipv6.conf.all.forwarding=1 (as LXC requires)');
}

export function hostRoutes(device: PlannedDevice, host: string): void {
  const { dev } = device;
  const addon = nativeAddon();
  const route = (sub: string, family: 4 | 6, address: string, prefix: number) => {
    try {
      addon.netRouteAdd(host, family, networkOf(family, address, prefix), prefix);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { detail?: string };
      throw networkError(device, sub, `cannot add the route to ${address}/${prefix} through ${host}: ${e.detail ?? e.message}`, e);
    }
  };
  for (const r of dev.veth.ipv4Routes) route('veth.ipv4.route', 4, r.address, r.prefix!);
  for (const r of dev.veth.ipv6Routes) route('veth.ipv6.route', 6, r.address, r.prefix!);
  if (dev.veth.mode !== 'router') return;
  for (const a of dev.ipv4) route('ipv4.address', 4, a.address, 32);
  for (const a of dev.ipv6) route('ipv6.address', 6, a.address, 128);
  for (const family of [4, 6] as const) {
    const gateway = family === 4 ? dev.ipv4Gateway : dev.ipv6Gateway;
    if (gateway === undefined || gateway === 'auto' || gateway === 'dev') continue;
    // IPv4's proxy entry answers ARP by itself; IPv6's answers NDP only with proxy_ndp on (LXC sets the same).
    sysctl(device, family, host, 'forwarding');
    if (family === 6) sysctl(device, family, host, 'proxy_ndp');
    try {
      addon.netNeighProxyAdd(host, family, bytes(family, gateway));
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { detail?: string };
      throw networkError(device, `ipv${family}.gateway`, `cannot add the proxy entry for ${gateway} on ${host}: ${e.detail ?? e.message}`, e);
    }
  }
}

