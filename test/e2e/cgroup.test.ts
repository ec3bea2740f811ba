/**
 * @kernel-vm
 *
 * Cgroups of real containers (the cgmanager plugin's cgroupfs driver): where
 * they are made and that nothing of them is left, limits the kernel
 * enforces (memory, pids, cpuset), device rules through the v1 controller
 * and through an eBPF program on the unified hierarchy, freeze, lxkit
 * cgroup and info, attach's cgroup, and the cgroup mounts.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { Container, readCgroupLayout, type ContainerState } from '@lxkit/core';
import { busyboxIn as busybox, lxkitIn as run, cgroupMounts, containerCgroups, lxkit, testIf, until, withScratch, type Scratch } from '../lib/harness.js';

const layout = await readCgroupLayout();
const v1 = (controller: string) => layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller))?.mountpoint;
const unified = layout.hierarchies.find((h) => h.version === 2)?.mountpoint;
const unifiedControllers = unified ? readFileSync(join(unified, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/) : [];
/** Where a controller is here: a v1 hierarchy's, else the unified hierarchy's (keys lxc.cgroup.* or lxc.cgroup2.*). */
const at = (controller: string) => {
  const dir = v1(controller);
  if (dir) return { dir, key: 'lxc.cgroup' };
  return unified && unifiedControllers.includes(controller) ? { dir: unified, key: 'lxc.cgroup2' } : undefined;
};
/** Skip reason when a controller is neither on a v1 hierarchy nor enabled on the unified one. */
const needs = (...controllers: string[]) => {
  const missing = controllers.filter((c) => !at(c));
  return missing.length ? `no ${missing.join(', ')} controller on this host, neither v1 nor unified (the kernel-feature VM has them all on a pure unified hierarchy)` : undefined;
};
/** The hierarchy the cgroup mounts tests look into: the pids one, or the unified one. */
const pidsMount = v1('pids') ?? unified!;
/** A cgroup2-only host (the kernel-feature VM): the unified hierarchy is /sys/fs/cgroup itself. */
const pure = layout.hierarchies.every((h) => h.version === 2);

async function start(s: Scratch, name: string): Promise<number> {
  const r = await run(s, 'start', '-n', name);
  assert.is(r.exitCode, 0, r.stderr);
  return (await new Container(name, { lxcpath: s.lxcpath }).initPid())!;
}

async function stop(s: Scratch, name: string): Promise<void> {
  const r = await run(s, 'stop', '-n', name, '-k');
  assert.is(r.exitCode, 0, r.stderr);
  // The monitor removes the cgroups before it lets go of the container.
  assert.equal(await containerCgroups([name]), [], `no cgroup of ${name} is left`);
}

const procs = (dir: string) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);

const where = suite('where cgroups go');

where('lxc.payload.NAME in every hierarchy with the init in it (first process placed before it ran), the monitor in lxc.monitor.NAME; nothing left after stop', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cg1');
    const pid = await start(s, 'cg1');
    const { monitorPid } = (await (await new Container('cg1', { lxcpath: s.lxcpath }).running()).status())!;
    const mounts = await cgroupMounts();
    for (const m of mounts) assert.ok(procs(`${m}/lxc.payload.cg1`).includes(pid), `init in ${m}/lxc.payload.cg1`);
    // The monitor makes and enters its own cgroups once the container runs and nobody needs it for a moment.
    const settled = () => mounts.every((m) => existsSync(`${m}/lxc.monitor.cg1`) && procs(`${m}/lxc.monitor.cg1`).includes(monitorPid));
    await until(async () => (settled() ? true : undefined), 5000, 'the monitor in lxc.monitor.cg1 everywhere');
    for (const m of mounts) assert.not.ok(procs(`${m}/lxc.payload.cg1`).includes(monitorPid), `the monitor is out of ${m}/lxc.payload.cg1`);
    // The cgroup namespace was made in the container's cgroup: the init sees itself at its root.
    const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    assert.ok(own.split('\n').filter(Boolean).every((l) => l.endsWith(':/lxc.payload.cg1')), own);
    // Attached: at the root of each v1 hierarchy's, and in the unified one in a leaf of its own, as lxc-attach's.
    const inside = await run(s, 'attach', '-n', 'cg1', '--', 'cat', '/proc/self/cgroup');
    assert.ok(inside.stdout.split('\n').every((l) => l.endsWith(l.startsWith('0::') ? ':/.lxc' : ':/')), inside.stdout);
    await stop(s, 'cg1');
  });
});

