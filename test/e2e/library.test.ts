/** The library API (Container), as a program embedding lxkit uses it. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, createRuntime, definePlugin, installedBuiltins, isLxkitError, MS, STAGE_LATE, type ContainerState, type Logger, type LogLevel } from '@lxkit/core';
import { containerCgroups, hostMounts, until, withScratch } from '../lib/harness.js';

const lib = suite('library API');

/** A logger keeping every line, the monitor's debug lines included. */
/** Records every message it gets; `debug: false` says it shows no debug messages (it records what comes anyway). */
function recordingLogger(lines: string[], debug = true): Logger {
  const log: Logger = {
    level: debug ? 'TRACE' : 'INFO',
    enabled: (level) => debug || !['TRACE', 'DEBUG'].includes(level),
    log: (_level: LogLevel, m: string) => void lines.push(m),
    trace: (m) => log.log('TRACE', m),
    debug: (m) => log.log('DEBUG', m),
    info: (m) => log.log('INFO', m),
    notice: (m) => log.log('NOTICE', m),
    warn: (m) => log.log('WARN', m),
    error: (m) => log.log('ERROR', m),
    child: () => log,
  };
  return log;
}

lib('create, config items, execute, state and destroy through Container', async () => {
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    const c = new Container('app', { lxcpath: s.lxcpath, runtime });
    assert.is(await c.defined(), false);
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    assert.is(await c.defined(), true);
    assert.is(await c.state(), 'STOPPED');

    assert.is(await c.getConfigItem('lxc.uts.name'), 'app');
    assert.equal(await c.getConfigItem('lxc.mount.entry'), [
      'shm dev/shm tmpfs defaults,create=dir 0 0',
      'mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0',
    ]);
    await c.setConfigItem('lxc.uts.name', 'renamed');
    await c.setConfigItem('lxc.environment', 'MODE=test');
    try {
      await c.setConfigItem('lxc.tty.max', '-1');
      assert.unreachable('an invalid value is refused');
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONFIG_INVALID'));
    }
    const before = await readFile(join(s.lxcpath, 'app/config'), 'utf8');
    await c.saveConfig();
    const after = await readFile(join(s.lxcpath, 'app/config'), 'utf8');
    assert.is(after, before.replace('lxc.uts.name = app', 'lxc.uts.name = renamed') + 'lxc.environment = MODE=test\n', 'only the edited lines changed');

    const exit = await c.execute(['/bin/sh', '-c', 'test "$(hostname)" = renamed && test "$MODE" = test && exit 5']);
    assert.equal(exit, { code: 5, signal: 0 });
    const run = await c.start({ foreground: true, command: ['/bin/true'], console: false });
    assert.equal(run.exit, { code: 0, signal: 0 });
    assert.is(await c.state(), 'STOPPED');
    assert.is(await c.initPid(), undefined);

    await c.destroy();
    assert.is(await c.defined(), false);
    assert.equal(await readdir(s.env.LXKIT_RUNDIR!), [], 'its lock file and the directories made for it are gone from the run directory');
    try {
      await c.destroy();
      assert.unreachable();
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONTAINER_NOT_FOUND'));
    }
  });
});

lib('one runtime runs many containers one after the other', async () => {
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    for (let i = 0; i < 10; i++) {
      const exit = await new Container(`c${i}`, { lxcpath: s.lxcpath, runtime }).execute(['/bin/sh', '-c', `exit ${i}`]);
      assert.is(exit.code, i);
    }
  });
});

lib('a command that exits at once, in a container with ttys, many times in a row', async () => {
  // The ttys' pty fds reach the monitor on the same socket that tells it the
  // command runs: an exit seen before them must not turn into a failed start.
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    const c = new Container('quick', { lxcpath: s.lxcpath, runtime });
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    await c.setConfigItem('lxc.tty.max', '6');
    await c.saveConfig();
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) codes.push((await c.execute(['/bin/true'])).code);
    assert.equal(codes, new Array(40).fill(0));
    await c.destroy();
  });
});

