/**
 * Containers in the background: start -d leaves the container to its
 * monitor (no lxkit process stays), info/stop/wait talk to the monitor's
 * command socket, the stop work runs when the init exits, reboots restart,
 * and crashes of lxkit or the monitor leave nothing behind.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { CommandClient, Container, registerWatcher, watchDir, watchPrefix, type ContainerState } from '@lxkit/core';
import { native } from '@lxkit/native';
import { busyboxIn as busybox, lxkitIn as run, hostMounts, LXKIT_BIN, lxkit, ROOT, until, withScratch, type Scratch } from '../lib/harness.js';


/** Processes whose command line mentions lxkit's CLI and this container (a resident lxkit would show here). */
async function lxkitProcesses(name: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return stdout.split('\n').filter((l) => l.includes('lxkit.cjs') && l.includes(` ${name}`));
}

/** A process that exists and is not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Ends the process whose pid a hook wrote to `file` (a sleeping hook outlives the lxkit that ran it). */
function killPidFile(file: string): void {
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
  } catch {
    // Gone already.
  }
}

const daemon = suite('daemon mode');

daemon('start -d returns with the container RUNNING and no lxkit process left; info, stop and wait talk to its monitor', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'd1');
    const before = await hostMounts();
    const log = join(s.dir, 'd1.log');
    const started = await run(s, 'start', '-n', 'd1', '-l', 'DEBUG', '-o', log);
    assert.is(started.exitCode, 0, started.stderr);
    assert.equal(await lxkitProcesses('d1'), [], 'no lxkit stays resident');
    // Root's container without a user namespace: the monitor made its network namespace during pre-start.
    assert.match(await readFile(log, 'utf8'), /the first process starts in the network namespace made ahead of its clone/);
    const info = await run(s, 'info', '-n', 'd1');
    assert.match(info.stdout, /^Name:\s+d1\nState:\s+RUNNING\nPID:\s+[0-9]+\nCPU use:\s+[0-9.]+ seconds\n/);
    const pid = Number(/PID:\s+([0-9]+)/.exec(info.stdout)![1]);
    assert.ok(alive(pid));
    assert.equal((await run(s, 'info', '-n', 'd1', '-s', '-p')).stdout, `State:          RUNNING\nPID:            ${pid}`);
    assert.equal((await run(s, 'info', '-n', 'd1', '-c', 'lxc.signal.halt')).stdout, 'lxc.signal.halt = SIGUSR1');
    assert.equal(await hostMounts(), before, "the container's mounts are its own");

    // Addresses come from the container's network namespace (a veth pair made inside it, left down: no traffic), lo left out.
    const addressed = await run(s, 'attach', '-n', 'd1', '--', 'sh', '-c', 'ip link add v0 type veth peer name v1 && ip addr add 192.0.2.7/24 dev v0 && ip addr add 2001:db8::7/64 dev v0');
    assert.is(addressed.exitCode, 0, addressed.stderr);
    assert.is((await run(s, 'info', '-n', 'd1', '-i')).stdout, 'IP:             192.0.2.7\nIP:             2001:db8::7');
    const monitor = Number(/^PPid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    assert.is(readFileSync(`/proc/${monitor}/comm`, 'utf8').trim(), 'lxkit-monitor');
    assert.is(readlinkSync(`/proc/${monitor}/ns/net`), readlinkSync('/proc/self/ns/net'), 'the monitor is back in the host network namespace');
    assert.is.not(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'), 'the container has a network namespace of its own');
    assert.match((await run(s, 'attach', '-n', 'd1', '--', 'ip', 'link', 'show', 'lo')).stdout, /<LOOPBACK,UP/, 'with its loopback up');

    const second = await run(s, 'start', '-n', 'd1');
    assert.is(second.exitCode, 1);
    assert.match(second.stderr, /cannot start container "d1": it is running or busy/);

    const waiting = run(s, 'wait', '-n', 'd1', '-s', 'STOPPED', '-t', '30');
    const stopped = await run(s, 'stop', '-n', 'd1', '-t', '20');
    assert.is(stopped.exitCode, 0, stopped.stderr);
    assert.is((await waiting).exitCode, 0, 'wait returns once it has stopped');
    assert.not.ok(alive(pid));
    assert.is((await run(s, 'info', '-n', 'd1', '-s')).stdout, 'State:          STOPPED');
    const again = await run(s, 'stop', '-n', 'd1');
    assert.equal([again.exitCode, again.stderr.trim()], [2, 'lxkit-stop: d1: container "d1" is not running']);
    assert.is((await run(s, 'wait', '-n', 'd1', '-s', 'RUNNING', '-t', '1')).exitCode, 1, 'a timeout is exit 1');
  });
});

