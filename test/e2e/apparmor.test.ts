/**
 * @kernel-vm
 *
 * AppArmor on real containers. Where AppArmor is off (this development
 * host), a container asking for a generated profile starts unconfined with
 * one info line and leaves nothing behind, as LXC does. Where it is on
 * (the kernel-feature VM), the generated profile is loaded, the container's
 * init and attached programs run under its label, a path the profile
 * denies is denied, and the profile is unloaded after stop.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { probeHost, profileName } from '@lxkit/plugin-apparmor';
import { needs } from '../lib/features.js';
import { busyboxIn, lxkitIn, testIf, until, withScratch } from '../lib/harness.js';

const host = probeHost();
const enabled = host.enabled;
const needsAppArmor = needs('apparmor');

const t = suite('AppArmor on real containers');

testIf(t, enabled ? 'AppArmor is enabled here: the confinement tests below run instead' : undefined, 'without AppArmor: a generated profile is one info line, the container runs, nothing is left', async () => {
  await withScratch(async (s) => {
    const dir = await busyboxIn(s, 'aa0', 'lxc.apparmor.profile = generated\nlxc.apparmor.raw = deny /etc/passwd r,\n');
    const r = await lxkitIn(s, 'execute', '-n', 'aa0', '-l', 'INFO', '--', 'cat', '/etc/passwd');
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^root:/m, 'the raw deny rule is not enforced: there is no AppArmor');
    assert.match(r.stderr, /aa0: AppArmor is not enabled on this host: no AppArmor confinement/);
    assert.is(r.stderr.split('\n').filter((l) => l.includes('AppArmor')).length, 1, 'one line');
    assert.not.ok(existsSync(join(dir, 'apparmor')), 'no profile written');
  });
});

/** The host pid of a process named `comm` in a cgroup whose path contains `cgroup`. */
function hostPidOf(comm: string, cgroup: string): string | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(cgroup)) return pid;
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** The label of a process, without its mode. */
const labelOf = (pid: string): string =>
  readFileSync(`/proc/${pid}/attr/current`, 'utf8')
    .replace(/\0/g, '')
    .trim()
    .replace(/ \((enforce|complain)\)$/, '');

testIf(t, needsAppArmor, 'a generated profile is loaded, the init and attach run under it, a denied path is denied, stop unloads it', async () => {
  await withScratch(async (s) => {
    const dir = await busyboxIn(s, 'aa1', 'lxc.apparmor.profile = generated\nlxc.apparmor.raw = deny /etc/lxkit-denied r,\n');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'rootfs/etc/lxkit-denied'), 'secret\n');
    const name = profileName('aa1', s.lxcpath);
    try {
      const start = await lxkitIn(s, 'start', '-n', 'aa1');
      assert.is(start.exitCode, 0, start.stderr);
      const pid = (await lxkitIn(s, 'info', '-n', 'aa1', '-p', '-H')).stdout.replace(/^PID:\s+/, '').trim();
      assert.match(labelOf(pid), new RegExp(`^${name.replace(/[<>/]/g, '\\$&')}(//&:|$)`), 'the init runs under the generated profile');
      assert.ok(readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8').includes(name), 'loaded');
      const denied = await lxkitIn(s, 'attach', '-n', 'aa1', '--', 'cat', '/etc/lxkit-denied');
      assert.is.not(denied.exitCode, 0);
      assert.match(denied.stderr, /Permission denied/);
      const allowed = await lxkitIn(s, 'attach', '-n', 'aa1', '--', 'cat', '/etc/passwd');
      assert.is(allowed.exitCode, 0, allowed.stderr);
      const sysrq = await lxkitIn(s, 'attach', '-n', 'aa1', '--', 'sh', '-c', 'echo h > /proc/sysrq-trigger');
      assert.is.not(sysrq.exitCode, 0, 'the base rules deny /proc/sysrq-trigger');
      // Read from the host: inside, a stacked label shows only the container's own policy namespace.
      const sleeper = lxkitIn(s, 'attach', '-n', 'aa1', '--', 'sleep', '30');
      const attached = await until(async () => hostPidOf('sleep', 'lxc.payload.aa1'), 10_000, 'the attached sleep');
      try {
        assert.match(labelOf(attached), new RegExp(`^${name.replace(/[<>/]/g, '\\$&')}(//&:|$)`), 'attach runs under the label');
      } finally {
        process.kill(Number(attached), 'SIGKILL');
        await sleeper;
      }
      const elevated = await lxkitIn(s, 'attach', '-n', 'aa1', '-e', '--', 'cat', '/etc/lxkit-denied');
      assert.is(elevated.stdout.trim(), 'secret', '-e skips the label');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'aa1', '-k');
    }
    assert.not.ok(readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8').includes(name), 'unloaded after stop');
    assert.not.ok(existsSync(join(dir, 'apparmor')), 'profile file removed');
  });
});

testIf(t, needsAppArmor, 'unset: LXC\'s default profile when loaded, else lxkit\'s own equivalent', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'aa2');
    const r = await lxkitIn(s, 'execute', '-n', 'aa2', '--', 'cat', '/proc/self/attr/current');
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^(lxc|lxkit)-container-default-cgns/, `${r.stdout} ${r.stderr}`);
  });
});

t.run();
