/**
 * Runs a program in a new user namespace with given id maps, on the host's
 * filesystems, as LXC's lxc-usernsexec does: how a user other than root
 * hands files to a container's subordinate ids (chown) and takes them back
 * (rm -rf), which it is not allowed to do directly. And namespaces held for
 * a while (a copy's clone hooks): a user namespace with a mount namespace,
 * or for root a mount namespace alone, as LXC's clone runs its hooks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdMap } from '../config/core-keys/model.js';
import { LxkitError, isLxkitError, messageOf } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { writeIdMaps } from './idmap-write.js';
import { Monitor, type Exit } from './monitor.js';
import { CLONE_FLAGS } from './namespaces.js';
import { EXEC_MODE, OpQueue, type OpInfo } from './ops.js';
import type { HostProgram } from './program.js';
import { STDIO, type StdioMode } from './protocol.js';

export interface UsernsRun {
  /** The maps of the new user namespace (written with newuidmap/newgidmap unless root). */
  readonly idmap: readonly IdMap[];
  /** The program (an absolute path, or found on a standard PATH) and its arguments. */
  readonly argv: readonly string[];
  /** What it does, for messages: "giving the rootfs to the container's root". */
  readonly what: string;
  readonly log?: Logger;
}

/** Maps for a user to act on a container's files: the container's own maps, plus the user's ids after them. */
export function withCallerIds(maps: readonly IdMap[]): IdMap[] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const next = (type: 'u' | 'g') => maps.filter((m) => m.type === type).reduce((n, m) => Math.max(n, m.nsid + m.range), 0);
  return [
    ...maps,
    { type: 'u', nsid: next('u'), hostid: uid, range: 1 },
    { type: 'g', nsid: next('g'), hostid: gid, range: 1 },
  ];
}

/**
 * The shared part: a monitor clones a child into a new user namespace (with
 * `flags` more), the maps are written, and `body` gets the child's ops, which
 * start with becoming root there. The child is gone when this returns.
 */
async function asRootInUserNamespace<T>(
  opts: { flags: number; stdio: StdioMode; idmap: readonly IdMap[]; what: string; mapFailure: (kind: 'uid' | 'gid') => string; log?: Logger | undefined },
  body: (monitor: Monitor, ops: OpQueue, pid: number) => Promise<T>,
): Promise<T> {
  return inNewNamespaces({ flags: CLONE_FLAGS.user | opts.flags, stdio: opts.stdio, log: opts.log, container: '(user namespace)' }, async (monitor, pid) => {
    await writeIdMaps(pid, opts.idmap, (kind, err) => new LxkitError('LXKIT_COMMAND_FAILED', `${opts.mapFailure(kind)}: ${messageOf(err)}`, { cause: err }));
    return body(monitor, new OpQueue().becomeRoot({ what: opts.what }), pid);
  });
}

/** A monitor's child in new namespaces (`flags`), waiting for batches of ops; it and the monitor are gone when `body` settles. */
async function inNewNamespaces<T>(
  opts: { flags: number; stdio: StdioMode; log?: Logger | undefined; container: string },
  body: (monitor: Monitor, pid: number) => Promise<T>,
): Promise<T> {
  const monitor = Monitor.spawn({ log: opts.log ?? silentLogger, container: opts.container });
  let cloned = false;
  try {
    const child = await monitor.clone({ flags: opts.flags, pdeathSignal: 9, stdio: opts.stdio });
    cloned = true;
    return await body(monitor, child.pid);
  } finally {
    // An op interpreter still waiting for batches, or nothing any more once its program has exited.
    if (cloned) {
      monitor.kill(9);
      await monitor.exited().catch(() => undefined);
    }
    await monitor.quit().catch(() => monitor.destroy());
  }
}

export async function runInUserNamespace(req: UsernsRun): Promise<void> {
  try {
    await asRootInUserNamespace(
      { flags: 0, stdio: STDIO.NULL, idmap: req.idmap, what: `${req.what}: becoming root in the user namespace`, mapFailure: (kind) => `${req.what}: cannot write the ${kind} map`, log: req.log },
      (monitor, ops) => monitor.batch(ops.run(req.argv, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], { what: `${req.what} (${req.argv.join(' ')})` })),
    );
  } catch (err) {
    // The op interpreter reports a failed program as a hook script's failure; here it is a command of lxkit's.
    if (isLxkitError(err, 'LXKIT_HOOK_SCRIPT_FAILED')) throw new LxkitError('LXKIT_COMMAND_FAILED', err.message, { cause: err });
    throw err;
  }
}

/**
 * Namespaces whose root waits for work: for a user other than root, a user
 * namespace with a container's maps and a mount namespace of its own (what
 * LXC's userns_exec_1 gives such a user to act on an unprivileged
 * container's files as the container's root: its clone hooks); for root, a
 * mount namespace alone (where LXC's clone mounts the copy's rootfs for its
 * hooks). Gone when the body given it settles.
 */
