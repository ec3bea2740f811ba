/**
 * Into running containers: lxkit attach (namespaces, ids, environment, exit
 * status, a pty on a terminal) and lxkit console (the ttys and the console
 * of a daemon, Ctrl-a q, one console user at a time, the console log, the
 * console's ring buffer).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container } from '@lxkit/core';
import { lxkit, testIf, until, which, withScratch, type Scratch } from '../lib/harness.js';
import { onTerminal } from '../lib/terminal.js';

async function daemon(s: Scratch, name: string, args: string[] = [], extra = ''): Promise<void> {
  const r = await lxkit(['create', '-n', name, '-P', s.lxcpath, '-t', 'busybox', ...(args.length ? ['--', ...args] : [])], { env: s.env });
  assert.is(r.exitCode, 0, r.stderr);
  if (extra) {
    const { appendFile } = await import('node:fs/promises');
    await appendFile(join(s.lxcpath, name, 'config'), extra);
  }
  const started = await lxkit(['start', '-n', name, '-P', s.lxcpath], { env: s.env });
  assert.is(started.exitCode, 0, started.stderr);
}

const attach = (s: Scratch, name: string, ...args: string[]) => {
  const dashdash = args.indexOf('--');
  const opts = dashdash < 0 ? args : args.slice(0, dashdash);
  const cmd = dashdash < 0 ? [] : args.slice(dashdash);
  return lxkit(['attach', '-n', name, '-P', s.lxcpath, ...opts, ...cmd], { env: { ...s.env, LXKIT_TEST_VAR: 'from-host', LXKIT_INHERITED: 'inherited' } });
};

const att = suite('attach');

att('a command runs in every namespace of the container, as root inside; its exit status is lxkit\'s', async () => {
  await withScratch(async (s) => {
    await daemon(s, 'a1');
    assert.equal([(await attach(s, 'a1', '--', 'hostname')).stdout], ['a1']);
    assert.is((await attach(s, 'a1', '--', 'sh', '-c', 'exit 7')).exitCode, 7);
    assert.is((await attach(s, 'a1', '--', 'sh', '-c', 'kill -9 $$')).exitCode, 137);
    const inside = await attach(s, 'a1', '--', 'sh', '-c', 'cat /proc/self/uid_map | tr -s " "; id -u; ls /proc | grep "^[0-9]" | sort -n | head -1; readlink /proc/1/exe');
    assert.equal(inside.stdout.split('\n'), [' 0 100000 65536', '0', '1', '/bin/busybox'], 'its user and pid namespaces');
    const missing = await attach(s, 'a1', '--', '/nonexistent');
    assert.equal([missing.exitCode, missing.stderr], [127, 'lxkit-attach: cannot run /nonexistent: No such file or directory']);
    await lxkit(['stop', '-n', 'a1', '-P', s.lxcpath, '-k'], { env: s.env });
    const stopped = await attach(s, 'a1', '--', 'true');
    assert.equal([stopped.exitCode, stopped.stderr], [1, 'lxkit-attach: a1: container "a1" is not running']);
  });
});

att('ids, environment (kept, cleared, set, kept by name, lxc.environment) and a subset of namespaces', async () => {
  await withScratch(async (s) => {
    const environment = ['CFG=cfg', 'A=from-config', 'HOME=/from-config', 'LXKIT_INHERITED', 'LXKIT_UNSET'];
    await daemon(s, 'a2', ['--privileged'], environment.map((e) => `lxc.environment = ${e}\n`).join(''));
    assert.is((await attach(s, 'a2', '-u', '1000', '-g', '1001', '--', 'sh', '-c', 'echo $(id -u):$(id -g)')).stdout, '1000:1001');
    // As lxc-attach: lxc.environment over lxkit's own (HOME), -v over lxc.environment (A); a bare name is lxkit's value.
    const set = await attach(s, 'a2', '-v', 'A=1', '--', 'sh', '-c', 'echo "$A $container $LXKIT_TEST_VAR $CFG $HOME $LXKIT_INHERITED"');
    assert.is(set.stdout, '1 lxc from-host cfg /from-config inherited');
    // Cleared: lxc.environment still applies, as with lxc-attach --clear-env.
    const cleared = await attach(s, 'a2', '--clear-env', '--keep-var', 'LXKIT_TEST_VAR', '-v', 'B=2', '--', '/usr/bin/env');
    assert.equal(cleared.stdout.split('\n').sort(), [
      'A=from-config',
      'B=2',
      'CFG=cfg',
      'HOME=/from-config',
      'LXKIT_INHERITED=inherited',
      'LXKIT_TEST_VAR=from-host',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'container=lxc',
    ]);
    const { stdout: hostName } = await (await import('execa')).execa('hostname');
    assert.is((await attach(s, 'a2', '-s', 'NETWORK', '--', 'hostname')).stdout, hostName.trim(), 'only the network namespace: the host\'s name');
    assert.is((await attach(s, 'a2', '-s', 'UTSNAME|MOUNT', '--', 'hostname')).stdout, 'a2');
    const bad = await attach(s, 'a2', '-s', 'NOPE', '--', 'true');
    assert.is(bad.exitCode, 1);
    assert.match(bad.stderr, /unknown namespace NOPE/);
    await lxkit(['stop', '-n', 'a2', '-P', s.lxcpath, '-k'], { env: s.env });
  });
});

const noPython = which('python3') ? undefined : 'python3 (for a pty) is not installed';

testIf(att, noPython, 'on a terminal the program gets a pty of its own; -L logs what it writes there (the file made 0600 also without one, as lxc-attach)', async () => {
  await withScratch(async (s) => {
    await daemon(s, 'a3');
    const log = join(s.dir, 'pty.log');
    const t = onTerminal(s, ['attach', '-n', 'a3', '-P', s.lxcpath, '-L', log, '--', '/bin/sh', '-c', 'tty; test -t 0 && echo STDIN-IS-A-TTY; exit 3']);
    try {
      const r = await t.proc;
      assert.match(t.output(), /\/dev\/pts\/[0-9]+\r?\nSTDIN-IS-A-TTY/);
      assert.is(r.exitCode, 3);
      assert.match(await readFile(log, 'utf8'), /^\/dev\/pts\/[0-9]+\r\nSTDIN-IS-A-TTY\r\n$/);
      const plain = join(s.dir, 'plain.log');
      const r2 = await lxkit(['attach', '-n', 'a3', '-P', s.lxcpath, '-L', plain, '--', 'echo', 'no-pty'], { env: s.env });
      assert.equal([r2.exitCode, r2.stdout], [0, 'no-pty'], r2.stderr);
      const st = await stat(plain);
      assert.equal([st.size, st.mode & 0o777], [0, 0o600]);
      const bad = await lxkit(['attach', '-n', 'a3', '-P', s.lxcpath, '-L', join(s.dir, 'none/x.log'), '--', 'true'], { env: s.env });
      assert.is(bad.exitCode, 1);
      assert.match(bad.stderr, /ENOENT: no such file or directory, open '.*none\/x\.log'/);
    } finally {
      await t.kill();
      await lxkit(['stop', '-n', 'a3', '-P', s.lxcpath, '-k'], { env: s.env });
    }
  });
});

const con = suite('console');

testIf(con, noPython, 'console reaches a getty on tty1 of a daemon and Ctrl-a q leaves; the console is one user\'s at a time; its output is logged', async () => {
  await withScratch(async (s) => {
    const log = join(s.dir, 'console.log');
    await daemon(s, 'c1', [], `lxc.console.logfile = ${log}\n`);
    const t = onTerminal(s, ['console', '-n', 'c1', '-P', s.lxcpath, '-t', '1']);
    try {
      await t.waitFor(/Connected to tty 1\r?\nType <Ctrl a q> to exit the console/);
      t.type('\r');
      await t.waitFor(/c1 login: /);
      t.type('root\r');
      await t.waitFor(/~ # /);
      t.type('echo MARK$((6*7)); tty\r');
      await t.waitFor(/MARK42\r?\n\/dev\/tty1/);
      t.type('\x01q');
      const r = await t.proc;
      assert.is(r.exitCode, 0);
    } finally {
      await t.kill();
    }

    const first = onTerminal(s, ['console', '-n', 'c1', '-P', s.lxcpath, '-t', '0']);
    try {
      await first.waitFor(/Connected to tty 0/);
      const second = await lxkit(['console', '-n', 'c1', '-P', s.lxcpath, '-t', '0'], { env: s.env });
      assert.equal([second.exitCode, second.stderr], [1, 'lxkit-console: c1: the console of container "c1" is in use by another lxkit console']);
      first.type('\r');
      await first.waitFor(/\/ # /);
      first.type('\x01q');
      assert.is((await first.proc).exitCode, 0);
    } finally {
      await first.kill();
    }
    const none = await lxkit(['console', '-n', 'c1', '-P', s.lxcpath, '-t', '9'], { env: s.env });
    assert.equal([none.exitCode, none.stderr], [1, 'lxkit-console: c1: container "c1" has no tty 9 (see lxc.tty.max)']);
    assert.match(await readFile(log, 'utf8'), /Please press Enter to activate this console/, "the console's output before anyone attached is in the log");
    await lxkit(['stop', '-n', 'c1', '-P', s.lxcpath, '-k'], { env: s.env });
  });
});

testIf(con, noPython, "lxc.console.buffer.size keeps the console's latest output in memory (console --log, consoleLog()), also while someone is on the console, whose window size the console gets", async () => {
  await withScratch(async (s) => {
    const log = join(s.dir, 'console.log');
    // 5000 bytes: a ring of 8192, the next power of two, as LXC makes it.
    await daemon(s, 'r1', [], `lxc.console.buffer.size = 5000\nlxc.console.logfile = ${log}\n`);
    const c = new Container('r1', { lxcpath: s.lxcpath });
    const cli = (...args: string[]) => lxkit(['console', '-n', 'r1', '-P', s.lxcpath, ...args], { env: s.env, stripFinalNewline: false });
    const toConsole = async (script: string) => assert.is((await attach(s, 'r1', '--', 'sh', '-c', `{ ${script}; } > /dev/console`)).exitCode, 0);
    try {
      const boot = await until(async () => {
        const text = (await cli('--log')).stdout;
        return /Please press Enter to activate this console/.test(text) ? text : undefined;
      }, 10_000, "the boot's console output in the buffer");
      assert.match(boot, /Please press Enter/);
      assert.is((await cli('--log')).stdout, '', 'what was read is not read again');

      const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'0123456789'.repeat(4)}`);
      await toConsole(`for i in $(seq 0 199); do echo "line $i ${'0123456789'.repeat(4)}"; done`);
      const all = lines.map((l) => `${l}\r\n`).join('');
      await until(async () => ((await readFile(log, 'utf8')).endsWith(all) ? true : undefined), 10_000, 'the lines through the console');
      assert.is((await c.consoleLog({ read: false })).length, 0, 'neither read nor clear: nothing read, nothing lost');
      assert.is((await cli('--log')).stdout, all.slice(-8192), 'the last 8192 bytes, the oldest pushed out');

      await toConsole('echo one; echo two');
      await until(async () => ((await readFile(log, 'utf8')).endsWith('two\r\n') ? true : undefined), 10_000, 'one, two');
      assert.is((await c.consoleLog({ max: 5 })).toString(), 'one\r\n', 'at most max bytes, the oldest');
      assert.is((await c.consoleLog({ read: false, clear: true })).length, 0);
      assert.is((await c.consoleLog()).length, 0, 'cleared: "two" is gone');
      await toConsole('echo three');
      await until(async () => ((await readFile(log, 'utf8')).endsWith('three\r\n') ? true : undefined), 10_000, 'three');
      assert.is((await c.consoleLog({ max: 3, clear: true })).toString(), 'thr', 'read, then everything cleared');
      assert.is((await cli('--log', '--clear')).stdout, '');

      // On the console (through its monitor), at 33x111: what goes by is still kept, and logged.
      const t = onTerminal(s, ['console', '-n', 'r1', '-P', s.lxcpath, '-t', '0'], { rows: 33, cols: 111 });
      try {
        await t.waitFor(/Connected to tty 0/);
        t.type('\r');
        await t.waitFor(/\/ # /);
        t.type('stty size; echo typed-$((6*7))\r');
        await t.waitFor(/33 111\r?\ntyped-42/);
        await toConsole('echo from-elsewhere');
        await t.waitFor(/from-elsewhere/);
        t.type('\x01q');
        assert.is((await t.proc).exitCode, 0);
      } finally {
        await t.kill();
      }
      const during = (await cli('--log')).stdout;
      assert.match(during, /33 111\r\ntyped-42\r\n/);
      assert.match(during, /from-elsewhere\r\n/);
      assert.match(await readFile(log, 'utf8'), /typed-42\r\n[^]*from-elsewhere\r\n/, 'in the log file too');
    } finally {
      await lxkit(['stop', '-n', 'r1', '-P', s.lxcpath, '-k'], { env: s.env });
    }

    const stopped = await cli('--log');
    assert.equal([stopped.exitCode, stopped.stderr.trim()], [1, 'lxkit-console: r1: container "r1" is not running']);
    await daemon(s, 'r2');
    try {
      const none = await lxkit(['console', '-n', 'r2', '-P', s.lxcpath, '--log'], { env: s.env });
      assert.is(none.exitCode, 1);
      assert.match(none.stderr, /container "r2" keeps no console log in memory: it was started without lxc\.console\.buffer\.size/);
      const err = await new Container('r2', { lxcpath: s.lxcpath }).consoleLog().then(() => undefined, (e: unknown) => e);
      assert.equal([(err as { code?: string }).code, (err as { key?: string }).key], ['LXKIT_NO_CONSOLE_BUFFER', 'lxc.console.buffer.size']);
    } finally {
      await lxkit(['stop', '-n', 'r2', '-P', s.lxcpath, '-k'], { env: s.env });
    }
  });
});

att.run();
con.run();
