/**
 * @kernel-vm
 *
 * The network types this machine's kernel lacks (ipvlan, 802.1Q VLAN), made
 * for real in the kernel-feature VM: each on a wire of the test's own (a veth
 * pair whose far end is in a network namespace of the test's), with traffic
 * only over that wire.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../lib/features.js';
import { busyboxIn, lxkitIn, testIf, withScratch } from '../lib/harness.js';
import { hostLinks, linksBack, withWire } from '../lib/net.js';

const test = suite('net devices');

const INSIDE = 'cat /sys/class/net/eth0/mtu; ip -4 addr show dev eth0 | grep inet; ping -c 1 -W 5 10.231.12.1 >/dev/null && echo reached';

testIf(test, needs('ipvlan'), 'ipvlan (l2) on a wire: the device inside with its address, traffic over the wire, nothing left on the host', async () => {
  await withWire('10.231.12.1/24', async ({ near }) => {
    await withScratch(async (s) => {
      await busyboxIn(s, 'c', ['type = ipvlan', 'ipvlan.mode = l2', 'ipvlan.isolation = private', `link = ${near}`, 'flags = up', 'ipv4.address = 10.231.12.9/24', ''].map((l) => (l ? `lxc.net.0.${l}` : '')).join('\n'));
      const links = await hostLinks();
      const r = await lxkitIn(s, 'execute', '-n', 'c', '--', 'sh', '-c', INSIDE);
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(r.stdout, ['1500', '    inet 10.231.12.9/24 brd 10.231.12.255 scope global eth0', 'reached'].join('\n'));
      await linksBack(links);
    });
  });
});

testIf(test, needs('vlan'), 'vlan 42 on a wire: tagged traffic reaches the far end\'s VLAN device', async () => {
  await withWire(
    '10.231.12.1/24',
    async ({ near }) => {
      await withScratch(async (s) => {
        await busyboxIn(s, 'c', ['type = vlan', 'vlan.id = 42', `link = ${near}`, 'flags = up', 'mtu = 1400', 'ipv4.address = 10.231.12.9/24', ''].map((l) => (l ? `lxc.net.0.${l}` : '')).join('\n'));
        const links = await hostLinks();
        const r = await lxkitIn(s, 'execute', '-n', 'c', '--', 'sh', '-c', INSIDE);
        assert.is(r.exitCode, 0, r.stderr);
        assert.is(r.stdout, ['1400', '    inet 10.231.12.9/24 brd 10.231.12.255 scope global eth0', 'reached'].join('\n'));
        await linksBack(links);
      });
    },
    { vlan: 42 },
  );
});

test.run();
