/**
 * A busybox system container booted in the foreground on a terminal: init
 * runs, the console reaches a shell, and both a shutdown from inside and
 * SIGTERM to lxkit (the container's halt signal) stop it cleanly.
 */
import { readFile } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LXKIT_BIN, hostMounts, lxkit, testIf, which, withScratch, type Scratch } from '../lib/harness.js';

/** Runs argv on a fresh pty (python's pty module: no shell involved), piping our data through. */
const PTY = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';

function onTerminal(s: Scratch, args: string[]) {
  const proc = execa('python3', ['-c', PTY, process.execPath, LXKIT_BIN, ...args], { env: s.env, reject: false, stdin: 'pipe' }) as ResultPromise & {
    stdout: NodeJS.ReadableStream;
  };
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (re: RegExp, ms = 15000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Ends lxkit and its pty whatever state the test left them in (the monitor then ends the container). */
  const kill = async () => {
    try {
      process.kill(await lxkitPid(proc.pid!), 'SIGKILL');
    } catch {
      // already gone
    }
    proc.kill('SIGKILL');
    await proc;
  };
  return { proc, output: () => out, waitFor, kill, type: (text: string) => proc.stdin!.write(text) };
}

async function lxkitPid(pythonPid: number): Promise<number> {
  const children = await readFile(`/proc/${pythonPid}/task/${pythonPid}/children`, 'utf8');
  return Number(children.trim().split(/\s+/)[0]);
}

const boot = suite('console: booting busybox in the foreground');
const noPython = which('python3') ? undefined : 'python3 (for a pty) is not installed';

testIf(boot, noPython, 'init boots, the console reaches a shell, and poweroff from inside stops the container', async () => {
  await withScratch(async (s) => {
    assert.is((await lxkit(['create', '-n', 'bb', '-P', s.lxcpath, '-t', 'busybox'], { env: s.env })).exitCode, 0);
    const before = await hostMounts();
    const t = onTerminal(s, ['start', '-n', 'bb', '-P', s.lxcpath, '-F']);
    try {
      await t.waitFor(/Please press Enter to activate this console/);
      t.type('\r');
      await t.waitFor(/\/ # /);
      t.type('echo MARK$((40+2)); hostname; cat /proc/1/comm; tty\r');
      await t.waitFor(/MARK42\r?\nbb\r?\ninit\r?\n\/dev\/console/);
      t.type('poweroff\r');
      const r = await t.proc;
      assert.match(t.output(), /The system is going down NOW!/);
      assert.is(r.exitCode, 0, 'a shutdown is a normal stop');
      assert.equal(await hostMounts(), before);
    } finally {
      await t.kill();
    }
  });
});

testIf(boot, noPython, 'SIGTERM to lxkit sends the container its halt signal (lxc.signal.halt)', async () => {
  await withScratch(async (s) => {
    assert.is((await lxkit(['create', '-n', 'bb', '-P', s.lxcpath, '-t', 'busybox'], { env: s.env })).exitCode, 0);
    const t = onTerminal(s, ['start', '-n', 'bb', '-P', s.lxcpath, '-F', '-l', 'INFO']);
    let r;
    try {
      await t.waitFor(/Please press Enter to activate this console/);
      process.kill(await lxkitPid(t.proc.pid!), 'SIGTERM');
      r = await t.proc;
    } finally {
      await t.kill();
    }
    assert.match(t.output(), /lxkit got SIGTERM; sending 10 to the container/);
    assert.match(t.output(), /Requesting system halt/);
    assert.match(t.output(), /container bb: STOPPED/);
    assert.is(r.exitCode, 0);
    const state = await execa(process.execPath, [LXKIT_BIN, 'ls', '-P', s.lxcpath], { env: s.env });
    assert.is(String(state.stdout), 'bb');
  });
});

boot.run();
