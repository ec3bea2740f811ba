/** Application containers: lxkit execute, on real namespaces. */
import { hostname } from 'node:os';
import { readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { containerCgroups, hostMounts, LXKIT_BIN, lxkit, monitorsUnder, until, withScratch } from '../lib/harness.js';

const exec = suite('lxkit execute');

exec("the command's exit status is lxkit's; death by signal N is 128+N", async () => {
  await withScratch(async ({ lxcpath, env }) => {
    const run = (...cmd: string[]) => lxkit(['execute', '-n', 'app', '-P', lxcpath, '--', ...cmd], { env });
    const ok = await run('/bin/echo', 'hello');
    assert.equal([ok.exitCode, ok.stdout], [0, 'hello']);
    assert.is((await run('sh', '-c', 'exit 42')).exitCode, 42);
    assert.is((await run('sh', '-c', 'kill -9 $$')).exitCode, 137);
    assert.is((await run('sh', '-c', 'kill -15 $$')).exitCode, 143);
  });
});

exec('a signal to lxkit while the container starts reaches the command once it runs; a second one ends lxkit, and its monitor with it', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    // A pre-start hook that says it runs, then takes its time: the signals come meanwhile.
    const hook = join(dir, 'slow.sh');
    await writeFile(hook, `#!/bin/sh\ntouch ${dir}/hook-$$\nsleep 1\nrm ${dir}/hook-$$\n`, { mode: 0o755 });
    const hookRuns = async () => ((await readdir(dir)).some((f) => f.startsWith('hook-')) ? true : undefined);
    // No process left running the hook (killed with lxkit, or done).
    const hookDone = async () => ((await execa('pgrep', ['-f', hook], { reject: false })).exitCode === 1 ? true : undefined);
    const start = () =>
      execa(process.execPath, [LXKIT_BIN, 'execute', '-n', 'app', '-P', lxcpath, '-s', `lxc.hook.pre-start=${hook}`, '-l', 'INFO', '--', 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done'], {
        env: { ...env, NODE_EXTRA_CA_CERTS: '' },
        reject: false,
      });

    const once = start();
    await until(hookRuns, 10_000, 'the pre-start hook runs');
    once.kill('SIGTERM');
    const r = await once;
    // The command gets it as it starts (before its trap, if it comes first): killed by SIGTERM, or the trap's 7.
    assert.ok([143, 7].includes(r.exitCode ?? -1), `the command got SIGTERM: ${String(r.stderr)}`);
    assert.match(String(r.stderr), /lxkit got SIGTERM while the container starts: it goes to the container once it runs[^]*container app: RUNNING[^]*lxkit got SIGTERM; sending 15 to the container/);

    const twice = start();
    await until(hookRuns, 10_000, 'the pre-start hook runs');
    twice.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 100));
    twice.kill('SIGTERM');
    const killed = await twice;
    assert.is(killed.signal, 'SIGTERM', 'the second signal ends lxkit');
    await until(async () => (monitorsUnder(dir).length === 0 ? true : undefined), 5000, 'the monitor gone with lxkit');
    await until(hookDone, 5000, 'no hook script left running');
  });
});

exec('the command runs under a small init (pid 2 under pid 1, named lxkit-init by ps), with its own host name, /proc and no host mounts visible', async () => {
  await withScratch(async ({ lxcpath, env }) => {
    const before = await hostMounts();
    const r = await lxkit(
      ['execute', '-n', 'app', '-P', lxcpath, '-s', 'lxc.mount.auto=proc:mixed', '-s', 'lxc.uts.name=inner', '--', 'sh', '-c', 'echo $$; hostname; ls /proc | grep "^[0-9]" | sort -n | tail -1; cat /proc/1/comm; ps -o args | sed -n 2p'],
      { env },
    );
    assert.is(r.exitCode, 0, r.stderr);
    const [pid, host, highest, init, args] = r.stdout.split('\n');
    // Its arguments too: it is the monitor's copy, and it must not go by the monitor's name.
    assert.equal([pid, host, init, args?.trim()], ['2', 'inner', 'lxkit-init', 'lxkit-init']);
    assert.ok(Number(highest) < 10, `/proc lists only the container's few processes (highest pid ${highest})`);
    assert.equal(await hostMounts(), before, 'nothing the container mounted shows on the host');
  });
});

exec('it works with only -f CONFIG (no created container) and honours lxc.environment and -u/-g; without lxc.uts.name the host name stays, as LXC leaves it', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    const cfg = join(dir, 'app.conf');
    await writeFile(cfg, 'lxc.environment = GREETING=hi\nlxc.environment = INHERITED\nlxc.init.cwd = /tmp\n');
    const r = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-f', cfg, '-u', '65534', '-g', '65534', '--', 'sh', '-c', 'echo $GREETING $INHERITED $container; id -u; id -g; pwd; hostname'], {
      env: { ...env, INHERITED: 'from-host' },
    });
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.split('\n'), ['hi from-host lxc', '65534', '65534', '/tmp', hostname()]);
    assert.equal(await readdir(lxcpath), [], 'no container directory was made');
  });
});

