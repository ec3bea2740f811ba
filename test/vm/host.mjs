#!/usr/bin/env node
/**
 * The host side of the kernel-feature VM: builds the images (image.mjs),
 * boots Debian's stock cloud kernel under qemu with software emulation,
 * passes the guest's progress lines on, and reads the results back from
 * the raw results disk. test/run.mjs calls runInVm() after the host's
 * files, so that one closing line counts both.
 *
 *   node test/vm/host.mjs --prepare   installs the Debian packages the VM
 *                                     needs and builds the project
 *                                     (`npm run test:vm` runs this, then
 *                                     `test/run.mjs --vm-only`)
 */
import { readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { buildImages, findKernel } from './image.mjs';

const QEMU = 'qemu-system-x86_64';
/**
 * The whole VM run, boot to power-off: 25 minutes. A full run took 14 beside the host's files (849 s,
 * November 2026), and 20–23 before its fixtures were made cheap; the margin is for this machine's slow phases.
 */
export const VM_TIMEOUT_MS = Number(process.env.LXKIT_VM_TIMEOUT_S ?? 1500) * 1000;
/**
 * One test file inside the VM (JavaScript runs 7–15× slower under software
 * emulation). The longest files (checkpoint, cgroup) take 200–230 s beside
 * the host's files, and took over 300 s in slow phases before: 8 minutes.
 */
const FILE_TIMEOUT_MS = 8 * 60 * 1000;

/** Why the VM cannot run here, or undefined. */
export async function vmUnavailable() {
  if ((await execa('sh', ['-c', `command -v ${QEMU}`], { reject: false })).exitCode !== 0) return `${QEMU} is not installed (npm run setup installs qemu-system-x86)`;
  if (!findKernel()) return 'no Debian cloud kernel is installed (npm run setup installs linux-image-cloud-amd64)';
  return undefined;
}

/**
 * Boots the VM to run `files` (absolute .ts paths under root/test) and
 * returns their results as runner.mjs's runFile gives them (names relative
 * to root); a VM that never reports gives one failed result named
 * "kernel-feature VM" carrying the end of the console output.
 */
export async function runInVm({ root, files, say = (s) => console.log(s), onLine = (l) => console.log(l) }) {
  const work = join(root, 'test/tmp/vm');
  const started = Date.now();
  try {
    // Never a rejection: test/run.mjs awaits this only after the host's files, which it runs meanwhile.
    return await boot({ root, work, files, say, onLine, started }).catch((err) => vmFailure(started, `the VM's run failed: ${err?.stack ?? err}`));
  } finally {
    // Several hundred MB of images: kept only when asked for, to look into.
    if (!process.env.LXKIT_VM_KEEP) await rm(work, { recursive: true, force: true });
  }
}

/** The one failed result of a VM run that gave no results, with the end of its console output. */
const vmFailure = (started, why, consoleText = '') => [
  { name: 'kernel-feature VM', passed: 0, failed: 1, skipped: 0, skips: [], output: `${why}\n--- console (last lines) ---\n${consoleText.split('\n').slice(-60).join('\n')}`, code: 1, signal: null, ms: Date.now() - started },
];

async function boot({ root, work, files, say, onLine, started }) {
  const names = files.map((f) => relative(root, f));
  const failure = (why, consoleText = '') => vmFailure(started, why, consoleText);
  let images;
  try {
    images = await buildImages({ root, work, files, manifest: { files: names, timeoutMs: FILE_TIMEOUT_MS } });
  } catch (err) {
    return failure(`building the VM's images failed: ${err.shortMessage ?? err.message}`, String(err.stderr ?? ''));
  }
  say(`  booting ${images.kver} under qemu (software emulation); images built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const qemu = execa(
    QEMU,
    [
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      // This host's /dev/kvm cannot run a stock kernel: software emulation on every core.
      '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '2048',
      '-kernel', images.kernel, '-initrd', images.initramfs,
      '-append', 'console=ttyS0 apparmor=1 security=apparmor cgroup_no_v1=all quiet loglevel=3 panic=-1',
      '-drive', `file=${images.rootImg},format=raw,if=virtio`,
      '-drive', `file=${images.results},format=raw,if=virtio`,
      '-serial', 'stdio',
    ],
    { reject: false, stdin: 'ignore', timeout: VM_TIMEOUT_MS, killSignal: 'SIGKILL' },
  );
  let consoleText = '';
  let pending = '';
  qemu.stdout.on('data', (d) => {
    const text = String(d).replace(/\r/g, '');
    consoleText += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const l of lines) if (l.startsWith('lxkit-vm: ')) onLine(l.slice('lxkit-vm: '.length));
  });
  const q = await qemu;
  const raw = await readFile(images.results);
  const end = raw.indexOf(0);
  try {
    if (end <= 0) throw new Error('the results disk is empty');
    const { results } = JSON.parse(raw.subarray(0, end).toString('utf8'));
    say(`  the VM ran for ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return results;
  } catch (err) {
    const why = q.timedOut
      ? `the VM did not finish within ${VM_TIMEOUT_MS / 1000}s and was killed`
      : `the VM reported no results (${err.message}; qemu exited with ${q.exitCode ?? q.signal})`;
    return failure(why, `${consoleText}\n${q.stderr ?? ''}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--prepare')) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const { ensurePackages } = await import('../../scripts/packages.mjs');
  const { VM_PACKAGES } = await import('./packages.mjs');
  ensurePackages(VM_PACKAGES);
  await execa(process.execPath, [join(root, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
}
