/**
 * @kernel-vm
 *
 * The network features this machine's kernel lacks (ipvlan, 802.1Q VLAN,
 * VLAN-filtering bridges), made for real in the kernel-feature VM: each on a
 * wire of the test's own (a veth pair whose far end is in a network
 * namespace of the test's), with traffic only over that wire.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../lib/features.js';
import { busyboxIn, lxkitIn, testIf, until, withScratch } from '../lib/harness.js';
import { execa } from 'execa';
import { hostLinks, linksBack, withBridge, withWire } from '../lib/net.js';

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

testIf(test, needs('bridge-vlan'), 'veth.vlan.id and veth.vlan.tagged.id: the port\'s VLANs on a filtering bridge, traffic only on its untagged VLAN', async () => {
  await withBridge(undefined, async (bridge) => {
    await execa('ip', ['link', 'set', bridge, 'type', 'bridge', 'vlan_filtering', '1']);
    await withWire('10.231.18.1/24', async ({ near }) => {
      // The far end's port: VLAN 10 alone, untagged.
      await execa('ip', ['link', 'set', near, 'master', bridge]);
      await execa('bridge', ['vlan', 'del', 'vid', '1', 'dev', near]);
      await execa('bridge', ['vlan', 'add', 'vid', '10', 'dev', near, 'pvid', 'untagged']);
      await withScratch(async (s) => {
        for (const [vid, expected] of [['10', 'reached'], ['11', 'not reached']] as const) {
          await busyboxIn(s, `c${vid}`, ['type = veth', `link = ${bridge}`, 'flags = up', `veth.vlan.id = ${vid}`, 'veth.vlan.tagged.id = 20', 'veth.vlan.tagged.id = 30', 'ipv4.address = 10.231.18.9/24', 'veth.pair = lxkvlanp', ''].map((l) => (l ? `lxc.net.0.${l}` : '')).join('\n'));
          assert.is((await lxkitIn(s, 'start', '-n', `c${vid}`)).exitCode, 0);
          try {
            const vlans = JSON.parse((await execa('bridge', ['-j', 'vlan', 'show', 'dev', 'lxkvlanp'])).stdout) as { vlans: { vlan: number; flags?: string[] }[] }[];
            const seen = vlans.flatMap((p) => p.vlans.map((v) => `${v.vlan}${(v.flags ?? []).map((f) => ` ${f}`).join('')}`));
            assert.equal(seen, [`${vid} PVID Egress Untagged`, '20', '30']);
            const r = await lxkitIn(s, 'attach', '-n', `c${vid}`, '--', 'sh', '-c', 'ping -c 1 -W 2 10.231.18.1 >/dev/null && echo reached || echo not reached');
            assert.is(r.stdout, expected, `vlan ${vid}`);
          } finally {
            await lxkitIn(s, 'stop', '-n', `c${vid}`, '-k');
          }
          await until(async () => (!(await hostLinks()).includes('lxkvlanp') ? true : undefined), 5000, 'the host end to go');
        }
      });
    });
  });
});

test.run();
