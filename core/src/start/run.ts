/**
 * The start sequence (lxc.container.conf(5)'s hooks at LXC's moments):
 *
 *   preStart (host) → clone, with cloning (host) meanwhile → startHost (host; the child waits)
 *   → preMount → mount → autodev      (taps queue ops in order)
 *   → the core's finalize ops          (devpts, ttys, console, pivot_root, host name)
 *   → start → exec of the init         (everything queued goes in one batch)
 *   … the container runs …
 *   → stop (host; namespaces still held) → postStop (host; every tap runs)
 *
 * In the foreground, this process sees the container through to its end. In
 * daemon mode it leaves once the init runs; the monitor then starts lxkit's
 * stop work (`lxkit __stopped`, finishAdopted below) when the init exits.
 *
 * A failure anywhere aborts the start (state ABORTING): the container's
 * first process is killed, and stop/post-stop still run so that plugins can
 * undo what pre-start did. Nothing the container mounted is visible on the
 * host: every mount happens in its own mount namespace.
 */
import { LxkitError, messageOf } from '../errors.js';
import type { HookName } from '../hooks/bus.js';
import type { Checkpointer, CgroupHandoff } from '../hooks/drivers.js';
import type { LifecycleContext, StartContext, StopContext } from '../hooks/contexts.js';
import type { ContainerPaths } from '../container/paths.js';
import type { ContainerLock } from '../container/lock.js';
import type { ContainerConfig } from '../config/container-config.js';
import { logTargets, type Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import { finalizeOps } from './finalize.js';
import { Monitor, describeExit, type Exit } from './monitor.js';
import { CLONE_FLAGS, namespaceNames, namespacePlan, netnsMadeAhead, type PidOf } from './namespaces.js';
import { EXEC_MODE, OpQueue } from './ops.js';
import { checkNetworks, initSpec, rootfsOf, rootfsSpec } from './prepare.js';
import { STDIO, type ContainerState } from './protocol.js';
import { forwardSignals, holdSignals } from './signals.js';
import { planRecorder } from '../launch-plan/active.js';
import { timelineMark } from '../log/timeline.js';
import { cloneFirstReason, stopWorkReason } from './plugin-answers.js';
import { restoreFirstProcess } from './restore.js';

export type { ContainerState } from './protocol.js';

export interface RunOptions {
  readonly name: string;
  readonly lxcpath: string;
  readonly config: ContainerConfig;
  readonly paths: ContainerPaths;
  /** Held for the container's life: handed to the monitor, released after post-stop. */
  readonly lock: ContainerLock;
  /** The monitor, spawned by the caller with the lock (one is spawned here without it). */
  readonly monitor?: Monitor;
  /** `system`: lxkit start (init replaces the first process); `application`: lxkit execute (a small init runs the command). */
  readonly kind: 'system' | 'application';
  /** Command overriding lxc.init.cmd (start) or lxc.execute.cmd (execute). */
  readonly command?: readonly string[];
  /** Identity of the command (execute -u/-g), overriding lxc.init.uid/gid. */
  readonly uid?: number;
  readonly gid?: number;
  /** Whether the init gets a console pty (proxied to lxkit's stdio in the foreground), or lxkit's stdio itself (/dev/null in daemon mode). */
  readonly console: boolean;
  readonly log: Logger;
  /** Called with the state as it changes. */
  readonly onState?: (state: ContainerState) => void;
  /** Pass SIGINT/SIGTERM/SIGHUP of this process on to the container while it runs. */
  readonly forwardSignals?: boolean;
  /** A running container's init pid, for lxc.namespace.share.* by name. */
  readonly pidOf: PidOf;
  /**
   * Restore the container from a checkpoint instead of cloning its first
   * process (lxkit checkpoint -r): after pre-start and the cloning taps, the
   * monitor runs the checkpointer's restorer and holds the restored init;
   * no op batch, no start-host, pre-mount … start taps (the restored
   * processes have their mounts and namespaces from the checkpoint).
   */
  readonly restore?: { readonly checkpointer: Checkpointer; readonly directory: string; readonly verbose: boolean; readonly actionScript?: string };
}

export interface RunResult {
  readonly exit: Exit;
  /**
   * The init asked for a reboot (reboot(2) in its pid namespace kills it with
   * SIGHUP): the caller starts the container again.
   */
  readonly reboot: boolean;
}

/** A daemon that runs: what `startDetached` returns. */
export interface Detached {
  readonly pid: number;
  readonly monitorPid: number;
}

const SIGKILL = 9;
const SIGHUP = 1;

/** LXC's hook environment as far as the config tells it (LXC_ROOTFS_MOUNT once the rootfs is known). */
function baseHookEnv(name: string, config: ContainerConfig, log: Logger, rootfs?: { mount: string }): Record<string, string> {
  const model = config.model;
  const env: Record<string, string> = {
    LXC_NAME: name,
    LXC_CONFIG_FILE: config.path ?? '',
    LXC_CGNS_AWARE: '1',
    LXC_LOG_LEVEL: log.level,
    LXC_HOOK_VERSION: String(model.hookVersion),
    // As LXC: the path without its storage type (`dir:`, `overlay:`...).
    LXC_ROOTFS_PATH: model.rootfs.path ? rootfsSpec(model.rootfs.path).source : '',
    LXC_ROOTFS_MOUNT: rootfs?.mount ?? '/',
  };
  if (model.console.path) env['LXC_CONSOLE'] = model.console.path;
  if (model.console.logfile) env['LXC_CONSOLE_LOGPATH'] = model.console.logfile;
  return env;
}

/** LXC_<NS>_NS=/proc/<monitor>/fd/<n> for each namespace the monitor holds. */
function namespaceEnv(namespaces: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(namespaces).map(([ns, path]) => [`LXC_${ns.toUpperCase()}_NS`, path]));
}

