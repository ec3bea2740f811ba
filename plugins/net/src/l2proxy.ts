/**
 * lxc.net.N.l2proxy = 1: proxy neighbour entries (proxy ARP, proxy NDP) on
 * the host interface `link` for each of the container's addresses, so that
 * the network behind `link` reaches them (with a router-mode veth, say), as
 * LXC adds them. LXC requires the interface to forward (and, for IPv6, to
 * answer proxy NDP) and refuses otherwise; so does lxkit, at pre-start,
 * naming the sysctl. The monitor removes the entries when the container
 * ends (LXC 5.0.2 leaves them behind).
 */
import { readFileSync } from 'node:fs';
import { nativeAddon, type StartContext } from '@lxkit/core';
import { ipv4Bytes, ipv6Bytes } from './addresses.js';
import { networkError, sysfsNet, type PlannedDevice } from './device.js';

const sysctlOn = (path: string): boolean => {
  try {
    return readFileSync(`/proc/sys/net/${path}`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
};

/** The sysctls LXC requires of `link` for each family the container has addresses of. */
function required(device: PlannedDevice, link: string): string[] {
  const { dev } = device;
  return [
    ...(dev.ipv4.length > 0 ? [`ipv4/conf/${link}/forwarding`] : []),
    ...(dev.ipv6.length > 0 ? [`ipv6/conf/${link}/proxy_ndp`, `ipv6/conf/${link}/forwarding`] : []),
  ];
}

/** pre-start. */
export function checkL2proxy(device: PlannedDevice): void {
  if (!device.dev.l2proxy) return;
  const link = device.dev.link;
  if (link === undefined) throw networkError(device, 'l2proxy', `the proxy entries go on lxc.net.${device.dev.index}.link, and none is set`);
  if (sysfsNet(link, 'ifindex') === undefined) throw networkError(device, 'link', `there is no network interface "${link}" on the host`);
  const off = required(device, link).find((s) => !sysctlOn(s));
  if (off) throw networkError(device, 'l2proxy', `proxy entries on ${link} need sysctl net.${off.replaceAll('/', '.')}=1 (as LXC requires)`);
}

/** start-host, once the device is made: the entries, each handed to the monitor to remove at the end. */
export function addL2proxy(ctx: StartContext, device: PlannedDevice): void {
  const { dev } = device;
  if (!dev.l2proxy || dev.link === undefined) return;
  const link = dev.link;
  const addresses = [...dev.ipv4.map((a) => ({ family: 4 as const, text: a.address, bytes: ipv4Bytes(a.address) })), ...dev.ipv6.map((a) => ({ family: 6 as const, text: a.address, bytes: ipv6Bytes(a.address) }))];
  for (const a of addresses) {
    try {
      nativeAddon().netNeighProxyAdd(link, a.family, a.bytes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { detail?: string };
      throw networkError(device, 'l2proxy', `cannot add the proxy entry for ${a.text} on ${link}: ${e.detail ?? e.message}`, e);
    }
    ctx.removeProxyAtEnd(link, a.family, a.bytes);
  }
}
