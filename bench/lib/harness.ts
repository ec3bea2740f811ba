/**
 * Benchmark harness: commands measured side by side in one process,
 * interleaved (every round runs each case once, in a shuffled order) so that
 * load on the machine hits all cases alike. Results are medians and ratios;
 * nothing here asserts timings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Case {
  readonly name: string;
  readonly cmd: readonly string[];
  /** Commands run right after `cmd`, timed with it (a start and its stop: one cycle). */
  readonly then?: readonly (readonly string[])[];
  /** What this case is compared with (another case's name), for the ratio column. */
  readonly baseline?: string;
  /** A limit the median must stay under, relative to the baseline: `+15ms` or `x1.0`. */
  readonly target?: string;
}

export interface Stats {
  readonly name: string;
  readonly runs: number;
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  readonly min: number;
}

/** Ends the benchmark (exit 0, with a line saying why) when one of `tools` is not installed. */
export function requireTools(bench: string, tools: readonly string[]): void {
  const missing = tools.filter((t) => !['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, t))));
  if (missing.length === 0) return;
  console.error(`bench/${bench}: skipped, not installed: ${missing.join(', ')} (npm run setup installs them)`);
  process.exit(0);
}

/** The environment benchmarks run in: the workplace's NODE_EXTRA_CA_CERTS costs ~70 ms per Node start. */
export function benchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Wall time of one run of `cmd` (and the commands after it), in milliseconds; throws when one fails. */
export function timeOnce(cmd: readonly string[], env = benchEnv(), then: readonly (readonly string[])[] = []): number {
  const start = process.hrtime.bigint();
  for (const c of [cmd, ...then]) {
    const r = spawnSync(c[0]!, c.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${c.join(' ')} failed (${r.status ?? r.signal}): ${String(r.stderr)}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Interleaved runs of every case (each round in a new order): the samples by case name. */
export function measureSamples(cases: readonly Case[], { runs = 30, warmup = 3 } = {}): Map<string, number[]> {
  const env = benchEnv();
  const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < warmup; i++) for (const c of cases) timeOnce(c.cmd, env, c.then);
  for (let i = 0; i < runs; i++) {
    for (const c of shuffle([...cases])) samples.get(c.name)!.push(timeOnce(c.cmd, env, c.then));
  }
  return samples;
}

export function measure(cases: readonly Case[], opts: { runs?: number; warmup?: number } = {}): Stats[] {
  const samples = measureSamples(cases, opts);
  return cases.map((c) => statsOf(c.name, samples.get(c.name)!));
}

export interface Verdict {
  readonly name: string;
  readonly target: string;
  readonly met: boolean;
}

/** Checks each case with a target against its baseline's median. */
export function verdicts(cases: readonly Case[], stats: readonly Stats[]): Verdict[] {
  const by = new Map(stats.map((s) => [s.name, s]));
  const out: Verdict[] = [];
  for (const c of cases) {
    if (!c.target || !c.baseline) continue;
    const m = by.get(c.name)!.median;
    const base = by.get(c.baseline)!.median;
    const plus = /^\+(\d+(?:\.\d+)?)ms$/.exec(c.target);
    const times = /^x(\d+(?:\.\d+)?)$/.exec(c.target);
    const met = plus ? m - base <= Number(plus[1]) : times ? m / base <= Number(times[1]) : false;
    out.push({ name: c.name, target: `${c.target} vs ${c.baseline}`, met });
  }
  return out;
}

const ms = (x: number) => x.toFixed(1);

export function markdownTable(cases: readonly Case[], stats: readonly Stats[]): string {
  const by = new Map(stats.map((s) => [s.name, s]));
  const v = new Map(verdicts(cases, stats).map((x) => [x.name, x]));
  const rows = cases.map((c) => {
    const s = by.get(c.name)!;
    const base = c.baseline ? by.get(c.baseline) : undefined;
    const ratio = base ? `${(s.median / base.median).toFixed(2)}×` : '';
    const delta = base ? `${s.median - base.median >= 0 ? '+' : ''}${ms(s.median - base.median)} ms` : '';
    const verdict = v.get(c.name);
    const target = verdict ? `${c.target} ${verdict.met ? '✓' : '✗ missed'}` : '';
    return `| ${c.name} | ${ms(s.median)} | ${ms(s.p10)}–${ms(s.p90)} | ${c.baseline ?? ''} | ${ratio} | ${delta} | ${target} |`;
  });
  return [
    '| case | median ms | p10–p90 ms | compared with | ratio | difference | target |',
    '|---|---:|---:|---|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** Replaces (or appends) the section `## title` of bench/RESULTS.md. */
export async function writeResults(title: string, body: string): Promise<void> {
  const file = join(ROOT, 'bench/RESULTS.md');
  let text = await readFile(file, 'utf8').catch(() => '# Benchmark results\n\nWritten by `npm run bench`; each section is replaced when its benchmark runs again.\n');
  const heading = `## ${title}`;
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = text.indexOf(heading);
  if (start < 0) text = `${text.trimEnd()}\n\n${section}`;
  else {
    const next = text.indexOf('\n## ', start + heading.length);
    text = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1));
  }
  await writeFile(file, text.endsWith('\n') ? text : text + '\n');
}

export async function writeRaw(name: string, data: unknown): Promise<void> {
  await mkdir(join(ROOT, 'bench/out'), { recursive: true });
  await writeFile(join(ROOT, 'bench/out', `${name}.json`), JSON.stringify(data, null, 2));
}

/** A short description of the machine, for the results. */
export function machine(): string {
  const r = spawnSync('uname', ['-sr'], { encoding: 'utf8' });
  const cpus = spawnSync('nproc', [], { encoding: 'utf8' });
  return `${r.stdout.trim()}, ${cpus.stdout.trim()} CPUs, Node ${process.version}`;
}

/** Median, p10, p90 and minimum of samples (milliseconds) measured outside measure(), e.g. library calls. */
export function statsOf(name: string, samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { name, runs: s.length, median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), min: s[0]! };
}

/** Wall time of an async call, in milliseconds. */
export async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
