/**
 * lxc-unshare: a command in new namespaces of the host, with no container
 * around it (no rootfs, no cgroups, no config). As everywhere in lxkit, the
 * monitor clones and the child runs one op batch that ends in the command's
 * exec: the id maps are written and the interfaces moved in before the
 * batch goes, so the command never runs without them.
 */
import { readFileSync } from 'node:fs';
import type { NamespaceName } from '../config/core-keys/model.js';
import { importExeca } from '../esm-imports.js';
import { LxkitError, messageOf } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { writeIdMaps } from '../start/idmap-write.js';
import { Monitor, type Exit } from '../start/monitor.js';
import { MS } from '../start/mount-options.js';
import { EXEC_MODE, OpQueue } from '../start/ops.js';
import type { HostProgram } from '../start/program.js';
import { STDIO } from '../start/protocol.js';
import { forwardSignals } from '../start/signals.js';
import { cloneFlagsOf } from './namespaces.js';
import type { HostUser } from './user.js';

export interface UnshareRequest extends HostProgram {
  /** At least one: the command's new namespaces (every other one is lxkit's). */
  readonly namespaces: readonly NamespaceName[];
  /**
   * -u: the command runs as this user, with its group and (outside a new
   * user namespace) its groups. In a new user namespace the user's uid and
   * gid are mapped to the caller's.
   */
  readonly user?: HostUser;
  /** -H: the host name in the new uts namespace. */
  readonly hostname?: string;
  /** -i: network interfaces of the host moved into the new network namespace. */
  readonly interfaces?: readonly string[];
  /** -M: a new /proc, /dev/shm and /dev/mqueue in the new mount namespace. */
  readonly remount?: boolean;
  /** -d: resolves once the command runs; its monitor waits for it. */
  readonly daemon?: boolean;
  /** SIGINT, SIGTERM and SIGHUP to this process go to the command (a shell on this terminal survives Ctrl-C). */
  readonly forwardSignals?: boolean;
}

/** What each option needs, with lxc-unshare's wording of it. */
function checkRequest(req: UnshareRequest): void {
  const has = (ns: NamespaceName) => req.namespaces.includes(ns);
  const usage = (message: string) => new LxkitError('LXKIT_USAGE', message);
  if (req.argv.length === 0) throw usage('a command to run in the new namespaces is required (after --)');
  if (req.namespaces.length === 0) throw usage('-s is required: the namespaces to make, e.g. -s "MOUNT|PID"');
  if ((req.interfaces?.length ?? 0) > 0 && !has('net')) throw usage('-i <interface> needs -s NETWORK');
  if (req.hostname !== undefined && !has('uts')) throw usage('-H <hostname> needs -s UTSNAME');
  if (req.remount && !has('mnt')) throw usage('-M needs -s MOUNT');
}

const kernelHas = (fs: string): boolean => {
  try {
    return readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => l.split('\t').at(-1) === fs);
  } catch {
    return false;
  }
};

/** The child's batch: mounts, host name, then the command's exec. */
function batchOf(req: UnshareRequest, log: Logger): OpQueue {
  const ops = new OpQueue();
  const has = (ns: NamespaceName) => req.namespaces.includes(ns);
  // Unlike lxc-unshare, the command's mounts (-M's too) never reach the host through a shared mount; the host's still come in.
  if (has('mnt')) ops.makeRslave({ what: 'making the new mount namespace a slave of the host\'s' });
  if (req.remount) {
    // Mounted over what is there (the pid namespace's own /proc hides the host's), as util-linux's unshare --mount-proc does.
    const hidden = MS.NOSUID | MS.NODEV | MS.NOEXEC;
    ops.mount({ source: 'proc', target: '/proc', fstype: 'proc', flags: hidden }, { what: '-M: mounting a new /proc' });
    ops.mount({ source: 'shmfs', target: '/dev/shm', fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, create: 'dir' }, { what: '-M: mounting a new /dev/shm' });
    // As lxc-unshare: without POSIX message queues in the kernel, the rest goes on.
    if (kernelHas('mqueue')) ops.mount({ source: 'mqueue', target: '/dev/mqueue', fstype: 'mqueue', flags: hidden, create: 'dir' }, { what: '-M: mounting a new /dev/mqueue' });
    else log.info('-M: this kernel has no POSIX message queues; /dev/mqueue is left as it is');
  }
  if (req.hostname !== undefined) ops.sethostname(req.hostname, { what: `-H: setting the host name to "${req.hostname}"` });
  const user = req.user;
  return ops.exec(
    {
      argv: req.argv,
      env: req.env,
      cwd: req.cwd,
      mode: EXEC_MODE.REPLACE,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      // A new user namespace maps only the user's own uid and gid: its other groups have no ids there.
      ...(user && !has('user') ? { groups: user.groups } : {}),
    },
    { what: `executing ${req.argv[0]} in the new namespaces` },
  );
}

/**
 * Runs `req.argv` in new namespaces; resolves with its exit (128+N for
 * signal N), or undefined with `daemon` once it runs.
 */
export async function runUnshared(req: UnshareRequest): Promise<Exit | undefined> {
  checkRequest(req);
  const log = req.log ?? silentLogger;
  const ops = batchOf(req, log);
  const monitor = Monitor.spawn({ log, container: '(lxkit unshare)' });
  let cloned = false;
  let left = false;
  try {
    const child = await monitor.clone({ flags: cloneFlagsOf(req.namespaces), pdeathSignal: 9, stdio: STDIO.INHERIT });
    cloned = true;
    if (req.user && req.namespaces.includes('user')) {
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      await writeIdMaps(
        child.pid,
        [
          { type: 'u', nsid: req.user.uid, hostid: uid, range: 1 },
          { type: 'g', nsid: req.user.gid, hostid: gid, range: 1 },
        ],
        (kind, err) => new LxkitError('LXKIT_COMMAND_FAILED', `-u: cannot write the ${kind} map of the new user namespace: ${messageOf(err)}`, { cause: err }),
      );
    }
    if (req.interfaces?.length) {
      const { execa } = await importExeca();
      for (const name of req.interfaces) {
        const r = await execa('ip', ['link', 'set', 'dev', name, 'netns', String(child.pid)], { reject: false });
        if (r.exitCode !== 0) {
          const why = String(r.stderr).trim() || (r.failed && r.exitCode === undefined ? messageOf(r) : `ip exited ${r.exitCode}`);
          throw new LxkitError('LXKIT_COMMAND_FAILED', `-i ${name}: cannot move the interface into the new network namespace: ${why}`);
        }
        log.debug(`-i: ${name} moved into the network namespace of ${child.pid}`);
      }
    }
    const stopForwarding = req.forwardSignals && !req.daemon ? forwardSignals(monitor, undefined, log) : undefined;
    try {
      await monitor.batch(ops, { exec: true });
      if (req.daemon) {
        // False: the command has already ended; the monitor is let go below.
        left = await monitor.daemonize([], false);
        return undefined;
      }
      return await monitor.exited();
    } finally {
      stopForwarding?.();
    }
  } finally {
    if (!left) {
      // The command gone already, or a child that never got that far.
      if (cloned && !monitor.exit) {
        monitor.kill(9);
        await monitor.exited().catch(() => undefined);
      }
      await monitor.quit().catch(() => monitor.destroy());
    }
  }
}
