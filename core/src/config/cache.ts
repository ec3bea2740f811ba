/**
 * Validated container configs kept by a runtime for as long as the files
 * they were read from stay unchanged, so that a program starting the same
 * container again and again (the library running 100 executes in a row)
 * parses and validates its config once. Whether a config is still current is
 * told by stat(2) of every path its reading consulted: the main file, each
 * included file and directory, and include targets that were missing.
 */
import { statSync } from 'node:fs';
import type { ContainerConfig } from './container-config.js';
import type { ConfigProblem } from './entries.js';

interface Cached {
  readonly stamp: string;
  readonly config: ContainerConfig;
  readonly warnings: readonly ConfigProblem[];
}

/** A file changed this recently may change again within the same clock tick unnoticed ("racy" stamps, as git has them). */
const RACY_NS = 20_000_000n;

function stampOf(paths: readonly string[]): { stamp: string; racy: boolean } {
  const now = BigInt(Date.now()) * 1_000_000n;
  let racy = false;
  const parts = paths.map((p) => {
    const st = statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st) return `${p}:-`;
    if (now - st.mtimeNs < RACY_NS || now - st.ctimeNs < RACY_NS) racy = true;
    return `${p}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  });
  return { stamp: parts.join('\n'), racy };
}

export class ConfigCache {
  /** Least recently used first. */
  readonly #entries = new Map<string, Cached & { readonly consulted: readonly string[] }>();
  readonly #max: number;

  constructor(max = 64) {
    this.#max = max;
  }

  static key(path: string, defines: readonly (readonly [string, string])[] = []): string {
    return JSON.stringify([path, defines]);
  }

  /** The cached config for `key` if none of its files changed since it was read. */
  get(key: string): Cached | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (stampOf(hit.consulted).stamp !== hit.stamp) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  /** The config cached for `key`, whether or not its files changed since: a guess at what the next read gives, never a config to run with. */
  peek(key: string): ContainerConfig | undefined {
    return this.#entries.get(key)?.config;
  }

  /** Remembers a config just read from `consulted` (unless one of them changed a moment ago). */
  set(key: string, consulted: readonly string[], config: ContainerConfig, warnings: readonly ConfigProblem[]): void {
    const { stamp, racy } = stampOf(consulted);
    if (racy) return;
    this.#entries.delete(key);
    this.#entries.set(key, { stamp, config, warnings, consulted });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }
}
