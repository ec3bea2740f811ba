/**
 * Loading a container config through the runtime: read and expand the file,
 * let every owner validate and model its keys (the `config` hook), then report
 * the entries nobody took.
 */
import { LxkitError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { ConfigCache } from './cache.js';
import { ContainerConfig } from './container-config.js';
import { createCoreModel } from './core-keys/model.js';
import { ConfigDocument } from './document.js';
import { ConfigCheck, formatProblem, type ConfigProblem } from './entries.js';
import { expandDocument, readDocument } from './read.js';

/** LXC key families that belong to a plugin, for telling "unknown" from "plugin not enabled". */
const PLUGIN_FAMILIES: readonly (readonly [string, string])[] = [
  ['lxc.apparmor.', 'apparmor'],
  ['lxc.seccomp.', 'seccomp'],
  ['lxc.cap.', 'caps'],
  ['lxc.cgroup2.', 'cgmanager'],
  ['lxc.cgroup.', 'cgmanager'],
  ['lxc.cgroup2', 'cgmanager'],
  ['lxc.cgroup', 'cgmanager'],
  ['lxc.net.', 'net'],
  ['lxc.net', 'net'],
];

function familyOwner(key: string): string | undefined {
  return PLUGIN_FAMILIES.find(([p]) => (p.endsWith('.') ? key.startsWith(p) : key === p))?.[1];
}

export interface ValidatedConfig {
  readonly config: ContainerConfig;
  /** Errors and warnings, in reading order of the lines they are about. */
  readonly problems: readonly ConfigProblem[];
  /** Every path the reading consulted (files and directories, missing ones too). */
  readonly consulted: readonly string[];
}

export type ConfigSource = (
  | { readonly path: string }
  | { readonly text: string; readonly name?: string }
) & {
  /** `-s KEY=VALUE` settings, read after the file (as LXC's lxc_config_define_load). */
  readonly defines?: readonly (readonly [string, string])[];
};

/** Reads and validates a config; problems are returned, not thrown. */
export async function validateContainerConfig(runtime: Runtime, source: ConfigSource): Promise<ValidatedConfig> {
  const check = new ConfigCheck();
  const document =
    'path' in source ? await readDocument(source.path) : ConfigDocument.parse(source.text, undefined);
  const expanded = await expandDocument(document, check, 'path' in source ? source.path : (source.name ?? '<string>'), (t) => runtime.includeStandIn(t));
  for (const [key, value] of source.defines ?? []) {
    expanded.entries.push({ key, value, file: '<define>', line: 0, fromInclude: false });
  }
  let config = new ContainerConfig({ ...expanded, model: createCoreModel() });
  config = await runtime.hooks.config.promise(config, check);
  for (const entry of config.entries) {
    if (check.ownerOf(entry)) continue;
    const plugin = familyOwner(entry.key);
    if (plugin && !runtime.hasPlugin(plugin)) {
      check.error(entry, `handled by plugin "${plugin}", which is not enabled`);
    } else {
      check.error(entry, 'unknown key');
    }
  }
  // Report in reading order: main file first, then includes as they were read.
  const rank = new Map([config.path ?? document.path ?? '', ...config.includes].map((f, i) => [f, i]));
  const problems = [...check.problems].sort(
    (a, b) => (rank.get(a.file) ?? -1) - (rank.get(b.file) ?? -1) || a.line - b.line,
  );
  return { config, problems, consulted: expanded.consulted };
}

/**
 * Loads a config to use it: warnings go to the runtime's log, any error
 * throws LXKIT_CONFIG_INVALID listing every problem. A config read from a
 * file is kept in the runtime's cache while its files stay unchanged; the
 * object is then shared between callers, who must not modify it.
 */
export async function loadContainerConfig(runtime: Runtime, source: ConfigSource): Promise<ContainerConfig> {
  const key = 'path' in source ? ConfigCache.key(source.path, source.defines) : undefined;
  const hit = key !== undefined ? runtime.configCache.get(key) : undefined;
  if (hit) {
    for (const p of hit.warnings) runtime.log.warn(formatProblem(p));
    return hit.config;
  }
  const { config, problems, consulted } = await validateContainerConfig(runtime, source);
  const warnings = problems.filter((p) => p.severity === 'warning');
  for (const p of warnings) runtime.log.warn(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new LxkitError(
      'LXKIT_CONFIG_INVALID',
      `invalid container config:\n${errors.map((p) => '  ' + formatProblem(p)).join('\n')}`,
      { file: first.file, line: first.line, key: first.key },
    );
  }
  if (key !== undefined) runtime.configCache.set(key, consulted, config, warnings);
  return config;
}
