/**
 * What a start works out from the config before anything runs: the init to
 * exec, the root filesystem and where it goes, and that every configured
 * network type has an implementation.
 */
import { statSync } from 'node:fs';
import { rootfsMountPoint } from '../native-package.js';
import type { ContainerConfig } from '../config/container-config.js';
import { LxkitError } from '../errors.js';
import type { InitSpec } from '../hooks/contexts.js';
import type { Runtime } from '../runtime.js';
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

/** lxc.rootfs.path split as LXC splits it: `type:source` (`dir:/srv/c1/rootfs`, `overlay:/lower:/upper`) or a bare path. */
export function rootfsSpec(value: string): { type: string | undefined; source: string } {
  const m = /^([a-z]+):(.*)$/s.exec(value);
  return m ? { type: m[1], source: m[2]! } : { type: undefined, source: value };
}

/** The rootfs: its path without a storage prefix, and where it gets mounted. */
export function rootfsOf(opts: PrepareOptions): { path: string; mount: string } | undefined {
  const model = opts.config.model;
  const value = model.rootfs.path;
  if (!value) return undefined;
  const { type, source: path } = rootfsSpec(value);
  if (type !== undefined && type !== 'dir') {
    throw new LxkitError('LXKIT_UNSUPPORTED', `lxc.rootfs.path = ${value}: storage type "${type}" is not available (no enabled plugin provides it)`, {
      key: 'lxc.rootfs.path',
      container: opts.name,
    });
  }
  const userns = model.idmap.length > 0;
  try {
    if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    throw new LxkitError('LXKIT_ROOTFS_MISSING', `the root filesystem ${path} of container "${opts.name}" does not exist or is not a directory`, {
      cause: err,
      path,
      key: 'lxc.rootfs.path',
      container: opts.name,
    });
  }
  // In a user namespace the container's ids may not traverse the lxcpath: the rootfs goes on a
  // mount point every id can reach (as LXC's lxc/rootfs), the monitor making the mount.
  return { path, mount: model.rootfs.mount ?? (userns ? rootfsMountPoint() : path) };
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
