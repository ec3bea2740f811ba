#!/usr/bin/env node
/**
 * `npm run demo`: what lxkit does, each step printed with the command behind
 * it. First a container's life — create, start, use, stop, destroy — in a
 * scratch lxcpath; then the configuration tools.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'core/bin/lxkit.cjs');
const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };

function show(r, fmt = (s) => s) {
  const out = fmt(String(r.stdout ?? '')).replace(/\r/g, '').trimEnd();
  if (out) console.log(out.replace(/^/gm, '  '));
  if (r.stderr) console.log(String(r.stderr).trimEnd().replace(/^/gm, '  ! '));
  console.log(`  (exit ${r.exitCode})`);
}

/** An argument as a shell would need it, for the printed command lines. */
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

async function step(title, args, { show: fmt = (s) => s, input = '' } = {}) {
  console.log(`\n== ${title}\n$ lxkit ${args.map(quote).join(' ')}`);
  const r = await execa(bin, args, { reject: false, env, input });
  show(r, fmt);
  return r;
}

async function containerLife(dir) {
  const P = ['-P', join(dir, 'lxc')];
  await mkdir(join(dir, 'lxc'));
  console.log(`A container's life, in the scratch lxcpath ${join(dir, 'lxc')}:`);
  await step('Create a busybox system container (unprivileged: its root is uid 100000 on the host)', ['create', '-n', 'demo', ...P, '-t', 'busybox']);
  await step('List the containers', ['ls', ...P]);
  console.log((await readFile(join(dir, 'lxc/demo/config'), 'utf8')).trimEnd().replace(/^/gm, '  | '));

  await step('Start it with a command instead of its init: the command is PID 1, with the container\'s host name, users and mounts', [
    'start', '-n', 'demo', ...P, '-F', '--', '/bin/sh', '-c', 'echo "pid $$ on $(hostname), uid $(id -u)"; cat /proc/self/uid_map; ps; grep -c . /proc/mounts',
  ]);
  await step('Run commands in application containers on the same root filesystem: the exit status is lxkit\'s', [
    'execute', '-n', 'demo', ...P, '--', '/bin/sh', '-c', 'echo "under a small init: $(cat /proc/1/comm)"; exit 42',
  ]);

  console.log('\n== Watch state changes (lxkit monitor, in the background of this demo)');
  console.log(`$ lxkit monitor ${P.join(' ')} -n demo`);
  const watch = execa(bin, ['monitor', ...P, '-n', 'demo'], { reject: false, env });
  await new Promise((r) => setTimeout(r, 300));

  await step('Start the system container in the background: lxkit returns once busybox init runs; only its C monitor stays', ['start', '-n', 'demo', ...P]);
  const info = await step('Ask its monitor about it', ['info', '-n', 'demo', ...P]);
  const pid = /PID:\s+(\d+)/.exec(String(info.stdout))?.[1];
  if (pid) {
    const { stdout: tree } = await execa('ps', ['-o', 'pid,user,args', '--ppid', pid, '-p', pid], { reject: false });
    console.log(`  its init and what it started, on the host:`);
    console.log(tree.trimEnd().replace(/^/gm, '  | '));
  }
  await step('Run a command inside it: every namespace of its init', ['attach', '-n', 'demo', ...P, '--', '/bin/sh', '-c', 'echo "$(hostname): $(ps | wc -l) processes"; exit 7']);
  await step('Stop it: its halt signal (lxc.signal.halt), busybox init shuts down', ['stop', '-n', 'demo', ...P, '-t', '10']);
  await step('Its state now', ['info', '-n', 'demo', ...P, '-s']);
  watch.kill('SIGINT');
  console.log('  what lxkit monitor printed meanwhile:');
  show(await watch);

  await step('Destroy it', ['destroy', '-n', 'demo', ...P]);
  await step('Nothing left', ['ls', ...P]);
}

const dir = await mkdtemp(join(tmpdir(), 'lxkit-demo-'));
try {
  await containerLife(dir);
  console.log('\nThe configuration tools:');
  await step('Which kernel features does this host have? (summary of lxkit checkconfig --json)', ['checkconfig', '--json'], {
    show(out) {
      const rep = JSON.parse(out);
      const missing = rep.results.filter((r) => r.status !== 'enabled').map((r) => `${r.label} (${r.status})`);
      return [
        `kernel ${rep.kernel.release}, cgroups ${rep.cgroup.kind}`,
        `${rep.results.length - missing.length} of ${rep.results.length} checks enabled`,
        `not available: ${missing.join(', ') || 'none'}`,
      ].join('\n');
    },
  });

  await step('Toolkit settings, as lxc-config prints them', ['config', '-l']);
  await step('The container path', ['config', 'lxc.lxcpath']);

  const debian = ['/usr/share/lxc/config/common.conf', '/usr/share/lxc/config/userns.conf', '/etc/lxc/default.conf'];
  await step("Validate Debian's own LXC configs with every built-in plugin", ['config', 'validate', ...debian]);

  const bad = join(dir, 'bad.conf');
  await writeFile(bad, 'lxc.uts.name = demo\nlxc.tty.max = -1\nlxc.idmap = u 0 x 1\nlxc.signal.halt = PWR\nlxc.bogus = 1\n');
  await step('A config with mistakes: one FILE:LINE: KEY: reason line each', ['config', 'validate', bad]);

  const legacy = join(dir, 'legacy.conf');
  await writeFile(legacy, '# LXC 2.x\nlxc.utsname = old\nlxc.network.type = veth\nlxc.network.link = lxcbr0\nlxc.network.ipv4 = 10.0.3.5/24\nlxc.limit.nofile = 1024\n');
  await step('An LXC 2.x config loads with warnings…', ['config', 'validate', legacy]);
  await step('…and update-config converts it (keeping legacy.conf.backup)', ['update-config', '-c', legacy]);
  console.log((await readFile(legacy, 'utf8')).trimEnd().replace(/^/gm, '  | '));

  // A site plugin next to a toolkit config, named by relative path.
  const site = join(root, 'test/tmp', 'demo-site');
  await mkdir(site, { recursive: true });
  await writeFile(
    join(site, 'policy.mjs'),
    `import { definePlugin, defineKeys, tapConfigKeys, invalid } from '@lxkit/core';
export default definePlugin({
  name: 'site-policy',
  version: '1.0.0',
  apply(runtime) {
    // A site rule on a core key: containers here must set a host name.
    runtime.hooks.config.tap('site-policy', (config, check) => {
      if (!config.model.utsName) check.error({ file: config.path ?? '-', line: 0, key: 'lxc.uts.name' }, 'site policy: every container needs a host name');
      return config;
    });
  },
});
`,
  );
  await writeFile(join(site, 'config.yaml'), "plugins:\n  - '...'\n  - ./policy.mjs\n");
  const noname = join(dir, 'noname.conf');
  await writeFile(noname, 'lxc.tty.max = 1\n');
  await step('A site plugin (named by relative path in a toolkit config) adds its own rule', [
    'config',
    'validate',
    '--rcfile',
    join(site, 'config.yaml'),
    noname,
  ]);
  await rm(site, { recursive: true, force: true });
} finally {
  await rm(dir, { recursive: true, force: true });
}
