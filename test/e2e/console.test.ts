/**
 * A busybox system container booted in the foreground on a terminal: init
 * runs, the console reaches a shell that has it as its controlling terminal
 * (job control, ^C), and both a shutdown from inside and
 * SIGTERM to lxkit (the container's halt signal) stop it cleanly.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { LXKIT_BIN, hostMounts, lxkit, testIf, which, withScratch } from '../lib/harness.js';
import { lxkitPid, onTerminal } from '../lib/terminal.js';

const boot = suite('console: booting busybox in the foreground');
const noPython = which('python3') ? undefined : 'python3 (for a pty) is not installed';

/** The busybox shell at the prompt on `t` has its terminal as controlling terminal: job control is on, and ^C ends the job it runs. */
async function assertJobControl(t: ReturnType<typeof onTerminal>): Promise<void> {
  assert.not.match(t.output(), /job control turned off/);
  t.type('sleep 60\r');
  await new Promise((r) => setTimeout(r, 300));
  // The shell runs the next line only once ^C has ended the sleep.
  t.type('\x03');
  t.type('echo INTERRUPTED$((6*7))\r');
  await t.waitFor(/INTERRUPTED42/, 5000);
}

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
      // The console is the shell's controlling terminal (the init holds none, as under LXC).
      await assertJobControl(t);
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

testIf(boot, noPython, "execute on lxkit's terminal: the command is a job of the shell that runs lxkit, with job control, and ^C reaches what it runs", async () => {
  await withScratch(async (s) => {
    assert.is((await lxkit(['create', '-n', 'bb', '-P', s.lxcpath, '-t', 'busybox'], { env: s.env })).exitCode, 0);
    const t = onTerminal(s, ['execute', '-n', 'bb', '-P', s.lxcpath, '--', '/bin/sh', '-i']);
    try {
      await t.waitFor(/\/ # /);
      await assertJobControl(t);
      t.type('exit 7\r');
      assert.is((await t.proc).exitCode, 7);
    } finally {
      await t.kill();
    }
  });
});

boot.run();
