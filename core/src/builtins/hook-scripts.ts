/**
 * Site hook scripts (lxc.hook.<type>), run with LXC's arguments and
 * environment (lxc.container.conf(5), reference §2) so that existing LXC
 * hook scripts work unchanged.
 *
 * Host-side hooks (pre-start, start-host, stop, post-stop, clone, destroy) run here
 * with execa. Hooks that LXC runs inside the container's namespaces
 * (pre-mount, mount, autodev, start) are queued as ops for the container's
 * first process. A script whose #! line names zx runs under the zx CLI.
 * Scripts of one type run in order; the first failure stops the list (and
 * the start, for start-time hooks); stop and post-stop failures are logged.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ContainerConfig } from '../config/container-config.js';
import type { HookType } from '../config/core-keys/model.js';
import { LxkitError, messageOf } from '../errors.js';
import type { LifecycleContext, StartContext, StopContext } from '../hooks/contexts.js';
import { STAGE_LAST, STAGE_SITE_HOOKS } from '../hooks/stages.js';
import { CORE_URL } from '../plugin/builtins.js';
import { definePlugin } from '../plugin/define.js';
import { configEnvironment } from '../start/prepare.js';
import { splitCommand } from '../start/words.js';
import { VERSION } from '../version.js';
import { importExeca } from '../esm-imports.js';

/** Namespace names as LXC's stop hooks pass them, with their environment variable. */
const NS_ORDER = ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'] as const;

let zxCli: string | undefined;
function zx(): string {
  if (!zxCli) {
    const req = createRequire(CORE_URL);
    const pkg = req.resolve('zx/package.json');
    zxCli = join(dirname(pkg), (req(pkg) as { bin: { zx: string } }).bin.zx);
  }
  return zxCli;
}

