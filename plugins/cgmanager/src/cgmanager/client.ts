/**
 * A client of the cgmanager D-Bus API (org.linuxcontainers.cgmanager0_0),
 * with the exact method names and signatures of api.ts: lxkit's cgmanager
 * driver uses it, and so can anything else that speaks to a cgmanager.
 * A refused call is LXKIT_CGROUP_FAILED naming the method, the service's
 * message and its D-Bus error name (`dbusError`).
 */
import { LxkitError } from '@lxkit/core';
import { CGM_BUS_NAME, CGM_INTERFACE, CGM_METHODS, CGM_PATH, type CgmMethod } from './api.js';
import { loadDbus, type Dbus } from './dbus.js';

type Bus = ReturnType<Dbus['systemBus']>;

export class CgmanagerClient {
  readonly #bus: Bus;
  readonly #dbus: Dbus;

  private constructor(dbus: Dbus, bus: Bus) {
    this.#dbus = dbus;
    this.#bus = bus;
  }

  /** Connects to the bus at `address` (the system bus when absent). */
  static async connect(address?: string): Promise<CgmanagerClient> {
    const dbus = await loadDbus();
    const bus = address ? dbus.sessionBus({ busAddress: address }) : dbus.systemBus();
    return new CgmanagerClient(dbus, bus);
  }

  async call(method: CgmMethod, ...args: unknown[]): Promise<unknown[]> {
    const [signature] = CGM_METHODS[method];
    try {
      const reply = await this.#bus.call(
        new this.#dbus.Message({ destination: CGM_BUS_NAME, path: CGM_PATH, interface: CGM_INTERFACE, member: method, signature, body: args }),
      );
      return reply?.body ?? [];
    } catch (err) {
      const e = err as { type?: string; text?: string; message?: string };
      throw new LxkitError('LXKIT_CGROUP_FAILED', `cgmanager ${method}(${args.map((a) => JSON.stringify(a)).join(', ')}): ${e.text ?? e.message}`, {
        cause: err,
        ...(e.type ? { syscall: `dbus:${e.type}` } : {}),
      });
    }
  }

  ping = async () => void (await this.call('Ping', 0));
  create = async (controllers: string, cgroup: string) => Number((await this.call('Create', controllers, cgroup))[0]);
  chown = async (controllers: string, cgroup: string, uid: number, gid: number) => void (await this.call('Chown', controllers, cgroup, uid, gid));
  chmod = async (controllers: string, cgroup: string, file: string, mode: number) => void (await this.call('Chmod', controllers, cgroup, file, mode));
  movePid = async (controllers: string, cgroup: string, pid: number) => void (await this.call('MovePid', controllers, cgroup, pid));
  movePidAbs = async (controllers: string, cgroup: string, pid: number) => void (await this.call('MovePidAbs', controllers, cgroup, pid));
  getValue = async (controller: string, cgroup: string, key: string) => String((await this.call('GetValue', controller, cgroup, key))[0]);
  setValue = async (controller: string, cgroup: string, key: string, value: string) => void (await this.call('SetValue', controller, cgroup, key, value));
  remove = async (controllers: string, cgroup: string, recursive: boolean) => Number((await this.call('Remove', controllers, cgroup, recursive ? 1 : 0))[0]);
  getTasks = async (controller: string, cgroup: string) => (await this.call('GetTasks', controller, cgroup))[0] as number[];
  getTasksRecursive = async (controller: string, cgroup: string) => (await this.call('GetTasksRecursive', controller, cgroup))[0] as number[];
  listChildren = async (controller: string, cgroup: string) => (await this.call('ListChildren', controller, cgroup))[0] as string[];
  removeOnEmpty = async (controllers: string, cgroup: string) => void (await this.call('RemoveOnEmpty', controllers, cgroup));
  prune = async (controller: string, cgroup: string) => void (await this.call('Prune', controller, cgroup));
  listControllers = async () => (await this.call('ListControllers'))[0] as string[];
  listKeys = async (controller: string, cgroup: string) => (await this.call('ListKeys', controller, cgroup))[0] as [string, number, number, number][];
  getPidCgroup = async (controller: string, pid: number) => String((await this.call('GetPidCgroup', controller, pid))[0]);
  getPidCgroupAbs = async (controller: string, pid: number) => String((await this.call('GetPidCgroupAbs', controller, pid))[0]);

  close(): void {
    this.#bus.disconnect();
  }
}
