/**
 * A user other than root gets a veth on a bridge through lxkit-user-nic
 * (setuid root), within the quotas of /etc/lxc/lxc-usernet, counted in
 * /run/lxc/nics with LXC's lxc-user-nic. The user is `nobody`; the bridge,
 * the quota file and the database are the test's for its duration (the
 * files are put back). Traffic goes only between the container and the
 * test's bridge.
 */
import { statSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeHelperPath } from '@lxkit/core';
import { asNobodyIn, NOBODY, testIf, until, withRestoredFiles, withScratch, withSubordinateIds } from '../lib/harness.js';
import { hostLinks, portsGone, withBridge } from '../lib/net.js';
import { OVS_MISSING, OVS_SYSTEM_SOCKET_TAKEN, withOvs } from '../lib/ovs.js';

const test = suite('user-nic');
const USERNET = '/etc/lxc/lxc-usernet';
const DB = '/run/lxc/nics';
const LXC_USER_NIC = '/usr/libexec/lxc/lxc-user-nic';

const helper = nativeHelperPath('lxkit-user-nic');
const NOT_SETUID = (statSync(helper).mode & 0o4000) !== 0 && statSync(helper).uid === 0 ? undefined : `${helper} is not setuid root (the build ran as another user than root)`;
const LXC_MISSING = (() => {
  try {
    return (statSync(LXC_USER_NIC).mode & 0o4000) !== 0 ? undefined : `${LXC_USER_NIC} is not setuid`;
  } catch {
    return `${LXC_USER_NIC} is not installed (Debian's lxc package)`;
  }
})();

/** The test's quota file (`lines`) and database, put back afterwards; nobody gets a subordinate range. */
function withUsernet<T>(lines: string, fn: () => Promise<T>): Promise<T> {
  return withSubordinateIds('nobody:300000:65536', () =>
    withRestoredFiles([USERNET, DB], async () => {
      await writeFile(USERNET, lines);
      return fn();
    }),
  );
}

/** A process of nobody's in a user and network namespace of its own (what a container of nobody's has), killed afterwards. */
async function withNobodyNetns<T>(fn: (pid: number) => Promise<T>): Promise<T> {
  const p = execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'unshare', '-Urn', 'sleep', '60'], { reject: false });
  try {
    // setpriv and unshare exec in turn: the pid is sleep's once it runs, in its own namespaces.
    const pid = p.pid!;
    await until(async () => ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).startsWith('sleep') ? true : undefined), 5000, "nobody's namespace");
    return await fn(pid);
  } finally {
    p.kill('SIGKILL');
    await p;
  }
}

const asNobody = (cmd: string, args: string[]) => execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', cmd, ...args], { reject: false });