/** The effective config as "key = value" lines: what the monitor answers config items from. */
const configLines = (config: ContainerConfig) => config.entries.map((e) => `${e.key} = ${e.value}`).join('\n') + '\n';

/** What the end of a container's life needs, whoever saw its start. */
interface Ending {
  readonly runtime: Runtime;
  readonly container: LifecycleContext['container'];
  readonly kind: 'system' | 'application';
  readonly log: Logger;
  readonly hookEnv: Record<string, string>;
  readonly pid: number | undefined;
  readonly namespaces: Record<string, string>;
  readonly monitor: Monitor | undefined;
  readonly cloned: boolean;
  readonly setState: (s: ContainerState) => void;
}

/** lxc.monitor.unshare: the monitor's own mount namespace, where host-side hook scripts run (the monitor outlives them: it lets go of the lock last). */
const mountNamespaceOf = (monitorPid: number): string => `/proc/${monitorPid}/ns/mnt`;

/**
 * stop (namespaces still held) → release → post-stop (every tap) → the monitor lets go of the lock.
 * A monitor ending the container itself (endAlone: no tap had work at this end) is only waited for.
 */
async function finish(e: Ending, exit: Exit | undefined, failure: unknown): Promise<RunResult> {
  timelineMark('exited');
  e.setState('STOPPING');
  if (e.monitor?.endingAlone && !failure) {
    await e.monitor.ended().catch((err) => {
      e.log.error(messageOf(err));
      return e.monitor!.destroy();
    });
    timelineMark('stopped');
    e.setState('STOPPED');
    e.log.info(`container ${e.container.name}: STOPPED${exit ? ` (${describeExit(exit)})` : ''}`);
    return { exit: exit!, reboot: false };
  }
  const reboot = !failure && e.kind === 'system' && exit?.signal === SIGHUP;
  const target = reboot ? 'reboot' : 'stop';
  const stopCtx: StopContext = {
    container: e.container,
    log: e.log,
    target,
    errors: [],
    ...(e.pid !== undefined ? { pid: e.pid } : {}),
    namespaces: e.namespaces,
    // As LXC: the namespace references and the target are in the environment of stop and post-stop hooks.
    hookEnv: { ...e.hookEnv, ...namespaceEnv(e.namespaces), LXC_TARGET: target },
    // The monitor still runs (it lets go of the lock last), and its namespace with it.
    ...(e.container.config.model.monitor.unshare && e.monitor?.pid ? { hostMountNamespace: mountNamespaceOf(e.monitor.pid) } : {}),
  };
  if (e.cloned) await e.runtime.hooks.stop.promise(stopCtx).catch((err) => e.log.error(messageOf(err)));
  await e.monitor?.release().catch((err) => e.log.debug(`releasing the namespaces: ${messageOf(err)}`));
  await e.runtime.hooks.postStop.promise(stopCtx).catch((err) => stopCtx.errors.push(err));
  for (const err of stopCtx.errors) e.log.error(messageOf(err));
  if (e.monitor) await e.monitor.quit().catch(() => e.monitor!.destroy());
  timelineMark('stopped');
  e.setState('STOPPED');
  e.log.info(`container ${e.container.name}: STOPPED${exit ? ` (${describeExit(exit)})` : ''}`);
  if (failure) throw failure;
  // As LXC: a post-stop failure turns a reboot into a stop.
  return { exit: exit!, reboot: reboot && stopCtx.errors.length === 0 };
}

