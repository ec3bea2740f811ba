/**
 * A veth on an Open vSwitch bridge (lxc.net.N.link naming one), against a
 * private Open vSwitch of the test's (test/lib/ovs.ts: its own database
 * and vswitchd, a bridge on the userspace datapath). Traffic stays between
 * the container and the bridge's own interface. Afterwards: no port in the
 * bridge, no link on the host that was not there, and the bridge and the
 * daemons gone.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withLxcBusybox } from '../lib/lxc-busybox.js';
import { hostLinks, linksBack } from '../lib/net.js';
import { OVS_MISSING, withOvs, type Ovs } from '../lib/ovs.js';
import { busyboxIn, lxkitIn, testIf, until, which, withScratch } from '../lib/harness.js';

const test = suite('net-ovs');
const LXC_MISSING = which('lxc-start') && which('lxc-create') ? undefined : "lxc-start is not installed (Debian's lxc package)";

const net = (lines: string[]) => lines.map((l) => `lxc.net.0.${l}\n`).join('');
/** Not the template's init: nothing inside should touch the device's addresses (no DHCP client). */
const SLEEP = 'lxc.init.cmd = /bin/sleep 1000\n';

const portsGone = (ovs: Ovs) => until(async () => ((await ovs.ports()).length === 0 ? true : undefined), 5000, 'the bridge to have no port');

testIf(test, OVS_MISSING, 'a veth on an Open vSwitch bridge: the host end its port, traffic through it, the port deleted at stop and at an aborted start', async () => {
  await withOvs('10.231.21.1/24', async (ovs) => {
    await withScratch(async (s) => {
      const links = await hostLinks();
      await busyboxIn(s, 'c', net(['type = veth', `link = ${ovs.bridge}`, 'flags = up', 'ipv4.address = 10.231.21.9/24']) + SLEEP);
      const log = join(s.lxcpath, 'start.log');
      const started = await lxkitIn(s, 'start', '-n', 'c', '-l', 'INFO', '-o', log);
      assert.is(started.exitCode, 0, started.stderr);
      try {
        const ports = await ovs.ports();
        assert.is(ports.length, 1, `ports: ${ports.join(' ')}`);
        // The port is the veth's host end, with the name the start chose.
        const info = await lxkitIn(s, 'info', '-n', 'c');
        assert.match(info.stdout, new RegExp(`^Link:\\s+${ports[0]}$`, 'm'));
        assert.match(await readFile(log, 'utf8'), `veth ${ports[0]} on the Open vSwitch bridge ${ovs.bridge} <-> eth0 in the container`);
        const r = await lxkitIn(s, 'attach', '-n', 'c', '--', 'sh', '-c', 'ping -c 1 -W 5 10.231.21.1 >/dev/null && echo reached');
        assert.is(r.stdout, 'reached', r.stderr);
      } finally {
        await lxkitIn(s, 'stop', '-n', 'c', '-k');
      }
      await portsGone(ovs);
      assert.ok(await linksBack(links), 'the host end gone');

      // An application container in the foreground, a fixed host name: the same.
      await busyboxIn(s, 'e', net(['type = veth', `link = ${ovs.bridge}`, 'flags = up', 'veth.pair = lxkovse', 'ipv4.address = 10.231.21.8/24']));
      const e = await lxkitIn(s, 'execute', '-n', 'e', '--', 'sh', '-c', 'ping -c 1 -W 5 10.231.21.1 >/dev/null && echo reached');
      assert.is(e.stdout, 'reached', e.stderr);
      await portsGone(ovs);

      // A start that fails after the port was added (its up script fails) deletes it too.
      await busyboxIn(s, 'f', net(['type = veth', `link = ${ovs.bridge}`, 'veth.pair = lxkovsf', 'script.up = /bin/false']));
      const failed = await lxkitIn(s, 'start', '-n', 'f');
      assert.is.not(failed.exitCode, 0);
      assert.match(failed.stderr, 'lxc.net.0.script.up');
      await portsGone(ovs);
      assert.ok(await linksBack(links), 'no link left');
    });
  });
});

testIf(test, OVS_MISSING ?? LXC_MISSING, "veth.vlan.id and veth.vlan.tagged.id on an Open vSwitch port: the same vlan_mode, tag and trunks as LXC's lxc-start sets, and each removes its port", async () => {
  await withOvs('10.231.22.1/24', async (ovs) => {
    await withLxcBusybox(async (c) => {
      const cases: [string, string[]][] = [
        ['access', ['veth.vlan.id = 10']],
        ['native-untagged', ['veth.vlan.id = 10', 'veth.vlan.tagged.id = 20', 'veth.vlan.tagged.id = 30']],
        ['trunk', ['veth.vlan.tagged.id = 20']],
        ['trunk without an untagged VLAN', ['veth.vlan.id = none', 'veth.vlan.tagged.id = 40']],
      ];
      for (const [what, vlans] of cases) {
        await c.configure(net(['type = veth', `link = ${ovs.bridge}`, 'veth.pair = lxkovsv', ...vlans]) + SLEEP);
        const seen: Record<string, string> = {};
        for (const who of ['lxc', 'lxkit'] as const) {
          const r = await c.run(who, 'start');
          assert.is(r.exitCode, 0, `${who} (${what}): ${String(r.stderr)}`);
          try {
            seen[who] = await ovs.vsctl('get', 'port', 'lxkovsv', 'vlan_mode', 'tag', 'trunks');
          } finally {
            await c.run(who, 'stop', '-k');
          }
          await portsGone(ovs);
        }
        assert.is(seen['lxkit'], seen['lxc'], what);
      }
      assert.is((await ovs.vsctl('get', 'port', 'lxkovsv', 'vlan_mode').catch(() => 'gone')), 'gone');
    });
  });
});

testIf(test, OVS_MISSING, 'refused before anything is made: vlan.id none alone on an Open vSwitch port, and a link that is no bridge of either kind', async () => {
  await withOvs('10.231.23.1/24', async (ovs) => {
    await withScratch(async (s) => {
      const links = await hostLinks();
      const dir = await busyboxIn(s, 'c', net(['type = veth', `link = ${ovs.bridge}`, 'veth.vlan.id = none']));
      const none = await lxkitIn(s, 'start', '-n', 'c');
      assert.is.not(none.exitCode, 0);
      assert.match(none.stderr, `${dir}/config`);
      assert.match(none.stderr, 'lxc.net.0.veth.vlan.id');
      assert.match(none.stderr, 'needs veth.vlan.tagged.id on an Open vSwitch bridge');

      await busyboxIn(s, 'd', net(['type = veth', 'link = lo']));
      const lo = await lxkitIn(s, 'start', '-n', 'd');
      assert.is.not(lo.exitCode, 0);
      assert.match(lo.stderr, 'lxc.net.0.link');
      assert.match(lo.stderr, `"lo" is not a bridge, of the kernel's or of Open vSwitch's`);

      assert.equal(await ovs.ports(), []);
      assert.ok(await linksBack(links), 'no link left');
    });
  });
});

test.run();
