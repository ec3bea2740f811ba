/**
 * The hook bus: one frozen, tuple-typed tapable `hooks` object per runtime.
 *
 * Lifecycle hooks keep LXC's names and moments (lxc.container.conf(5)); the
 * HookMaps select implementations by type. Every tap is wrapped when it
 * registers, so that a failure surfaces as LXKIT_HOOK_FAILED naming the hook
 * and the plugin, whatever the tap type (sync, callback or promise).
 */
import tapable from 'tapable';
import type { AsyncSeriesHook as AsyncSeriesHookT, AsyncSeriesWaterfallHook as AsyncSeriesWaterfallHookT, FullTap, Hook, HookMap as HookMapT, SyncBailHook as SyncBailHookT } from 'tapable';
import type { ContainerConfig } from '../config/container-config.js';
import type { ConfigCheck } from '../config/entries.js';
import type { HookType } from '../config/core-keys/model.js';
import { LxkitError, messageOf } from '../errors.js';
import type { CloneContext, CreateContext, DestroyContext, StartContext, StopContext } from './contexts.js';
import type { CgroupDriver, Checkpointer, NetworkType, StorageBackend, Template } from './drivers.js';

// tapable is CommonJS; its named exports are read off the default export so that
// both Node's ESM loader and the bundler see the same binding.
const { AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncBailHook } = tapable;

export interface Hooks {
  /** After parsing: each owner validates and models its keys. Waterfall: a tap may return a replacement config. */
  readonly config: AsyncSeriesWaterfallHookT<[ContainerConfig, ConfigCheck]>;
  /** A container is being created (template run, storage made). */
  readonly create: AsyncSeriesHookT<[CreateContext]>;
  /** Host namespaces, before clone: storage, cgroups, host NICs, LSM profile, compiled seccomp. */
  readonly preStart: AsyncSeriesHookT<[StartContext]>;
  /** Host, while the monitor clones the first process (its pid is not known yet): work the clone need not wait for. */
  readonly cloning: AsyncSeriesHookT<[StartContext]>;
  /** Host, after clone with the child paused: id maps, NICs into the netns, cgroup attach, limits. */
  readonly startHost: AsyncSeriesHookT<[StartContext]>;
  /** Container namespaces, before the rootfs is mounted: queue ops for the child. */
  readonly preMount: AsyncSeriesHookT<[StartContext]>;
  /** After all mounts, before pivot_root. */
  readonly mount: AsyncSeriesHookT<[StartContext]>;
  /** While /dev is being filled (lxc.autodev). */
  readonly autodev: AsyncSeriesHookT<[StartContext]>;
  /** Just before exec of init, after pivot_root; LSM label, caps and seccomp are the last ops. */
  readonly start: AsyncSeriesHookT<[StartContext]>;
  /** The container is stopping; its namespaces are still held. */
  readonly stop: AsyncSeriesHookT<[StopContext]>;
  /** Host, after the container is gone: undo pre-start. Every tap runs; failures are collected. */
  readonly postStop: AsyncSeriesHookT<[StopContext]>;
  /**
   * Asked once a daemon's init runs: does this container's end need lxkit's
   * stop work (a Node process the monitor starts to run stop and post-stop)?
   * A tap returns why it does, or undefined. A plugin that taps stop or
   * post-stop without tapping this is taken to need it at every stop.
   */
  readonly stopWork: SyncBailHookT<[StartContext], string | undefined>;
  /**
   * Asked after pre-start: must this start have the clone's answer before
   * its pre-mount, mount, autodev and start taps queue their ops, and its
   * first process wait for start-host? A tap returns why (a tap that reads
   * ctx.pid or a namespace's path, awaits flush(), or has start-host work),
   * or undefined. When no plugin gives a reason, those taps run while the
   * monitor clones (ctx.pid and the paths are not known yet; namespaceNames
   * is) and the batch goes to the first process as soon as it exists; the
   * start-host taps still run once the clone answers. A plugin that taps
   * start-host, pre-mount, mount, autodev or start without tapping this is
   * taken to need the clone first at every start.
   */
  readonly cloneFirst: SyncBailHookT<[StartContext], string | undefined>;
  readonly clone: AsyncSeriesHookT<[CloneContext]>;
  readonly destroy: AsyncSeriesHookT<[DestroyContext]>;
  /** `storage.for(type)`: the backend for a rootfs type. */
  readonly storage: HookMapT<SyncBailHookT<[], StorageBackend | undefined>>;
  /** `network.for(type)`: the implementation of a network type. */
  readonly network: HookMapT<SyncBailHookT<[], NetworkType | undefined>>;
  /** `cgroupDriver.for(name)`: cgroupfs, systemd, cgmanager. */
  readonly cgroupDriver: HookMapT<SyncBailHookT<[], CgroupDriver | undefined>>;
  /** `template.for(name)`: the templates of lxkit create -t NAME. */
  readonly template: HookMapT<SyncBailHookT<[], Template | undefined>>;
  /** What checkpoints and restores running containers (lxkit checkpoint; the criu plugin). */
  readonly checkpointer: SyncBailHookT<[], Checkpointer | undefined>;
}

export type HookName = keyof Hooks;

/**
 * Exhaustive record of the hook names with the LXC hook type each one runs
 * site scripts for (lxc.hook.<type>). The `satisfies` clause makes adding a
 * hook without listing it here a type error.
 */
