/**
 * Cgroups (issue 5), on busybox containers made by LXC's own template with
 * one config (an empty network namespace):
 *
 *  1. what the cgroup plugin adds to a start through the library API: the
 *     same container started (and, separately, stopped) by a runtime with
 *     every built-in plugin and by one without the cgroup plugin, in every
 *     hierarchy of the host and in the unified one alone, and what mounting
 *     the hierarchies in the container adds, paired rounds in one process
 *     (target: ≤ 1 ms per start);
 *  2. a freeze + unfreeze round trip: lxkit freeze/unfreeze against
 *     lxc-freeze/lxc-unfreeze on running containers, interleaved, and the
 *     same round trip through the library API.
 *
 * BENCH_RUNS changes the sizes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_PLUGINS, Container, createRuntime, type Runtime } from '@lxkit/core';
import { benchEnv, machine, markdownTable, measure, ROOT, statsOf, elapsed, writeRaw, writeResults, type Case, type Stats, requireTools } from './lib/harness.js';
import { lxcBusybox } from './lib/busybox.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 30);
requireTools('cgroup', ['lxc-create', 'lxc-start', 'lxc-stop', 'lxc-freeze', 'lxc-unfreeze']);

const dir = await mkdtemp(join(tmpdir(), 'lxkit-bench-'));
const lxcpath = join(dir, 'lxc');
const rundir = join(dir, 'run');
process.env['LXKIT_RUNDIR'] = rundir;
const env = { ...benchEnv(), LXKIT_RUNDIR: rundir };
const LXKIT = [process.execPath, join(ROOT, 'core/bin/lxkit.cjs')];
const lxkit = (...args: string[]) => [...LXKIT, args[0]!, '-P', lxcpath, '-q', ...args.slice(1)];
const lxc = (tool: string, ...args: string[]) => [`lxc-${tool}`, '-P', lxcpath, ...args];
const sh = (cmd: readonly string[]) => execFileSync(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const made: { name: string; by: 'lxc' | 'lxkit' }[] = [];

async function container(name: string, by: 'lxc' | 'lxkit'): Promise<void> {
  made.push({ name, by });
  await lxcBusybox(lxcpath, name, { env });
}

try {
  await container('lb', 'lxc');
  await container('kb', 'lxkit');

  // 1. Start and stop with and without the cgroup plugin, alternating, on configs without and with cgroup mounts.
  const all = await createRuntime();
  const without = await createRuntime({ plugins: Object.keys(BUILTIN_PLUGINS).filter((p) => p !== 'cgmanager').map((use) => ({ use })) });
  // lxc.cgroup.use naming no controller leaves every v1 hierarchy out: the unified one alone, as on a cgroup2-only host.
  const unifiedOnly = await createRuntime({ toolkit: { ...all.toolkit, cgroup: { ...all.toolkit.cgroup, use: 'none' } } });
  const kbConfig = join(lxcpath, 'kb', 'config');
  const withMounts = await readFile(kbConfig, 'utf8');
  // LXC's template mounts the cgroup hierarchies (cgroup:mixed): a cost of its own, measured apart.
  const noMounts = withMounts.replace(/^lxc\.mount\.auto = .*$/m, 'lxc.mount.auto = proc:mixed sys:ro');
  const variants = [
    { runtime: without, config: noMounts, name: 'library start(), no cgroup plugin' },
    { runtime: all, config: noMounts, name: 'library start(), cgroup plugin: every hierarchy of this hybrid host' },
    { runtime: unifiedOnly, config: noMounts, name: 'library start(), cgroup plugin: the unified hierarchy alone' },
    { runtime: all, config: withMounts, name: 'library start(), cgroup plugin, with lxc.mount.auto = cgroup:mixed' },
  ];
  const starts = variants.map(() => [] as number[]);
  const stops = variants.map(() => [] as number[]);
  // Paired: each round runs every variant once (in a rotating order); the cost is the median of the
  // per-round differences, which load on the machine shifts less than it shifts the medians themselves.
  for (let i = 0; i < runs * 6 + 3; i++) {
    for (let k = 0; k < variants.length; k++) {
      const j = (i + k) % variants.length;
      const v = variants[j]!;
      await writeFile(kbConfig, v.config);
      const c = new Container('kb', { lxcpath, runtime: v.runtime });
      const a = await elapsed(() => c.start());
      const b = await elapsed(() => c.stop({ kill: true }));
      if (i >= 3) {
        starts[j]!.push(a);
        stops[j]!.push(b);
      }
    }
  }
  await writeFile(kbConfig, withMounts);
  const pairedMedian = (a: number[], b: number[]) => statsOf('', a.map((x, i) => x - b[i]!)).median;
  const setup: Case[] = [
    { name: variants[0]!.name, cmd: [] },
    { name: variants[1]!.name, cmd: [], baseline: variants[0]!.name },
    { name: variants[2]!.name, cmd: [], baseline: variants[0]!.name },
    { name: variants[3]!.name, cmd: [], baseline: variants[1]!.name },
    { name: 'library stop({ kill }), no cgroup plugin', cmd: [] },
    { name: 'library stop({ kill }), cgroup plugin: every hierarchy', cmd: [], baseline: 'library stop({ kill }), no cgroup plugin' },
  ];
  const setupStats = [...variants.map((v, j) => statsOf(v.name, starts[j]!)), statsOf(setup[4]!.name, stops[0]!), statsOf(setup[5]!.name, stops[1]!)];
  const paired = {
    hybrid: pairedMedian(starts[1]!, starts[0]!),
    unified: pairedMedian(starts[2]!, starts[0]!),
    mounts: pairedMedian(starts[3]!, starts[1]!),
  };

  // 2. Freeze + unfreeze on running containers.
  sh(lxc('start', '-n', 'lb', '-d'));
  sh(lxkit('start', '-n', 'kb'));
  const freeze: Case[] = [
    { name: 'lxc-freeze + lxc-unfreeze (LXC)', cmd: lxc('freeze', '-n', 'lb'), then: [lxc('unfreeze', '-n', 'lb')] },
    {
      name: 'lxkit freeze + unfreeze',
      cmd: lxkit('freeze', '-n', 'kb'),
      then: [lxkit('unfreeze', '-n', 'kb')],
      baseline: 'lxc-freeze + lxc-unfreeze (LXC)',
    },
  ];
  const freezeStats = measure(freeze, { runs });
  const lib = new Container('kb', { lxcpath, runtime: all });
  const libFreeze: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const ms = await elapsed(async () => {
      await lib.freeze();
      await lib.unfreeze();
    });
    if (i >= 3) libFreeze.push(ms);
  }
  freeze.push({ name: 'lxkit library freeze() + unfreeze()', cmd: [], baseline: 'lxc-freeze + lxc-unfreeze (LXC)' });
  freezeStats.push(statsOf('lxkit library freeze() + unfreeze()', libFreeze));
  sh(lxc('stop', '-n', 'lb', '-k'));
  sh(lxkit('stop', '-n', 'kb', '-k'));

  const setupTable = markdownTable(setup, setupStats);
  const freezeTable = markdownTable(freeze, freezeStats);
  console.log(setupTable + '\n\n' + freezeTable);
  await writeRaw('cgroup', { machine: machine(), runs, setup: setupStats, paired, freeze: freezeStats });
  await writeResults(
    'Cgroups (bench/cgroup.ts)',
    `${machine()}; ${starts[0]!.length} paired rounds for the start and stop rows, ${runs} runs per freeze case; medians. The cgroup plugin's cost is the difference between two runtimes ` +
      'starting the same container in one process, alternating (the cgroupfs driver makes the container\'s and the monitor\'s cgroups ' +
      'in every hierarchy of this hybrid host, moves the monitor, and the monitor removes them at the end).\n\n' +
      setupTable +
      `\n\nPaired medians (each round runs every variant once, the cost is the median of the per-round differences): ` +
      `the cgroup setup adds ${paired.hybrid.toFixed(2)} ms with every hierarchy of this hybrid host (target ≤ 1 ms: ${paired.hybrid <= 1 ? '✓' : '✗ missed'}), ` +
      `${paired.unified.toFixed(2)} ms with the unified hierarchy alone (${paired.unified <= 1 ? '✓' : '✗ missed'}); mounting the hierarchies in the container ` +
      `(lxc.mount.auto = cgroup:mixed) adds ${paired.mounts.toFixed(2)} ms more.\n\n` +
      'What a start waits for: the container\'s cgroup made in each hierarchy (10 here: nine v1 hierarchies and the unified ' +
      'one; ~0.05 ms of kernel time per mkdir), its limits written, the hand-over to the monitor (a message without a reply), and ' +
      'the monitor\'s entry into the nine v1 cgroups right before the clone (a v1 hierarchy has no CLONE_INTO_CGROUP; ~0.03 ms per ' +
      'migration) — about 0.8 ms of kernel work on this host that no runtime can skip, LXC included. The monitor\'s own cgroups ' +
      '(lxc.monitor.NAME) are made and entered by the monitor after the start has returned, once nothing has needed it for 5 ms ' +
      '(a stop that comes sooner, as here, spares that work: ~0.8 ms more of kernel time on this host when it happens). On the ' +
      'unified hierarchy alone, one mkdir and CLONE_INTO_CGROUP are all there is. A stop includes removing the cgroups (the ' +
      'monitor removes them, waiting for the kernel to let go of each, before it reports STOPPED).' +
      '\n\nA freeze and an unfreeze of a running busybox container (each command waits until the freezer reports FROZEN, as LXC\'s do):\n\n' +
      freezeTable,
  );
} finally {
  for (const { name, by } of made) {
    try {
      if (by === 'lxc') execFileSync('lxc-stop', ['-P', lxcpath, '-n', name, '-k'], { stdio: 'ignore' });
      else execFileSync(LXKIT[0]!, [...LXKIT.slice(1), 'stop', '-P', lxcpath, '-n', name, '-k', '-q'], { env, stdio: 'ignore' });
    } catch {
      // Not running.
    }
    try {
      execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'], { stdio: 'ignore' });
    } catch {
      // Gone.
    }
  }
  await rm(dir, { recursive: true, force: true });
}
