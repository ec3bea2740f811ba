/**
 * Installing Debian packages when missing, shared by `npm run setup` and
 * `npm run test:vm`. Node built-ins only: setup runs it before node_modules
 * exists.
 */
import { spawnSync } from 'node:child_process';

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(cmd, args, opts = {}) {
  console.log(`setup: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`setup: ${cmd} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/**
 * Installs the packages of `packages` (name → why it is needed) that are
 * missing, without recommends; exits with the command to run when that
 * needs root.
 */
export function ensurePackages(packages) {
  const missing = Object.keys(packages).filter((p) => !installed(p));
  if (missing.length === 0) {
    console.log('setup: Debian packages present');
    return;
  }
  for (const p of missing) console.log(`setup: missing Debian package ${p} (${packages[p]})`);
  if (process.getuid?.() !== 0) {
    console.error(`setup: run as root, or install them: apt-get install --no-install-recommends ${missing.join(' ')}`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}
