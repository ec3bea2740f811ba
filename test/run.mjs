#!/usr/bin/env node
/**
 * Runs every test file (test/**\/*.test.ts) in its own Node process with uvu,
 * and the files tagged `@kernel-vm` once more inside the kernel-feature VM
 * (test/vm: Debian's stock kernel under qemu, for what this kernel lacks),
 * and ends with one line counting both: `N passed, N failed, N skipped`.
 *
 * The VM runs beside the host's files: each part keeps about one of the
 * machine's two cores busy (qemu's emulation ~1.2, the host's files ~1),
 * so side by side they take little more than the longer one alone.
 *
 *   npm test                      all files, the VM beside them
 *   npm test -- config hook       files whose path contains "config" or "hook"
 *   LXKIT_TEST_VM=0 npm test      without the VM (its files count as skipped)
 *   LXKIT_TEST_VM=after npm test  the VM after the host's files, not beside them
 *   npm run test:vm               the VM part alone (installs what it needs)
 *
 * A file that dies before uvu prints its totals counts as one failure; so
 * does a VM that never reports. Skips are listed with their reasons before
 * the closing line.
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureDetail, findTestFiles, isVmFile, runFile, summaryLine } from './lib/runner.mjs';
import { runInVm, vmUnavailable } from './vm/host.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const vmOnly = args.includes('--vm-only');
const filters = args.filter((a) => a !== '--vm-only');
const files = findTestFiles(root, filters);
const vmMode = process.env.LXKIT_TEST_VM ?? 'beside';
if (!['0', 'after', 'beside'].includes(vmMode)) {
  console.error(`test/run.mjs: LXKIT_TEST_VM must be 0, after or beside, not "${vmMode}"`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const skipLines = [];
function report(r, prefix = '') {
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  for (const s of r.skips) skipLines.push(`${prefix}${r.name}: ${s}`);
  console.log(summaryLine(r, prefix));
  if (r.failed > 0 || process.env.LXKIT_TEST_VERBOSE) console.log(failureDetail(r));
}

const vmFiles = files.filter(isVmFile);
const vmWhy = vmFiles.length === 0 ? undefined : vmMode === '0' ? 'LXKIT_TEST_VM=0' : await vmUnavailable();
/** The VM's run: its progress lines come as they happen ("[vm] …"), its results are counted at the end. */
const startVm = () => {
  console.log(`[vm] kernel-feature VM: ${vmFiles.length} file(s)`);
  const line = (l) => console.log(`[vm] ${l.trim()}`);
  // Never rejects (a VM that breaks is one failed result), so it can wait while the host's files run.
  return runInVm({ root, files: vmFiles, say: line, onLine: line });
};
let vmRun = vmFiles.length > 0 && !vmWhy && vmMode === 'beside' ? startVm() : undefined;

if (!vmOnly) {
  for (const file of files) {
    report(
      await runFile(file, {
        root,
        args: ['--import', 'tsx'],
        // Isolated from the machine's own toolkit config; tests of the search set their own.
        env: { LXKIT_TEST: '1', LXKIT_SYSCONFDIR: join(root, 'test/tmp/no-sysconfdir'), NODE_EXTRA_CA_CERTS: '' },
      }),
    );
  }
}

if (vmFiles.length > 0) {
  if (vmWhy) {
    // Each file stands for at least one test that did not run: counted, with the reason.
    for (const f of vmFiles) {
      const skips = [`the kernel-feature VM did not run: ${vmWhy}`];
      report({ name: relative(root, f), passed: 0, failed: 0, skipped: 1, skips, output: '', ms: 0 }, 'vm:');
    }
  } else {
    vmRun ??= startVm();
    const results = await vmRun;
    console.log(`\nkernel-feature VM: ${vmFiles.length} file(s)`);
    for (const r of results) report(r, 'vm:');
  }
}

if (skipLines.length > 0) {
  console.log('\nSkipped:');
  for (const s of skipLines) console.log(`  ${s}`);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
