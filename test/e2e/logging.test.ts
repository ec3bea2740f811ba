/** Where lxkit's lines about a container go: lxc.log.syslog, and the monitor's own lxc.log.file and syslog lines while a daemon runs alone (lxc.log.file is compared with LXC in lxc-compat). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LXKIT_BIN, busyboxIn, lxkit, until, withScratch } from '../lib/harness.js';

const test = suite('logging');

/** A syslog daemon's socket, played by python: every datagram it gets, one JSON string per line, until stopped. */
function syslogSocket(path: string) {
  const py = [
    'import json, socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    's.bind(sys.argv[1])',
    'print("ready", flush=True)',
    'while True:',
    '    print(json.dumps(s.recv(65536).decode()), flush=True)',
  ].join('\n');
  const proc = execa('python3', ['-c', py, path], { reject: false });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    ready: () => until(async () => (out.startsWith('ready\n') ? true : undefined), 10000, 'the syslog socket'),
    lines: () => out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as string),
    stop: async () => {
      proc.kill('SIGKILL');
      await proc;
    },
  };
}

test('lxc.log.syslog: the lines about the container go to syslog with that facility, at lxc.log.level, -o or not', async () => {
  await withScratch(async (s) => {
    const path = join(s.dir, 'log');
    await busyboxIn(s, 'c', 'lxc.log.syslog = local3\nlxc.log.level = INFO\n');
    const log = syslogSocket(path);
    try {
      await log.ready();
      const env = { ...s.env, LXKIT_SYSLOG_SOCKET: path };
      const run = async (...args: string[]) => {
        const r = await execa(LXKIT_BIN, ['execute', '-P', s.lxcpath, '-n', 'c', ...args, '--', 'true'], { env: { ...env, NODE_EXTRA_CA_CERTS: '' }, reject: false });
        assert.is(r.exitCode, 0, String(r.stderr));
      };
      await run();
      const lines = await until(async () => (log.lines().length > 0 ? log.lines() : undefined), 10000, 'syslog lines');
      // <PRI>Mmm dd hh:mm:ss ident[pid]: container: LEVEL module - text; local3 is facility 19, INFO severity 6.
      const re = /^<(\d+)>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d lxkit-execute\[(\d+)\]: c: (INFO|NOTICE|WARN|ERROR) \S+ - /;
      for (const l of lines) {
        const m = re.exec(l);
        assert.ok(m, l);
        const pri = Number(m![1]);
        assert.is(pri >> 3, 19, `facility local3: ${l}`);
        assert.ok((pri & 7) <= 6, `INFO or above: ${l}`);
      }
      assert.ok(lines.some((l) => l.includes(' c: INFO lxkit - container c: STARTING')), lines.join('\n'));
      // -o takes the place of lxc.log.file only: syslog still gets them.
      const before = lines.length;
      await run('-o', join(s.dir, 'o.log'));
      await until(async () => (log.lines().length > before ? true : undefined), 10000, 'syslog lines with -o');
    } finally {
      await log.stop();
    }
    // With nobody listening any more (ECONNREFUSED), the lines are dropped and the container runs as ever.
    const r = await lxkit(['execute', '-P', s.lxcpath, '-n', 'c', '--', 'true'], { env: { ...s.env, LXKIT_SYSLOG_SOCKET: path } });
    assert.is(r.exitCode, 0, r.stderr);
  });
});

test("lxc.log.file: while a daemon runs with no lxkit process attached, its monitor appends its own lines there, as lxkit's", async () => {
  await withScratch(async (s) => {
    const file = join(s.dir, 'c.log');
    await busyboxIn(s, 'c', `lxc.log.file = ${file}\nlxc.log.level = DEBUG\n`);
    const env = { env: s.env };
    assert.is((await lxkit(['start', '-n', 'c', '-P', s.lxcpath], env)).exitCode, 0);
    assert.is((await lxkit(['stop', '-n', 'c', '-P', s.lxcpath, '-k'], env)).exitCode, 0);
    // Nothing of lxkit's runs at this end: the monitor alone says it ends the container.
    const line = await until(
      async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').find((l) => l.includes('monitor: the container ends here')),
      10000,
      "the monitor's line in lxc.log.file",
    );
    assert.match(line, /^lxkit-start c [0-9]{14}\.[0-9]{3} DEBUG    monitor - monitor: the container ends here/);
  });
});

test('lxc.log.syslog: while a daemon runs with no lxkit process attached, its monitor sends its own lines to syslog, as lxkit does', async () => {
  await withScratch(async (s) => {
    const path = join(s.dir, 'log');
    await busyboxIn(s, 'c', 'lxc.log.syslog = local3\nlxc.log.level = DEBUG\n');
    const log = syslogSocket(path);
    try {
      await log.ready();
      const env = { env: { ...s.env, LXKIT_SYSLOG_SOCKET: path } };
      assert.is((await lxkit(['start', '-n', 'c', '-P', s.lxcpath], env)).exitCode, 0);
      assert.is((await lxkit(['stop', '-n', 'c', '-P', s.lxcpath, '-k'], env)).exitCode, 0);
      const line = await until(async () => log.lines().find((l) => l.includes('monitor: the container ends here')), 10000, "the monitor's syslog line");
      // local3 (19) at DEBUG (7), from the monitor's own pid.
      const m = /^<(\d+)>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d lxkit-start\[(\d+)\]: c: DEBUG monitor - monitor: the container ends here/.exec(line);
      assert.ok(m, line);
      assert.is(Number(m![1]), 19 * 8 + 7);
    } finally {
      await log.stop();
    }
  });
});

test.run();
