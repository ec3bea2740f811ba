import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigDocument, formatValue, parseLine } from '@lxkit/core';

const parse = suite('config document: LXC line rules');

parse('entries: key and value trimmed, one pair of matching quotes removed', () => {
  assert.equal(parseLine('lxc.uts.name = c1'), { kind: 'entry', raw: 'lxc.uts.name = c1', key: 'lxc.uts.name', value: 'c1' });
  assert.is(parseLine('   lxc.uts.name=c1   ').value, 'c1');
  assert.is(parseLine('\tlxc.uts.name\t=\t"c 1"\t').value, 'c 1');
  assert.is(parseLine("lxc.uts.name = 'c1'").value, 'c1');
  assert.is(parseLine('lxc.uts.name = "c1\'').value, '"c1\'', 'mismatched quotes stay');
  assert.is(parseLine('lxc.uts.name = "').value, '"', 'a lone quote stays');
  assert.is(parseLine('lxc.init.cmd = /bin/sh -c "a=b"').value, '/bin/sh -c "a=b"', 'only the first = splits');
  assert.is(parseLine('lxc.uts.name = c1\r').value, 'c1', 'CR is a blank');
});

parse('empty values, comments, blank, martian and malformed lines', () => {
  assert.is(parseLine('lxc.cap.drop =').value, '');
  assert.is(parseLine('lxc.cap.drop = ""').value, '');
  assert.is(parseLine('# lxc.uts.name = x').kind, 'comment');
  assert.is(parseLine('   #x').kind, 'comment');
  assert.is(parseLine('').kind, 'blank');
  assert.is(parseLine(' \t ').kind, 'blank');
  assert.is(parseLine('foo = bar').kind, 'other', 'LXC ignores lines not starting with lxc.');
  assert.is(parseLine('lxcfoo = bar').kind, 'other');
  const bad = parseLine('lxc.uts.name c1');
  assert.is(bad.kind, 'malformed');
  assert.is(bad.key, 'lxc.uts.name c1');
});

const lossless = suite('config document: lossless');

const samples = [
  '',
  '\n',
  'lxc.uts.name = c1',
  'lxc.uts.name = c1\n',
  '# comment\n\nlxc.net.0.type = veth\r\nlxc.net.0.link=br0   \n  \t\nfoo\n',
  'lxc.uts.name = "quoted"  # not a comment in LXC\n\n\n',
  'lxc.mount.entry = /a b none bind 0 0\nlxc.mount.entry = /c d none bind 0 0',
];

lossless('writing back an unchanged document gives the same text', () => {
  for (const s of samples) assert.is(ConfigDocument.parse(s).toString(), s);
});

lossless('non-UTF-8 bytes survive a round trip', () => {
  const bytes = Buffer.concat([Buffer.from('lxc.uts.name = caf'), Buffer.from([0xe9, 0x0a]), Buffer.from('# \xff\n', 'latin1')]);
  const doc = ConfigDocument.fromBuffer(bytes);
  assert.is(doc.encoding, 'latin1');
  assert.ok(doc.toBuffer().equals(bytes));
  const utf8 = Buffer.from('lxc.uts.name = café\n');
  assert.ok(ConfigDocument.fromBuffer(utf8).toBuffer().equals(utf8));
});

const edit = suite('config document: edits touch only their lines');

edit('set replaces the first occurrence in place, keeps its layout, drops later ones', () => {
  const doc = ConfigDocument.parse('# hdr\nlxc.uts.name   =\t"old"\nlxc.tty.max = 4\nlxc.uts.name = older\n');
  doc.set('lxc.uts.name', 'new');
  assert.is(doc.toString(), '# hdr\nlxc.uts.name   =\t"new"\nlxc.tty.max = 4\n');
  assert.is(doc.get('lxc.uts.name'), 'new');
});

edit('set appends when the key is absent, before the final newline', () => {
  const doc = ConfigDocument.parse('lxc.tty.max = 4\n');
  doc.set('lxc.uts.name', 'c1');
  assert.is(doc.toString(), 'lxc.tty.max = 4\nlxc.uts.name = c1\n');
  const noNl = ConfigDocument.parse('lxc.tty.max = 4');
  noNl.set('lxc.uts.name', 'c1');
  assert.is(noNl.toString(), 'lxc.tty.max = 4\nlxc.uts.name = c1');
});

edit('append adds after the last line of the same key', () => {
  const doc = ConfigDocument.parse('lxc.mount.entry = a b c\nlxc.tty.max = 4\n');
  doc.append('lxc.mount.entry', 'd e f');
  assert.is(doc.toString(), 'lxc.mount.entry = a b c\nlxc.mount.entry = d e f\nlxc.tty.max = 4\n');
  assert.equal(doc.getAll('lxc.mount.entry'), ['a b c', 'd e f']);
});

edit('remove drops a key, and with subkeys a whole family', () => {
  const doc = ConfigDocument.parse('lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.1.type = empty\nlxc.tty.max = 1\n');
  assert.is(doc.remove('lxc.net.0', { subkeys: true }), 2);
  assert.is(doc.toString(), 'lxc.net.1.type = empty\nlxc.tty.max = 1\n');
  assert.is(doc.remove('lxc.nothing'), 0);
});

edit('setting an empty value writes LXC\'s "key =" form', () => {
  const doc = ConfigDocument.parse('lxc.cap.drop = sys_time\n');
  doc.set('lxc.cap.drop', '');
  assert.is(doc.toString(), 'lxc.cap.drop =\n');
  assert.is(doc.get('lxc.cap.drop'), '');
});

edit('values are quoted exactly when parsing would change them', () => {
  assert.is(formatValue('plain value'), 'plain value');
  assert.is(formatValue(' lead'), '" lead"');
  assert.is(formatValue('"q"'), '\'"q"\'');
  for (const v of ['x', ' a ', '"q"', "'s'", 'a "b" c', '\tt']) {
    const doc = ConfigDocument.parse('');
    doc.set('lxc.init.cmd', v);
    assert.is(doc.get('lxc.init.cmd'), v, `round trip of ${JSON.stringify(v)}`);
  }
  assert.throws(() => formatValue('a\nb'), /cannot span lines/);
});

parse.run();
lossless.run();
edit.run();
