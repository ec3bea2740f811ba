/**
 * `lxkit info -n NAME [-s] [-p] [-i] [-S] [-H] [-c KEY]…` (lxc-info): what the
 * container's monitor says of it. With no selection: name, state, and for a
 * running container its pid and addresses. -c KEY prints `KEY = value` from
 * the config the container runs with (or its config file when stopped).
 * Resource use (-S, and with no selection) is read from the container's
 * cgroups, which its monitor names: CPU, block I/O, memory, kernel memory,
 * swap and pids, as lxc-info prints them (-H: raw numbers). As lxc-info
 * does, -H with a single selection prints the bare value (`lxkit info -n c
 * -pH` is the pid), and the config items come last.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface InfoOptions {
  state?: boolean;
  pid?: boolean;
  ips?: boolean;
  stats?: boolean;
  humanize: boolean;
  config?: string[];
}

const line = (label: string, value: string | number) => `${`${label}:`.padEnd(16)}${value}\n`;

async function info(ctx: CliContext, opts: InfoOptions): Promise<number> {
  const { runningContainer, containerPaths } = await import('../../parts/client.js');
  const name = ctx.opts.name!;
  const lxcpath = await ctx.lxcpath();
  const running = runningContainer(lxcpath, name);
  const keys = opts.config ?? [];
  const all = !opts.state && !opts.pid && !opts.ips && !opts.stats && keys.length === 0;
  // One conversation with the monitor for everything shown.
  const seen = await running.overview({ addresses: all || opts.ips === true, use: all || opts.stats === true, links: all || opts.stats === true });
  const status = seen?.status;
  if (!status && !existsSync(containerPaths(lxcpath, name).config)) {
    ctx.log.error(`container "${name}" does not exist`);
    return 1;
  }
  // lxc-info's count of what was selected (-S counts five); -H with one alone prints bare values.
  const bare = !opts.humanize && (opts.state ? 1 : 0) + (opts.pid ? 1 : 0) + (opts.ips ? 1 : 0) + (opts.stats ? 5 : 0) === 1;
  const item = (label: string, value: string | number) => (bare ? `${value}\n` : line(label, value));
  let out = '';
  if (all) out += line('Name', name);
  if (all || opts.state) out += item('State', status?.state ?? 'STOPPED');
  if (status?.pid !== undefined && (all || opts.pid)) out += item('PID', status.pid);
  if (status && (all || opts.ips)) {
    for (const a of seen?.addresses ?? []) {
      // As lxc-info: no loopback, and no IPv6 link-local address (LXC asks for scope 0, which those lack).
      if (a.iface === 'lo' || (a.family === 'inet6' && /^fe[89ab]/i.test(a.address))) continue;
      out += item('IP', a.address.replace(/\/[0-9]+$/, ''));
    }
  }
  if (status && (all || opts.stats)) {
    const use = seen?.use;
    if (use && Object.keys(use).length > 0) out += useLines(use, opts.humanize);
    else if (opts.stats) ctx.log.warn(`container "${name}" has no cgroups to read its resource use from (is the cgroup plugin enabled?)`);
    for (const l of seen?.links ?? []) out += linkLines(l, opts.humanize);
  }
  if (keys.length > 0) {
    // The config model is loaded for -c alone (which keys repeat; a stopped container's file).
    const { Container, isRepeatableKey } = await import('../../index.js');
    const c = new Container(name, { lxcpath, log: ctx.log });
    // -H with one key: its values alone, one per line.
    const values = !opts.humanize && keys.length === 1;
    for (const key of keys) {
      const live = status ? await running.configItem(key) : undefined;
      const found: string[] = live ?? (await c.getConfigItem(key).then((v) => (v === undefined ? [] : typeof v === 'string' ? [v] : v)));
      const shown = isRepeatableKey(key) ? found : found.slice(-1);
      if (values) out += shown.length ? shown.map((v) => `${v}\n`).join('') : '\n';
      else out += shown.length ? shown.map((v) => `${key} = ${v}\n`).join('') : `${key} =\n`;
    }
  }
  await ctx.out(out);
  return 0;
}

/** lxc-info's units: bytes up to KiB, then KiB, MiB, GiB with two decimals. */
function size(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} bytes`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

function useLines(use: import('../../parts/client.js').CgroupUse, humanize: boolean): string {
  const bytes = (n: number) => (humanize ? size(n) : n);
  let out = '';
  if (use.cpuNs !== undefined) out += line('CPU use', humanize ? `${(use.cpuNs / 1e9).toFixed(2)} seconds` : use.cpuNs);
  if (use.blkioBytes !== undefined) out += line('BlkIO use', bytes(use.blkioBytes));
  if (use.memoryBytes !== undefined) out += line('Memory use', bytes(use.memoryBytes));
  if (use.kmemBytes !== undefined) out += line('KMem use', bytes(use.kmemBytes));
  if (use.swapBytes !== undefined) out += line('Swap use', bytes(use.swapBytes));
  else if (use.memswBytes !== undefined && use.memoryBytes !== undefined) out += line('Swap use', bytes(Math.max(0, use.memswBytes - use.memoryBytes)));
  if (use.pids !== undefined) out += line('Pids use', use.pids);
  return out;
}

/** lxc-info's lines for one network link: the host interface and its traffic as the host counts it. */
function linkLines(l: import('../../parts/client.js').LinkUse, humanize: boolean): string {
  const bytes = (n: number) => (humanize ? size(n) : n);
  return line('Link', l.ifname) + line(' TX bytes', bytes(l.txBytes)) + line(' RX bytes', bytes(l.rxBytes)) + line(' Total bytes', bytes(l.txBytes + l.rxBytes));
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-s, --state', 'show the state')
    .option('-p, --pid', "show the init's pid")
    .option('-i, --ips', 'show the IP addresses')
    .option('-S, --stats', "show resource use (from the container's cgroups)")
    .option('-H, --no-humanize', 'raw numbers, no units')
    .option('-c, --config <key>', 'show a config item (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(action(program, (ctx) => info(ctx, ctx.opts as never)));
}
