/**
 * What one lxc.net.N becomes at a start: the names on both sides, the MAC
 * address with its placeholders filled, the MTU; and the contract of a
 * network type's implementation (`hooks.network.for(type)`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LxkitError, type ContainerConfig, type NetworkType, type StartContext } from '@lxkit/core';
import { completeHwaddr } from './addresses.js';
import type { NetDevice } from './keys.js';

/** One network device of a start. */
export interface PlannedDevice {
  readonly dev: NetDevice;
  /** Its name in the container (lxc.net.N.name, else the first free ethK). */
  readonly name: string;
  /** lxc.net.N.hwaddr with random digits for its `x`s; undefined: the kernel's. */
  readonly hwaddr: Buffer | undefined;
  readonly config: ContainerConfig;
  readonly container: string;
}

/**
 * A network type's implementation: makes the container's device on the host
 * side and hands it into the container's network namespace, named `name`
 * there. Addresses, routes and `up` are then set from inside, the same for
 * every type (inside.ts).
 */
export interface NetworkImpl extends NetworkType {
  /** pre-start: throws (naming the key) what would keep `device` from being made, before anything is. */
  check?(device: PlannedDevice): void | Promise<void>;
  /**
   * start-host: `netns` is the container's network namespace as a path the
   * host can open. Returns the device's end on the host, if it has one (a
   * veth's), for lxc.net.N.script.up.
   */
  create(ctx: StartContext, device: PlannedDevice, netns: string): Promise<string | void> | string | void;
  /** pre-mount: what to set on the container's end from inside, first, when `create` could not set it (an unprivileged veth). */
  insideLink?(device: PlannedDevice): { readonly hwaddr?: Buffer; readonly mtu?: number } | undefined;
}

/** The last `lxc.net.N.<sub>` line, for errors that name where. */
const entryOf = (device: PlannedDevice, sub: string) => device.config.entries.findLast((x) => x.key === `lxc.net.${device.dev.index}.${sub}`);

export function origin(device: PlannedDevice, sub: string): { file?: string; line?: number; key: string } {
  const key = `lxc.net.${device.dev.index}.${sub}`;
  const e = entryOf(device, sub);
  return e ? { file: e.file, line: e.line, key } : { key };
}

/** "file:line: key = value: " or "key: ", for messages. */
export function where(device: PlannedDevice, sub: string): string {
  const e = entryOf(device, sub);
  return e ? `${e.file}:${e.line}: ${e.key} = ${e.value}: ` : `lxc.net.${device.dev.index}.${sub}: `;
}

/** An error about lxc.net.N.<sub>, naming where; LXKIT_NETWORK_FAILED unless `code` says otherwise. */
export function networkError(
  device: PlannedDevice,
  sub: string,
  message: string,
  err?: NodeJS.ErrnoException,
  code: 'LXKIT_NETWORK_FAILED' | 'LXKIT_UNSUPPORTED' = 'LXKIT_NETWORK_FAILED',
): LxkitError {
  return new LxkitError(code, `${where(device, sub)}${message}`, {
    ...origin(device, sub),
    container: device.container,
    ...(err ? { cause: err } : {}),
    ...(err?.errno !== undefined ? { errno: err.errno } : {}),
    ...(err?.syscall !== undefined ? { syscall: err.syscall } : {}),
    ...(err?.path !== undefined ? { path: err.path } : {}),
  });
}

/** The devices a start makes, in index order (empty and none make none). */
export function planDevices(devices: readonly NetDevice[], config: ContainerConfig, container: string): PlannedDevice[] {
  const made = devices.filter((d) => d.type !== undefined && d.type !== 'empty' && d.type !== 'none');
  const taken = new Set(made.map((d) => d.name).filter((n): n is string => n !== undefined));
  let next = 0;
  const freeEth = () => {
    while (taken.has(`eth${next}`)) next++;
    taken.add(`eth${next}`);
    return `eth${next}`;
  };
  return made.map((dev) => ({ dev, name: dev.name ?? freeEth(), hwaddr: dev.hwaddr ? completeHwaddr(dev.hwaddr) : undefined, config, container }));
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** LXC's name for a host-side device: a prefix and six random letters or digits (vethXXXXXX). */
export function randomName(prefix: string): string {
  return prefix + [...randomBytes(6)].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join('');
}

/** A host interface's attribute from sysfs (mtu, ifindex...); undefined when it has none. */
export function sysfsNet(ifname: string, attr: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${ifname}/${attr}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
