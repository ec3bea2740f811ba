/**
 * A container's configuration: the main file as a lossless document (what
 * gets written back), the expanded entries (what the container runs with) and
 * the typed model the owners of the keys built from them.
 */
import type { ConfigDocument } from './document.js';
import type { ConfigEntry } from './entries.js';
import type { CoreModel } from './core-keys/model.js';

/**
 * The typed configuration. The core fills its own fields; each plugin adds
 * its part by declaration merging, e.g.
 *
 * ```ts
 * declare module '@lxkit/core' {
 *   interface ContainerModel { net?: NetModel }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ContainerModel extends CoreModel {}

export class ContainerConfig {
  /** The main file; undefined for a config built from text or defines only. */
  readonly path: string | undefined;
  /** The main file's lines; edits go here and are written back losslessly. */
  readonly document: ConfigDocument;
  /** Every entry in reading order, includes expanded and legacy keys translated. */
  readonly entries: readonly ConfigEntry[];
  /** Files read through lxc.include, in reading order. */
  readonly includes: readonly string[];
  readonly model: ContainerModel;

  constructor(init: {
    path: string | undefined;
    document: ConfigDocument;
    entries: readonly ConfigEntry[];
    includes: readonly string[];
    model: ContainerModel;
  }) {
    this.path = init.path;
    this.document = init.document;
    this.entries = init.entries;
    this.includes = init.includes;
    this.model = init.model;
  }

  /** The effective value of a single-valued key (the last one read), like lxc-info -c. */
  get(key: string): string | undefined {
    return this.last(key)?.value;
  }

  /** The entry that has the last word among `keys` (the last one read): where an error about them points. */
  last(...keys: string[]): ConfigEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (keys.includes(e.key)) return e;
    }
    return undefined;
  }

  /** Every value of a repeatable key, in reading order. */
  getAll(key: string): string[] {
    return this.entries.filter((e) => e.key === key).map((e) => e.value);
  }

  /** Entries whose key is `prefix` or below it. */
  under(prefix: string): ConfigEntry[] {
    return this.entries.filter((e) => e.key === prefix || e.key.startsWith(prefix + '.'));
  }
}
