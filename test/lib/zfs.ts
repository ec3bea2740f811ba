/**
 * A ZFS pool of a test's own, on a sparse file in its scratch directory:
 * with OpenZFS's module where the kernel has it, else with Debian's
 * zfs-fuse, whose daemon is started for the test when none runs and
 * stopped after. The pool is destroyed whatever happens; a test asserts
 * itself that it left no dataset in it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { until, which, withScratch, type Scratch } from './harness.js';

/** Why ZFS cannot be tested here, or undefined. */
export const ZFS_MISSING = !which('zfs') || !which('zpool')
  ? 'no zfs tools (npm run setup installs zfs-fuse)'
  : existsSync('/dev/zfs') || (which('zfs-fuse') && existsSync('/dev/fuse'))
    ? undefined
    : 'neither an OpenZFS module (/dev/zfs) nor zfs-fuse with /dev/fuse';

const answers = async () => (await execa('zpool', ['list', '-H'], { reject: false })).exitCode === 0;

/** Starts zfs-fuse unless ZFS answers already; resolves with a function that stops what it started. */
async function zfsDaemon(dir: string): Promise<() => Promise<void>> {
  if (await answers()) return async () => undefined;
  const pidfile = join(dir, 'zfs-fuse.pid');
  await execa('zfs-fuse', ['--pidfile', pidfile, '--no-kstat-mount']);
  await until(async () => ((await answers()) ? true : undefined), 10_000, 'the zfs-fuse daemon to answer');
  return async () => {
    const pid = Number(readFileSync(pidfile, 'utf8'));
    process.kill(pid, 'SIGTERM');
    // It exports the pools first: on a busy host that has taken over 10 s.
    await until(async () => (existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '' ? undefined : true), 30_000, 'zfs-fuse to exit');
    await rm(pidfile, { force: true });
  };
}

export interface ZfsScratch extends Scratch {
  /** The test's pool. */
  readonly pool: string;
  /** `<pool>/lxc`: what containers are made below (--zfsroot). */
  readonly root: string;
}

export async function withZfs(fn: (s: ZfsScratch) => Promise<void>): Promise<void> {
  await withScratch(async (s) => {
    const stop = await zfsDaemon(s.dir);
    const pool = `lxkit-test-${process.pid}`;
    const image = join(s.dir, 'pool.img');
    let failed = false;
    try {
      await execa('truncate', ['-s', '256M', image]);
      await execa('zpool', ['create', '-m', 'none', pool, image]);
      try {
        await fn({ ...s, pool, root: `${pool}/lxc` });
      } finally {
        const destroyed = await execa('zpool', ['destroy', '-f', pool], { reject: false });
        if (destroyed.failed) process.stderr.write(`zpool destroy -f ${pool}: ${destroyed.stderr || destroyed.message}\n`);
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // A failure of the test is the one reported: the daemon's stop failing after it does not hide it.
      await stop().catch((err: Error) => {
        if (!failed) throw err;
        process.stderr.write(`after the test's failure: ${err.message}\n`);
      });
    }
  });
}

/** Every dataset and snapshot in `pool` below its top, with its origin: `name origin`. */
export async function datasetsIn(pool: string): Promise<string[]> {
  const { stdout } = await execa('zfs', ['list', '-H', '-r', '-t', 'all', '-o', 'name,origin', pool]);
  return String(stdout)
    .split('\n')
    .filter((l) => l.startsWith(`${pool}/`))
    .map((l) => l.replace('\t', ' ').replace(/ -$/, ''));
}
