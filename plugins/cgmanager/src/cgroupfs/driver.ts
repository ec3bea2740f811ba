/**
 * The cgroupfs driver: the container's cgroups made directly in every
 * mounted hierarchy (v1, hybrid or unified), as LXC's cgfsng does.
 *
 * pre-start: the name of the container's cgroup (`lxc.payload.NAME`, or -1,
 * -2... when that name is taken by a cgroup in use in some hierarchy), and
 * the cgroup itself in the unified hierarchy, handed to the monitor at once
 * so that whatever happens next it is removed with the container; the first
 * process is cloned into it (CLONE_INTO_CGROUP). A v1 hierarchy has no such
 * clone: its cgroups are made while the monitor clones (the `cloning` hook;
 * the kernel work of both overlaps) and handed over, the monitor moves the
 * first process into them before its first batch, and only then does it make
 * its cgroup namespace (its first op), as LXC does — rooted in its own
 * cgroup in every hierarchy. Limits and device
 * rules are applied, and the cgroups given to the container's root when it
 * has a user namespace, before any op of the container runs. The monitor's
 * own cgroups (`lxc.monitor.NAME`) are the monitor's to make and enter once
 * the container runs: nothing a start waits for.
 *
 * With a `base` (the systemd driver's scope) the monitor's cgroups are made
 * here first instead: on the unified hierarchy the monitor must leave the
 * scope's cgroup before that can have children with controllers.
 */
import { accessSync, chownSync, constants, readFileSync } from 'node:fs';
import { LxkitError, readCgroupLayout, type CgroupDriver, type CgroupHierarchy, type CgroupLayout, type StartContext } from '@lxkit/core';
import type { CgroupModel } from '../keys.js';
import { applyLimits } from '../limits.js';
import { cgroupNames, joinCgroup, parseProcCgroup, pathIn, pruneInitScope, withSuffix, type CgroupNames } from '../placement.js';
import { enterCgroup, makeCgroup, removeCgroupTree } from './tree.js';

export interface CgroupfsOptions {
  /** The toolkit's cgroup pattern (lxc.cgroup.pattern; %n: the container's name). */
  readonly pattern?: string | undefined;
  /** lxc.cgroup.use: the v1 controllers to use (comma-separated; `@all` or unset: all). */
  readonly use?: string | undefined;
  /** Read the layout again at each start instead of once per process (tests that change mounts). */
  readonly fresh?: boolean | undefined;
  /**
   * Where the cgroups go instead of LXC's base (a parsed /proc/PID/cgroup,
   * relative to nothing): the systemd driver's scope. The monitor is in it,
   * so on the unified hierarchy the monitor first moves to its own cgroup —
   * a cgroup with a process cannot give controllers to its children.
   */
  readonly base?: (ctx: StartContext) => Map<string, string>;
}

/** One hierarchy as this start uses it. */
interface Placed {
  readonly h: CgroupHierarchy;
  /** The base cgroup's directory (below the mount point). */
  readonly base: string;
  /** The monitor's cgroup before it moved, where it returns before removing its own. */
  readonly back: string;
  limit: string;
  init: string;
  monitor: string;
}

const SUFFIX_TRIES = 1000;

const hasCpuset = (h: CgroupHierarchy) => h.version === 1 && h.controllers.includes('cpuset');

let layoutOnce: Promise<CgroupLayout> | undefined;

function usable(h: CgroupHierarchy, use: string | undefined): boolean {
  if (h.version === 2 || !use || use === '@all' || use === '@kernel') return true;
  const wanted = new Set(use.split(',').map((s) => s.trim()));
  return h.controllers.some((c) => wanted.has(c));
}

const cgroupError = (container: string, message: string, err?: unknown) => {
  const e = err as NodeJS.ErrnoException | undefined;
  return new LxkitError('LXKIT_CGROUP_FAILED', `container "${container}": ${message}${e?.code ? ` (${e.code})` : ''}`, {
    container,
    ...(e ? { cause: e, ...(e.errno !== undefined ? { errno: e.errno } : {}), ...(e.syscall ? { syscall: e.syscall } : {}), ...(e.path ? { path: e.path } : {}) } : {}),
  });
};

/**
 * Makes `rel` (with the same -N suffix) in every hierarchy; a clash with a
 * cgroup left by a container that ended without cleaning up (no task in it)
 * removes that one first. Returns the directories, or throws.
 */
function makeEverywhere(placed: Placed[], rel: string, retry: boolean, container: string, what: string): string[] {
  for (let attempt = 0; attempt < (retry ? SUFFIX_TRIES : 1); attempt++) {
    const name = withSuffix(rel, attempt);
    const made: string[] = [];
    let clash = false;
    for (const p of placed) {
      const cpuset = hasCpuset(p.h);
      const dir = joinCgroup(p.base, name);
      let r = makeCgroup(p.base, name, p.h.version, cpuset);
      // Ours from an earlier run that was killed: removable because nothing runs in it.
      if (r === 'exists' && removeCgroupTree(dir)) r = makeCgroup(p.base, name, p.h.version, cpuset);
      if (r === 'exists') {
        clash = true;
        break;
      }
      made.push(dir);
    }
    if (!clash) return made;
    for (const dir of made) removeCgroupTree(dir);
  }
  throw cgroupError(container, `the ${what} cgroup ${rel} is in use${retry ? ` (and so are ${rel}-1 to -${SUFFIX_TRIES - 1})` : ''}`);
}