export interface HeldNamespace {
  /** Mounts a filesystem there (in a user namespace: one the kernel lets its root mount, an overlay). */
  mount(m: { source: string; target: string; fstype: string; data: string }, what: string): Promise<void>;
  /** Runs a program to completion there, as its root; a failure is LXKIT_HOOK_SCRIPT_FAILED naming `info`. */
  run(argv: readonly string[], env: Readonly<Record<string, string>>, info: OpInfo): Promise<void>;
  /** The mount namespace's file (/proc/PID/ns/mnt): root enters it with nsenter. */
  readonly mountNamespace: string;
}

function held(monitor: Monitor, pid: number): HeldNamespace {
  return {
    mount: (m, what) => monitor.batch(new OpQueue().mount({ ...m, flags: 0 }, { what })).then(() => undefined),
    run: (argv, env, info) =>
      monitor.batch(new OpQueue().run(argv, Object.entries(env).map(([k, v]) => `${k}=${v}`), info)).then(() => undefined),
    mountNamespace: `/proc/${pid}/ns/mnt`,
  };
}

export async function withHeldUserNamespace<T>(req: { idmap: readonly IdMap[]; what: string; log?: Logger }, body: (ns: HeldNamespace) => Promise<T>): Promise<T> {
  return asRootInUserNamespace(
    { flags: CLONE_FLAGS.mnt, stdio: STDIO.NULL, idmap: req.idmap, what: `${req.what}: becoming root in the user namespace`, mapFailure: (kind) => `${req.what}: cannot write the ${kind} map`, log: req.log },
    async (monitor, ops, pid) => {
      await monitor.batch(ops);
      return body(held(monitor, pid));
    },
  );
}

/** A mount namespace of root's whose mounts stay out of the host's (rslave): as LXC's clone, which unshares one for its hooks. */
export async function withHeldMountNamespace<T>(req: { what: string; log?: Logger }, body: (ns: HeldNamespace) => Promise<T>): Promise<T> {
  return inNewNamespaces({ flags: CLONE_FLAGS.mnt, stdio: STDIO.NULL, log: req.log, container: '(mount namespace)' }, async (monitor, pid) => {
    await monitor.batch(new OpQueue().makeRslave({ what: `${req.what}: keeping its mounts from the host` }));
    return body(held(monitor, pid));
  });
}

/** Copies each `FROM TO` pair of its arguments over TO's contents (TO keeps its owner and mode): a fixed script, the paths are only its arguments. */
const COPY_OVER = 'while [ "$#" -gt 1 ]; do cat -- "$1" > "$2" || exit 1; shift 2; done';

/**
 * Replaces the contents of existing files (each keeps its owner and mode)
 * as root of a user namespace with a container's `idmap` and the caller's
 * own ids: how a user other than root writes files of a container's root.
 * The texts go through files of the caller's, which root of the namespace
 * reads there; the paths must have been checked to stay in the rootfs.
 */
export async function overwriteInUserNamespace(
  files: readonly (readonly [path: string, text: string])[],
  o: { readonly idmap: readonly IdMap[]; readonly what: string; readonly log?: Logger },
): Promise<void> {
  if (files.length === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'lxkit-overwrite-'));
  try {
    const pairs: string[] = [];
    for (const [n, [path, text]] of files.entries()) {
      await writeFile(join(dir, String(n)), text);
      pairs.push(join(dir, String(n)), path);
    }
    await runInUserNamespace({ idmap: withCallerIds(o.idmap), argv: ['sh', '-c', COPY_OVER, 'sh', ...pairs], what: o.what, ...(o.log ? { log: o.log } : {}) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface UsernsExec extends HostProgram {
  readonly idmap: readonly IdMap[];
}

/**
 * lxc-usernsexec: `argv` runs as root in a new user namespace with these
 * maps (and a mount namespace of its own, as LXC gives it), on this
 * process's stdio; resolves with its exit (128+N for signal N).
 */
export function execInUserNamespace(req: UsernsExec): Promise<Exit> {
  return asRootInUserNamespace(
    { flags: CLONE_FLAGS.mnt, stdio: STDIO.INHERIT, idmap: req.idmap, what: 'becoming root in the user namespace', mapFailure: (kind) => `cannot write the ${kind} map of the user namespace`, log: req.log },
    async (monitor, ops) => {
      await monitor.batch(ops.exec({ argv: req.argv, env: req.env, cwd: req.cwd, mode: EXEC_MODE.REPLACE }, { what: `executing ${req.argv[0]} in the user namespace` }), { exec: true });
      return monitor.exited();
    },
  );
}
