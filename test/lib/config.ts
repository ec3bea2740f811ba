/** Validating config text through a real runtime, for tests of key owners. */
// The built-in plugins' model types (declaration merging into ContainerModel).
import type {} from '@lxkit/plugin-apparmor';
import type {} from '@lxkit/plugin-caps';
import type {} from '@lxkit/plugin-cgmanager';
import type {} from '@lxkit/plugin-net';
import type {} from '@lxkit/plugin-seccomp';
import { BUILTIN_PLUGINS, createRuntime, validateContainerConfig, type PluginSpec, type Runtime } from '@lxkit/core';

export const ALL_BUILTINS: PluginSpec[] = Object.keys(BUILTIN_PLUGINS).map((use) => ({ use }));

const runtimes = new Map<string, Promise<Runtime>>();

/** A runtime with `plugins` (all built-ins by default), made once per plugin list. */
export function runtimeWith(plugins: PluginSpec[] = ALL_BUILTINS): Promise<Runtime> {
  const key = JSON.stringify(plugins.map((p) => p.use));
  let r = runtimes.get(key);
  if (!r) {
    r = createRuntime({ plugins });
    runtimes.set(key, r);
  }
  return r;
}

export async function validateText(text: string, plugins?: PluginSpec[]) {
  const runtime = await runtimeWith(plugins);
  const { config, problems } = await validateContainerConfig(runtime, { text, name: 'test.conf' });
  const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.line}: ${p.key}: ${p.message}`);
  const warnings = problems.filter((p) => p.severity === 'warning').map((p) => `${p.line}: ${p.key}: ${p.message}`);
  return { config, model: config.model, errors, warnings };
}
