/**
 * A private Open vSwitch for a test: its own ovsdb-server and ovs-vswitchd
 * in a temporary directory (OVS_RUNDIR, so that every ovs-vsctl of the
 * test's processes, lxkit's and LXC's included, talks to it and to no
 * system instance), and a bridge on the userspace datapath, which needs no
 * openvswitch kernel module: its ports are read and written with packet
 * sockets, its own interface is a tap. Afterwards the bridge, the daemons
 * and the directory are gone, whatever happened.
 *
 * With `systemSocket`, the database also listens on the system's default
 * socket, for programs that ignore OVS_RUNDIR (lxkit-user-nic, setuid, runs
 * ovs-vsctl with a fixed environment); only where no system instance has
 * that socket, and the socket (and its directory, when made) go afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { until, which, withTmpDir } from './harness.js';

export const OVS_MISSING = ['ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovsdb-tool'].some((t) => !which(t))
  ? 'Open vSwitch is not installed (openvswitch-switch)'
  : undefined;

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const SYSTEM_DIR = '/run/openvswitch';
const SYSTEM_SOCKET = `${SYSTEM_DIR}/db.sock`;

/** Why a test needing the system's socket cannot have it. */
export const OVS_SYSTEM_SOCKET_TAKEN = existsSync(SYSTEM_SOCKET) ? `${SYSTEM_SOCKET} exists (a system Open vSwitch): the test's database cannot listen there` : undefined;

export interface Ovs {
  readonly bridge: string;
  /** ovs-vsctl against the test's database. */
  vsctl(...args: string[]): Promise<string>;
  /** The ports of the bridge, but its own. */
  ports(): Promise<string[]>;
}

async function stopDaemon(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await until(async () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  }, 5000, `${pidFile}'s process to end`).catch(() => process.kill(pid, 'SIGKILL'));
}

/** Runs `fn` with a private Open vSwitch and a bridge (`address` on its interface, up). */
export async function withOvs<T>(address: string, fn: (ovs: Ovs) => Promise<T>, o: { systemSocket?: boolean } = {}): Promise<T> {
  const bridge = `lxko${randomBytes(3).toString('hex')}`;
  if (o.systemSocket && OVS_SYSTEM_SOCKET_TAKEN) throw new Error(OVS_SYSTEM_SOCKET_TAKEN);
  const madeDir = o.systemSocket && !existsSync(SYSTEM_DIR);
  return withTmpDir(async (dir) => {
    const saved = process.env['OVS_RUNDIR'];
    process.env['OVS_RUNDIR'] = dir;
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
    const vsctl = async (...args: string[]) => (await execa('ovs-vsctl', ['--timeout=10', ...args], { env })).stdout;
    const daemons = ['ovs-vswitchd', 'ovsdb-server'].map((d) => join(dir, `${d}.pid`));
    try {
      if (madeDir) await mkdir(SYSTEM_DIR, { mode: 0o755 });
      await execa('ovsdb-tool', ['create', join(dir, 'conf.db'), SCHEMA], { env });
      await execa('ovsdb-server', [join(dir, 'conf.db'), `--remote=punix:${join(dir, 'db.sock')}`, ...(o.systemSocket ? [`--remote=punix:${SYSTEM_SOCKET}`] : []), `--pidfile=${daemons[1]}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, '--detach', `--log-file=${join(dir, 'ovsdb-server.log')}`], { env });
      await vsctl('--no-wait', 'init');
      await execa('ovs-vswitchd', [`unix:${join(dir, 'db.sock')}`, `--pidfile=${daemons[0]}`, `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, '--detach', `--log-file=${join(dir, 'ovs-vswitchd.log')}`], { env });
      await vsctl('add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev');
      await execa('ip', ['addr', 'add', address, 'dev', bridge]);
      await execa('ip', ['link', 'set', bridge, 'up']);
      const ports = async () => (await vsctl('list-ports', bridge)).split('\n').filter(Boolean);
      return await fn({ bridge, vsctl, ports });
    } finally {
      await vsctl('--if-exists', 'del-br', bridge).catch(() => undefined);
      for (const pidFile of daemons) await stopDaemon(pidFile);
      // The bridge's tap goes with ovs-vswitchd; made sure of.
      await execa('ip', ['link', 'del', bridge], { reject: false });
      if (o.systemSocket) await rm(SYSTEM_SOCKET, { force: true });
      if (madeDir) await rmdir(SYSTEM_DIR).catch(() => undefined);
      if (saved === undefined) delete process.env['OVS_RUNDIR'];
      else process.env['OVS_RUNDIR'] = saved;
    }
  });
}
