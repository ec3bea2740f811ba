/** The containers of an lxcpath that hold their lock now: running, or being created or destroyed. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerLock } from './lock.js';
import type { ContainerView } from './list.js';
import { lxcpathRunDir } from './paths.js';

/** `view`: the lxcpath inside a running container (its run directory, reached through /proc/PID/root). */
export async function lockedContainers(lxcpath: string, view?: ContainerView): Promise<string[]> {
  const dir = (view?.root ?? '') + lxcpathRunDir(lxcpath, view?.runDir);
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.lock') && ContainerLock.held(join(dir, f))).map((f) => f.slice(0, -5));
}
