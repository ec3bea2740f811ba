/**
 * lxc.net.N.script.up and .down, on the host, with LXC's arguments and
 * environment (core's runNetScript): up once the device is made (a start
 * fails with it), down when the container stops, while its network
 * namespace, and so a veth's host end, is still there (a failure is logged,
 * as LXC logs it). `empty` networks run theirs too, as in LXC; `none` has
 * no device and runs none.
 */
import { runningContainer, runNetScript, type StartContext, type StopContext } from '@lxkit/core';
import type { NetDevice } from './keys.js';

const withScript = (devices: readonly NetDevice[], hook: 'up' | 'down') =>
  devices.filter((d) => d.type !== undefined && d.type !== 'none' && (hook === 'up' ? d.scriptUp : d.scriptDown) !== undefined);

/** start-host, after the device (if any) is made: `host` is its end on the host (a veth's). */
export async function scriptUp(ctx: StartContext, dev: NetDevice, host: string | undefined): Promise<void> {
  if (dev.scriptUp === undefined || dev.type === undefined || dev.type === 'none') return;
  await runNetScript(ctx, { hook: 'up', index: dev.index, script: dev.scriptUp, type: dev.type, ...(dev.link ? { link: dev.link } : {}), ...(host ? { peer: host } : {}) });
}

/** The up scripts of the networks that make no device (empty). */
export async function emptyScriptsUp(ctx: StartContext, devices: readonly NetDevice[]): Promise<void> {
  for (const dev of withScript(devices, 'up').filter((d) => d.type === 'empty')) await scriptUp(ctx, dev, undefined);
}

/** stop: a veth's host end, lxc.net.N.veth.pair or the name the start chose (from the running config, while the monitor runs). */
export async function vethHostEnd(ctx: StopContext, dev: NetDevice): Promise<string | undefined> {
  if (dev.type !== 'veth') return undefined;
  return dev.veth.pair ?? (await runningContainer(ctx.container.lxcpath, ctx.container.name).configItem(`lxc.net.${dev.index}.veth.pair`, { running: true }))?.at(-1);
}

/** stop: every down script, in index order. */
export async function scriptsDown(ctx: StopContext, devices: readonly NetDevice[]): Promise<void> {
  const scripts = withScript(devices, 'down');
  if (scripts.length === 0) return;
  for (const dev of scripts) {
    try {
      const peer = await vethHostEnd(ctx, dev);
      await runNetScript(ctx, { hook: 'down', index: dev.index, script: dev.scriptDown!, type: dev.type!, ...(dev.link ? { link: dev.link } : {}), ...(peer ? { peer } : {}) });
    } catch (err) {
      ctx.log.error((err as Error).message);
    }
  }
}

export const hasScriptsDown = (devices: readonly NetDevice[]): boolean => withScript(devices, 'down').length > 0;