/** Whether the script's #! line asks for zx (read from the host's view of it). */
function isZx(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(128);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf.subarray(0, n).toString('utf8').split('\n')[0] ?? '';
    return first.startsWith('#!') && /\bzx\b/.test(first);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface HookCall {
  readonly argv: string[];
  readonly env: Record<string, string>;
}

/**
 * The command, arguments and environment LXC would use for one script. LXC runs
 * the line through sh -c: its variables expand from the script's environment
 * (`base`, the environment it inherits, then the hook's), without a shell here.
 */
/** Which script LXC runs: its section and hook (`lxc` and a lifecycle hook, or `net` and up/down), and the key it comes from. */
interface ScriptOf {
  readonly section: 'lxc' | 'net';
  readonly hook: string;
  readonly key: string;
  /** Version 1's environment for the section (LXC_NET_*). */
  readonly env?: Record<string, string>;
}

const lxcHook = (type: HookType): ScriptOf => ({ section: 'lxc', hook: type, key: `lxc.hook.${type}` });

function hookCall(
  ctx: LifecycleContext & { hookEnv: Record<string, string> },
  of: ScriptOf,
  script: string,
  extra: readonly string[],
  hostPath: boolean,
  base: Readonly<Record<string, string | undefined>>,
): HookCall {
  const model = ctx.container.config.model;
  const version = model.hookVersion;
  const args = version === 0 ? [ctx.container.name, of.section, of.hook, ...extra] : [...extra];
  const env: Record<string, string> = { ...ctx.hookEnv, LXC_HOOK_VERSION: String(version) };
  if (version === 1) {
    env['LXC_HOOK_TYPE'] = of.hook;
    env['LXC_HOOK_SECTION'] = of.section;
    Object.assign(env, of.env);
  }
  const words = splitCommand(script, of.key, script.includes('$') ? { ...base, ...env } : undefined);
  const argv = hostPath && isZx(words[0]!) ? [process.execPath, zx(), ...words, ...args] : [...words, ...args];
  return { argv, env };
}

/** Namespace arguments of stop hooks in version 0 (`mnt:/proc/<monitor>/fd/<n>`...), in LXC's order. */
function namespaceArgs(ctx: StopContext): string[] {
  return NS_ORDER.flatMap((ns) => (ctx.namespaces[ns] ? [`${ns}:${ctx.namespaces[ns]}`] : []));
}

/** A host-side script's context: with lxc.monitor.unshare, the mount namespace it runs in. */
export type HostHookContext = LifecycleContext & { hookEnv: Record<string, string>; hostMountNamespace?: string | undefined };

async function runOnHost(ctx: HostHookContext, of: ScriptOf, call: HookCall): Promise<void> {
  const { execa } = await importExeca();
  // In another mount namespace (util-linux's nsenter enters it): the monitor's with lxc.monitor.unshare, where LXC runs
  // these scripts; a copy's, where its new rootfs is mounted for the clone hooks.
  const argv = ctx.hostMountNamespace ? ['nsenter', `--mount=${ctx.hostMountNamespace}`, '--', ...call.argv] : call.argv;
  const r = await execa(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...call.env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  if (r.all) ctx.log.debug(`${of.key} ${call.argv.join(' ')}: ${r.all}`);
  if (r.failed) {
    const why = r.exitCode !== undefined ? `exited with status ${r.exitCode}` : r.signal ? `was killed by ${r.signal}` : messageOf(r);
    throw new LxkitError('LXKIT_HOOK_SCRIPT_FAILED', `${of.key} ${call.argv.join(' ')} ${why}${r.all ? `: ${String(r.all).trim()}` : ''}`, {
      key: of.key,
      container: ctx.container.name,
    });
  }
}

/**
 * Queues the scripts of a hook LXC runs inside the container. `env` is a
 * function: reading process.env costs more than a start's other JavaScript
 * when there is nothing to run.
 */
function queueInContainer(ctx: StartContext, type: HookType, env: () => Record<string, string>, hostPaths: boolean): void {
  const scripts = ctx.container.config.model.hooks[type];
  if (scripts.length === 0) return;
  const base = env();
  // LXC's hooks inside the container do not get LXC_PID (it is set for start-host onwards, on the host).
  const { LXC_PID: _pid, ...hookEnv } = ctx.hookEnv;
  const inner = { ...ctx, hookEnv };
  for (const script of scripts) {
    const call = hookCall(inner, lxcHook(type), script, [], hostPaths, base);
    ctx.ops.run(
      call.argv,
      Object.entries({ ...base, ...call.env }).map(([k, v]) => `${k}=${v}`),
      { what: `running the ${type} hook ${script}`, ...originOf(ctx.container.config, type, script) },
    );
  }
}

async function runHostHooks(ctx: HostHookContext, type: HookType, extra: string[] = []) {
  for (const script of ctx.container.config.model.hooks[type]) {
    await runOnHost(ctx, lxcHook(type), hookCall(ctx, lxcHook(type), script, extra, true, process.env));
  }
}

/**
 * lxc.net.N.script.up or .down, on the host, as LXC runs it: the arguments
 * `TYPE LINK [HOST-END]` (the host end for a veth; after `NAME net up|down`
 * in hook version 0) and, in version 1, LXC_HOOK_SECTION=net with
 * LXC_NET_TYPE, and LXC_NET_PARENT for macvlan and veth, LXC_NET_PEER for
 * veth. A failure throws LXKIT_HOOK_SCRIPT_FAILED naming the key.
 */
export async function runNetScript(
  ctx: HostHookContext,
  opts: { readonly hook: 'up' | 'down'; readonly index: number; readonly script: string; readonly type: string; readonly link?: string; readonly peer?: string },
): Promise<void> {
  const args = opts.type === 'empty' ? ['empty'] : [opts.type, opts.link ?? '', ...(opts.type === 'veth' ? [opts.peer ?? ''] : [])];
  const env: Record<string, string> = { LXC_NET_TYPE: opts.type };
  if (opts.type === 'macvlan' || opts.type === 'veth') env['LXC_NET_PARENT'] = opts.link ?? '';
  if (opts.type === 'veth') env['LXC_NET_PEER'] = opts.peer ?? '';
  const of: ScriptOf = { section: 'net', hook: opts.hook, key: `lxc.net.${opts.index}.script.${opts.hook}`, env };
  await runOnHost(ctx, of, hookCall(ctx, of, opts.script, args, true, process.env));
}

/** stop and post-stop failures do not stop anything: LXC logs them. */
async function logged(ctx: LifecycleContext, type: HookType, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    ctx.log.error(messageOf(err));
  }
}

/**
 * The environment of the hooks the first process runs before pivot_root, as
 * LXC's has it: lxkit's own, with lxc.environment on top (LXC's host-side
 * hooks do not get lxc.environment; its start hook gets the init's).
 */
const childEnv = (config: ContainerConfig) => () => ({ ...hostEnv(), ...Object.fromEntries(configEnvironment(config)) });

const hostEnv = (): Record<string, string> => Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));

