/**
 * The systemd driver: on a host whose cgroups systemd manages, a container
 * lives in a transient scope of its own (`lxc-NAME.scope`, Delegate=yes),
 * made through systemd's manager API rather than behind systemd's back.
 *
 * pre-start: StartTransientUnit puts the monitor in the scope; once the job
 * is done, the monitor's /proc cgroup paths are the scope in every hierarchy
 * systemd placed it in (and where it already was in the others), and the
 * cgroupfs driver makes the container's and the monitor's cgroups below
 * them, in the delegated subtree (`…/lxc-NAME.scope/lxc.payload.NAME`).
 * When the container ends the monitor removes those and exits; the scope,
 * empty then, is stopped and collected by systemd.
 *
 * Root talks to the system manager, another user to its own user manager
 * (the session bus), as LXC does for unprivileged containers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LxkitError, type CgroupDriver, type StartContext } from '@lxkit/core';
import { cgroupfsDriver } from '../cgroupfs/driver.js';
import { parseProcCgroup } from '../placement.js';
import { SystemdManager, SystemdError, UNIT_EXISTS } from './manager.js';
import { scopeUnit } from './unit.js';

export interface SystemdDriverOptions {
  /** The bus of the manager (unix:path=…); the system bus for root, the session bus otherwise, when absent. */
  readonly address?: string | undefined;
  /** The slice the scopes go in; systemd's default (system.slice, or app.slice for a user's manager) when absent. */
  readonly slice?: string | undefined;
  readonly pattern?: string | undefined;
  readonly use?: string | undefined;
  readonly fresh?: boolean;
}

const SCOPE_TRIES = 100;

/** sd_booted(): systemd is PID 1. */
export const systemdBooted = (): boolean => existsSync('/run/systemd/system');

export function systemdDriver(options: SystemdDriverOptions = {}): CgroupDriver {
  const scopes = new WeakMap<StartContext, Map<string, string>>();
  const inner = cgroupfsDriver({ pattern: options.pattern, use: options.use, fresh: options.fresh, base: (ctx) => scopes.get(ctx)! });
  return {
    name: 'systemd',

    async prepare(ctx) {
      const name = ctx.container.name;
      if (!options.address && !systemdBooted()) {
        throw new LxkitError('LXKIT_UNSUPPORTED', `container "${name}": the systemd cgroup driver needs systemd as PID 1 (/run/systemd/system is missing); use the cgroupfs driver`, {
          container: name,
        });
      }
      const manager = await SystemdManager.connect(options.address, process.getuid?.() !== 0);
      const monitorPid = await ctx.monitorPid();
      try {
        for (let attempt = 0; ; attempt++) {
          const unit = scopeUnit(name, attempt);
          try {
            await manager.startScope({ unit, description: `lxkit container ${name}`, pids: [monitorPid], slice: options.slice });
            ctx.log.debug(`cgroups: systemd scope ${unit}`);
            break;
          } catch (err) {
            if (err instanceof SystemdError && err.dbusName === UNIT_EXISTS && attempt < SCOPE_TRIES - 1) continue;
            throw new LxkitError('LXKIT_CGROUP_FAILED', `container "${name}": cannot make its systemd scope ${unit}: ${(err as Error).message}`, {
              cause: err,
              container: name,
            });
          }
        }
      } finally {
        manager.close();
      }
      scopes.set(ctx, parseProcCgroup(readFileSync(`/proc/${monitorPid}/cgroup`, 'utf8')));
      await inner.prepare(ctx);
    },

    cloning: (ctx) => inner.cloning!(ctx),
    placed: (ctx) => inner.placed(ctx),
    placedWork: (ctx) => inner.placedWork!(ctx),
    placement: (ctx) => inner.placement(ctx),
  };
}
