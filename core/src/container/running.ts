/**
 * A running container, seen through its monitor's command socket: its state
 * and init pid, stopping it (halt signal, then lxc.signal.stop after a
 * timeout, as lxc-stop), waiting for states, and state events. A container whose
 * monitor serves no socket is STOPPED.
 */
import { readFileSync } from 'node:fs';
import { attachProgram, type AttachOptions } from '../attach/attach.js';
import { CommandClient, askMonitor, type CgroupDirs, type ContainerStatus } from '../command/client.js';
import { cgroupUse, readCgroupItem, writeCgroupItem, type CgroupUse } from '../cgroup/files.js';
import { parseSignal } from '../config/values.js';
import { openConsole, type ConsoleLogOptions, type ConsoleOptions } from '../console/console.js';
import { LxkitError } from '../errors.js';
import type { Exit } from '../start/monitor.js';
import type { ContainerState } from '../start/protocol.js';
import { planRecorder } from '../launch-plan/active.js';
import { containerPaths } from './paths.js';

const SIGKILL = 9;
/** What one CONSOLE_LOG reply carries at most (native/src/monitor/command.c). */
const CONSOLE_LOG_CHUNK = 64 * 1024;
const EFAULT = 14;

export interface StopOptions {
  /** Seconds to wait for a clean halt before the stop signal (lxc.signal.stop, SIGKILL by default; 60 s by default, as lxc-stop; -1: forever). */
  timeout?: number;
  /** The stop signal at once (lxc-stop -k). */
  kill?: boolean;
  /** Never the stop signal: a halt that does not finish in time is an error (lxc-stop --nokill). */
  nokill?: boolean;
  /** Ask for a reboot instead (lxc.signal.reboot; lxc-stop -r). */
  reboot?: boolean;
  /** Send the signal and return at once (lxc-stop -W). */
  nowait?: boolean;
}

export class RunningContainer {
  readonly #socket: string;
  readonly #name: string;
  readonly #where: { readonly netns?: string | undefined };

  /** `netns`: its monitor listens in that network namespace (a container nested in a running one: `lxkit ls --nesting`). */
  constructor(socketName: string, name: string, opts: { netns?: string | undefined } = {}) {
    this.#socket = socketName;
    this.#name = name;
    this.#where = opts;
  }

