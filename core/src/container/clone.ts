/**
 * Cloning a container (lxc-copy, LXC's clone()): new storage made from the
 * source's (a snapshot, a backend's own copy, or the core's create + rsync),
 * the source's config written for the new one, the new root filesystem's
 * /etc/hostname given the new name (clone-hostname.ts), and the clone hooks
 * run with it reachable. lxc-snapshot and its restore are clones
 * too (snapshots.ts).
 *
 * The new config is the source's file with LXC's changes, in place (comments
 * and order kept): lxc.rootfs.path, lxc.uts.name (unless keepName), new
 * hwaddrs (unless keepMac), hook scripts kept in the source's directory and
 * the lxc.mount.fstab file copied along, and mount entries naming the
 * source's directory pointed at the new one.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { hookScriptsPlugin } from '../builtins/hook-scripts.js';
import type { ContainerConfig } from '../config/container-config.js';
import { ConfigDocument, rewriteValue } from '../config/document.js';
import { loadContainerConfig } from '../config/load.js';
import { LxkitError, messageOf } from '../errors.js';
import { pluginOf } from '../hooks/bus.js';
import type { CloneContext } from '../hooks/contexts.js';
import type { IdMap } from '../config/core-keys/model.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import type { RootfsMount, StorageBackend, StorageOptions, StorageTarget } from '../storage/backend.js';
import { rootfsMountPoint } from '../native-package.js';
import { runInUserNamespace, withCallerIds, withHeldMountNamespace, withHeldUserNamespace, type HeldNamespace } from '../start/userns-run.js';
import { copyStorage } from '../storage/copy.js';
import { removeAsContainerRoot } from '../storage/directories.js';
import { chosenBackend, storageOf } from '../storage/select.js';
import { originOf, recordClone, releaseOrigin, snapshotPath, type ContainerRef } from './dependents.js';
import { setCloneHostname, setCloneHostnameIn } from './clone-hostname.js';
import { ContainerLock } from './lock.js';
import { containerPaths } from './paths.js';

export interface CloneOptions {
  /** The new container's lxcpath (`-p`); the source's by default. */
  lxcpath?: string;
  /** The new rootfs's storage type (`-B`); the source's by default, `overlay` for a snapshot of a dir container. */
  storage?: string;
  /** A copy-on-write snapshot (`-s`): btrfs, zfs, lvm, or an overlay on the source's rootfs. */
  snapshot?: boolean;
  /** Keep lxc.uts.name (`-K`). */
  keepName?: boolean;
  /** Keep the network devices' hwaddrs (`-M`). */
  keepMac?: boolean;
  /** The new storage's size and the like (`-L`). */
  storageOptions?: StorageOptions;
  /** Arguments after `--`, passed on to lxc.hook.clone scripts. */
  hookArgs?: readonly string[];
  /** Copy a running container (`-a`): its files as they are at that moment. */
  allowRunning?: boolean;
}

/** What snapshots.ts asks of a clone beyond lxc-copy's options. */
export interface CloneInternals extends CloneOptions {
  /** A snapshot where the backend makes one, else a copy of the same type (lxc-snapshot). */
  maybeSnapshot?: boolean;
  /** The new container's directory exists and its lock is held (a restore onto the source's own name keeps its snaps/). */
  intoExisting?: boolean;
}

export interface CloneSource {
  readonly name: string;
  readonly lxcpath: string;
  readonly log: Logger;
}

const HWADDR = /^lxc\.net\.[0-9]+\.hwaddr$/;

