#!/usr/bin/env node
/**
 * `npm run demo`: what lxkit does today, each step printed with the command
 * behind it. (Containers run with issue 3; this demo then creates, starts,
 * uses, stops and destroys one.)
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'core/bin/lxkit.cjs');
const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };

async function step(title, args, { show = (s) => s } = {}) {
  console.log(`\n== ${title}\n$ lxkit ${args.join(' ')}`);
  const r = await execa(bin, args, { reject: false, env });
  const out = show(String(r.stdout)).trimEnd();
  if (out) console.log(out.replace(/^/gm, '  '));
  if (r.stderr) console.log(String(r.stderr).trimEnd().replace(/^/gm, '  ! '));
  console.log(`  (exit ${r.exitCode})`);
  return r;
}

const dir = await mkdtemp(join(tmpdir(), 'lxkit-demo-'));
try {
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
  console.log('\nContainers themselves (create, start, attach, stop, destroy) arrive with issue 3.');
} finally {
  await rm(dir, { recursive: true, force: true });
}
