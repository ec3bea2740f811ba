/**
 * `lxkit info -n NAME [-s] [-p] [-i] [-S] [-H] [-c KEY]…` (lxc-info): what the
 * container's monitor says of it. With no selection: name, state, and for a
 * running container its pid and addresses. -c KEY prints `KEY = value` from
 * the config the container runs with (or its config file when stopped).
 * Resource use (-S) comes with the cgroup plugin.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface InfoOptions {
  state?: boolean;
  pid?: boolean;
  ips?: boolean;
  stats?: boolean;
  noHumanize?: boolean;
  config?: string[];
}

const line = (label: string, value: string | number) => `${`${label}:`.padEnd(16)}${value}\n`;

async function info(ctx: CliContext, opts: InfoOptions): Promise<number> {
  const { runningContainer, containerPaths } = await import('../../parts/client.js');
  const name = ctx.opts.name!;
  const lxcpath = await ctx.lxcpath();
  const running = runningContainer(lxcpath, name);
  const status = await running.status();
  const keys = opts.config ?? [];
  const all = !opts.state && !opts.pid && !opts.ips && !opts.stats && keys.length === 0;
  if (!status && !existsSync(containerPaths(lxcpath, name).config)) {
    ctx.log.error(`container "${name}" does not exist`);
    return 1;
  }
  let out = '';
  if (keys.length > 0) {
    // The config model is loaded for -c alone (which keys repeat; a stopped container's file).
    const { Container, isRepeatableKey } = await import('../../index.js');
    const c = new Container(name, { lxcpath, log: ctx.log });
    for (const key of keys) {
      const live = status ? await running.configItem(key) : undefined;
      const found: string[] = live ?? (await c.getConfigItem(key).then((v) => (v === undefined ? [] : typeof v === 'string' ? [v] : v)));
      const shown = isRepeatableKey(key) ? found : found.slice(-1);
      out += shown.length ? shown.map((v) => `${key} = ${v}\n`).join('') : `${key} =\n`;
    }
  }
  if (all) out += line('Name', name);
  if (all || opts.state) out += line('State', status?.state ?? 'STOPPED');
  if (status?.pid !== undefined && (all || opts.pid)) out += line('PID', status.pid);
  if (status && (all || opts.ips)) {
    for (const a of (await running.addresses()) ?? []) {
      if (a.iface === 'lo') continue;
      out += line('IP', a.address.replace(/\/[0-9]+$/, ''));
    }
  }
  await ctx.out(out);
  if (opts.stats) ctx.log.warn('resource use (-S) comes with the cgroup plugin, which lxkit does not have yet');
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-s, --state', 'show the state')
    .option('-p, --pid', "show the init's pid")
    .option('-i, --ips', 'show the IP addresses')
    .option('-S, --stats', 'show resource use (with the cgroup plugin)')
    .option('-H, --no-humanize', 'raw numbers, no units')
    .option('-c, --config <key>', 'show a config item (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(action(program, (ctx) => info(ctx, ctx.opts as never)));
}