/** Clones `from` into `newName`; the new container is left stopped. */
export async function cloneContainer(runtime: Runtime, from: CloneSource, newName: string, opts: CloneInternals = {}): Promise<void> {
  const src = containerPaths(from.lxcpath, from.name);
  const lxcpath = resolve(opts.lxcpath ?? from.lxcpath);
  const dst = containerPaths(lxcpath, newName);
  const srcDoc = await readFile(src.config).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new LxkitError('LXKIT_CONTAINER_NOT_FOUND', `container "${from.name}" does not exist in ${from.lxcpath}`, { container: from.name, path: src.config });
    }
    throw err;
  });
  if (resolve(src.dir) === resolve(dst.dir) && !opts.intoExisting) {
    throw new LxkitError('LXKIT_CONTAINER_EXISTS', `cannot copy container "${from.name}" onto itself`, { container: from.name });
  }
  const srcConfig = await loadContainerConfig(runtime, { path: src.config });
  const value = srcConfig.model.rootfs.path;
  if (!value) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `cannot copy container "${from.name}": it has no lxc.rootfs.path (it runs on the host's root filesystem)`, {
      container: from.name,
      key: 'lxc.rootfs.path',
    });
  }
  const origin = srcConfig.entries.findLast((e) => e.key === 'lxc.rootfs.path');
  const fromStorage = storageOf(runtime, value, { container: from.name, origin });
  const options: StorageOptions = { zfsroot: runtime.toolkit.zfs.root, vgname: runtime.toolkit.lvm.vg, thinpool: runtime.toolkit.lvm.thinPool, ...opts.storageOptions };
  // As LXC: a snapshot of a dir container is an overlay on its rootfs (lxc-copy -s); lxc-snapshot keeps the type.
  const type = opts.storage ?? (opts.snapshot && !opts.maybeSnapshot && fromStorage.type === 'dir' ? 'overlay' : fromStorage.type);
  const backend = await chosenBackend(runtime, type, lxcpath, options, newName);
  let snapshot = opts.snapshot === true;
  if (snapshot && !backend.capabilities.snapshot) {
    if (!opts.maybeSnapshot) {
      throw new LxkitError(
        'LXKIT_UNSUPPORTED',
        `cannot snapshot container "${from.name}" as "${newName}": storage type "${backend.type}" makes no snapshots (copy it without -s, or choose overlay, btrfs, zfs or lvm with -B)`,
        { container: from.name },
      );
    }
    snapshot = false;
  }

  await mkdir(lxcpath, { recursive: true, mode: 0o755 });
  // The source stays as it is while it is copied: its lock, which a running container's monitor holds.
  const srcLock = opts.allowRunning ? undefined : await ContainerLock.acquire(src.lock, from.name, 'copy');
  const lock = opts.intoExisting ? undefined : await ContainerLock.acquire(dst.lock, newName, 'create');
  const target: StorageTarget = { name: newName, lxcpath, dir: dst.dir, log: from.log };
  const ref: ContainerRef = { lxcpath, name: newName };
  let madeDir = false;
  let made: { backend: StorageBackend; source: string } | undefined;
  try {
    if (!opts.intoExisting) {
      await mkdir(dst.dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        throw new LxkitError('LXKIT_CONTAINER_EXISTS', `container "${newName}" already exists (${dst.dir})`, { container: newName, path: dst.dir });
      });
      madeDir = true;
    }
    const request = { ...target, rootfs: dst.rootfs, options, from: { ...fromStorage, container: { name: from.name, lxcpath: from.lxcpath, dir: src.dir, log: from.log } }, snapshot, orCopy: opts.maybeSnapshot === true };
    let source = (snapshot || backend.capabilities.clone) && backend.clone ? await backend.clone(request) : undefined;
    if (source !== undefined) {
      made = { backend, source };
      await giveToContainerRoot(backend.directories?.(source) ?? [], srcConfig.model.idmap, from.log);
    } else {
      if (snapshot && !opts.maybeSnapshot) throw new LxkitError('LXKIT_UNSUPPORTED', `storage type "${backend.type}" cannot snapshot a ${fromStorage.type} root filesystem`, { container: from.name });
      source = await backend.create(request);
      made = { backend, source };
      await copyStorage({ backend: fromStorage.backend, source: fromStorage.source, target: request.from.container }, { backend, source, target }, srcConfig.model.idmap);
    }
    const doc = ConfigDocument.fromBuffer(srcDoc, dst.config);
    await rewriteConfig(doc, { src: src.dir, dst: dst.dir, name: newName, keepName: opts.keepName === true, keepMac: opts.keepMac === true });
    doc.set('lxc.rootfs.path', `${backend.type}:${source}`);
    const mode = (await stat(src.config)).mode & 0o777;
    await writeFile(dst.config, doc.toBuffer(), { mode });
    // An overlay snapshot is built on its lower layer's container, which may not go first.
    if (snapshot && backend.type === 'overlay') {
      const lowerOwner = fromStorage.type === 'overlay' ? await originOf(src.dir) : { lxcpath: resolve(from.lxcpath), name: from.name };
      if (lowerOwner) await recordClone(lowerOwner, ref, dst.dir);
    }
    await updateRootfs(runtime, { from, srcConfig, target, backend, source, hookArgs: opts.hookArgs ?? [], configFile: dst.config, keepName: opts.keepName === true });
  } catch (err) {
    if (made) {
      const { backend: b, source: madeSource } = made;
      await removeAsContainerRoot([dst.rootfs, ...(b.directories?.(madeSource) ?? [])], srcConfig.model.idmap, { what: `removing the storage made for ${newName}`, log: from.log })
        .then(() => b.destroy(madeSource, target))
        .catch((e) => from.log.warn(`removing the storage made for ${newName}: ${messageOf(e)}`));
    }
    await releaseOrigin(dst.dir, ref).catch(() => undefined);
    if (madeDir) await rm(dst.dir, { recursive: true, force: true });
    else if (opts.intoExisting) await emptyBut(dst.dir, snapshotPath(dst.dir));
    throw err;
  } finally {
    lock?.release();
    srcLock?.release();
  }
}