daemon('the stop work runs when the init exits (stop and post-stop hooks), a reboot starts it again, -k kills', async () => {
  await withScratch(async (s) => {
    const log = join(s.dir, 'hooks.log');
    const hook = join(s.dir, 'hook.sh');
    await writeFile(hook, `#!/bin/sh\necho "$3 $LXC_TARGET" >> ${log}\n`, { mode: 0o755 });
    await busybox(s, 'r', `lxc.hook.stop = ${hook}\nlxc.hook.post-stop = ${hook}\n`);
    assert.is((await run(s, 'start', '-n', 'r')).exitCode, 0);
    const c = new Container('r', { lxcpath: s.lxcpath });
    const first = await c.initPid();
    const states: ContainerState[] = [];
    const unsubscribe = await c.onState((st) => states.push(st));
    assert.is((await run(s, 'stop', '-n', 'r', '-r')).exitCode, 0);
    const second = await until(async () => {
      const p = await c.initPid();
      return p !== undefined && p !== first && (await c.state()) === 'RUNNING' ? p : undefined;
    }, 20_000, 'running again after the reboot');
    unsubscribe();
    assert.ok(second !== first);
    assert.equal(states.slice(0, 2), ['STOPPING', 'STOPPED'], 'the old monitor goes through its end');
    assert.equal((await readFile(log, 'utf8')).trim().split('\n'), ['stop reboot', 'post-stop reboot']);

    assert.is((await run(s, 'stop', '-n', 'r', '-k')).exitCode, 0);
    assert.is(await c.state(), 'STOPPED');
    assert.equal((await readFile(log, 'utf8')).trim().split('\n').slice(2), ['stop stop', 'post-stop stop']);
  });
});

daemon('a start right after a stop finds the command socket free: 25 start/stop({ kill }) cycles in a row through the library', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'rs');
    const c = new Container('rs', { lxcpath: s.lxcpath });
    try {
      for (let i = 0; i < 25; i++) {
        await c.start();
        assert.is(await c.state(), 'RUNNING', `cycle ${i}`);
        await c.stop({ kill: true });
      }
      assert.is(await c.state(), 'STOPPED');
    } finally {
      await c.stop({ kill: true }).catch(() => undefined);
    }
  });
});

