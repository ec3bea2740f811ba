/**
 * The start sequence (lxc.container.conf(5)'s hooks at LXC's moments):
 *
 *   preStart (host) → clone → startHost (host; the child waits)
 *   → preMount → mount → autodev      (taps queue ops in order)
 *   → the core's finalize ops          (devpts, ttys, console, pivot_root, host name)
 *   → start → exec of the init         (everything queued goes in one batch)
 *   … the container runs …
 *   → stop (host; namespaces still held) → postStop (host; every tap runs)
 *
 * A failure anywhere aborts the start (state ABORTING): the container's
 * first process is killed, and stop/post-stop still run so that plugins can
 * undo what pre-start did. Nothing the container mounted is visible on the
 * host: every mount happens in its own mount namespace.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { rootfsMountPoint } from '@lxkit/native';
import { LxkitError, messageOf } from '../errors.js';
import type { HookName } from '../hooks/bus.js';
import type { InitSpec, StartContext, StopContext } from '../hooks/contexts.js';
import type { ContainerPaths } from '../container/paths.js';
import type { ContainerLock } from '../container/lock.js';
import type { ContainerConfig } from '../config/container-config.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import { finalizeOps } from './finalize.js';
import { Monitor, describeExit, type Exit } from './monitor.js';
import { namespacePlan } from './namespaces.js';
import { EXEC_MODE, OpQueue } from './ops.js';
import { STDIO } from './protocol.js';
import { splitCommand } from './words.js';

export type ContainerState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING';

export interface RunOptions {
  readonly name: string;
  readonly lxcpath: string;
  readonly config: ContainerConfig;
  readonly paths: ContainerPaths;
  /** Held for the container's life: handed to the monitor, released after post-stop. */
  readonly lock: ContainerLock;
  /** `system`: lxkit start (init replaces the first process); `application`: lxkit execute (a small init runs the command). */
  readonly kind: 'system' | 'application';
  /** Command overriding lxc.init.cmd (start) or lxc.execute.cmd (execute). */
  readonly command?: readonly string[];
  /** Identity of the command (execute -u/-g), overriding lxc.init.uid/gid. */
  readonly uid?: number;
  readonly gid?: number;
  /** Whether the init gets a console pty proxied to lxkit's stdio (system containers), or lxkit's stdio itself. */
  readonly console: boolean;
  readonly log: Logger;
  /** Called with the state as it changes. */
  readonly onState?: (state: ContainerState) => void;
  /** Pass SIGINT/SIGTERM/SIGHUP of this process on to the container while it runs. */
  readonly forwardSignals?: boolean;
}

export interface RunResult {
  readonly exit: Exit;
  /**
   * The init asked for a reboot (reboot(2) in its pid namespace kills it with
   * SIGHUP): the caller starts the container again.
   */
  readonly reboot: boolean;
}

const SIGKILL = 9;
const SIGHUP = 1;

function initSpec(opts: RunOptions): InitSpec {
  const model = opts.config.model;
  let argv: string[];
  if (opts.command && opts.command.length > 0) argv = [...opts.command];
  else if (opts.kind === 'application') {
    if (!model.executeCmd) {
      throw new LxkitError('LXKIT_USAGE', `no command to execute: give one after -- or set lxc.execute.cmd`, { container: opts.name });
    }
    argv = splitCommand(model.executeCmd, 'lxc.execute.cmd');
  } else argv = splitCommand(model.init.cmd ?? '/sbin/init', 'lxc.init.cmd');
  // The init's environment is clean, as in LXC: container=lxc and lxc.environment (a bare NAME inherits lxkit's value).
  const env = ['container=lxc'];
  for (const e of model.environment) {
    const value = e.value ?? process.env[e.name];
    if (value !== undefined) env.push(`${e.name}=${value}`);
  }
  const uid = opts.uid ?? model.init.uid;
  const gid = opts.gid ?? model.init.gid;
  return {
    argv,
    env,
    cwd: model.init.cwd ?? '/',
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(model.init.groups.length > 0 ? { groups: [...model.init.groups] } : {}),
    mode: opts.kind === 'application' ? 'init' : 'replace',
  };
}

