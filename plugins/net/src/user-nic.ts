/**
 * A veth for a container started by a user other than root, who cannot make
 * network devices: lxkit-user-nic (native, setuid root) makes the pair
 * within the user's quota in /etc/lxc/lxc-usernet, as LXC's lxc-user-nic
 * does with the same file and database. The host end goes on the bridge
 * lxc.net.N.link (a kernel bridge, or Open vSwitch's: the helper adds the
 * port, and deletes it at stop) with a name the helper picks; what the
 * container sets on its own end (MAC address, MTU, addresses, routes) is
 * set from inside.
 * Whatever needs root on the host side is refused here, before anything is
 * made.
 */
import { importExeca, nativeHelperPath, type StartContext, type StopContext } from '@lxkit/core';
import { networkError, type PlannedDevice } from './device.js';
import { vethHostSideKeys } from './veth-host-side.js';

/** pre-start: what lxkit-user-nic cannot give `device`, as an error naming the key. */
export function checkUserVeth(device: PlannedDevice): void {
  if (device.dev.link === undefined) {
    throw networkError(device, 'type', 'a user other than root gets a veth on a bridge only (lxkit-user-nic, quotas in /etc/lxc/lxc-usernet): set lxc.net.N.link', undefined, 'LXKIT_UNSUPPORTED');
  }
  const [key] = vethHostSideKeys(device.dev);
  if (key) throw networkError(device, key.sub, `needs root (${key.what}); a user other than root gets a plain veth on a bridge`, undefined, 'LXKIT_UNSUPPORTED');
}

/**
 * start-host: the pair, through lxkit-user-nic; returns the host end. The
 * helper is handed the monitor's hold on the namespace (a file the caller
 * can open whatever ids the container's init has taken).
 */
export async function createUserVeth(ctx: StartContext, device: PlannedDevice, netns: string): Promise<string> {
  const { dev } = device;
  const bridge = dev.link!;
  for (const [sub, set] of [
    ['veth.pair', dev.veth.pair !== undefined],
    ['veth.n_rxqueues', dev.veth.rxQueues !== undefined],
    ['veth.n_txqueues', dev.veth.txQueues !== undefined],
  ] as const) {
    if (set) ctx.log.warn(`lxc.net.${dev.index}.${sub} is ignored: lxkit-user-nic makes the pair for a user other than root, and picks its host end itself`);
  }
  const r = await userNic(['create', ctx.container.lxcpath, ctx.container.name, netns, 'veth', bridge, device.name]);
  // NICNAME:IFINDEX-INSIDE:HOST-END:IFINDEX-ON-HOST (lxc-user-nic's answer).
  const host = r.ok ? r.stdout.split(':')[2] : undefined;
  if (!host) throw networkError(device, 'link', `lxkit-user-nic could not give this user a veth on ${bridge}: ${r.said}`);
  return host;
}

/**
 * stop: the Open vSwitch port `port` deleted from `bridge` by lxkit-user-nic
 * (its `delete`, as LXC's stop runs lxc-user-nic's), while the container's
 * network namespace is still held: the helper checks the caller is
 * privileged over it, and that it gave the caller this device. A failure is
 * a warning, as for root.
 */
export async function deleteUserOvsPort(ctx: StopContext, bridge: string, port: string): Promise<void> {
  const netns = ctx.namespaces['net'];
  const r = netns === undefined ? undefined : await userNic(['delete', ctx.container.lxcpath, ctx.container.name, netns, 'veth', bridge, port]);
  if (r?.ok) ctx.log.info(`removed port ${port} from the Open vSwitch bridge ${bridge} (lxkit-user-nic)`);
  else ctx.log.warn(`cannot remove port ${port} from the Open vSwitch bridge ${bridge}: ${r ? `lxkit-user-nic: ${r.said}` : "the container's network namespace is not known at stop"}`);
}

async function userNic(args: readonly string[]): Promise<{ ok: boolean; stdout: string; said: string }> {
  const { execa } = await importExeca();
  const r = await execa(nativeHelperPath('lxkit-user-nic'), args, { reject: false, stdin: 'ignore' });
  // Its own lines and ovs-vsctl's, as one line of an error.
  const said = String(r.stderr).trim().replace(/^lxkit-user-nic: /gm, '').split('\n').join('; ') || `exit status ${r.exitCode ?? r.signal}`;
  return { ok: r.exitCode === 0, stdout: String(r.stdout).trim(), said };
}
