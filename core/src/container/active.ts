/** The containers of an lxcpath that hold their lock now: running, or being created or destroyed. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerLock } from './lock.js';
import { lxcpathRunDir } from './paths.js';

export async function lockedContainers(lxcpath: string): Promise<string[]> {
  const dir = lxcpathRunDir(lxcpath);
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.lock') && ContainerLock.held(join(dir, f))).map((f) => f.slice(0, -5));
}
