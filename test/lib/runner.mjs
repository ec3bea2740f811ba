/**
 * Running one test file in its own Node process and reading uvu's totals
 * from its output: shared by the host runner (test/run.mjs) and the
 * kernel-feature VM's guest runner (test/vm/guest.mjs).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every test/**\/*.test.ts under root (test/tmp and node_modules left out) whose path contains one of `filters` (all without). */
export function findTestFiles(root, filters = []) {
  const find = (dir) => {
    const out = [];
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name === 'node_modules' || name === 'tmp') continue;
      if (statSync(p).isDirectory()) out.push(...find(p));
      else if (name.endsWith('.test.ts')) out.push(p);
    }
    return out;
  };
  return find(join(root, 'test')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
}

/** Whether a test file is tagged to run in the kernel-feature VM too. */
export const isVmFile = (file) => VM_TAG.test(readFileSync(file, 'utf8'));

/** The tag in a test file's header comment that makes it run in the kernel-feature VM as well. */
export const VM_TAG = /^\s*\*\s*@kernel-vm\b/m;

/**
 * Runs `file` with `args` (before the file) under `process.execPath`, in its
 * own process group, killed with its whole group after `timeoutMs`.
 * A file that dies before uvu prints its totals counts as one failure.
 */
export function runFile(file, { root, args = [], env = {}, timeoutMs = 5 * 60 * 1000, name = relative(root, file) }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...args, file], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: on a timeout the whole group goes, containers' monitors included
      // (a container's init dies with its monitor).
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[test runner] ${name} timed out after ${timeoutMs / 1000}s; killed\n`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ name, ...totalsOf(output, code), output, code, signal, ms: Date.now() - started });
    });
  });
}

/** uvu's totals and the `# SKIP` reasons in a file's output. */
export function totalsOf(output, code) {
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
  return { passed, failed, skipped, skips };
}

/** One report line for a file's result. */
export function summaryLine(r, prefix = '') {
  const mark = r.failed > 0 ? 'FAIL' : 'ok  ';
  return `${mark} ${prefix}${r.name}  (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped; ${(r.ms / 1000).toFixed(1)}s)`;
}

/** The output of a failed file, indented, with a note when it died before reporting. */
export function failureDetail(r) {
  let s = r.output.replace(/^/gm, '    ');
  if (!/^\s*Total:/m.test(r.output)) s += `\n    [test runner] exited with ${r.signal ?? r.code} before reporting totals`;
  return s;
}