testIf(test, NOT_SETUID, "nobody's container gets a veth on the bridge with its MAC address, MTU and address, within its quota; the pair goes with the container", async () => {
  await withBridge('10.219.7.1/24', async (bridge) => {
    await withUsernet(`# the test's\nnobody veth ${bridge} 1\n`, () =>
      withScratch(async (s) => {
        const lxkitAsNobody = await asNobodyIn(s);
        const before = await hostLinks();
        for (const name of ['u1', 'u2']) {
          const created = await lxkitAsNobody(['create', '-n', name, '-t', 'busybox']);
          assert.is(created.exitCode, 0, created.stderr);
          await appendFile(
            join(s.lxcpath, name, 'config'),
            ['type = veth', `link = ${bridge}`, 'flags = up', 'hwaddr = 02:16:3e:00:07:02', 'mtu = 1400', 'ipv4.address = 10.219.7.2/24', 'ipv4.gateway = auto']
              .map((l) => `lxc.net.0.${l}\n`)
              .join(''),
          );
        }
        // The first one holds its veth while the second asks for one.
        const show = 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip route | grep default; ping -c 1 -W 2 10.219.7.1 >/dev/null && echo reached; sleep 3';
        const first = lxkitAsNobody(['execute', '-n', 'u1', '--', 'sh', '-c', show]);
        const line = await until(async () => (await readFile(DB, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith(`nobody veth ${bridge} `)), 10_000, 'the veth counted');
        const hostEnd = line.split(' ')[3]!;
        assert.match(hostEnd, /^veth65534_[A-Za-z0-9]{4}$/);
        assert.is((await readFile(`/sys/class/net/${hostEnd}/master/uevent`, 'utf8')).match(/INTERFACE=(.*)/)?.[1], bridge, 'the host end is on the bridge');

        const second = await lxkitAsNobody(['execute', '-n', 'u2', '--', 'true']);
        assert.is(second.exitCode, 1);
        assert.match(second.stderr, new RegExp(`lxc\\.net\\.0\\.link = ${bridge}: lxkit-user-nic could not give this user a veth on ${bridge}: the quota is reached: the 1 line of ${USERNET}`));

        const r = await first;
        assert.is(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout.split('\n'), ['02:16:3e:00:07:02', '1400', 'default via 10.219.7.1 dev eth0 ', 'reached']);
        await portsGone(bridge);
        assert.equal(await hostLinks(), before, 'no veth left on the host');
        // The ended container's line no longer counts: the second one gets the veth now.
        const again = await lxkitAsNobody(['execute', '-n', 'u2', '--', 'cat', '/sys/class/net/eth0/mtu']);
        assert.is(again.exitCode, 0, again.stderr);
        assert.is(again.stdout, '1400');
        await portsGone(bridge);
      }),
    );
  });
});

testIf(test, NOT_SETUID, "nobody's system container: start -d with a veth on the bridge, attach reaches the bridge, info shows the host end, stop takes it away", async () => {
  await withBridge('10.219.8.1/24', async (bridge) => {
    await withUsernet(`@nogroup veth ${bridge} 1\n`, () =>
      withScratch(async (s) => {
        const lxkitAsNobody = await asNobodyIn(s);
        const before = await hostLinks();
        assert.is((await lxkitAsNobody(['create', '-n', 'sys', '-t', 'busybox'])).exitCode, 0);
        await appendFile(join(s.lxcpath, 'sys', 'config'), ['type = veth', `link = ${bridge}`, 'flags = up', 'ipv4.address = 10.219.8.2/24'].map((l) => `lxc.net.0.${l}\n`).join(''));
        const started = await lxkitAsNobody(['start', '-n', 'sys']);
        assert.is(started.exitCode, 0, started.stderr);
        try {
          const r = await lxkitAsNobody(['attach', '-n', 'sys', '--', 'sh', '-c', 'ping -c 1 -W 2 10.219.8.1 >/dev/null && echo reached']);
          assert.is(r.stdout, 'reached', r.stderr);
          const info = await lxkitAsNobody(['info', '-n', 'sys', '-S']);
          const link = info.stdout.match(/^Link: +(\S+)$/m)?.[1];
          assert.match(link ?? '', /^veth65534_/, info.stdout);
          // Counted for the group's line (nobody's primary group is nogroup).
          assert.match(await readFile(DB, 'utf8'), new RegExp(`^@nogroup veth ${bridge} ${link}$`, 'm'));
        } finally {
          const stopped = await lxkitAsNobody(['stop', '-n', 'sys', '-k']);
          assert.is(stopped.exitCode, 0, stopped.stderr);
        }
        await portsGone(bridge);
        assert.equal(await hostLinks(), before, 'no veth left on the host');
      }),
    );
  });
});

testIf(test, NOT_SETUID ?? OVS_MISSING ?? OVS_SYSTEM_SOCKET_TAKEN, "nobody's container on an Open vSwitch bridge: lxkit-user-nic adds the host end as a port, and deletes it at stop (daemon and foreground); its delete refuses a device it did not give the caller", async () => {
  await withOvs(
    '10.219.9.1/24',
    (ovs) =>
      withUsernet(`nobody veth ${ovs.bridge} 2\n`, () =>
        withScratch(async (s) => {
          const lxkitAsNobody = await asNobodyIn(s);
          const before = await hostLinks();
          assert.is((await lxkitAsNobody(['create', '-n', 'sys', '-t', 'busybox'])).exitCode, 0);
          await appendFile(join(s.lxcpath, 'sys', 'config'), ['type = veth', `link = ${ovs.bridge}`, 'flags = up', 'ipv4.address = 10.219.9.2/24'].map((l) => `lxc.net.0.${l}\n`).join(''));
          const started = await lxkitAsNobody(['start', '-n', 'sys']);
          assert.is(started.exitCode, 0, started.stderr);
          try {
            const info = await lxkitAsNobody(['info', '-n', 'sys', '-S']);
            const link = info.stdout.match(/^Link: +(\S+)$/m)?.[1] ?? '';
            assert.match(link, /^veth65534_/, info.stdout);
            assert.equal(await ovs.ports(), [link], "the host end is the bridge's port");
            assert.match(await readFile(DB, 'utf8'), new RegExp(`^nobody veth ${ovs.bridge} ${link}$`, 'm'), 'counted in the quota');
            const r = await lxkitAsNobody(['attach', '-n', 'sys', '--', 'sh', '-c', 'ping -c 1 -W 2 10.219.9.1 >/dev/null && echo reached']);
            assert.is(r.stdout, 'reached', r.stderr);
            // delete: only a device the helper gave the caller, on that bridge, in a namespace the caller holds.
            await withNobodyNetns(async (pid) => {
              for (const [name, message] of [
                ['veth65534_zzzz', new RegExp(`veth65534_zzzz is not a veth given to nobody on ${ovs.bridge} \\(${DB}\\)`)],
                [`${ovs.bridge}`, /is not a veth given to nobody/],
              ] as const) {
                const d = await asNobody(helper, ['delete', '/x', 'x', `/proc/${pid}/ns/net`, 'veth', ovs.bridge, name]);
                assert.is(d.exitCode, 1, name);
                assert.match(String(d.stderr), message);
              }
              const notTheirs = await asNobody(helper, ['delete', '/x', 'x', '/proc/1/ns/net', 'veth', ovs.bridge, link]);
              assert.is(notTheirs.exitCode, 1);
              assert.match(String(notTheirs.stderr), /cannot open \/proc\/1\/ns\/net as uid 65534/);
            });
            assert.equal(await ovs.ports(), [link], 'refused deletes left the port');
          } finally {
            const stopped = await lxkitAsNobody(['stop', '-n', 'sys', '-k']);
            assert.is(stopped.exitCode, 0, stopped.stderr);
          }
          await until(async () => ((await ovs.ports()).length === 0 ? true : undefined), 5000, 'the port deleted at stop');
          // A foreground execute: its port goes too.
          const run = await lxkitAsNobody(['execute', '-n', 'sys', '--', 'sh', '-c', 'ip -o link show eth0 | grep -c UP']);
          assert.is(run.exitCode, 0, run.stderr);
          assert.is(run.stdout, '1');
          assert.equal(await ovs.ports(), [], 'no port left after execute');
          await until(async () => (JSON.stringify(await hostLinks()) === JSON.stringify(before) ? true : undefined), 5000, 'the veths gone with their namespaces');
        }),
      ),
    { systemSocket: true },
  );
});

testIf(test, NOT_SETUID, 'what nobody cannot have: a device other than a veth, root-only veth keys, no bridge, no line in lxc-usernet', async () => {
  await withBridge(undefined, async (bridge) => {
    await withUsernet(`nobody veth ${bridge} 4\n`, () =>
      withScratch(async (s) => {
        const lxkitAsNobody = await asNobodyIn(s);
        const created = await lxkitAsNobody(['create', '-n', 'u', '-t', 'busybox']);
        assert.is(created.exitCode, 0, created.stderr);
        const config = join(s.lxcpath, 'u', 'config');
        const base = await readFile(config, 'utf8');
        const cases: [lines: string[], message: RegExp][] = [
          [['type = macvlan', `link = ${bridge}`], /lxc\.net\.0\.type = macvlan: a user other than root gets veth devices only .*a macvlan device needs root/],
          [['type = veth', `link = ${bridge}`, 'veth.mode = router'], /lxc\.net\.0\.veth\.mode = router: needs root \(router mode's routes and proxy entries on the host\)/],
          [['type = veth', `link = ${bridge}`, 'veth.ipv4.route = 10.1.0.0/16'], /lxc\.net\.0\.veth\.ipv4\.route = 10\.1\.0\.0\/16: needs root/],
          [['type = veth'], /lxc\.net\.0\.type = veth: a user other than root gets a veth on a bridge only/],
          // Open vSwitch's database is root's: lxkit-user-nic, asking as root, refuses it.
          [['type = veth', 'link = lo'], /lxc\.net\.0\.link = lo: .*lo is (not|neither) a bridge of the host/],
        ];
        for (const [lines, message] of cases) {
          await writeFile(config, base + lines.map((l) => `lxc.net.0.${l}\n`).join(''));
          const r = await lxkitAsNobody(['execute', '-n', 'u', '--', 'true']);
          assert.is(r.exitCode, 1, lines.join(', '));
          assert.match(r.stderr, message, r.stderr);
        }
        // A bridge the file says nothing of.
        await withBridge(undefined, async (other) => {
          await writeFile(config, base + ['type = veth', `link = ${other}`].map((l) => `lxc.net.0.${l}\n`).join(''));
          const r = await lxkitAsNobody(['execute', '-n', 'u', '--', 'true']);
          assert.is(r.exitCode, 1);
          assert.match(r.stderr, new RegExp(`no line of ${USERNET} lets nobody attach a veth device to ${other}`));
        });
        assert.is((await readFile(DB, 'utf8').catch(() => '')).includes(` ${bridge} `), false, 'nothing counted');
      }),
    );
  });
});

testIf(test, NOT_SETUID, 'lxkit-user-nic itself: refuses namespaces that are not the caller\'s, bad arguments, and a caller without the setuid bit', async () => {
  await withBridge(undefined, async (bridge) => {
    await withUsernet(`nobody veth ${bridge} 4\n`, async () => {
      const create = (target: string, extra: string[] = []) => asNobody(helper, ['create', '/x', 'x', target, 'veth', bridge, 'eth0', ...extra]);
      const cases: [target: string, message: RegExp][] = [
        ['1', /cannot open \/proc\/1\/ns\/net as uid 65534: Permission denied/],
        [String(process.pid), /Permission denied/],
        ['12x', /PID is not a process id/],
        ['/etc/passwd', /\/etc\/passwd is not a network namespace/],
      ];
      for (const [target, message] of cases) {
        const r = await create(target);
        assert.is(r.exitCode, 1, target);
        assert.match(String(r.stderr), message);
      }
      // nobody's own process, in the host's namespace.
      const sleeper = execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sleep', '30'], { reject: false });
      try {
        const r = await create(String(sleeper.pid));
        assert.match(String(r.stderr), /is the host's network namespace: a device is handed to a container's only/);
      } finally {
        sleeper.kill('SIGKILL');
        await sleeper;
      }
      await withNobodyNetns(async (pid) => {
        for (const [args, message] of [
          [['create', '/x', 'x', String(pid), 'macvlan', bridge, 'eth0'], /only veth devices/],
          [['create', '/x', 'x', String(pid), 'veth', bridge, 'a/b'], /NICNAME is not a network device name/],
          // Nothing ovs-vsctl could take for an option.
          [['create', '/x', 'x', String(pid), 'veth', '--help', 'eth0'], /BRIDGE is not a network device name/],
          [['delete', '/x', 'x', `/proc/${pid}/ns/net`, 'veth', bridge, '-h'], /HOST-END is not a network device name/],
          [['delete', '/x', 'x', `/proc/${pid}/ns/net`, 'veth', bridge, 'eth0'], new RegExp(`${bridge} is a bridge of the host, whose ports go with their devices: only Open vSwitch ports are deleted`)],
          [['create', '/x', 'x', String(pid), 'veth', 'lo', 'eth0'], /lo is (not|neither) a bridge of the host/],
          [['create', '/x', 'x', String(pid), 'veth', bridge], /usage: lxkit-user-nic create/],
        ] as const) {
          const r = await asNobody(helper, [...args]);
          assert.is(r.exitCode, 1, args.join(' '));
          assert.match(String(r.stderr), message);
        }
        // Without the bit (a copy is nobody's own file): it says so.
        const copy = join('/tmp', `lxkit-user-nic-copy-${process.pid}`);
        await execa('install', ['-o', String(NOBODY), '-m', '755', helper, copy]);
        try {
          const r = await asNobody(copy, ['create', '/x', 'x', String(pid), 'veth', bridge, 'eth0']);
          assert.is(r.exitCode, 1);
          assert.match(String(r.stderr), /not setuid root/);
        } finally {
          await execa('rm', ['-f', copy]);
        }
      });
    });
  });
});

testIf(test, NOT_SETUID ?? LXC_MISSING, "LXC's lxc-user-nic and lxkit-user-nic count against the same quota, with the same answer", async () => {
  await withBridge(undefined, async (bridge) => {
    await withUsernet(`nobody veth ${bridge} 2\n`, () =>
      withNobodyNetns(async (pid) => {
        const ours = await asNobody(helper, ['create', '/x', 'x', String(pid), 'veth', bridge, 'eth0']);
        assert.is(ours.exitCode, 0, String(ours.stderr));
        const theirs = await asNobody(LXC_USER_NIC, ['create', '/x', 'x', String(pid), 'veth', bridge, 'eth1']);
        assert.is(theirs.exitCode, 0, String(theirs.stderr));
        // NICNAME:IFINDEX-INSIDE:HOST-END:IFINDEX-ON-HOST from both.
        const shape = (out: string, nic: string) => {
          const [name, inside, host, onHost] = out.trim().split(':');
          assert.is(name, nic);
          return { inside: Number(inside), host: host!, onHost: Number(onHost) };
        };
        const a = shape(String(ours.stdout), 'eth0');
        const b = shape(String(theirs.stdout), 'eth1');
        for (const x of [a, b]) assert.is(Number((await readFile(`/sys/class/net/${x.host}/ifindex`, 'utf8')).trim()), x.onHost);
        const inside = (await execa('nsenter', ['-t', String(pid), '-n', 'ip', '-o', 'link'])).stdout;
        assert.match(inside, new RegExp(`^${a.inside}: eth0@if${a.onHost}:`, 'm'));
        assert.match(inside, new RegExp(`^${b.inside}: eth1@if${b.onHost}:`, 'm'));
        const db = (await readFile(DB, 'utf8')).trim().split('\n');
        assert.equal(db, [`nobody veth ${bridge} ${a.host}`, `nobody veth ${bridge} ${b.host}`]);
        // The quota of 2 is used up, for both.
        const third = [await asNobody(helper, ['create', '/x', 'x', String(pid), 'veth', bridge, 'eth2']), await asNobody(LXC_USER_NIC, ['create', '/x', 'x', String(pid), 'veth', bridge, 'eth2'])];
        assert.equal(third.map((r) => r.exitCode), [1, 1]);
        assert.match(String(third[0]!.stderr), /the quota is reached/);
        assert.match(String(third[1]!.stderr), /Quota reached/);
      }),
    );
    await portsGone(bridge);
  });
});

test.run();
