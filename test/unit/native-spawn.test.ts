/** @lxkit/native's spawnHelper and startHelper: posix_spawn with chosen fds, a pidfd for signals, the exit reaped through it. */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { native, openChannel, spawnHelper, startHelper } from '@lxkit/native';
import { withTmpDir } from '../lib/harness.js';
import { decodeRecord, MSG } from '../../core/src/start/protocol.js';

const spawn = suite('native spawnHelper');

spawn('the helper gets the control socket as fd 3 and the given fds from 4; closing the socket ends the monitor', async () => {
  await withTmpDir(async (dir) => {
    const fd = openSync(join(dir, 'lockfile'), 'a');
    const h = spawnHelper('lxkit-monitor', { fds: [fd] });
    const control = new Socket({ fd: h.control, readable: true, writable: true });
    try {
      assert.ok(h.pid > 0);
      const fds = readdirSync(`/proc/${h.pid}/fd`).map(Number);
      const target = (n: number) => {
        try {
          return readlinkSync(`/proc/${h.pid}/fd/${n}`);
        } catch (err) {
          // The monitor opens and closes fds of its own as it starts: one may go between the listing and this look.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
      };
      assert.is(target(4), join(dir, 'lockfile'), 'fd 4 is the file passed first');
      assert.match(target(3) ?? '(closed)', /^socket:/);
      assert.equal(fds.filter((n) => n > 4 && target(n) === join(dir, 'lockfile')), [], 'the passed fd itself (close-on-exec in Node) is not duplicated');
      control.destroy();
      // The monitor's answer to losing lxkit: it ends (exit status 1).
      assert.equal(await h.exited, { code: 1, signal: null });
      assert.ok(h.gone);
      assert.not.ok(existsSync(`/proc/${h.pid}`), 'reaped: no zombie left');
      assert.is(h.kill(9), false, 'no signal to a pid that may be someone else now');
    } finally {
      h.kill(9);
      control.destroy();
      closeSync(fd);
    }
  });
});

spawn('a signal through the pidfd is reported as the cause of death', async () => {
  const h = spawnHelper('lxkit-monitor');
  const control = new Socket({ fd: h.control, readable: true, writable: true });
  try {
    // Once the monitor runs its own code, it blocks SIGTERM (it is the caller's to act on).
    const blocked = () => (BigInt('0x' + /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${h.pid}/status`, 'utf8'))![1]) & (1n << 14n)) !== 0n;
    for (let i = 0; i < 100 && !blocked(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(h.kill(15), true);
    await new Promise((r) => setTimeout(r, 50));
    assert.not.ok(h.gone);
    assert.is(h.kill(9), true);
    assert.equal(await h.exited, { code: null, signal: 9 });
  } finally {
    h.kill(9);
    control.destroy();
  }
});

spawn('a helper fd out of range is refused before anything runs', () => {
  assert.throws(() => spawnHelper('lxkit-monitor', { fds: [987654] }), (err: NodeJS.ErrnoException) => err.code === 'EBADF' && err.syscall === 'fcntl');
  assert.throws(() => startHelper('lxkit-monitor', { fds: [987654] }), (err: NodeJS.ErrnoException) => err.code === 'EBADF' && err.syscall === 'fcntl');
});

spawn('startHelper: what is written before the helper runs waits for it; a signal sent meanwhile is delivered once it runs', async () => {
  await withTmpDir(async (dir) => {
    const fd = openSync(join(dir, 'lockfile'), 'a');
    const h = startHelper('lxkit-monitor', { fds: [fd] });
    closeSync(fd); // the helper's copy was taken at the call
    let received = Buffer.alloc(0);
    let ch!: ReturnType<typeof openChannel>;
    const ended = new Promise<number>((resolve) => {
      ch = openChannel(h.control, (chunk) => (received = Buffer.concat([received, chunk])), resolve);
      // A DETACHED_TREE frame (length 12, type 3, an empty record) before any clone: the monitor
      // answers it with a RESULT (EINVAL) and goes on.
      ch.write(Buffer.from([12, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    });
    assert.is(h.pid, 0, 'no pid before it runs');
    await h.started;
    assert.ok(h.pid > 0);
    assert.is(readlinkSync(`/proc/${h.pid}/fd/4`), join(dir, 'lockfile'), 'fd 4 is the file passed, though closed here since');
    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const answer = decodeRecord(received.subarray(8));
    assert.equal([received.readUInt16LE(4), answer.ints[0], answer.ints[2]], [MSG.RESULT, 0, 22], 'the monitor read the frame sent before it ran, and answered it');
    // A QUIT frame (type 6): it answers and exits.
    ch.write(Buffer.from([12, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.is(await ended, 0, 'then hangs up');
    assert.equal(await h.exited, { code: 0, signal: null });
  });
  const k = startHelper('lxkit-monitor');
  assert.is(k.kill(9), true, 'taken before the helper runs');
  await k.started;
  assert.equal(await k.exited, { code: null, signal: 9 });
  closeSync(k.control);
});

spawn('a helper that cannot be spawned: the callback has the error, then the control socket ends', async () => {
  const a = native();
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    const control = a.spawnHelperAsync('/nonexistent/lxkit-helper', ['x'], [], (err) => {
      seen.push(`callback ${err?.code} ${err?.syscall} ${(err as { path?: string } | null)?.path}`);
    });
    openChannel(control, () => undefined, (errno) => {
      seen.push(`end ${errno}`);
      resolve();
    });
  });
  assert.equal(seen, ['callback ENOENT posix_spawn /nonexistent/lxkit-helper', 'end 0']);
});

spawn.run();
