/**
 * The bridge itself, with iproute2: made when missing, its address, MAC
 * address and IPv6 address set, up; and taken down again. The host forwards
 * IPv4 (and with IPv6 settings, IPv6) from then on, as with LXC's lxc-net,
 * which leaves forwarding on when it stops.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { LxkitError, runTool, type Logger } from '@lxkit/core';
import type { NetServiceSettings } from './settings.js';

const ip = (args: string[], what: string) => runTool('ip', args, { what, code: 'LXKIT_NET_SERVICE_FAILED' });

export const bridgeExists = (bridge: string): boolean => existsSync(`/sys/class/net/${bridge}`);

/**
 * LXC_BRIDGE names an interface of the host that is no bridge (eth0, say):
 * refused before anything touches it, where LXC's script would take its
 * addresses away and bring it down.
 */
export function refuseNonBridge(bridge: string): void {
  if (bridgeExists(bridge) && !existsSync(`/sys/class/net/${bridge}/bridge`)) {
    throw new LxkitError('LXKIT_NET_SERVICE_FAILED', `LXC_BRIDGE: ${bridge} is a network interface of the host that is not a bridge; it is left alone`, { key: 'LXC_BRIDGE' });
  }
}

/** The interfaces on the bridge. */
export const bridgePorts = (bridge: string): Promise<string[]> => readdir(`/sys/class/net/${bridge}/brif`).catch(() => []);

async function sysctl(path: string, value: string, log: Logger, optional = false): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (err) {
    if (!optional) throw new LxkitError('LXKIT_NET_SERVICE_FAILED', `cannot write ${value} to ${path}: ${(err as Error).message}`, { path, cause: err });
    // accept_dad and autoconf are not there when IPv6 is off on the host: nothing to turn off then.
    log.debug(`${path}: ${(err as Error).message}`);
  }
}

export async function bridgeUp(s: NetServiceSettings, log: Logger): Promise<void> {
  const br = s.bridge;
  refuseNonBridge(br);
  if (!bridgeExists(br)) await ip(['link', 'add', 'dev', br, 'type', 'bridge'], `adding the bridge ${br}`);
  await sysctl('/proc/sys/net/ipv4/ip_forward', '1', log);
  // The bridge's own address is the only one on it: duplicate address detection only delays it.
  await sysctl(`/proc/sys/net/ipv6/conf/${br}/accept_dad`, '0', log, true);
  await ip(['addr', 'add', `${s.address.address}/${s.address.prefix}`, 'broadcast', '+', 'dev', br], `adding ${s.address.address}/${s.address.prefix} to ${br}`);
  await ip(['link', 'set', 'dev', br, 'address', s.bridgeMac], `setting the MAC address of ${br}`);
  await ip(['link', 'set', 'dev', br, 'up'], `bringing ${br} up`);
  if (s.ipv6) {
    await sysctl('/proc/sys/net/ipv6/conf/all/forwarding', '1', log);
    await sysctl(`/proc/sys/net/ipv6/conf/${br}/autoconf`, '0', log, true);
    const a = `${s.ipv6.address.address}/${s.ipv6.address.prefix}`;
    await ip(['-6', 'addr', 'add', a, 'dev', br], `adding ${a} to ${br}`);
  }
}

/** Addresses off, down; deleted unless interfaces are still on it (containers that run). */
export async function bridgeDown(bridge: string, log: Logger): Promise<'deleted' | 'kept'> {
  if (!bridgeExists(bridge)) return 'deleted';
  refuseNonBridge(bridge);
  await ip(['addr', 'flush', 'dev', bridge], `removing the addresses of ${bridge}`);
  await ip(['link', 'set', 'dev', bridge, 'down'], `taking ${bridge} down`);
  const ports = await bridgePorts(bridge);
  if (ports.length > 0) {
    log.info(`${bridge} is kept, down: ${ports.join(', ')} ${ports.length > 1 ? 'are' : 'is'} still on it`);
    return 'kept';
  }
  await ip(['link', 'delete', 'dev', bridge], `deleting the bridge ${bridge}`);
  return 'deleted';
}
