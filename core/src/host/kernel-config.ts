/**
 * The running (or a given) kernel's build configuration: /proc/config.gz,
 * /boot/config-<release> or a file named by the caller, as lxc-checkconfig
 * looks for it.
 */
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

/** CONFIG_X → 'y' | 'm' | value; options that are "not set" are absent. */
export type KernelConfig = ReadonlyMap<string, string>;

export function parseKernelConfig(text: string): KernelConfig {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return map;
}

export interface KernelConfigSource {
  readonly path: string;
  readonly config: KernelConfig;
}

async function readMaybeGzip(path: string): Promise<string> {
  const buf = await readFile(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

/** Candidate files for the running kernel, in lxc-checkconfig's order. */
export function kernelConfigCandidates(rel = release()): string[] {
  return ['/proc/config.gz', `/boot/config-${rel}`, `/lib/modules/${rel}/build/.config`, `/usr/src/linux-${rel}/.config`];
}

/** Reads `explicit` if given, else the first candidate that exists; undefined when none does. */
export async function readKernelConfig(explicit?: string): Promise<KernelConfigSource | undefined> {
  if (explicit) return { path: explicit, config: parseKernelConfig(await readMaybeGzip(explicit)) };
  for (const path of kernelConfigCandidates()) {
    try {
      return { path, config: parseKernelConfig(await readMaybeGzip(path)) };
    } catch {
      // next candidate
    }
  }
  return undefined;
}
