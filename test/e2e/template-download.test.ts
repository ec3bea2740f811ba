/**
 * `lxkit create -t download`: an image server of the test's on loopback
 * (HTTPS with a certificate made for the test, trusted through
 * NODE_EXTRA_CA_CERTS, and for LXC's wget through a wgetrc), serving an
 * index and images made from a busybox rootfs; the cache in a directory of
 * the test's (LXC_CACHE_PATH), shared with LXC's lxc-download.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { asNobodyIn, LXKIT_BIN, lxkit, testIf, which, withLxcPivotCleanup, withScratch, withSubordinateIds, type CliResult, type Scratch } from '../lib/harness.js';
import { imageIn } from '../lib/image.js';

const test = suite('template-download');
const LXC_DOWNLOAD = '/usr/share/lxc/templates/lxc-download';

interface ImageServer {
  /** HOST:PORT for --server. */
  readonly server: string;
  /** The paths asked for, in order. */
  readonly asked: string[];
  /** Publishes a build of the test image (the index lists the latest). */
  publish(build: string, expiry?: number): Promise<void>;
  /** `lxkit create -n NAME -t download -- ARGS…` trusting the server, with the test's cache. */
  create(name: string, ...args: string[]): Promise<CliResult>;
  readonly cache: string;
  readonly env: Record<string, string>;
}

async function withImageServer<T>(fn: (srv: ImageServer, s: Scratch) => Promise<T>): Promise<T> {
  return withScratch(async (s) => {
    const key = join(s.dir, 'key.pem');
    const cert = join(s.dir, 'cert.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const root = join(s.dir, 'www');
    const asked: string[] = [];
    const httpd: Server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
      // LXC's wget asks for //images/…: the path as sent, slashes collapsed.
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/\/+/g, '/');
      asked.push(path);
      readFile(join(root, path)).then(
        (data) => res.writeHead(200).end(data),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => httpd.listen(0, '127.0.0.1', resolve));
    const server = `127.0.0.1:${(httpd.address() as AddressInfo).port}`;
    const cache = join(s.dir, 'cache');
    const env = { ...s.env, NODE_EXTRA_CA_CERTS: cert, LXC_CACHE_PATH: cache };
    try {
      return await fn(
        {
          server,
          asked,
          cache,
          env,
          async publish(build, expiry) {
            const path = `images/busybox/test/amd64/default/${build}`;
            await imageIn(s, { into: join(root, path), build, ...(expiry !== undefined ? { expiry } : {}) });
            await mkdir(join(root, 'meta/1.0'), { recursive: true });
            // Only the plain index: the compatibility level's (index-system.7) is asked for first and is missing, as on older servers.
            const index = `busybox;test;amd64;default;${build};/${path}\ndebian;bookworm;amd64;default;20261122_05:24;/images/debian/bookworm/amd64/default/20261122_05:24\nbusybox;test;amd64;other;${build};/${path}\n`;
            for (const mode of ['system', 'user']) await writeFile(join(root, `meta/1.0/index-${mode}`), index);
          },
          create: (name, ...args) => lxkit(['create', '-P', s.lxcpath, '-n', name, '-t', 'download', '--', '--server', server, ...args], { env }),
        },
        s,
      );
    } finally {
      httpd.closeAllConnections();
      await new Promise((resolve) => httpd.close(resolve));
    }
  });
}

const IMAGE = ['-d', 'busybox', '-r', 'test', '-a', 'amd64'];
const downloads = (asked: readonly string[]) => asked.filter((p) => p.endsWith('/rootfs.tar.xz')).length;
const cacheOf = (srv: ImageServer, variant = 'default') => join(srv.cache, 'download/busybox/test/amd64', variant);

test('--list prints the index as a table and makes no container; without -d -r -a the list is shown and the create fails', async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00');
    const r = await srv.create('l1', '--list');
    assert.is(r.exitCode, 1);
    assert.match(r.stdout, /^DIST\s+RELEASE\s+ARCH\s+VARIANT\s+BUILD\nbusybox\s+test\s+amd64\s+default\s+20261124_01:00\ndebian\s+bookworm\s+amd64\s+default\s+20261122_05:24$/);
    assert.match(r.stderr, /the images are listed above; no container is made with --list/);
    const filtered = await srv.create('l1', '--list', '-d', 'debian');
    assert.match(filtered.stdout, /\ndebian\s+bookworm/);
    assert.not.match(filtered.stdout, /busybox/);
    const missing = await srv.create('l1', '-d', 'busybox');
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, /which image: -- -d DIST -r RELEASE -a ARCH/);
    // The compatibility level's index first, then the plain one.
    assert.equal(srv.asked.slice(0, 2), ['/meta/1.0/index-user.7', '/meta/1.0/index-user']);
    assert.equal((await readdir(s.lxcpath)).filter((n) => n !== 'imgsrc'), []);
  });
});