exec('-d leaves the command to its monitor: lxkit returns as it runs, its stdio is /dev/null (as lxc-execute -d gives it), and it ends STOPPED with nothing left', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    const before = await hostMounts();
    const gate = join(dir, 'gate');
    const fds = join(dir, 'fds');
    // The command (on the host's root filesystem: no config) waits for the gate, 30 s at most.
    const script = `echo to-stdout; echo to-stderr >&2; readlink /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 > ${fds}; n=0; while [ ! -e ${gate} ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done`;
    const info = async () => (await lxkit(['info', '-n', 'app', '-P', lxcpath, '-sH'], { env })).stdout;
    try {
      const r = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-d', '--', 'sh', '-c', script], { env });
      assert.equal([r.exitCode, r.stdout, r.stderr], [0, '', '']);
      assert.is(await info(), 'RUNNING');
      const seen = await until(async () => (await readFile(fds, 'utf8').catch(() => '')).trim() || undefined, 10_000, 'the command writing where its fds go');
      assert.equal(seen.split('\n'), ['/dev/null', fds, '/dev/null']);
      const again = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-d', '--', 'true'], { env });
      assert.is(again.exitCode, 1);
      assert.match(again.stderr, /it is running or busy/);
      await writeFile(gate, '');
      const waited = await lxkit(['wait', '-n', 'app', '-P', lxcpath, '-s', 'STOPPED', '-t', '10'], { env });
      assert.is(waited.exitCode, 0, 'the container stopped with its command');
    } finally {
      await lxkit(['stop', '-n', 'app', '-P', lxcpath, '-k'], { env });
    }
    assert.equal(await hostMounts(), before);
    assert.equal(await containerCgroups(['app']), [], 'no cgroup is left');
  });
});

exec('errors are clear: a missing command, a bad name, a bad -s, an invalid config', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    const missing = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '--', '/nonexistent/cmd'], { env });
    assert.is(missing.exitCode, 1);
    assert.is(missing.stderr, "lxkit-execute: app: executing the container's command /nonexistent/cmd: ENOENT: no such file or directory, execve '/nonexistent/cmd'");
    for (const bad of ['../x', 'a/b', '']) {
      const r = await lxkit(['execute', '-n', bad, '-P', lxcpath, '--', 'true'], { env });
      assert.is(r.exitCode, 1, bad);
      assert.match(r.stderr, bad === '' ? /a container name is required/ : /invalid container name/);
    }
    const noEq = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-s', 'lxc.uts.name', '--', 'true'], { env });
    assert.match(noEq.stderr, /-s lxc\.uts\.name: expected KEY=VALUE/);
    const cfg = join(dir, 'bad.conf');
    await writeFile(cfg, 'lxc.tty.max = lots\n');
    const invalid = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-f', cfg, '--', 'true'], { env });
    assert.is(invalid.exitCode, 1);
    assert.match(invalid.stderr, new RegExp(`${cfg}:1: lxc\\.tty\\.max: expected a number of ttys`));
  });
});

exec('LXKIT_TIMELINE: node, the monitor and the first process mark the start in order, on one clock; the container never holds the file', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    const file = join(dir, 'timeline');
    const go = join(dir, 'go');
    // No rootfs: the container sees the host's files, and waits (10 s at most) for the test to be done looking.
    const script = `ls -l /proc/self/fd/; for i in $(seq 200); do [ -e ${go} ] && exit 0; sleep 0.05; done; exit 3`;
    const run = lxkit(['execute', '-n', 'app', '-P', lxcpath, '--', 'sh', '-c', script], { env: { ...env, LXKIT_TIMELINE: file } });
    // While the command runs: whoever holds the file open is lxkit's (the CLI, the monitor), never the init or the command.
    await until(async () => ((await readFile(file, 'utf8').catch(() => '')).includes(' child command-runs') ? true : undefined), 10_000, 'the command runs');
    const holders: string[] = [];
    for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === file) holders.push((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?\n')).trim());
      }
    }
    await writeFile(go, '');
    const r = await run;
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.match(r.stdout, /timeline/, "the command's fds do not reach the timeline");
    assert.ok(holders.includes('lxkit-monitor') && holders.every((c) => c === 'node' || c === 'lxkit-monitor'), `held by ${holders.join(', ')}`);
    assert.is((await stat(file)).mode & 0o777, 0o600);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => l.split(' '));
    assert.ok(lines.every((l) => l.length === 4 && /^\d+$/.test(l[0]!) && /^\d+$/.test(l[1]!)), 'each line: <ns> <pid> <who> <step>');
    const steps = lines.map(([, , who, step]) => `${who} ${step}`);
    const at = (s: string) => {
      const i = steps.indexOf(s);
      assert.ok(i >= 0, `the timeline has "${s}": ${steps.join(', ')}`);
      return BigInt(lines[i]![0]!);
    };
    // What must come before what, across the three processes: each step waits on the one before it.
    // Nothing here needs the clone's answer first: the batch is queued while the monitor clones.
    const chains = [
      ['node start', 'node locked', 'monitor start', 'monitor clone', 'monitor cloned', 'monitor batch', 'child batch', 'child exec', 'child command-runs'],
      ['node locked', 'node spawning', 'monitor start'],
      ['node config', 'node pre-start', 'monitor clone'],
      ['node pre-start', 'node cloning', 'node batch', 'monitor batch'],
      ['monitor cloned', 'node cloned'],
      ['child command-runs', 'monitor init-exited', 'monitor exited', 'node exited', 'node stopped'],
      ['monitor init-exited', 'monitor stopped', 'node stopped'],
    ];
    for (const order of chains) for (let i = 1; i < order.length; i++) assert.ok(at(order[i - 1]!) <= at(order[i]!), `${order[i - 1]} before ${order[i]}`);
    // Each process's own lines come in its own order of time; `node spawning` is written by a thread of
    // libuv's pool while Node's own thread marks on, so its line may land before or after the others'.
    for (const pid of new Set(lines.map((l) => l[1]))) {
      const times = lines.filter((l) => l[1] === pid && l[3] !== 'spawning').map((l) => BigInt(l[0]!));
      assert.ok(times.every((t, i) => i === 0 || times[i - 1]! <= t), `pid ${pid}'s marks are monotonic`);
    }
  });
});

exec.run();
