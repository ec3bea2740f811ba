/**
 * D-Bus fixtures: a private dbus-daemon, and a real systemd user manager
 * with a bus of its own — systemd's own code managing a cgroup subtree of its own, so that the
 * systemd driver is tested against systemd itself on a host whose PID 1 is
 * not systemd.
 */
import { chmod, mkdir, readdir, readFile, rmdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cgroupMounts, until, withTmpDir } from './harness.js';

/** A bus configuration: anyone may own and call anything (the test's bus only); listening on `listen`. */
const busConfig = (listen: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>${listen}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

/** A private bus: dbus-daemon with a config of its own, listening on a socket in a temporary directory. */
export async function withBus<T>(fn: (address: string) => Promise<T>): Promise<T> {
  return withTmpDir(async (dir) => {
    await chmod(dir, 0o755);
    const socket = join(dir, 'bus');
    const config = join(dir, 'bus.conf');
    await writeFile(config, busConfig(`unix:path=${socket}`));
    const daemon = execa('dbus-daemon', ['--nofork', `--config-file=${config}`], { reject: false });
    try {
      await until(async () => (existsSync(socket) ? true : undefined), 5000, 'the bus socket');
      await chmod(socket, 0o777);
      return await fn(`unix:path=${socket}`);
    } finally {
      daemon.kill('SIGTERM');
      await daemon;
    }
  });
}

export const SYSTEMD = '/lib/systemd/systemd';

/** Why a user manager cannot run here, or undefined. */
export function userManagerMissing(): string | undefined {
  if (!existsSync(SYSTEMD)) return 'systemd is not installed';
  if (!existsSync('/run/systemd')) return 'no /run/systemd to cover with the user manager\'s "booted with systemd" marker';
  return undefined;
}

export interface UserManager {
  /** Its bus. */
  readonly address: string;
  /** Its root cgroup, below each mount point (`/lxkit-sd-N`). */
  readonly root: string;
}

/** Kills what is left in a cgroup tree and removes it, deepest first. */
async function removeTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await removeTree(join(dir, e.name));
  for (let i = 0; i < 100; i++) {
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const err = await rmdir(dir).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    if (!err || err.code === 'ENOENT') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `systemd --user` (root's), started in cgroups of its own in every
 * hierarchy — its root, which it manages and nothing else — and in a mount
 * namespace where /run/systemd/system exists (the marker it wants before it
 * runs as a user instance). Its bus is the user bus it starts itself
 * (dbus.socket and dbus.service of our own, in its configuration directory:
 * it talks on the API bus only once dbus.service runs). Stopped, and its
 * cgroups removed, at the end.
 */
export async function withUserManager<T>(fn: (m: UserManager) => Promise<T>): Promise<T> {
  return withTmpDir(async (runtimeDir) => {
    await chmod(runtimeDir, 0o700);
    const units = join(runtimeDir, '.config/systemd/user');
    await mkdir(join(units, 'sockets.target.wants'), { recursive: true });
    await writeFile(join(runtimeDir, 'bus.conf'), busConfig('systemd:'));
    await writeFile(join(units, 'dbus.socket'), '[Socket]\nListenStream=%t/bus\n');
    await writeFile(
      join(units, 'dbus.service'),
      `[Unit]\nRequires=dbus.socket\n[Service]\nType=notify\nNotifyAccess=main\nExecStart=/usr/bin/dbus-daemon --config-file=${join(runtimeDir, 'bus.conf')} --address=systemd: --nofork --nopidfile\n`,
    );
    await symlink('../dbus.socket', join(units, 'sockets.target.wants/dbus.socket'));
    const address = `unix:path=${join(runtimeDir, 'bus')}`;
    const root = `/lxkit-sd-${process.pid}`;
    const mounts = await cgroupMounts();
    for (const m of mounts) {
      await mkdir(join(m, root));
      // A new v1 cpuset cgroup has no CPUs and no memory nodes, and takes no task until given its parent's.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const parent = await readFile(join(m, f), 'utf8').catch(() => undefined);
        if (parent !== undefined) await writeFile(join(m, root, f), parent.trim());
      }
    }
    const manager = execa(
      'sh',
      [
        '-c',
        // Into its cgroups first (so that it manages those and not the host's), then its own mount namespace.
        'for f; do echo $$ > "$f" || exit 1; done; exec unshare -m --propagation private sh -c \'mount -t tmpfs lxkit-sd /run/systemd && mkdir /run/systemd/system && exec "$0" --user\' "$SYSTEMD_BIN"',
        'sh',
        ...mounts.map((m) => join(m, root, 'cgroup.procs')),
      ],
      {
        env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', XDG_RUNTIME_DIR: runtimeDir, HOME: runtimeDir, SYSTEMD_BIN: SYSTEMD },
        extendEnv: false,
        reject: false,
        all: true,
      },
    );
    try {
      await until(
        () =>
          execa('dbus-send', [`--bus=${address}`, '--print-reply', '--dest=org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Peer.Ping']).then(
            () => true,
            () => (manager.exitCode !== null ? Promise.reject(new Error(`systemd --user exited (${manager.exitCode}): ${manager.all ?? ''}`)) : undefined),
          ),
        15_000,
        'systemd --user on its bus',
      );
      return await fn({ address, root });
    } finally {
      manager.kill('SIGTERM');
      const timer = setTimeout(() => manager.kill('SIGKILL'), 10_000);
      await manager;
      clearTimeout(timer);
      for (const m of mounts) await removeTree(join(m, root));
    }
  });
}