/** Where a script's line is, for an op's errors. */
function originOf(config: ContainerConfig, type: HookType, script: string): { origin?: { file: string; line: number; key: string } } {
  const entry = config.entries.find((e) => e.key === `lxc.hook.${type}` && e.value === script);
  return entry ? { origin: { file: entry.file, line: entry.line, key: entry.key } } : {};
}

export const hookScriptsPlugin = definePlugin({
  name: 'hook-scripts',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    const h = runtime.hooks;
    const tap = { name: 'hook-scripts', stage: STAGE_SITE_HOOKS };
    h.preStart.tapPromise(tap, (ctx) => runHostHooks(ctx, 'pre-start'));
    // In the container's namespaces, before pivot_root: host paths still resolve.
    h.preMount.tap(tap, (ctx) => queueInContainer(ctx, 'pre-mount', childEnv(ctx.container.config), true));
    h.mount.tap(tap, (ctx) => queueInContainer(ctx, 'mount', childEnv(ctx.container.config), true));
    h.autodev.tap(tap, (ctx) => {
      if (ctx.container.config.model.autodev.enabled) queueInContainer(ctx, 'autodev', childEnv(ctx.container.config), true);
    });
    // start-host: on the host, once the container is set up and waits for its init (LXC's moment).
    h.start.tapPromise(tap, async (ctx) => {
      if (ctx.container.config.model.hooks['start-host'].length === 0) return;
      // The set-up queued so far (pre-mount, mount, autodev scripts included) has run when these do.
      await ctx.flush();
      await runHostHooks(ctx, 'start-host');
    });
    // start: inside the container, after its confinement ops, right before the init.
    h.start.tap({ name: 'hook-scripts', stage: STAGE_LAST }, (ctx) => {
      const path = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
      const env = () => Object.fromEntries([path, ...ctx.init.env].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      queueInContainer(ctx, 'start', env, false);
    });
    // Scripts in the container are queued ops (without LXC_PID, as LXC runs them); start-host scripts need the set-up done.
    h.cloneFirst.tap(tap, (ctx) => (ctx.container.config.model.hooks['start-host'].length > 0 ? 'lxc.hook.start-host scripts run once the set-up is done' : undefined));
    h.stop.tapPromise(tap, (ctx) =>
      logged(ctx, 'stop', () => runHostHooks(ctx, 'stop', ctx.container.config.model.hookVersion === 0 ? namespaceArgs(ctx) : [])),
    );
    h.postStop.tapPromise(tap, (ctx) => logged(ctx, 'post-stop', () => runHostHooks(ctx, 'post-stop')));
    h.stopWork.tap(tap, (ctx) => {
      const { hooks } = ctx.container.config.model;
      const types = (['stop', 'post-stop'] as const).filter((t) => hooks[t].length > 0);
      return types.length ? `lxc.hook.${types.join(' and lxc.hook.')} scripts` : undefined;
    });
    // As LXC: on the host (in the mount namespace where the new root filesystem is), with the source's name and `lxkit copy -- ARGS`.
    h.clone.tapPromise(tap, async (ctx) => {
      if (ctx.container.config.model.hooks.clone.length === 0) return;
      const hookEnv = {
        LXC_NAME: ctx.container.name,
        LXC_SRC_NAME: ctx.source.name,
        LXC_CONFIG_FILE: ctx.container.configFile ?? '',
        LXC_ROOTFS_MOUNT: ctx.rootfs.mount,
        LXC_ROOTFS_PATH: ctx.rootfs.path,
      };
      const ns = ctx.rootfs.userNamespace;
      if (!ns) return runHostHooks({ ...ctx, hookEnv, hostMountNamespace: ctx.rootfs.mountNamespace }, 'clone', [...ctx.hookArgs]);
      // As the container's root in its user namespace, as LXC runs them for a user other than root.
      for (const script of ctx.container.config.model.hooks.clone) {
        const call = hookCall({ ...ctx, hookEnv }, lxcHook('clone'), script, [...ctx.hookArgs], true, process.env);
        await ns.run(call.argv, { ...hostEnv(), ...call.env }, { what: `running the clone hook ${script}`, ...originOf(ctx.container.config, 'clone', script) });
      }
    });
    h.destroy.tapPromise(tap, (ctx) =>
      runHostHooks({ ...ctx, hookEnv: { LXC_NAME: ctx.container.name, LXC_CONFIG_FILE: ctx.container.configFile ?? '' } }, 'destroy'),
    );
  },
});
