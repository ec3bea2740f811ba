/** lxkit checkconfig against the real kernel, and against lxc-checkconfig on the same machine. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CheckconfigReport } from '@lxkit/core';
import { lxkit, testIf, which, withTmpDir } from '../lib/harness.js';

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

async function report(args: string[] = []): Promise<CheckconfigReport> {
  const r = await lxkit(['checkconfig', '--json', ...args]);
  assert.is(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as CheckconfigReport;
}

const status = (rep: CheckconfigReport, id: string) => rep.results.find((r) => r.id === id)?.status;

const check = suite('checkconfig');

check('--json reports every check with kernel options and live probes', async () => {
  const rep = await report();
  assert.ok(rep.kernel.config, 'a kernel config was found');
  assert.is(rep.kernel.probed, true);
  for (const ns of ['uts', 'ipc', 'pid', 'user', 'net', 'mnt', 'cgroup']) {
    const r = rep.results.find((x) => x.id === `ns.${ns}`)!;
    assert.ok(r.probe, `ns.${ns} was probed`);
    assert.is(r.status, r.probe!.ok ? 'enabled' : r.status);
  }
  const veth = rep.results.find((r) => r.id === 'net.veth')!;
  assert.equal([veth.status, veth.kernel, veth.probe?.ok], ['enabled', { CONFIG_VETH: 'y' }, true]);
  assert.ok(['legacy', 'hybrid', 'unified'].includes(rep.cgroup.kind));
  assert.is(rep.results.find((r) => r.id === 'cgroup.layout')!.detail, rep.cgroup.kind);
});

check('the probes leave no network device, namespace or process behind', async () => {
  const links = async () => String((await execa('ip', ['-o', 'link', 'show'])).stdout).split('\n').map((l) => l.split(':')[1]?.trim()).sort();
  const before = await links();
  await report();
  assert.equal(await links(), before);
  const { stdout } = await execa('ps', ['-eo', 'args'], { reject: false });
  assert.not.match(String(stdout), /lxkit-probe/);
});

check('a given kernel config is checked without live probes', async () => {
  await withTmpDir(async (dir) => {
    const cfg = join(dir, 'config.gz');
    await writeFile(cfg, gzipSync('CONFIG_NAMESPACES=y\nCONFIG_USER_NS=y\n# CONFIG_VETH is not set\nCONFIG_MACVLAN=m\n'));
    const rep = await report(['--kernel-config', cfg]);
    assert.equal(rep.kernel, { release: rep.kernel.release, config: cfg, probed: false });
    assert.is(status(rep, 'namespaces'), 'enabled');
    assert.is(status(rep, 'ns.user'), 'enabled');
    assert.is(status(rep, 'net.veth'), 'missing');
    assert.is(status(rep, 'net.macvlan'), 'module');
    assert.is(status(rep, 'ns.pid'), 'missing');
    assert.ok(rep.results.every((r) => r.probe === undefined));
    const viaEnv = await lxkit(['checkconfig', '--json'], { env: { CONFIG: cfg } });
    assert.is((JSON.parse(viaEnv.stdout) as CheckconfigReport).kernel.config, cfg, 'CONFIG= as lxc-checkconfig takes it');
    const missing = await lxkit(['checkconfig', '--kernel-config', join(dir, 'nope')]);
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, /cannot read kernel config .*nope/);
  });
});

check('the terminal report is coloured sections, plain when not forced', async () => {
  const coloured = await lxkit(['checkconfig'], { env: { FORCE_COLOR: '1' } });
  assert.match(coloured.stdout, /\x1b\[32menabled\x1b\[39m/);
  const plain = await lxkit(['checkconfig'], { env: { NO_COLOR: '1' } });
  assert.not.match(plain.stdout, /\x1b\[/);
  assert.match(plain.stdout, /^--- Namespaces ---$/m);
  assert.match(plain.stdout, /^Veth pair device: enabled$/m);
});

/** Parses lxc-checkconfig's "Label: status" lines and its cgroup mount point lists. */
function parseLxcCheckconfig(text: string) {
  const items = new Map<string, string>();
  const v1: string[] = [];
  const v2: string[] = [];
  let list: string[] | undefined;
  for (const raw of stripAnsi(text).split('\n')) {
    const line = raw.trimEnd();
    if (/^Cgroup v1 mount points:/.test(line)) list = v1;
    else if (/^Cgroup v2 mount points:/.test(line)) list = v2;
    else if (list && /^ - /.test(line)) list.push(line.slice(3));
    else {
      list = undefined;
      const m = /^([^:]+): (enabled|missing)/.exec(line);
      if (m) items.set(m[1]!, m[2]!);
    }
  }
  return { items, v1, v2 };
}

testIf(check, which('lxc-checkconfig') ? undefined : "Debian's lxc is not installed", 'agrees with lxc-checkconfig on this machine', async () => {
  const theirs = parseLxcCheckconfig(String((await execa('lxc-checkconfig', [], { reject: false })).stdout));
  const ours = await report();
  const byLabel = new Map(ours.results.map((r) => [r.label, r.status]));
  let compared = 0;
  for (const [label, verdict] of theirs.items) {
    const mine = byLabel.get(label);
    if (mine === undefined) continue;
    compared++;
    if (verdict === 'enabled') assert.ok(mine === 'enabled' || mine === 'module', `${label}: lxc-checkconfig says enabled, lxkit says ${mine}`);
    else assert.is(mine, 'missing', `${label}: lxc-checkconfig says missing`);
  }
  assert.ok(compared >= 25, `compared ${compared} items`);
  // The items the issue names.
  for (const label of ['Vlan', 'Veth pair device', 'Bridges', 'Macvlan']) assert.ok(theirs.items.has(label), label);
  const kind = theirs.v1.length > 0 && theirs.v2.length > 0 ? 'hybrid' : theirs.v2.length > 0 ? 'unified' : 'legacy';
  assert.is(ours.cgroup.kind, kind);
  assert.equal(
    ours.cgroup.hierarchies.filter((h) => h.version === 1).map((h) => h.mountpoint).sort(),
    [...theirs.v1].sort(),
  );
  assert.equal(ours.cgroup.hierarchies.filter((h) => h.version === 2).map((h) => h.mountpoint), theirs.v2);
});

check.run();
