/**
 * System containers (issue 4), lxkit against LXC on busybox containers made
 * by LXC's own template, with one config (an empty network namespace):
 *
 *  1. a `start -d` + `stop -k` cycle, lxkit vs lxc-start/lxc-stop (target ≤ 1.0×),
 *     and the same cycle through the library API in one process;
 *  2. on running containers, `info` vs lxc-info and `attach -- /bin/true`
 *     vs lxc-attach, and both against a bare `node -e 0` (target ≤ +15 ms);
 *  3. density: N containers running (100 by default), the memory of their
 *     monitors (target ≤ 1.0 MB RSS each; LXC's is ~3 MB) and the memory
 *     used per idle container (target ≤ LXC's);
 *  4. N containers started at once through the library API (wall time,
 *     failures), with N concurrent lxc-start for scale.
 *
 * 1 and 2 are interleaved (harness.ts); 3 and 4 run LXC's side, then lxkit's.
 * BENCH_RUNS and BENCH_DENSITY change the sizes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, createRuntime } from '@lxkit/core';
import { writeChart } from './lib/chart.js';
import { benchEnv, machine, markdownTable, measure, measureSamples, ROOT, statsOf, verdicts, writeRaw, writeResults, type Case, requireTools } from './lib/harness.js';
import { lxcBusybox } from './lib/busybox.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 20);
const density = Number(process.env['BENCH_DENSITY'] ?? 100);
requireTools('lifecycle', ['lxc-create', 'lxc-start', 'lxc-stop', 'lxc-attach', 'lxc-info']);

const dir = await mkdtemp(join(tmpdir(), 'lxkit-bench-'));
const lxcpath = join(dir, 'lxc');
const rundir = join(dir, 'run');
process.env['LXKIT_RUNDIR'] = rundir;
// The launch plans the front records (and the CLI's code cache) live with the rest of the run, not in the user's ~/.cache.
process.env['XDG_CACHE_HOME'] = join(dir, 'cache');
const env = benchEnv();
const node = process.execPath;
const LXKIT = [node, join(ROOT, 'core/bin/lxkit.cjs')];
const lxkit = (...args: string[]) => [...LXKIT, args[0]!, '-P', lxcpath, '-q', ...args.slice(1)];
/** The same command through the lxkit command's C front, which replays it from the launch plan its first (warm-up) run recorded. */
const front = (...args: string[]) => [join(ROOT, 'native/build/Release/lxkit-front'), ...lxkit(...args).slice(LXKIT.length)];
const lxc = (tool: string, ...args: string[]) => [`lxc-${tool}`, '-P', lxcpath, ...args];
const sh = (cmd: readonly string[]) => execFileSync(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Every container made here; stopped and removed at the end whatever happens. */
const made: { name: string; by: 'lxc' | 'lxkit' }[] = [];

function stopAll(): void {
  for (const { name, by } of made) {
    try {
      if (by === 'lxc') execFileSync('lxc-stop', ['-P', lxcpath, '-n', name, '-k'], { stdio: 'ignore' });
      else execFileSync(LXKIT[0]!, [...LXKIT.slice(1), 'stop', '-P', lxcpath, '-n', name, '-k', '-q'], { env, stdio: 'ignore' });
    } catch {
      // Not running.
    }
  }
}

/** One busybox container from LXC's template, with the benchmark's config; `rootfs` shares another's. */
async function container(name: string, by: 'lxc' | 'lxkit', rootfs?: string): Promise<void> {
  made.push({ name, by });
  if (rootfs) {
    await mkdir(join(lxcpath, name), { recursive: true });
    const base = await readFile(join(lxcpath, 'lb', 'config'), 'utf8');
    await writeFile(
      join(lxcpath, name, 'config'),
      base.replace(/^lxc\.rootfs\.path = .*$/m, `lxc.rootfs.path = dir:${rootfs}`).replace(/^lxc\.uts\.name = .*$/m, `lxc.uts.name = ${name}`),
    );
    return;
  }
  await lxcBusybox(lxcpath, name, { env });
}

/** Pids of `pid` and every process below it. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // Gone.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** A "Key:   N kB" field of a /proc file. */
const field = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);

