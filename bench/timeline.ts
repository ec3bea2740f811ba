/**
 * Where one library execute(['/bin/true']) spends its time: the start's
 * timeline (LXKIT_TIMELINE, docs/timeline.md) over sequential executes of the
 * execute benchmark's container, as the median time of each step from the
 * start of execute(). Not a comparison: the map that says which step of
 * which process the start waits on, for work on issue 3's library target.
 *
 * The marks cost a few microseconds each, so these executes are not the
 * execute benchmark's; their total is shown for scale only.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Container, createRuntime } from '@lxkit/core';
import { machine, requireTools, writeResults } from './lib/harness.js';
import { lxcBusybox } from './lib/busybox.js';

const runs = Number(process.env['BENCH_TIMELINE_RUNS'] ?? 100);
const warmup = 5;
requireTools('timeline', ['lxc-create']);

const dir = await mkdtemp(join(tmpdir(), 'lxkit-bench-'));
const lxcpath = join(dir, 'lxc');
const file = join(dir, 'timeline');
// Read by lxkit's JavaScript at its first mark (after these lines), and inherited by the monitor it spawns.
Object.assign(process.env, { LXKIT_RUNDIR: join(dir, 'run'), LXKIT_TIMELINE: file });

/** What each step is: `who step` as the lines say it. */
const STEPS: Record<string, string> = {
  'node start': 'execute() called',
  'node locked': "the container's lock taken",
  'node monitor-spawned': 'the monitor asked for (posix_spawn on a libuv thread)',
  'monitor start': "the monitor's main() runs",
  'node spawning': "a thread of libuv's pool takes the monitor's posix_spawn",
  'node config': 'the config loaded and validated',
  'node serve': 'SERVE sent (the command socket), then the network namespace asked for',
  'monitor served': 'the command socket listens',
  'monitor netns': 'the network namespace: made ahead of the clone (as the monitor starts, when the config read last time wants one)…',
  'monitor netns-made': '…done (kernel work)',
  'monitor cgroups': 'the unified cgroup handed over (made in pre-start)',
  'node pre-start': 'pre-start taps done: CLONE sent (right behind SERVE), the cloning taps make the v1 cgroups',
  'node cloning': 'the cloning taps done (v1 cgroups handed over); pre-mount, mount, autodev and start taps queue the ops meanwhile',
  'monitor clone': 'CLONE read',
  'monitor cloned': 'clone3 done (new namespaces, into the unified cgroup), CLONED sent',
  'monitor cgroups#2': 'the first process moved into its v1 cgroups',
  'node cloned': 'the clone answered: the start-host taps run (the first process does not wait for them here)',
  'node batch': 'the one batch sent (every op, ending in the exec), right behind the clone request',
  'monitor batch': 'the batch read (it waited in the socket), and passed to the first process',
  'child batch': 'the first process starts the ops',
  'child pivot': 'mounts, devices, ttys done: pivot_root',
  'child exec': "the exec op: the init's set-up",
  'child command-runs': "the command exec'd (vfork returned)",
  'monitor child-eof': 'the first process\'s socket closed: RUNNING',
  'node running': 'RUNNING read',
  'monitor init-exited': 'the init exited (pidfd)',
  'monitor exited': 'EXITED sent; the monitor ends the container itself',
  'node exited': 'EXITED read',
  'monitor released': 'namespaces and ttys let go (the mount namespace torn down), on a thread beside the cgroups\' removal; STOPPED does not wait for it, nor does execute()',
  'monitor cgroups-removed': "the container's cgroups removed",
  'monitor stopped': 'STOPPED: the monitor answers and exits',
  'node stopped': 'execute() resolves',
};

