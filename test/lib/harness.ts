/**
 * Shared test helpers: skips that say why, temporary directories that are
 * always removed, and running the CLI as a user would.
 */
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LXKIT_BIN = join(ROOT, 'core/bin/lxkit.cjs');
export const ALIASES = join(ROOT, 'core/aliases');

/**
 * Registers `name` on `test`, or, when `reason` is a string, registers it as
 * skipped and prints the reason for the runner's report. Use it for features
 * this machine lacks, never to hide a failure.
 */
export function testIf(test: Test, reason: string | undefined, name: string, fn: () => void | Promise<void>): void {
  if (reason === undefined) {
    test(name, fn);
    return;
  }
  console.log(`# SKIP ${name} — ${reason}`);
  test.skip(name, fn);
}

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lxkit-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Like withTmpDir, but inside the repository (test/tmp/): files written there
 * resolve packages such as @lxkit/core, as a site's plugins would.
 */
export async function withRepoTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(join(ROOT, 'test/tmp'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'test/tmp/t-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `lxkit ARGS…` (or an alias, with `bin`), never throwing on a non-zero exit. */
export async function lxkit(args: string[], opts: Options & { bin?: string } = {}): Promise<CliResult> {
  const { bin = LXKIT_BIN, ...rest } = opts;
  const r = await execa(bin, args, { reject: false, ...rest, env: { NODE_EXTRA_CA_CERTS: '', ...rest.env } });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Absolute path of a program in PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A scratch lxcpath with its own run directory and subordinate-id files, all removed afterwards. */
export interface Scratch {
  readonly dir: string;
  readonly lxcpath: string;
  /** Environment for CLI runs: the scratch run directory and subid files. */
  readonly env: Record<string, string>;
}

/**
 * A failed test may leave a container running: every lock under the scratch
 * run directory names a container (<rundir>/<lxcpath>/<name>.lock), whose
 * monitor says its init's and its own pid; both get SIGKILL (the init's
 * death ends its pid namespace).
 */
async function killLeftovers(runDir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  const { Container } = await import('@lxkit/core');
  const files = await readdir(runDir, { recursive: true }).catch(() => [] as string[]);
  for (const f of files.filter((f) => f.endsWith('.lock'))) {
    const lxcpath = '/' + dirname(f);
    const status = await (await new Container(basename(f, '.lock'), { lxcpath }).running()).status().catch(() => undefined);
    for (const p of [status?.pid, status?.monitorPid]) {
      try {
        if (p) process.kill(p, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

/** Cgroup hierarchies mounted here (the mount points). */
export async function cgroupMounts(): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]!);
}

/**
 * Runs `fn`, which runs LXC's own tools: LXC's monitor leaves an lxc.pivot
 * cgroup in each hierarchy (where it goes before removing its own cgroup);
 * those the run made are removed afterwards.
 */
export async function withLxcPivotCleanup<T>(fn: () => Promise<T>): Promise<T> {
  const { existsSync } = await import('node:fs');
  const { rmdir } = await import('node:fs/promises');
  const mounts = await cgroupMounts();
  const had = new Set(mounts.filter((m) => existsSync(join(m, 'lxc.pivot'))));
  try {
    return await fn();
  } finally {
    for (const m of mounts) if (!had.has(m)) await rmdir(join(m, 'lxc.pivot')).catch(() => undefined);
  }
}

/** Cgroups of containers named `names` (lxc.payload.NAME, lxc.monitor.NAME, with -N suffixes) at each hierarchy's top. */
export async function containerCgroups(names: readonly string[]): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const m of await cgroupMounts()) {
    for (const e of await readdir(m).catch(() => [] as string[])) {
      const hit = names.some((n) => new RegExp(`^lxc\\.(payload|monitor)\\.${n.replace(/[.]/g, '\\.')}(-[0-9]+)?$`).test(e));
      if (hit) out.push(`${m}/${e}`);
    }
  }
  return out;
}

/** Removes cgroups a killed monitor left (their tasks are gone with it), deepest first. */
export async function removeCgroups(dirs: readonly string[]): Promise<void> {
  const { readdir, readFile, rmdir } = await import('node:fs/promises');
  const rm = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await rm(`${dir}/${e.name}`);
    // A cgroup with tasks belongs to something alive (a container of that name elsewhere): not ours to remove.
    if ((await readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => '')).trim() !== '') return;
    for (let i = 0; i < 25; i++) {
      const err = await rmdir(dir).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      if (!err || err.code === 'ENOENT' || err.code !== 'EBUSY') return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  for (const d of dirs) await rm(d);
}

export async function withScratch<T>(fn: (s: Scratch) => Promise<T>): Promise<T> {
  return withTmpDir(async (dir) => {
    const lxcpath = join(dir, 'lxc');
    await mkdir(lxcpath);
    const env = {
      LXKIT_RUNDIR: join(dir, 'run'),
      LXKIT_SUBUID: join(dir, 'subuid'),
      LXKIT_SUBGID: join(dir, 'subgid'),
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return await fn({ dir, lxcpath, env });
    } finally {
      await killLeftovers(join(dir, 'run'));
      const { readdir } = await import('node:fs/promises');
      await removeCgroups(await containerCgroups(await readdir(lxcpath).catch(() => [] as string[])));
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
}

/**
 * `lxkit create -t busybox` in the scratch lxcpath (privileged unless `args`
 * say otherwise), with `extra` config lines appended; returns its directory.
 *
 * A privileged one (the default) is a copy of one `lxkit create` made once
 * per test process (goldenBusybox): a create costs ~0.4 s here and ~10 s in
 * the kernel-feature VM, where a copy costs well under one. The copy is the
 * container create makes (test/e2e/fixtures.test.ts compares them, file by
 * file); the templates' tests run create itself.
 */
export async function busyboxIn(s: Scratch, name: string, extra = '', args: string[] = ['--privileged']): Promise<string> {
  const { appendFile } = await import('node:fs/promises');
  const dir = join(s.lxcpath, name);
  if (args.length === 1 && args[0] === '--privileged' && process.env['LXKIT_TEST_NO_GOLDEN'] !== '1') {
    await copyGolden(await goldenBusybox(), dir, name);
  } else {
    const r = await lxkit(['create', '-n', name, '-P', s.lxcpath, '-t', 'busybox', ...(args.length ? ['--', ...args] : [])], { env: s.env });
    assert.is(r.exitCode, 0, r.stderr);
  }
  if (extra) await appendFile(join(dir, 'config'), extra);
  return dir;
}

/** The golden container's name: one no test uses, so that a copy can put its own name where this one is. */
export const GOLDEN = 'lxkit-golden-busybox';
let golden: Promise<string> | undefined;

/**
 * The directory of this process's privileged busybox container, made by
 * `lxkit create` on first use in a temporary lxcpath that goes when the
 * process exits.
 */
export function goldenBusybox(): Promise<string> {
  golden ??= (async () => {
    const { rmSync } = await import('node:fs');
    const lxcpath = await mkdtemp(join(tmpdir(), 'lxkit-test-golden-'));
    process.on('exit', () => rmSync(lxcpath, { recursive: true, force: true }));
    const r = await lxkit(['create', '-n', GOLDEN, '-P', lxcpath, '-t', 'busybox', '--', '--privileged'], { env: { LXKIT_RUNDIR: join(lxcpath, '.run') } });
    assert.is(r.exitCode, 0, `the golden busybox container: ${r.stderr}`);
    return join(lxcpath, GOLDEN);
  })();
  return golden;
}

/**
 * Copies the golden container `from` to `dir` as container `name`: the tree
 * with owners, modes and links (cp -a), and the golden name and paths
 * replaced by the new ones where create writes them (its config,
 * /etc/hostname, /etc/hosts).
 */
export async function copyGolden(from: string, dir: string, name: string): Promise<void> {
  const { readFile, writeFile } = await import('node:fs/promises');
  // As create does, the lxcpath is made when missing.
  await mkdir(dirname(dir), { recursive: true });
  const r = await execa('cp', ['-a', '--', from, dir], { reject: false });
  assert.is(r.exitCode, 0, `copying the golden busybox container to ${dir}: ${r.stderr}`);
  const rename = (text: string) => text.split(from).join(dir).split(GOLDEN).join(name);
  for (const f of ['config', 'rootfs/etc/hostname', 'rootfs/etc/hosts']) {
    const p = join(dir, f);
    await writeFile(p, rename(await readFile(p, 'utf8')));
  }
}

/** `lxkit COMMAND -P <scratch lxcpath> ARGS…` with the scratch environment. */
export const lxkitIn = (s: Scratch, command: string, ...args: string[]): Promise<CliResult> => lxkit([command, '-P', s.lxcpath, ...args], { env: s.env });

/** Mount points of the host (this process's mount namespace). */
export async function hostMounts(): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!);
}

/** Polls `probe` until it gives a value, failing with `what` after `ms`. */
export async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.unreachable(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `fn`, then puts `files` back as they were (their contents, or not there), whatever happens. */
export async function withRestoredFiles<T>(files: readonly string[], fn: () => Promise<T>): Promise<T> {
  const { readFile, rm, writeFile } = await import('node:fs/promises');
  const saved = await Promise.all(files.map((f) => readFile(f).catch(() => undefined)));
  try {
    return await fn();
  } finally {
    await Promise.all(files.map((f, i) => (saved[i] === undefined ? rm(f, { force: true }) : writeFile(f, saved[i]!))));
  }
}

/**
 * Runs `fn` with `line` in /etc/subuid and /etc/subgid (newuidmap and
 * newgidmap read only those): appended where it is not there already (a host
 * that made an unprivileged container has root's range), and the files are
 * restored after, whatever happens.
 */
export async function withSubordinateIds<T>(line: string, fn: () => Promise<T>): Promise<T> {
  const { appendFile, readFile } = await import('node:fs/promises');
  const files = ['/etc/subuid', '/etc/subgid'];
  return withRestoredFiles(files, async () => {
    for (const f of files) {
      const text = await readFile(f, 'utf8').catch(() => '');
      if (!text.split('\n').includes(line)) await appendFile(f, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`);
    }
    return fn();
  });
}

/** The user `nobody` (65534), the tests' user other than root. */
export const NOBODY = 65534;

/**
 * Makes the scratch lxcpath nobody's (with a home and a run directory of
 * its own) and returns how to run lxkit as nobody there: `lxkit COMMAND -P
 * <lxcpath> ARGS…`, never rejecting, with `extraEnv` added to its
 * environment. Subordinate ids must be given (withSubordinateIds) for
 * containers with a user namespace.
 */
export async function asNobodyIn(s: Scratch, extraEnv: Record<string, string> = {}): Promise<(args: string[]) => Promise<CliResult>> {
  const { mkdir } = await import('node:fs/promises');
  const { execa } = await import('execa');
  const home = join(s.dir, 'home');
  await mkdir(home);
  await execa('chown', [`${NOBODY}:${NOBODY}`, home, s.lxcpath]);
  await execa('chmod', ['755', s.dir]);
  const env = { ...s.env, LXKIT_RUNDIR: join(home, 'run'), LXKIT_SUBUID: '/etc/subuid', LXKIT_SUBGID: '/etc/subgid', HOME: home, NODE_EXTRA_CA_CERTS: '', ...extraEnv };
  return async (args) => {
    const r = await execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, LXKIT_BIN, args[0]!, '-P', s.lxcpath, ...args.slice(1)], {
      env,
      reject: false,
    });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
}

/** lxkit-monitor processes holding a file below `dir` (the container's lock): a start spawns its monitor before it loads the config. */
export function monitorsUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^[0-9]+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'lxkit-monitor') continue;
      const holds = (fd: string) => {
        try {
          return readlinkSync(`/proc/${p}/fd/${fd}`).startsWith(dir);
        } catch {
          return false; // closed meanwhile: one fd gone must not hide the others
        }
      };
      if (readdirSync(`/proc/${p}/fd`).some(holds)) pids.push(Number(p));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
