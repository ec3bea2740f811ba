/** Validating config text through a real runtime, for tests of key owners. */
// The built-in plugins' model types (declaration merging into ContainerModel).
import type {} from '@lxkit/plugin-apparmor';
import type {} from '@lxkit/plugin-caps';
import type {} from '@lxkit/plugin-cgmanager';
import type {} from '@lxkit/plugin-net';
import type {} from '@lxkit/plugin-seccomp';
import { BUILTIN_PLUGINS, createRuntime, silentLogger, validateContainerConfig, type PluginSpec, type Runtime, type StartContext, type StopContext } from '@lxkit/core';

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

/** Contexts with a real (empty by default) config, for driving hooks directly in tests. */
export async function startContext(text = '', plugins?: PluginSpec[]) {
  const { OpQueue } = await import('@lxkit/core');
  const { config } = await validateText(text, plugins);
  let slot = 0;
  const ctx: StartContext = {
    container: { name: 'test', lxcpath: '/nonexistent', config, configFile: undefined },
    log: silentLogger,
    kind: 'system',
    namespaces: {},
    namespaceNames: new Set(),
    userns: false,
    rootfs: undefined,
    ops: new OpQueue(),
    flush: () => Promise.reject(new Error('no monitor in this test')),
    init: { argv: ['/sbin/init'], env: [], cwd: '/', mode: 'replace' },
    hookEnv: {},
    detachedMount: () => Promise.reject(new Error('no monitor in this test')),
    allocateSlot: () => slot++,
    monitorPid: async () => 0,
    handCgroups: () => {
      throw new Error('no monitor in this test');
    },
    runtimeConfig: () => {
      throw new Error('no monitor in this test');
    },
    giveBackToHost: () => {
      throw new Error('no monitor in this test');
    },
    removeProxyAtEnd: () => {
      throw new Error('no monitor in this test');
    },
    attachConfinement: {},
  };
  return ctx;
}

export async function stopContext(text = ''): Promise<StopContext> {
  const ctx = await startContext(text);
  return { container: ctx.container, log: ctx.log, target: 'stop', errors: [], namespaces: {}, hookEnv: {} };
}