daemon('a daemon whose init exits at once still started (as lxc-start -d says), and its end runs its post-stop once: 30 starts of /bin/true', async () => {
  // The init may exit before the monitor took the hand-over (more so on a loaded machine): lxkit then ends
  // the container itself, as in the foreground; before, that start failed with "ended during start-up".
  await withScratch(async (s) => {
    const count = join(s.dir, 'post-stop');
    const hook = join(s.dir, 'post-stop.sh');
    await writeFile(hook, `#!/bin/sh\necho "$LXC_NAME" >> ${count}\n`, { mode: 0o755 });
    await busybox(s, 'quick', `lxc.hook.post-stop = ${hook}\n`);
    const c = new Container('quick', { lxcpath: s.lxcpath });
    const ended = async () => (await readFile(count, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    for (let i = 1; i <= 30; i++) {
      await c.start({ command: ['/bin/true'] });
      await until(async () => ((await ended()) >= i ? true : undefined), 10000, `start ${i}: its post-stop`);
      await until(async () => ((await c.state()) === 'STOPPED' ? true : undefined), 10000, `start ${i}: STOPPED`);
    }
    assert.is(await ended(), 30, 'one post-stop per start');
  });
});

daemon("the monitor ends a container by itself when nothing needs lxkit's stop work; a post-stop script needs it", async () => {
  await withScratch(async (s) => {
    await busybox(s, 'sw');
    const log = join(s.dir, 'start.log');
    const decisions = async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((l) => /its monitor ends it alone|needs lxkit's stop work/.test(l))
        .map((l) => l.replace(/^.*container sw: /, ''));
    const cycle = async () => {
      const started = await run(s, 'start', '-n', 'sw', '-l', 'DEBUG', '-o', log);
      assert.is(started.exitCode, 0, started.stderr);
      const stopped = await run(s, 'stop', '-n', 'sw', '-k');
      assert.is(stopped.exitCode, 0, stopped.stderr);
      assert.is(await new Container('sw', { lxcpath: s.lxcpath }).state(), 'STOPPED');
    };
    // Every built-in plugin is enabled: none of them has work at this container's end.
    await cycle();
    assert.equal(await decisions(), ['its monitor ends it alone']);

    const ran = join(s.dir, 'post-stop.ran');
    const hook = join(s.dir, 'post-stop.sh');
    await writeFile(hook, `#!/bin/sh\necho "$1 $3" > ${ran}\n`, { mode: 0o755 });
    await appendFile(join(s.lxcpath, 'sw', 'config'), `lxc.hook.post-stop = ${hook}\n`);
    await cycle();
    assert.equal((await decisions())[1], "its end needs lxkit's stop work (lxc.hook.post-stop scripts)");
    assert.is((await readFile(ran, 'utf8')).trim(), 'sw post-stop', 'the stop work ran the script');
    // The next start does not wait for the stop work to exit: its lock is let go once the work is done.
    assert.is((await run(s, 'start', '-n', 'sw')).exitCode, 0);
    assert.is((await run(s, 'stop', '-n', 'sw', '-k')).exitCode, 0);
  });
});

daemon('an ephemeral daemon is removed when it stops; a halt from inside ends a daemon too', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'e', 'lxc.ephemeral = 1\n');
    assert.is((await run(s, 'start', '-n', 'e', '--', '/bin/sh', '-c', 'sleep 0.5; exit 0')).exitCode, 0);
    const c = new Container('e', { lxcpath: s.lxcpath });
    assert.ok(await c.wait('STOPPED', 20_000));
    await until(async () => (existsSync(join(s.lxcpath, 'e')) ? undefined : true), 10_000, 'the ephemeral container removed');
  });
});

