/**
 * The part of systemd's manager API (org.freedesktop.systemd1.Manager) the
 * systemd driver needs: a transient scope holding a process, with its
 * cgroup delegated, started and waited for.
 *
 * StartTransientUnit only queues a job; the scope's cgroup exists once the
 * job is done, which JobRemoved says. The match for that signal is added
 * (and Subscribe called, for managers that only tell subscribers) before
 * the unit is started, so the signal cannot be missed.
 */
import { LxkitError } from '@lxkit/core';
import { loadDbus, type Dbus, type DbusMessage } from '../cgmanager/dbus.js';

type Bus = ReturnType<Dbus['systemBus']>;

const SYSTEMD = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
export const UNIT_EXISTS = 'org.freedesktop.systemd1.UnitExists';

/** How long a scope's start job may take. */
const JOB_TIMEOUT_MS = 10_000;

export interface ScopeRequest {
  readonly unit: string;
  readonly description: string;
  readonly pids: readonly number[];
  /** The slice the scope goes in (systemd's default when absent). */
  readonly slice?: string | undefined;
}

/** A D-Bus error from the manager, with its name. */
export class SystemdError extends LxkitError {
  constructor(
    readonly dbusName: string,
    message: string,
    cause?: unknown,
  ) {
    super('LXKIT_CGROUP_FAILED', message, { cause, syscall: `dbus:${dbusName}` });
  }
}

export class SystemdManager {
  readonly #dbus: Dbus;
  readonly #bus: Bus;
  readonly #jobs = new Map<string, (result: string) => void>();
  #subscribed: Promise<void> | undefined;

  private constructor(dbus: Dbus, bus: Bus) {
    this.#dbus = dbus;
    this.#bus = bus;
    bus.on('message', (msg: DbusMessage) => {
      if (msg.type !== dbus.MessageType.SIGNAL || msg.interface !== MANAGER || msg.member !== 'JobRemoved') return;
      const [, job, , result] = msg.body as [number, string, string, string];
      this.#jobs.get(job)?.(result);
    });
  }

  /** Connects to the manager on the bus at `address`; the system bus, or the session bus (a user's manager), when absent. */
  static async connect(address: string | undefined, user: boolean): Promise<SystemdManager> {
    const dbus = await loadDbus();
    const bus = address ? dbus.sessionBus({ busAddress: address }) : user ? dbus.sessionBus() : dbus.systemBus();
    return new SystemdManager(dbus, bus);
  }

  async #call(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    try {
      const reply = await this.#bus.call(new this.#dbus.Message({ destination, path, interface: iface, member, signature, body }));
      return reply?.body ?? [];
    } catch (err) {
      const e = err as { type?: string; text?: string; message?: string };
      throw new SystemdError(e.type ?? 'org.freedesktop.DBus.Error.Failed', `systemd ${member}: ${e.text ?? e.message}`, err);
    }
  }

  #subscribe(): Promise<void> {
    this.#subscribed ??= (async () => {
      const match = `type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`;
      await this.#call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [match]);
      await this.#call(SYSTEMD, PATH, MANAGER, 'Subscribe', '', []);
    })();
    return this.#subscribed;
  }

  /** Starts a transient scope with `pids` in it and Delegate=yes; resolves when its job is done. */
  async startScope(req: ScopeRequest): Promise<void> {
    await this.#subscribe();
    const { Variant } = this.#dbus;
    const props: [string, InstanceType<typeof Variant>][] = [
      ['Description', new Variant('s', req.description)],
      ['Delegate', new Variant('b', true)],
      ['PIDs', new Variant('au', [...req.pids])],
      // A scope that failed would keep its name; collected, the next start may reuse it.
      ['CollectMode', new Variant('s', 'inactive-or-failed')],
      ...(req.slice ? [['Slice', new Variant('s', req.slice)] as [string, InstanceType<typeof Variant>]] : []),
    ];
    // Signals can come before the reply: results are kept until the job's path is known.
    const early = new Map<string, string>();
    const keep = (msg: DbusMessage) => {
      if (msg.member === 'JobRemoved' && msg.interface === MANAGER) early.set((msg.body as string[])[1]!, (msg.body as string[])[3]!);
    };
    this.#bus.on('message', keep);
    let job: string;
    try {
      [job] = (await this.#call(SYSTEMD, PATH, MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', [req.unit, 'fail', props, []])) as [string];
    } finally {
      this.#bus.removeListener('message', keep);
    }
    const result =
      early.get(job) ??
      (await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#jobs.delete(job);
          reject(new SystemdError('org.freedesktop.DBus.Error.Timeout', `systemd: the start job of ${req.unit} (${job}) did not finish in ${JOB_TIMEOUT_MS / 1000} s`));
        }, JOB_TIMEOUT_MS);
        this.#jobs.set(job, (r) => {
          clearTimeout(timer);
          this.#jobs.delete(job);
          resolve(r);
        });
      }));
    if (result !== 'done') throw new SystemdError('org.freedesktop.systemd1.JobFailed', `systemd: starting ${req.unit} ended with "${result}"`);
  }

  close(): void {
    this.#bus.disconnect();
  }
}
