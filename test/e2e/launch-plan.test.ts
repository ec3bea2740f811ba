/**
 * Launch plans: lxkit-front replays `lxkit execute` from what an earlier run
 * of the same command recorded, without Node, and runs the Node CLI whenever
 * anything the plan depends on differs (docs/launch-plans.md).
 */
import { chmod, copyFile, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxIn, containerCgroups, hostMounts, lxkit, ROOT, withScratch, type CliResult, type Scratch } from '../lib/harness.js';

const FRONT = join(ROOT, 'native/build/Release/lxkit-front');
const plans = suite('launch plans (lxkit-front)');

/**
 * Runs the front with a scratch cache directory and a node that counts its
 * runs (LXKIT_NODE, the same for every run: the environment is part of a plan).
 */
async function frontFor(s: Scratch): Promise<{ run: (...args: string[]) => Promise<CliResult>; nodeRuns: () => Promise<number>; planDir: string }> {
  const counter = join(s.dir, 'node-runs');
  const spy = join(s.dir, 'node-spy');
  await writeFile(spy, `#!/bin/sh\necho run >> '${counter}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const env = { ...s.env, XDG_CACHE_HOME: join(s.dir, 'cache'), LXKIT_NODE: spy, LXKIT_PLAN_DEBUG: '1' };
  return {
    run: (...args: string[]) => lxkit(args, { bin: FRONT, env }),
    nodeRuns: async () => (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
    planDir: join(s.dir, 'cache/lxkit/plans'),
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
    for (let i = 0; i < 2; i++) {
      const again = await run(...cmd);
      assert.equal([again.exitCode, again.stdout, again.stderr], [42, 'bb 2', ''], 'replayed: the debug output says nothing');
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
  });
});

plans.run();
