/**
 * `lxkit cgmanager`: a service offering cgmanager's D-Bus API on top of
 * cgroupfs (operations.ts), so that cgroups can be delegated to
 * unprivileged users as cgmanager did. It owns the name
 * org.linuxcontainers.cgmanager on a bus (the system bus, or any address),
 * learns each caller's uid and pid from the bus daemon
 * (GetConnectionCredentials), and answers with the exact signatures of
 * api.ts. Method calls are handled at the message level so that replies and
 * errors are exactly the API's.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '@lxkit/core';
import { readCgroupLayout } from '@lxkit/core';
import { CGM_API_VERSION, CGM_BUS_NAME, CGM_ERRORS, CGM_INTERFACE, CGM_METHODS, CGM_PATH, introspectionXml, type CgmMethod } from './api.js';
import { CgmError, CgroupOperations, type Caller } from './operations.js';
import { loadDbus, type DbusMessage } from './dbus.js';

export interface CgmanagerServiceOptions {
  /** A D-Bus address (unix:path=…); the system bus when absent. */
  readonly address?: string;
  readonly log: Logger;
}

export interface CgmanagerService {
  /** The unique name the service has on the bus. */
  readonly name: string;
  close(): Promise<void>;
}

type Body = unknown[];

function dispatch(ops: CgroupOperations, member: CgmMethod, a: Body, caller: Caller): unknown[] {
  const s = (i: number) => String(a[i]);
  const n = (i: number) => Number(a[i]);
  switch (member) {
    case 'Ping':
      return [];
    case 'GetPidCgroup':
      return [ops.getPidCgroup(s(0), n(1), caller, false)];
    case 'GetPidCgroupAbs':
      return [ops.getPidCgroup(s(0), n(1), caller, true)];
    case 'Create':
      return [ops.create(s(0), s(1), caller)];
    case 'Chown':
      ops.chown(s(0), s(1), n(2), n(3), caller);
      return [];
    case 'Chmod':
      ops.chmod(s(0), s(1), s(2), n(3), caller);
      return [];
    case 'MovePid':
      ops.movePid(s(0), s(1), n(2), caller, false);
      return [];
    case 'MovePidAbs':
      ops.movePid(s(0), s(1), n(2), caller, true);
      return [];
    case 'GetValue':
      return [ops.getValue(s(0), s(1), s(2), caller)];
    case 'SetValue':
      ops.setValue(s(0), s(1), s(2), s(3), caller);
      return [];
    case 'Remove':
      return [ops.remove(s(0), s(1), n(2) !== 0, caller)];
    case 'GetTasks':
      return [ops.getTasks(s(0), s(1), caller, false)];
    case 'GetTasksRecursive':
      return [ops.getTasks(s(0), s(1), caller, true)];
    case 'ListChildren':
      return [ops.listChildren(s(0), s(1), caller)];
    case 'RemoveOnEmpty':
      ops.removeOnEmpty(s(0), s(1), caller);
      return [];
    case 'Prune':
      ops.prune(s(0), s(1), caller);
      return [];
    case 'ListControllers':
      return [ops.listControllers()];
    case 'ListKeys':
      return [ops.listKeys(s(0), s(1), caller)];
  }
}

const gidOf = (pid: number): number => Number(/^Gid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);

export async function startCgmanagerService(opts: CgmanagerServiceOptions): Promise<CgmanagerService> {
  const dbus = await loadDbus();
  const ops = new CgroupOperations(await readCgroupLayout());
  const bus = opts.address ? dbus.sessionBus({ busAddress: opts.address }) : dbus.systemBus();
  const credentials = async (sender: string): Promise<Caller> => {
    const reply = await bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'GetConnectionCredentials',
        signature: 's',
        body: [sender],
      }),
    );
    const creds = (reply?.body[0] ?? {}) as Record<string, { value: unknown }>;
    const uid = Number(creds['UnixUserID']?.value);
    const pid = Number(creds['ProcessID']?.value);
    return { uid, pid, gid: gidOf(pid) };
  };

  const reply = (msg: DbusMessage, signature: string, body: unknown[]) => bus.send(dbus.Message.newMethodReturn(msg, signature, body));
  const fail = (msg: DbusMessage, name: string, text: string) => bus.send(dbus.Message.newError(msg as never, name, text));

  bus.addMethodHandler((msg: DbusMessage) => {
    if (msg.path !== CGM_PATH) return false;
    if (msg.interface === 'org.freedesktop.DBus.Introspectable' && msg.member === 'Introspect') {
      reply(msg, 's', [introspectionXml()]);
      return true;
    }
    if (msg.interface === 'org.freedesktop.DBus.Properties' && (msg.member === 'Get' || msg.member === 'GetAll')) {
      const version = new dbus.Variant('i', CGM_API_VERSION);
      if (msg.member === 'GetAll') reply(msg, 'a{sv}', [{ api_version: version }]);
      else if (msg.body[1] === 'api_version') reply(msg, 'v', [version]);
      else fail(msg, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${String(msg.body[1])}`);
      return true;
    }
    if (msg.interface !== CGM_INTERFACE) return false;
    const member = msg.member as CgmMethod;
    const sig = CGM_METHODS[member];
    if (!sig) {
      fail(msg, 'org.freedesktop.DBus.Error.UnknownMethod', `${CGM_INTERFACE} has no method ${msg.member}`);
      return true;
    }
    if ((msg.signature ?? '') !== sig[0]) {
      fail(msg, 'org.freedesktop.DBus.Error.InvalidArgs', `${member} takes (${sig[0]}), not (${msg.signature ?? ''})`);
      return true;
    }
    void credentials(msg.sender!)
      .then((caller) => {
        const out = dispatch(ops, member, msg.body as Body, caller);
        opts.log.debug(`cgmanager: ${member}(${(msg.body as Body).map((x) => JSON.stringify(x)).join(', ')}) by uid ${caller.uid}`);
        reply(msg, sig[1], out);
      })
      .catch((err: unknown) => {
        if (err instanceof CgmError) fail(msg, err.dbusName, err.message);
        else {
          const e = err as NodeJS.ErrnoException;
          const name = e.code === 'EACCES' || e.code === 'EPERM' ? CGM_ERRORS.denied : e.code === 'ENOENT' ? CGM_ERRORS.notFound : CGM_ERRORS.failed;
          fail(msg, name, `${member}: ${e.message}`);
        }
      });
    return true;
  });

  await bus.requestName(CGM_BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
  const name = (bus as unknown as { name: string }).name;
  opts.log.info(`cgmanager: serving ${CGM_INTERFACE} as ${CGM_BUS_NAME} (${name}) on ${opts.address ?? 'the system bus'}`);
  return {
    name,
    async close() {
      bus.disconnect();
    },
  };
}
