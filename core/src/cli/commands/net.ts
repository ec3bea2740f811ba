/**
 * `lxkit net start|stop|restart|status [--settings FILE]`: the host's bridge
 * service, what LXC's lxc-net (lxc-net.service) does — lxcbr0 with an
 * address, firewall rules and dnsmasq — from the same settings files
 * (/etc/default/lxc, /etc/default/lxc-net), in the net plugin.
 *
 * Exit status as LXC's script and an init script's: 0 when done; 1 when it
 * failed, or start finds it running, or stop finds it stopped; status says
 * 0 running, 1 started but broken (what is missing is printed), 3 stopped.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

import type { Logger } from '../../log/logger.js';

/** What the command uses of the net plugin, whose types the core does not import (it does not depend on its plugins). */
interface ServiceOptions {
  log: Logger;
  settingsFile?: string;
  report?: (line: string) => void;
  force?: boolean;
}
interface Subnet {
  address: string;
  prefix: number;
}
interface Service {
  startNetService(o: ServiceOptions): Promise<unknown>;
  stopNetService(o: ServiceOptions): Promise<unknown>;
  netServiceStatus(o: ServiceOptions): Promise<{
    settings: { enabled: boolean; bridge: string; address: Subnet; dhcpRange: string; useNft: boolean; ipv6?: { address: Subnet } };
    started: boolean;
    bridge: { exists: boolean; up: boolean; ports: readonly string[] };
    dnsmasq?: number;
    tables: readonly string[];
    missing: readonly string[];
  }>;
}
type Action = 'start' | 'stop' | 'restart' | 'reload' | 'force-reload' | 'status';
const ACTIONS: readonly Action[] = ['start', 'stop', 'restart', 'reload', 'force-reload', 'status'];

async function service(): Promise<Service> {
  const { builtinEntry } = await import('../../parts/toolkit.js');
  const { LxkitError } = await import('../../parts/base.js');
  const entry = builtinEntry('net');
  if (!entry) throw new LxkitError('LXKIT_PLUGIN_NOT_FOUND', 'the network plugin (@lxkit/plugin-net) is not installed', { plugin: 'net' });
  // A path, not a URL: the CLI bundle is CommonJS, where this import() is a require().
  const mod = (await import(entry)) as Service & { default?: Service };
  return typeof mod.startNetService === 'function' ? mod : (mod.default as Service);
}

async function run(ctx: CliContext, verb: string, opts: { settings?: string; force?: boolean }): Promise<number> {
  const { LxkitError } = await import('../../parts/base.js');
  if (!ACTIONS.includes(verb as Action)) throw new LxkitError('LXKIT_USAGE', `lxkit net: unknown action "${verb}" (start, stop, restart, reload, force-reload or status)`);
  const net = await service();
  const o: ServiceOptions = {
    log: ctx.log,
    ...(opts.settings ? { settingsFile: opts.settings } : {}),
    report: (line: string) => void (ctx.opts.quiet ? undefined : ctx.out(`${line}\n`)),
  };
  if (verb === 'status') return status(ctx, net, o);
  if (verb !== 'start') {
    const restart = verb !== 'stop';
    try {
      await net.stopNetService({ ...o, ...(opts.force ? { force: true } : {}) });
    } catch (err) {
      // A restart of a stopped service starts it, as LXC's does.
      if (!(restart && err instanceof LxkitError && err.code === 'LXKIT_NET_SERVICE_STATE')) throw err;
    }
    if (!restart) return 0;
  }
  await net.startNetService(o);
  return 0;
}

async function status(ctx: CliContext, net: Service, o: ServiceOptions): Promise<number> {
  const st = await net.netServiceStatus(o);
  const s = st.settings;
  if (!s.enabled) {
    await ctx.out(`disabled (USE_LXC_BRIDGE is not true)\n`);
    return 3;
  }
  const lines = [
    `${st.started ? (st.missing.length ? 'broken' : 'running') : 'stopped'}`,
    `bridge: ${s.bridge} ${st.bridge.exists ? (st.bridge.up ? 'up' : 'down') : 'absent'}, ${s.address.address}/${s.address.prefix}${s.ipv6 ? ` ${s.ipv6.address.address}/${s.ipv6.address.prefix}` : ''}${st.bridge.ports.length ? `, ports ${st.bridge.ports.join(' ')}` : ''}`,
    `dnsmasq: ${st.dnsmasq ? `pid ${st.dnsmasq}, addresses ${s.dhcpRange}` : 'not running'}`,
    `firewall: ${s.useNft ? (st.tables.length ? `nftables ${st.tables.join(', ')}` : 'no lxc tables') : 'iptables'}`,
    ...st.missing.map((m) => `missing: ${m}`),
  ];
  await ctx.out(lines.join('\n') + '\n');
  return !st.started ? 3 : st.missing.length ? 1 : 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, {})
    .argument('<action>', `${ACTIONS.join(', ')}`)
    .option('--settings <file>', 'read the settings from this file (default: /etc/default/lxc, which includes /etc/default/lxc-net)')
    .option('--force', 'stop: also undo what a failed or unrecorded start left')
    .action(action(program, (ctx, verb: string) => run(ctx, verb, ctx.opts as never)));
}
