/** `npm run bench`: every benchmark, one after the other (`npm run bench -- cli` runs those matching). */
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './lib/harness.js';

const filters = process.argv.slice(2);
const files = (await readdir(join(ROOT, 'bench')))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
// LXC's monitor leaves an lxc.pivot cgroup in each hierarchy: those the benchmarks made go afterwards.
const pivots = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .filter((l) => / - cgroup2? /.test(l))
  .map((l) => join(l.split(' ')[4]!, 'lxc.pivot'))
  .filter((p) => !existsSync(p));
try {
  for (const f of files) {
    console.log(`\n# ${f}`);
    await import(join(ROOT, 'bench', f));
  }
} finally {
  for (const p of pivots) {
    try {
      rmdirSync(p);
    } catch {
      // Not made, or in use by a container LXC still runs.
    }
  }
}