testIf(
  where,
  unified && unifiedControllers.includes('pids') ? undefined : 'no pids controller enabled on the unified hierarchy (the kernel-feature VM has it)',
  "attach works once the container enabled controllers below its unified cgroup (systemd's layout): the program goes into .lxc, .lxc-1 when that one is busy; they go at stop",
  async () => {
    await withScratch(async (s) => {
      await busybox(s, 'cg3');
      const pid = await start(s, 'cg3');
      const dir = join(unified!, 'lxc.payload.cg3');
      try {
        // What systemd does as the container's init: every process into a leaf of its own, then controllers for its children.
        await mkdir(join(dir, 'init.scope'));
        await until(
          async () => {
            for (const p of procs(dir)) await writeFile(join(dir, 'init.scope', 'cgroup.procs'), String(p)).catch(() => undefined);
            return procs(dir).length === 0 ? true : undefined;
          },
          5000,
          "the container's processes in init.scope",
        );
        assert.ok(procs(join(dir, 'init.scope')).includes(pid));
        await writeFile(join(dir, 'cgroup.subtree_control'), '+pids');
        const r = await run(s, 'attach', '-n', 'cg3', '--', 'grep', '^0::', '/proc/self/cgroup');
        assert.equal([r.exitCode, r.stdout, r.stderr], [0, '0::/.lxc', '']);
        // .lxc busy in turn (controllers for its children, one of which holds a process): the next leaf.
        // The first program may still be exiting.
        await until(async () => (procs(join(dir, '.lxc')).length === 0 ? true : undefined), 5000, 'the first program gone');
        await mkdir(join(dir, '.lxc', 'sub'));
        await writeFile(join(dir, '.lxc', 'cgroup.subtree_control'), '+pids');
        await writeFile(join(dir, '.lxc', 'sub', 'cgroup.procs'), String(pid));
        const next = await run(s, 'attach', '-n', 'cg3', '--', 'grep', '^0::', '/proc/self/cgroup');
        assert.equal([next.exitCode, next.stdout, next.stderr], [0, '0::/.lxc-1', '']);
      } finally {
        await stop(s, 'cg3');
      }
    });
  },
);

where("the cgroup namespace is the container's own, made in its cgroups: the init's, attach's and a stop hook's LXC_CGROUP_NS agree", async () => {
  await withScratch(async (s) => {
    const seen = join(s.dir, 'hook-ns');
    const hook = join(s.dir, 'ns-hook.sh');
    // As LXC, stop hooks get the container's namespaces (LXC_<NS>_NS) while they are still held.
    await writeFile(hook, `#!/bin/sh\nreadlink "$LXC_CGROUP_NS" > ${seen}\n`, { mode: 0o755 });
    await busybox(s, 'cgn', `lxc.hook.stop = ${hook}\n`);
    const pid = await start(s, 'cgn');
    let init = '';
    try {
      init = readlinkSync(`/proc/${pid}/ns/cgroup`);
      assert.is.not(init, readlinkSync('/proc/self/ns/cgroup'), 'a cgroup namespace of its own');
      const inside = await run(s, 'attach', '-n', 'cgn', '--', 'readlink', '/proc/self/ns/cgroup');
      assert.is(inside.stdout.trim(), init, 'attach joins it');
    } finally {
      await stop(s, 'cgn');
    }
    assert.is((await readFile(seen, 'utf8')).trim(), init, "LXC_CGROUP_NS is the init's");
  });
});