lib('a tap that needs its ops done awaits ctx.flush(), and sees them from the host', async () => {
  await withScratch(async (s) => {
    const seen: string[] = [];
    const probe = definePlugin({
      name: 'flush-probe',
      version: '0.0.0',
      apply(runtime) {
        runtime.hooks.mount.tapPromise({ name: 'flush-probe', stage: STAGE_LATE }, async (ctx) => {
          const target = `${ctx.rootfs!.mount}/mnt`;
          ctx.ops.mount({ source: 'flush-probe', target, fstype: 'tmpfs', flags: MS.NOSUID, create: 'dir' }, { what: 'mounting a probe tmpfs' });
          const before = await readFile(`/proc/${ctx.pid}/mountinfo`, 'utf8');
          await ctx.flush();
          const after = await readFile(`/proc/${ctx.pid}/mountinfo`, 'utf8');
          seen.push(`before:${before.includes('flush-probe')}`, `after:${after.includes('flush-probe')}`);
        });
      },
    });
    const runtime = await createRuntime({ plugins: [...installedBuiltins(), { use: probe }] });
    const c = new Container('flushing', { lxcpath: s.lxcpath, runtime });
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    const exit = await c.execute(['/bin/sh', '-c', 'grep -q "flush-probe /mnt tmpfs" /proc/mounts']);
    assert.is(exit.code, 0, 'the mount made before the flush is in the container');
    assert.equal(seen, ['before:false', 'after:true']);
    assert.not.ok((await hostMounts()).some((m) => m.includes('flush-probe')), 'and not on the host');
    await c.destroy();
  });
});


lib('pre-mount … start taps queue their ops while the monitor clones unless a plugin needs the clone first', async () => {
  await withScratch(async (s) => {
    const seen: string[] = [];
    let need: string | undefined;
    let fail = false;
    const probe = definePlugin({
      name: 'ahead-probe',
      version: '0.0.0',
      apply(runtime) {
        runtime.hooks.cloneFirst.tap('ahead-probe', () => need);
        runtime.hooks.mount.tap({ name: 'ahead-probe', stage: STAGE_LATE }, (ctx) => {
          seen.push(`pid:${ctx.pid === undefined ? 'unknown' : 'known'} net:${ctx.namespaceNames.has('net')} paths:${Object.keys(ctx.namespaces).length > 0}`);
          if (fail) throw new Error('the probe fails');
          ctx.ops.mount({ source: 'ahead-probe', target: `${ctx.rootfs!.mount}/mnt`, fstype: 'tmpfs', flags: MS.NOSUID, create: 'dir' }, { what: 'mounting a probe tmpfs' });
        });
      },
    });
    const lines: string[] = [];
    const runtime = await createRuntime({ plugins: [...installedBuiltins(), { use: probe }] });
    const c = new Container('ahead', { lxcpath: s.lxcpath, runtime, log: recordingLogger(lines) });
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    const probeMounted = ['/bin/sh', '-c', 'grep -q "ahead-probe /mnt tmpfs" /proc/mounts'];

    assert.equal(await c.execute(probeMounted), { code: 0, signal: 0 }, 'the op queued before the clone ran in the container');
    assert.ok(lines.includes('the first batch is queued while the monitor clones'), lines.join('\n'));
    need = 'the probe reads ctx.pid';
    lines.length = 0;
    assert.equal(await c.execute(probeMounted), { code: 0, signal: 0 });
    assert.ok(lines.includes('the first batch waits for the clone: the probe reads ctx.pid'), lines.join('\n'));
    assert.equal(seen, ['pid:unknown net:true paths:false', 'pid:known net:true paths:true']);

    // A tap failing while the monitor clones: the start is aborted, the first process killed, nothing left.
    need = undefined;
    fail = true;
    const before = await hostMounts();
    try {
      await c.execute(['/bin/true']);
      assert.unreachable('the failing tap aborts the start');
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_HOOK_FAILED'), String(err));
      assert.match((err as Error).message, /mount hook of plugin "ahead-probe" failed: the probe fails/);
    }
    assert.is(await c.state(), 'STOPPED');
    assert.equal(await containerCgroups(['ahead']), []);
    assert.equal(await hostMounts(), before);
    await c.destroy();
  });
});