/** The rootfs: its path without a storage prefix, and where it gets mounted. */
async function rootfsOf(opts: RunOptions): Promise<{ path: string; mount: string } | undefined> {
  const model = opts.config.model;
  const value = model.rootfs.path;
  if (!value) return undefined;
  const m = /^([a-z]+):(.*)$/.exec(value);
  if (m && m[1] !== 'dir') {
    throw new LxkitError('LXKIT_UNSUPPORTED', `lxc.rootfs.path = ${value}: storage type "${m[1]}" is not available (no enabled plugin provides it)`, {
      key: 'lxc.rootfs.path',
      container: opts.name,
    });
  }
  const path = m ? m[2]! : value;
  const userns = model.idmap.length > 0;
  try {
    if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    throw new LxkitError('LXKIT_ROOTFS_MISSING', `the root filesystem ${path} of container "${opts.name}" does not exist or is not a directory`, {
      cause: err,
      path,
      key: 'lxc.rootfs.path',
      container: opts.name,
    });
  }
  // In a user namespace the container's ids may not traverse the lxcpath: the rootfs goes on a
  // mount point every id can reach (as LXC's lxc/rootfs), the monitor making the mount.
  return { path, mount: model.rootfs.mount ?? (userns ? rootfsMountPoint() : path) };
}

/** Every configured network type must have an implementation. */
function checkNetworks(runtime: Runtime, config: ContainerConfig, name: string): void {
  for (const e of config.entries) {
    if (!/^lxc\.net\.[0-9]+\.type$/.test(e.key) || e.value === 'empty' || e.value === 'none' || e.value === '') continue;
    if (!runtime.hooks.network.get(e.value)?.call()) {
      throw new LxkitError(
        'LXKIT_UNSUPPORTED',
        `${e.file}:${e.line}: ${e.key} = ${e.value}: no enabled plugin implements network type "${e.value}" yet`,
        { file: e.file, line: e.line, key: e.key, container: name },
      );
    }
  }
}

