/**
 * dnsmasq on the bridge: DHCP in LXC_DHCP_RANGE (and router advertisements
 * with IPv6 settings), DNS for the containers' names, bound to the bridge's
 * address alone. It reads LXC_DHCP_CONFILE or no configuration at all (not
 * the host's /etc/dnsmasq.conf), runs as an unprivileged user once its
 * sockets are open, and keeps its leases across restarts, as with LXC.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxkitError, runTool, type Logger } from '@lxkit/core';
import type { NetServiceSettings } from './settings.js';

/** Where dnsmasq keeps leases on Debian (LXC's choice too). */
export const LEASE_DIR = '/var/lib/misc';

export const leaseFile = (bridge: string, dir = LEASE_DIR): string => join(dir, `dnsmasq.${bridge}.leases`);
export const pidFile = (runDir: string): string => join(runDir, 'dnsmasq.pid');

/** The first of LXC's candidates for dnsmasq's user that exists here. */
async function dnsmasqUser(): Promise<string> {
  for (const user of ['lxc-dnsmasq', 'dnsmasq', 'nobody']) {
    const found = await runTool('getent', ['passwd', user], { what: `looking up ${user}`, code: 'LXKIT_NET_SERVICE_FAILED' }).then(
      () => true,
      () => false,
    );
    if (found) return user;
  }
  return 'nobody';
}

export function dnsmasqArgs(s: NetServiceSettings, o: { runDir: string; leaseDir: string; user: string }): string[] {
  const args = [
    `--conf-file=${s.dhcpConfFile ?? '/dev/null'}`,
    ...(s.domain ? ['-s', s.domain, '-S', `/${s.domain}/`] : []),
    ...(s.dhcpPing ? [] : ['--no-ping']),
    '-u',
    o.user,
    '--strict-order',
    '--bind-interfaces',
    `--pid-file=${pidFile(o.runDir)}`,
    '--listen-address',
    s.address.address,
    '--dhcp-range',
    s.dhcpRange,
    `--dhcp-lease-max=${s.dhcpMax}`,
    '--dhcp-no-override',
    '--except-interface=lo',
    `--interface=${s.bridge}`,
    `--dhcp-leasefile=${leaseFile(s.bridge, o.leaseDir)}`,
    '--dhcp-authoritative',
  ];
  if (s.ipv6) args.push(`--dhcp-range=${s.ipv6.address.address},ra-only`, '--listen-address', s.ipv6.address.address);
  return args;
}

/** Starts dnsmasq, which forks once its sockets are open; its pid, from its pid file. */
export async function startDnsmasq(s: NetServiceSettings, o: { runDir: string; leaseDir: string }, log: Logger): Promise<number> {
  await mkdir(o.leaseDir, { recursive: true });
  const args = dnsmasqArgs(s, { ...o, user: await dnsmasqUser() });
  log.debug(`dnsmasq ${args.join(' ')}`);
  // dnsmasq's first process exits once the daemon is set up, with the daemon's error if it failed.
  await runTool('dnsmasq', args, { what: `starting dnsmasq on ${s.bridge}`, code: 'LXKIT_NET_SERVICE_FAILED' });
  const pid = await runningDnsmasq(o.runDir);
  if (pid === undefined) throw new LxkitError('LXKIT_NET_SERVICE_FAILED', `dnsmasq on ${s.bridge} wrote no pid file ${pidFile(o.runDir)} or is gone`);
  return pid;
}

/** Whether `pid` is a live dnsmasq (not another program that got the pid since, nor a zombie left for the host's init to reap). */
function isDnsmasq(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.startsWith(`${pid} (dnsmasq) `) && stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid of the dnsmasq whose pid file is in `runDir`, when that process is still a dnsmasq. */
export async function runningDnsmasq(runDir: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile(runDir), 'utf8').catch(() => '')).trim());
  // A stale pid file may name another program by now: never signal that one.
  return Number.isInteger(pid) && pid > 0 && isDnsmasq(pid) ? pid : undefined;
}

/** Ends the dnsmasq of `runDir` (SIGTERM, SIGKILL after 2 s) and removes its pid file. */
export async function stopDnsmasq(runDir: string, log: Logger): Promise<number | undefined> {
  const pid = await runningDnsmasq(runDir);
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 40 && isDnsmasq(pid); i++) await sleep(50);
    if (isDnsmasq(pid)) {
      log.warn(`dnsmasq (pid ${pid}) did not end on SIGTERM within 2 s: killed`);
      process.kill(pid, 'SIGKILL');
    }
  }
  await rm(pidFile(runDir), { force: true });
  return pid;
}