daemon('SIGKILL of lxkit during a start, or of the monitor while it runs: the container ends, nothing is left, the next start works', async () => {
  await withScratch(async (s) => {
    const hook = join(s.dir, 'slow.sh');
    const hookPid = join(s.dir, 'slow.pid');
    // exec: the hook's pid is the sleep's, so that the test can end it.
    await writeFile(hook, `#!/bin/sh\necho $$ > ${hookPid}\nexec sleep 30\n`, { mode: 0o755 });
    await busybox(s, 'k', `lxc.hook.pre-start = ${hook}\n`);
    const before = await hostMounts();
    // lxkit killed while a pre-start hook runs: the monitor exists, the container is being started.
    const cli = execa(process.execPath, [LXKIT_BIN, 'start', '-n', 'k', '-P', s.lxcpath], { env: { ...s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false, detached: true });
    const c = new Container('k', { lxcpath: s.lxcpath });
    await until(async () => ((await c.state()) === 'STARTING' ? true : undefined), 10_000, 'STARTING');
    process.kill(-cli.pid!, 'SIGKILL');
    await cli;
    await until(async () => ((await c.state()) === 'STOPPED' ? true : undefined), 10_000, 'STOPPED once lxkit is gone');
    killPidFile(hookPid);

    // The monitor killed while the container runs: its init dies with it (parent-death signal).
    const config = join(s.lxcpath, 'k', 'config');
    await writeFile(config, (await readFile(config, 'utf8')).replace(/^lxc\.hook\.pre-start = .*$/m, ''));
    assert.is((await run(s, 'start', '-n', 'k')).exitCode, 0, 'a start after the crash works');
    const status = (await (await c.running()).status())!;
    process.kill(status.monitorPid, 'SIGKILL');
    await until(async () => (alive(status.pid!) ? undefined : true), 10_000, 'the init ended with its monitor');
    assert.is(await c.state(), 'STOPPED');
    assert.is((await run(s, 'start', '-n', 'k')).exitCode, 0, 'and again');
    assert.is((await run(s, 'stop', '-n', 'k', '-k')).exitCode, 0);
    assert.equal(await hostMounts(), before);
  });
});

daemon("SIGKILL of lxkit's stop work during a post-stop hook: the monitor ends, nothing is left, the next start works", async () => {
  await withScratch(async (s) => {
    const started = join(s.dir, 'post-stop.started');
    const hook = join(s.dir, 'slow-post-stop.sh');
    await writeFile(hook, `#!/bin/sh\necho $$ > ${started}\nexec sleep 30\n`, { mode: 0o755 });
    await busybox(s, 'ps1', `lxc.hook.post-stop = ${hook}\n`);
    const before = await hostMounts();
    assert.is((await run(s, 'start', '-n', 'ps1')).exitCode, 0);
    const c = new Container('ps1', { lxcpath: s.lxcpath });
    const status = (await (await c.running()).status())!;
    assert.is((await run(s, 'stop', '-n', 'ps1', '-k', '-W')).exitCode, 0);
    await until(async () => (existsSync(started) ? true : undefined), 20_000, 'the post-stop hook running');
    // The stop work is the monitor's child: `lxkit __stopped`.
    const { stdout } = await execa('ps', ['-o', 'pid=,args=', '--ppid', String(status.monitorPid)]);
    const stopWork = stdout.split('\n').find((l) => l.includes('__stopped'));
    assert.ok(stopWork, `lxkit __stopped runs under the monitor:\n${stdout}`);
    process.kill(Number(stopWork.trim().split(/\s+/)[0]), 'SIGKILL');
    await until(async () => (alive(status.monitorPid) ? undefined : true), 10_000, 'the monitor gone');
    killPidFile(started);
    assert.is(await c.state(), 'STOPPED');
    assert.equal(await hostMounts(), before);
    await writeFile(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.is((await run(s, 'start', '-n', 'ps1')).exitCode, 0, 'a start after the crash works');
    assert.is((await run(s, 'stop', '-n', 'ps1', '-k')).exitCode, 0);
  });
});

daemon('20 containers started and stopped concurrently leave no mount, socket or process behind', async () => {
  await withScratch(async (s) => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    await busybox(s, 'base');
    for (const n of names) await execa('cp', ['-a', join(s.lxcpath, 'base'), join(s.lxcpath, n)]);
    for (const n of names) {
      const config = join(s.lxcpath, n, 'config');
      await writeFile(config, (await readFile(config, 'utf8')).replaceAll('/base/', `/${n}/`).replace(/^lxc\.uts\.name = .*$/m, `lxc.uts.name = ${n}`));
    }
    const before = await hostMounts();
    const unixBefore = (await readFile('/proc/net/unix', 'utf8')).split('\n').filter((l) => l.includes('@lxkit/')).length;
    const starts = await Promise.all(names.map((n) => run(s, 'start', '-n', n)));
    assert.equal(starts.map((r) => r.exitCode), names.map(() => 0), starts.map((r) => r.stderr).join(''));
    const pids = await Promise.all(names.map((n) => new Container(n, { lxcpath: s.lxcpath }).initPid()));
    assert.ok(pids.every((p) => p && alive(p)));
    const stops = await Promise.all(names.map((n) => run(s, 'stop', '-n', n, '-k')));
    assert.equal(stops.map((r) => r.exitCode), names.map(() => 0), stops.map((r) => r.stderr).join(''));
    assert.ok(pids.every((p) => !alive(p!)), 'every init is gone');
    assert.equal(await hostMounts(), before);
    const unixAfter = (await readFile('/proc/net/unix', 'utf8')).split('\n').filter((l) => l.includes('@lxkit/')).length;
    assert.is(unixAfter, unixBefore, 'every command socket is gone');
    assert.equal(await lxkitProcesses('-n'), []);
  });
});

daemon('a watcher gets each state change once, also while it keeps earlier connections open; a registration nobody answers is removed', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'w1');
    // A watcher that never closes what it accepts: those sockets carry the listener's name in /proc/net/unix too.
    const conns: Socket[] = [];
    const events: Buffer[] = [];
    const server = createServer({ allowHalfOpen: true }, (c) => {
      conns.push(c);
      c.on('data', (d: Buffer) => events.push(d));
    });
    await new Promise<void>((r) => server.listen({ fd: native().listenAbstract(`${watchPrefix(s.lxcpath)}${process.pid}`) }, r));
    const dir = watchDir(s.lxcpath);
    const unregister = registerWatcher(dir);
    // A watcher killed before it could remove its file (no pid is above the kernel's 4194304).
    const stale = join(dir, '4194305');
    await writeFile(stale, '');
    try {
      assert.ok(existsSync(join(dir, String(process.pid))), 'registered by its pid');
      assert.is((await run(s, 'start', '-n', 'w1')).exitCode, 0);
      assert.is(existsSync(stale), false, 'the first event found nobody at the stale name and removed it');
      assert.is((await run(s, 'stop', '-n', 'w1', '-k')).exitCode, 0);
      await until(async () => (events.length >= 5 ? true : undefined), 10_000, 'four state events and the exit');
      await new Promise((r) => setTimeout(r, 200));
      assert.is(events.length, 5, 'STARTING RUNNING STOPPING STOPPED and the init\'s exit, once each');
      assert.is(conns.length, 5, 'one connection per event');
      assert.ok(events.every((e) => e.includes('w1')), "each names the container");
      assert.ok(existsSync(join(dir, String(process.pid))), 'a watcher that answers stays registered');
    } finally {
      unregister();
      for (const c of conns) c.destroy();
      await new Promise((r) => server.close(r));
    }
    assert.is(existsSync(dir), false, 'the last watcher to go removes the directory');
  });
});

