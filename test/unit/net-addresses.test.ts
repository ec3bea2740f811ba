/** What the net plugin hands the kernel: addresses in network byte order, and LXC's defaults. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { completeHwaddr, formatHwaddr, ipv4Broadcast, ipv4Prefix, ipv6Bytes, ipv6Prefix, planDevices } from '@lxkit/plugin-net';
import { validateText } from '../lib/config.js';

const test = suite('net addresses');

test('IPv6 text to 16 bytes: compressed, full, leading and trailing ::, an IPv4 tail', () => {
  const hex = (s: string) => ipv6Bytes(s).toString('hex');
  assert.is(hex('fd42:7::20'), 'fd420007000000000000000000000020');
  assert.is(hex('2001:db8:0:0:1:0:0:1'), '20010db8000000000001000000000001');
  assert.is(hex('::1'), '00000000000000000000000000000001');
  assert.is(hex('fe80::'), 'fe800000000000000000000000000000');
  assert.is(hex('::ffff:10.1.2.3'), '00000000000000000000ffff0a010203');
  assert.throws(() => ipv6Bytes('10.0.0.1'), /not an IPv6 address/);
});

test("prefixes and broadcast addresses as LXC derives them", () => {
  assert.is(ipv4Prefix({ address: '10.0.3.2' }), 8);
  assert.is(ipv4Prefix({ address: '172.16.0.2' }), 16);
  assert.is(ipv4Prefix({ address: '192.168.1.2' }), 24);
  assert.is(ipv4Prefix({ address: '192.168.1.2', prefix: 30 }), 30);
  assert.is(ipv6Prefix({ address: 'fd00::1' }), 64);
  const bcast = (a: Parameters<typeof ipv4Broadcast>[0]) => [...ipv4Broadcast(a)].join('.');
  assert.is(bcast({ address: '10.231.7.20', prefix: 24 }), '10.231.7.255');
  assert.is(bcast({ address: '10.231.7.20', prefix: 20 }), '10.231.15.255');
  assert.is(bcast({ address: '10.231.7.20', prefix: 32 }), '10.231.7.20');
  assert.is(bcast({ address: '10.231.7.20', prefix: 0 }), '255.255.255.255');
  assert.is(bcast({ address: '10.231.7.20', prefix: 24, broadcast: '10.231.7.127' }), '10.231.7.127');
});

test('hwaddr placeholders become random hex digits; the first octet stays unicast', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 64; i++) {
    const mac = formatHwaddr(completeHwaddr('0x:16:3e:xx:xX:12'));
    assert.match(mac, /^0[0-9a-f]:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:12$/);
    assert.is(parseInt(mac.slice(0, 2), 16) & 1, 0, `${mac} is unicast`);
    seen.add(mac);
  }
  assert.ok(seen.size > 50, 'the digits are random');
  assert.is(formatHwaddr(completeHwaddr('00:16:3E:AA:bb:01')), '00:16:3e:aa:bb:01');
});

test('device names: lxc.net.N.name, else the first ethK no named device takes; empty and none make no device', async () => {
  const { config, errors } = await validateText(
    ['lxc.net.0.type = veth', 'lxc.net.1.type = empty', 'lxc.net.2.type = veth', 'lxc.net.2.name = eth0', 'lxc.net.3.type = veth', 'lxc.net.4.type = veth', 'lxc.net.4.name = wan', ''].join('\n'),
  );
  assert.equal(errors, []);
  const planned = planDevices(config.model.net!.devices, config, 'c');
  assert.equal(planned.map((d) => [d.dev.index, d.name]), [[0, 'eth1'], [2, 'eth0'], [3, 'eth2'], [4, 'wan']]);
});

test.run();