test("what -d, -r and -a leave out is asked for, as LXC's template asks: through CreateOptions.onQuestion, and by the CLI at a terminal (none without one)", async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00');
    // The library, in a Node process that trusts the server (NODE_EXTRA_CA_CERTS is read at start-up).
    const library = async (name: string, args: string[], answers: Record<string, string>) => {
      const script = `
        const { Container } = await import(${JSON.stringify(import.meta.resolve('@lxkit/core'))});
        const asked = [], said = [];
        const answers = ${JSON.stringify(answers)};
        const error = await new Container(${JSON.stringify(name)}, { lxcpath: ${JSON.stringify(s.lxcpath)} })
          .create({ template: 'download', templateArgs: ${JSON.stringify(args)}, onMessage: (t) => said.push(t), onQuestion: async (q) => (asked.push(q), answers[q.split(':')[0]]) })
          .then(() => undefined, (e) => e.message);
        console.log(JSON.stringify({ asked, said, error }));`;
      const r = await execa(process.execPath, ['--input-type=module', '-e', script], { env: srv.env, reject: false });
      assert.is(r.exitCode, 0, r.stderr);
      return JSON.parse(r.stdout) as { asked: string[]; said: string[]; error?: string };
    };
    const q1 = await library('q1', ['--server', srv.server, '-d', 'busybox', '--privileged'], { Release: 'test', Architecture: 'amd64' });
    assert.is(q1.error, undefined);
    assert.equal(q1.asked, ['Release: \n', 'Architecture: \n'], "only what is missing, in LXC's order and words");
    assert.match(q1.said[0]!, /^DIST\s+RELEASE\s+ARCH\s+VARIANT\s+BUILD\nbusybox\s+test\s+amd64/, 'the list first');
    assert.ok(existsSync(join(s.lxcpath, 'q1/rootfs/bin/busybox')));
    // An answer that is not a name is refused as the option would be; no answer says what is needed.
    const q2 = await library('q2', ['--server', srv.server, '--privileged'], { Distribution: '..', Release: 'x', Architecture: 'x' });
    assert.match(q2.error ?? '', /--dist "\.\." is not a name/);
    const q3 = await library('q3', ['--server', srv.server, '--privileged'], { Distribution: 'busybox' });
    assert.match(q3.error ?? '', /which image: -- -d DIST -r RELEASE -a ARCH/);
    assert.not.ok(existsSync(join(s.lxcpath, 'q2')) || existsSync(join(s.lxcpath, 'q3')));

    // The CLI at a terminal (script(1) gives it one): the answers typed there.
    const cli = [process.execPath, LXKIT_BIN, 'create', '-P', s.lxcpath, '-n', 'q5', '-t', 'download', '--', '--server', srv.server, '--privileged'];
    const quoted = cli.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const tty = await execa('script', ['-qec', quoted, '/dev/null'], { env: srv.env, input: 'busybox\ntest\namd64\n', reject: false });
    assert.is(tty.exitCode, 0, tty.stdout);
    assert.match(tty.stdout, /Distribution: \r?\n(busybox\r?\n)?Release: \r?\n/);
    assert.ok(existsSync(join(s.lxcpath, 'q5/rootfs/bin/busybox')));
    // Without a terminal nobody is asked: the list, and an error saying what is needed.
    const piped = await lxkit(['create', '-P', s.lxcpath, '-n', 'q4', '-t', 'download', '--', '--server', srv.server], { env: srv.env, input: 'busybox\n' });
    assert.is(piped.exitCode, 1);
    assert.not.match(piped.stdout, /Distribution:/);
    assert.match(piped.stderr, /which image: -- -d DIST -r RELEASE -a ARCH/);
  });
});