daemon('monitor prints each state change as it happens; -n selects by name', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'm1');
    await busybox(s, 'x1');
    const watch = execa(process.execPath, [LXKIT_BIN, 'monitor', '-P', s.lxcpath, '-n', 'm.*'], { env: { ...s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false });
    let out = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const registration = join(watchDir(s.lxcpath), String(watch.pid));
    try {
      // The watcher listens once it has registered (after its socket exists).
      await until(async () => (existsSync(registration) ? true : undefined), 10_000, 'lxkit monitor registered');
      assert.ok((await readFile('/proc/net/unix', 'utf8')).includes(`.watch/${watch.pid}`), 'and listening');
      for (const n of ['m1', 'x1']) assert.is((await run(s, 'start', '-n', n)).exitCode, 0);
      for (const n of ['m1', 'x1']) assert.is((await run(s, 'stop', '-n', n, '-k')).exitCode, 0);
      await until(async () => (out.includes('[STOPPED]') ? true : undefined), 10_000, 'STOPPED printed');
      assert.equal(out.trim().split('\n'), [
        "'m1' changed state to [STARTING]",
        "'m1' changed state to [RUNNING]",
        "'m1' exited with status [137]",
        "'m1' changed state to [STOPPING]",
        "'m1' changed state to [STOPPED]",
      ]);
    } finally {
      watch.kill('SIGINT');
      assert.is((await watch).exitCode, 0, 'an interrupt is a normal end');
    }
    assert.is(existsSync(registration), false, 'its registration goes with it');
  });
});