/** LXC's edits of a cloned config (see the module comment); files it names in the source's directory are copied. */
async function rewriteConfig(doc: ConfigDocument, o: { src: string; dst: string; name: string; keepName: boolean; keepMac: boolean }): Promise<void> {
  if (!o.keepName) doc.set('lxc.uts.name', o.name);
  const inside = (p: string) => resolve(p).startsWith(resolve(o.src) + sep);
  for (const e of doc.entries()) {
    let value: string | undefined;
    if (!o.keepMac && HWADDR.test(e.key) && e.value.length === 17) value = newHwaddr();
    else if (e.key.startsWith('lxc.hook.')) {
      const script = e.value.split(/\s+/)[0] ?? '';
      if (inside(script)) {
        const to = join(o.dst, relative(o.src, script));
        await copyInto(script, to);
        value = to + e.value.slice(script.length);
      }
    } else if (e.key === 'lxc.mount.fstab' && e.value) {
      // As LXC's copy_fstab: the file goes along, into the new directory.
      const to = join(o.dst, basename(e.value));
      await copyInto(resolve(o.src, e.value), to);
      value = to;
    } else if (e.key === 'lxc.mount.entry' && e.value.includes(`${o.src}/`)) {
      value = e.value.split(`${o.src}/`).join(`${o.dst}/`);
    }
    if (value !== undefined) doc.replaceLine(e.index, [rewriteValue(doc.lines[e.index]!.raw, value)]);
  }
}

async function copyInto(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
  await chmod(to, (await stat(from)).mode & 0o7777);
}

/** A new locally administered address in LXC's 00:16:3e range. */
function newHwaddr(): string {
  const b = randomBytes(3);
  return `00:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/**
 * As LXC's chown_mapped_root: the new storage's own directories (an overlay
 * snapshot's upper and work directories), made by a user other than root,
 * go to the unprivileged container's root, who writes there and could not
 * otherwise (the caller's ids are not mapped in its namespace).
 */
async function giveToContainerRoot(dirs: readonly string[], idmap: readonly IdMap[], log: Logger): Promise<void> {
  if (process.getuid?.() === 0 || idmap.length === 0 || dirs.length === 0) return;
  await runInUserNamespace({ idmap: withCallerIds(idmap), argv: ['chown', '0:0', '--', ...dirs], what: "giving the copy's storage directories to its root", log });
}

interface RootfsUpdate {
  readonly from: CloneSource;
  readonly srcConfig: ContainerConfig;
  readonly target: StorageTarget;
  readonly backend: StorageBackend;
  readonly source: string;
  readonly hookArgs: readonly string[];
  readonly configFile: string;
  readonly keepName: boolean;
}

/**
 * LXC's edits of the new rootfs, in LXC's order: lxc.hook.clone scripts (and
 * taps of the clone hook), then its host name (unless keepName). Root mounts
 * a rootfs that is a filesystem of its own in a mount namespace of its own
 * for the scripts, as LXC does, so that nothing of it shows on the host. For
 * a user other than root copying an unprivileged container, the scripts run
 * as the container's root in a user and mount namespace with its maps, as
 * LXC runs them for such a user; an overlay, which that user cannot mount on
 * the host, is mounted there alone.
 */
async function updateRootfs(runtime: Runtime, o: RootfsUpdate): Promise<void> {
  const { idmap } = o.srcConfig.model;
  const scripts = o.srcConfig.model.hooks.clone.length > 0;
  // The site scripts' tap is always there; it has work only with lxc.hook.clone lines.
  const taps = runtime.hooks.clone.taps.some((t) => pluginOf(t) !== hookScriptsPlugin.name);
  if (o.keepName && !scripts && !taps) return;
  const unprivileged = process.getuid?.() !== 0 && idmap.length > 0;
  // Other plugins' taps are given a path on the host; a directory rootfs is one already.
  if (!taps && !o.backend.capabilities.directory && (unprivileged || scripts)) {
    const fs = await o.backend.mount(o.source, o.target);
    if (unprivileged) {
      if (!scripts && !userMountable(fs)) {
        o.target.log.warn(`the copy's /etc/hostname is left as it was: its ${o.backend.type} root filesystem cannot be mounted by a user other than root`);
        return;
      }
      return inUserNamespace(o, fs, async (ns, at, scratch) => {
        if (scripts) await cloneHook(runtime, o, { path: o.source, mount: at, userNamespace: ns });
        if (!o.keepName) await setCloneHostnameIn(ns, at, scratch, o.target.name, o.target.log);
      });
    }
    if (fs.kind === 'filesystem') {
      return inMountNamespace(o, fs, async (ns, at, scratch) => {
        await cloneHook(runtime, o, { path: o.source, mount: at, mountNamespace: ns.mountNamespace });
        if (!o.keepName) await setCloneHostnameIn(ns, at, scratch, o.target.name, o.target.log);
      });
    }
    // A dataset that its own tools mount on the host (zfs): edited there, as a directory.
  }
  const opened = await o.backend.open(o.source, o.target);
  try {
    if (unprivileged && scripts) {
      await inUserNamespace(o, { kind: 'bind', path: opened.path }, (ns, at) => cloneHook(runtime, o, { path: o.source, mount: at, userNamespace: ns }));
    } else if (scripts || taps) await cloneHook(runtime, o, { path: o.source, mount: opened.path });
    if (!o.keepName) await setCloneHostname(opened.path, o.target.name, idmap, o.target.log);
  } finally {
    await opened.close();
  }
}