where('a freeze right after start freezes the container and not its monitor, which has left the container\'s cgroups by then', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cgf');
    const c = new Container('cgf', { lxcpath: s.lxcpath });
    try {
      for (let i = 0; i < 3; i++) {
        const { monitorPid } = await c.start();
        await c.freeze();
        assert.is(await c.state(), 'FROZEN');
        const own = readFileSync(`/proc/${monitorPid}/cgroup`, 'utf8');
        assert.not.ok(own.includes('lxc.payload.cgf'), `the monitor is in none of the container's cgroups:\n${own}`);
        await c.unfreeze();
        assert.is(await c.state(), 'RUNNING');
        await c.stop({ kill: true });
        assert.equal(await containerCgroups(['cgf']), [], 'nothing left');
      }
    } finally {
      await c.stop({ kill: true }).catch(() => undefined);
    }
  });
});

where("a monitor kept busy by the container's console still moves to its own cgroups (within 100 ms of RUNNING)", async () => {
  await withScratch(async (s) => {
    // lxc.init.cmd is split at spaces, as LXC splits it: the loop goes in a script.
    const dir = await busybox(s, 'cgb', 'lxc.init.cmd = /bin/sh /busy.sh\n');
    await writeFile(join(dir, 'rootfs/busy.sh'), 'while :; do echo busy; done\n');
    await start(s, 'cgb');
    const { monitorPid } = (await (await new Container('cgb', { lxcpath: s.lxcpath }).running()).status())!;
    const mounts = await cgroupMounts();
    const settled = () => mounts.every((m) => existsSync(`${m}/lxc.monitor.cgb`) && procs(`${m}/lxc.monitor.cgb`).includes(monitorPid));
    await until(async () => (settled() ? true : undefined), 2000, 'the busy monitor in lxc.monitor.cgb everywhere');
    await stop(s, 'cgb');
  });
});

where('a name taken by a cgroup in use gets a -1 suffix; an empty leftover of a killed run is removed and reused', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cg2');
    const busy = `${pidsMount}/lxc.payload.cg2`;
    await mkdir(busy);
    const sleeper = execa('sleep', ['30']);
    try {
      await writeFile(`${busy}/cgroup.procs`, String(sleeper.pid));
      const pid = await start(s, 'cg2');
      for (const m of await cgroupMounts()) assert.ok(procs(`${m}/lxc.payload.cg2-1`).includes(pid), `${m}: the -1 name everywhere`);
      assert.ok(existsSync(`${busy}/cgroup.procs`), 'the cgroup in use is left alone');
      const r = await run(s, 'stop', '-n', 'cg2', '-k');
      assert.is(r.exitCode, 0, r.stderr);
      assert.equal(await containerCgroups(['cg2']), [busy]);
    } finally {
      sleeper.kill('SIGKILL');
      await sleeper.catch(() => undefined);
      await until(async () => (await rmdir(busy).then(() => true, () => undefined)), 5000, 'the test cgroup removed');
    }
    const stale = `${v1('memory') ?? unified!}/lxc.payload.cg2`;
    await mkdir(stale);
    const pid = await start(s, 'cg2');
    assert.ok(procs(stale).includes(pid), 'the empty leftover was reused');
    await stop(s, 'cg2');
  });
});

where('SIGKILL of the monitor leaves its cgroups, and the next start removes them', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cg3');
    await start(s, 'cg3');
    const c = new Container('cg3', { lxcpath: s.lxcpath });
    const { monitorPid } = (await (await c.running()).status())!;
    process.kill(monitorPid, 'SIGKILL');
    await until(async () => ((await c.state()) === 'STOPPED' ? true : undefined), 5000, 'the container ends with its monitor');
    assert.ok((await containerCgroups(['cg3'])).length > 0, 'a killed monitor cannot clean up');
    const pid = await start(s, 'cg3');
    assert.ok(procs(`${(await cgroupMounts())[0]}/lxc.payload.cg3`).includes(pid), 'no -1: the leftovers were removed');
    await stop(s, 'cg3');
  });
});