function stateReporter(name: string, log: Logger, onState: ((s: ContainerState) => void) | undefined, monitor: () => Monitor | undefined) {
  let current: ContainerState | undefined;
  return (s: ContainerState) => {
    if (s === current) return;
    current = s;
    onState?.(s);
    log.info(`container ${name}: ${s}`);
    // RUNNING and STOPPED are the monitor's own to say, as its init runs and as it lets go of the container.
    if (s !== 'STOPPED' && s !== 'RUNNING') monitor()?.state(s);
  };
}

/**
 * lxc.console.size and lxc.console.buffer.size in bytes, as LXC takes them:
 * unset for none (0), `auto` for 128 KiB, any other size (0 too) at least a
 * page and rounded up to a power of two.
 */
function consoleBytes(size: number | 'auto' | undefined): number {
  if (size === undefined) return 0;
  if (size === 'auto') return 128 * 1024;
  let bytes = 4096;
  while (bytes < size) bytes *= 2;
  return bytes;
}

/**
 * Starts the container up to its init running. `detached`: the console is
 * drained by the monitor instead of proxied to this process. On failure the
 * start is aborted and undone (stop and post-stop run), then the error thrown.
 */
async function launch(runtime: Runtime, opts: RunOptions, detached: boolean) {
  const { config, name, log } = opts;
  const model = config.model;
  // One the caller spawned goes through the abort path below like one spawned here.
  let monitor: Monitor | undefined = opts.monitor;
  // States reach the monitor once it serves the command socket (its subscribers may ask it then).
  let serveSent = false;
  const setState = stateReporter(name, log, opts.onState, () => (serveSent ? monitor : undefined));
  const hookEnv = baseHookEnv(name, config, log);
  let slot = 0;
  // What the cgroup driver made: a restorer puts the restored processes there.
  const handed: CgroupHandoff['payload'][number][] = [];
  const ctx: StartContext = {
    container: { name, lxcpath: opts.lxcpath, config, configFile: config.path },
    log,
    kind: opts.kind,
    namespaces: {},
    namespaceNames: new Set(),
    userns: false,
    rootfs: undefined,
    ops: new OpQueue(),
    flush: async () => {
      const q = ctx.ops;
      ctx.ops = new OpQueue();
      await monitor!.batch(q);
    },
    init: initSpec(opts),
    hookEnv,
    detachedMount: async (source, o) => {
      const s = slot++;
      await monitor!.detachedTree(source, s, o);
      return s;
    },
    allocateSlot: () => slot++,
    monitorPid: () => monitor!.started(),
    handCgroups: (c) => {
      handed.push(...c.payload);
      monitor!.cgroups(c);
    },
    runtimeConfig: (key, value) => monitor!.addConfig([[key, value]]),
    giveBackToHost: (inside, host, mtu) => monitor!.giveBack(inside, host, mtu),
    removeProxyAtEnd: (ifname, family, address) => monitor!.unproxy(ifname, family, address),
    attachConfinement: {},
  };
  const ending = (cloned: boolean): Ending => ({
    runtime,
    container: ctx.container,
    kind: opts.kind,
    log,
    hookEnv,
    pid: ctx.pid,
    namespaces: ctx.namespaces,
    monitor,
    cloned,
    setState,
  });

  let cloned = false;
  setState('STARTING');
  try {
    const rootfs = rootfsOf(runtime, opts);
    (ctx as { rootfs: typeof rootfs }).rootfs = rootfs;
    hookEnv['LXC_ROOTFS_MOUNT'] = rootfs?.mount ?? '/';
    const plan = await namespacePlan(config, opts.lxcpath, opts.pidOf);
    (ctx as { userns: boolean }).userns = plan.clone.includes('user') || plan.share.user !== undefined;
    (ctx as { namespaceNames: ReadonlySet<string> }).namespaceNames = new Set([...plan.clone, ...Object.keys(plan.share)]);
    checkNetworks(runtime, config, name);

    monitor ??= Monitor.spawn({ log, container: name, lockFd: opts.lock.fd });
    const netnsAhead = netnsMadeAhead(config);
    // The monitor starts up and takes the command socket while pre-start runs here: nothing in
    // pre-start waits for it (the monitor takes what pre-start sends it in order, after this),
    // nor does the clone request (the monitor answers SERVE first, and refuses the clone if it failed).
    const m = monitor;
    const served = m.together(() => {
      const answer = m.serve({
        socket: opts.paths.command,
        config: configLines(config),
        ...(model.console.logfile ? { consoleLog: model.console.logfile, consoleLogSize: consoleBytes(model.console.size), consoleLogRotate: model.console.rotate } : {}),
        ...(model.console.bufferSize !== undefined ? { consoleBufferSize: consoleBytes(model.console.bufferSize) } : {}),
        // A restored console is drained as a daemon's, also in the foreground (as LXC's restore leaves it).
        ...(model.console.path && model.console.path !== 'none' && (opts.console || opts.restore) ? { consolePath: model.console.path } : {}),
        watchPrefix: opts.paths.watchPrefix,
        watchDir: opts.paths.watchDir,
        container: name,
      });
      const unshared = model.monitor.unshare ? m.unshareMounts() : undefined;
      m.state('STARTING');
      // The network namespace's kernel work (~0.5 ms) overlaps pre-start's instead of adding to the
      // clone's; asked for after SERVE, so that the monitor answers SERVE first (the clone waits on
      // that answer) and makes the namespace while pre-start still runs here.
      if (netnsAhead) m.networkNamespace();
      return { answer, unshared };
    });
    serveSent = true;
    timelineMark('serve');
    // Its failure is thrown once the clone has answered (below), or by the abort if pre-start fails first.
    served.answer.catch(() => undefined);
    if (served.unshared) {
      // lxc.monitor.unshare: pre-start's scripts run in the monitor's own mount namespace, made before them.
      await served.unshared;
      ctx.hostMountNamespace = mountNamespaceOf(await m.started());
    }
    await runtime.hooks.preStart.promise(ctx);
    timelineMark('pre-start');

    /** The monitor's fds on the first process's namespaces, as paths for hooks. */
    const holdNamespaces = (c: { pid: number; namespaces: Readonly<Record<string, number>> }) => {
      cloned = true;
      ctx.pid = c.pid;
      hookEnv['LXC_PID'] = String(c.pid);
      for (const ns of [...plan.clone, ...Object.keys(plan.share)]) {
        const fd = c.namespaces[ns];
        // The monitor keeps each fd on the namespace the child ends up in (a later unshare included).
        if (fd !== undefined && fd >= 0) ctx.namespaces[ns] = `/proc/${m.pid}/fd/${fd}`;
      }
    };

    if (opts.restore) {
      planRecorder()?.refuse('a restore is not replayed');
      await restoreFirstProcess({
        runtime,
        ctx,
        monitor: m,
        rootfs,
        lxcpath: opts.lxcpath,
        restore: opts.restore,
        cgroups: handed,
        flags: plan.flags,
        served: served.answer,
        holdNamespaces,
        log,
      });
      timelineMark('running');
      setState('RUNNING');
      return { monitor, ending: ending(true), pid: ctx.pid!, ctx };
    }

    log.debug(`cloning the first process: new ${plan.clone.join(', ') || 'none'}${Object.keys(plan.share).length ? `; joining ${Object.entries(plan.share).map(([n, p]) => `${n} (${p})`).join(', ')}` : ''} (flags 0x${plan.flags.toString(16)})`);
    // A cgroup namespace made by the clone would be rooted where the first process is born; when its
    // cgroups are completed after the clone, its first op makes it instead (below).
    const cgroupnsLater = ctx.cgroupNamespaceAfterClone === true && (plan.flags & CLONE_FLAGS.cgroup) !== 0;
    const firstReason = cloneFirstReason(runtime, ctx);
    log.debug(firstReason ? `the first batch waits for the clone: ${firstReason}` : 'the first batch is queued while the monitor clones');
    const cloning = monitor
      .clone({
        flags: cgroupnsLater ? plan.flags & ~CLONE_FLAGS.cgroup : plan.flags,
        pdeathSignal: model.monitor.pdeathSignal,
        // Without a console a daemon's init gets /dev/null, as lxc-execute -d gives its command: lxkit's own stdio goes with lxkit.
        stdio: !opts.console ? (detached ? STDIO.NULL : STDIO.INHERIT) : detached ? STDIO.DETACHED : STDIO.CONSOLE,
        share: plan.share,
        ...(ctx.cloneIntoCgroup ? { intoCgroup: ctx.cloneIntoCgroup } : {}),
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EPERM' && !ctx.userns && process.getuid?.() !== 0) {
          err.message += ` (a user other than root makes namespaces only inside a user namespace of its own: set lxc.idmap to the user's subordinate ids)`;
        }
        throw err;
      });

    /** pre-mount … start: every op in order, ending in the init's exec. */
    const queueOps = async () => {
      ctx.ops = new OpQueue();
      if (cgroupnsLater) ctx.ops.unshare(CLONE_FLAGS.cgroup, { what: 'creating the cgroup namespace, in the container\'s cgroups' });
      for (const stage of ['preMount', 'mount', 'autodev'] as const satisfies readonly HookName[]) {
        await runtime.hooks[stage].promise(ctx);
      }
      finalizeOps(ctx.ops, ctx, { console: opts.console && model.console.path !== 'none', daemon: detached });
      await runtime.hooks.start.promise(ctx);
      const init = ctx.init;
      ctx.ops.exec(
        {
          argv: init.argv,
          env: init.env,
          cwd: init.cwd,
          ...(init.uid !== undefined ? { uid: init.uid } : {}),
          ...(init.gid !== undefined ? { gid: init.gid } : {}),
          ...(init.groups ? { groups: init.groups } : {}),
          ...(ctx.consoleSlot !== undefined ? { stdioSlot: ctx.consoleSlot } : {}),
          mode: init.mode === 'init' ? EXEC_MODE.INIT : EXEC_MODE.REPLACE,
        },
        { what: `executing the container's ${init.mode === 'init' ? 'command' : 'init'} ${init.argv[0]}` },
      );
    };
    /** Sends the batch; resolves when the init runs. */
    const sendBatch = () => {
      const confine = ctx.attachConfinement;
      const stopWork = stopWorkReason(runtime, ctx);
      // A launch plan ends where the container is left to run: its end must need nothing of lxkit's JavaScript.
      if (stopWork !== undefined) planRecorder()?.refuse(`the container's end needs lxkit's stop work (${stopWork})`);
      timelineMark('batch');
      // What the monitor is told for the init's life, then the batch: one write, one wake-up of the monitor.
      const running = m.together(() => {
        if (confine.caps || confine.label || confine.seccomp || confine.noNewPrivs || confine.personality !== undefined) m.confine(confine);
        if (ctx.seccompNotify) m.notify(ctx.seccompNotify.proxy, ctx.seccompNotify.cookie);
        // In the foreground as in daemon mode: a container whose end needs nothing of lxkit's is ended by its monitor at once.
        if (!detached && stopWork === undefined) m.endAlone(opts.kind === 'system');
        return m.batch(ctx.ops, { exec: true });
      });
      // Awaited below once the clone has answered; a failed clone fails it too, which its own error says better.
      running.catch(() => undefined);
      return running;
    };

    let running: Promise<string> | undefined;
    // The cloning taps run while the monitor clones; so do the ops' taps when nothing needs the clone's
    // answer first: the monitor takes the batch after the clone and the v1 cgroups (sent in this order)
    // and passes it on at once, without a round trip through here.
    const meanwhile = runtime.hooks.cloning.promise(ctx).then(async () => {
      timelineMark('cloning');
      if (firstReason !== undefined) return;
      await queueOps();
      running = sendBatch();
    });
    const [cloneResult, meanwhileResult] = await Promise.allSettled([cloning, meanwhile]);
    // A SERVE that failed says why better than the clone the monitor then refused.
    await served.answer;
    if (cloneResult.status === 'rejected') throw cloneResult.reason;
    const c = cloneResult.value;
    timelineMark('cloned');
    holdNamespaces(c);
    if (meanwhileResult.status === 'rejected') throw meanwhileResult.reason;
    await runtime.hooks.startHost.promise(ctx);
    if (!running) {
      await queueOps();
      running = sendBatch();
    }
    await running;
    timelineMark('running');
    setState('RUNNING');
    return { monitor, ending: ending(true), pid: c.pid, ctx };
  } catch (err) {
    setState('ABORTING');
    // Reported by the caller; the log keeps the reason next to the state changes.
    log.info(`start of ${name} aborted: ${messageOf(err)}`);
    let exit: Exit | undefined;
    if (monitor && cloned) {
      monitor.kill(SIGKILL);
      exit = await Promise.race([monitor.exited(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
    }
    // finish() runs stop and post-stop, then rethrows `err`.
    return finish(ending(cloned), exit, err).then(() => {
      throw err;
    });
  }
}

/** Runs the container in the foreground: resolves once it has stopped and everything is undone. */
export async function runContainer(runtime: Runtime, opts: RunOptions): Promise<RunResult> {
  // Signals that come while it starts are sent once it runs (signals.ts).
  const hold = opts.forwardSignals ? holdSignals(opts.log) : undefined;
  let launched: Awaited<ReturnType<typeof launch>>;
  try {
    launched = await launch(runtime, opts, false);
  } finally {
    hold?.release();
  }
  const { monitor, ending } = launched;
  const plan = planRecorder();
  // The front replays application containers (lxkit execute); a system container's foreground end differs (halt signal, reboot).
  if (opts.kind === 'application') plan?.finish({ kind: 'foreground', container: opts.name });
  else plan?.refuse('only lxkit execute is replayed');
  const model = opts.config.model;
  const signals = opts.forwardSignals ? forwardSignals(monitor, opts.kind === 'system' ? model.signals.halt : undefined, opts.log, hold?.held) : undefined;
  let exit: Exit | undefined;
  let failure: unknown;
  try {
    exit = await monitor.exited();
  } catch (err) {
    failure = err;
  } finally {
    signals?.();
  }
  return finish(ending, exit, failure);
}

/**
 * Starts the container in daemon mode: resolves once its init runs, leaving
 * it to its monitor, which runs `afterExit` (lxkit's stop work, as a new
 * process) when the init exits.
 */
export async function startDetached(
  runtime: Runtime,
  opts: RunOptions & {
    readonly afterExit: readonly string[];
    /** Why the caller needs the stop work whatever the plugins say (an ephemeral container, a pid file). */
    readonly stopWork: string | undefined;
  },
): Promise<Detached> {
  const { monitor, ending, pid, ctx } = await launch(runtime, opts, true);
  try {
    const why = opts.stopWork ?? stopWorkReason(runtime, ctx);
    opts.log.debug(`container ${opts.name}: ${why ? `its end needs lxkit's stop work (${why})` : 'its monitor ends it alone'}`);
    // While no lxkit process is attached, the monitor sends its own lines where lxkit's go.
    const targets = logTargets(opts.log);
    if (targets) monitor.logTargets(targets);
    if (!(await monitor.daemonize(opts.afterExit, why !== undefined))) {
      // The init ran and has already exited (a short command): the start worked, as lxc-start -d
      // says, and this process ends the container as a foreground start would.
      planRecorder()?.refuse('the init exited before it was left to its monitor');
      await finish(ending, monitor.exit, undefined);
      return { pid, monitorPid: monitor.pid! };
    }
    planRecorder()?.finish({ kind: 'daemon', container: opts.name });
  } catch (err) {
    monitor.kill(SIGKILL);
    const exit = await Promise.race([monitor.exited(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
    // finish() runs stop and post-stop, then rethrows `err`.
    return finish(ending, exit, err).then(() => {
      throw err;
    });
  }
  return { pid, monitorPid: monitor.pid! };
}

export interface AdoptOptions {
  readonly name: string;
  readonly lxcpath: string;
  readonly config: ContainerConfig;
  readonly kind: 'system' | 'application';
  readonly log: Logger;
  /** The control socket the monitor started this process with. */
  readonly fd: number;
  readonly onState?: (state: ContainerState) => void;
}

/** lxkit's stop work for a daemon whose init has exited (this process was started by its monitor). */
export async function finishAdopted(runtime: Runtime, opts: AdoptOptions): Promise<RunResult> {
  const { config, name, log } = opts;
  const { monitor, cloned, exit } = await Monitor.adopt(opts.fd, { log, container: name });
  const { clone, share } = namespaceNames(config);
  const namespaces: Record<string, string> = {};
  for (const ns of [...clone, ...share]) {
    const fd = cloned.namespaces[ns];
    if (fd !== undefined && fd >= 0) namespaces[ns] = `/proc/${monitor.pid}/fd/${fd}`;
  }
  let rootfs: { mount: string } | undefined;
  try {
    rootfs = rootfsOf(runtime, { name, config, kind: opts.kind });
  } catch {
    rootfs = undefined;
  }
  const hookEnv = { ...baseHookEnv(name, config, log, rootfs), LXC_PID: String(cloned.pid) };
  return finish(
    {
      runtime,
      container: { name, lxcpath: opts.lxcpath, config, configFile: config.path },
      kind: opts.kind,
      log,
      hookEnv,
      pid: cloned.pid,
      namespaces,
      monitor,
      cloned: true,
      setState: stateReporter(name, log, opts.onState, () => monitor),
    },
    exit,
    undefined,
  );
}
