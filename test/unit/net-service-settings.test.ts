/**
 * The bridge service's settings (LXC's lxc-net variables from Debian's
 * default files, read without a shell) and what they turn into: the
 * nftables ruleset, the iptables rules and dnsmasq's arguments.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LxkitError, silentLogger, type Logger } from '@lxkit/core';
import { dnsmasqArgs, iptablesRules, nftRuleset, readNetServiceSettings } from '@lxkit/plugin-net';
import { withTmpDir } from '../lib/harness.js';

const test = suite('net-service-settings');

/** A logger that keeps its warnings. */
function recording(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = Object.create(silentLogger) as Logger & { warnings: string[] };
  return Object.assign(log, { warnings, warn: (m: string) => void warnings.push(m), child: () => log });
}

async function settingsOf(files: Record<string, string>, log: Logger = silentLogger) {
  return withTmpDir(async (dir) => {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text.replaceAll('$DIR', dir));
    return { dir, settings: readNetServiceSettings(log, join(dir, Object.keys(files)[0]!)) };
  });
}

async function failure(files: Record<string, string>): Promise<LxkitError> {
  try {
    await settingsOf(files);
  } catch (err) {
    assert.instance(err, LxkitError);
    assert.is((err as LxkitError).code, 'LXKIT_NET_SETTINGS_INVALID');
    return err as LxkitError;
  }
  assert.unreachable('the settings were accepted');
  throw new Error('unreachable');
}

test("LXC's defaults where nothing is set", async () => {
  const { settings: s } = await settingsOf({ lxc: '# nothing\n' });
  assert.equal(
    { enabled: s.enabled, bridge: s.bridge, mac: s.bridgeMac, address: s.address, network: s.network, range: s.dhcpRange, max: s.dhcpMax, ping: s.dhcpPing, nft: s.useNft },
    { enabled: true, bridge: 'lxcbr0', mac: '00:16:3e:00:00:00', address: { address: '10.0.3.1', prefix: 24 }, network: { address: '10.0.3.0', prefix: 24 }, range: '10.0.3.2,10.0.3.254', max: 253, ping: true, nft: true },
  );
  assert.is(s.ipv6, undefined);
  assert.is(s.domain, undefined);
});

test("Debian's layout: /etc/default/lxc includes lxc-net behind a guard, later values win, comments and exports are understood", async () => {
  const log = recording();
  const { dir, settings: s } = await settingsOf(
    {
      lxc: ['LXC_AUTO="true"', 'USE_LXC_BRIDGE="false"  # overridden in lxc-net', 'BASE=10.9.8', '[ ! -f $DIR/lxc-net ] || . $DIR/lxc-net', '[ -f $DIR/absent ] && . $DIR/absent', 'echo hello', ''].join('\n'),
      'lxc-net': ['USE_LXC_BRIDGE="true"', "export LXC_BRIDGE='br-x'", 'LXC_ADDR="$BASE.1" LXC_NETMASK=255.255.255.128', 'LXC_NETWORK=${BASE}.0/25', 'LXC_DOMAIN=lab.example', ''].join('\n'),
    },
    log,
  );
  assert.is(s.enabled, true);
  assert.is(s.bridge, 'br-x');
  assert.equal(s.address, { address: '10.9.8.1', prefix: 25 });
  assert.equal(s.network, { address: '10.9.8.0', prefix: 25 });
  assert.is(s.domain, 'lab.example');
  assert.equal(s.files, [join(dir, 'lxc'), join(dir, 'lxc-net')]);
  // A command other than an include is not run: named, with its file and line.
  assert.equal(log.warnings, [`${join(dir, 'lxc')}:6: not a variable assignment or an include, ignored: echo hello`]);
});

