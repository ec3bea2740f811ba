/**
 * Networking: lxc.net.N.type = veth on a bridge the test makes (traffic only
 * between the container and that bridge), compared with LXC where it runs.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withLxcBusybox } from '../lib/lxc-busybox.js';
import { busyboxIn, lxkitIn, testIf, until, which, withScratch } from '../lib/harness.js';
import { hostLinks, linksBack, portsGone, withBridge, withWire } from '../lib/net.js';

const test = suite('net');
const LXC_MISSING = which('lxc-execute') && which('lxc-create') ? undefined : "lxc-execute is not installed (Debian's lxc package)";

const SHOW = 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 addr show dev eth0 | grep inet; ip -6 addr show dev eth0 scope global | grep inet6; ip route; ip -6 route show dev eth0 | grep -v fe80';

testIf(test, LXC_MISSING, 'veth on a bridge: the same device, addresses and routes inside as lxc-execute gives', async () => {
  await withBridge('10.231.7.1/24', async (bridge) => {
    await withLxcBusybox(async (c) => {
      await c.configure(
        [
          'type = veth',
          `link = ${bridge}`,
          'flags = up',
          'hwaddr = 00:16:3e:xx:xx:xx',
          'ipv4.address = 10.231.7.20/24',
          'ipv4.gateway = auto',
          'ipv6.address = fd42:7::20/64',
          'mtu = 1400',
        ]
          .map((l) => `lxc.net.0.${l}\n`)
          .join(''),
      );
      const seen: Record<string, string> = {};
      for (const who of ['lxc', 'lxkit'] as const) {
        const r = await c.run(who, 'execute', '--', 'sh', '-c', SHOW);
        assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
        seen[who] = String(r.stdout)
          // The random part of the MAC address, and LXC 5.0's broadcast address (it leaves out the network part: 0.0.0.255).
          .replace(/^00:16:3e(:[0-9a-f]{2}){3}$/m, '00:16:3e:RANDOM')
          .replace(/ brd \S+/, ' brd BRD');
        await portsGone(bridge);
      }
      assert.is(seen['lxkit'], seen['lxc']);
      assert.match(seen['lxkit']!, /^00:16:3e:RANDOM\n1400\n\s*inet 10\.231\.7\.20\/24 brd BRD scope global eth0\n\s*inet6 fd42:7::20\/64 scope global/);
      assert.match(seen['lxkit']!, /^default via 10\.231\.7\.1 dev eth0/m);
    });
  });
});

test('veth on a bridge: named ends, the host end on the bridge while the container runs, traffic to the bridge, gone after', async () => {
  await withBridge('10.231.8.1/24', async (bridge) => {
    await withScratch(async (s) => {
      const pair = `vlxk${randomBytes(2).toString('hex')}`;
      await busyboxIn(
        s,
        'c',
        [
          'lxc.net.0.type = veth',
          `lxc.net.0.link = ${bridge}`,
          'lxc.net.0.flags = up',
          'lxc.net.0.name = inside0',
          `lxc.net.0.veth.pair = ${pair}`,
          'lxc.net.0.ipv4.address = 10.231.8.30/24',
          'lxc.net.0.ipv4.gateway = 10.231.8.1',
          // A second device with neither a name nor a bridge: the first free ethN, its host end alone and up.
          'lxc.net.1.type = veth',
          'lxc.net.1.ipv4.address = 192.168.213.5/24 192.168.213.127',
          '',
        ].join('\n'),
      );
      assert.is((await lxkitIn(s, 'start', '-n', 'c')).exitCode, 0);
      try {
        // The bridge's MTU on both ends; the host end up and on the bridge.
        assert.is((await readFile(`/sys/class/net/${pair}/master/uevent`, 'utf8')).match(/INTERFACE=(.*)/)![1], bridge);
        assert.is((await readFile(`/sys/class/net/${pair}/operstate`, 'utf8')).trim(), 'up');
        const inside = await lxkitIn(
          s,
          'attach',
          '-n',
          'c',
          '--',
          'sh',
          '-c',
          'ls /sys/class/net; ip -4 addr show dev eth0 | grep inet; ip route; ping -c 1 -W 2 10.231.8.1 >/dev/null && echo reached',
        );
        assert.is(inside.exitCode, 0, inside.stderr);
        assert.is(
          inside.stdout,
          [
            'eth0',
            'inside0',
            'lo',
            '    inet 192.168.213.5/24 brd 192.168.213.127 scope global eth0',
            'default via 10.231.8.1 dev inside0 ',
            '10.231.8.0/24 dev inside0 scope link  src 10.231.8.30 ',
            'reached',
          ].join('\n'),
        );
        // Neither container end shows on the host.
        const links = await hostLinks();
        assert.not.ok(links.includes('inside0'));
      } finally {
        await lxkitIn(s, 'stop', '-n', 'c', '-k');
      }
      await portsGone(bridge);
      await until(async () => (!(await hostLinks()).includes(pair) ? true : undefined), 3000, `${pair} to go`);
      // The fixed host name is free again for the next start, even right after the last.
      const again = await lxkitIn(s, 'execute', '-n', 'c', '--', 'cat', '/sys/class/net/inside0/operstate');
      assert.is(again.exitCode, 0, again.stderr);
      assert.is(again.stdout, 'up');
      await portsGone(bridge);
    });
  });
});

test('a gateway outside the subnet is reached on the link; "dev" makes a device route', async () => {
  await withBridge(undefined, async (bridge) => {
    await withScratch(async (s) => {
      await busyboxIn(
        s,
        'c',
        [
          'lxc.net.0.type = veth',
          `lxc.net.0.link = ${bridge}`,
          'lxc.net.0.flags = up',
          'lxc.net.0.ipv4.address = 10.231.9.2/32',
          'lxc.net.0.ipv4.gateway = 10.231.10.1',
          'lxc.net.0.ipv6.gateway = dev',
          '',
        ].join('\n'),
      );
      const r = await lxkitIn(s, 'execute', '-n', 'c', '--', 'sh', '-c', 'ip route; ip -6 route show default');
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(r.stdout, ['default via 10.231.10.1 dev eth0 ', '10.231.10.1 dev eth0 scope link ', 'default dev eth0  metric 1024 '].join('\n'));
      await portsGone(bridge);
    });
  });
});

testIf(test, LXC_MISSING, 'macvlan on a wire: the same device inside as lxc-execute gives, and traffic over the wire', async () => {
  await withWire('10.231.11.1/24', async ({ near }) => {
    await withLxcBusybox(async (c) => {
      await c.configure(
        ['type = macvlan', 'macvlan.mode = bridge', `link = ${near}`, 'flags = up', 'hwaddr = 00:16:3e:xx:xx:xx', 'ipv4.address = 10.231.11.7/24', 'mtu = 1400']
          .map((l) => `lxc.net.0.${l}\n`)
          .join(''),
      );
      const links = await hostLinks();
      const seen: Record<string, string> = {};
      for (const who of ['lxc', 'lxkit'] as const) {
        const r = await c.run(who, 'execute', '--', 'sh', '-c', `${SHOW}; ping -c 1 -W 2 10.231.11.1 >/dev/null && echo reached`);
        assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
        seen[who] = String(r.stdout)
          .replace(/^00:16:3e(:[0-9a-f]{2}){3}$/m, '00:16:3e:RANDOM')
          .replace(/ brd \S+/, ' brd BRD');
        await linksBack(links);
      }
      assert.is(seen['lxkit'], seen['lxc']);
      assert.match(seen['lxkit']!, /^00:16:3e:RANDOM\n1400\n\s*inet 10\.231\.11\.7\/24 brd BRD scope global eth0\n/);
      assert.match(seen['lxkit']!, /\nreached$/);
    });
  });
});

test('refusals name the file, line and key, and leave no device behind', async () => {
  await withBridge(undefined, async (bridge) => {
    await withScratch(async (s) => {
      const dir = await busyboxIn(s, 'c');
      const base = await readFile(`${dir}/config`, 'utf8');
      const line = base.split('\n').length; // the first line appended below
      const cases: [string[], RegExp, string][] = [
        [['type = veth', 'link = lxkt-none'], /there is no network interface "lxkt-none" on the host/, 'link'],
        [['type = veth', 'link = lo'], /"lo" is not a bridge/, 'link'],
        [['type = veth', 'veth.mode = router'], /lxkit does not apply this key yet/, 'veth.mode'],
        [['type = veth', `link = ${bridge}`, 'ipv4.address = 10.1.1.1/24', 'ipv4.gateway = auto', 'flags = up'], /"auto" takes an IPv4 address of lxkt\w+, and it has none/, 'ipv4.gateway'],
        [['type = veth', `link = ${bridge}`, 'ipv4.gateway = 10.1.1.1'], /a gateway needs the device up/, 'ipv4.gateway'],
        [['type = phys', `link = ${bridge}`], /no enabled plugin implements network type "phys" yet/, 'type'],
        [['type = macvlan', 'flags = up'], /a macvlan device is made on a host interface: set lxc.net.0.link/, 'type'],
        [['type = vlan', `link = ${bridge}`], /a vlan device needs its id: set lxc.net.0.vlan.id/, 'type'],
        // Refused by the kernel at start-host, after the clone: the container is ended and undone.
        [['type = veth', `veth.pair = ${bridge}`], new RegExp(`the name "${bridge}" is taken on the host`), 'veth.pair'],
      ];
      const before = await hostLinks();
      for (const [lines, message, key] of cases) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(`${dir}/config`, base + lines.map((l) => `lxc.net.0.${l}\n`).join(''));
        const r = await lxkitIn(s, 'execute', '-n', 'c', '--', 'true');
        assert.is.not(r.exitCode, 0, lines.join('; '));
        assert.match(r.stderr, message);
        const n = line + lines.findIndex((l) => l.startsWith(`${key} =`));
        assert.ok(r.stderr.includes(`${dir}/config:${n}: lxc.net.0.${key} =`), `${r.stderr} names line ${n}`);
      }
      assert.equal(await hostLinks(), before);
      assert.equal(await readdir(`/sys/class/net/${bridge}/brif`), []);
    });
  });
});

test.run();
