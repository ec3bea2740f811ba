/**
 * Key handlers: how an owner (the core or a plugin) declares the config keys
 * it understands and reads them into its part of the model.
 *
 * Entries are applied in file order, because LXC's semantics are order
 * dependent: an empty value resets what came before, a later single-valued
 * key overrides an earlier one, a network's type must precede its
 * type-specific keys.
 */
import type { ContainerConfig, ContainerModel } from './container-config.js';
import type { ConfigCheck, ConfigEntry } from './entries.js';
import { ConfigValueError } from './values.js';

export interface KeyHandler<M> {
  /**
   * An exact key (`lxc.tty.max`), or a prefix ending in `.` that matches every
   * key below it (`lxc.prlimit.`). Exact keys win over prefixes, longer
   * prefixes over shorter ones.
   */
  readonly key: string;
  /**
   * Reads one entry into the model. Empty values arrive too: most LXC keys
   * use them to reset. Throw ConfigValueError (see `invalid()`) for a bad value.
   */
  apply(model: M, value: string, entry: ConfigEntry): void;
}

export interface KeyTable<M> {
  readonly owner: string;
  lookup(key: string): KeyHandler<M> | undefined;
  readonly handlers: readonly KeyHandler<M>[];
}

/** Builds the lookup table once, at plugin apply time rather than per config. */
export function defineKeys<M>(owner: string, handlers: readonly KeyHandler<M>[]): KeyTable<M> {
  const exact = new Map<string, KeyHandler<M>>();
  const prefixes: KeyHandler<M>[] = [];
  for (const h of handlers) {
    if (h.key.endsWith('.')) prefixes.push(h);
    else if (exact.has(h.key)) throw new Error(`${owner}: key ${h.key} declared twice`);
    else exact.set(h.key, h);
  }
  prefixes.sort((a, b) => b.key.length - a.key.length);
  return {
    owner,
    handlers,
    lookup(key) {
      return exact.get(key) ?? prefixes.find((p) => key.startsWith(p.key) && key.length > p.key.length);
    },
  };
}

/**
 * Applies every entry a table knows to `model`, claiming those entries for the
 * table's owner and recording bad values as problems.
 */
export function readKeys<M>(entries: readonly ConfigEntry[], check: ConfigCheck, table: KeyTable<M>, model: M): M {
  for (const entry of entries) {
    const handler = table.lookup(entry.key);
    if (!handler) continue;
    check.claim(entry, table.owner);
    try {
      handler.apply(model, entry.value, entry);
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      check.error(entry, err.message);
    }
  }
  return model;
}

/** The part of the runtime tapConfigKeys needs (kept structural to avoid an import cycle). */
interface ConfigHookHost {
  readonly hooks: {
    readonly config: {
      tap(
        options: string | { name: string; stage?: number },
        fn: (config: ContainerConfig, check: ConfigCheck) => ContainerConfig,
      ): void;
    };
  };
}

/**
 * The usual way for a plugin to own a key family: on the `config` hook, read
 * the entries `table` knows into a fresh model part, optionally check the
 * part as a whole (`finish`), and store it under `key` of the container model.
 */
export function tapConfigKeys<K extends keyof ContainerModel>(
  runtime: ConfigHookHost,
  key: K,
  table: KeyTable<NonNullable<ContainerModel[K]>>,
  init: () => NonNullable<ContainerModel[K]>,
  finish?: (part: NonNullable<ContainerModel[K]>, config: ContainerConfig, check: ConfigCheck) => void,
): void {
  runtime.hooks.config.tap(table.owner, (config, check) => {
    const part = readKeys(config.entries, check, table, init());
    finish?.(part, config, check);
    config.model[key] = part;
    return config;
  });
}