where('a process in the container\'s cgroups but outside its pid namespace is killed when the init ends, and the cgroups still go', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cgk');
    const pid = await start(s, 'cgk');
    const c = new Container('cgk', { lxcpath: s.lxcpath });
    // A host process the init's end does not take along (it is in no namespace of the container).
    const stray = execa('sleep', ['30'], { reject: false });
    try {
      for (const m of await cgroupMounts()) await writeFile(`${m}/lxc.payload.cgk/cgroup.procs`, String(stray.pid));
      // The init ends by itself (no stop, whose SIGKILL would go to the whole cgroup): the monitor finds the stray as it removes the cgroups.
      process.kill(pid, 'SIGKILL');
      await until(async () => ((await c.state()) === 'STOPPED' ? true : undefined), 5000, 'the container ends with its init');
      const end = await stray;
      assert.is(end.signal, 'SIGKILL', 'the monitor killed what was left in the container\'s cgroups');
      assert.equal(await containerCgroups(['cgk']), [], 'no cgroup of cgk is left');
    } finally {
      stray.kill('SIGKILL');
    }
  });
});

const limits = suite('limits');

testIf(limits, needs('memory'), 'a memory limit is enforced: a process allocating past it is OOM-killed and the cgroup counts the kill', async () => {
  const { dir, key } = at('memory')!;
  const v2 = key === 'lxc.cgroup2';
  const limit = v2
    ? 'lxc.cgroup2.memory.max = 32M\nlxc.cgroup2.memory.swap.max = 0\n'
    : 'lxc.cgroup.memory.limit_in_bytes = 32M\nlxc.cgroup.memory.memsw.limit_in_bytes = 32M\n';
  await withScratch(async (s) => {
    await busybox(s, 'mem1', limit);
    await start(s, 'mem1');
    try {
      const hog = await run(s, 'attach', '-n', 'mem1', '--', 'awk', 'BEGIN { s = "x"; for (i = 0; i < 40; i++) s = s s; print length(s) }');
      assert.is(hog.exitCode, 137, `killed by SIGKILL (${hog.stderr})`);
      const events = readFileSync(`${dir}/lxc.payload.mem1/${v2 ? 'memory.events' : 'memory.oom_control'}`, 'utf8');
      assert.ok(Number(/^oom_kill ([0-9]+)$/m.exec(events)?.[1]) >= 1, events);
      assert.is((await run(s, 'cgroup', '-n', 'mem1', v2 ? 'memory.max' : 'memory.limit_in_bytes')).stdout, String(32 << 20));
      assert.is((await run(s, 'attach', '-n', 'mem1', '--', 'true')).exitCode, 0, 'the container itself goes on');
    } finally {
      await stop(s, 'mem1');
    }
  });
});

testIf(limits, needs('pids'), 'a pids limit contains a fork bomb', async () => {
  await withScratch(async (s) => {
    const { dir: mount, key } = at('pids')!;
    await busybox(s, 'pid1', `${key}.pids.max = 24\n`);
    await start(s, 'pid1');
    const dir = `${mount}/lxc.payload.pid1`;
    const bomb = run(s, 'attach', '-n', 'pid1', '--', 'sh', '-c', 'f() { f | f & }; f; sleep 5');
    try {
      await until(async () => (Number(/^max ([0-9]+)/m.exec(readFileSync(`${dir}/pids.events`, 'utf8'))?.[1]) > 0 ? true : undefined), 10_000, 'forks refused at the limit');
      assert.ok(Number(readFileSync(`${dir}/pids.current`, 'utf8')) <= 24);
    } finally {
      await stop(s, 'pid1');
      await bomb;
    }
  });
});

testIf(limits, needs('cpuset'), 'cpuset pins the container', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'cpu1', `${at('cpuset')!.key}.cpuset.cpus = 0\n`);
    await start(s, 'cpu1');
    try {
      const r = await run(s, 'attach', '-n', 'cpu1', '--', 'grep', 'Cpus_allowed_list', '/proc/self/status');
      assert.match(r.stdout, /^Cpus_allowed_list:\s+0$/);
    } finally {
      await stop(s, 'cpu1');
    }
  });
});

const DEVICE_RULES = (prefix: string) =>
  ['deny = a', 'allow = c *:* m', 'allow = c 1:3 rwm', 'allow = c 5:* rwm', 'allow = c 136:* rwm'].map((r) => `${prefix}.devices.${r}`).join('\n') + '\n';
