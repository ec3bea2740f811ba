/**
 * LXC 2.x configs: read directly with a warning per legacy line, and
 * converted by update-config into the same effective config.
 */
import { readFile, writeFile, stat, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigDocument, convertDocument, updateConfigFile } from '@lxkit/core';
import { withTmpDir } from '../lib/harness.js';
import { validateText } from '../lib/config.js';

/** A 2.x config with every legacy form the issue names, and the cases LXC's converter gets wrong. */
const LEGACY = `# An LXC 2.x container
lxc.utsname = web1
lxc.rootfs = /var/lib/lxc/web1/rootfs
lxc.rootfs.backend = btrfs
lxc.aa_profile = unconfined
lxc.id_map = u 0 100000 65536
lxc.id_map = g 0 100000 65536
lxc.tty = 4
lxc.pts = 1024
lxc.limit.nofile = 1024:4096
lxc.pivotdir = lxc_putold
lxc.haltsignal = SIGRTMIN+3

lxc.network.type = veth
lxc.network.link = lxcbr0
lxc.network.flags = up
lxc.network.ipv4 = 10.0.3.10/24 10.0.3.255
lxc.network.ipv4.gateway = 10.0.3.1
lxc.network.type = macvlan
lxc.network.macvlan.mode = bridge
lxc.network.link = eth0
lxc.network.5.type = veth
lxc.network.5.ipv4 = 10.0.4.10/24
lxc.network.5.ipv6 = 2001:db8::10/64
`;

/** What update-config must produce: every legacy key converted, everything else unchanged. */
const CONVERTED = `# An LXC 2.x container
lxc.uts.name = web1
lxc.rootfs.path = btrfs:/var/lib/lxc/web1/rootfs
lxc.apparmor.profile = unconfined
lxc.idmap = u 0 100000 65536
lxc.idmap = g 0 100000 65536
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.prlimit.nofile = 1024:4096
lxc.signal.halt = SIGRTMIN+3

lxc.net.6.type = veth
lxc.net.6.link = lxcbr0
lxc.net.6.flags = up
lxc.net.6.ipv4.address = 10.0.3.10/24 10.0.3.255
lxc.net.6.ipv4.gateway = 10.0.3.1
lxc.net.7.type = macvlan
lxc.net.7.macvlan.mode = bridge
lxc.net.7.link = eth0
lxc.net.5.type = veth
lxc.net.5.ipv4.address = 10.0.4.10/24
lxc.net.5.ipv6.address = 2001:db8::10/64
`;

const legacy = suite('legacy (LXC 2.x) configs');

legacy('a 2.x config loads directly, one warning per legacy line, into the same model as its conversion', async () => {
  const direct = await validateText(LEGACY);
  assert.equal(direct.errors, []);
  assert.is(direct.warnings.length, 22);
  assert.ok(direct.warnings[0]!.startsWith('2: lxc.utsname: legacy key, read as lxc.uts.name; run "lxkit update-config -c test.conf"'));
  assert.is(direct.warnings[1], '3: lxc.rootfs: legacy key, read as lxc.rootfs.path', 'the update-config hint is given once per file');
  assert.ok(direct.warnings.some((w) => w.startsWith('11: lxc.pivotdir: legacy key with no current equivalent; ignored')));
  const converted = await validateText(CONVERTED);
  assert.equal(converted.errors, []);
  assert.equal(converted.warnings, []);
  assert.equal(direct.model, converted.model);
  assert.is(direct.model.utsName, 'web1');
  assert.is(direct.model.rootfs.path, 'btrfs:/var/lib/lxc/web1/rootfs');
  assert.equal(direct.model.prlimit['nofile'], { soft: 1024, hard: 4096 });
  assert.equal(direct.model.net!.devices.map((d) => [d.index, d.type]), [[5, 'veth'], [6, 'veth'], [7, 'macvlan']]);
  assert.equal(direct.model.net!.devices[1]!.ipv4, [{ address: '10.0.3.10', prefix: 24, broadcast: '10.0.3.255' }]);
});

legacy('conversion rewrites only legacy lines, keeping comments, blanks and layout', () => {
  const doc = ConfigDocument.parse(LEGACY);
  const result = convertDocument(doc);
  assert.is(doc.toString(), CONVERTED);
  assert.is(result.changes.length, 22);
  assert.equal(result.errors, []);
  const again = convertDocument(doc);
  assert.is(again.changes.length, 0, 'a converted config has nothing left to convert');
});

legacy('lxc.rootfs: a bare path keeps type detection; an explicit type prefix is kept', () => {
  const bare = ConfigDocument.parse('lxc.rootfs = /srv/c1\n');
  convertDocument(bare);
  assert.is(bare.toString(), 'lxc.rootfs.path = /srv/c1\n');
  const typed = ConfigDocument.parse('lxc.rootfs.backend = dir\nlxc.rootfs = overlayfs:/a:/b\n');
  convertDocument(typed);
  assert.is(typed.toString(), 'lxc.rootfs.path = overlayfs:/a:/b\n');
});

legacy('an unindexed network key before any lxc.network.type is an error, left as it was', async () => {
  const doc = ConfigDocument.parse('lxc.network.link = br0\n');
  const result = convertDocument(doc);
  assert.is(result.errors.length, 1);
  assert.is(doc.toString(), 'lxc.network.link = br0\n');
  const { errors } = await validateText('lxc.network.link = br0\n');
  assert.equal(errors, ['1: lxc.network.link: legacy key before any lxc.network.type; it belongs to no network']);
});

legacy('updateConfigFile keeps FILE.backup and the file mode, and leaves a current config untouched', async () => {
  await withTmpDir(async (dir) => {
    const file = join(dir, 'config');
    await writeFile(file, LEGACY);
    await chmod(file, 0o640);
    const r = await updateConfigFile(file);
    assert.is(r.backup, `${file}.backup`);
    assert.is(await readFile(file, 'utf8'), CONVERTED);
    assert.is(await readFile(`${file}.backup`, 'utf8'), LEGACY);
    assert.is((await stat(file)).mode & 0o777, 0o640);
    const second = await updateConfigFile(file);
    assert.is(second.backup, undefined);
    assert.is(await readFile(`${file}.backup`, 'utf8'), LEGACY, 'an unchanged file does not overwrite the backup');
  });
});

legacy.run();