export async function runContainer(runtime: Runtime, opts: RunOptions): Promise<RunResult> {
  const { config, name, log } = opts;
  const model = config.model;
  let current: ContainerState | undefined;
  // The state file is a few bytes on a tmpfs: written synchronously, which costs
  // microseconds where a round trip through libuv's thread pool costs ~0.4 ms.
  const setState = (s: ContainerState, extra: Record<string, unknown> = {}) => {
    if (s !== current) {
      current = s;
      opts.onState?.(s);
      log.info(`container ${name}: ${s}`);
    }
    try {
      writeFileSync(opts.paths.state, JSON.stringify({ state: s, ...extra }) + '\n');
    } catch {
      // Only `state()` readers miss it; the lock still tells that the container runs.
    }
  };
  mkdirSync(dirname(opts.paths.state), { recursive: true });

  let slot = 0;
  const hookEnv: Record<string, string> = {
    LXC_NAME: name,
    LXC_CONFIG_FILE: config.path ?? '',
    LXC_CGNS_AWARE: '1',
    LXC_LOG_LEVEL: log.level,
    LXC_HOOK_VERSION: String(model.hookVersion),
  };
  if (model.console.path) hookEnv['LXC_CONSOLE'] = model.console.path;
  if (model.console.logfile) hookEnv['LXC_CONSOLE_LOGPATH'] = model.console.logfile;
  let monitor: Monitor | undefined;
  const ctx: StartContext = {
    container: { name, lxcpath: opts.lxcpath, config, configFile: config.path },
    log,
    kind: opts.kind,
    namespaces: {},
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
  };

  let exit: Exit | undefined;
  let failure: unknown;
  let cloned = false;
  let signals: (() => void) | undefined;
  setState('STARTING');
  try {
    const rootfs = await rootfsOf(opts);
    (ctx as { rootfs: typeof rootfs }).rootfs = rootfs;
    hookEnv['LXC_ROOTFS_PATH'] = model.rootfs.path ?? '';
    hookEnv['LXC_ROOTFS_MOUNT'] = rootfs?.mount ?? '/';
    const plan = namespacePlan(config, opts.lxcpath);
    (ctx as { userns: boolean }).userns = plan.clone.includes('user') || plan.share.user !== undefined;
    checkNetworks(runtime, config, name);

    monitor = Monitor.spawn({ log, container: name, lockFd: opts.lock.fd });
    await runtime.hooks.preStart.promise(ctx);

    log.debug(`cloning the first process: new ${plan.clone.join(', ') || 'none'}${Object.keys(plan.share).length ? `; joining ${Object.entries(plan.share).map(([n, p]) => `${n} (${p})`).join(', ')}` : ''} (flags 0x${plan.flags.toString(16)})`);
    const c = await monitor
      .clone({
        flags: plan.flags,
        pdeathSignal: model.monitor.pdeathSignal,
        stdio: opts.console ? STDIO.CONSOLE : STDIO.INHERIT,
        share: plan.share,
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EPERM' && !ctx.userns && process.getuid?.() !== 0) {
          err.message += ` (a user other than root makes namespaces only inside a user namespace of its own: set lxc.idmap to the user's subordinate ids)`;
        }
        throw err;
      });
    cloned = true;
    ctx.pid = c.pid;
    hookEnv['LXC_PID'] = String(c.pid);
    for (const ns of [...plan.clone, ...Object.keys(plan.share)]) {
      const fd = c.namespaces[ns];
      if (fd !== undefined && fd >= 0) ctx.namespaces[ns] = `/proc/${monitor.pid}/fd/${fd}`;
    }
    setState('STARTING', { pid: c.pid, monitor: monitor.pid });
    await runtime.hooks.startHost.promise(ctx);

    ctx.ops = new OpQueue();
    for (const stage of ['preMount', 'mount', 'autodev'] as const satisfies readonly HookName[]) {
      await runtime.hooks[stage].promise(ctx);
    }
    finalizeOps(ctx.ops, ctx, { console: opts.console && model.console.path !== 'none' });
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
    await monitor.batch(ctx.ops, { exec: true });
    setState('RUNNING', { pid: c.pid, monitor: monitor.pid });

    if (opts.forwardSignals) signals = forwardSignals(monitor, opts.kind === 'system' ? model.signals.halt : undefined, log);
    exit = await monitor.exited();
  } catch (err) {
    failure = err;
    setState('ABORTING');
    // Reported by the caller; the log keeps the reason next to the state changes.
    log.info(`start of ${name} aborted: ${messageOf(err)}`);
    if (monitor && cloned) {
      monitor.kill(SIGKILL);
      exit = await Promise.race([monitor.exited(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
    }
  } finally {
    signals?.();
  }

  setState('STOPPING');
  const reboot = !failure && opts.kind === 'system' && exit?.signal === SIGHUP;
  const stopCtx: StopContext = {
    container: ctx.container,
    log,
    target: reboot ? 'reboot' : 'stop',
    errors: [],
    ...(ctx.pid !== undefined ? { pid: ctx.pid } : {}),
    namespaces: ctx.namespaces,
    // As LXC: the namespace references and the target are in the environment of stop and post-stop hooks.
    hookEnv: { ...hookEnv, ...namespaceEnv(ctx.namespaces), LXC_TARGET: reboot ? 'reboot' : 'stop' },
  };
  if (cloned) await runtime.hooks.stop.promise(stopCtx).catch((err) => log.error(messageOf(err)));
  monitor?.release();
  await runtime.hooks.postStop.promise(stopCtx).catch((err) => stopCtx.errors.push(err));
  for (const e of stopCtx.errors) log.error(messageOf(e));
  if (monitor) await monitor.quit().catch(() => monitor!.destroy());
  rmSync(opts.paths.state, { force: true });
  opts.onState?.('STOPPED');
  log.info(`container ${name}: STOPPED${exit ? ` (${describeExit(exit)})` : ''}`);
  if (failure) throw failure;
  // As LXC: a post-stop failure turns a reboot into a stop.
  return { exit: exit!, reboot: reboot && stopCtx.errors.length === 0 };
}

/** LXC_<NS>_NS=/proc/<monitor>/fd/<n> for each namespace the monitor holds. */
function namespaceEnv(namespaces: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(namespaces).map(([ns, path]) => [`LXC_${ns.toUpperCase()}_NS`, path]));
}

/**
 * While a container runs in the foreground: SIGINT/SIGTERM/SIGHUP to lxkit
 * send the container's halt signal (system containers) or the same signal
 * (application containers: the small init passes it on to the command).
 */
function forwardSignals(monitor: Monitor, halt: number | undefined, log: Logger): () => void {
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
  const handlers = Object.entries(numbers).map(([name, num]) => {
    const h = () => {
      log.info(`lxkit got ${name}; sending ${halt ?? num} to the container`);
      monitor.kill(halt ?? num);
    };
    process.on(name as NodeJS.Signals, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.off(name as NodeJS.Signals, h);
  };
}
