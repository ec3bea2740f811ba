/** The hook bus: frozen typed hooks, tap attribution, error wrapping, collecting post-stop, HookMaps, stages. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HOOK_NAMES,
  STAGE_CAPS,
  STAGE_EARLY,
  STAGE_LATE,
  STAGE_LSM,
  STAGE_SECCOMP,
  createRuntime,
  definePlugin,
  stopWorkReason,
  cloneFirstReason,
  isLxkitError,
  type LxkitError,
  type StorageBackend,
} from '@lxkit/core';

import { startContext, stopContext } from '../lib/config.js';

// Real contexts: the core's own taps (mounts, hook scripts...) run on the same hooks.
const startCtx = () => startContext();
const stopCtx = () => stopContext();

const bus = suite('hook bus');

bus('the hooks object is frozen and has exactly the hooks of HOOK_NAMES', async () => {
  const runtime = await createRuntime({ plugins: [] });
  assert.ok(Object.isFrozen(runtime.hooks));
  assert.equal(Object.keys(runtime.hooks).sort(), Object.keys(HOOK_NAMES).sort());
  assert.throws(() => {
    (runtime.hooks as unknown as Record<string, unknown>)['preStart'] = null;
  }, TypeError);
  assert.is(HOOK_NAMES.preStart, 'pre-start');
  assert.is(HOOK_NAMES.postStop, 'post-stop');
});

bus('a throwing tap is LXKIT_HOOK_FAILED naming hook and plugin, for sync, callback and promise taps', async () => {
  const cause = new Error('disk on fire');
  const plugin = definePlugin({
    name: 'arsonist',
    version: '1.0.0',
    apply(runtime) {
      runtime.hooks.preStart.tap('whatever-tap-name', () => {
        throw cause;
      });
      runtime.hooks.mount.tapAsync('arsonist', (_ctx, cb) => cb(cause));
      runtime.hooks.start.tapPromise('arsonist', async () => {
        throw cause;
      });
    },
  });
  const runtime = await createRuntime({ plugins: [{ use: plugin }] });
  for (const name of ['preStart', 'mount', 'start'] as const) {
    try {
      await runtime.hooks[name].promise(await startCtx());
      assert.unreachable(`${name} should fail`);
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_HOOK_FAILED'), `${name}: ${String(err)}`);
      assert.is(err.hook, name);
      assert.is(err.plugin, 'arsonist', 'attributed to the plugin being applied, whatever the tap is called');
      assert.is(err.cause, cause);
      assert.is(err.message, `${name} hook of plugin "arsonist" failed: disk on fire`);
    }
  }
});

bus('an async function given to tap() fails the hook instead of running unawaited', async () => {
  let finished = false;
  const plugin = definePlugin({
    name: 'hasty',
    version: '1.0.0',
    apply(runtime) {
      runtime.hooks.preStart.tap('hasty', async () => {
        await new Promise((r) => setTimeout(r, 20));
        finished = true;
      });
    },
  });
  const runtime = await createRuntime({ plugins: [{ use: plugin }] });
  try {
    await runtime.hooks.preStart.promise(await startCtx());
    assert.unreachable('preStart should fail');
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_HOOK_FAILED'), String(err));
    assert.is(err.plugin, 'hasty');
    assert.match(err.message, /preStart hook of plugin "hasty" failed: it was tapped with tap\(\) but returned a promise.*tapPromise/);
  }
  assert.not.ok(finished, 'the hook did not wait for it: exactly the bug this error reports');
});

bus('post-stop runs every tap and collects the failures', async () => {
  const ran: string[] = [];
  const plugin = (name: string, fail: boolean) =>
    definePlugin({
      name,
      version: '1.0.0',
      apply(runtime) {
        runtime.hooks.postStop.tapPromise(name, async () => {
          ran.push(name);
          if (fail) throw new Error(`${name} broke`);
        });
      },
    });
  const runtime = await createRuntime({
    plugins: [{ use: plugin('a', true) }, { use: plugin('b', false) }, { use: plugin('c', true) }],
  });
  const ctx = await stopCtx();
  await runtime.hooks.postStop.promise(ctx);
  assert.equal(ran, ['a', 'b', 'c']);
  assert.equal(
    ctx.errors.map((e: LxkitError) => [e.plugin, e.message]),
    [
      ['a', 'postStop hook of plugin "a" failed: a broke'],
      ['c', 'postStop hook of plugin "c" failed: c broke'],
    ],
  );
});

bus('HookMaps select implementations by type; the first tap returning one wins; failures are wrapped', async () => {
  const fake = (snapshot: boolean): StorageBackend => ({
    type: 'testfs',
    capabilities: { snapshot, clone: false, directory: false },
    missing: () => undefined,
    create: async (req) => req.rootfs,
    mount: async (source) => ({ kind: 'bind', path: source }),
    open: async (source) => ({ path: source, close: async () => undefined }),
    destroy: async () => undefined,
  });
  const plugin = definePlugin({
    name: 'storage-test',
    version: '1.0.0',
    apply(runtime) {
      runtime.hooks.storage.for('testfs').tap('storage-test', () => fake(true));
      runtime.hooks.network.for('broken').tap('storage-test', () => {
        throw new Error('no');
      });
    },
  });
  const override = definePlugin({
    name: 'site-override',
    version: '1.0.0',
    apply(runtime) {
      runtime.hooks.storage
        .for('testfs')
        .tap({ name: 'site-override', stage: STAGE_EARLY }, () => fake(false));
    },
  });
  const runtime = await createRuntime({ plugins: [{ use: plugin }, { use: override }] });
  assert.equal(runtime.hooks.storage.get('testfs')!.call()!.capabilities.snapshot, false);
  assert.is(runtime.hooks.storage.get('nosuchfs'), undefined);
  try {
    runtime.hooks.network.for('broken').call();
    assert.unreachable();
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_HOOK_FAILED'));
    assert.is(err.hook, 'network.for(broken)');
    assert.is(err.plugin, 'storage-test');
  }
});

bus('STAGE_* constants order taps: LSM, caps, then seccomp last before exec', async () => {
  const order: string[] = [];
  const plugin = definePlugin({
    name: 'stages',
    version: '1.0.0',
    apply(runtime) {
      const tap = (name: string, stage: number) => runtime.hooks.start.tap({ name, stage }, () => void order.push(name));
      tap('seccomp', STAGE_SECCOMP);
      tap('late', STAGE_LATE);
      tap('caps', STAGE_CAPS);
      tap('default', 0);
      tap('lsm', STAGE_LSM);
      tap('early', STAGE_EARLY);
    },
  });
  const runtime = await createRuntime({ plugins: [{ use: plugin }] });
  await runtime.hooks.start.promise(await startCtx());
  assert.equal(order, ['early', 'default', 'late', 'lsm', 'caps', 'seccomp']);
});

bus('the config hook is a waterfall: a tap may hand on a replacement config', async () => {
  const plugin = definePlugin({
    name: 'rewriter',
    version: '1.0.0',
    apply(runtime) {
      runtime.hooks.config.tap('rewriter', (config) => {
        config.model.utsName = 'renamed';
        return config;
      });
    },
  });
  const runtime = await createRuntime({ plugins: [{ use: plugin }] });
  const { validateContainerConfig } = await import('@lxkit/core');
  const { config } = await validateContainerConfig(runtime, { text: 'lxc.uts.name = original\n' });
  assert.is(config.model.utsName, 'renamed', 'the core read its key first (STAGE_FIRST), then the plugin changed it');
});

bus("stopWork: a daemon's end needs lxkit's stop work only when a tap says why, or a plugin taps stop/post-stop without answering", async () => {
  // The built-ins answer per container: none has work at the end of a container without scripts.
  const builtins = await createRuntime();
  const plain = await startContext('');
  assert.is(stopWorkReason(builtins, plain), undefined);
  const scripted = await startContext('lxc.hook.post-stop = /bin/true\nlxc.hook.stop = /bin/true\n');
  assert.is(stopWorkReason(builtins, scripted), 'lxc.hook.stop and lxc.hook.post-stop scripts');

  const silent = definePlugin({ name: 'audit', version: '1.0.0', apply: (r) => r.hooks.postStop.tap('audit-tap', () => undefined) });
  const silentRuntime = await createRuntime({ plugins: [{ use: silent }] });
  assert.is(stopWorkReason(silentRuntime, plain), 'plugin "audit" has stop work at every stop', 'attributed to the plugin, not the tap name');

  const asked = new WeakSet<object>();
  const answering = definePlugin({
    name: 'audit',
    version: '1.0.0',
    apply(r) {
      r.hooks.postStop.tap('audit', () => undefined);
      r.hooks.stopWork.tap('audit', (ctx) => (asked.has(ctx) ? 'the audit record is closed' : undefined));
    },
  });
  const answeringRuntime = await createRuntime({ plugins: [{ use: answering }] });
  assert.is(stopWorkReason(answeringRuntime, plain), undefined);
  asked.add(plain);
  assert.is(stopWorkReason(answeringRuntime, plain), 'the audit record is closed');
});

bus("cloneFirst: a start queues its ops while the monitor clones unless a tap says why not, or a plugin taps start-host … start without answering", async () => {
  // The built-ins answer per container: a plain one needs nothing of the clone before its ops are queued.
  const builtins = await createRuntime();
  assert.is(cloneFirstReason(builtins, await startContext('')), undefined);
  const startHostScript = await startContext('lxc.hook.start-host = /bin/true\n');
  assert.is(cloneFirstReason(builtins, startHostScript), 'lxc.hook.start-host scripts run once the set-up is done');
  const mapped = Object.assign(await startContext('lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n'), { userns: true });
  assert.is(cloneFirstReason(builtins, mapped), 'its id maps are written at start-host (lxc.idmap)');

  const silent = definePlugin({ name: 'netcfg', version: '1.0.0', apply: (r) => r.hooks.startHost.tap('netcfg-move', () => undefined) });
  const silentRuntime = await createRuntime({ plugins: [{ use: silent }] });
  assert.is(
    cloneFirstReason(silentRuntime, await startContext('')),
    'plugin "netcfg" taps start-host without saying whether it needs the clone first',
    'attributed to the plugin, not the tap name',
  );
  const answering = definePlugin({
    name: 'netcfg',
    version: '1.0.0',
    apply(r) {
      r.hooks.start.tap('netcfg', () => undefined);
      r.hooks.cloneFirst.tap('netcfg', (ctx) => (ctx.container.config.model.utsName === 'moved' ? 'a NIC is moved at start-host' : undefined));
    },
  });
  const answeringRuntime = await createRuntime({ plugins: [{ use: answering }] });
  assert.is(cloneFirstReason(answeringRuntime, await startContext('')), undefined);
  assert.is(cloneFirstReason(answeringRuntime, await startContext('lxc.uts.name = moved\n')), 'a NIC is moved at start-host');
});

bus.run();