const DEVICE_PROBE = 'echo x > /dev/null && echo null-ok; head -c1 /dev/zero > /dev/null 2>&1 || echo zero-denied; mknod /tmp/blk b 7 0 2>/dev/null || echo mknod-denied';

const devices = suite('devices');

testIf(devices, v1('devices') ? undefined : 'no cgroup v1 devices controller on this host', 'v1 devices controller: a denied device can be neither created nor opened, /dev/null works', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'dev1', DEVICE_RULES('lxc.cgroup'));
    await start(s, 'dev1');
    try {
      const r = await run(s, 'attach', '-n', 'dev1', '--', 'sh', '-c', DEVICE_PROBE);
      assert.equal(r.stdout.split('\n'), ['null-ok', 'zero-denied', 'mknod-denied'], r.stderr);
      const elevated = await run(s, 'attach', '-n', 'dev1', '-e', '--', 'sh', '-c', 'head -c1 /dev/zero > /dev/null && echo zero-ok');
      assert.is(elevated.stdout, 'zero-ok', 'attach -e stays out of the cgroup');
    } finally {
      await stop(s, 'dev1');
    }
  });
});

testIf(devices, unified ? undefined : 'no cgroup v2 hierarchy on this host', 'lxc.cgroup2.devices: the same rules as an eBPF program on the unified hierarchy', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'dev2', DEVICE_RULES('lxc.cgroup2'));
    await start(s, 'dev2');
    try {
      const r = await run(s, 'attach', '-n', 'dev2', '--', 'sh', '-c', DEVICE_PROBE);
      assert.equal(r.stdout.split('\n'), ['null-ok', 'zero-denied', 'mknod-denied'], r.stderr);
    } finally {
      await stop(s, 'dev2');
    }
  });
});

testIf(
  devices,
  !unified ? 'no cgroup v2 hierarchy on this host' : v1('devices') ? 'the v1 devices controller takes device rules here (the kernel-feature VM has only the unified hierarchy)' : undefined,
  'lxkit device on the unified hierarchy: add loads the device program again with the new rule (the config\'s kept), del with a deny rule',
  async () => {
    await withScratch(async (s) => {
      await busybox(s, 'dev3', DEVICE_RULES('lxc.cgroup2'));
      await start(s, 'dev3');
      try {
        const open = 'exec 3</dev/loop-control && echo opened';
        assert.is.not((await run(s, 'attach', '-n', 'dev3', '--', 'sh', '-c', open)).stdout, 'opened', 'not there before');
        const add = await run(s, 'device', '-n', 'dev3', 'add', '/dev/loop-control');
        assert.is(add.exitCode, 0, add.stderr);
        const after = await run(s, 'attach', '-n', 'dev3', '--', 'sh', '-c', `${open}; ${DEVICE_PROBE}`);
        assert.equal(after.stdout.split('\n'), ['opened', 'null-ok', 'zero-denied', 'mknod-denied'], after.stderr);
        const del = await run(s, 'device', '-n', 'dev3', 'del', '/dev/loop-control');
        assert.is(del.exitCode, 0, del.stderr);
        const gone = await run(s, 'attach', '-n', 'dev3', '--', 'sh', '-c', 'test -e /dev/loop-control || echo gone; mknod /tmp/lc c 10 237 2>/dev/null || echo mknod-denied; echo x > /dev/null && echo null-ok');
        assert.equal(gone.stdout.split('\n'), ['gone', 'mknod-denied', 'null-ok'], gone.stderr);
      } finally {
        await stop(s, 'dev3');
      }
    });
  },
);

devices('a limit the kernel refuses names the file, line and key, and nothing is left', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bad1', 'lxc.cgroup2.memory.nonsense = 1\n');
    const r = await run(s, 'start', '-n', 'bad1');
    assert.is(r.exitCode, 1);
    const line = readFileSync(join(dir, 'config'), 'utf8').split('\n').findIndex((l) => l.startsWith('lxc.cgroup2.memory.nonsense')) + 1;
    assert.ok(r.stderr.includes(`${join(dir, 'config')}:${line}: lxc.cgroup2.memory.nonsense = 1: the cgroup has no file memory.nonsense`), r.stderr);
    assert.equal(await containerCgroups(['bad1']), []);
    assert.is((await run(s, 'info', '-n', 'bad1', '-s')).stdout, 'State:          STOPPED');
  });
});

