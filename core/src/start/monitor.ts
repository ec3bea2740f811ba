/**
 * The JavaScript side of lxkit-monitor (native/src/monitor/main.c): starts
 * it, sends it requests (several may wait for their answers, which come in
 * order), and hears its events (the init's
 * exit, log lines). The monitor is lxkit's own helper with a fixed argument
 * list, started by the addon's posix_spawn (@lxkit/native startHelper) with
 * its control socket as fd 3: execa and child_process.spawn would fork the
 * whole Node process, which is most of a container's start-up cost. The
 * spawn runs on a pool thread while the start goes on: requests sent before
 * the monitor runs wait in its control socket.
 */
import { openChannel, startHelper } from '../native-package.js';
import type { Channel, HelperExit, HelperProcess } from '@lxkit/native';
import type { Logger, LogLevel, LogTargets } from '../log/logger.js';
import { LOG_LEVELS } from '../config/values.js';
import type { CgroupHandoff, RestorePty } from '../hooks/drivers.js';
import type { AttachConfinement, DetachedMountOptions } from '../hooks/contexts.js';
import { LxkitError, isLxkitError } from '../errors.js';
import { planRecorder } from '../launch-plan/active.js';
import { PTY_KIND, type OpQueue } from './ops.js';
import { FrameReader, MSG, STATES, decodeRecord, encodeFrame, encodeRecord, type ContainerState, type StdioMode } from './protocol.js';
import { systemError } from './system-error.js';

/** Levels of the monitor's M_LOG messages (native/src/monitor: mlog); below WARN they are debug. */
const LOG_WARN = 4;
const LOG_ERROR = 5;

export interface CloneRequest {
  /** CLONE_NEW* flags. */
  readonly flags: number;
  /** Signal the container's first process gets when the monitor dies (lxc.monitor.signal.pdeath). */
  readonly pdeathSignal: number;
  readonly stdio: StdioMode;
  /** Namespaces to join instead of creating: name → path (lxc.namespace.share.*). */
  readonly share?: Readonly<Record<string, string>>;
  /** A unified-hierarchy cgroup to start the process in (CLONE_INTO_CGROUP). */
  readonly intoCgroup?: string;
}

export interface Cloned {
  /** The container's init as the host sees it. */
  readonly pid: number;
  /** The monitor's fds holding each namespace (for LXC_*_NS=/proc/<monitor>/fd/<n>); -1 when unavailable. */
  readonly namespaces: Readonly<Record<string, number>>;
}

export interface Exit {
  /** Exit status, or 128+N when signal N killed the init. */
  readonly code: number;
  readonly signal: number;
}

type Waiter = { accept: readonly number[]; resolve: (f: { type: number; payload: Buffer }) => void; reject: (e: Error) => void };

export interface MonitorOptions {
  readonly log: Logger;
  readonly container: string;
  /** Held by the monitor for as long as it runs (the container's lock). */
  readonly lockFd?: number;
  /**
   * The start is expected to want its network namespace made ahead of the
   * clone (the config read last time says so): the monitor makes it as it
   * starts instead of when asked (NETNS), and lets it go if the clone wants none.
   */
  readonly netnsAhead?: boolean;
}

export class Monitor {
  readonly #proc: HelperProcess;
  readonly #channel: Channel;
  readonly #log: Logger;
  readonly #container: string;
  /** Requests sent and not yet answered, in the order the monitor answers them. */
  #waiters: Waiter[] = [];
  #exit: Exit | undefined;
  #exitWaiters: { resolve: (e: Exit) => void; reject: (err: Error) => void }[] = [];
  #gone: Promise<HelperExit>;
  #dead: Error | undefined;
  #quitting = false;
  /** Settles once the monitor runs; a failed spawn is what every request then fails with. */
  #started: Promise<void> = Promise.resolve();
  #spawnError: Error | undefined;
  /** endAlone(): the monitor said at the exit that it ends the container itself; its RESULT says when it is done. */
  #endingAlone = false;
  #endResult: Buffer | undefined;
  #endWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Frames held back by together(), sent when it returns. */
  #held: Buffer[] | undefined;

