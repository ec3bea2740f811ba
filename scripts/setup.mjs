#!/usr/bin/env node
/**
 * `npm run setup`: everything a fresh clone needs, idempotently.
 *  1. Debian packages the project uses, installed when missing (needs root);
 *  2. npm dependencies (npm install, following package-lock.json);
 *  3. the build (scripts/build.mjs).
 * Uses Node built-ins only: it runs before node_modules exists.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Debian packages, and why each is needed. */
const PACKAGES = {
  'g++': 'native helpers (node-gyp)',
  make: 'native helpers (node-gyp)',
  iproute2: 'tests inspect network devices',
  uidmap: 'newuidmap/newgidmap for unprivileged containers',
  'busybox-static': 'the busybox template and LXC compatibility tests',
  lxc: 'compatibility tests and benchmarks against LXC',
  runc: 'benchmarks against runc',
  'fonts-dejavu-core': 'text in the benchmark charts',
  python3: 'node-gyp; a pty for console tests',
  'dbus-daemon': 'a private bus for the cgmanager service tests',
  'libseccomp-dev': 'the seccomp plugin compiles policies with libseccomp',
  apparmor: 'apparmor_parser: generated AppArmor profiles are compiled (and, where AppArmor is on, loaded) with it',
};

function run(cmd, args, opts = {}) {
  console.log(`setup: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`setup: ${cmd} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

const missing = Object.keys(PACKAGES).filter((p) => !installed(p));
if (missing.length > 0) {
  for (const p of missing) console.log(`setup: missing Debian package ${p} (${PACKAGES[p]})`);
  if (process.getuid?.() !== 0) {
    console.error(`setup: run as root, or install them: apt-get install --no-install-recommends ${missing.join(' ')}`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
} else {
  console.log('setup: Debian packages present');
}

run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
run(process.execPath, ['scripts/build.mjs']);
console.log('setup: done. Try: npx lxkit help');