daemon("monitor watches every lxcpath given with -P, prints an init's exit between RUNNING and STOPPING, and -Q only exits", async () => {
  await withScratch(async (s) => {
    const other: Scratch = { ...s, lxcpath: join(s.dir, 'lxc2') };
    await busybox(s, 'a1');
    await busybox(other, 'b1');
    const watch = execa(process.execPath, [LXKIT_BIN, 'monitor', '-P', s.lxcpath, '-P', other.lxcpath], { env: { ...s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false });
    let out = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // One listening socket and one registration per lxcpath.
      await until(
        async () => ([s, other].every((x) => existsSync(join(watchDir(x.lxcpath), String(watch.pid)))) ? true : undefined),
        10_000,
        'lxkit monitor registered for both lxcpaths',
      );
      assert.is((await readFile('/proc/net/unix', 'utf8')).split('\n').filter((l) => l.endsWith(`.watch/${watch.pid}`)).length, 2);
      assert.is((await run(s, 'execute', '-n', 'a1', '--', 'sh', '-c', 'exit 3')).exitCode, 3);
      assert.is((await run(other, 'execute', '-n', 'b1', '--', 'sh', '-c', 'kill -9 $$')).exitCode, 137);
      await until(async () => (out.match(/\[STOPPED\]/g)?.length === 2 ? true : undefined), 10_000, 'both STOPPED printed');
      assert.equal(out.trim().split('\n'), [
        "'a1' changed state to [STARTING]",
        "'a1' changed state to [RUNNING]",
        "'a1' exited with status [3]",
        "'a1' changed state to [STOPPING]",
        "'a1' changed state to [STOPPED]",
        "'b1' changed state to [STARTING]",
        "'b1' changed state to [RUNNING]",
        "'b1' exited with status [137]",
        "'b1' changed state to [STOPPING]",
        "'b1' changed state to [STOPPED]",
      ]);
    } finally {
      watch.kill('SIGINT');
      assert.is((await watch).exitCode, 0, 'an interrupt is a normal end');
    }
    // lxc-monitor -Q asks LXC's monitor daemon to quit: lxkit has none, and exits at once.
    const quit = await run(s, 'monitor', '-Q');
    assert.is(quit.exitCode, 0, quit.stderr);
    assert.is(quit.stdout, '');
  });
});

