/**
 * lxkit's own LXC_TEMPLATE_CONFIG and LXC_HOOK_DIR (plugins/templates/share,
 * written by the build): the config snippets images include, for a host
 * without LXC's. Compared in effect with LXC's installed ones, and used by
 * a container made from an image.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, createRuntime, validateContainerConfig } from '@lxkit/core';
import { parsePolicy } from '@lxkit/plugin-seccomp';
import { LXC_HOOK_DIR, LXC_TEMPLATE_CONFIG, OWN_HOOK_DIR, OWN_TEMPLATE_CONFIG, snippetDirs } from '@lxkit/plugin-templates';
import { busyboxIn, lxkit, testIf, withScratch } from '../lib/harness.js';
import { imageIn } from '../lib/image.js';

const test = suite('template-config');
const LXC_MISSING = existsSync(join(LXC_TEMPLATE_CONFIG, 'common.conf')) ? undefined : `${LXC_TEMPLATE_CONFIG} is not installed (Debian's lxc package)`;

test('the snippet directories: LXC\'s where it is installed, else lxkit\'s own, which the build wrote with their paths', async () => {
  const saved = [process.env['LXKIT_LXC_TEMPLATE_CONFIG'], process.env['LXKIT_LXC_HOOK_DIR']];
  delete process.env['LXKIT_LXC_TEMPLATE_CONFIG'];
  delete process.env['LXKIT_LXC_HOOK_DIR'];
  try {
    assert.equal(snippetDirs(true), { config: LXC_TEMPLATE_CONFIG, hooks: LXC_HOOK_DIR });
    assert.equal(snippetDirs(false), { config: OWN_TEMPLATE_CONFIG, hooks: OWN_HOOK_DIR });
  } finally {
    if (saved[0] !== undefined) process.env['LXKIT_LXC_TEMPLATE_CONFIG'] = saved[0];
    if (saved[1] !== undefined) process.env['LXKIT_LXC_HOOK_DIR'] = saved[1];
  }
  for (const f of ['common.conf', 'userns.conf', 'nesting.conf', 'oci.common.conf', 'common.seccomp']) assert.ok(existsSync(join(OWN_TEMPLATE_CONFIG, f)), f);
  const common = await readFile(join(OWN_TEMPLATE_CONFIG, 'common.conf'), 'utf8');
  assert.match(common, new RegExp(`^lxc\\.seccomp\\.profile = ${OWN_TEMPLATE_CONFIG}/common\\.seccomp$`, 'm'));
  assert.match(common, new RegExp(`^lxc\\.hook\\.clone = ${OWN_HOOK_DIR}/clonehostname$`, 'm'));
  assert.not.match(common, /@[A-Z_]+@/, 'no placeholder left');
});

testIf(test, LXC_MISSING, "lxkit's common.conf, userns.conf (after common.conf, as images include it), nesting.conf and oci.common.conf have the effect of LXC's: the same config model, the same seccomp policy", async () => {
  await withScratch(async (s) => {
    const c = new Container('c', { lxcpath: s.lxcpath });
    /** The model of a config including `files` from `dir`, with the two directories' paths made one. */
    const model = async (dir: string, hooks: string, files: readonly string[]) => {
      const file = join(s.dir, `${files.join('+')}-${dir === OWN_TEMPLATE_CONFIG ? 'ours' : 'lxc'}.conf`);
      await writeFile(file, `lxc.rootfs.path = dir:${s.dir}/rootfs\n${files.map((f) => `lxc.include = ${dir}/${f}\n`).join('')}`);
      const { model } = await c.loadConfig({ configFile: file });
      // Deny-all first, in both: after it, the order of the allow rules makes no difference (nor that of the capabilities).
      for (const rules of [model.cgroup?.v1, model.cgroup?.v2]) if (rules?.length) assert.is(`${rules[0]!.file} ${rules[0]!.value}`, 'devices.deny a', file);
      const key = (r: { file: string; value: string }) => `${r.file} ${r.value}`;
      const normal = {
        ...model,
        ...(model.caps ? { caps: { ...model.caps, drop: [...model.caps.drop].sort() } } : {}),
        ...(model.cgroup ? { cgroup: { ...model.cgroup, v1: [...model.cgroup.v1].sort((a, b) => key(a).localeCompare(key(b))), v2: [...model.cgroup.v2].sort((a, b) => key(a).localeCompare(key(b))) } } : {}),
      };
      // Where a line is in which file is not its effect.
      return JSON.stringify(normal, (k, v: unknown) => (k === 'origin' ? undefined : typeof v === 'string' ? v.replaceAll(dir, 'CONFIG').replaceAll(hooks, 'HOOKS') : v));
    };
    for (const files of [['common.conf'], ['common.conf', 'userns.conf'], ['nesting.conf'], ['oci.common.conf']]) {
      assert.is(await model(OWN_TEMPLATE_CONFIG, OWN_HOOK_DIR, files), await model(LXC_TEMPLATE_CONFIG, LXC_HOOK_DIR, files), files.join(' then '));
    }
    const policy = async (dir: string) => {
      const p = parsePolicy(await readFile(join(dir, 'common.seccomp'), 'utf8'), 'common.seccomp');
      return { ...p, rules: p.rules.map((r) => ({ syscall: r.syscall, action: r.action, args: r.args, section: r.section })).sort((a, b) => String(a.syscall).localeCompare(String(b.syscall))) };
    };
    assert.equal(await policy(OWN_TEMPLATE_CONFIG), await policy(LXC_TEMPLATE_CONFIG));
  });
});