test('what needs a shell, and bad values, are errors naming the file, the line and the variable', async () => {
  const sub = await failure({ lxc: 'LXC_ADDR=$(hostname -i)\n' });
  assert.match(sub.message, /lxc:1: a command substitution \(\$\(…\)\) needs a shell/);
  assert.match((await failure({ lxc: '\nLXC_BRIDGE=${NAME:-lxcbr0}\n' })).message, /lxc:2: a parameter expansion other than \$\{NAME\}/);
  assert.match((await failure({ lxc: 'LXC_DOMAIN="open\n' })).message, /lxc:1: an unterminated " quote/);

  const cases: [string, RegExp][] = [
    ['USE_LXC_BRIDGE=yes', /USE_LXC_BRIDGE="yes": neither true nor false/],
    ['LXC_BRIDGE=a/b', /LXC_BRIDGE="a\/b": not a network interface name/],
    ['LXC_BRIDGE=sixteen-chars-xyz', /LXC_BRIDGE="sixteen-chars-xyz": not a network interface name/],
    ['LXC_BRIDGE_MAC=01:16:3e:00:00:00', /LXC_BRIDGE_MAC="01:16:3e:00:00:00": a multicast address/],
    ['LXC_ADDR=10.0.3.300', /LXC_ADDR="10.0.3.300": not an IPv4 address/],
    ['LXC_NETMASK=255.0.255.0', /LXC_NETMASK="255.0.255.0": not a netmask/],
    ['LXC_NETWORK=10.0.3.0', /LXC_NETWORK="10.0.3.0": not an IPv4 network ADDRESS\/PREFIX/],
    ['LXC_DHCP_RANGE="10.0.3.2, 10.0.3.9"', /LXC_DHCP_RANGE="10.0.3.2, 10.0.3.9": not a dnsmasq range/],
    ['LXC_DHCP_MAX=0', /LXC_DHCP_MAX="0": not a positive whole number/],
    ['LXC_DHCP_CONFILE=/nonexistent/dnsmasq.conf', /LXC_DHCP_CONFILE="\/nonexistent\/dnsmasq.conf": no such file/],
    ['LXC_DOMAIN=-bad-', /LXC_DOMAIN="-bad-": not a domain name/],
    ['LXC_IPV6_ADDR=fd00::1', /LXC_IPV6_ADDR="fd00::1": IPv6 needs .*LXC_IPV6_MASK and LXC_IPV6_NETWORK are not set/],
    ['LXC_IPV6_ADDR=fd00::1 LXC_IPV6_MASK=129 LXC_IPV6_NETWORK=fd00::/64', /LXC_IPV6_MASK="129": not a prefix length/],
  ];
  for (const [line, message] of cases) {
    const err = await failure({ lxc: `# line 1\n${line}\n` });
    assert.match(err.message, /lxc:2: /, line);
    assert.match(err.message, message, line);
    assert.is(err.line, 2);
    assert.ok(err.key && line.includes(err.key), line);
  }
});

test('a required include that is missing is an error; an include loop is read once', async () => {
  assert.match((await failure({ lxc: '. /nonexistent/lxc-net\n' })).message, /cannot read \/nonexistent\/lxc-net/);
  const { settings } = await settingsOf({ lxc: 'source $DIR/b\nLXC_BRIDGE=a0\n', b: '. $DIR/lxc\nLXC_BRIDGE=b0\n' });
  assert.is(settings.bridge, 'a0');
});

test('the nftables ruleset and the iptables rules cover DHCP, DNS, forwarding and masquerading, IPv6 NAT when asked', async () => {
  const { settings } = await settingsOf({
    lxc: 'LXC_BRIDGE=br9\nLXC_NETWORK=10.1.2.0/24\nLXC_ADDR=10.1.2.1\nLXC_IPV6_ADDR=fd42::1\nLXC_IPV6_MASK=64\nLXC_IPV6_NETWORK=fd42::/64\nLXC_IPV6_NAT=true\n',
  });
  const ruleset = nftRuleset(settings, ['ip lxc']);
  assert.match(ruleset, /^delete table ip lxc\n/);
  assert.match(ruleset, /iifname "br9" meta l4proto \{ tcp, udp \} th dport \{ 53, 67 \} accept/);
  assert.match(ruleset, /oifname "br9" accept/);
  assert.match(ruleset, /ip saddr 10\.1\.2\.0\/24 ip daddr != 10\.1\.2\.0\/24 counter masquerade/);
  assert.match(ruleset, /table ip6 lxc \{[^]*ip6 saddr fd42::\/64 ip6 daddr != fd42::\/64 counter masquerade/);
  const rules = iptablesRules(settings).map((r) => `${r[0]} -t ${r[1]} ${r[2]} ${r[4].join(' ')}`);
  assert.ok(rules.includes('iptables -t filter INPUT -i br9 -p udp --dport 67 -j ACCEPT'), rules.join('\n'));
  assert.ok(rules.includes('iptables -t nat POSTROUTING -s 10.1.2.0/24 ! -d 10.1.2.0/24 -j MASQUERADE'));
  assert.ok(rules.includes('ip6tables -t nat POSTROUTING -s fd42::/64 ! -d fd42::/64 -j MASQUERADE'));
  assert.is(rules.length, 9);
});

test("dnsmasq's arguments: no host configuration, bound to the bridge, the domain local, the leases per bridge, RA with IPv6", async () => {
  const { settings } = await settingsOf({ lxc: 'LXC_BRIDGE=br9\nLXC_DOMAIN=lxc\nLXC_DHCP_PING=false\nLXC_IPV6_ADDR=fd42::1\nLXC_IPV6_MASK=64\nLXC_IPV6_NETWORK=fd42::/64\n' });
  const args = dnsmasqArgs(settings, { runDir: '/run/x', leaseDir: '/var/lib/misc', user: 'dnsmasq' });
  for (const a of ['--conf-file=/dev/null', '--no-ping', '--bind-interfaces', '--interface=br9', '--except-interface=lo', '--pid-file=/run/x/dnsmasq.pid', '--dhcp-leasefile=/var/lib/misc/dnsmasq.br9.leases', '--dhcp-lease-max=253', '--dhcp-range=fd42::1,ra-only']) {
    assert.ok(args.includes(a), `${a} in ${args.join(' ')}`);
  }
  assert.equal(args.slice(args.indexOf('-s'), args.indexOf('-s') + 4), ['-s', 'lxc', '-S', '/lxc/']);
  assert.equal(args.slice(args.indexOf('-u'), args.indexOf('-u') + 2), ['-u', 'dnsmasq']);
  assert.equal(args.slice(args.indexOf('--dhcp-range'), args.indexOf('--dhcp-range') + 2), ['--dhcp-range', '10.0.3.2,10.0.3.254']);
});

test.run();
