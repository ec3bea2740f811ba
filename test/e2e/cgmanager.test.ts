/**
 * The cgmanager D-Bus API over a real dbus-daemon that the test starts and
 * stops: lxkit's service (`lxkit cgmanager`, the CLI) and its client, on
 * real cgroups — root creating and delegating a cgroup, refused outside its
 * own cgroup — and a container
 * whose cgroups are made through the service (the cgmanager driver).
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { BUILTIN_PLUGINS, Container, createRuntime, readCgroupLayout } from '@lxkit/core';
import { CGM_ERRORS, CgmanagerClient } from '@lxkit/plugin-cgmanager';
import { busyboxIn, LXKIT_BIN, ROOT, testIf, until, which, withScratch, withTmpDir } from '../lib/harness.js';
import { withBus } from '../lib/dbus.js';

const NOBODY = 65534;
const layout = await readCgroupLayout();
const memory = layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes('memory'));
const missing = !which('dbus-daemon') ? 'dbus-daemon is not installed (npm run setup installs it)' : !memory ? 'no cgroup v1 memory controller here (the kernel-feature VM covers the unified hierarchy)' : undefined;

/** `lxkit cgmanager --address` as a service; resolves once it owns its name. */
async function withService<T>(address: string, fn: () => Promise<T>): Promise<T> {
  const service = execa(process.execPath, [LXKIT_BIN, 'cgmanager', '--address', address, '-l', 'INFO'], { reject: false, all: true });
  try {
    const client = await CgmanagerClient.connect(address);
    try {
      await until(() => client.ping().then(() => true, () => undefined), 10_000, 'the cgmanager service answering');
    } finally {
      client.close();
    }
    return await fn();
  } finally {
    service.kill('SIGTERM');
    const r = await service;
    assert.is(r.exitCode, 0, String(r.all));
  }
}

/** The cgroupfs directory of `rel` below this process's memory cgroup. */
const ownMemory = () => /^[0-9]+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))![1]!;
const memoryDir = (rel: string) => join(memory!.mountpoint, ownMemory(), rel);

const cgm = suite('cgmanager API over a real dbus-daemon');

testIf(cgm, missing, 'root: Create, Chown, MovePid, SetValue, GetValue, GetTasks, ListChildren, ListKeys, Remove on real cgroups; api_version and introspection', async () => {
  await withBus((address) =>
    withService(address, async () => {
      const c = await CgmanagerClient.connect(address);
      const sleeper = execa('sleep', ['30']);
      try {
        await c.remove('memory', 'cgm-root', true).catch(() => undefined); // a killed earlier run's
        assert.is(await c.create('memory', 'cgm-root'), 0);
        assert.is(await c.create('memory', 'cgm-root'), 1, 'existed');
        assert.ok(existsSync(memoryDir('cgm-root')));
        assert.ok((await c.listChildren('memory', '')).includes('cgm-root'));
        await c.chown('memory', 'cgm-root', NOBODY, NOBODY);
        assert.is((await import('node:fs')).statSync(memoryDir('cgm-root')).uid, NOBODY);
        await c.movePid('memory', 'cgm-root', sleeper.pid!);
        assert.equal(await c.getTasks('memory', 'cgm-root'), [sleeper.pid]);
        assert.is(await c.getPidCgroup('memory', sleeper.pid!), 'cgm-root');
        await c.setValue('memory', 'cgm-root', 'memory.limit_in_bytes', String(64 << 20));
        assert.is((await c.getValue('memory', 'cgm-root', 'memory.limit_in_bytes')).trim(), String(64 << 20));
        assert.ok((await c.listKeys('memory', 'cgm-root')).some(([name, uid]) => name === 'cgroup.procs' && uid === NOBODY));
        assert.ok((await c.listControllers()).includes('memory'));
        // Outside the caller's delegation (its own cgroup): refused with the API's error, nothing made.
        const escape = await c.create('memory', '../../escape').catch((e: Error & { syscall?: string }) => e);
        assert.instance(escape, Error);
        assert.match((escape as Error).message, /cgmanager Create\("memory", "\.\.\/\.\.\/escape"\): cgroup "\.\.\/\.\.\/escape" is outside your delegation/);
        assert.is((escape as { syscall?: string }).syscall, `dbus:${CGM_ERRORS.denied}`);
        assert.not.ok(existsSync(join(memoryDir(''), '../../escape')));
        const busy = await c.remove('memory', 'cgm-root', false).catch((e: Error) => e);
        assert.instance(busy, Error, 'a cgroup with a task cannot go');
        sleeper.kill('SIGKILL');
        await sleeper.catch(() => undefined);
        await until(() => c.remove('memory', 'cgm-root', true).then((n) => n, () => undefined), 5000, 'Remove once empty');
        assert.not.ok(existsSync(memoryDir('cgm-root')));
        const { stdout } = await execa('dbus-send', ['--bus=' + address, '--print-reply', '--dest=org.linuxcontainers.cgmanager', '/org/linuxcontainers/cgmanager', 'org.freedesktop.DBus.Properties.Get', 'string:org.linuxcontainers.cgmanager0_0', 'string:api_version']);
        assert.match(stdout, /int32 10/);
        const intro = await execa('dbus-send', ['--bus=' + address, '--print-reply', '--dest=org.linuxcontainers.cgmanager', '/org/linuxcontainers/cgmanager', 'org.freedesktop.DBus.Introspectable.Introspect']);
        assert.match(intro.stdout, /<method name="MovePid">\s*<arg name="arg0" type="s" direction="in"\/>\s*<arg name="arg1" type="s" direction="in"\/>\s*<arg name="arg2" type="i" direction="in"\/>/);
      } finally {
        sleeper.kill('SIGKILL');
        await sleeper.catch(() => undefined);
        await c.remove('memory', 'cgm-root', true).catch(() => undefined);
        c.close();
      }
    }),
  );
});