export const HOOK_NAMES = {
  config: undefined,
  create: undefined,
  preStart: 'pre-start',
  cloning: undefined,
  startHost: 'start-host',
  preMount: 'pre-mount',
  mount: 'mount',
  autodev: 'autodev',
  start: 'start',
  stop: 'stop',
  postStop: 'post-stop',
  stopWork: undefined,
  cloneFirst: undefined,
  clone: 'clone',
  destroy: 'destroy',
  storage: undefined,
  network: undefined,
  cgroupDriver: undefined,
  template: undefined,
  checkpointer: undefined,
} as const satisfies Record<HookName, HookType | undefined>;

/** Which plugin is being applied, so that taps are attributed to it. */
export interface BusState {
  applying: string | undefined;
}

type AnyFn = (...args: unknown[]) => unknown;

/** A tap as the bus keeps it: with the plugin it is attributed to. */
export type AttributedTap = FullTap & { readonly plugin?: string };

/** The plugin that made a tap (the tap's name for taps made outside a plugin's apply). */
export const pluginOf = (tap: FullTap): string => (tap as AttributedTap).plugin ?? tap.name;

function hookError(hook: string, plugin: string, err: unknown): LxkitError {
  if (err instanceof LxkitError && err.code === 'LXKIT_HOOK_FAILED' && err.hook === hook && err.plugin === plugin) {
    return err;
  }
  return new LxkitError('LXKIT_HOOK_FAILED', `${hook} hook of plugin "${plugin}" failed: ${messageOf(err)}`, {
    cause: err,
    hook,
    plugin,
  });
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/**
 * Wraps every tap of `hook`. With `collect`, a failure does not stop the
 * hook: it is pushed to the first argument's `errors` list instead.
 */
function guard(name: string, hook: Hook<unknown, unknown>, state: BusState, collect = false): void {
  hook.intercept({
    register(tap: FullTap) {
      const plugin = state.applying ?? tap.name;
      (tap as { plugin?: string }).plugin = plugin;
      const fn = tap.fn as AnyFn;
      const fail = (err: unknown, args: unknown[]): LxkitError | undefined => {
        const wrapped = hookError(name, plugin, err);
        if (!collect) return wrapped;
        (args[0] as { errors: LxkitError[] }).errors.push(wrapped);
        return undefined;
      };
      if (tap.type === 'sync') {
        tap.fn = (...args: unknown[]) => {
          try {
            const r = fn(...args);
            if (isThenable(r)) {
              // tapable would not wait for it: the hook would go on before the plugin's work is done.
              r.then(undefined, () => undefined);
              throw new Error('it was tapped with tap() but returned a promise, which would not be awaited: tap it with tapPromise()');
            }
            return r;
          } catch (err) {
            const e = fail(err, args);
            if (e) throw e;
            return undefined;
          }
        };
      } else if (tap.type === 'promise') {
        tap.fn = (...args: unknown[]) => {
          const settle = (err: unknown) => {
            const e = fail(err, args);
            if (e) throw e;
            return undefined;
          };
          try {
            return Promise.resolve(fn(...args)).catch(settle);
          } catch (err) {
            return Promise.resolve().then(() => settle(err));
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          const callback = args.pop() as (err?: unknown, result?: unknown) => void;
          const done = (err?: unknown, result?: unknown) => {
            if (err) {
              const e = fail(err, args);
              callback(e ?? null, undefined);
            } else callback(null, result);
          };
          try {
            fn(...args, done);
          } catch (err) {
            done(err);
          }
        };
      }
      return tap;
    },
  });
}

function guardMap(name: string, map: HookMapT<Hook<unknown, unknown>>, state: BusState): void {
  map.intercept({
    factory(key, hook) {
      guard(`${name}.for(${String(key)})`, hook, state);
      return hook;
    },
  });
}

export function createHooks(state: BusState): Readonly<Hooks> {
  const lifecycle = <T>() => new AsyncSeriesHook<[T]>(['context']);
  const hooks: Hooks = {
    config: new AsyncSeriesWaterfallHook<[ContainerConfig, ConfigCheck]>(['config', 'check']),
    create: lifecycle<CreateContext>(),
    preStart: lifecycle<StartContext>(),
    cloning: lifecycle<StartContext>(),
    startHost: lifecycle<StartContext>(),
    preMount: lifecycle<StartContext>(),
    mount: lifecycle<StartContext>(),
    autodev: lifecycle<StartContext>(),
    start: lifecycle<StartContext>(),
    stop: lifecycle<StopContext>(),
    postStop: lifecycle<StopContext>(),
    stopWork: new SyncBailHook<[StartContext], string | undefined>(['context']),
    cloneFirst: new SyncBailHook<[StartContext], string | undefined>(['context']),
    clone: lifecycle<CloneContext>(),
    destroy: lifecycle<DestroyContext>(),
    storage: new HookMap(() => new SyncBailHook<[], StorageBackend | undefined>([])),
    network: new HookMap(() => new SyncBailHook<[], NetworkType | undefined>([])),
    cgroupDriver: new HookMap(() => new SyncBailHook<[], CgroupDriver | undefined>([])),
    template: new HookMap(() => new SyncBailHook<[], Template | undefined>([])),
    checkpointer: new SyncBailHook<[], Checkpointer | undefined>([]),
  };
  for (const name of Object.keys(HOOK_NAMES) as HookName[]) {
    const h = hooks[name];
    // The guards work on any hook shape; the casts only erase the tuple types.
    if (h instanceof HookMap) guardMap(name, h as unknown as HookMapT<Hook<unknown, unknown>>, state);
    else guard(name, h as unknown as Hook<unknown, unknown>, state, name === 'postStop');
  }
  return Object.freeze(hooks);
}
