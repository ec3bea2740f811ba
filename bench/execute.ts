/**
 * Application containers: `lxkit execute -- /bin/true` against LXC's
 * lxc-execute and `runc run`, on the same busybox rootfs with no network
 * (an empty network namespace) in all three, interleaved in one run; and the
 * library API doing sequential execute(['/bin/true']) from one Node process.
 * The C front's runs less a bare spawn paired with them give the same start
 * without Node: the floor under any start made from Node on this machine.
 *
 * Targets (issue 3): CLI execute ≤ 1.0× lxc-execute; library execute ≤ 5 ms
 * median per container and ≤ 0.25× runc run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, createRuntime } from '@lxkit/core';
import { writeChart } from './lib/chart.js';
import { benchEnv, machine, markdownTable, measureSamples, ROOT, statsOf, writeRaw, writeResults, type Case, type Stats, requireTools } from './lib/harness.js';
import { lxcBusybox } from './lib/busybox.js';
import { cpuBetween, cpuSnapshot, type CpuSnapshot } from './lib/cpu.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 30);
const SPAWN = 'a bare spawn (static busybox true, for the floor)';
const NO_NODE = 'lxkit execute less the bare spawn (no Node)';
const libraryRuns = Number(process.env['BENCH_LIBRARY_RUNS'] ?? 100);
requireTools('execute', ['lxc-create', 'lxc-execute', 'runc']);

const dir = await mkdtemp(join(tmpdir(), 'lxkit-bench-'));
const lxcpath = join(dir, 'lxc');
process.env['LXKIT_RUNDIR'] = join(dir, 'run');
// The launch plans the front records (and the CLI's code cache) live with the rest of the run, not in the user's ~/.cache.
const env = { ...benchEnv(), LXKIT_RUNDIR: join(dir, 'run'), XDG_CACHE_HOME: join(dir, 'cache') };
try {
  // One busybox container made by LXC's own template; the same rootfs and config for all.
  await lxcBusybox(lxcpath, 'bb');
  const rootfs = join(lxcpath, 'bb', 'rootfs');

  // runc: a bundle on the same rootfs, spec'd by runc itself, running /bin/true without a terminal.
  const bundle = join(dir, 'bundle');
  execFileSync('mkdir', ['-p', bundle]);
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
  };
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root = { path: rootfs, readonly: true };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));

  const node = process.execPath;
  const cases: Case[] = [
    { name: 'lxc-execute (LXC)', cmd: ['lxc-execute', '-P', lxcpath, '-n', 'bb', '--', '/bin/true'] },
    // The lxkit command's C front: after the first (warm-up) run recorded its launch plan, it replays it without Node.
    { name: 'lxkit execute', cmd: [join(ROOT, 'native/build/Release/lxkit-front'), 'execute', '-P', lxcpath, '-n', 'bb', '-q', '--', '/bin/true'], baseline: 'lxc-execute (LXC)', target: 'x1.0' },
    { name: 'lxkit execute, Node CLI', cmd: [node, join(ROOT, 'core/bin/lxkit.cjs'), 'execute', '-P', lxcpath, '-n', 'bb', '-q', '--', '/bin/true'], baseline: 'lxc-execute (LXC)' },
    { name: 'runc run', cmd: ['runc', 'run', '--bundle', bundle, 'lxkit-bench'] },
    { name: 'node -e 0 (for scale)', cmd: [node, '-e', '0'] },
    // What spawning a static program costs this harness, paired with the front's runs: the difference is the front's own time.
    { name: SPAWN, cmd: [join(rootfs, 'bin/busybox'), 'true'] },
  ];
  Object.assign(process.env, { LXKIT_RUNDIR: env.LXKIT_RUNDIR, XDG_CACHE_HOME: env.XDG_CACHE_HOME });
  // Half of the command runs before the library's, half after: this machine's speed drifts by up
  // to a quarter over minutes, and runc's median then spans the library's time as well.
  const before = measureSamples(cases, { runs: Math.ceil(runs / 2) });

  // The library: one runtime, sequential containers, timed in process.
  const runtime = await createRuntime();
  const samples: number[] = [];
  let cpuFrom: CpuSnapshot | undefined;
  for (let i = 0; i < libraryRuns + 5; i++) {
    if (i === 5) cpuFrom = cpuSnapshot();
    const t = process.hrtime.bigint();
    const exit = await new Container('bb', { lxcpath, runtime }).execute(['/bin/true']);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (exit.code !== 0) throw new Error(`library execute exited ${exit.code}`);
    if (i >= 5) samples.push(ms);
  }
  const cpu = cpuBetween(cpuFrom!, cpuSnapshot(), libraryRuns);
  samples.sort((a, b) => a - b);
  const after = measureSamples(cases, { runs: Math.floor(runs / 2), warmup: 0 });
  const stats = cases.map((c) => statsOf(c.name, [...before.get(c.name)!, ...after.get(c.name)!]));
  // The same start without Node: each front run less the bare spawn of the same round (measureSamples runs every case once per round).
  const paired = [before, after].flatMap((m) => m.get('lxkit execute')!.map((ms, i) => ms - m.get(SPAWN)![i]!));
  const noNode = statsOf(NO_NODE, paired);
  const q = (p: number) => samples[Math.round((samples.length - 1) * p)]!;
  const library: Stats = { name: 'lxkit library execute()', runs: samples.length, median: q(0.5), p10: q(0.1), p90: q(0.9), min: samples[0]! };
  const runc = stats.find((s) => s.name === 'runc run')!;
  const all = [...stats, noNode, library];
  const allCases: Case[] = [...cases, { name: NO_NODE, cmd: [] }, { name: library.name, cmd: [], baseline: 'runc run', target: 'x0.25' }];

  const table = markdownTable(allCases, all);
  console.log(table);
  const libMet = library.median <= 5;
  await writeChart(join(ROOT, 'bench/execute.png'), 'Run /bin/true in a busybox container (median ms)', all);
  await writeRaw('execute', { machine: machine(), date: new Date().toISOString(), stats: all });
  await writeResults(
    'Application containers: execute /bin/true',
    `${runs} interleaved runs per command (after 3 warm-up runs; half before the library calls, half after), ${libraryRuns} sequential library calls; the same busybox rootfs (made by lxc-create -t busybox) and config for all, with an empty network namespace; ${machine()}; ${new Date().toISOString().slice(0, 10)}.\n\n` +
      `${table}\n\n` +
      `Library execute: median ${library.median.toFixed(1)} ms per container (target ≤ 5 ms: ${libMet ? '✓' : '✗ missed'}), ${(library.median / runc.median).toFixed(2)}× runc run (target ≤ 0.25×: ${library.median / runc.median <= 0.25 ? '✓' : '✗ missed'}).\n\n` +
      `**The same start without Node: ${noNode.median.toFixed(1)} ms** (${NO_NODE}: each run of the front less the bare spawn of a static program in the same round, median of the ${paired.length} differences). ` +
      'That is the container\'s own work with no JavaScript at all — the lock, the cgroups, the monitor, the network namespace, the clone, the mounts, the command, the clean-up — plus the front\'s check of the ~90 files and /proc entries its plan lists: ' +
      `a start from Node would pay the same work however little JavaScript it ran. The library spends ${(library.median - noNode.median).toFixed(1)} ms above it. Most of the start sequence's JavaScript runs beside the kernel's work: pre-start while the monitor makes the network namespace, the ops' taps while it clones (the batch goes right behind the clone request). What is above the floor comes from a start made inside a Node process — the monitor spawned from a pool thread of a large process, the wake-ups through libuv, the CPUs shared with Node's own threads, the cgroups Node makes on its thread before the first process may run — and from the floor's own model (a bare spawn stands for the front's start-up). The same launch plan replayed inside a Node process by the addon, with none of that JavaScript, measured no faster than the library before the batch went behind the clone request (docs/launch-plans.md, "Not in the library").\n\n` +
      `CPU time of the machine during the ${libraryRuns} library calls, per call (from /proc/stat and this process's threads): ` +
      `**${cpu.busy.toFixed(1)} ms** — Node's main thread ${cpu.main.toFixed(1)} ms, its other threads (V8's compiler and garbage collector, libuv) ${cpu.threads.toFixed(1)} ms, ` +
      `everything else ${cpu.others.toFixed(1)} ms (the monitor, the container's processes, and the kernel's workers finishing each container's teardown: network namespace clean-up, cgroup release, RCU callbacks); ` +
      `the CPUs were idle ${(cpu.idleShare * 100).toFixed(0)}% of the time${cpu.stealShare >= 0.005 ? `, and the hypervisor took ${(cpu.stealShare * 100).toFixed(0)}%` : ''}. ` +
      `On ${cpu.cpus} CPUs, calls made one after the other cannot take less than ${cpu.floor.toFixed(1)} ms each, however the work is ordered.\n\n` +
      '`lxkit execute` is the lxkit command\'s C front (native/src/front) replaying the launch plan that its first run (a warm-up) recorded: ' +
      'the files the run consulted are checked to be unchanged, then its cgroups, lock, monitor and the frames sent to the monitor are redone, without Node (docs/launch-plans.md). ' +
      'The Node CLI row is what every run costs without a plan: starting Node alone (`node -e 0`) costs more than lxc-execute\'s whole run. ' +
      'Above `node -e 0`, the Node CLI spends its time running lxkit\'s JavaScript for the first time in the process (loading the CommonJS bundles and the built-in plugins, validating the config, the start sequence), ' +
      'which the CLI\'s V8 code cache (core/bin/lxkit.cjs) shortens but cannot remove, plus the container work of the library row. ' +
      'That row is the container work alone: the kernel\'s part (a new network namespace alone takes ~0.7 ms here; the mounts, pivot_root, the detach of the old root, exec) ' +
      'and lxkit\'s (the start sequence\'s JavaScript, the monitor\'s posix_spawn, one round trip to the container\'s first process — the clone request with the batch of every op ending in the exec right behind it — and the exit report).\n\n![execute](execute.png)',
  );
} finally {
  execFileSync('lxc-destroy', ['-P', lxcpath, '-n', 'bb'], { stdio: 'ignore' });
  await rm(dir, { recursive: true, force: true });
}
