/**
 * `lxkit net`: the host's bridge service (LXC's lxc-net) on a bridge and a
 * subnet of the test's own — the bridge, its firewall rules (nftables, or
 * iptables), dnsmasq — with containers getting addresses and names from it,
 * and LXC's own lxc-net stopping what lxkit started and the other way round.
 *
 * dnsmasq reads a configuration of the test's with `no-resolv`: it answers
 * for the containers' names and forwards nothing. Traffic stays on the
 * test's bridge. Afterwards: no bridge, no `lxc` tables or iptables tables
 * that were not there, no dnsmasq, no lease file, no flag, and the
 * forwarding sysctls as they were.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { portsGone } from '../lib/net.js';
import { busyboxIn, LXKIT_BIN, lxkit, lxkitIn, NOBODY, testIf, until, which, withRestoredFiles, withScratch, withTmpDir, type CliResult } from '../lib/harness.js';

const test = suite('net-service');
const RUN = '/run/lxc';
const FLAG = `${RUN}/network_up`;
const PIDFILE = `${RUN}/dnsmasq.pid`;
const LXC_NET = '/usr/libexec/lxc/lxc-net';
const SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'];

const nftTables = async (): Promise<string[]> =>
  (await execa('nft', ['list', 'tables'], { reject: false })).stdout
    .split('\n')
    .map((l) => l.replace(/^table /, '').trim())
    .filter(Boolean);

/** A bridge service of the host's own would be replaced by the test's: not done. */
const BUSY = (() => {
  if (!which('dnsmasq')) return 'dnsmasq is not installed (dnsmasq-base)';
  if (!which('nft')) return 'nft is not installed (nftables)';
  if (existsSync(FLAG)) return `a bridge service runs on this host (${FLAG}): the test would take its place`;
  return undefined;
})();

interface Service {
  readonly bridge: string;
  readonly settings: string;
  /** `lxkit net ACTION --settings FILE …`. */
  net(...args: string[]): Promise<CliResult>;
}

const isDnsmasq = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.includes('(dnsmasq)') && stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};

/**
 * The service's settings for a bridge of the test's on 10.219.SUBNET.0/24
 * (`lines` added), in a file of its own or, with `file`, in that file (put
 * back afterwards); everything the service or LXC's could leave is removed
 * afterwards, whatever happens.
 */
async function withService<T>(subnet: number, lines: string[], fn: (s: Service) => Promise<T>, opts: { file?: string } = {}): Promise<T> {
  const bridge = `lxkn${randomBytes(3).toString('hex')}`;
  const tablesBefore = await nftTables();
  const sysctls = await Promise.all(SYSCTLS.map((f) => readFile(f, 'utf8').catch(() => undefined)));
  return withTmpDir(async (dir) => {
    const confile = join(dir, 'dnsmasq.conf');
    await writeFile(confile, '# the test: forward nothing\nno-resolv\n');
    const settings = opts.file ?? join(dir, 'lxc-net');
    const text = [
      'USE_LXC_BRIDGE="true"',
      `LXC_BRIDGE="${bridge}"`,
      `LXC_ADDR="10.219.${subnet}.1"`,
      `LXC_NETWORK="10.219.${subnet}.0/24"`,
      `LXC_DHCP_RANGE="10.219.${subnet}.10,10.219.${subnet}.20"`,
      'LXC_DOMAIN="lxkit-test"',
      `LXC_DHCP_CONFILE="${confile}"`,
      ...lines,
      '',
    ].join('\n');
    const run = async () => {
      await writeFile(settings, text);
      const svc: Service = { bridge, settings, net: (...args) => lxkit(['net', ...args, ...(opts.file ? [] : ['--settings', settings])]) };
      try {
        return await fn(svc);
      } finally {
        await svc.net('stop', '--force');
        const pid = Number((await readFile(PIDFILE, 'utf8').catch(() => '')).trim());
        if (pid > 0 && isDnsmasq(pid)) process.kill(pid, 'SIGKILL');
        await execa('ip', ['link', 'del', bridge], { reject: false });
        for (const f of [FLAG, PIDFILE, `/var/lib/misc/dnsmasq.${bridge}.leases`]) await rm(f, { force: true });
        for (const t of await nftTables()) if (!tablesBefore.includes(t)) await execa('nft', ['delete', 'table', ...t.split(' ')], { reject: false });
        await Promise.all(SYSCTLS.map((f, i) => (sysctls[i] === undefined ? undefined : writeFile(f, sysctls[i]!).catch(() => undefined))));
      }
    };
    return opts.file ? withRestoredFiles([opts.file], run) : run();
  });
}

