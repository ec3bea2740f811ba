/** Application containers: lxkit execute, on real namespaces. */
import { writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostMounts, lxkit, withScratch } from '../lib/harness.js';

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

exec('the command runs under a small init (pid 2 under pid 1), with its own host name, /proc and no host mounts visible', async () => {
  await withScratch(async ({ lxcpath, env }) => {
    const before = await hostMounts();
    const r = await lxkit(
      ['execute', '-n', 'app', '-P', lxcpath, '-s', 'lxc.mount.auto=proc:mixed', '-s', 'lxc.uts.name=inner', '--', 'sh', '-c', 'echo $$; hostname; ls /proc | grep "^[0-9]" | sort -n | tail -1; cat /proc/1/comm'],
      { env },
    );
    assert.is(r.exitCode, 0, r.stderr);
    const [pid, host, highest, init] = r.stdout.split('\n');
    assert.equal([pid, host, init], ['2', 'inner', 'lxkit-init']);
    assert.ok(Number(highest) < 10, `/proc lists only the container's few processes (highest pid ${highest})`);
    assert.equal(await hostMounts(), before, 'nothing the container mounted shows on the host');
  });
});

exec('it works with only -f CONFIG (no created container) and honours lxc.environment and -u/-g', async () => {
  await withScratch(async ({ dir, lxcpath, env }) => {
    const cfg = join(dir, 'app.conf');
    await writeFile(cfg, 'lxc.environment = GREETING=hi\nlxc.environment = INHERITED\nlxc.init.cwd = /tmp\n');
    const r = await lxkit(['execute', '-n', 'app', '-P', lxcpath, '-f', cfg, '-u', '65534', '-g', '65534', '--', 'sh', '-c', 'echo $GREETING $INHERITED $container; id -u; id -g; pwd'], {
      env: { ...env, INHERITED: 'from-host' },
    });
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.split('\n'), ['hi from-host lxc', '65534', '65534', '/tmp']);
    assert.equal(await readdir(lxcpath), [], 'no container directory was made');
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

exec.run();
