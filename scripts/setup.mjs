#!/usr/bin/env node
/**
 * `npm run setup`: everything a fresh clone needs, idempotently.
 *  1. Debian packages the project uses, installed when missing (needs root),
 *     the kernel-feature VM's included (test/vm/packages.mjs);
 *  2. npm dependencies (npm install, following package-lock.json);
 *  3. the build (scripts/build.mjs).
 * Uses Node built-ins only: it runs before node_modules exists.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';
import { VM_PACKAGES } from '../test/vm/packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Debian packages, and why each is needed. */
const PACKAGES = {
  'g++': 'native helpers (node-gyp)',
  make: 'native helpers (node-gyp)',
  'musl-tools': 'the static helpers linked against musl, which starts 0.35 ms sooner per exec than glibc',
  iproute2: 'tests inspect network devices',
  uidmap: 'newuidmap/newgidmap for unprivileged containers',
  'busybox-static': 'the busybox template and LXC compatibility tests',
  rsync: 'lxkit copy and lxkit snapshot copy root filesystems with it (as lxc-copy and lxc-snapshot do)',
  'btrfs-progs': 'the btrfs storage plugin (subvolumes, snapshots) and its tests on a btrfs loop file',
  'zfs-fuse': "the zfs storage plugin's tests, on a pool of their own (OpenZFS's module is not in Debian's main)",
  lxc: 'compatibility tests and benchmarks against LXC',
  'lxc-dev': "liblxc's header: the console ring buffer is compared with LXC's console_log() API (compatibility tests)",
  runc: 'benchmarks against runc',
  'fonts-dejavu-core': 'text in the benchmark charts',
  python3: 'node-gyp; a pty for console tests',
  'dbus-daemon': 'a private bus for the cgmanager service tests',
  'libseccomp-dev': 'the seccomp plugin compiles policies with libseccomp',
  apparmor: 'apparmor_parser: generated AppArmor profiles are compiled (and, where AppArmor is on, loaded) with it',
  'dnsmasq-base': "lxkit net (the host's bridge service) hands out addresses and names with it",
  nftables: "lxkit net's firewall rules (nft), and tests that inspect rules",
  iptables: "lxkit net's firewall rules with LXC_USE_NFT=false, tested",
  'openvswitch-switch': 'veths on Open vSwitch bridges, tested against a private ovsdb-server and ovs-vswitchd (userspace datapath)',
};

function run(cmd, args, opts = {}) {
  console.log(`setup: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`setup: ${cmd} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

ensurePackages({ ...PACKAGES, ...VM_PACKAGES });
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
run(process.execPath, ['scripts/build.mjs']);
// bin/lxkit is the command's C front (docs/launch-plans.md); `npx lxkit` is the Node CLI alone.
console.log('setup: done. Try: bin/lxkit help (or npx lxkit help)');