test('an image is downloaded once into the cache, installed unprivileged or privileged, and the container runs', async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00');
    const first = await srv.create('d1', ...IMAGE);
    assert.is(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /Downloading busybox test amd64 \(default\), build 20261124_01:00\n/);
    assert.match(first.stdout, /Made from the test image\.$/);
    assert.is(downloads(srv.asked), 1);
    assert.is((await readFile(join(cacheOf(srv), 'build_id'), 'utf8')).trim(), '20261124_01:00');
    assert.ok(existsSync(join(cacheOf(srv), 'config-user')) && existsSync(join(cacheOf(srv), 'rootfs.tar.xz')));
    const config = await readFile(join(s.lxcpath, 'd1/config'), 'utf8');
    assert.match(config, /# the image, unprivileged/);
    assert.match(config, /^lxc\.idmap = u 0 /m);

    const second = await srv.create('d2', ...IMAGE, '--privileged');
    assert.is(second.exitCode, 0, second.stderr);
    assert.is(downloads(srv.asked), 1, 'the cached image is used');
    assert.match(await readFile(join(s.lxcpath, 'd2/config'), 'utf8'), /# the image, privileged/);

    for (const name of ['d1', 'd2']) {
      const run = await lxkit(['execute', '-P', s.lxcpath, '-n', name, '--', 'sh', '-c', 'cat /etc/hostname /etc/image-build; echo "$IMAGE_OF"'], { env: srv.env });
      assert.is(run.exitCode, 0, run.stderr);
      assert.is(run.stdout, `${name}\n20261124_01:00\n${name}`);
    }
  });
});

test("a user other than root: the image cached in its own ~/.cache/lxc, the container unprivileged with the image's owners; it runs", async () => {
  await withSubordinateIds('nobody:300000:65536', () =>
    withImageServer(async (srv, s) => {
      await srv.publish('20261124_01:00');
      // Its own cache, as LXC's template has it for a user other than root: no LXC_CACHE_PATH.
      const asNobody = await asNobodyIn(s, { NODE_EXTRA_CA_CERTS: srv.env['NODE_EXTRA_CA_CERTS']! });
      const r = await asNobody(['create', '-n', 'n1', '-t', 'download', '--', '--server', srv.server, ...IMAGE]);
      assert.is(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /Made from the test image\.$/);
      const cache = join(s.dir, 'home/.cache/lxc/download/busybox/test/amd64/default');
      assert.is((await readFile(join(cache, 'build_id'), 'utf8')).trim(), '20261124_01:00');
      assert.is((await execa('stat', ['-c', '%u', cache, join(cache, 'rootfs.tar.xz')])).stdout, '65534\n65534', "the cache is the user's");
      assert.not.ok(existsSync(srv.cache), 'nothing in the shared cache');
      const rootfs = join(s.lxcpath, 'n1/rootfs');
      assert.is((await execa('stat', ['-c', '%u:%g', join(rootfs, 'bin/busybox'), join(rootfs, 'etc/hostname')])).stdout, '300000:300000\n300000:300000');
      const run = await asNobody(['execute', '-n', 'n1', '--', 'sh', '-c', 'cat /etc/hostname /etc/image-build; id -u']);
      assert.is(run.exitCode, 0, run.stderr);
      assert.is(run.stdout, 'n1\n20261124_01:00\n0');
      const destroyed = await asNobody(['destroy', '-n', 'n1']);
      assert.is(destroyed.exitCode, 0, destroyed.stderr);
    }),
  );
});

test('an expired cache is refreshed from a newer build, --force-cache keeps it, --flush-cache downloads again; a failed download leaves the cache as it was', async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00', 1000);
    assert.is((await srv.create('e1', ...IMAGE, '--privileged')).exitCode, 0);
    assert.is(downloads(srv.asked), 1);
    // The cached copy expired long ago: with --force-cache it is used all the same.
    const forced = await srv.create('e2', ...IMAGE, '--privileged', '--force-cache');
    assert.is(forced.exitCode, 0, forced.stderr);
    assert.is(downloads(srv.asked), 1);

    await srv.publish('20261124_02:00');
    const refreshed = await srv.create('e3', ...IMAGE, '--privileged');
    assert.is(refreshed.exitCode, 0, refreshed.stderr);
    assert.match(refreshed.stdout, /The cached copy has expired, downloading it again\n/);
    assert.is(downloads(srv.asked), 2);
    assert.is(await readFile(join(s.lxcpath, 'e3/rootfs/etc/image-build'), 'utf8'), '20261124_02:00\n');
    assert.is((await readFile(join(cacheOf(srv), 'build_id'), 'utf8')).trim(), '20261124_02:00');

    const flushed = await srv.create('e4', ...IMAGE, '--privileged', '--flush-cache');
    assert.is(flushed.exitCode, 0, flushed.stderr);
    assert.is(downloads(srv.asked), 3);

    // The other variant's image path is gone from the server: the download fails, no container, and the variant has no cache.
    await execa('rm', ['-rf', join(s.dir, 'www/images')]);
    const gone = await srv.create('e5', ...IMAGE, '--variant', 'other');
    assert.is(gone.exitCode, 1);
    assert.match(gone.stderr, /https:\/\/127\.0\.0\.1:\d+\/\/?images\/busybox\/test\/amd64\/default\/20261124_02:00\/rootfs\.tar\.xz does not exist/);
    assert.not.ok(existsSync(join(s.lxcpath, 'e5')));
    assert.not.ok(existsSync(cacheOf(srv, 'other')));
    assert.ok(existsSync(join(cacheOf(srv), 'rootfs.tar.xz')), 'the default variant is still cached');
  });
});

