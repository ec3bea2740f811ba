/**
 * The systemd cgroup driver against systemd itself: a real `systemd --user`
 * manager (root's, in cgroups of its own, on a private bus) makes each
 * container's transient scope; the system manager when systemd is PID 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { BUILTIN_PLUGINS, Container, createRuntime, readCgroupLayout } from '@lxkit/core';
import { escapeUnitName, parseProcCgroup, systemdBooted } from '@lxkit/plugin-cgmanager';
import { busyboxIn, cgroupMounts, testIf, until, which, withScratch } from '../lib/harness.js';
import { userManagerMissing, withUserManager } from '../lib/dbus.js';

const layout = await readCgroupLayout();
const memoryV1 = layout.hierarchies.some((h) => h.version === 1 && h.controllers.includes('memory'));
const limit = memoryV1 ? 'lxc.cgroup.memory.limit_in_bytes = 48M\n' : 'lxc.cgroup2.memory.max = 48M\n';
const limitKey = memoryV1 ? 'memory.limit_in_bytes' : 'memory.max';
const noDbus = which('dbus-daemon') ? undefined : 'dbus-daemon is not installed (npm run setup installs it)';

const busArgs = (address: string | undefined) => (address ? [`--bus=${address}`] : ['--system']);

/** A property of a unit, as dbus-send prints it; undefined when there is no such unit. */
async function unitProperty(address: string | undefined, unit: string, iface: string, name: string): Promise<string | undefined> {
  const get = await execa('dbus-send', [...busArgs(address), '--print-reply', '--dest=org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager.GetUnit', `string:${unit}`], {
    reject: false,
  });
  if (get.exitCode !== 0) return undefined;
  const path = /object path "([^"]+)"/.exec(get.stdout)![1]!;
  const r = await execa('dbus-send', [...busArgs(address), '--print-reply', '--dest=org.freedesktop.systemd1', path, 'org.freedesktop.DBus.Properties.Get', `string:${iface}`, `string:${name}`], {
    reject: false,
  });
  return r.exitCode === 0 ? /variant\s+\S+\s+(.*)$/m.exec(r.stdout)?.[1]?.replace(/"/g, '') : undefined;
}

/** Every cgroup directory of process `pid`. */
async function cgroupDirsOf(pid: number): Promise<string[]> {
  const paths = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  return layout.hierarchies.map((h) => join(h.mountpoint, paths.get(h.version === 2 ? '' : [...h.controllers].sort().join(','))!));
}

const runtimeFor = (address: string | undefined) =>
  createRuntime({
    plugins: Object.keys(BUILTIN_PLUGINS).map((use) => (use === 'cgmanager' ? { use, options: { driver: 'systemd', ...(address ? { systemdAddress: address } : {}) } } : { use })),
  });

/**
 * Two containers named alike (in two lxcpaths) each get a delegated scope
 * (lxc-NAME.scope, then lxc-NAME-1.scope) with their cgroups inside and the
 * limit applied; after stop the scopes are gone and so is every cgroup.
 */
async function scopesAroundContainers(address: string | undefined, root: string) {
  await withScratch((a) =>
    withScratch(async (b) => {
      await busyboxIn(a, 'sdc', limit);
      await busyboxIn(b, 'sdc', limit);
      const runtime = await runtimeFor(address);
      const first = new Container('sdc', { lxcpath: a.lxcpath, runtime });
      const second = new Container('sdc', { lxcpath: b.lxcpath, runtime });
      const dirs: string[] = [];
      await first.start();
      try {
        await second.start();
        try {
          for (const [c, unit] of [
            [first, 'lxc-sdc.scope'],
            [second, 'lxc-sdc-1.scope'],
          ] as const) {
            const pid = (await c.initPid())!;
            const unified = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).get('')!;
            assert.ok(unified.startsWith(`${root === '/' ? '' : root}/`) && new RegExp(`/${unit.replace(/[.]/g, '\\.')}/lxc\\.payload\\.sdc(-1)?$`).test(unified), `the init in ${unit}: ${unified}`);
            assert.is(await unitProperty(address, unit, 'org.freedesktop.systemd1.Unit', 'ActiveState'), 'active');
            assert.is(await unitProperty(address, unit, 'org.freedesktop.systemd1.Scope', 'Delegate'), 'true');
            assert.is(await c.getCgroupItem(limitKey), String(48 << 20));
            dirs.push(...(await cgroupDirsOf(pid)));
          }
        } finally {
          await second.stop({ kill: true });
        }
      } finally {
        await first.stop({ kill: true });
      }
      for (const unit of ['lxc-sdc.scope', 'lxc-sdc-1.scope']) {
        await until(async () => ((await unitProperty(address, unit, 'org.freedesktop.systemd1.Unit', 'ActiveState')) === undefined ? true : undefined), 10_000, `${unit} collected`);
      }
      for (const d of dirs) assert.not.ok(existsSync(d), `${d} removed`);
    }),
  );
}

const sd = suite('systemd driver');

testIf(sd, noDbus ?? userManagerMissing(), "a real systemd (root's user manager): each container in a delegated transient scope, -N on a name clash, all gone after stop", async () => {
  await withUserManager(({ address, root }) => scopesAroundContainers(address, root));
});

testIf(sd, systemdBooted() ? undefined : 'systemd is not PID 1 here: the system manager is what the driver uses for root', 'the system manager (systemd as PID 1): the same, through the system bus', async () => {
  await scopesAroundContainers(undefined, '/');
});

testIf(sd, systemdBooted() ? 'systemd is PID 1 here' : undefined, 'without systemd as PID 1 (and no bus given) the start fails, naming the container and why, and nothing is left', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'sdx');
    const c = new Container('sdx', { lxcpath: s.lxcpath, runtime: await runtimeFor(undefined) });
    const err = await c.start().then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    assert.instance(err, Error);
    assert.is((err!.cause as { code?: string } | undefined)?.code ?? err!.code, 'LXKIT_UNSUPPORTED');
    assert.match(err!.message, /container "sdx": the systemd cgroup driver needs systemd as PID 1/);
    assert.is(await c.state(), 'STOPPED');
    for (const m of await cgroupMounts()) assert.not.ok(existsSync(join(m, 'lxc.payload.sdx')));
  });
});

const names = suite('systemd unit names');

testIf(names, which('systemd-escape') ? undefined : 'systemd-escape is not installed', 'container names escape as systemd-escape does', async () => {
  for (const n of ['web', 'a.b', 'with space', 'dash-ed', 'ünï', '.hidden', 'x/y', 'a_b:c']) {
    const { stdout } = await execa('systemd-escape', ['--', n]);
    assert.is(escapeUnitName(n), stdout, n);
  }
});

sd.run();
names.run();
