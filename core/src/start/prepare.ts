/**
 * What a start works out from the config before anything runs: the init to
 * exec, the root filesystem and where it goes, and that every configured
 * network type has an implementation.
 */
import { rootfsMountPoint } from '../native-package.js';
import type { ContainerConfig } from '../config/container-config.js';
import { LxkitError } from '../errors.js';
import type { InitSpec } from '../hooks/contexts.js';
import type { Runtime } from '../runtime.js';
import { storageOf, type ResolvedStorage } from '../storage/select.js';
import { splitQuotedCommand, splitSpacedCommand } from './words.js';

/** What these helpers need of a start's options. */
export interface PrepareOptions {
  readonly name: string;
  readonly config: ContainerConfig;
  readonly kind: 'system' | 'application';
  readonly command?: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
}

export function initSpec(opts: PrepareOptions): InitSpec {
  const model = opts.config.model;
  let argv: string[];
  if (opts.command && opts.command.length > 0) argv = [...opts.command];
  else if (opts.kind === 'application') {
    if (!model.executeCmd) {
      throw new LxkitError('LXKIT_USAGE', `no command to execute: give one after -- or set lxc.execute.cmd`, { container: opts.name });
    }
    argv = splitQuotedCommand(model.executeCmd, 'lxc.execute.cmd');
  } else argv = splitSpacedCommand(model.init.cmd ?? '/sbin/init', 'lxc.init.cmd');
  // The init's environment is clean, as in LXC: container=lxc and lxc.environment.
  const env = ['container=lxc', ...configEnvironment(opts.config).map(([k, v]) => `${k}=${v}`)];
  const uid = opts.uid ?? model.init.uid;
  const gid = opts.gid ?? model.init.gid;
  return {
    argv,
    env,
    cwd: model.init.cwd ?? '/',
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(model.init.groups.length > 0 ? { groups: [...model.init.groups] } : {}),
    mode: opts.kind === 'application' ? 'init' : 'replace',
  };
}

/** lxc.environment's settings, in order: a bare NAME takes lxkit's value, and is left out when lxkit has none. */
export function configEnvironment(config: ContainerConfig): [string, string][] {
  const out: [string, string][] = [];
  for (const e of config.model.environment) {
    const value = e.value ?? process.env[e.name];
    if (value !== undefined) out.push([e.name, value]);
  }
  return out;
}

export { rootfsSpec } from '../storage/select.js';

/** The rootfs of a start: as configured, its backend, and where it gets mounted. */
export interface StartRootfs {
  /** The path without its storage type (LXC_ROOTFS_PATH): a directory, `lower:upper`, a dataset... */
  readonly path: string;
  /** Where it is mounted in the container's mount namespace (LXC_ROOTFS_MOUNT). */
  readonly mount: string;
  readonly storage: ResolvedStorage;
}

/** The rootfs: its backend, checked to be there, and where it gets mounted. */
export function rootfsOf(runtime: Runtime, opts: PrepareOptions): StartRootfs | undefined {
  const model = opts.config.model;
  const value = model.rootfs.path;
  if (!value) return undefined;
  const origin = opts.config.entries.findLast((e) => e.key === 'lxc.rootfs.path');
  const storage = storageOf(runtime, value, { container: opts.name, origin });
  const path = storage.source;
  const missing = storage.backend.missing(path);
  if (missing !== undefined) {
    throw new LxkitError('LXKIT_ROOTFS_MISSING', `the root filesystem ${missing} of container "${opts.name}" does not exist or is not a ${storage.type === 'dir' ? 'directory' : `${storage.type} root filesystem`}`, {
      path: missing,
      key: 'lxc.rootfs.path',
      container: opts.name,
    });
  }
  // A directory is bind-mounted onto itself. In a user namespace the container's ids may not traverse
  // the lxcpath, and other storage has no directory of its own: the rootfs goes on a mount point
  // every id can reach (as LXC's lxc/rootfs), in the container's own mount namespace.
  const userns = model.idmap.length > 0;
  const own = storage.backend.capabilities.directory && !userns;
  return { path, mount: model.rootfs.mount ?? (own ? path : rootfsMountPoint()), storage };
}

/** Every configured network type must have an implementation. */
export function checkNetworks(runtime: Runtime, config: ContainerConfig, name: string): void {
  for (const e of config.entries) {
    if (!/^lxc\.net\.[0-9]+\.type$/.test(e.key) || e.value === 'empty' || e.value === 'none' || e.value === '') continue;
    if (!runtime.hooks.network.get(e.value)?.call()) {
      throw new LxkitError(
        'LXKIT_UNSUPPORTED',
        `${e.file}:${e.line}: ${e.key} = ${e.value}: no enabled plugin implements network type "${e.value}" yet`,
        { file: e.file, line: e.line, key: e.key, container: name },
      );
    }
  }
}