try {
  await lxcBusybox(lxcpath, 'bb');
  const runtime = await createRuntime();
  for (let i = 0; i < warmup + runs; i++) {
    const exit = await new Container('bb', { lxcpath, runtime }).execute(['/bin/true']);
    if (exit.code !== 0) throw new Error(`execute exited ${exit.code}`);
  }

  // Executes, each from its `node start` line on; a step seen twice in one execute is `step#2`. A monitor's
  // lines go with the execute it started in: its namespaces' teardown may end after that execute resolved.
  const executes: { marks: Map<string, number>; t0: bigint }[] = [];
  const monitors = new Map<string, (typeof executes)[number]>();
  for (const line of (await readFile(file, 'utf8')).trim().split('\n')) {
    const [ns, pid, who, step] = line.split(' ') as [string, string, string, string];
    const t = BigInt(ns);
    if (who === 'node' && step === 'start') executes.push({ marks: new Map(), t0: t });
    const current = executes.at(-1);
    if (!current) continue;
    if (who === 'monitor' && step === 'start') monitors.set(pid, current);
    const { marks, t0 } = (who === 'monitor' && monitors.get(pid)) || current;
    let key = `${who} ${step}`;
    for (let n = 2; marks.has(key); n++) key = `${who} ${step}#${n}`;
    marks.set(key, Number(t - t0) / 1000);
  }
  const measured = executes.slice(warmup).map((e) => e.marks);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };
  const keys = [...new Set(measured.flatMap((m) => [...m.keys()]))];
  const rows = keys
    .map((k) => ({ k, at: median(measured.filter((m) => m.has(k)).map((m) => m.get(k)!)), seen: measured.filter((m) => m.has(k)).length }))
    .sort((a, b) => a.at - b.at);
  let previous = 0;
  const lines = rows.map(({ k, at, seen }) => {
    const [who, step] = k.split(' ') as [string, string];
    const row = `| ${who} | ${step} | ${at.toFixed(0)} | +${(at - previous).toFixed(0)} | ${STEPS[k] ?? ''}${seen < measured.length ? ` (${seen} of ${measured.length})` : ''} |`;
    previous = at;
    return row;
  });
  const table = ['| process | step | µs from start (median) | since the row above | what happened |', '|---|---|---:|---:|---|', ...lines].join('\n');
  console.log(table);

  // What makes a slow call: the executes split by their total into a faster and a slower half; for each
  // step, when it came in each half (mean µs from the call), and how far the slower half was behind by then.
  const total = (m: Map<string, number>) => m.get('node stopped')!;
  const byTotal = measured.filter((m) => m.has('node stopped')).sort((a, b) => total(a) - total(b));
  const faster = byTotal.slice(0, Math.floor(byTotal.length / 2));
  const slower = byTotal.slice(Math.floor(byTotal.length / 2));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const when = (half: Map<string, number>[], k: string) => mean(half.filter((m) => m.has(k)).map((m) => m.get(k)!));
  const halvesTable = [
    '| process | step | faster half: µs from start (mean) | slower half | slower half behind by |',
    '|---|---|---:|---:|---:|',
    ...rows
      .map(({ k }) => ({ k, f: when(faster, k), sl: when(slower, k) }))
      .filter(({ f, sl }) => Number.isFinite(f) && Number.isFinite(sl))
      .map(({ k, f, sl }) => {
        const [who, step] = k.split(' ') as [string, string];
        return `| ${who} | ${step} | ${f.toFixed(0)} | ${sl.toFixed(0)} | ${(sl - f).toFixed(0)} |`;
      }),
  ].join('\n');
  console.log(halvesTable);
  await writeResults(
    'Execute: the timeline of one start',
    `${runs} sequential library \`execute(['/bin/true'])\` calls (after ${warmup} warm-up calls) on the execute benchmark's container, with LXKIT_TIMELINE on (docs/timeline.md); ${machine()}; ${new Date().toISOString().slice(0, 10)}.\n\n` +
      `${table}\n\n` +
      'Each row is the median over the executes of when that step happened, from the call of execute(); "since the row above" is the difference of two medians, so it only approximates a step\'s own cost. ' +
      'The marks cost a few microseconds each: these totals are not the execute benchmark\'s. ' +
      'A row that follows one of another process shows a hand-over: the start waited there for that process (or for a CPU: the two of this machine are shared by Node, the monitor, the first process and the kernel\'s workers).\n\n' +
      `What makes a call slow: the same executes split by their total into the faster half (mean ${mean(faster.map(total)).toFixed(0)} µs) and the slower half (mean ${mean(slower.map(total)).toFixed(0)} µs), and how far behind the slower half was at each step:\n\n` +
      `${halvesTable}\n\n` +
      'Where the lag grows between two steps of one process, the slower calls took longer there: by as much as the step costs when it waited for a CPU (the pool\'s thread taking the spawn), by a share of it when the whole machine ran slower for a moment (this VM\'s speed moves within seconds).',
  );
} finally {
  execFileSync('lxc-destroy', ['-P', lxcpath, '-n', 'bb'], { stdio: 'ignore' });
  await rm(dir, { recursive: true, force: true });
}
