/**
 * The kernel-feature VM's test runner, started by the guest's init:
 * runs each test file named in test/vm/files.json (bundled to .mjs by
 * image.mjs), prints one progress line per file on the console, and writes
 * every result as JSON to the raw results disk given as argv[2] (the host
 * reads it after the VM powered off), NUL-terminated.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFile, summaryLine } from '../lib/runner.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const disk = process.argv[2];
const { files, timeoutMs } = JSON.parse(readFileSync(join(root, 'test/vm/files.json'), 'utf8'));

const results = [];
for (const name of files) {
  const file = join(root, name.replace(/\.ts$/, '.mjs'));
  const r = await runFile(file, {
    root,
    name,
    timeoutMs,
    env: { LXKIT_TEST: '1', LXKIT_VM: '1', LXKIT_SYSCONFDIR: join(root, 'test/tmp/no-sysconfdir') },
  });
  results.push(r);
  console.log(`lxkit-vm: ${summaryLine(r)}`);
}

const fd = openSync(disk, 'w');
writeSync(fd, JSON.stringify({ results }) + '\0');
fsyncSync(fd);
closeSync(fd);
