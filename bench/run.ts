/** `npm run bench`: every benchmark, one after the other (`npm run bench -- cli` runs those matching). */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './lib/harness.js';

const filters = process.argv.slice(2);
const files = (await readdir(join(ROOT, 'bench')))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
for (const f of files) {
  console.log(`\n# ${f}`);
  await import(join(ROOT, 'bench', f));
}