/**
 * The name (`rel`, or with the first free -N suffix) free in every
 * hierarchy, an empty leftover of a killed run removed on the way; the
 * cgroups are made later, hierarchy by hierarchy.
 */
function chooseName(placed: Placed[], rel: string, retry: boolean, container: string): string {
  for (let attempt = 0; attempt < (retry ? SUFFIX_TRIES : 1); attempt++) {
    const name = withSuffix(rel, attempt);
    // removeCgroupTree: true when there is none (any more), false when one is in use.
    if (placed.every((p) => removeCgroupTree(joinCgroup(p.base, name)))) return name;
  }
  throw cgroupError(container, `the container cgroup ${rel} is in use${retry ? ` (and so are ${rel}-1 to -${SUFFIX_TRIES - 1})` : ''}`);
}

/** The container's cgroup `name` (and the init's below it, with `inner`) in the hierarchies of `which`. */
function makePayload(which: Placed[], name: string, inner: string | undefined, container: string, made: string[]): void {
  for (const p of which) {
    const dir = joinCgroup(p.base, name);
    if (makeCgroup(p.base, name, p.h.version, hasCpuset(p.h)) === 'exists') {
      throw cgroupError(container, `the container cgroup ${dir} was made by someone else meanwhile`);
    }
    made.push(dir);
    p.limit = p.init = dir;
    if (inner) {
      makeCgroup(dir, inner, p.h.version, hasCpuset(p.h));
      p.init = joinCgroup(dir, inner);
    }
  }
}

const payloadOf = (p: Placed) => ({ version: p.h.version, controllers: p.h.controllers, limit: p.limit, init: p.init });

/** The container's root as the host sees it (lxc.idmap), for the cgroup it may manage itself. */
function hostRoot(ctx: StartContext): { uid: number; gid: number } | undefined {
  if (!ctx.userns) return undefined;
  const find = (type: 'u' | 'g') => ctx.container.config.model.idmap.find((m) => m.type === type && m.nsid === 0)?.hostid;
  const uid = find('u');
  const gid = find('g');
  return uid !== undefined && gid !== undefined ? { uid, gid } : undefined;
}

