/**
 * The test harness's own promises, where a fixture stands in for the real
 * thing: busyboxIn's copy of the golden container is the container that
 * `lxkit create -t busybox` makes under the same name.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxIn, goldenBusybox, lxkit, withScratch } from '../lib/harness.js';

const t = suite('fixtures');

/** Every entry under `dir`: path, type, mode, owner, and the link's target or the file's content hash. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p);
    const rel = relative(dir, p) || '.';
    const what = st.isSymbolicLink()
      ? `-> ${await readlink(p)}`
      : st.isFile()
        ? createHash('sha256').update(await readFile(p)).digest('hex').slice(0, 16)
        : st.isDirectory()
          ? 'dir'
          : `dev ${st.rdev}`;
    out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
    if (st.isDirectory()) for (const e of (await readdir(p)).sort()) await walk(join(p, e));
  };
  await walk(dir);
  return out;
}

t("busyboxIn's copy of the golden container is what lxkit create makes: the same tree, owners, modes, links and contents, its name and paths in config, hostname and hosts", () =>
  withScratch(async (s) => {
    const created = join(s.dir, 'created');
    await mkdir(created);
    const r = await lxkit(['create', '-n', 'fx', '-P', created, '-t', 'busybox', '--', '--privileged'], { env: s.env });
    assert.is(r.exitCode, 0, r.stderr);
    const copied = await busyboxIn(s, 'fx');
    assert.ok(copied.startsWith(s.lxcpath));
    const [a, b] = [await tree(join(created, 'fx')), await tree(copied)];
    // The config names its own rootfs: compared with each lxcpath put back.
    const config = async (lxcpath: string) => (await readFile(join(lxcpath, 'fx', 'config'), 'utf8')).split(lxcpath).join('LXCPATH');
    assert.is(await config(s.lxcpath), await config(created));
    // Everything else byte for byte; the config's mode and owner too, its content compared above.
    const configUnhashed = (lines: string[]) => lines.map((l) => (l.startsWith('config ') ? l.replace(/ [0-9a-f]{16}$/, '') : l));
    assert.equal(configUnhashed(b), configUnhashed(a));
    assert.is((await readFile(join(copied, 'rootfs/etc/hostname'), 'utf8')).trim(), 'fx');
    // The golden container itself is made once per process.
    assert.is(await goldenBusybox(), await goldenBusybox());
  }),
);

t.run();