test('bad input: no such image, a server that is not there, a name that climbs out of the cache — an error naming it, no container', async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00');
    const cases: [string[], RegExp][] = [
      [['-d', 'busybox', '-r', 'nope', '-a', 'amd64'], /has no image busybox nope amd64 \(variant default\); -- --list shows what it has/],
      [['-d', '..', '-r', 'test', '-a', 'amd64'], /--dist "\.\." is not a name/],
      [['-d', 'busybox', '-r', 'test', '-a', 'amd64', '--server', 'bad/host'], /--server "bad\/host" is not HOST or HOST:PORT/],
    ];
    for (const [args, message] of cases) {
      const r = await srv.create('b1', ...args);
      assert.is(r.exitCode, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
    // A loopback port nothing listens on: one just given up by a listener of the test's.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const closed = await lxkit(['create', '-P', s.lxcpath, '-n', 'b1', '-t', 'download', '--', '--server', `127.0.0.1:${port}`, ...IMAGE], { env: srv.env });
    assert.is(closed.exitCode, 1);
    assert.match(closed.stderr, new RegExp(`cannot download https://127\\.0\\.0\\.1:${port}/meta/1\\.0/index-user\\.7: .*ECONNREFUSED`), closed.stderr);
    assert.not.ok(existsSync(join(s.lxcpath, 'b1')));
  });
});

const LXC_MISSING = !existsSync(LXC_DOWNLOAD) ? `${LXC_DOWNLOAD} is not installed (Debian's lxc package)` : !which('wget') ? 'wget is not installed' : undefined;

testIf(test, LXC_MISSING, "LXC's lxc-download fills the same cache lxkit uses: an image LXC downloaded is not downloaded again, and the two containers match", async () => {
  await withImageServer(async (srv, s) => {
    await srv.publish('20261124_01:00');
    const wgetrc = join(s.dir, 'wgetrc');
    await writeFile(wgetrc, `ca_certificate = ${srv.env['NODE_EXTRA_CA_CERTS']}\n`);
    const lxcpath = join(s.dir, 'lxc-made');
    await mkdir(lxcpath);
    const base = join(s.dir, 'default.conf');
    await writeFile(base, '# the site default\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
    await withLxcPivotCleanup(async () => {
      const theirs = await execa('lxc-create', ['-P', lxcpath, '-n', 'same', '-f', base, '-t', LXC_DOWNLOAD, '--', '--server', srv.server, ...IMAGE], {
        reject: false,
        all: true,
        env: { WGETRC: wgetrc, LXC_CACHE_PATH: srv.cache },
      });
      assert.is(theirs.exitCode, 0, theirs.all);
    });
    assert.is(downloads(srv.asked), 1);
    const ours = await lxkit(['create', '-P', s.lxcpath, '-n', 'same', '-f', base, '-t', 'download', '--', '--server', srv.server, ...IMAGE, '--privileged'], { env: srv.env });
    assert.is(ours.exitCode, 0, ours.stderr);
    assert.is(downloads(srv.asked), 1, "LXC's cached copy is used");
    const keys = (c: string, path: string) => c.split('\n').filter((l) => l.startsWith('lxc.')).map((l) => l.replaceAll(path, 'LXCPATH'));
    const [a, b] = await Promise.all([readFile(join(s.lxcpath, 'same/config'), 'utf8'), readFile(join(lxcpath, 'same/config'), 'utf8')]);
    assert.equal(keys(a, s.lxcpath), keys(b, lxcpath));
    const tree = async (root: string) => (await execa('find', [root, '-printf', '%P %U %G %m %y %l\n'])).stdout.split('\n').sort().join('\n');
    assert.is(await tree(join(s.lxcpath, 'same/rootfs')), await tree(join(lxcpath, 'same/rootfs')));
    await execa('lxc-destroy', ['-P', lxcpath, '-n', 'same'], { reject: false });
  });
});

test.run();
