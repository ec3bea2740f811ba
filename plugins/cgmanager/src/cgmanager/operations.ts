/**
 * What the cgmanager API's methods do, on top of cgroupfs (v1 hierarchies
 * and the unified one), for a caller known by uid and pid — the delegation
 * rules cgmanager enforced, so that an unprivileged user can be given a
 * subtree:
 *
 * - cgroup names are relative to the caller's own cgroup in that
 *   controller's hierarchy (…Abs methods: to the hierarchy's root) and may
 *   never leave it (`..` that escapes is refused);
 * - root may do anything there; another user may create below, write to,
 *   move processes into and remove only cgroups it owns, read within its
 *   subtree, move only its own processes, and chown only to itself;
 * - Chown gives a cgroup (the directory, cgroup.procs, tasks) but not its
 *   limit files: a user cannot raise the limits it was given. A cgroup a
 *   user creates is its own with every file in it, so it can set limits
 *   below its own (the kernel keeps them within the parent's).
 *
 * A controller argument is a controller (`memory`, `name=systemd`, a v2-only
 * one like `hugetlb`, or `unified` for the v2 hierarchy itself), or for
 * Create, Chown, Chmod, MovePid, Remove and RemoveOnEmpty a comma list or
 * `all`. Failures are CgmError with the D-Bus error name to reply with.
 */
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, rmdirSync, statSync, watch, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupHierarchy, CgroupLayout } from '@lxkit/core';
import { CGM_ERRORS } from './api.js';
import { parseProcCgroup, pathIn } from '../placement.js';

export class CgmError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Caller {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
}

const denied = (m: string) => new CgmError(CGM_ERRORS.denied, m);
const invalid = (m: string) => new CgmError(CGM_ERRORS.invalid, m);

export class CgroupOperations {
  readonly #layout: CgroupLayout;

  constructor(layout: CgroupLayout) {
    this.#layout = layout;
  }

  /** The hierarchy of one controller name. */
  #hierarchy(controller: string): CgroupHierarchy {
    const h =
      controller === 'unified'
        ? this.#layout.hierarchies.find((x) => x.version === 2)
        : (this.#layout.hierarchies.find((x) => x.version === 1 && x.controllers.includes(controller)) ??
          this.#layout.hierarchies.find((x) => x.version === 2 && x.controllers.includes(controller)));
    if (!h) throw invalid(`no cgroup hierarchy has the controller "${controller}"`);
    return h;
  }

  /** The hierarchies a controller argument names (comma list or `all`), once each. */
  #hierarchies(controllers: string): CgroupHierarchy[] {
    if (controllers === 'all') return [...this.#layout.hierarchies];
    const out: CgroupHierarchy[] = [];
    for (const c of controllers.split(',').map((s) => s.trim()).filter(Boolean)) {
      const h = this.#hierarchy(c);
      if (!out.includes(h)) out.push(h);
    }
    if (out.length === 0) throw invalid('no controller given');
    return out;
  }