  /** `onEnd`: called when the monitor closes the control socket (its exit, for an adopting process). */
  private constructor(proc: HelperProcess, opts: MonitorOptions, onEnd?: () => void) {
    this.#proc = proc;
    this.#log = opts.log;
    this.#container = opts.container;
    const reader = new FrameReader();
    this.#channel = openChannel(
      proc.control,
      (chunk) => {
        for (const f of reader.push(chunk)) this.#onFrame(f);
      },
      (errno) => {
        // A reset after the monitor exited is the end of the conversation too.
        if (errno) this.#log.debug(`monitor socket: errno ${errno}`);
        onEnd?.();
        this.#lost();
      },
    );
    this.#gone = proc.exited;
  }

  #lost(): void {
    if (this.#quitting) return;
    if (this.#endResult) {
      // It ended the container and exited, as it should: ended() settles from its RESULT.
      this.#quitting = true;
      return;
    }
    this.#dead =
      this.#spawnError ??
      new LxkitError('LXKIT_MONITOR_LOST', `the monitor of container "${this.#container}" exited unexpectedly`, {
        container: this.#container,
      });
    for (const w of this.#waiters.splice(0)) w.reject(this.#dead);
    for (const w of this.#exitWaiters) w.reject(this.#dead);
    this.#exitWaiters = [];
    this.#endWaiter?.reject(this.#dead);
    this.#endWaiter = undefined;
  }

  /** Ends the conversation from this side: pending requests fail unless we are quitting. */
  #close(): void {
    if (this.#channel.closed) return;
    this.#channel.close();
    this.#lost();
  }

  /**
   * Starts the monitor in the background. A helper that is not built is
   * LXKIT_NATIVE_MISSING at once; a failed posix_spawn (a Node-style system
   * error) fails started() and every request.
   */
  static spawn(opts: MonitorOptions): Monitor {
    const proc = startHelper('lxkit-monitor', { fds: opts.lockFd !== undefined ? [opts.lockFd] : [], ...(opts.netnsAhead ? { args: ['--netns'] } : {}) });
    const monitor = new Monitor(proc, opts);
    // Recorded before the control socket's end (which comes after the spawn's callback) is seen.
    monitor.#started = proc.started.catch((err: Error) => {
      monitor.#spawnError = err;
      throw err;
    });
    monitor.#started.catch(() => undefined);
    return monitor;
  }

  /** The monitor's pid once it runs. */
  async started(): Promise<number> {
    await this.#started;
    return this.#proc.pid;
  }

  /**
   * This process is lxkit's stop work for a daemon, started by the monitor
   * (our parent) with the control socket as `fd`: the monitor tells which
   * container it holds (ADOPTED) and how its init ended (EXITED).
   */
  static async adopt(fd: number, opts: Omit<MonitorOptions, 'lockFd'>): Promise<{ monitor: Monitor; cloned: Cloned; exit: Exit }> {
    const monitorPid = process.ppid;
    let closed!: () => void;
    let gone = false;
    const exited = new Promise<HelperExit>((resolve) => (closed = () => resolve({ code: null, signal: null })));
    const parent: HelperProcess = {
      pid: monitorPid,
      control: fd,
      exited,
      get gone() {
        return gone;
      },
      kill(signal: number) {
        try {
          process.kill(monitorPid, signal);
          return true;
        } catch {
          return false;
        }
      },
      unref() {},
    };
    const monitor = new Monitor(parent, opts, () => {
      gone = true;
      closed();
    });
    const adopted = await new Promise<{ type: number; payload: Buffer }>((resolve, reject) => {
      monitor.#waiters.push({ accept: [MSG.ADOPTED], resolve, reject });
    });
    const cloned = monitor.#clonedFrom(adopted.payload);
    return { monitor, cloned, exit: await monitor.exited() };
  }

  /** Undefined until the monitor runs (see started()). */
  get pid(): number | undefined {
    return this.#proc.pid || undefined;
  }

  #onFrame(f: { type: number; payload: Buffer }): void {
    if (f.type === MSG.LOG) {
      const r = decodeRecord(f.payload);
      this.#log.log(r.ints[0]! >= LOG_ERROR ? 'ERROR' : r.ints[0] === LOG_WARN ? 'WARN' : 'DEBUG', r.strs[0]!.toString());
      return;
    }
    if (f.type === MSG.EXITED) {
      const r = decodeRecord(f.payload);
      this.#exit = { code: r.ints[0]!, signal: r.ints[1]! };
      this.#endingAlone = r.ints[2] === 1;
      for (const w of this.#exitWaiters) w.resolve(this.#exit);
      this.#exitWaiters = [];
      // Every request still waiting was part of the start-up (a clone's, a batch's answer).
      const during = this.#waiters.filter((w) => !w.accept.includes(MSG.EXITED));
      if (during.length > 0) {
        this.#waiters = this.#waiters.filter((w) => w.accept.includes(MSG.EXITED));
        const err = new LxkitError('LXKIT_START_FAILED', `the container's first process ended during start-up (${describeExit(this.#exit)})`, {
          container: this.#container,
        });
        for (const w of during) w.reject(err);
      }
      return;
    }
    const w = this.#waiters[0];
    if (w && w.accept.includes(f.type)) {
      planRecorder()?.received(f.type, f.payload);
      this.#waiters.shift();
      w.resolve(f);
    } else if (f.type === MSG.RESULT && this.#endingAlone && !this.#endResult) {
      this.#endResult = f.payload;
      this.#endWaiter?.resolve();
      this.#endWaiter = undefined;
    } else {
      this.#log.debug(`monitor: unexpected message ${f.type}`);
    }
  }

  #request(type: number, payload: Buffer, accept: readonly number[]): Promise<{ type: number; payload: Buffer }> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ accept, resolve, reject });
      this.#write(type, payload);
    });
  }

  #send(type: number, payload: Buffer): void {
    if (this.#dead || this.#channel.closed) return;
    this.#write(type, payload);
  }

  /**
   * Runs `fn`, whose frames go to the monitor in one write when it returns
   * (or throws): the frames a start sends back to back (the batch and what
   * precedes it) then cost one system call here and one wake-up of the
   * monitor, instead of one each. Only for synchronous runs of sends and
   * requests: nothing is sent while `fn` runs.
   */
  together<T>(fn: () => T): T {
    if (this.#held) return fn();
    this.#held = [];
    try {
      return fn();
    } finally {
      const frames = this.#held;
      this.#held = undefined;
      if (frames.length > 0) this.#put(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    }
  }

  #write(type: number, payload: Buffer): void {
    planRecorder()?.send(type, payload);
    const frame = encodeFrame(type, payload);
    if (this.#held) this.#held.push(frame);
    else this.#put(frame);
  }

  /**
   * A write the monitor cannot take any more (EPIPE: it has exited) is
   * dropped, and the channel stays open: what the monitor said before it
   * left (an exit, the end of a container it ended itself) is still to be
   * read, and the end of the socket follows, which fails a pending request
   * with LXKIT_MONITOR_LOST.
   */
  #put(data: Buffer): void {
    try {
      this.#channel.write(data);
    } catch (err) {
      this.#log.debug(`monitor socket: ${(err as Error).message}`);
    }
  }

  /** Throws the failure a RESULT frame reports, if it reports one. */
  #check(payload: Buffer, doing: (index: number) => { what: string; origin?: { file: string; line: number; key: string } }): string {
    const r = decodeRecord(payload);
    const [ok, index, errno] = r.ints as [number, number, number];
    const output = r.strs[3]?.toString() ?? '';
    if (ok) return output;
    const op = doing(index);
    const detail = [r.strs[2]?.toString(), output.trim()].filter(Boolean).join('; ');
    if (errno === 0) {
      // A program the op ran (a hook script) failed, not a system call.
      const where = op.origin ? ` (${op.origin.file}:${op.origin.line}: ${op.origin.key})` : '';
      throw new LxkitError('LXKIT_HOOK_SCRIPT_FAILED', `${op.what}${where}: ${detail}`, {
        container: this.#container,
        ...(op.origin ? { file: op.origin.file, line: op.origin.line, key: op.origin.key } : {}),
      });
    }
    throw systemError({
      errno,
      syscall: r.strs[0]?.toString() || 'unknown',
      path: r.strs[1]?.toString() || '',
      doing: op.what,
      origin: op.origin,
      container: this.#container,
      ...(detail ? { detail } : {}),
    });
  }

  async clone(req: CloneRequest): Promise<Cloned> {
    const share = Object.entries(req.share ?? {}).map(([ns, path]) => `${ns}=${path}`);
    if (req.intoCgroup) share.push(`into-cgroup=${req.intoCgroup}`);
    const f = await this.#request(MSG.CLONE, encodeRecord({ ints: [req.flags, req.pdeathSignal, req.stdio], strs: share }), [
      MSG.CLONED,
      MSG.RESULT,
    ]);
    if (f.type === MSG.RESULT) this.#check(f.payload, () => ({ what: 'creating the container\'s first process' }));
    return this.#clonedFrom(f.payload);
  }

  /**
   * Restores the container instead of cloning it: the monitor runs `argv`
   * (a restorer that makes the restored init its sibling, and writes its pid
   * to `pidFile`) and holds the init as a cloned one, running at once.
   * `flags`: the CLONE_NEW* flags of the namespaces the restored init has.
   */
  async restore(req: { readonly flags: number; readonly argv: readonly string[]; readonly pidFile: string; readonly what: string }): Promise<Cloned> {
    const f = await this.#request(MSG.RESTORE, encodeRecord({ ints: [req.flags], strs: [req.pidFile, ...req.argv] }), [MSG.CLONED, MSG.RESULT]);
    if (f.type === MSG.CLONED) return this.#clonedFrom(f.payload);
    const r = decodeRecord(f.payload);
    if (r.ints[2] !== 0) this.#check(f.payload, () => ({ what: req.what }));
    // The restorer ran and failed: what it said, its last lines first.
    const output = (r.strs[3]?.toString() ?? '').trim().split('\n').slice(-6).join('\n');
    throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `${req.what}: ${r.strs[2]?.toString() ?? 'failed'}${output ? `:\n${output}` : ''}`, {
      container: this.#container,
      path: r.strs[1]?.toString() ?? '',
    });
  }

  /**
   * Before a restore: ptys of the monitor's /dev/ptmx in place of the
   * checkpointed console and ttys. The monitor keeps their masters as a
   * start's (the console drained and logged, the ttys lent to lxkit
   * console); the restorer gets the slaves at fds 3, 4, … in this order.
   * Resolves with each slave's path.
   */
  async openPtys(ptys: readonly RestorePty[], what: string): Promise<string[]> {
    const ints = ptys.flatMap((p) => [PTY_KIND[p.kind === 'console' ? 'CONSOLE' : 'TTY'], p.index]);
    const f = await this.#request(MSG.PTYS, encodeRecord({ ints, strs: [] }), [MSG.PTYS_OPENED, MSG.RESULT]);
    if (f.type === MSG.RESULT) this.#check(f.payload, () => ({ what }));
    return decodeRecord(f.payload).strs.map((s) => s.toString());
  }

  #clonedFrom(payload: Buffer): Cloned {
    const r = decodeRecord(payload);
    const namespaces: Record<string, number> = {};
    r.strs.forEach((name, i) => (namespaces[name.toString()] = r.ints[1 + i]!));
    return { pid: r.ints[0]!, namespaces };
  }

  /**
   * Has the monitor serve the container's command socket (abstract name
   * `socket`), answering config items from `config`, logging the console to
   * `consoleLog` (at most `consoleLogSize` bytes, then rotated to `.1` with
   * `consoleLogRotate`, else emptied), keeping the last `consoleBufferSize` bytes of the console
   * in memory (lxc.console.buffer.size; 0: none), and telling lxkit monitor's sockets (`watchPrefix`…,
   * registered in `watchDir`) its state changes. Its debug messages come only when this log shows them
   * (a frame and a wake-up of this process fewer each otherwise).
   */
  async serve(s: {
    socket: string;
    config: string;
    consoleLog?: string;
    consoleLogSize?: number;
    consoleLogRotate?: boolean;
    consoleBufferSize?: number;
    consolePath?: string;
    watchPrefix: string;
    watchDir: string;
    container: string;
  }): Promise<void> {
    const strs = [s.socket, s.config, s.consoleLog ?? '', s.watchPrefix, s.container, s.consolePath ?? '', s.watchDir];
    const logMin = this.#log.enabled('DEBUG') ? 0 : LOG_WARN;
    const f = await this.#request(MSG.SERVE, encodeRecord({ ints: [logMin, s.consoleLogSize ?? 0, s.consoleLogRotate ? 1 : 0, s.consoleBufferSize ?? 0], strs }), [MSG.RESULT]);
    this.#check(f.payload, () => ({ what: `serving the command socket @${s.socket}` }));
  }

  /** Hands cgroups of the container to the monitor (removed by it when the container is gone); no reply; several add up. */
  cgroups(c: CgroupHandoff): void {
    const later = c.monitorLater;
    const strs = [
      ...c.payload.map((p) => ['P', p.version, p.controllers.join(',') || '-', p.limit, p.init].join('\t')),
      ...c.monitor.map((m) => ['M', m.dir, m.back].join('\t')),
      ...(later?.hierarchies ?? []).map((h) => ['L', h.version, h.cpuset ? 1 : 0, h.base, later!.name, later!.tries, h.back].join('\t')),
      ...(c.enterFirstProcess ?? []).map((dir) => ['E', dir].join('\t')),
    ];
    this.#send(MSG.CGROUPS, encodeRecord({ ints: [], strs }));
  }

  /** What an attached program is confined with; the monitor hands it to lxkit-attach (no reply: it comes before the batch). */
  confine(c: AttachConfinement): void {
    this.#send(
      MSG.CONFINE,
      encodeRecord({
        ints: [c.caps ? 1 : 0, Number(c.caps?.bounding ?? 0n), c.noNewPrivs ? 1 : 0, c.personality ?? -1],
        strs: [c.label ?? '', c.seccomp ?? Buffer.alloc(0)],
      }),
    );
  }

  /** Where the seccomp listener's notifications go (lxc.seccomp.notify.proxy, .cookie); no reply. */
  notify(proxy: string | undefined, cookie: string | undefined): void {
    this.#send(MSG.NOTIFY, encodeRecord({ ints: [], strs: [proxy ?? '', cookie ?? ''] }));
  }

  /**
   * Has the monitor make the container's network namespace now, while
   * pre-start runs here, for the clone to start in (no reply; when it cannot,
   * the clone makes it). Root only, and not for a container with a user
   * namespace, which must own its network namespace.
   */
  networkNamespace(): void {
    this.#send(MSG.NETNS, encodeRecord({ ints: [], strs: [] }));
  }

  /**
   * lxc.monitor.unshare: the monitor leaves the host's mount namespace for
   * one of its own, a slave of the host's (host mounts still propagate in,
   * none go out), before pre-start. The container's first process is cloned
   * from there, and the host-side hook scripts run there (see
   * hostMountNamespace): what a pre-start hook mounts is the container's
   * business, not the host's.
   */
  async unshareMounts(): Promise<void> {
    const f = await this.#request(MSG.MOUNT_NS, encodeRecord({ ints: [], strs: [] }), [MSG.RESULT]);
    this.#check(f.payload, () => ({ what: "giving the monitor a mount namespace of its own (lxc.monitor.unshare)" }));
  }

  /**
   * Has the monitor end the container by itself at the init's exit, as in
   * daemon mode, when lxkit has nothing to do then (no stop work, and no
   * reboot: a SIGHUP exit is one when `sighupReboots`). Only for an init that
   * ran: an aborted start stays lxkit's to undo. No reply; the exit says
   * whether it happened (endingAlone), and ended() waits for the end.
   */
  /**
   * Where the monitor's own lines go while no lxkit process is attached
   * (daemon mode, between the start and its stop work): lxkit's log file
   * and syslog for the container, each from its priority up.
   */
  logTargets(t: LogTargets): void {
    // The monitor's levels as lxkit reads them (see LOG_WARN): below WARN its lines are DEBUG.
    const min = (level: LogLevel) => {
      const rank = LOG_LEVELS.indexOf(level);
      return rank <= LOG_LEVELS.indexOf('DEBUG') ? 0 : rank <= LOG_LEVELS.indexOf('WARN') ? LOG_WARN : rank <= LOG_LEVELS.indexOf('ERROR') ? LOG_ERROR : 99;
    };
    const ints = [t.file ? min(t.file.level) : 99, t.syslog?.facility ?? 0, t.syslog ? min(t.syslog.level) : 99];
    this.#send(MSG.LOG_TARGETS, encodeRecord({ ints, strs: [t.file?.path ?? '', t.program, t.container, t.syslog?.socket ?? ''] }));
  }

  endAlone(sighupReboots: boolean): void {
    this.#send(MSG.END_ALONE, encodeRecord({ ints: [sighupReboots ? 2 : 1], strs: [] }));
  }

  /** Whether the monitor said, with the init's exit, that it ends the container itself. */
  get endingAlone(): boolean {
    return this.#endingAlone;
  }

  /**
   * Resolves when a monitor ending the container itself is done: namespaces
   * released, cgroups removed, the lock let go. Then the conversation is over.
   */
  async ended(): Promise<void> {
    if (!this.#endResult) {
      if (this.#dead) throw this.#dead;
      await new Promise<void>((resolve, reject) => (this.#endWaiter = { resolve, reject }));
    }
    this.#quitting = true;
    this.#close();
    this.#check(this.#endResult!, () => ({ what: 'ending the container' }));
  }

  /**
   * Config lines the monitor reports from now on after the container's own
   * (what the start learnt: a veth's generated host name), as LXC's running
   * config holds them; `lxkit info -c` and the stop work read them.
   */
  addConfig(lines: readonly (readonly [key: string, value: string])[]): void {
    if (lines.length === 0) return;
    this.#send(MSG.CONFIG_ADD, encodeRecord({ ints: [], strs: [lines.map(([k, v]) => `${k} = ${v}\n`).join('')] }));
  }

  /**
   * The host device now named `inside` in the container goes back to the
   * host as `host` (with `mtu` when it had another) when the container ends,
   * whoever ends it: the monitor moves it while it still holds the namespace.
   */
  giveBack(inside: string, host: string, mtu: number | undefined): void {
    this.#send(MSG.NET_GIVE_BACK, encodeRecord({ ints: [mtu ?? 0], strs: [inside, host] }));
  }

  /** The proxy neighbour entry for `address` on the host interface `ifname`: removed when the container ends, whoever ends it. */
  unproxy(ifname: string, family: 4 | 6, address: Buffer): void {
    this.#send(MSG.NET_UNPROXY, encodeRecord({ ints: [family], strs: [ifname, address] }));
  }

  /** Tells the command socket's subscribers the container's new state. */
  state(state: ContainerState): void {
    // A monitor ending the container itself tells its states itself.
    if (this.#endingAlone) return;
    this.#send(MSG.STATE, encodeRecord({ ints: [STATES.indexOf(state)], strs: [] }));
  }

  /**
   * Daemon mode: the monitor stays alone with the container and runs
   * `afterExit` (lxkit's stop work) when its init exits — every time with
   * `always`, else only to restart it after a reboot (nothing else to do:
   * the monitor then ends the container's life by itself). An empty
   * `afterExit`: nothing of lxkit's ever runs then (lxkit unshare -d). This
   * process may leave: the monitor's exit no longer keeps it alive. False
   * when the init exited before the monitor took this: the caller ends it.
   */
  async daemonize(afterExit: readonly string[], always: boolean): Promise<boolean> {
    let f: { type: number; payload: Buffer };
    try {
      f = await this.#request(MSG.DAEMONIZE, encodeRecord({ ints: [always ? 1 : 0], strs: [...afterExit] }), [MSG.RESULT]);
    } catch (err) {
      // The init ran, and exited before the monitor took the request: nothing is left to leave to it.
      // The caller ends the container as in the foreground; the monitor's late answer is dropped.
      if (this.#exit && isLxkitError(err, 'LXKIT_START_FAILED')) return false;
      throw err;
    }
    this.#check(f.payload, () => ({ what: 'leaving the container to its monitor' }));
    this.#quitting = true;
    this.#proc.unref();
    this.#close();
    return true;
  }

  /**
   * Runs a batch in the container's first process. With `exec`, the batch
   * ends with the init's exec: success is the init running.
   */
  async batch(ops: OpQueue, opts: { exec?: boolean } = {}): Promise<string> {
    if (ops.length === 0) return '';
    const accept = opts.exec ? [MSG.RESULT, MSG.RUNNING] : [MSG.RESULT];
    const f = await this.#request(MSG.BATCH, ops.encode(), accept);
    if (f.type === MSG.RUNNING) return '';
    return this.#check(f.payload, (i) => ops.ops[i] ?? { what: 'running ops' });
  }

  /**
   * A detached mount made by the monitor (host root) for the child, in fd
   * `slot`: a bind mount of the tree at `source`, or with `fstype` a new
   * filesystem on `source` with `options` (fsopen/fsmount); with `idmap`,
   * mapped into the container's user namespace (lxc.rootfs.options idmap=container).
   */
  async detachedTree(source: string, slot: number, opts: DetachedMountOptions & { recursive?: boolean }): Promise<void> {
    const ints = [slot, opts.recursive === false ? 0 : 1, opts.idmap ? 1 : 0];
    const strs = opts.fstype ? [source, opts.fstype, (opts.options ?? []).join(',')] : [source];
    const f = await this.#request(MSG.DETACHED_TREE, encodeRecord({ ints, strs }), [MSG.RESULT]);
    const what = opts.fstype ? `mounting a ${opts.fstype} filesystem on ${source}` : `making a mount of ${source}`;
    this.#check(f.payload, () => ({ what: opts.idmap ? `${what} (idmapped)` : what }));
  }

  kill(signal: number): void {
    this.#send(MSG.KILL, encodeRecord({ ints: [signal], strs: [] }));
  }

  /**
   * Closes the namespace references held since clone (after the stop
   * hooks); resolves once they are gone, with the container's mounts: as
   * with LXC, post-stop runs after that (storage can be let go then).
   */
  async release(): Promise<void> {
    const f = await this.#request(MSG.RELEASE, encodeRecord({ ints: [], strs: [] }), [MSG.RESULT]);
    this.#check(f.payload, () => ({ what: "releasing the container's namespaces" }));
  }

  /** Resolves when the container's init has exited. */
  exited(): Promise<Exit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => this.#exitWaiters.push({ resolve, reject }));
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /**
   * Tells the monitor to exit once the container is gone; resolves when it
   * has let go of the container's lock and said goodbye. Its exit is reaped
   * in the background.
   */
  async quit(): Promise<void> {
    try {
      await this.#request(MSG.QUIT, encodeRecord({ ints: [], strs: [] }), [MSG.RESULT]);
      this.#quitting = true;
    } finally {
      this.#close();
    }
  }

  /** Lets go of a monitor before anything was asked of it: it exits when its control socket ends. */
  abandon(): void {
    this.#quitting = true;
    this.#close();
  }

  /** Ends the monitor whatever state it is in (the container dies with it). */
  async destroy(): Promise<void> {
    this.#proc.kill(9);
    this.#close();
    await this.#gone;
  }
}

export function describeExit(e: Exit): string {
  return e.signal ? `killed by signal ${e.signal}` : `exit status ${e.code}`;
}
