/**
 * Launch plans: lxkit-front replays `lxkit execute`, `start -d`, `stop` and `attach`
 * from what an earlier run of the same command recorded, without Node, and
 * runs the Node CLI whenever anything the plan depends on differs
 * (docs/launch-plans.md).
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, readdir, readFile, realpath, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxIn, containerCgroups, hostMounts, lxkit, lxkitIn, ROOT, until, withScratch, type CliResult, type Scratch } from '../lib/harness.js';

const FRONT = join(ROOT, 'native/build/Release/lxkit-front');
const plans = suite('launch plans (lxkit-front)');

/**
 * Runs the front with a scratch cache directory and a node that counts its
 * runs (LXKIT_NODE, the same for every run: the environment is part of a plan).
 */
async function frontFor(
  s: Scratch,
): Promise<{ run: (...args: string[]) => Promise<CliResult>; nodeRuns: () => Promise<number>; planDir: string; env: NodeJS.ProcessEnv }> {
  const counter = join(s.dir, 'node-runs');
  const spy = join(s.dir, 'node-spy');
  await writeFile(spy, `#!/bin/sh\necho run >> '${counter}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const env = { ...s.env, XDG_CACHE_HOME: join(s.dir, 'cache'), LXKIT_NODE: spy, LXKIT_PLAN_DEBUG: '1' };
  return {
    run: (...args: string[]) => lxkit(args, { bin: FRONT, env }),
    nodeRuns: async () => (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
    planDir: join(s.dir, 'cache/lxkit/plans'),
    env,
  };
}

async function monitorsOf(dir: string): Promise<number> {
  let n = 0;
  for (const pid of (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (cmd.startsWith('lxkit-monitor') && environ.includes(dir)) n++;
  }
  return n;
}

/** Monitors that have exited and were not reaped (the front exited without waiting for its own: init got them). */
async function zombieMonitors(): Promise<Set<string>> {
  const found = new Set<string>();
  for (const pid of (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(lxkit-monitor\) Z /.test(stat)) found.add(pid);
  }
  return found;
}

plans('the second run replays the first one\'s plan without Node: same output, same exit status, nothing left behind', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    const before = await hostMounts();
    const cmd = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'sh', '-c', 'echo $(hostname) $$; exit 42'];
    const first = await run(...cmd);
    assert.equal([first.exitCode, first.stdout], [42, 'bb 2'], first.stderr);
    assert.match(first.stderr, /no launch plan yet/);
    assert.match(first.stderr, /launch plan written/);
    assert.is(await nodeRuns(), 1);
    const zombies = await zombieMonitors();
    for (let i = 0; i < 2; i++) {
      const again = await run(...cmd);
      assert.equal([again.exitCode, again.stdout, again.stderr], [42, 'bb 2', ''], 'replayed: the debug output says nothing');
      const left = [...(await zombieMonitors())].filter((pid) => !zombies.has(pid));
      assert.equal(left, [], 'the front reaped its monitor');
    }
    assert.is(await nodeRuns(), 1, 'Node did not run for the replays');
    const killed = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'sh', '-c', 'kill -9 $$'];
    await run(...killed);
    assert.is((await run(...killed)).exitCode, 137, 'death by SIGKILL is 137 in a replay too');
    assert.is(await nodeRuns(), 2);
    assert.equal(await hostMounts(), before, 'no mount of a container shows on the host');
    assert.equal(await containerCgroups(['bb']), [], 'no cgroup is left');
    assert.is(await monitorsOf(s.dir), 0, 'no monitor is left');
  });
});

plans('a changed input is noticed: the Node CLI runs with the new config, undoes nothing it did not do, and records again', async () => {
  await withScratch(async (s) => {
    const dir = await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    const cmd = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'hostname'];
    assert.is((await run(...cmd)).stdout, 'bb');
    // The config is read after the lock is taken and the monitor spawned: both are let go again.
    await writeFile(join(dir, 'config'), `${await readFile(join(dir, 'config'), 'utf8')}lxc.uts.name = changed\n`);
    const changed = await run(...cmd);
    assert.equal([changed.exitCode, changed.stdout], [0, 'changed'], changed.stderr);
    assert.match(changed.stderr, /launch plan not used: .*\/bb\/config has changed/);
    assert.match(changed.stderr, /launch plan written/);
    const replayed = await run(...cmd);
    assert.equal([replayed.stdout, replayed.stderr], ['changed', '']);
    assert.is(await nodeRuns(), 2);
    assert.equal(await containerCgroups(['bb']), []);
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans('a difference found after the replay made cgroups: they are removed, and the Node CLI does the command', async () => {
  await withScratch(async (s) => {
    // A policy of the container's own: it is consulted after the container's first cgroup is made.
    const policy = join(s.dir, 'policy.seccomp');
    await copyFile(join(ROOT, 'plugins/seccomp/policies/default.seccomp'), policy);
    await busyboxIn(s, 'bb', `lxc.seccomp.profile = ${policy}\n`);
    const { run, nodeRuns } = await frontFor(s);
    const cmd = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'sh', '-c', 'exit 3'];
    assert.is((await run(...cmd)).exitCode, 3);
    const t = new Date(Date.now() - 3600_000);
    await utimes(policy, t, t);
    const r = await run(...cmd);
    assert.is(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /launch plan not used: .*policy\.seccomp has changed/);
    assert.is(await nodeRuns(), 2);
    assert.equal(await containerCgroups(['bb']), []);
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans('runs a plan cannot stand for record none: a hook script on the host', async () => {
  await withScratch(async (s) => {
    const hook = join(s.dir, 'hook.sh');
    await writeFile(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await busyboxIn(s, 'bb', `lxc.hook.pre-start = ${hook}\n`);
    const { run, nodeRuns, planDir } = await frontFor(s);
    const cmd = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'true'];
    const first = await run(...cmd);
    assert.is(first.exitCode, 0, first.stderr);
    // Loading execa (ES modules, read asynchronously) already refuses it, before the child process.
    assert.match(first.stderr, /no launch plan: .*(a child process|execa)/);
    assert.is((await run(...cmd)).exitCode, 0);
    assert.is(await nodeRuns(), 2, 'every run is a Node one');
    assert.equal(await readdir(planDir), []);
  });
});

plans('a plan others may write is not used (and is replaced by a fresh one); stale plans are pruned', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns, planDir } = await frontFor(s);
    const cmd = ['execute', '-n', 'bb', '-P', s.lxcpath, '--', 'true'];
    await run(...cmd);
    const [file] = await readdir(planDir);
    await chmod(join(planDir, file!), 0o666);
    // A plan not written for 40 days: removed when another one is written.
    const stale = join(planDir, '0000000000000000.plan');
    await writeFile(stale, 'old', { mode: 0o600 });
    const old = new Date(Date.now() - 40 * 24 * 3600_000);
    await utimes(stale, old, old);
    const r = await run(...cmd);
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /no launch plan yet/);
    assert.is(await nodeRuns(), 2);
    assert.is((await stat(join(planDir, file!))).mode & 0o777, 0o600);
    assert.equal(await readdir(planDir), [file], 'the stale plan was removed');
  });
});

/** The container's state as the Node CLI tells it (not through the front: no Node run is counted). */
async function stateOf(s: Scratch, name: string): Promise<string> {
  const r = await lxkitIn(s, 'info', '-n', name, '-s');
  return /State:\s+(\S+)/.exec(r.stdout)?.[1] ?? `(info failed: ${r.stderr})`;
}

plans('start -d and stop -k are replayed without Node: the container runs on its monitor, then stops, and nothing is left', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    const before = await hostMounts();
    const start = ['start', '-n', 'bb', '-P', s.lxcpath, '-d'];
    const stop = ['stop', '-n', 'bb', '-P', s.lxcpath, '-k'];
    try {
      for (let i = 0; i < 3; i++) {
        const started = await run(...start);
        assert.is(started.exitCode, 0, started.stderr);
        assert.is(await stateOf(s, 'bb'), 'RUNNING');
        assert.is(await monitorsOf(s.dir), 1, 'the monitor stays with the container');
        const attached = await lxkitIn(s, 'attach', '-n', 'bb', '--', 'hostname');
        assert.equal([attached.exitCode, attached.stdout], [0, 'bb'], attached.stderr);
        const stopped = await run(...stop);
        assert.is(stopped.exitCode, 0, stopped.stderr);
        assert.is(await stateOf(s, 'bb'), 'STOPPED');
        if (i > 0) assert.equal([started.stderr, stopped.stderr], ['', ''], 'replayed: the debug output says nothing');
      }
      assert.is(await nodeRuns(), 2, 'Node ran once for each command, to record its plan');
      assert.equal(await hostMounts(), before, 'no mount of a container shows on the host');
      assert.equal(await containerCgroups(['bb']), [], 'no cgroup is left');
      assert.is(await monitorsOf(s.dir), 0, 'no monitor is left');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'bb', '-k');
    }
  });
});

plans("a replayed start of a running container and a replayed stop of a stopped one get the Node CLI's errors, and harm nothing", async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    const start = ['start', '-n', 'bb', '-P', s.lxcpath, '-d'];
    const stop = ['stop', '-n', 'bb', '-P', s.lxcpath, '-k'];
    try {
      assert.is((await run(...start)).exitCode, 0);
      const again = await run(...start);
      assert.is(again.exitCode, 1);
      assert.match(again.stderr, /launch plan not used: the container is locked/);
      assert.match(again.stderr, /it is running or busy/);
      assert.is(await stateOf(s, 'bb'), 'RUNNING', 'the running container is untouched');
      const pid = (await lxkitIn(s, 'info', '-n', 'bb', '-p')).stdout;
      assert.is((await run(...stop)).exitCode, 0);
      const twice = await run(...stop);
      assert.is(twice.exitCode, 2, 'not running: exit 2, as lxc-stop');
      assert.match(twice.stderr, /container "bb" is not running/);
      assert.is(await nodeRuns(), 4, 'both errors came from the Node CLI');
      assert.is((await run(...start)).exitCode, 0, 'a replay again');
      assert.is(await nodeRuns(), 4);
      assert.is.not((await lxkitIn(s, 'info', '-n', 'bb', '-p')).stdout, pid);
    } finally {
      await lxkitIn(s, 'stop', '-n', 'bb', '-k');
    }
    assert.equal(await containerCgroups(['bb']), []);
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans('a replayed stop sends the halt signal the container runs with, waits for it, kills after the timeout unless --nokill; -W and -r', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    // Busybox's init halts on SIGUSR1 (its config's lxc.signal.halt); sleep as the init ignores it.
    const startInit = ['start', '-n', 'bb', '-P', s.lxcpath, '-d'];
    const startSleep = ['start', '-n', 'bb', '-P', s.lxcpath, '-d', '--', 'sleep', '1000'];
    const halt = ['stop', '-n', 'bb', '-P', s.lxcpath];
    const nokill = ['stop', '-n', 'bb', '-P', s.lxcpath, '-t', '1', '--nokill'];
    const timeout = ['stop', '-n', 'bb', '-P', s.lxcpath, '-t', '1'];
    try {
      // The second round is replayed: a run that was not says why on stderr (LXKIT_PLAN_DEBUG).
      const replayed = (r: CliResult, round: number) => {
        if (round > 0) assert.not.match(r.stderr, /launch plan/, r.stderr);
      };
      for (let i = 0; i < 2; i++) {
        const started = await run(...startInit);
        assert.is(started.exitCode, 0, started.stderr);
        replayed(started, i);
        const halted = await run(...halt);
        replayed(halted, i);
        assert.is(halted.exitCode, 0, halted.stderr);
        assert.is(await stateOf(s, 'bb'), 'STOPPED');
        const sleeping = await run(...startSleep);
        assert.is(sleeping.exitCode, 0, sleeping.stderr);
        replayed(sleeping, i);
        const refused = await run(...nokill);
        assert.is(refused.exitCode, 1);
        replayed(refused, i);
        assert.match(refused.stderr, /did not halt within 1 s \(--nokill: not killed\)/);
        assert.is(await stateOf(s, 'bb'), 'RUNNING', 'a stop that did not end it leaves it running, as with LXC');
        const t0 = Date.now();
        const killed = await run(...timeout);
        assert.is(killed.exitCode, 0, killed.stderr);
        replayed(killed, i);
        assert.ok(Date.now() - t0 >= 1000, 'killed only after the timeout');
        assert.is(await stateOf(s, 'bb'), 'STOPPED');
      }
      assert.is(await nodeRuns(), 5, 'the second round was replayed');
      // -W signals and returns; -r asks for a reboot (busybox's init reboots on SIGTERM, its lxc.signal.reboot): the container comes back.
      const nowait = ['stop', '-n', 'bb', '-P', s.lxcpath, '-W'];
      const reboot = ['stop', '-n', 'bb', '-P', s.lxcpath, '-r'];
      for (let i = 0; i < 2; i++) {
        assert.is((await run(...startInit)).exitCode, 0);
        const pid = (await lxkitIn(s, 'info', '-n', 'bb', '-p')).stdout;
        const rebooted = await run(...reboot);
        assert.is(rebooted.exitCode, 0, rebooted.stderr);
        await until(async () => {
          const now = await lxkitIn(s, 'info', '-n', 'bb', '-p');
          return now.stdout !== '' && now.stdout !== pid && (await stateOf(s, 'bb')) === 'RUNNING' ? true : undefined;
        }, 15_000, 'the container running again with a new init');
        const signalled = await run(...nowait);
        assert.is(signalled.exitCode, 0, signalled.stderr);
        assert.is((await lxkitIn(s, 'wait', '-n', 'bb', '-s', 'STOPPED', '-t', '10')).exitCode, 0, 'the halt went on without the command');
      }
      assert.is(await nodeRuns(), 7, '-r and -W were replayed the second time');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'bb', '-k');
    }
    assert.equal(await containerCgroups(['bb']), []);
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans('SIGKILL of the front at any moment of a replayed start: the container runs on, or ends and the next start clears what was left', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, env } = await frontFor(s);
    const before = await hostMounts();
    const start = ['start', '-n', 'bb', '-P', s.lxcpath, '-d'];
    const stop = ['stop', '-n', 'bb', '-P', s.lxcpath, '-k'];
    try {
      assert.is((await run(...start)).exitCode, 0);
      assert.is((await run(...stop)).exitCode, 0);
      for (const ms of [0, 1, 2, 3, 4, 6, 8, 12]) {
        // The environment the harness's runs have (execa's: this process's, extended): a plan's environment must be the same.
        const front = spawn(FRONT, start, { env: { ...process.env, NODE_EXTRA_CA_CERTS: '', ...env }, stdio: 'ignore' });
        setTimeout(() => front.kill('SIGKILL'), ms);
        await new Promise((r) => front.on('exit', r));
        // Killed before the monitor took the container over, the monitor ends it; after, it runs on.
        const state = await until(async () => {
          const st = await stateOf(s, 'bb');
          return st === 'RUNNING' || (st === 'STOPPED' && (await monitorsOf(s.dir)) === 0) ? st : undefined;
        }, 10_000, 'the container running, or gone with its monitor');
        if (state === 'STOPPED') {
          // Cgroups made before the monitor knew of them may be left: the next start removes them (through Node if the plan no longer holds).
          const next = await run(...start);
          assert.is(next.exitCode, 0, `killed after ${ms} ms, then started again: ${next.stderr}`);
        }
        assert.is((await run(...stop)).exitCode, 0, `killed after ${ms} ms: the container is manageable`);
        await until(async () => ((await monitorsOf(s.dir)) === 0 ? true : undefined), 10_000, 'the monitor gone');
        assert.equal(await containerCgroups(['bb']), [], `killed after ${ms} ms: no cgroup is left after the stop`);
      }
      // A plan recorded while clearing leftovers no longer holds once they are gone: at most one more Node run, then replays.
      let silent = 0;
      for (let i = 0; i < 3 && silent < 1; i++) {
        const again = await run(...start);
        assert.is(again.exitCode, 0, again.stderr);
        assert.is((await run(...stop)).exitCode, 0);
        if (again.stderr === '') silent++;
      }
      assert.is(silent, 1, 'replayed again');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'bb', '-k');
    }
    assert.equal(await hostMounts(), before);
    assert.equal(await containerCgroups(['bb']), []);
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans("attach is replayed through lxkit-attach: the program's output and exit status; a stopped container gets the Node CLI's error", async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const { run, nodeRuns } = await frontFor(s);
    const attach = ['attach', '-n', 'bb', '-P', s.lxcpath, '--', 'sh', '-c', 'echo $(hostname) $(cat /proc/1/comm); exit 7'];
    try {
      assert.is((await lxkitIn(s, 'start', '-n', 'bb')).exitCode, 0);
      for (let i = 0; i < 3; i++) {
        const r = await run(...attach);
        assert.equal([r.exitCode, r.stdout], [7, 'bb init'], r.stderr);
        if (i > 0) assert.is(r.stderr, '', 'replayed: the debug output says nothing');
      }
      assert.is(await nodeRuns(), 1);
      assert.is((await lxkitIn(s, 'stop', '-n', 'bb', '-k')).exitCode, 0);
      const stopped = await run(...attach);
      assert.is(stopped.exitCode, 1);
      assert.match(stopped.stderr, /the command is left to the Node CLI/);
      assert.match(stopped.stderr, /container "bb" is not running/);
      assert.is(await nodeRuns(), 2);
    } finally {
      await lxkitIn(s, 'stop', '-n', 'bb', '-k');
    }
    assert.is(await monitorsOf(s.dir), 0);
  });
});

plans('a bad command still gets the Node CLI\'s error', async () => {
  await withScratch(async (s) => {
    const { run } = await frontFor(s);
    const r = await run('execute', '-n', '../x', '-P', s.lxcpath, '--', 'true');
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /invalid container name/);
    assert.match(r.stderr, /no launch plan: the command did not run a container/);
    const help = await run('help');
    assert.is(help.exitCode, 0);
    assert.match(help.stdout, /execute/);
    // bin/lxkit, the command the README shows, is the front; through its link it still finds the Node CLI.
    assert.is(await realpath(join(ROOT, 'bin/lxkit')), FRONT);
    const linked = await lxkit(['help'], { bin: join(ROOT, 'bin/lxkit'), env: s.env });
    assert.equal([linked.exitCode, linked.stdout], [0, help.stdout]);
  });
});

plans.run();
