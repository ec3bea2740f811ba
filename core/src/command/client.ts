/**
 * A client of a container's command socket (served by its monitor; see
 * native/src/monitor/command.c): the state, the init's pid, signals, state
 * subscriptions, config items and addresses of a running container. Nobody
 * serving the socket means the container is not running.
 *
 * Replies come in request order, so requests are simply queued; state
 * events of a subscription come in between and go to their listener.
 */
import { constants } from 'node:os';
import type { Channel } from '@lxkit/native';
import { native, openChannel, startHelper } from '../native-package.js';
import { LxkitError } from '../errors.js';
import { AR_RELAY, CMD, FrameReader, MSG, STATES, decodeRecord, encodeFrame, encodeRecord, type ContainerState, type DecodedRecord } from '../start/protocol.js';
import { systemError } from '../start/system-error.js';

/** What GET_STATE says about a container. */
export interface ContainerStatus {
  readonly state: ContainerState;
  /** The init's pid on the host; undefined before the clone. */
  readonly pid: number | undefined;
  readonly monitorPid: number;
  /** The init's exit, once it has ended (while the container stops). */
  readonly exit: { readonly code: number; readonly signal: number } | undefined;
  /** CLONE_NEW* flags of the namespaces the container was created with. */
  readonly cloneFlags: number;
  /** Whether it runs in daemon mode (no lxkit process attached). */
  readonly daemon: boolean;
}

/** A running container's cgroup in one hierarchy. */
export interface CgroupDirs {
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
  /** The container's cgroup (limits, lxkit cgroup, statistics). */
  readonly limit: string;
  /** Its init's (where lxkit attach puts a program). */
  readonly init: string;
}

export const stateName = (n: number): ContainerState => STATES[n] ?? 'STOPPED';

export class CommandClient {
  readonly #channel: Channel;
  readonly #reader = new FrameReader();
  readonly #pending: { resolve: (r: DecodedRecord) => void; reject: (e: Error) => void }[] = [];
  readonly #container: string;
  #onState: ((state: ContainerState) => void) | undefined;
  #closed: Error | undefined;

