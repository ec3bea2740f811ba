/**
 * The host bridge service, LXC's lxc-net: a bridge (lxcbr0) with an
 * address, firewall rules that let its containers reach DHCP, DNS and
 * beyond (masqueraded), and dnsmasq handing out addresses on it — what a
 * container config with `lxc.net.0.link = lxcbr0` (Debian's default.conf)
 * expects to find.
 *
 * It shares LXC's settings files, its state in /run/lxc (the `network_up`
 * flag, dnsmasq.pid), its lease file and its firewall table names, so either
 * tool stops what the other started.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LxkitError, type Logger } from '@lxkit/core';
import { bridgeDown, bridgeExists, bridgePorts, bridgeUp, refuseNonBridge } from './bridge.js';
import { LEASE_DIR, runningDnsmasq, startDnsmasq, stopDnsmasq } from './dnsmasq.js';
import { addFirewall, firewallKind, nftTables, removeFirewall } from './firewall.js';
import { readNetServiceSettings, type NetServiceSettings } from './settings.js';

export { DEFAULT_SETTINGS_FILES, readNetServiceSettings, settingsFrom, type NetServiceSettings, type Subnet } from './settings.js';
export { readShellVariables, type ShellVariable, type ShellVariables } from './shell-vars.js';
export { dnsmasqArgs } from './dnsmasq.js';
export { iptablesRules, nftRuleset } from './firewall.js';

/** LXC's run-time directory: the service's flag and dnsmasq's pid file. */
export const RUN_DIR = '/run/lxc';

export interface NetServiceOptions {
  readonly log: Logger;
  /** The settings file; by default /etc/default/lxc (which includes /etc/default/lxc-net), else /etc/default/lxc-net. */
  readonly settingsFile?: string;
  /** Where the `network_up` flag and dnsmasq's pid file go (LXC's /run/lxc). */
  readonly runDir?: string;
  /** Where dnsmasq keeps its leases (/var/lib/misc). */
  readonly leaseDir?: string;
  /** One line per thing done, for a person to read. */
  readonly report?: (line: string) => void;
}

export interface NetServiceStatus {
  readonly settings: NetServiceSettings;
  /** The service's flag is there: it was started and not stopped. */
  readonly started: boolean;
  readonly bridge: { readonly exists: boolean; readonly up: boolean; readonly ports: readonly string[] };
  readonly dnsmasq?: number;
  /** The `lxc` nftables tables there are. */
  readonly tables: readonly string[];
  /** What a started service lacks (empty when it runs whole). */
  readonly missing: readonly string[];
}

const flagOf = (runDir: string) => join(runDir, 'network_up');

function paths(o: NetServiceOptions) {
  return { runDir: o.runDir ?? RUN_DIR, leaseDir: o.leaseDir ?? LEASE_DIR };
}

/** Undoes whatever of a start there is: every step is tried, the first failure is raised afterwards. */
async function teardown(s: NetServiceSettings, o: NetServiceOptions): Promise<void> {
  const { runDir } = paths(o);
  const say = o.report ?? (() => {});
  const errors: unknown[] = [];
  const step = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  };
  await step(async () => {
    const pid = await stopDnsmasq(runDir, o.log);
    if (pid !== undefined) say(`dnsmasq (pid ${pid}) stopped`);
  });
  await step(async () => {
    await removeFirewall(s, await firewallKind(s), o.log);
    say('firewall rules removed');
  });
  await step(async () => {
    if (!bridgeExists(s.bridge)) return;
    say((await bridgeDown(s.bridge, o.log)) === 'deleted' ? `${s.bridge} deleted` : `${s.bridge} down, kept for the interfaces still on it`);
  });
  await step(() => rm(flagOf(runDir), { force: true }));
  if (errors.length > 0) throw errors[0];
}

const settingsOf = (o: NetServiceOptions) => readNetServiceSettings(o.log, o.settingsFile);

/** Start and stop change the host's interfaces, firewall and processes. */
function requireRoot(verb: string): void {
  if (process.getuid?.() !== 0) throw new LxkitError('LXKIT_NET_SERVICE_FAILED', `the bridge service needs root to ${verb} (it changes the host's interfaces, firewall rules and runs dnsmasq)`);
}