lib("the monitor makes the network namespace as it starts when the last config read wants one; a wrong guess is let go; a command socket that cannot be served stops the start before any clone", async () => {
  await withScratch(async (s) => {
    const lines: string[] = [];
    const runtime = await createRuntime();
    const c = new Container('guess', { lxcpath: s.lxcpath, runtime, log: recordingLogger(lines) });
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    const hostNet = await readlink('/proc/self/ns/net');
    const netOf = async () => {
      assert.equal(await c.execute(['/bin/sh', '-c', 'readlink /proc/self/ns/net > /netns']), { code: 0, signal: 0 });
      return (await readFile(join(s.lxcpath, 'guess/rootfs/netns'), 'utf8')).trim();
    };
    // A start reads the config (the runtime keeps it once the file is some milliseconds old); the next is
    // guessed from it: a namespace of its own every time.
    const early = 'monitor: the network namespace was made as the monitor started (lxkit expected this start to want one)';
    assert.not.equal(await netOf(), hostNet);
    assert.not.ok(lines.includes(early), 'nothing to guess from the first time');
    await new Promise((r) => setTimeout(r, 50));
    assert.not.equal(await netOf(), hostNet);
    lines.length = 0;
    assert.not.equal(await netOf(), hostNet);
    assert.ok(lines.includes(early), lines.join('\n'));
    assert.ok(lines.includes('monitor: the first process starts in the network namespace made ahead of its clone'), lines.join('\n'));
    // The config changed: the guess (a namespace made as the monitor started) is wrong, and let go.
    await c.setConfigItem('lxc.net.0.type', 'none');
    await c.saveConfig();
    lines.length = 0;
    assert.is(await netOf(), hostNet, "lxc.net.0.type = none: the host's network namespace");
    assert.ok(lines.includes(early), 'the guess was made from the old config');

    // SERVE fails (the console log cannot be opened): the clone right behind it is refused, the start fails with SERVE's error.
    await c.setConfigItem('lxc.console.logfile', join(s.dir, 'missing/console.log'));
    await c.saveConfig();
    const before = await hostMounts();
    try {
      await c.execute(['/bin/true']);
      assert.unreachable('the start fails');
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, 'ENOENT', String(err));
      assert.match((err as Error).message, /missing\/console\.log/);
    }
    assert.is(await c.state(), 'STOPPED');
    assert.equal(await containerCgroups(['guess']), []);
    assert.equal(await hostMounts(), before);
    await c.destroy();
  });
});