/** Rss and Pss of a process, in kB (smaps_rollup). */
function memory(pid: number): { rss: number; pss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: field(t, 'Rss'), pss: field(t, 'Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Memory in use on the host, kB, as free(1) counts it: neither free nor page cache nor reclaimable slab. */
function memUsed(): number {
  const t = readFileSync('/proc/meminfo', 'utf8');
  return ['MemFree', 'Buffers', 'Cached', 'SReclaimable'].reduce((used, k) => used - field(t, k), field(t, 'MemTotal'));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The monitor's pid of a running container: LXC's "[lxc monitor]" process, lxkit's lxkit-monitor (the init's parent). */
function monitorPid(by: 'lxc' | 'lxkit', init: number): number {
  const stat = readFileSync(`/proc/${init}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function initPid(by: 'lxc' | 'lxkit', name: string): number {
  const out = by === 'lxc' ? sh(lxc('info', '-n', name, '-p', '-H')) : sh(lxkit('info', '-n', name, '-p'));
  return Number(/(\d+)\s*$/.exec(out.trim())?.[1]);
}

interface DensityResult {
  readonly by: 'lxc' | 'lxkit';
  readonly containers: number;
  /** Median per container, kB. */
  readonly monitorRss: number;
  readonly monitorPss: number;
  /** Median PSS of everything a container is (monitor and every process in it), kB. */
  readonly containerPss: number;
  /** The host's memory in use, growth per container, kB (kernel objects too: namespaces, mounts, cgroups, page tables). */
  readonly hostPer: number;
}

async function densityRun(by: 'lxc' | 'lxkit', names: string[]): Promise<DensityResult> {
  execFileSync('sync');
  await sleep(500);
  const before = memUsed();
  for (const n of names) sh(by === 'lxc' ? lxc('start', '-n', n, '-d') : lxkit('start', '-n', n));
  await sleep(3000); // inits, syslogd and gettys settled
  const after = memUsed();
  const per = names.map((n) => {
    const init = initPid(by, n);
    const mon = monitorPid(by, init);
    const m = memory(mon);
    const all = tree(mon).reduce((sum, p) => sum + memory(p).pss, 0);
    return { rss: m.rss, pss: m.pss, all };
  });
  for (const n of names) sh(by === 'lxc' ? lxc('stop', '-n', n, '-k') : lxkit('stop', '-n', n, '-k'));
  return {
    by,
    containers: names.length,
    monitorRss: median(per.map((p) => p.rss)),
    monitorPss: median(per.map((p) => p.pss)),
    containerPss: median(per.map((p) => p.all)),
    hostPer: (after - before) / names.length,
  };
}

/** Runs `cmds` all at once; resolves with the wall time and how many failed. */
function concurrently(cmds: readonly (readonly string[])[]): Promise<{ ms: number; failed: number }> {
  const t = process.hrtime.bigint();
  return Promise.all(
    cmds.map(
      (c) =>
        new Promise<boolean>((resolve) => {
          const p = spawn(c[0]!, c.slice(1), { env, stdio: 'ignore' });
          p.on('exit', (code) => resolve(code === 0));
          p.on('error', () => resolve(false));
        }),
    ),
  ).then((oks) => ({ ms: Number(process.hrtime.bigint() - t) / 1e6, failed: oks.filter((ok) => !ok).length }));
}

try {
  await container('lb', 'lxc');
  await container('kb', 'lxkit');

  // 1. Start-stop cycles.
  const cycle: Case[] = [
    { name: 'lxc-start -d + lxc-stop -k (LXC)', cmd: lxc('start', '-n', 'lb', '-d'), then: [lxc('stop', '-n', 'lb', '-k')] },
    {
      name: 'lxkit start -d + stop -k',
      cmd: front('start', '-n', 'kb'),
      then: [front('stop', '-n', 'kb', '-k')],
      baseline: 'lxc-start -d + lxc-stop -k (LXC)',
      target: 'x1.0',
    },
    {
      name: 'lxkit start -d + stop -k, Node CLI',
      cmd: lxkit('start', '-n', 'kb'),
      then: [lxkit('stop', '-n', 'kb', '-k')],
      baseline: 'lxc-start -d + lxc-stop -k (LXC)',
    },
    { name: 'node -e 0, twice (for scale)', cmd: [node, '-e', '0'], then: [[node, '-e', '0']] },
  ];
  const cycleStats = measure(cycle, { runs });

  // The same cycle through the library API, in one process: the container work without two Node starts.
  const runtime = await createRuntime();
  const lib = new Container('kb', { lxcpath, runtime });
  const libSamples: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    await lib.start();
    await lib.stop({ kill: true });
    if (i >= 3) libSamples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  libSamples.sort((a, b) => a - b);
  const q = (p: number) => libSamples[Math.round((libSamples.length - 1) * p)]!;
  cycleStats.push({ name: 'lxkit library start() + stop({ kill })', runs: libSamples.length, median: q(0.5), p10: q(0.1), p90: q(0.9), min: libSamples[0]! });
  cycle.push({ name: 'lxkit library start() + stop({ kill })', cmd: [], baseline: 'lxc-start -d + lxc-stop -k (LXC)' });

  // 2. Commands on running containers.
  sh(lxc('start', '-n', 'lb', '-d'));
  sh(lxkit('start', '-n', 'kb'));
  const commands: Case[] = [
    { name: 'node -e 0', cmd: [node, '-e', '0'] },
    { name: 'lxkit info', cmd: lxkit('info', '-n', 'kb'), baseline: 'node -e 0' },
    { name: 'lxc-info (LXC)', cmd: lxc('info', '-n', 'lb') },
    { name: 'lxkit attach -- /bin/true', cmd: front('attach', '-n', 'kb', '--', '/bin/true'), baseline: 'node -e 0' },
    { name: 'lxkit attach -- /bin/true, Node CLI', cmd: lxkit('attach', '-n', 'kb', '--', '/bin/true'), baseline: 'node -e 0' },
    { name: 'lxc-attach -- /bin/true (LXC)', cmd: lxc('attach', '-n', 'lb', '--', '/bin/true') },
  ];
  const commandSamples = measureSamples(commands, { runs: runs * 2 });
  const commandStats = commands.map((c) => statsOf(c.name, commandSamples.get(c.name)!));
  // The target is a difference: measured within each round (every command once, in a new order),
  // so that the machine's drift over the minutes of the run cancels out.
  const bare = commandSamples.get('node -e 0')!;
  const aboveNode = ['lxkit info', 'lxkit attach -- /bin/true', 'lxkit attach -- /bin/true, Node CLI'].map((name) => {
    const above = statsOf(name, commandSamples.get(name)!.map((ms, i) => ms - bare[i]!)).median;
    return { name, above, met: above <= 15, target: !name.endsWith('Node CLI') };
  });
  sh(lxc('stop', '-n', 'lb', '-k'));
  sh(lxkit('stop', '-n', 'kb', '-k'));

  // 3. Density, on the rootfs of lb (one copy for all).
  const shared = join(lxcpath, 'lb', 'rootfs');
  const lxcNames = Array.from({ length: density }, (_, i) => `dl${i}`);
  const lxkitNames = Array.from({ length: density }, (_, i) => `dk${i}`);
  for (const n of lxcNames) await container(n, 'lxc', shared);
  for (const n of lxkitNames) await container(n, 'lxkit', shared);
  const dense = [await densityRun('lxc', lxcNames), await densityRun('lxkit', lxkitNames)];

  // 4. Concurrent starts: LXC's CLI, then lxkit's library in one process.
  const lxcConcurrent = await concurrently(lxcNames.map((n) => lxc('start', '-n', n, '-d')));
  await concurrently(lxcNames.map((n) => lxc('stop', '-n', n, '-k')));
  const t = process.hrtime.bigint();
  const started = await Promise.allSettled(lxkitNames.map((n) => new Container(n, { lxcpath, runtime }).start()));
  const libraryMs = Number(process.hrtime.bigint() - t) / 1e6;
  const failures = started.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  const runningAfter = (await Promise.all(lxkitNames.map((n) => new Container(n, { lxcpath, runtime }).state()))).filter((s) => s === 'RUNNING').length;
  await Promise.all(lxkitNames.map((n) => new Container(n, { lxcpath, runtime }).stop({ kill: true }).catch(() => undefined)));

  const cycleTable = markdownTable(cycle, cycleStats);
  const commandTable =
    markdownTable(commands, commandStats) +
    '\n\n| command | above `node -e 0`, median of the per-round differences | target |\n|---|---:|---|\n' +
    aboveNode.map((a) => `| ${a.name} | ${a.above >= 0 ? '+' : ''}${a.above.toFixed(1)} ms | ${a.target ? `≤ +15 ms ${a.met ? '✓' : '✗ missed'}` : ''} |`).join('\n');
  console.log(cycleTable + '\n\n' + commandTable);
  const [l, k] = dense as [DensityResult, DensityResult];
  const mb = (kb: number) => `${(kb / 1024).toFixed(2)} MB`;
  const ok = (met: boolean) => (met ? '✓' : '✗ missed');
  const densityTable = [
    '| per running container (median) | LXC | lxkit | ratio | target |',
    '|---|---:|---:|---:|---|',
    `| monitor RSS | ${mb(l.monitorRss)} | ${mb(k.monitorRss)} | ${(k.monitorRss / l.monitorRss).toFixed(2)}× | ≤ 1.0 MB ${ok(k.monitorRss <= 1024)} |`,
    `| monitor PSS | ${mb(l.monitorPss)} | ${mb(k.monitorPss)} | ${(k.monitorPss / l.monitorPss).toFixed(2)}× | |`,
    `| PSS of the monitor and every process of the container | ${mb(l.containerPss)} | ${mb(k.containerPss)} | ${(k.containerPss / l.containerPss).toFixed(2)}× | ≤ LXC ${ok(k.containerPss <= l.containerPss)} |`,
    `| host memory in use, growth (kernel objects included) | ${mb(l.hostPer)} | ${mb(k.hostPer)} | ${(k.hostPer / l.hostPer).toFixed(2)}× | ≤ LXC ${ok(k.hostPer <= l.hostPer)} |`,
  ].join('\n');
  console.log('\n' + densityTable);
  const concurrentText =
    `${density} containers started at once: lxkit's library API (one process, Promise.all of Container.start()) ${libraryMs.toFixed(0)} ms wall time, ` +
    `${failures.length} failed, ${runningAfter} RUNNING afterwards; ${density} concurrent \`lxc-start -d\` processes (for scale) ${lxcConcurrent.ms.toFixed(0)} ms, ${lxcConcurrent.failed} failed.` +
    (failures.length ? ` First failure: ${String(failures[0]!.reason?.message ?? failures[0]!.reason)}` : '');
  console.log('\n' + concurrentText);

  await writeChart(join(ROOT, 'bench/lifecycle.png'), 'System containers: lxkit and LXC (median ms)', [...cycleStats, ...commandStats]);
  await writeRaw('lifecycle', {
    aboveNode,
    machine: machine(),
    date: new Date().toISOString(),
    cycle: cycleStats,
    commands: commandStats,
    density: dense,
    concurrent: { containers: density, libraryMs, failures: failures.length, runningAfter, lxc: lxcConcurrent },
  });
  const missed = [
    ...verdicts([...cycle, ...commands], [...cycleStats, ...commandStats]).filter((v) => !v.met),
    ...aboveNode.filter((a) => a.target && !a.met).map((a) => ({ name: a.name, target: '+15ms vs node -e 0, paired' })),
  ];
  await writeResults(
    'System containers: start/stop, info, attach, density',
    `Busybox containers made by \`lxc-create -t busybox\`, the same config for LXC and lxkit (an empty network namespace); ` +
      `${runs} interleaved cycles and ${runs * 2} interleaved runs of each command after 3 warm-up runs; NODE_EXTRA_CA_CERTS unset; ${machine()}; ${new Date().toISOString().slice(0, 10)}.\n\n` +
      `### Start and stop\n\n${cycleTable}\n\n### Commands on a running container\n\n${commandTable}\n\n` +
      `### Density: ${density} idle containers\n\n${densityTable}\n\n### Concurrent starts\n\n${concurrentText}\n\n` +
      'Notes. Both make a cgroup per container in every hierarchy and apply the same capability drop and seccomp policy (LXC\'s ' +
      'common.conf; lxkit\'s built-in plugins). When a container ends, lxkit\'s monitor ends it alone unless something needs ' +
      'lxkit\'s stop work (a Node process): here nothing does. ' +
      '`lxkit start -d`, `stop -k` and `attach` are the lxkit command\'s C front (native/src/front) replaying the launch plans their first runs (warm-ups) recorded: ' +
      'the files each run consulted are checked to be unchanged, then the start\'s cgroups, lock, monitor and frames are redone and the container left to its monitor; ' +
      'the stop\'s lxc-stop conversation on the command socket and the attach\'s lxkit-attach request are redone the same way, without Node (docs/launch-plans.md). ' +
      'The Node CLI rows are what each run costs without a plan: two Node starts for a cycle (~2 × `node -e 0`), more than lxc-start and lxc-stop together. ' +
      'The library row is the same cycle without any process start (one process, sequential, SIGKILL stop like `-k`).\n\n![lifecycle](lifecycle.png)',
  );
  for (const m of missed) console.error(`target missed: ${m.name} (${m.target})`);
} finally {
  stopAll();
  await rm(dir, { recursive: true, force: true });
}