function delegateTo(dir: string, version: 1 | 2, owner: { uid: number; gid: number }): void {
  const files = version === 2 ? ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'] : ['cgroup.procs', 'tasks', 'cgroup.clone_children'];
  chownSync(dir, owner.uid, owner.gid);
  for (const f of files) {
    try {
      chownSync(`${dir}/${f}`, owner.uid, owner.gid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function cgroupfsDriver(options: CgroupfsOptions = {}): CgroupDriver {
  /** Every cgroup made: the container's root gets them (user namespace), limits and device rules go in. */
  const finish = (ctx: StartContext) => {
    const s = started.get(ctx)!;
    const name = ctx.container.name;
    ctx.log.debug(`cgroups: ${s.placed.map((p) => p.limit).join(', ')}`);
    const owner = hostRoot(ctx);
    if (owner && s.root) {
      try {
        for (const p of s.placed) delegateTo(p.init, p.h.version, owner);
      } catch (err) {
        throw cgroupError(name, `cannot give its cgroups to its root (uid ${owner.uid})`, err);
      }
    }
    applyLimits(s.model, s.placed.map((p) => ({ version: p.h.version, controllers: p.h.controllers, limit: p.limit })), name, {
      root: s.root,
      warn: (m) => ctx.log.warn(m),
    });
  };
  /** Per start: every hierarchy, and those whose cgroups are made while the monitor clones (v1). */
  const started = new WeakMap<StartContext, { placed: Placed[]; later: Placed[]; name: string; model: CgroupModel | undefined; root: boolean }>();
  return {
    name: 'cgroupfs',

    async prepare(ctx) {
      const name = ctx.container.name;
      const model: CgroupModel | undefined = ctx.container.config.model.cgroup;
      const layout = await (options.fresh ? readCgroupLayout() : (layoutOnce ??= readCgroupLayout()));
      if (layout.kind === 'none') {
        if (model && (model.v1.length > 0 || model.v2.length > 0)) throw cgroupError(name, 'this host has no cgroup hierarchy mounted, and the config sets cgroup limits');
        ctx.log.debug('no cgroup hierarchy is mounted: the container runs without cgroups');
        return;
      }
      const root = process.getuid?.() === 0;
      const given = options.base?.(ctx);
      // As LXC: root escapes to PID 1's cgroups unless lxc.cgroup.relative; other users stay below their own.
      const relative = given !== undefined || !root || model?.relative === true;
      const self = given ?? parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
      const baseOf = relative ? self : parseProcCgroup(readFileSync('/proc/1/cgroup', 'utf8'));
      const names: CgroupNames = cgroupNames(name, model, options.pattern);
      const placed: Placed[] = [];
      for (const h of layout.hierarchies) {
        if (!usable(h, options.use)) continue;
        const basePath = pathIn(baseOf, h);
        const selfPath = pathIn(self, h);
        if (basePath === undefined || selfPath === undefined) continue;
        const base = joinCgroup(h.mountpoint, relative ? basePath : pruneInitScope(basePath));
        if (!root && !writable(base)) {
          // As LXC for unprivileged callers: a hierarchy not delegated to the user is left out.
          ctx.log.debug(`cgroups: ${base} is not writable by this user; left out`);
          continue;
        }
        placed.push({
          h,
          base,
          back: joinCgroup(h.mountpoint, selfPath),
          limit: '',
          init: '',
          monitor: '',
        });
      }

      const made: string[] = [];
      // Only with a `base`: see the top of this file.
      const makeMonitors = () => {
        const monitors = makeEverywhere(placed, names.monitor, names.retry, name, 'monitor');
        made.push(...monitors);
        placed.forEach((p, i) => (p.monitor = monitors[i]!));
      };
      // The unified hierarchy's cgroup now (the clone goes into it), the v1 ones while the clone runs.
      const later = placed.filter((p) => p.h.version === 1);
      const now = placed.filter((p) => p.h.version === 2);
      let chosen: string;
      try {
        if (given) {
          makeMonitors();
          const monitorPid = await ctx.monitorPid();
          for (const p of placed) if (p.h.version === 2) enterCgroup(p.monitor, monitorPid);
        }
        chosen = chooseName(placed, names.container, names.retry, name);
        makePayload(now, chosen, names.inner, name, made);
        if (names.pivot) {
          for (const p of placed) {
            makeCgroup(p.base, names.pivot, p.h.version, hasCpuset(p.h));
            (p as { back: string }).back = joinCgroup(p.base, names.pivot);
          }
        }
      } catch (err) {
        // With `base` the monitor may already be in its own unified cgroup, which then stays: it goes
        // with the scope around it once the monitor has exited.
        for (const dir of made.reverse()) removeCgroupTree(dir);
        if (err instanceof LxkitError) throw err;
        throw cgroupError(name, `cannot make its cgroups: ${(err as Error).message}`, err);
      }
      // From here on the monitor removes them, whoever ends the container and however.
      ctx.handCgroups({
        payload: now.map(payloadOf),
        monitor: given ? placed.map((p) => ({ dir: p.monitor, back: p.back })) : [],
        ...(given
          ? {}
          : {
              monitorLater: {
                name: names.monitor,
                tries: names.retry ? SUFFIX_TRIES : 1,
                hierarchies: placed.map((p) => ({ version: p.h.version, cpuset: hasCpuset(p.h), base: p.base, back: p.back })),
              },
            }),
      });
      started.set(ctx, { placed, later, name: chosen, model, root });
      const unified = now[0];
      if (unified) ctx.cloneIntoCgroup = unified.init;
      if (later.length > 0) ctx.cgroupNamespaceAfterClone = true;
      else finish(ctx);
    },

    async cloning(ctx) {
      const s = started.get(ctx);
      if (!s || s.later.length === 0) return;
      const made: string[] = [];
      try {
        makePayload(s.later, s.name, cgroupNames(ctx.container.name, s.model, options.pattern).inner, ctx.container.name, made);
      } catch (err) {
        for (const dir of made.reverse()) removeCgroupTree(dir);
        if (err instanceof LxkitError) throw err;
        throw cgroupError(ctx.container.name, `cannot make its cgroups: ${(err as Error).message}`, err);
      }
      try {
        finish(ctx);
      } catch (err) {
        ctx.handCgroups({ payload: s.later.map(payloadOf), monitor: [] });
        throw err;
      }
      // The monitor moves the first process in as it takes these, before the first batch: nothing waits here.
      ctx.handCgroups({ payload: s.later.map(payloadOf), monitor: [], enterFirstProcess: s.later.map((p) => p.init) });
    },

    placement(ctx) {
      return started
        .get(ctx)
        ?.placed.map((p) => ({ version: p.h.version, controllers: p.h.controllers, mountpoint: p.h.mountpoint, limit: p.limit, init: p.init }));
    },

    placedWork(ctx) {
      return started.get(ctx) && options.base ? 'the monitor moves into its cgroups at start-host' : undefined;
    },

    async placed(ctx) {
      const s = started.get(ctx);
      // Without a `base` the monitor moves to its own cgroups by itself.
      if (!s || !options.base) return;
      const monitorPid = await ctx.monitorPid();
      for (const p of s.placed) {
        try {
          enterCgroup(p.monitor, monitorPid);
        } catch (err) {
          throw cgroupError(ctx.container.name, `cannot move the monitor to ${p.monitor}`, err);
        }
      }
    },
  };
}