daemon('ls: names, --fancy and -F tables, state filters, groups (a container in all of them), a regular expression', async () => {
  await withScratch(async (s) => {
    for (const n of ['web1', 'web2', 'db']) await busybox(s, n, '', n === 'db' ? ['--privileged'] : []);
    await appendFile(join(s.lxcpath, 'web1/config'), 'lxc.group = web\nlxc.group = prod\n');
    await appendFile(join(s.lxcpath, 'web2/config'), 'lxc.group = web\n');
    assert.is((await run(s, 'start', '-n', 'web2')).exitCode, 0);
    try {
      assert.is((await run(s, 'ls')).stdout, 'db\nweb1\nweb2');
      const fancy = (await run(s, 'ls', '--fancy')).stdout.split('\n').map((l) => l.split(/\s{2,}/));
      assert.equal(fancy[0], ['NAME', 'STATE', 'AUTOSTART', 'GROUPS', 'IPV4', 'IPV6', 'UNPRIVILEGED']);
      assert.equal(fancy.slice(1).map((r) => [r[0], r[1], r[6]]), [['db', 'STOPPED', 'false'], ['web1', 'STOPPED', 'true'], ['web2', 'RUNNING', 'true']]);
      const pid = await new Container('web2', { lxcpath: s.lxcpath }).initPid();
      assert.is((await run(s, 'ls', '-F', 'name,pid', '--running')).stdout, `NAME  PID\nweb2  ${pid}`);
      assert.is((await run(s, 'ls', '--stopped', '--filter', '^web')).stdout, 'web1');
      assert.is((await run(s, 'ls', '--active', '-1')).stdout, 'web2');
      assert.is((await run(s, 'ls', 'db|web1')).stdout, 'db\nweb1');
      assert.is((await run(s, 'ls', '-g', 'web')).stdout, 'web1\nweb2');
      assert.is((await run(s, 'ls', '-1', '-g', 'web,prod')).stdout, 'web1', 'in both groups, as lxc-ls -g');
      assert.is((await run(s, 'ls', '-g', 'prod,dev')).stdout, '');
      assert.is((await run(s, 'stop', '-n', 'web2', '-k', '--nolock')).exitCode, 0, "lxc-stop's --nolock is taken");
      const bad = await run(s, 'ls', '-F', 'name,colour');
      assert.is(bad.exitCode, 1);
      assert.match(bad.stderr, /unknown column COLOUR/);
    } finally {
      await run(s, 'stop', '-n', 'web2', '-k');
    }
  });
});

/** Config lines for a privileged container that runs lxkit itself: the host's node and this checkout, read-only, and cgroups of its own to make its containers' in. */
const NESTING = [
  'lxc.mount.entry = /usr usr none ro,bind 0 0',
  'lxc.mount.entry = /usr/lib lib none ro,bind,create=dir 0 0',
  'lxc.mount.entry = /usr/lib64 lib64 none ro,bind,create=dir 0 0',
  `lxc.mount.entry = ${ROOT} ${ROOT.slice(1)} none ro,bind,create=dir 0 0`,
  'lxc.mount.auto = cgroup:rw:force',
  '',
].join('\n');