async function cloneHook(runtime: Runtime, o: RootfsUpdate, rootfs: CloneContext['rootfs']): Promise<void> {
  const config = await loadContainerConfig(runtime, { path: o.configFile });
  await runtime.hooks.clone.promise({
    container: { name: o.target.name, lxcpath: o.target.lxcpath, config, configFile: o.configFile },
    log: o.target.log,
    source: { name: o.from.name, lxcpath: o.from.lxcpath, config: o.srcConfig, configFile: o.srcConfig.path },
    hookArgs: o.hookArgs,
    rootfs,
  });
}

/** Whether root of a user namespace may make this mount: a directory is there already; of filesystems, the kernel allows an overlay. */
const userMountable = (fs: RootfsMount): boolean => fs.kind === 'bind' || (!fs.hostRoot && fs.fstype === 'overlay');

/**
 * `fn` with the rootfs in a user and mount namespace of the caller's, with
 * the container's maps (LXC's userns_exec_1): a directory where it is, an
 * overlay mounted there alone on a directory of the caller's (`scratch`
 * holds it, for `fn`'s own files too).
 */
async function inUserNamespace(o: RootfsUpdate, fs: RootfsMount, fn: (ns: HeldNamespace, at: string, scratch: string) => Promise<void>): Promise<void> {
  if (!userMountable(fs)) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `cannot copy container "${o.from.name}" as "${o.target.name}" here: its ${o.backend.type} root filesystem is mounted by the host's root only`, {
      container: o.target.name,
    });
  }
  const scratch = await mkdtemp(join(tmpdir(), 'lxkit-copy-'));
  try {
    const at = fs.kind === 'bind' ? fs.path : join(scratch, 'rootfs');
    await withHeldUserNamespace({ idmap: withCallerIds(o.srcConfig.model.idmap), what: `editing the root filesystem of container "${o.target.name}"`, log: o.target.log }, async (ns) => {
      if (fs.kind === 'filesystem') {
        await mkdir(at);
        await ns.mount({ source: fs.source, target: at, fstype: fs.fstype, data: fs.options.join(',') }, `mounting the root filesystem on ${at}`);
      }
      await fn(ns, at, scratch);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * `fn` with a filesystem rootfs mounted in a mount namespace of root's (LXC's
 * clone: at lxc.rootfs.mount, or the place a start mounts it), which goes
 * with everything mounted in it; `scratch` is a directory for `fn`'s files.
 */
async function inMountNamespace(o: RootfsUpdate, fs: Extract<RootfsMount, { kind: 'filesystem' }>, fn: (ns: HeldNamespace, at: string, scratch: string) => Promise<void>): Promise<void> {
  const at = o.srcConfig.model.rootfs.mount ?? rootfsMountPoint();
  const scratch = await mkdtemp(join(tmpdir(), 'lxkit-copy-'));
  try {
    await withHeldMountNamespace({ what: `editing the root filesystem of container "${o.target.name}"`, log: o.target.log }, async (ns) => {
      try {
        for (const dir of fs.makeDirectories ?? []) await mkdir(dir, { recursive: true, mode: 0o755 });
        await ns.mount({ source: fs.source, target: at, fstype: fs.fstype, data: fs.options.join(',') }, `mounting the root filesystem on ${at}`);
      } finally {
        // The mount holds what it is made of now (a loop device): the backend lets go of it.
        await fs.mounted?.();
      }
      await fn(ns, at, scratch);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Removes what is in `dir` but `keep` (a failed restore onto the container's own name keeps its snapshots). */
export async function emptyBut(dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    if (resolve(p) !== resolve(keep)) await rm(p, { recursive: true, force: true });
  }
}
