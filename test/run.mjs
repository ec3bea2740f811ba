#!/usr/bin/env node
/**
 * Runs every test file (test/**\/*.test.ts) in its own Node process with uvu,
 * and ends with one line: `N passed, N failed, N skipped`.
 *
 *   npm test                 all files
 *   npm test -- config hook  files whose path contains "config" or "hook"
 *
 * A file that dies before uvu prints its totals counts as one failure. Skips
 * are listed with their reasons before the closing line.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const FILE_TIMEOUT_MS = 5 * 60 * 1000;

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'tmp') continue;
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = find(join(root, 'test')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      // Isolated from the machine's own toolkit config; tests of the search set their own.
      env: { ...process.env, LXKIT_TEST: '1', LXKIT_SYSCONFDIR: join(root, 'test/tmp/no-sysconfdir'), NODE_EXTRA_CA_CERTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: on a timeout the whole group goes, containers' monitors included
      // (a container's init dies with its monitor).
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[test runner] ${relative(root, file)} timed out after ${FILE_TIMEOUT_MS / 1000}s; killed\n`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const num = (label) => {
        const m = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(output);
        return m ? Number(m[1]) : undefined;
      };
      const total = num('Total');
      const passed = num('Passed') ?? 0;
      const skipped = num('Skipped') ?? 0;
      let failed = total === undefined ? 1 : total - passed;
      if (failed === 0 && code !== 0) failed = 1; // totals printed, but the process still failed
      const skips = [...output.matchAll(/^# SKIP (.*)$/gm)].map((m) => m[1]);
      resolve({ file, passed, failed, skipped, skips, output, code, signal, ms: Date.now() - started });
    });
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const skipLines = [];
for (const file of files) {
  const r = await runFile(file);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  const name = relative(root, file);
  for (const s of r.skips) skipLines.push(`${name}: ${s}`);
  const mark = r.failed > 0 ? 'FAIL' : 'ok  ';
  console.log(`${mark} ${name}  (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped; ${(r.ms / 1000).toFixed(1)}s)`);
  if (r.failed > 0 || process.env.LXKIT_TEST_VERBOSE) {
    console.log(r.output.replace(/^/gm, '    '));
    if (!/^\s*Total:/m.test(r.output)) {
      console.log(`    [test runner] exited with ${r.signal ?? r.code} before reporting totals`);
    }
  }
}
if (skipLines.length > 0) {
  console.log('\nSkipped:');
  for (const s of skipLines) console.log(`  ${s}`);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
