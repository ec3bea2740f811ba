/**
 * Network fixtures of the tests' own, all removed afterwards: a bridge, and
 * a "wire" (a veth pair whose far end is in a network namespace made for
 * the test, with an address) to make devices on. Tests send traffic only to
 * these.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { until } from './harness.js';

/** The host's network interfaces. */
export const hostLinks = async (): Promise<string[]> => readdir('/sys/class/net');

/** A bridge with `address` (CIDR) when given; deleted afterwards with whatever is on it. */
export async function withBridge<T>(address: string | undefined, fn: (bridge: string) => Promise<T>): Promise<T> {
  const bridge = `lxkt${randomBytes(3).toString('hex')}`;
  await execa('ip', ['link', 'add', bridge, 'type', 'bridge']);
  try {
    if (address) await execa('ip', ['addr', 'add', address, 'dev', bridge]);
    await execa('ip', ['link', 'set', bridge, 'up']);
    return await fn(bridge);
  } finally {
    const ports = await readdir(`/sys/class/net/${bridge}/brif`).catch(() => [] as string[]);
    for (const p of ports) await execa('ip', ['link', 'del', p], { reject: false });
    await execa('ip', ['link', 'del', bridge], { reject: false });
  }
}

/**
 * A wire: `near` on the host (up, no address), its peer in a network
 * namespace of its own (`ns`) with `address` (CIDR), or, with `vlan`, with
 * that address on an 802.1Q device of that id on the peer.
 */
export async function withWire<T>(address: string, fn: (wire: { near: string; ns: string }) => Promise<T>, opts: { vlan?: number } = {}): Promise<T> {
  const id = randomBytes(3).toString('hex');
  const near = `lxkw${id}`;
  const ns = `lxkns${id}`;
  await execa('ip', ['netns', 'add', ns]);
  try {
    await execa('ip', ['link', 'add', near, 'type', 'veth', 'peer', 'name', 'far', 'netns', ns]);
    await execa('ip', ['link', 'set', near, 'up']);
    await execa('ip', ['-n', ns, 'link', 'set', 'far', 'up']);
    let dev = 'far';
    if (opts.vlan !== undefined) {
      dev = `far.${opts.vlan}`;
      await execa('ip', ['-n', ns, 'link', 'add', 'link', 'far', 'name', dev, 'type', 'vlan', 'id', String(opts.vlan)]);
      await execa('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    await execa('ip', ['-n', ns, 'addr', 'add', address, 'dev', dev]);
    return await fn({ near, ns });
  } finally {
    await execa('ip', ['link', 'del', near], { reject: false });
    await execa('ip', ['netns', 'del', ns], { reject: false });
  }
}

/** Until nothing is on `bridge` any more: a veth pair goes with the container's network namespace, which the kernel takes down just after. */
export const portsGone = (bridge: string): Promise<boolean> =>
  until(async () => ((await readdir(`/sys/class/net/${bridge}/brif`)).length === 0 ? true : undefined), 3000, `the ports of ${bridge} to go`);

/** Until the host's links are `links` again (devices made in a container's namespace go with it). */
export const linksBack = (links: readonly string[]): Promise<boolean> =>
  until(async () => (JSON.stringify(await hostLinks()) === JSON.stringify(links) ? true : undefined), 3000, 'the host links to be as before');