  /** A process's cgroup in a hierarchy (as /proc/PID/cgroup says). */
  #cgroupOf(h: CgroupHierarchy, pid: number): string {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      throw new CgmError(CGM_ERRORS.notFound, `no process ${pid}`);
    }
    const p = pathIn(parseProcCgroup(text), h);
    if (p === undefined) throw new CgmError(CGM_ERRORS.notFound, `process ${pid} is in no cgroup of that hierarchy`);
    return p;
  }

  /**
   * The cgroupfs directory of `cgroup` for this caller: below the caller's own
   * cgroup (abs: below the hierarchy's root), never outside it.
   */
  #resolve(h: CgroupHierarchy, cgroup: string, caller: Caller, abs = false): { dir: string; rel: string } {
    if (cgroup.includes('\0')) throw invalid('a cgroup name cannot contain NUL');
    const base = abs ? '/' : this.#cgroupOf(h, caller.pid);
    const rel = posix.normalize(posix.join(base, cgroup));
    const inside = rel === base || rel.startsWith(base === '/' ? '/' : `${base}/`);
    if (!inside) throw denied(`cgroup "${cgroup}" is outside your delegation (${base} in the ${h.controllers.join(',') || 'unified'} hierarchy)`);
    return { dir: posix.join(h.mountpoint, rel), rel };
  }

  #owns(dir: string, caller: Caller): boolean {
    if (caller.uid === 0) return true;
    try {
      return statSync(dir).uid === caller.uid;
    } catch {
      return false;
    }
  }

  #mustOwn(dir: string, caller: Caller, what: string): void {
    if (!existsSync(dir)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup ${dir}`);
    if (!this.#owns(dir, caller)) throw denied(`${what}: ${dir} is not yours (uid ${caller.uid})`);
  }

  getPidCgroup(controller: string, pid: number, caller: Caller, abs: boolean): string {
    const h = this.#hierarchy(controller);
    const target = this.#cgroupOf(h, pid);
    if (abs) return target;
    const base = this.#cgroupOf(h, caller.pid);
    const rel = posix.relative(base, target);
    if (rel.startsWith('..')) throw denied(`process ${pid} is outside your delegation`);
    return rel === '' ? '/' : rel;
  }

  /** Returns 1 when it existed already. */
  create(controllers: string, cgroup: string, caller: Caller): number {
    let existed = 1;
    for (const h of this.#hierarchies(controllers)) {
      const { dir } = this.#resolve(h, cgroup, caller);
      if (existsSync(dir)) continue;
      existed = 0;
      // Parents are made as needed; each new one must be below one the caller may write.
      const missing: string[] = [];
      for (let d = dir; !existsSync(d); d = posix.dirname(d)) missing.unshift(d);
      const parent = posix.dirname(missing[0]!);
      if (!this.#owns(parent, caller)) throw denied(`cannot create ${cgroup}: ${parent} is not yours (uid ${caller.uid})`);
      for (const d of missing) {
        mkdirSync(d);
        if (h.version === 1 && h.controllers.includes('cpuset')) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(`${d}/${f}`, readFileSync(`${posix.dirname(d)}/${f}`, 'utf8').trim());
        }
        if (caller.uid !== 0) this.#chownTree(d, h, caller.uid, caller.gid, true);
      }
    }
    return existed;
  }

  /** The cgroup to uid:gid; `every` file in it, or those that let the owner use it (procs, tasks, subtree_control). */
  #chownTree(dir: string, h: CgroupHierarchy, uid: number, gid: number, every = false): void {
    chownSync(dir, uid, gid);
    const files = every ? readdirSync(dir) : h.version === 2 ? ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'] : ['cgroup.procs', 'tasks'];
    for (const f of files) if (existsSync(`${dir}/${f}`)) chownSync(`${dir}/${f}`, uid, gid);
  }

  chown(controllers: string, cgroup: string, uid: number, gid: number, caller: Caller): void {
    if (caller.uid !== 0 && uid !== caller.uid) throw denied(`only root may give a cgroup to another user (uid ${uid})`);
    for (const h of this.#hierarchies(controllers)) {
      const { dir } = this.#resolve(h, cgroup, caller);
      this.#mustOwn(dir, caller, 'chown');
      this.#chownTree(dir, h, uid, gid);
    }
  }

  chmod(controllers: string, cgroup: string, file: string, mode: number, caller: Caller): void {
    if (file.includes('/')) throw invalid(`"${file}" is not a file name`);
    for (const h of this.#hierarchies(controllers)) {
      const { dir } = this.#resolve(h, cgroup, caller);
      this.#mustOwn(dir, caller, 'chmod');
      chmodSync(file ? `${dir}/${file}` : dir, mode & 0o7777);
    }
  }

  movePid(controllers: string, cgroup: string, pid: number, caller: Caller, abs: boolean): void {
    if (caller.uid !== 0) {
      let owner: number;
      try {
        owner = statSync(`/proc/${pid}`).uid;
      } catch {
        throw new CgmError(CGM_ERRORS.notFound, `no process ${pid}`);
      }
      if (owner !== caller.uid) throw denied(`process ${pid} is not yours`);
    }
    for (const h of this.#hierarchies(controllers)) {
      const { dir } = this.#resolve(h, cgroup, caller, abs);
      if (!existsSync(dir)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup ${dir}`);
      if (caller.uid !== 0 && statSync(`${dir}/cgroup.procs`).uid !== caller.uid) throw denied(`cannot move into ${dir}: it is not yours`);
      writeFileSync(`${dir}/cgroup.procs`, String(pid));
    }
  }

  #file(controller: string, cgroup: string, key: string, caller: Caller): string {
    if (key.includes('/') || key.startsWith('.')) throw invalid(`"${key}" is not a cgroup file name`);
    const h = this.#hierarchy(controller);
    const { dir } = this.#resolve(h, cgroup, caller);
    const path = `${dir}/${key}`;
    if (!existsSync(path)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup file ${path}`);
    return path;
  }

  getValue(controller: string, cgroup: string, key: string, caller: Caller): string {
    return readFileSync(this.#file(controller, cgroup, key, caller), 'utf8');
  }

  setValue(controller: string, cgroup: string, key: string, value: string, caller: Caller): void {
    const path = this.#file(controller, cgroup, key, caller);
    if (caller.uid !== 0 && statSync(path).uid !== caller.uid) throw denied(`${path} is not yours to write`);
    writeFileSync(path, value);
  }

  /** Returns 1 when it existed. */
  remove(controllers: string, cgroup: string, recursive: boolean, caller: Caller): number {
    let existed = 0;
    for (const h of this.#hierarchies(controllers)) {
      const { dir, rel } = this.#resolve(h, cgroup, caller);
      if (rel === this.#cgroupOf(h, caller.pid)) throw denied('cannot remove your own cgroup');
      if (!existsSync(dir)) continue;
      existed = 1;
      this.#mustOwn(dir, caller, 'remove');
      const rm = (d: string) => {
        if (recursive) for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(`${d}/${e.name}`);
        rmdirSync(d);
      };
      rm(dir);
    }
    return existed;
  }

  getTasks(controller: string, cgroup: string, caller: Caller, recursive: boolean): number[] {
    const { dir } = this.#resolve(this.#hierarchy(controller), cgroup, caller);
    if (!existsSync(dir)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup ${dir}`);
    const out: number[] = [];
    const walk = (d: string) => {
      out.push(...readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number));
      if (recursive) for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
    };
    walk(dir);
    return out;
  }

  listChildren(controller: string, cgroup: string, caller: Caller): string[] {
    const { dir } = this.#resolve(this.#hierarchy(controller), cgroup, caller);
    if (!existsSync(dir)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup ${dir}`);
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  }

  /** v1: notify_on_release; v2: removed by this service once cgroup.events says unpopulated. */
  removeOnEmpty(controllers: string, cgroup: string, caller: Caller): void {
    for (const h of this.#hierarchies(controllers)) {
      const { dir } = this.#resolve(h, cgroup, caller);
      this.#mustOwn(dir, caller, 'remove-on-empty');
      if (h.version === 1) {
        writeFileSync(`${dir}/notify_on_release`, '1');
        continue;
      }
      const watcher = watch(`${dir}/cgroup.events`, () => {
        if (!/^populated 0$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8'))) return;
        watcher.close();
        try {
          rmdirSync(dir);
        } catch {
          // Gone, or not empty of child cgroups: left as it is.
        }
      });
      watcher.unref();
    }
  }

  /** Removes every empty cgroup below (and including, if empty and not the caller's own) `cgroup`. */
  prune(controller: string, cgroup: string, caller: Caller): void {
    const h = this.#hierarchy(controller);
    const { dir, rel } = this.#resolve(h, cgroup, caller);
    const own = this.#cgroupOf(h, caller.pid);
    const walk = (d: string, r: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`, `${r}/${e.name}`);
      if (r !== own && this.#owns(d, caller)) {
        try {
          rmdirSync(d);
        } catch {
          // In use.
        }
      }
    };
    if (existsSync(dir)) walk(dir, rel);
  }

  listControllers(): string[] {
    const out: string[] = [];
    for (const h of this.#layout.hierarchies) out.push(...(h.version === 1 ? h.controllers : ['unified', ...h.controllers]));
    return [...new Set(out)];
  }

  listKeys(controller: string, cgroup: string, caller: Caller): [string, number, number, number][] {
    const { dir } = this.#resolve(this.#hierarchy(controller), cgroup, caller);
    if (!existsSync(dir)) throw new CgmError(CGM_ERRORS.notFound, `no cgroup ${dir}`);
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const st = statSync(`${dir}/${e.name}`);
        return [e.name, st.uid, st.gid, st.mode & 0o7777] as [string, number, number, number];
      });
  }
}