  #notRunning(): LxkitError {
    return new LxkitError('LXKIT_CONTAINER_NOT_RUNNING', `container "${this.#name}" is not running`, { container: this.#name });
  }

  /** The monitor's view, or undefined when the container is not running. */
  status(): Promise<ContainerStatus | undefined> {
    return askMonitor(this.#socket, this.#name, (c) => c.status(), this.#where);
  }

  async state(): Promise<ContainerState> {
    return (await this.status())?.state ?? 'STOPPED';
  }

  /**
   * Every value of `key` the container was started with (its effective
   * config); `running`: then the values its start chose, as LXC's running
   * config (`get_running_config_item`) has them.
   */
  configItem(key: string, opts: { running?: boolean } = {}): Promise<string[] | undefined> {
    return askMonitor(this.#socket, this.#name, (c) => c.configItem(key, opts), this.#where);
  }

  addresses(): Promise<{ iface: string; family: 'inet' | 'inet6'; address: string }[] | undefined> {
    return askMonitor(this.#socket, this.#name, (c) => c.addresses(), this.#where);
  }

  /**
   * Waits until the container is in one of `states` (STOPPED counts once its
   * monitor is gone). Resolves false after `timeoutMs` (undefined or < 0: no limit).
   */
  async wait(states: readonly ContainerState[], timeoutMs?: number): Promise<boolean> {
    const client = await CommandClient.connect(this.#socket, this.#name, this.#where);
    if (!client) return states.includes('STOPPED');
    try {
      return await new Promise<boolean>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (v: boolean) => {
          if (timer) clearTimeout(timer);
          resolve(v);
        };
        client
          .subscribe((s) => states.includes(s) && done(true))
          .then((s) => {
            if (states.includes(s)) done(true);
            else if (timeoutMs !== undefined && timeoutMs >= 0) timer = setTimeout(() => done(false), timeoutMs);
          }, reject);
      });
    } finally {
      client.close();
    }
  }

  /** Calls `listener` at each state change until the returned function is called or the container stops. */
  async subscribe(listener: (state: ContainerState) => void): Promise<() => void> {
    const client = await CommandClient.connect(this.#socket, this.#name, this.#where);
    if (!client) {
      listener('STOPPED');
      return () => undefined;
    }
    await client.subscribe(listener);
    return () => client.close();
  }

  /** Sends `signal` to the init; false when the container is not running. */
  async kill(signal: number): Promise<boolean> {
    const err = await askMonitor(this.#socket, this.#name, (c) => c.signal(signal), this.#where);
    return err === 0;
  }

  /**
   * lxc-stop: the halt signal, STOPPED within the timeout or the stop signal
   * (lxc.signal.stop, SIGKILL by default: -k sends it at once, as LXC).
   * Throws LXKIT_CONTAINER_NOT_RUNNING when it is not running.
   */
  async stop(opts: StopOptions = {}): Promise<void> {
    planRecorder()?.finish({
      kind: 'stop',
      container: this.#name,
      socket: this.#socket,
      signal: opts.reboot ? 'reboot' : opts.kill ? 'kill' : 'halt',
      timeout: opts.kill ? -1 : (opts.timeout ?? 60),
      nokill: opts.nokill ?? false,
      nowait: opts.nowait ?? false,
    });
    const client = await CommandClient.connect(this.#socket, this.#name, this.#where);
    if (!client) throw this.#notRunning();
    try {
      const status = await client.status();
      if (status.state === 'STOPPED' || status.pid === undefined) throw this.#notRunning();
      const signalOf = async (key: string, fallback: number) => {
        const values = await client.configItem(key);
        const last = values[values.length - 1];
        return last ? parseSignal(last) : fallback;
      };
      if (opts.reboot) {
        await client.signal(await signalOf('lxc.signal.reboot', 2));
        return;
      }
      const stopped = new Promise<void>((resolve) => {
        void client.subscribe((s) => s === 'STOPPED' && resolve());
      });
      const kill = await signalOf('lxc.signal.stop', SIGKILL);
      const first = opts.kill ? kill : await signalOf('lxc.signal.halt', 30);
      const err = await client.signal(first, true);
      if (err !== 0 && err !== 3 /* ESRCH: it is ending anyway */) {
        throw new LxkitError('LXKIT_STOP_FAILED', `cannot signal container "${this.#name}" (errno ${err})`, { container: this.#name });
      }
      if (opts.nowait) return;
      const timeout = opts.kill ? -1 : (opts.timeout ?? 60);
      const inTime = await Promise.race([
        stopped.then(() => true),
        ...(timeout >= 0 ? [new Promise<boolean>((r) => setTimeout(() => r(false), timeout * 1000).unref())] : []),
      ]);
      if (inTime) return;
      if (opts.nokill) {
        throw new LxkitError('LXKIT_STOP_FAILED', `container "${this.#name}" did not halt within ${timeout} s (--nokill: not killed)`, {
          container: this.#name,
        });
      }
      await client.signal(kill, true);
      await stopped;
    } finally {
      client.close();
    }
  }

  /**
   * Runs `command` (the user's shell when empty) inside the container, with
   * this process's stdin/stdout/stderr (a pty when stdin is a terminal);
   * resolves with its exit (128+N for signal N), as lxc-attach.
   */
  async attach(command: readonly string[] = [], opts: AttachOptions = {}): Promise<Exit> {
    // lxkit-attach asks the monitor itself: nobody serving the socket, or a container not RUNNING, is this error.
    try {
      return await attachProgram(this.#socket, this.#name, command, opts);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if ((e.code === 'ECONNREFUSED' && e.syscall === 'connect') || (e.code === 'ESRCH' && e.syscall === 'pidfd')) throw this.#notRunning();
      throw err;
    }
  }

  /** The container's cgroups as its monitor holds them (empty without the cgroup plugin); undefined when not running. */
  cgroups(): Promise<CgroupDirs[] | undefined> {
    return askMonitor(this.#socket, this.#name, (c) => c.cgroups(), this.#where);
  }

  async #cgroupsOrThrow(): Promise<CgroupDirs[]> {
    const dirs = await this.cgroups();
    if (!dirs) throw this.#notRunning();
    return dirs;
  }

  /** lxc-cgroup KEY: the value of a cgroup file of the container. */
  async getCgroupItem(key: string): Promise<string> {
    return readCgroupItem(await this.#cgroupsOrThrow(), key, this.#name);
  }

  /** lxc-cgroup KEY VALUE. */
  async setCgroupItem(key: string, value: string): Promise<void> {
    return writeCgroupItem(await this.#cgroupsOrThrow(), key, value, this.#name);
  }

  /** CPU, block I/O, memory and pids use (lxc-info -S); undefined when not running. */
  async cgroupUse(): Promise<CgroupUse | undefined> {
    const dirs = await this.cgroups();
    return dirs ? cgroupUse(dirs) : undefined;
  }

  /**
   * What lxc-info shows, over one connection to the monitor: the status,
   * and the addresses and the cgroups' resource use when asked for.
   * Undefined when the container is not running.
   */
  async overview(want: { addresses?: boolean; use?: boolean; links?: boolean }): Promise<
    | {
        status: ContainerStatus;
        addresses: Awaited<ReturnType<CommandClient['addresses']>> | undefined;
        use: CgroupUse | undefined;
        links: LinkUse[] | undefined;
      }
    | undefined
  > {
    return askMonitor(this.#socket, this.#name, async (c) => {
      // Asked all at once: the monitor answers in order, without a round trip for each.
      const [status, addresses, dirs, links] = await Promise.all([
        c.status(),
        want.addresses ? c.addresses() : undefined,
        want.use ? c.cgroups() : undefined,
        want.links ? linkUse(c) : undefined,
      ]);
      return { status, addresses, use: dirs ? cgroupUse(dirs) : undefined, links };
    }, this.#where);
  }

  /**
   * lxc-freeze: every process of the container stopped by the cgroup freezer
   * (FREEZING, then FROZEN). `timeoutMs`: how long the kernel may take (10 s).
   */
  async freeze(timeoutMs = -1): Promise<void> {
    return this.#freezer(true, timeoutMs);
  }

  /** lxc-unfreeze: THAWED, then RUNNING. */
  async unfreeze(timeoutMs = -1): Promise<void> {
    return this.#freezer(false, timeoutMs);
  }

  async #freezer(freeze: boolean, timeoutMs: number): Promise<void> {
    const err = await askMonitor(this.#socket, this.#name, (c) => c.freeze(freeze, timeoutMs), this.#where);
    if (err === undefined) throw this.#notRunning();
    if (err === 0) return;
    const doing = freeze ? 'freeze' : 'unfreeze';
    const why: Record<number, string> = {
      95: 'it has no freezer (no cgroup, or the cgroup plugin is not enabled)',
      16: 'it is not running',
      3: 'it is not running',
      110: 'the kernel did not freeze every process in time; it was thawed again',
    };
    throw new LxkitError('LXKIT_CGROUP_FAILED', `cannot ${doing} container "${this.#name}": ${why[err] ?? `errno ${err}`}`, {
      container: this.#name,
      errno: -err,
      syscall: 'write',
    });
  }

  /**
   * The console's output that its monitor keeps in memory
   * (lxc.console.buffer.size), as LXC's console_log(): see ConsoleLogOptions.
   * Nothing new since the last read is an empty buffer.
   */
  async consoleLog(opts: ConsoleLogOptions = {}): Promise<Buffer> {
    const { read = true, clear = false, max = 0 } = opts;
    if (!Number.isSafeInteger(max) || max < 0) throw new LxkitError('LXKIT_USAGE', `consoleLog: max must be a whole number of bytes, not ${max}`, { container: this.#name });
    const client = await CommandClient.connect(this.#socket, this.#name, this.#where);
    if (!client) throw this.#notRunning();
    const ask = async (r: boolean, c: boolean, n: number) => {
      const { errno, data } = await client.consoleLog(r, c, n);
      if (errno === EFAULT) {
        throw new LxkitError('LXKIT_NO_CONSOLE_BUFFER', `container "${this.#name}" keeps no console log in memory: it was started without lxc.console.buffer.size`, {
          container: this.#name,
          key: 'lxc.console.buffer.size',
        });
      }
      if (errno !== 0) throw new LxkitError('LXKIT_COMMAND_FAILED', `reading the console log of container "${this.#name}": errno ${errno}`, { container: this.#name, errno: -errno });
      return data;
    };
    try {
      const parts: Buffer[] = [];
      // A reply carries one chunk at most: read in turns until the buffer, or `max`, is done.
      for (let left = max || Infinity; read && left > 0; ) {
        const want = Math.min(left, CONSOLE_LOG_CHUNK);
        const data = await ask(true, false, want);
        parts.push(Buffer.from(data));
        left -= data.length;
        if (data.length < want) break;
      }
      // Also when neither is asked: whether there is a buffer at all.
      if (clear || !read) await ask(false, clear, 0);
      return Buffer.concat(parts);
    } catch (err) {
      if ((err as { code?: string }).code === 'LXKIT_MONITOR_LOST') throw this.#notRunning();
      throw err;
    } finally {
      client.close();
    }
  }

  /** This terminal on the container's tty `opts.tty` (1 by default; 0: its console) until Ctrl-a q. */
  async console(opts: ConsoleOptions = {}): Promise<void> {
    if ((await this.state()) !== 'RUNNING') throw this.#notRunning();
    return openConsole(this.#socket, this.#name, opts);
  }
}

/** The container `name` of `lxcpath` as its monitor sees it (STOPPED when it has none). */
export function runningContainer(lxcpath: string, name: string): RunningContainer {
  return new RunningContainer(containerPaths(lxcpath, name).command, name);
}

/** A host interface of a running container's network and its traffic (lxc-info's Link lines), as the host counts it. */
export interface LinkUse {
  readonly ifname: string;
  readonly txBytes: number;
  readonly rxBytes: number;
}

/**
 * lxc-info's Link lines: for each network of the running config, in index
 * order until one has no type, the host end of a veth (its running
 * veth.pair) or the host interface `link` of another type, with that
 * interface's byte counters. An interface the host does not have is left out.
 */
async function linkUse(c: CommandClient): Promise<LinkUse[]> {
  const out: LinkUse[] = [];
  const last = async (key: string) => (await c.configItem(key, { running: true })).at(-1);
  for (let n = 0; ; n++) {
    const type = await last(`lxc.net.${n}.type`);
    if (!type) break;
    const ifname = await last(type === 'veth' ? `lxc.net.${n}.veth.pair` : `lxc.net.${n}.link`);
    if (!ifname) continue;
    const counter = (what: string) => {
      try {
        return Number(readFileSync(`/sys/class/net/${ifname}/statistics/${what}`, 'utf8'));
      } catch {
        return undefined;
      }
    };
    const txBytes = counter('tx_bytes');
    const rxBytes = counter('rx_bytes');
    if (txBytes !== undefined && rxBytes !== undefined) out.push({ ifname, txBytes, rxBytes });
  }
  return out;
}
