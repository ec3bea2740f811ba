/**
 * The cgmanager driver: the container's cgroups made through a cgmanager
 * service (lxkit's own, `lxkit cgmanager`, or any speaking the API) instead
 * of cgroupfs directly — for callers the service delegates a subtree to.
 * Names follow cgmanager's rules: relative to the caller's own cgroups.
 *
 * The steps are the cgroupfs driver's, as calls: Create (with a -N suffix
 * on a clash with a cgroup in use), Chown to the container's root, SetValue
 * for each limit, MovePid of the monitor (into the container's v1 cgroups
 * for the clone, into its own afterwards). The cgroupfs directories that
 * result are handed to the monitor, which freezes and removes them.
 */
import { readCgroupLayout, type CgroupDriver, type CgroupHierarchy, type CgroupPlacement, type StartContext } from '@lxkit/core';
import { LxkitError } from '@lxkit/core';
import type { CgroupModel } from '../keys.js';
import { cgroupNames, joinCgroup, withSuffix } from '../placement.js';
import { CgmanagerClient } from './client.js';

export interface CgmanagerDriverOptions {
  /** The bus the service is on (unix:path=…); the system bus when absent. */
  readonly address?: string | undefined;
  readonly pattern?: string | undefined;
}

/** The controller name that designates a hierarchy in calls. */
const controllerOf = (h: CgroupHierarchy) => (h.version === 2 ? 'unified' : h.controllers[0]!);

export function cgmanagerDriver(options: CgmanagerDriverOptions = {}): CgroupDriver {
  const started = new WeakMap<StartContext, { placement: CgroupPlacement[]; monitor: string; client: CgmanagerClient; all: string }>();
  return {
    name: 'cgmanager',

    async prepare(ctx) {
      const name = ctx.container.name;
      const model: CgroupModel | undefined = ctx.container.config.model.cgroup;
      const layout = await readCgroupLayout();
      const client = await CgmanagerClient.connect(options.address);
      try {
        const hs = layout.hierarchies;
        const all = hs.map(controllerOf).join(',');
        const names = cgroupNames(name, model, options.pattern);
        // Where the monitor is now: where it goes back before its cgroup is removed.
        const monitorPid = await ctx.monitorPid();
        const back = await Promise.all(hs.map((h) => client.getPidCgroupAbs(controllerOf(h), monitorPid)));
        const own = await Promise.all(hs.map((h) => client.getPidCgroupAbs(controllerOf(h), process.pid)));
        const make = async (rel: string, retry: boolean): Promise<string> => {
          for (let attempt = 0; attempt < (retry ? 1000 : 1); attempt++) {
            const n = withSuffix(rel, attempt);
            if ((await client.create(all, n)) === 0) return n;
            // Left by a run that was killed (nothing in it): removed and made again.
            if ((await client.getTasksRecursive(controllerOf(hs[0]!), n)).length === 0) {
              await client.remove(all, n, true);
              if ((await client.create(all, n)) === 0) return n;
            }
          }
          throw new LxkitError('LXKIT_CGROUP_FAILED', `container "${name}": the cgroup ${rel} is in use`, { container: name });
        };
        const container = await make(names.container, names.retry);
        const monitor = await make(names.monitor, names.retry);
        const init = names.inner ? `${container}/${names.inner}` : container;
        if (names.inner) await client.create(all, init);
        const placement: CgroupPlacement[] = hs.map((h, i) => ({
          version: h.version,
          controllers: h.controllers,
          mountpoint: h.mountpoint,
          limit: joinCgroup(h.mountpoint, own[i]!, container),
          init: joinCgroup(h.mountpoint, own[i]!, init),
        }));
        ctx.handCgroups({
          payload: placement,
          monitor: hs.map((h, i) => ({ dir: joinCgroup(h.mountpoint, own[i]!, monitor), back: joinCgroup(h.mountpoint, back[i]!) })),
        });
        started.set(ctx, { placement, monitor, client, all });

        const root = ctx.userns ? ctx.container.config.model.idmap.filter((m) => m.nsid === 0) : [];
        const uid = root.find((m) => m.type === 'u')?.hostid;
        const gid = root.find((m) => m.type === 'g')?.hostid;
        if (uid !== undefined && gid !== undefined) await client.chown(all, init, uid, gid);
        for (const s of model?.v1 ?? []) await client.setValue(s.file.split('.')[0]!, container, s.file, s.value).catch((err) => rethrow(err, s, name));
        for (const s of model?.v2 ?? []) {
          if (s.file.startsWith('devices.')) {
            throw new LxkitError('LXKIT_UNSUPPORTED', `${s.origin.file}:${s.origin.line}: ${s.origin.key}: device programs cannot go through cgmanager; use the cgroupfs driver`, {
              ...s.origin,
              container: name,
            });
          }
          await client.setValue('unified', container, s.file, s.value).catch((err) => rethrow(err, s, name));
        }
        const v1 = hs.filter((h) => h.version === 1).map(controllerOf).join(',');
        if (v1) await client.movePid(v1, init, monitorPid);
        const unified = placement.find((p) => p.version === 2);
        if (unified) ctx.cloneIntoCgroup = unified.init;
      } catch (err) {
        client.close();
        throw err;
      }
    },

    async placed(ctx) {
      const s = started.get(ctx);
      if (!s) return;
      try {
        await s.client.movePid(s.all, s.monitor, await ctx.monitorPid());
      } finally {
        s.client.close();
      }
    },

    placement(ctx) {
      return started.get(ctx)?.placement;
    },
  };
}

function rethrow(err: unknown, s: { file: string; value: string; origin: { file: string; line: number; key: string } }, container: string): never {
  throw new LxkitError('LXKIT_CGROUP_FAILED', `${s.origin.file}:${s.origin.line}: ${s.origin.key} = ${s.value}: ${(err as Error).message}`, {
    cause: err,
    ...s.origin,
    container,
  });
}
