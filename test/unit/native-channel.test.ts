/** @lxkit/native's channels (a stream socket read through uv_poll, without net.Socket) and isatty. */
import { closeSync, openSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { native, openChannel } from '@lxkit/native';
import { ROOT } from '../lib/harness.js';

const channel = suite('native channels');

/** A net server on a fresh abstract name; resolves with the name, the accepted peer (once a client connects) and a close(). */
async function abstractServer() {
  const name = `lxkit-test/channel/${process.pid}/${Math.random().toString(36).slice(2)}`;
  let peer!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (peer = r));
  const server = createServer((s) => peer(s));
  await new Promise<void>((r) => server.listen({ fd: native().listenAbstract(name) }, r));
  return { name, accepted, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A channel to the abstract socket `name` that keeps what it reads and counts its ends. */
function recordedChannel(name: string) {
  const chunks: Buffer[] = [];
  let ends = 0;
  let ch!: ReturnType<typeof openChannel>;
  const ended = new Promise<number>((resolve) => {
    ch = openChannel(
      native().connectAbstract(name),
      (c) => chunks.push(c),
      (errno) => {
        ends++;
        resolve(errno);
      },
    );
  });
  return { ch, chunks, ended, ends: () => ends };
}

channel('every byte the peer sends, across several reads, then its end once with errno 0', async () => {
  const srv = await abstractServer();
  const { chunks, ended, ends } = recordedChannel(srv.name);
  const peer = await srv.accepted;
  try {
    peer.end(Buffer.alloc(200_000, 7));
    assert.is(await ended, 0);
    const all = Buffer.concat(chunks);
    assert.is(all.length, 200_000);
    assert.ok(all.every((b) => b === 7));
    assert.ok(chunks.length > 1, 'more than one socket buffer: several reads');
    await new Promise((r) => setTimeout(r, 20));
    assert.is(ends(), 1);
  } finally {
    peer.destroy();
    await srv.close();
  }
});

channel('a peer that leaves with our writes unread (a reset): what it sent first still comes, then the end', async () => {
  // The monitor ends a container by itself and exits while lxkit may still be telling it a state:
  // its last frames must not be lost to the reset.
  const srv = await abstractServer();
  const { ch, chunks, ended, ends } = recordedChannel(srv.name);
  const peer = await srv.accepted;
  try {
    // More than a paused net.Socket has read (one 64 KiB read), less than the socket buffer (no
    // blocking): the rest stays in the kernel, unread.
    peer.pause();
    ch.write(Buffer.alloc(128 * 1024, 1));
    await new Promise((r) => setTimeout(r, 20));
    // Sent and gone in one go: our side wakes up to its data and the reset together.
    peer.write('last words');
    peer.destroy();
    const errno = await ended;
    assert.is(Buffer.concat(chunks).toString(), 'last words');
    assert.ok(errno === 0 || errno === 104, `the end: ${errno}`);
    await new Promise((r) => setTimeout(r, 20));
    assert.is(ends(), 1);
  } finally {
    peer.destroy();
    await srv.close();
  }
});

channel('write reaches the peer; close() stops callbacks and closes the fd', async () => {
  const srv = await abstractServer();
  const fd = native().connectAbstract(srv.name);
  let calls = 0;
  const ch = openChannel(fd, () => calls++, () => calls++);
  const peer = await srv.accepted;
  try {
    const got = new Promise<Buffer>((r) => peer.once('data', r));
    ch.write(Buffer.from('hello'));
    assert.is(String(await got), 'hello');
    const peerEnd = new Promise<void>((r) => peer.once('end', r));
    ch.close();
    ch.close();
    await peerEnd; // the fd was closed: the peer sees EOF
    await new Promise((r) => setTimeout(r, 50));
    assert.is(calls, 0, 'no end callback for a channel closed here');
  } finally {
    peer.destroy();
    await srv.close();
  }
});

channel('an unref()ed channel lets the process exit; a ref()ed one keeps it alive', async () => {
  const srv = await abstractServer();
  // A child process that opens a channel to our server and does nothing else.
  const child = (ref: boolean) =>
    execa(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { native, openChannel } from '@lxkit/native';
         const ch = openChannel(native().connectAbstract(${JSON.stringify(srv.name)}), () => {}, () => {});
         ch.ref(${ref});`,
      ],
      { cwd: ROOT, timeout: 1500, reject: false },
    );
  try {
    const unrefd = await child(false);
    assert.is(unrefd.exitCode, 0, unrefd.stderr);
    const refd = await child(true);
    assert.ok(refd.timedOut, 'still running when the timeout killed it');
  } finally {
    await srv.close();
  }
});

channel('isatty: a pty master is a terminal, /dev/null is not', () => {
  const ptmx = openSync('/dev/ptmx', 'r+');
  const devnull = openSync('/dev/null', 'r');
  try {
    assert.is(native().isatty(ptmx), true);
    assert.is(native().isatty(devnull), false);
    assert.is(native().isatty(987654), false, 'a closed fd is no terminal');
  } finally {
    closeSync(ptmx);
    closeSync(devnull);
  }
});

channel.run();