daemon('ls --nesting: the containers of the same lxcpath inside running ones (an lxkit run inside each, two levels deep), as OUTER/INNER names and an indented table; levels, selections, a bad level', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'outer', NESTING);
    assert.is((await run(s, 'start', '-n', 'outer')).exitCode, 0);
    try {
      // `lxkit -P <the same lxcpath> ARGS` run inside the containers of `path` (outer, then inner in it), with a clean environment.
      const inside = async (path: readonly string[], ...args: string[]) => {
        let cmd = [process.execPath, LXKIT_BIN, ...args];
        for (const name of [...path].reverse().slice(0, -1)) cmd = [process.execPath, LXKIT_BIN, 'attach', '-P', s.lxcpath, '-n', name, '--clear-env', '--', ...cmd];
        const r = await run(s, 'attach', '-n', path[0]!, '--clear-env', '--', ...cmd);
        assert.is(r.exitCode, 0, `${args.join(' ')} in ${path.join('/')}: ${r.stderr}`);
      };
      for (const name of ['inner', 'idle']) await inside(['outer'], 'create', '-P', s.lxcpath, '-n', name, '-t', 'busybox', '--', '--privileged');
      // The outer container's files are on its rootfs: inner runs lxkit too.
      await appendFile(join(s.lxcpath, 'outer/rootfs', s.lxcpath, 'inner/config'), NESTING);
      await inside(['outer'], 'start', '-P', s.lxcpath, '-n', 'inner');
      await inside(['outer', 'inner'], 'create', '-P', s.lxcpath, '-n', 'deep', '-t', 'busybox', '--', '--privileged');
      await inside(['outer', 'inner'], 'start', '-P', s.lxcpath, '-n', 'deep');

      assert.is((await run(s, 'ls')).stdout, 'outer', 'without --nesting, the lxcpath alone');
      assert.is((await run(s, 'ls', '--nesting')).stdout, 'outer\nouter/idle\nouter/inner\nouter/inner/deep');
      assert.is((await run(s, 'ls', '--nesting=1')).stdout, 'outer\nouter/idle\nouter/inner', 'one level');
      assert.is((await run(s, 'ls', '--nesting', '--running', '-1')).stdout, 'outer\nouter/inner\nouter/inner/deep');
      assert.is((await run(s, 'ls', '--nesting', '--stopped')).stdout, '', 'a container left out is not looked into');
      const table = (await run(s, 'ls', '--nesting', '-F', 'name,state,pid')).stdout.split('\n').map((l) => l.split(/\s{2,}/));
      assert.equal(table.map((r) => r.slice(0, 2)), [['NAME', 'STATE'], ['outer', 'RUNNING'], ['\\idle', 'STOPPED'], ['\\inner', 'RUNNING'], [' \\deep', 'RUNNING']]);
      // A nested container's pid as its parent sees it: small numbers in a new pid namespace, none for a stopped one.
      assert.is(table[1]![2], String(await new Container('outer', { lxcpath: s.lxcpath }).initPid()));
      assert.match(table[3]![2]!, /^[0-9]+$/);
      assert.is(table[2]![2], '-');
      // Memory use read from the nested containers' cgroups, where their parent's mount namespace has them.
      const ram = (await run(s, 'ls', '--nesting', '-F', 'name,ram')).stdout.split('\n').map((l) => l.split(/\s{2,}/));
      assert.equal(ram.map((r) => /^[0-9]+\.[0-9]{2}MB$/.test(r[1]!)), [false, true, false, true, true], ram.map((r) => r.join(' ')).join('; '));
      // The relay's answers: nobody listening there is a container not running; a namespace that is not there, a Node-style error.
      const netns = `/proc/${table[1]![2]}/ns/net`;
      assert.is(await CommandClient.connect('lxkit/no-such-container', 'x', { netns }), undefined);
      const err = (await CommandClient.connect('lxkit/x', 'x', { netns: join(s.dir, 'no-such-namespace') }).catch((e: unknown) => e)) as NodeJS.ErrnoException;
      assert.equal([err.code, err.syscall, err.path], ['ENOENT', 'open', join(s.dir, 'no-such-namespace')]);
      const bad = await run(s, 'ls', '--nesting=two');
      assert.is(bad.exitCode, 1);
      assert.match(bad.stderr, /"two" is not a number of levels/);
    } finally {
      // Stopping outer ends everything in it: its pid namespace, and the nested cgroups under its own.
      await run(s, 'stop', '-n', 'outer', '-k');
    }
    assert.equal((await hostMounts()).filter((m) => m.startsWith(s.dir)), []);
  });
});

daemon('start -p writes the pid file (removed at the stop), -L logs the console, -c copies it to a file', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'p1');
    const pidfile = join(s.dir, 'p1.pid');
    const log = join(s.dir, 'console.log');
    const copy = join(s.dir, 'console.out');
    assert.is((await run(s, 'start', '-n', 'p1', '-p', pidfile, '-L', log, '-c', copy)).exitCode, 0);
    const c = new Container('p1', { lxcpath: s.lxcpath });
    assert.is(await readFile(pidfile, 'utf8'), `${await c.initPid()}\n`);
    await until(async () => ((await readFile(log, 'utf8').catch(() => '')).includes('Please press Enter') ? true : undefined), 10_000, 'the console logged');
    assert.match(await readFile(copy, 'utf8'), /Please press Enter to activate this console/);
    assert.is((await run(s, 'stop', '-n', 'p1')).exitCode, 0);
    await until(async () => (existsSync(pidfile) ? undefined : true), 10_000, 'the pid file removed');
  });
});

daemon.run();