const freezer = suite('freeze');

freezer('freeze stops a counting process (and attach refuses it), unfreeze resumes it; FREEZING FROZEN THAWED RUNNING in order', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'frz1', 'lxc.init.cmd = /bin/sh /count.sh\n');
    await writeFile(join(dir, 'rootfs/count.sh'), 'i=0\nwhile true; do i=$((i+1)); echo $i > /count; usleep 10000; done\n');
    await start(s, 'frz1');
    const c = new Container('frz1', { lxcpath: s.lxcpath });
    const states: ContainerState[] = [];
    const unsubscribe = await c.onState((st) => states.push(st));
    const count = async () => Number(await readFile(join(dir, 'rootfs/count'), 'utf8').catch(() => '0'));
    try {
      await until(async () => ((await count()) > 3 ? true : undefined), 5000, 'counting');
      const frozen = await run(s, 'freeze', '-n', 'frz1');
      assert.is(frozen.exitCode, 0, frozen.stderr);
      assert.is(await c.state(), 'FROZEN');
      const at = await count();
      await new Promise((r) => setTimeout(r, 300));
      assert.is(await count(), at, 'no progress while frozen');
      assert.is((await run(s, 'info', '-n', 'frz1', '-s')).stdout, 'State:          FROZEN');
      // Nothing attaches to a frozen container (lxkit-attach hears the state from the monitor).
      const attached = await run(s, 'attach', '-n', 'frz1', '--', 'true');
      assert.equal([attached.exitCode, attached.stderr], [1, 'lxkit-attach: frz1: container "frz1" is not running']);
      await c.unfreeze();
      await until(async () => ((await count()) > at + 3 ? true : undefined), 5000, 'counting again');
      await until(async () => (states.length >= 4 ? true : undefined), 2000, 'four state events');
      assert.equal(states, ['FREEZING', 'FROZEN', 'THAWED', 'RUNNING']);
      // A frozen container still stops.
      await c.freeze();
    } finally {
      unsubscribe();
      await stop(s, 'frz1');
    }
  });
});

const tools = suite('lxkit cgroup, info, library');

tools('cgroup KEY [VALUE], info -S/-H, getCgroupItem/setCgroupItem; errors name the key and the container', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'tl1', `${at('pids')?.key ?? 'lxc.cgroup2'}.pids.max = 100\n`);
    await start(s, 'tl1');
    const c = new Container('tl1', { lxcpath: s.lxcpath });
    try {
      const pidsKey = at('pids') ? 'pids.max' : 'cgroup.max.descendants';
      assert.is((await run(s, 'cgroup', '-n', 'tl1', pidsKey, '50')).exitCode, 0);
      assert.is(await c.getCgroupItem(pidsKey), '50');
      await c.setCgroupItem(pidsKey, '60');
      assert.is((await run(s, 'cgroup', '-n', 'tl1', pidsKey)).stdout, '60');
      const bad = await run(s, 'cgroup', '-n', 'tl1', '../../etc/passwd');
      assert.is(bad.exitCode, 1);
      assert.match(bad.stderr, /"..\/..\/etc\/passwd" is not a cgroup file name/);
      const stats = await run(s, 'info', '-n', 'tl1', '-S');
      assert.match(stats.stdout, /^CPU use:\s+[0-9.]+ seconds\nBlkIO use:\s+[0-9.]+ \w+\nMemory use:\s+[0-9.]+ \w+/);
      assert.match(stats.stdout, /Pids use:\s+[0-9]+/);
      const raw = await run(s, 'info', '-n', 'tl1', '-S', '-H');
      assert.match(raw.stdout, /^CPU use:\s+[0-9]+\n/);
      const table = await run(s, 'ls', '-F', 'NAME,STATE,RAM,SWAP');
      assert.match(table.stdout, /^tl1\s+RUNNING\s+[0-9]+\.[0-9]{2}MB\s+[0-9]+\.[0-9]{2}MB\s*$/m, table.stdout);
    } finally {
      await stop(s, 'tl1');
    }
    const off = await run(s, 'cgroup', '-n', 'tl1', 'pids.max');
    assert.equal([off.exitCode, off.stderr.trim()], [1, 'lxkit-cgroup: tl1: container "tl1" is not running']);
  });
});