  /** `relayed`: told the relay's answer (its M_RESULT) before any reply; told undefined when the relay ends without one. */
  private constructor(fd: number, container: string, relayed?: (r: DecodedRecord | undefined) => void) {
    this.#container = container;
    let relay = relayed;
    this.#channel = openChannel(
      fd,
      (chunk) => {
        for (const f of this.#reader.push(chunk)) {
          if (f.type === MSG.RESULT && relay) {
            relay(decodeRecord(f.payload));
            relay = undefined;
          } else if (f.type === CMD.STATE_EVENT) this.#onState?.(stateName(decodeRecord(f.payload).ints[0] ?? 0));
          else if (f.type === CMD.REPLY) this.#pending.shift()?.resolve(decodeRecord(f.payload));
        }
      },
      () => {
        relay?.(undefined);
        this.#gone();
      },
    );
  }

  #gone(): void {
    const container = this.#container;
    this.#closed ??= new LxkitError('LXKIT_MONITOR_LOST', `the monitor of container "${container}" went away`, { container });
    for (const p of this.#pending.splice(0)) p.reject(this.#closed);
    this.#onState?.('STOPPED');
    this.#onState = undefined;
  }

  /**
   * Connects to the container's monitor; undefined when none serves the
   * socket (the container is not running). `netns`: the socket is in that
   * network namespace (a path such as /proc/PID/ns/net, a running
   * container's, where the monitors of the containers nested in it listen):
   * lxkit-attach's relay connects there, as this process never enters a
   * namespace.
   */
  static async connect(socketName: string, container: string, opts: { netns?: string | undefined } = {}): Promise<CommandClient | undefined> {
    if (opts.netns) return CommandClient.#relayed(opts.netns, socketName, container);
    let fd: number;
    try {
      // Through the addon: Node 20's connect() cuts an abstract name at its leading NUL.
      fd = native().connectAbstract(socketName);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return undefined;
      throw err;
    }
    return new CommandClient(fd, container);
  }

  static async #relayed(netns: string, socketName: string, container: string): Promise<CommandClient | undefined> {
    const helper = startHelper('lxkit-attach', { args: ['relay'] });
    let answered!: (r: DecodedRecord | undefined) => void;
    const answer = new Promise<DecodedRecord | undefined>((resolve) => (answered = resolve));
    const client = new CommandClient(helper.control, container, answered);
    client.#channel.write(encodeFrame(AR_RELAY, encodeRecord({ ints: [], strs: [netns, socketName] })));
    const r = await answer;
    if (r?.ints[0]) return client;
    client.close();
    await helper.started;
    const errno = r?.ints[2] ?? 0;
    // Nobody listens there: not running, as for a socket of this namespace.
    if (errno === constants.errno.ECONNREFUSED) return undefined;
    throw r
      ? systemError({ errno, syscall: r.strs[0]?.toString() || 'unknown', path: r.strs[1]?.toString() || '', doing: `asking the monitor of container "${container}" in ${netns}`, container })
      : new LxkitError('LXKIT_MONITOR_LOST', `the relay to the monitor of container "${container}" in ${netns} ended`, { container });
  }

  request(type: number, ints: number[] = [], strs: string[] = []): Promise<DecodedRecord> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      try {
        this.#channel.write(encodeFrame(type, encodeRecord({ ints, strs })));
      } catch {
        // The monitor is gone (EPIPE).
        this.#gone();
      }
    });
  }

  async status(): Promise<ContainerStatus> {
    const r = await this.request(CMD.GET_STATE);
    const [state = 0, pid = -1, monitorPid = 0, code = 0, signal = 0, cloneFlags = 0, daemon = 0] = r.ints;
    const s = stateName(state);
    return {
      state: s,
      pid: pid > 0 ? pid : undefined,
      monitorPid,
      exit: s === 'STOPPING' && (code !== 0 || signal !== 0) ? { code, signal } : undefined,
      cloneFlags,
      daemon: daemon !== 0,
    };
  }

  /** Sends `signal` to the init; `stopping` says it is a stop (a frozen container is thawed for it). Returns the errno (0: sent). */
  async signal(signal: number, stopping = false): Promise<number> {
    return (await this.request(CMD.SIGNAL, [signal, stopping ? 1 : 0])).ints[0] ?? 0;
  }

  /** Calls `listener` at each state change from now on (STOPPED when the monitor goes away); resolves with the current state. */
  async subscribe(listener: (state: ContainerState) => void): Promise<ContainerState> {
    this.#onState = listener;
    return stateName((await this.request(CMD.SUBSCRIBE)).ints[0] ?? 0);
  }

  /**
   * Every value of a config key the container was started with; `running`:
   * then the values its start chose (a veth's generated host name), as LXC's
   * running config has them.
   */
  async configItem(key: string, opts: { running?: boolean } = {}): Promise<string[]> {
    return (await this.request(CMD.CONFIG, opts.running ? [1] : [], [key])).strs.map((b) => b.toString());
  }

  /** Addresses in the container's network namespace: `{ iface, family, address }` with address as a/prefix. */
  async addresses(): Promise<{ iface: string; family: 'inet' | 'inet6'; address: string }[]> {
    return (await this.request(CMD.IPS)).strs.map((b) => {
      const [iface = '', family = 'inet', address = ''] = b.toString().split(' ');
      return { iface, family: family as 'inet' | 'inet6', address };
    });
  }

  /** The container's cgroup in each hierarchy (`version controllers limit init`, as the monitor holds them). */
  async cgroups(): Promise<CgroupDirs[]> {
    return (await this.request(CMD.CGROUPS)).strs.map((b) => {
      const [version = '1', controllers = '', limit = '', init = ''] = b.toString().split('\t');
      return { version: version === '2' ? 2 : 1, controllers: controllers === '-' ? [] : controllers.split(','), limit, init };
    });
  }

  /**
   * The console's ring buffer (lxc.console.buffer.size): with `read`, at most
   * `max` bytes (0: what one reply carries) from the oldest on, which the
   * monitor then moves past; with `clear`, emptied (after the read). `errno`
   * EFAULT: the container keeps no buffer.
   */
  async consoleLog(read: boolean, clear: boolean, max: number): Promise<{ errno: number; data: Buffer }> {
    const r = await this.request(CMD.CONSOLE_LOG, [read ? 1 : 0, clear ? 1 : 0, max]);
    return { errno: r.ints[0] ?? 0, data: r.strs[0] ?? Buffer.alloc(0) };
  }

  /** Freezes (or thaws) the container; resolves with the errno (0: done). */
  async freeze(freeze: boolean, timeoutMs = -1): Promise<number> {
    return (await this.request(CMD.FREEZE, [freeze ? 1 : 0, timeoutMs])).ints[0] ?? 0;
  }

  close(): void {
    this.#onState = undefined;
    this.#channel.close();
  }
}

/** One question to a container's monitor: undefined when it is not running. */
export async function askMonitor<T>(
  socketName: string,
  container: string,
  ask: (c: CommandClient) => Promise<T>,
  opts: { netns?: string | undefined } = {},
): Promise<T | undefined> {
  const c = await CommandClient.connect(socketName, container, opts);
  if (!c) return undefined;
  try {
    return await ask(c);
  } catch (err) {
    // The monitor went away in between: the container is gone.
    if ((err as { code?: string }).code === 'LXKIT_MONITOR_LOST') return undefined;
    throw err;
  } finally {
    c.close();
  }
}