function disabled(s: NetServiceSettings, o: NetServiceOptions, verb: string): boolean {
  if (s.enabled) return false;
  o.report?.(`USE_LXC_BRIDGE is not true${s.files.length ? ` (${s.files.join(', ')})` : ''}: nothing to ${verb}`);
  return true;
}

/** Starts the service: bridge, firewall, dnsmasq, then the flag. A failure undoes what was done. */
export async function startNetService(o: NetServiceOptions): Promise<NetServiceSettings> {
  requireRoot('start');
  const s = settingsOf(o);
  if (disabled(s, o, 'start')) return s;
  refuseNonBridge(s.bridge);
  const { runDir, leaseDir } = paths(o);
  const say = o.report ?? (() => {});
  if (existsSync(flagOf(runDir))) {
    throw new LxkitError('LXKIT_NET_SERVICE_STATE', `the bridge service is already running (${flagOf(runDir)} is there); stop it first`, { path: flagOf(runDir) });
  }
  if (bridgeExists(s.bridge)) {
    // LXC's lxc-net does the same: a bridge of that name without the flag is a start that was not cleaned up.
    o.log.info(`${s.bridge} exists without ${flagOf(runDir)}: what an earlier start left is undone first`);
    await teardown(s, { ...o, report: () => {} });
  }
  try {
    await mkdir(runDir, { recursive: true });
    await bridgeUp(s, o.log);
    const v6 = s.ipv6 ? ` and ${s.ipv6.address.address}/${s.ipv6.address.prefix}` : '';
    say(`${s.bridge}: bridge up with ${s.address.address}/${s.address.prefix}${v6}, MAC address ${s.bridgeMac}`);
    const kind = await firewallKind(s);
    const masqueraded = [s.network, ...(s.ipv6?.nat ? [s.ipv6.network] : [])].map((n) => `${n.address}/${n.prefix}`).join(' and ');
    say(`${await addFirewall(s, kind, o.log)}: DHCP and DNS from ${s.bridge}, forwarding, ${masqueraded} masqueraded`);
    const pid = await startDnsmasq(s, { runDir, leaseDir }, o.log);
    say(`dnsmasq (pid ${pid}): addresses ${s.dhcpRange} on ${s.bridge}${s.domain ? `, names in ${s.domain}` : ''}`);
    await writeFile(flagOf(runDir), '');
  } catch (err) {
    await teardown(s, { ...o, report: () => {} }).catch((e: Error) => o.log.warn(`undoing the failed start: ${e.message}`));
    throw err;
  }
  return s;
}

/**
 * Stops the service: dnsmasq, the firewall rules, the bridge (kept, down,
 * while containers' interfaces are on it). `force`: also when the flag says
 * it is not running, to clean up what a failed start left.
 */
export async function stopNetService(o: NetServiceOptions & { readonly force?: boolean }): Promise<NetServiceSettings> {
  requireRoot('stop');
  const s = settingsOf(o);
  if (disabled(s, o, 'stop')) return s;
  refuseNonBridge(s.bridge);
  const flag = flagOf(paths(o).runDir);
  if (!existsSync(flag) && !o.force) throw new LxkitError('LXKIT_NET_SERVICE_STATE', `the bridge service is not running (no ${flag})`, { path: flag });
  await teardown(s, o);
  return s;
}

/** What there is of the service now. */
export async function netServiceStatus(o: NetServiceOptions): Promise<NetServiceStatus> {
  const s = settingsOf(o);
  const { runDir } = paths(o);
  const started = existsSync(flagOf(runDir));
  const exists = bridgeExists(s.bridge);
  const flags = exists ? parseInt(await readFile(`/sys/class/net/${s.bridge}/flags`, 'utf8'), 16) : 0;
  const up = (flags & 1) !== 0;
  const dnsmasq = await runningDnsmasq(runDir);
  const nft = (await firewallKind(s)) === 'nftables';
  const tables = nft ? await nftTables() : [];
  const missing: string[] = [];
  if (started) {
    if (!up) missing.push(exists ? `${s.bridge} is down` : `there is no ${s.bridge}`);
    if (dnsmasq === undefined) missing.push('dnsmasq is not running');
    for (const t of ['inet lxc', 'ip lxc']) if (nft && !tables.includes(t)) missing.push(`the nftables table ${t} is gone`);
  }
  return { settings: s, started, bridge: { exists, up, ports: exists ? await bridgePorts(s.bridge) : [] }, ...(dnsmasq ? { dnsmasq } : {}), tables, missing };
}