/** What the service leaves when it is stopped: nothing. */
async function assertGone(svc: Service, tablesBefore: readonly string[]): Promise<void> {
  assert.not.ok(existsSync(`/sys/class/net/${svc.bridge}`), `${svc.bridge} is gone`);
  assert.equal((await nftTables()).filter((t) => t.endsWith(' lxc')), tablesBefore.filter((t) => t.endsWith(' lxc')));
  assert.not.ok(existsSync(FLAG), 'no flag');
  assert.not.ok(existsSync(PIDFILE), 'no pid file');
  assert.is((await execa('pgrep', ['-f', `--interface=${svc.bridge}`], { reject: false })).stdout, '', 'no dnsmasq of the bridge');
}

/** In a busybox container on the bridge: an address by DHCP (udhcpc, applied by a script of the test's), then `then`. */
const DHCP_THEN = (name: string, then: string) =>
  [
    `printf '#!/bin/sh\\n[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"\\nexit 0\\n' > /tmp/bound`,
    'chmod +x /tmp/bound',
    `udhcpc -i eth0 -n -q -T 1 -t 8 -s /tmp/bound -x hostname:${name} >/dev/null 2>&1 || echo no-lease`,
    'echo "got $(ip -4 addr show eth0 | sed -n "s/.*inet \\([0-9.]*\\).*/\\1/p")"',
    then,
  ].join('; ');

const vethOn = (bridge: string, mac: string) => `lxc.net.0.type = veth\nlxc.net.0.link = ${bridge}\nlxc.net.0.flags = up\nlxc.net.0.hwaddr = ${mac}\n`;

testIf(test, BUSY, 'start makes the bridge, its nftables rules and dnsmasq; a container gets an address and its name by DHCP; stop leaves nothing', async () => {
  const before = await nftTables();
  await withService(41, [], async (svc) => {
    const started = await svc.net('start');
    assert.is(started.exitCode, 0, started.stderr);
    assert.match(started.stdout, new RegExp(`${svc.bridge}: bridge up with 10\\.219\\.41\\.1/24, MAC address 00:16:3e:00:00:00`));
    assert.match(started.stdout, /dnsmasq \(pid \d+\): addresses 10\.219\.41\.10,10\.219\.41\.20/);
    const addr = JSON.parse((await execa('ip', ['-j', 'addr', 'show', svc.bridge])).stdout)[0];
    assert.ok(addr.flags.includes('UP'));
    assert.is(addr.address, '00:16:3e:00:00:00');
    assert.ok(addr.addr_info.some((a: { local: string; prefixlen: number }) => a.local === '10.219.41.1' && a.prefixlen === 24));
    const tables = await nftTables();
    assert.ok(tables.includes('inet lxc') && tables.includes('ip lxc'), tables.join(', '));
    assert.match((await execa('nft', ['list', 'table', 'ip', 'lxc'])).stdout, /ip saddr 10\.219\.41\.0\/24 ip daddr != 10\.219\.41\.0\/24 counter .*masquerade/);
    assert.is((await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim(), '1');
    assert.ok(existsSync(FLAG));

    const status = await svc.net('status');
    assert.is(status.exitCode, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^running\n/);
    const again = await svc.net('start');
    assert.is(again.exitCode, 1);
    assert.match(again.stderr, /already running/);

    await withScratch(async (s) => {
      await busyboxIn(s, 'dhcp1', vethOn(svc.bridge, '02:16:3e:41:00:01'));
      const r = await lxkitIn(s, 'execute', '-n', 'dhcp1', '--', 'sh', '-c', DHCP_THEN('dhcp1', 'nslookup dhcp1.lxkit-test 10.219.41.1'));
      const got = /got (10\.219\.41\.(\d+))/.exec(r.stdout);
      assert.ok(got && Number(got[2]) >= 10 && Number(got[2]) <= 20, r.stdout + r.stderr);
      // dnsmasq's DNS knows the container by the name it gave with its request.
      assert.match(r.stdout, new RegExp(`Name:\\s+dhcp1\\.lxkit-test\\nAddress:\\s+${got![1]!.replaceAll('.', '\\.')}`));
      const leases = await readFile(`/var/lib/misc/dnsmasq.${svc.bridge}.leases`, 'utf8');
      assert.match(leases, new RegExp(`02:16:3e:41:00:01 ${got![1]!.replaceAll('.', '\\.')} dhcp1 `));
    });
    // The container's end of its veth goes with its network namespace, which the kernel takes down just after.
    await portsGone(svc.bridge);

    const stopped = await svc.net('stop');
    assert.is(stopped.exitCode, 0, stopped.stderr);
    assert.match(stopped.stdout, /dnsmasq \(pid \d+\) stopped\nfirewall rules removed\n.* deleted$/, stopped.stdout);
    await assertGone(svc, before);
    const status2 = await svc.net('status');
    assert.is(status2.exitCode, 3);
    assert.match(status2.stdout, /^stopped\n/);
    const stopAgain = await svc.net('stop');
    assert.is(stopAgain.exitCode, 1);
    assert.match(stopAgain.stderr, /the bridge service is not running/);
  });
});

testIf(test, BUSY, "a failed start leaves nothing: bad settings make nothing, and dnsmasq's refusal takes the bridge and the rules away again", async () => {
  const before = await nftTables();
  await withService(42, ['LXC_NETMASK=255.255.0.255'], async (svc) => {
    const r = await svc.net('start');
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, new RegExp(`${svc.settings.replaceAll('/', '\\/')}:8: LXC_NETMASK="255\\.255\\.0\\.255": not a netmask`));
    await assertGone(svc, before);
  });
  // An interface of the host that is no bridge is left alone, by start and by a forced stop.
  const lo = JSON.stringify((await execa('ip', ['-j', 'addr', 'show', 'lo'])).stdout);
  await withService(42, ['LXC_BRIDGE=lo'], async (svc) => {
    for (const args of [['start'], ['stop', '--force']]) {
      const r = await lxkit(['net', ...args, '--settings', svc.settings]);
      assert.is(r.exitCode, 1, args.join(' '));
      assert.match(r.stderr, /LXC_BRIDGE: lo is a network interface of the host that is not a bridge; it is left alone/);
    }
    assert.is(JSON.stringify((await execa('ip', ['-j', 'addr', 'show', 'lo'])).stdout), lo);
  });
  const asNobody = await execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, LXKIT_BIN, 'net', 'start'], { reject: false, env: { NODE_EXTRA_CA_CERTS: '' } });
  assert.is(asNobody.exitCode, 1);
  assert.match(asNobody.stderr, /the bridge service needs root to start/);
  await withService(42, ['LXC_DHCP_RANGE=10.219.42.10,banana'], async (svc) => {
    const r = await svc.net('start');
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /starting dnsmasq on lxkn\w+: dnsmasq .*: .*dhcp-range/i);
    await assertGone(svc, before);
    assert.is((await svc.net('status')).exitCode, 3);
  });
});