/**
 * What a delegated user does through the service, run as that user inside
 * its delegated cgroup; prints the outcome of each call as JSON. It reads
 * nothing from stdin, and the test bounds it with a timeout.
 */
const DELEGATED_SCRIPT = (plugin: string) => `
import cgm from ${JSON.stringify(plugin)};
const { CgmanagerClient } = cgm;
const c = await CgmanagerClient.connect(process.argv[2]);
const out = {};
const attempt = async (name, fn) => {
  try { out[name] = { ok: (await fn()) ?? null }; } catch (e) { out[name] = { error: e.message, dbus: e.syscall }; }
};
try {
  await attempt('own', () => c.getPidCgroup('memory', process.pid));
  await attempt('create', () => c.create('memory', 'child'));
  await attempt('set', () => c.setValue('memory', 'child', 'memory.limit_in_bytes', String(32 << 20)));
  await attempt('get', () => c.getValue('memory', 'child', 'memory.limit_in_bytes'));
  await attempt('children', () => c.listChildren('memory', ''));
  await attempt('escape', () => c.create('memory', '../escape'));
  await attempt('chownToRoot', () => c.chown('memory', 'child', 0, 0));
  await attempt('moveInit', () => c.movePid('memory', 'child', 1));
  await attempt('remove', () => c.remove('memory', 'child', true));
} finally {
  c.close();
}
process.stdout.write(JSON.stringify(out));
`;

testIf(cgm, missing ?? (which('setpriv') ? undefined : 'setpriv is not installed'), 'an unprivileged user in a cgroup delegated to it: Create, SetValue, GetValue, ListChildren, Remove inside; outside its delegation, chown to another user and moving others\' processes refused', async () => {
  await withBus((address) =>
    withService(address, () =>
      withTmpDir(async (dir) => {
        await chmod(dir, 0o755);
        const script = join(dir, 'delegated.mjs');
        await writeFile(script, DELEGATED_SCRIPT(join(ROOT, 'plugins/cgmanager/dist/index.cjs')));
        await chmod(script, 0o644);
        const root = await CgmanagerClient.connect(address);
        try {
          await root.remove('memory', 'cgm-deleg', true).catch(() => undefined); // a killed earlier run's
          assert.is(await root.create('memory', 'cgm-deleg'), 0);
          await root.chown('memory', 'cgm-deleg', NOBODY, NOBODY);
          // Root puts the shell in the delegated cgroup; it then becomes nobody and runs the script there.
          const r = await execa(
            'sh',
            ['-c', 'echo $$ > "$1/cgroup.procs" && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$2" "$3" "$4"', 'sh', memoryDir('cgm-deleg'), process.execPath, script, address],
            { stdin: 'ignore', timeout: 30_000, reject: false, env: { HOME: dir }, extendEnv: false },
          );
          assert.is(r.exitCode, 0, r.stderr);
          const out = JSON.parse(r.stdout) as Record<string, { ok?: unknown; error?: string; dbus?: string }>;
          assert.equal(out['create'], { ok: 0 }, JSON.stringify(out['create']));
          assert.equal(out['set'], { ok: null });
          assert.is(String(out['get']?.ok).trim(), String(32 << 20));
          assert.equal(out['children']?.ok, ['child']);
          assert.match(out['escape']?.error ?? '', /outside your delegation/);
          assert.is(out['escape']?.dbus, `dbus:${CGM_ERRORS.denied}`);
          assert.match(out['chownToRoot']?.error ?? '', /only root may give a cgroup to another user/);
          assert.match(out['moveInit']?.error ?? '', /process 1 is not yours/);
          assert.equal(out['remove'], { ok: 1 }, JSON.stringify(out['remove']));
          assert.not.ok(existsSync(join(memoryDir(''), 'escape')));
          assert.not.ok(existsSync(memoryDir('cgm-deleg/child')));
        } finally {
          await until(() => root.remove('memory', 'cgm-deleg', true).then((n) => n, () => undefined), 5000, 'removing cgm-deleg');
          root.close();
        }
      }),
    ),
  );
});

testIf(cgm, missing, 'a container whose cgroups are made through the service (the cgmanager driver) runs limited, and nothing is left', async () => {
  await withBus((address) =>
    withService(address, () =>
      withScratch(async (s) => {
        await busyboxIn(s, 'cgmd', 'lxc.cgroup.memory.limit_in_bytes = 48M\n');
        const plugins = Object.keys(BUILTIN_PLUGINS).map((use) => (use === 'cgmanager' ? { use, options: { driver: 'cgmanager', cgmanagerAddress: address } } : { use }));
        const runtime = await createRuntime({ plugins });
        const c = new Container('cgmd', { lxcpath: s.lxcpath, runtime });
        await c.start();
        try {
          const pid = (await c.initPid())!;
          const dir = memoryDir('lxc.payload.cgmd');
          assert.ok(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), 'the init in the service-made cgroup');
          assert.is(await c.getCgroupItem('memory.limit_in_bytes'), String(48 << 20));
        } finally {
          await c.stop({ kill: true });
        }
        assert.not.ok(existsSync(memoryDir('lxc.payload.cgmd')));
        assert.not.ok(existsSync(memoryDir('lxc.monitor.cgmd')));
      }),
    ),
  );
});

cgm.run();
