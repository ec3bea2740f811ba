/**
 * CLI start-up: `lxkit help` and `lxkit config -l` against a bare Node start
 * (target: at most 15 ms more), with `lxkit config ITEM` and LXC's own
 * `lxc-config -l` alongside.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { machine, markdownTable, measure, ROOT, verdicts, writeRaw, writeResults, type Case } from './lib/harness.js';

const node = process.execPath;
const lxkit = [node, join(ROOT, 'core/bin/lxkit.cjs')];
const runs = Number(process.env['BENCH_RUNS'] ?? 40);

const cases: Case[] = [
  { name: 'node -e 0', cmd: [node, '-e', '0'] },
  { name: 'lxkit help', cmd: [...lxkit, 'help'], baseline: 'node -e 0', target: '+15ms' },
  { name: 'lxkit config -l', cmd: [...lxkit, 'config', '-l'], baseline: 'node -e 0', target: '+15ms' },
  { name: 'lxkit config lxc.lxcpath', cmd: [...lxkit, 'config', 'lxc.lxcpath'], baseline: 'node -e 0' },
];
if (existsSync('/usr/bin/lxc-config')) {
  cases.push({ name: 'lxc-config -l (LXC)', cmd: ['/usr/bin/lxc-config', '-l'] });
  cases.push({ name: 'lxc-config lxc.lxcpath (LXC)', cmd: ['/usr/bin/lxc-config', 'lxc.lxcpath'] });
}

if (existsSync('/usr/sbin/runc')) cases.push({ name: 'runc --version', cmd: ['/usr/sbin/runc', '--version'] });

const stats = measure(cases, { runs });
const table = markdownTable(cases, stats);
console.log(table);
await writeRaw('cli-startup', { machine: machine(), date: new Date().toISOString(), stats });
await writeResults(
  'CLI start-up',
  `${runs} interleaved runs per case after 3 warm-up runs; NODE_EXTRA_CA_CERTS unset; ${machine()}; ${new Date().toISOString().slice(0, 10)}.\n\n${table}\n\n` +
    "LXC's lxc-config (C) and runc (Go) start no interpreter; they are shown for scale, not as targets. " +
    'What lxkit adds over a bare Node start is what its code costs: `help` loads the CLI bundle only, `config -l` adds the core\'s small base part, and `config ITEM` also loads the toolkit-config part (cosmiconfig).',
);
const missed = verdicts(cases, stats).filter((v) => !v.met);
for (const m of missed) console.error(`target missed: ${m.name} (${m.target})`);