testIf(test, BUSY, 'interfaces on the bridge keep it at stop (down, without its address) until a forced stop; restart starts a stopped service', async () => {
  await withService(43, ['LXC_DHCP_PING=false'], async (svc) => {
    assert.is((await svc.net('start')).exitCode, 0);
    const port = `lxkp${randomBytes(3).toString('hex')}`;
    await execa('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}b`]);
    try {
      await execa('ip', ['link', 'set', port, 'master', svc.bridge]);
      const stopped = await svc.net('stop');
      assert.is(stopped.exitCode, 0, stopped.stderr);
      assert.match(stopped.stdout, new RegExp(`${svc.bridge} down, kept for the interfaces still on it`));
      const addr = JSON.parse((await execa('ip', ['-j', 'addr', 'show', svc.bridge])).stdout)[0];
      assert.not.ok(addr.flags.includes('UP'));
      assert.equal(addr.addr_info.filter((a: { family: string }) => a.family === 'inet'), []);
      assert.is((await svc.net('status')).exitCode, 3);
    } finally {
      await execa('ip', ['link', 'del', port], { reject: false });
    }
    const forced = await svc.net('stop', '--force');
    assert.is(forced.exitCode, 0, forced.stderr);
    assert.not.ok(existsSync(`/sys/class/net/${svc.bridge}`));

    const restarted = await svc.net('restart');
    assert.is(restarted.exitCode, 0, restarted.stderr);
    assert.is((await svc.net('status')).exitCode, 0);
    assert.is((await svc.net('restart')).exitCode, 0);
    const status = await svc.net('status');
    assert.is(status.exitCode, 0, status.stdout);
    assert.is((await svc.net('stop')).exitCode, 0);
  });
});

testIf(
  test,
  BUSY ?? (which('iptables') && which('ip6tables') ? undefined : 'iptables is not installed'),
  'IPv6 and iptables (LXC_USE_NFT=false): the rules, the IPv6 address, router advertisements a container configures itself from; all gone at stop',
  async () => {
    const rule = (tool: string, table: string, spec: string[]) => execa(tool, ['-w', '-t', table, '-C', ...spec], { reject: false }).then((r) => r.exitCode === 0);
    await withService(44, ['LXC_USE_NFT=false', 'LXC_DHCP_PING=false', 'LXC_IPV6_ADDR=fd42:219:44::1', 'LXC_IPV6_MASK=64', 'LXC_IPV6_NETWORK=fd42:219:44::/64', 'LXC_IPV6_NAT=true'], async (svc) => {
      const started = await svc.net('start');
      assert.is(started.exitCode, 0, started.stderr);
      assert.match(started.stdout, /9 iptables rules/);
      const rules = () =>
        Promise.all([
          rule('iptables', 'filter', ['INPUT', '-i', svc.bridge, '-p', 'udp', '--dport', '67', '-j', 'ACCEPT']),
          rule('iptables', 'filter', ['FORWARD', '-o', svc.bridge, '-j', 'ACCEPT']),
          rule('iptables', 'nat', ['POSTROUTING', '-s', '10.219.44.0/24', '!', '-d', '10.219.44.0/24', '-j', 'MASQUERADE']),
          rule('ip6tables', 'nat', ['POSTROUTING', '-s', 'fd42:219:44::/64', '!', '-d', 'fd42:219:44::/64', '-j', 'MASQUERADE']),
        ]);
      assert.equal(await rules(), [true, true, true, true]);
      assert.not.ok((await nftTables()).includes('ip lxc'), 'no nftables table of its own');
      assert.match((await execa('ip', ['-6', 'addr', 'show', svc.bridge])).stdout, /inet6 fd42:219:44::1\/64/);
      assert.is((await readFile('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8')).trim(), '1');

      await withScratch(async (s) => {
        await busyboxIn(s, 'ra1', vethOn(svc.bridge, '02:16:3e:44:00:01'));
        const wait = 'for i in $(seq 15); do ip -6 addr show eth0 | grep -q "inet6 fd42:219:44:" && break; sleep 1; done; ip -6 addr show eth0';
        const r = await lxkitIn(s, 'execute', '-n', 'ra1', '--', 'sh', '-c', DHCP_THEN('ra1', wait));
        assert.match(r.stdout, /got 10\.219\.44\.\d+/);
        // SLAAC from dnsmasq's advertisements: the prefix and the MAC address's interface id.
        assert.match(r.stdout, /inet6 fd42:219:44:0:16:3eff:fe44:1\/64/, r.stdout + r.stderr);
      });

      assert.is((await svc.net('stop')).exitCode, 0);
      assert.equal(await rules(), [false, false, false, false]);
      assert.not.ok(existsSync(`/sys/class/net/${svc.bridge}`));
    });
  },
);

/** LXC's lxc-net reads /etc/default/lxc, which on Debian includes /etc/default/lxc-net. */
const LXC_MISSING = (() => {
  if (!existsSync(LXC_NET)) return `${LXC_NET} is not installed (Debian's lxc package)`;
  const lxc = (() => {
    try {
      return readFileSync('/etc/default/lxc', 'utf8');
    } catch {
      return '';
    }
  })();
  return lxc.includes('/etc/default/lxc-net') ? undefined : '/etc/default/lxc does not include /etc/default/lxc-net (as Debian ships it)';
})();

testIf(test, BUSY ?? LXC_MISSING, "LXC's lxc-net and lxkit net share the settings files and the state: each stops what the other started", async () => {
  const before = await nftTables();
  await withService(
    45,
    ['LXC_DHCP_PING=false'],
    async (svc) => {
      const lxcStart = await execa(LXC_NET, ['start'], { reject: false, all: true });
      assert.is(lxcStart.exitCode, 0, lxcStart.all);
      const status = await svc.net('status');
      assert.is(status.exitCode, 0, status.stdout + status.stderr);
      assert.match(status.stdout, new RegExp(`bridge: ${svc.bridge} up, 10\\.219\\.45\\.1/24`));
      assert.match(status.stdout, /firewall: nftables inet lxc, ip lxc/);
      assert.is((await svc.net('stop')).exitCode, 0);
      await assertGone(svc, before);

      const started = await svc.net('start');
      assert.is(started.exitCode, 0, started.stderr);
      // LXC's refuses a second start on the same flag.
      assert.is((await execa(LXC_NET, ['start'], { reject: false })).exitCode, 1);
      const lxcStop = await execa(LXC_NET, ['stop'], { reject: false, all: true });
      assert.is(lxcStop.exitCode, 0, lxcStop.all);
      // LXC's sends SIGKILL and removes the pid file: dnsmasq may linger as a zombie until the host's init reaps it.
      await until(async () => ((await execa('pgrep', ['-f', `--interface=${svc.bridge}`], { reject: false })).stdout === '' ? true : undefined), 5000, 'dnsmasq to go');
      await assertGone(svc, before);
    },
    { file: '/etc/default/lxc-net' },
  );
});

test.run();