lib("in the foreground, a container whose end needs nothing of lxkit's is ended by its monitor; a stop hook keeps lxkit's stop path", async () => {
  await withScratch(async (s) => {
    const lines: string[] = [];
    const runtime = await createRuntime();
    const c = new Container('alone', { lxcpath: s.lxcpath, runtime, log: recordingLogger(lines) });
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    const before = await hostMounts();
    for (let i = 0; i < 5; i++) {
      const states: ContainerState[] = [];
      const exit = await c.execute(['/bin/sh', '-c', 'exit 3'], { onState: (st) => states.push(st) });
      assert.equal(exit, { code: 3, signal: 0 });
      assert.equal(states, ['STARTING', 'RUNNING', 'STOPPING', 'STOPPED']);
      // All undone by the time execute resolves: cgroups, mounts, and the lock, free for the next run.
      assert.equal(await containerCgroups(['alone']), []);
      assert.equal(await hostMounts(), before);
      assert.is(await c.state(), 'STOPPED');
    }
    assert.is(lines.filter((l) => l.includes("the container ends here (nothing of lxkit's is needed at its end)")).length, 5, 'its monitor ended it each time');

    // Its namespaces may still be going when STOPPED is said (as LXC lets go of its namespace fds after
    // STOPPED), but they go: nothing holds the container's mount namespace a moment later.
    assert.equal(await c.execute(['/bin/sh', '-c', 'readlink /proc/self/ns/mnt > /ns']), { code: 0, signal: 0 });
    const ns = (await readFile(join(s.lxcpath, 'alone/rootfs/ns'), 'utf8')).trim();
    assert.match(ns, /^mnt:\[\d+\]$/);
    const holders = async () => {
      const found: string[] = [];
      for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
        const links = [`/proc/${pid}/ns/mnt`, ...(await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])).map((fd) => `/proc/${pid}/fd/${fd}`)];
        for (const l of links) if ((await readlink(l).catch(() => '')) === ns) found.push(l);
      }
      return found;
    };
    await until(async () => ((await holders()).length === 0 ? true : undefined), 2000, `the container's mount namespace ${ns} let go`);

    // A log that shows no debug messages does not get the monitor's: it does not send them.
    const quiet: string[] = [];
    assert.equal(await new Container('alone', { lxcpath: s.lxcpath, runtime, log: recordingLogger(quiet, false) }).execute(['/bin/true']), { code: 0, signal: 0 });
    assert.not.ok(quiet.some((l) => l.startsWith('monitor: ')), quiet.filter((l) => l.startsWith('monitor: ')).join('\n'));

    // A stop hook is stop work: lxkit runs it, the container's namespaces still there, then ends the container.
    lines.length = 0;
    const hookLog = join(s.dir, 'stop.log');
    const hook = join(s.dir, 'stop.sh');
    await writeFile(hook, `#!/bin/sh\ntest -e "$LXC_NET_NS" && echo "$3 $LXC_TARGET" >> ${hookLog}\n`, { mode: 0o755 });
    await c.setConfigItem('lxc.hook.stop', hook);
    await c.saveConfig();
    assert.equal(await c.execute(['/bin/true']), { code: 0, signal: 0 });
    assert.is(await readFile(hookLog, 'utf8'), 'stop stop\n');
    assert.not.ok(lines.some((l) => l.includes('the container ends here')), 'lxkit ended it');
    assert.equal(await containerCgroups(['alone']), []);
    await c.destroy();
  });
});

lib("destroy removes no storage it cannot, and never a directory above the container's", async () => {
  await withScratch(async (s) => {
    const dir = join(s.lxcpath, 'z');
    const config = join(dir, 'config');
    await mkdir(dir);
    const c = new Container('z', { lxcpath: s.lxcpath });
    // A Ceph RBD image would be left with nothing that knows of it: refused, the container kept.
    await writeFile(config, 'lxc.rootfs.path = rbd:lxc/z\n');
    const err = await c.destroy().then(() => undefined, (e: unknown) => e);
    assert.ok(isLxkitError(err, 'LXKIT_UNSUPPORTED'), String(err));
    assert.match((err as Error).message, /cannot destroy container "z": lxc\.rootfs\.path = rbd:lxc\/z: storage type "rbd" is not available/);
    assert.ok(existsSync(config), 'the container is kept');
    // Storage LXC does not manage is not touched: the directory alone goes.
    await writeFile(config, 'lxc.rootfs.path = rbd:lxc/z\nlxc.rootfs.managed = 0\n');
    await c.destroy();
    assert.not.ok(existsSync(dir));
    // A rootfs path naming the lxcpath (above the container's directory) goes no further than the directory.
    await mkdir(join(s.lxcpath, 'other'));
    await mkdir(dir);
    await writeFile(config, `lxc.rootfs.path = dir:${s.lxcpath}\n`);
    await c.destroy();
    assert.not.ok(existsSync(dir));
    assert.ok(existsSync(join(s.lxcpath, 'other')), 'the rest of the lxcpath stays');
  });
});

lib.run();
