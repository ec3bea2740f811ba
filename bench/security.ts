/**
 * Confinement (issue 6): what seccomp adds to a start.
 *
 *  1. Library: the same busybox container started by a runtime with every
 *     built-in plugin (the default policy, compiled once and then served
 *     from the cache) and by one without the seccomp plugin, alternating in
 *     one process (target: ≤ 0.5 ms per start).
 *  2. Side by side, interleaved: lxkit execute, lxc-execute and runc run of
 *     /bin/true, each with and without the same rules (LXC's default policy:
 *     LXC's common.seccomp, lxkit's default, the equivalent runc
 *     linux.seccomp), so each runtime's seccomp cost is its own difference.
 *  3. The first (uncached) compile of the default policy.
 *
 * BENCH_RUNS changes the sizes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_PLUGINS, Container, createRuntime, type Runtime } from '@lxkit/core';
import { compilePolicy, DEFAULT_POLICY, parsePolicy } from '@lxkit/plugin-seccomp';
import { machine, markdownTable, measure, ROOT, statsOf, elapsed, writeRaw, writeResults, type Case, type Stats, requireTools } from './lib/harness.js';
import { lxcBusybox } from './lib/busybox.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 30);
requireTools('security', ['lxc-create', 'lxc-execute', 'runc']);
const LXC_POLICY = '/usr/share/lxc/config/common.seccomp';

const dir = await mkdtemp(join(tmpdir(), 'lxkit-bench-'));
const lxcpath = join(dir, 'lxc');
const rundir = join(dir, 'run');
process.env['LXKIT_RUNDIR'] = rundir;
Object.assign(process.env, { LXKIT_RUNDIR: rundir });

/** A runc bundle running /bin/true on `rootfs`, with the rules of LXC's default policy when `seccomp`. */
async function bundle(name: string, rootfs: string, seccomp: boolean): Promise<string> {
  const b = join(dir, name);
  await mkdir(b, { recursive: true });
  execFileSync('runc', ['spec', '--bundle', b]);
  const spec = JSON.parse(await readFile(join(b, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
    linux: { seccomp?: unknown };
  };
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root = { path: rootfs, readonly: true };
  if (seccomp) {
    spec.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['kexec_load', 'open_by_handle_at', 'init_module', 'finit_module', 'delete_module'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['umount2'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 1, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
  }
  await writeFile(join(b, 'config.json'), JSON.stringify(spec, null, 2));
  return b;
}

try {
  await lxcBusybox(lxcpath, 'bb', { drop: ['seccomp'] });
  const rootfs = join(lxcpath, 'bb', 'rootfs');

  // 3 first: the uncached compile, before anything has warmed the compiler.
  const text = await readFile(DEFAULT_POLICY, 'utf8');
  const firstCompile: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    compilePolicy(parsePolicy(text, DEFAULT_POLICY), text, { cache: false });
    firstCompile.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const compileStats = statsOf('compile the default policy, uncached (parse + libseccomp + export)', firstCompile);
  // What the plugin's JavaScript does per start once the program is cached: read, parse, hash, look up.
  const perStart: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    for (let j = 0; j < 100; j++) {
      // As the plugin does it: synchronously (an await per read would measure the thread pool instead).
      const policyText = readFileSync(DEFAULT_POLICY, 'utf8');
      compilePolicy(parsePolicy(policyText, DEFAULT_POLICY), policyText);
    }
    perStart.push(Number(process.hrtime.bigint() - t) / 1e6 / 100);
  }
  const jsStats = statsOf('the plugin\'s work per start, cached (read, parse, hash, lookup)', perStart);

  // 1. Library starts with and without the seccomp plugin, in paired rounds (each round runs both,
  // in alternating order): the cost is the median of the per-round differences, which load on the
  // machine shifts far less than the medians themselves.
  const all = await createRuntime();
  const without = await createRuntime({ plugins: Object.keys(BUILTIN_PLUGINS).filter((p) => p !== 'seccomp').map((use) => ({ use })) });
  const withStart: number[] = [];
  const withoutStart: number[] = [];
  const cycle = async (runtime: Runtime, into: number[], keep: boolean) => {
    const c = new Container('bb', { lxcpath, runtime });
    const ms = await elapsed(() => c.start());
    await c.stop({ kill: true });
    if (keep) into.push(ms);
  };
  for (let i = 0; i < runs * 4 + 3; i++) {
    const first = i % 2 === 0;
    await cycle(first ? all : without, first ? withStart : withoutStart, i >= 3);
    await cycle(first ? without : all, first ? withoutStart : withStart, i >= 3);
  }
  const library: Case[] = [
    { name: 'library start(), no seccomp plugin', cmd: [] },
    { name: 'library start(), default policy (cached)', cmd: [], baseline: 'library start(), no seccomp plugin' },
  ];
  const libraryStats = [statsOf(library[0]!.name, withoutStart), statsOf(library[1]!.name, withStart)];
  const libDelta = statsOf('', withStart.map((w, i) => w - withoutStart[i]!)).median;

  // 2. The CLIs, with and without the same rules.
  const rcWithout = join(dir, 'no-seccomp.json');
  const rcWith = join(dir, 'all.json');
  await writeFile(rcWithout, JSON.stringify({ plugins: Object.keys(BUILTIN_PLUGINS).filter((p) => p !== 'seccomp') }));
  await writeFile(rcWith, JSON.stringify({ plugins: ['...'] }));
  const lxkit = (rc: string) => [process.execPath, join(ROOT, 'core/bin/lxkit.cjs'), 'execute', '-P', lxcpath, '-n', 'bb', '-q', '--rcfile', rc, '--', '/bin/true'];
  const lxc = (policy: string) => ['lxc-execute', '-P', lxcpath, '-n', 'bb', '-s', `lxc.seccomp.profile=${policy}`, '--', '/bin/true'];
  const [plain, confined] = [await bundle('runc-plain', rootfs, false), await bundle('runc-seccomp', rootfs, true)];
  const cli: Case[] = [
    { name: 'lxkit execute, no seccomp plugin', cmd: lxkit(rcWithout) },
    { name: 'lxkit execute, default policy (cached on disk)', cmd: lxkit(rcWith), baseline: 'lxkit execute, no seccomp plugin' },
    { name: 'lxc-execute, no seccomp (LXC)', cmd: lxc('') },
    { name: 'lxc-execute, common.seccomp (LXC)', cmd: lxc(LXC_POLICY), baseline: 'lxc-execute, no seccomp (LXC)' },
    { name: 'runc run, no seccomp', cmd: ['runc', 'run', '--bundle', plain, 'lxkit-bench-a'] },
    { name: 'runc run, the same rules', cmd: ['runc', 'run', '--bundle', confined, 'lxkit-bench-b'], baseline: 'runc run, no seccomp' },
  ];
  const cliStats = measure(cli, { runs });

  const libraryTable = markdownTable(library, libraryStats);
  const cliTable = markdownTable(cli, cliStats);
  const compileTable = markdownTable([{ name: compileStats.name, cmd: [] }, { name: jsStats.name, cmd: [] }], [compileStats, jsStats]);
  console.log(`${libraryTable}\n\n${cliTable}\n\n${compileTable}`);
  const delta = (a: string, b: string, from: Stats[]) => from.find((s) => s.name === a)!.median - from.find((s) => s.name === b)!.median;
  await writeRaw('security', { machine: machine(), runs, library: libraryStats, cli: cliStats, compile: compileStats, perStart: jsStats });
  await writeResults(
    'Confinement: what seccomp adds to a start (bench/security.ts)',
    `${machine()}; ${runs} runs per CLI case, ${withStart.length} paired rounds for the library rows; medians. The library rows start the same busybox container (empty network namespace) ` +
      'with two runtimes in one process, alternating: every built-in plugin, and the same without the seccomp plugin. With it, the ' +
      'default policy is read, hashed and found in the cache (compiled once), and the program is installed right before exec.\n\n' +
      libraryTable +
      `\n\nWhat seccomp adds to a start, the median of ${withStart.length} paired differences: ${libDelta.toFixed(2)} ms (target ≤ 0.5 ms: ${libDelta <= 0.5 ? '✓' : '✗ missed'}). ` +
      `The plugin's JavaScript accounts for ${jsStats.median.toFixed(2)} ms of it (table below); the rest is the child's seccomp() call ` +
      'installing the 33-instruction program right before exec, and the filter run on the syscalls of the exec that follows.\n\n' +
      'Side by side, each runtime with and without the same rules (LXC\'s default policy), interleaved: lxkit reads the compiled ' +
      'program from its disk cache in a new process; LXC compiles common.seccomp with libseccomp at every start; runc compiles its ' +
      'linux.seccomp rules at every start.\n\n' +
      cliTable +
      `\n\nseccomp's cost per start: lxkit ${delta('lxkit execute, default policy (cached on disk)', 'lxkit execute, no seccomp plugin', cliStats).toFixed(1)} ms, ` +
      `LXC ${delta('lxc-execute, common.seccomp (LXC)', 'lxc-execute, no seccomp (LXC)', cliStats).toFixed(1)} ms, ` +
      `runc ${delta('runc run, the same rules', 'runc run, no seccomp', cliStats).toFixed(1)} ms ` +
      '(the CLI rows include loading the plugin\'s code in a new Node process).\n\n' +
      'The first compile of the default policy (what a start pays once per policy text, libseccomp version and lxkit version), and the plugin\'s work on a cached start:\n\n' +
      compileTable,
  );
} finally {
  try {
    execFileSync('lxc-destroy', ['-P', lxcpath, '-n', 'bb', '-f'], { stdio: 'ignore' });
  } catch {
    // Not made.
  }
  for (const id of ['lxkit-bench-a', 'lxkit-bench-b']) {
    try {
      execFileSync('runc', ['delete', '-f', id], { stdio: 'ignore' });
    } catch {
      // Not left behind.
    }
  }
  await rm(dir, { recursive: true, force: true });
}
