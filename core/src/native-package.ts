/**
 * @lxkit/native, loaded from beside the core when it is there (lxkit's
 * packages sit side by side: the workspace, or node_modules/@lxkit), and
 * by package name otherwise. Resolving a package name through its exports
 * map loads Node's ESM resolver, ~3.5 ms of every CLI command that talks to
 * a container; a path costs nothing. Loaded at first use.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Native from '@lxkit/native';
import { planRecorder } from './launch-plan/active.js';

type NativePackage = typeof Native;
let loaded: NativePackage | undefined;

function loadPackage(): NativePackage {
  // In a CommonJS bundle, the bundle's own require: the CLI's loader gives the core's bundles one
  // that loads lxkit's files without Node's module resolution (core/bin/lxkit.cjs).
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  // dist/<part>.cjs and src/<module>.ts are both two levels below the package root.
  const sibling = new URL('../../native/', import.meta.url);
  try {
    const pkg = JSON.parse(readFileSync(new URL('package.json', sibling), 'utf8')) as { name?: string; main?: string };
    if (pkg.name === '@lxkit/native' && pkg.main) return load(new URL(pkg.main, sibling).pathname) as NativePackage;
  } catch {
    // Not side by side: resolve it by name.
  }
  return load('@lxkit/native') as NativePackage;
}

const pkg = (): NativePackage => (loaded ??= loadPackage());

export const native: NativePackage['native'] = () => {
  const r = planRecorder();
  // A call into the addon does host work a launch plan cannot see (the lock's flock is recorded as the lock).
  if (r?.tracking) r.refuse('a call into the native addon');
  return pkg().native();
};
export const helperPath: NativePackage['helperPath'] = (name) => pkg().helperPath(name);
export const startHelper: NativePackage['startHelper'] = (name, opts) => {
  planRecorder()?.spawn(helperPath(name), [name, ...(opts?.args ?? [])], opts?.fds ?? []);
  return pkg().startHelper(name, opts);
};
export const rootfsMountPoint: NativePackage['rootfsMountPoint'] = () => pkg().rootfsMountPoint();
export const openChannel: NativePackage['openChannel'] = (fd, onData, onClose) => pkg().openChannel(fd, onData, onClose);