tools('attach joins the init cgroups; attach -e stays in the caller\'s', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'at1', 'lxc.namespace.keep = cgroup\n');
    await start(s, 'at1');
    try {
      const joined = await run(s, 'attach', '-n', 'at1', '--', 'cat', '/proc/self/cgroup');
      const leaf = (l: string) => (l.startsWith('0::') ? ':/lxc.payload.at1/.lxc' : ':/lxc.payload.at1');
      assert.ok(joined.stdout.split('\n').every((l) => l.endsWith(leaf(l))), `${joined.stdout} ${joined.stderr}`);
      const elevated = await run(s, 'attach', '-n', 'at1', '-e', '--', 'cat', '/proc/self/cgroup');
      assert.not.ok(elevated.stdout.includes('lxc.payload.at1'), elevated.stdout);
    } finally {
      await stop(s, 'at1');
    }
  });
});

const mounts = suite('cgroup mounts');

const inside = (s: Scratch, name: string, script: string) => run(s, 'attach', '-n', name, '--', 'sh', '-c', script);

mounts('cgroup:mixed without a cgroup namespace: own cgroup at its host path, writable; the rest of each hierarchy read-only', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'mt1', 'lxc.namespace.keep = cgroup\nlxc.mount.auto = cgroup:mixed\n');
    await start(s, 'mt1');
    try {
      // The pids hierarchy's folder, the unified one's on a hybrid host, or /sys/fs/cgroup itself on a pure unified one.
      const sub = v1('pids') ? 'pids/' : pure ? '' : 'unified/';
      const file = v1('pids') ? 'pids.max' : 'cgroup.max.descendants';
      const r = await inside(s, 'mt1', `echo 33 > /sys/fs/cgroup/${sub}lxc.payload.mt1/${file} && echo own-rw; mkdir /sys/fs/cgroup/${sub}x 2>/dev/null || echo rest-ro; ls /sys/fs/cgroup/${sub}`);
      assert.equal(r.stdout.split('\n'), ['own-rw', 'rest-ro', 'lxc.payload.mt1'], r.stderr);
      assert.is((await run(s, 'cgroup', '-n', 'mt1', file)).stdout, '33');
    } finally {
      await stop(s, 'mt1');
    }
  });
});

mounts('cgroup:ro:force in a cgroup namespace: each hierarchy mounted showing the container\'s subtree, read-only', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'mt2', 'lxc.mount.auto = cgroup:ro:force\n');
    await start(s, 'mt2');
    try {
      const uni = pure ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
      const r = await inside(s, 'mt2', `grep -c -E " /sys/fs/cgroup[^ ]* cgroup2? " /proc/self/mounts; cat ${uni}/cgroup.procs | wc -l; mkdir ${uni}/x 2>/dev/null || echo ro`);
      const [count, tasks, ro] = r.stdout.split('\n');
      assert.is(Number(count), (await cgroupMounts()).length, r.stderr);
      assert.ok(Number(tasks) >= 1, 'the container\'s own processes');
      assert.is(ro, 'ro');
    } finally {
      await stop(s, 'mt2');
    }
  });
});

mounts('cgroup:mixed in a cgroup namespace with CAP_SYS_ADMIN: left to the container\'s init, as LXC does (on a pure unified host cgroup2 is mounted)', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'mt3', 'lxc.mount.auto = cgroup:mixed\n');
    await start(s, 'mt3');
    try {
      const r = await inside(s, 'mt3', 'grep -c " /sys/fs/cgroup" /proc/self/mounts');
      assert.is(r.stdout, pure ? '1' : '0', r.stderr);
    } finally {
      await stop(s, 'mt3');
    }
  });
});

where.run();
limits.run();
devices.run();
freezer.run();
tools.run();
mounts.run();