test("a container from an image including lxkit's common.conf: seccomp and the capabilities it drops in force; a copy's /etc/hosts gets its name from the clone hook, never through a link out of the rootfs", async () => {
  await withScratch(async (s) => {
    const env = { ...s.env, LXKIT_LXC_TEMPLATE_CONFIG: OWN_TEMPLATE_CONFIG, LXKIT_LXC_HOOK_DIR: OWN_HOOK_DIR };
    const img = await imageIn(s, { lxcCommon: true });
    const made = await lxkit(['create', '-P', s.lxcpath, '-n', 'one', '-t', 'local', '--', '-m', img.meta, '-f', img.fstree, '--privileged'], { env });
    assert.is(made.exitCode, 0, made.stderr);
    const dir = join(s.lxcpath, 'one');
    assert.match(await readFile(join(dir, 'config'), 'utf8'), new RegExp(`^lxc\\.include = ${OWN_TEMPLATE_CONFIG}/common\\.conf$`, 'm'));
    const run = await lxkit(['execute', '-P', s.lxcpath, '-n', 'one', '--', 'sh', '-c', 'grep -E "^(CapBnd|Seccomp):" /proc/self/status'], { env });
    assert.is(run.exitCode, 0, run.stderr);
    const [capbnd, seccomp] = run.stdout.split('\n').map((l) => l.split(/\s+/)[1]!);
    assert.is(seccomp, '2', 'a seccomp filter');
    const bounding = BigInt(`0x${capbnd}`);
    for (const [cap, bit] of [['sys_module', 16n], ['sys_rawio', 17n], ['sys_time', 25n], ['mac_override', 32n], ['mac_admin', 33n]] as const) {
      assert.is(bounding & (1n << bit), 0n, `${cap} dropped`);
    }
    assert.ok(bounding & (1n << 21n), 'sys_admin kept');

    await writeFile(join(dir, 'rootfs/etc/hosts'), '127.0.1.1 one one.example\n');
    const copied = await lxkit(['copy', '-P', s.lxcpath, '-n', 'one', '-N', 'two'], { env });
    assert.is(copied.exitCode, 0, copied.stderr);
    assert.is(await readFile(join(s.lxcpath, 'two/rootfs/etc/hosts'), 'utf8'), '127.0.1.1 two one.example\n', 'the first on each line, as LXC\'s hook');
    assert.is(await readFile(join(s.lxcpath, 'two/rootfs/etc/hostname'), 'utf8'), 'two');

    // /etc/hosts a link to a file of the host's: the hook leaves it alone.
    const hostFile = join(s.dir, 'host-hosts');
    await writeFile(hostFile, '127.0.1.1 one\n');
    await rm(join(dir, 'rootfs/etc/hosts'));
    await symlink(hostFile, join(dir, 'rootfs/etc/hosts'));
    const linked = await lxkit(['copy', '-P', s.lxcpath, '-n', 'one', '-N', 'three'], { env });
    assert.is(linked.exitCode, 0, linked.stderr);
    assert.is(await readFile(hostFile, 'utf8'), '127.0.1.1 one\n');
  });
});

test("a config LXC made names LXC's snippets where they are not installed: lxkit's own stand in, with a warning on the line, and the container runs with them", async () => {
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    assert.is(runtime.includeStandIn(join(LXC_TEMPLATE_CONFIG, 'userns.conf')), join(OWN_TEMPLATE_CONFIG, 'userns.conf'), "the templates plugin's own stand in for LXC's");
    // This host has LXC's: a directory that is not there plays its part.
    const missing = join(s.dir, 'no-lxc/config');
    runtime.standInForIncludes(missing, OWN_TEMPLATE_CONFIG);
    const dir = await busyboxIn(s, 'old', `lxc.include = ${missing}/common.conf\nlxc.include = ${missing}/nesting.conf\nlxc.include = ${missing}/no-such.conf\n`);
    const v = await validateContainerConfig(runtime, { path: join(dir, 'config') });
    const said = v.problems.map((p) => `${p.severity} ${p.line} ${p.message}`);
    assert.ok(said.some((p) => p.startsWith('warning') && p.includes(`"${missing}/common.conf" is not there: "${OWN_TEMPLATE_CONFIG}/common.conf" stands in for it`)), said.join('\n'));
    assert.ok(said.some((p) => p.startsWith('error') && p.includes(`cannot read "${missing}/no-such.conf": ENOENT`)), 'a file lxkit has no stand-in for is still an error');
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')).replace(`lxc.include = ${missing}/no-such.conf\n`, ''));
    const c = new Container('old', { lxcpath: s.lxcpath, runtime });
    const config = await c.loadConfig();
    assert.is(config.model.seccomp?.profile, join(OWN_TEMPLATE_CONFIG, 'common.seccomp'));
    assert.ok(config.includes.includes(join(OWN_TEMPLATE_CONFIG, 'nesting.conf')));
    // Its exit status says whether a seccomp filter is in force.
    const exit = await c.execute(['sh', '-c', 'grep -q "^Seccomp:[[:space:]]*2$" /proc/self/status']);
    assert.is(exit.code, 0, 'it runs, a seccomp filter in force');
  });
});

test.run();
