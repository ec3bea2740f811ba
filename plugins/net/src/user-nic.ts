/**
 * A veth for a container started by a user other than root, who cannot make
 * network devices: lxkit-user-nic (native, setuid root) makes the pair
 * within the user's quota in /etc/lxc/lxc-usernet, as LXC's lxc-user-nic
 * does with the same file and database. The host end goes on the bridge
 * lxc.net.N.link with a name the helper picks; what the container sets on
 * its own end (MAC address, MTU, addresses, routes) is set from inside.
 * Whatever needs root on the host side is refused here, before anything is
 * made.
 */
import { importExeca, nativeHelperPath, type StartContext } from '@lxkit/core';
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
  const helper = nativeHelperPath('lxkit-user-nic');
  const { execa } = await importExeca();
  const r = await execa(helper, ['create', ctx.container.lxcpath, ctx.container.name, netns, 'veth', bridge, device.name], {
    reject: false,
    stdin: 'ignore',
  });
  // NICNAME:IFINDEX-INSIDE:HOST-END:IFINDEX-ON-HOST (lxc-user-nic's answer).
  const host = r.exitCode === 0 ? String(r.stdout).trim().split(':')[2] : undefined;
  if (!host) {
    const said = String(r.stderr).trim().replace(/^lxkit-user-nic: /gm, '') || `exit status ${r.exitCode ?? r.signal}`;
    throw networkError(device, 'link', `lxkit-user-nic could not give this user a veth on ${bridge}: ${said}`);
  }
  return host;
}
