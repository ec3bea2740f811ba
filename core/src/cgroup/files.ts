/**
 * A running container's cgroup files, found through the directories its
 * monitor holds: lxkit cgroup (lxc-cgroup), getCgroupItem/setCgroupItem,
 * and the use figures of lxkit info -S and ls.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { CgroupDirs } from '../command/client.js';
import { LxkitError } from '../errors.js';

/** `controller.file`, as lxc-cgroup takes it: no path, no dot-dot. */
const KEY = /^[a-z0-9_]+\.[a-zA-Z0-9_.]+$/;

/**
 * The container's cgroup directory holding `key`: the v1 hierarchy of its
 * controller, else the unified one (cgroup.* files too).
 */
export function cgroupDirFor(dirs: readonly CgroupDirs[], key: string, container: string): string {
  if (!KEY.test(key) || key.includes('..')) {
    throw new LxkitError('LXKIT_USAGE', `"${key}" is not a cgroup file name (controller.file, e.g. memory.limit_in_bytes)`, { key, container });
  }
  const controller = key.slice(0, key.indexOf('.'));
  const v1 = dirs.find((d) => d.version === 1 && d.controllers.some((c) => c === controller));
  const unified = dirs.find((d) => d.version === 2);
  const dir = v1 ?? unified;
  if (!dir) {
    throw new LxkitError('LXKIT_CGROUP_FAILED', `container "${container}" has no cgroup with the "${controller}" controller`, { key, container });
  }
  return dir.limit;
}

function fileError(err: unknown, key: string, path: string, container: string, doing: string): LxkitError {
  const e = err as NodeJS.ErrnoException;
  // cgroupfs refuses to create files: writing a name that is not there fails with EACCES.
  const why = e.code === 'ENOENT' || !existsSync(path) ? 'no such cgroup file' : e.code;
  return new LxkitError('LXKIT_CGROUP_FAILED', `cannot ${doing} ${key} of container "${container}": ${why} (${path})`, {
    cause: err,
    key,
    container,
    path,
    ...(e.errno !== undefined ? { errno: e.errno } : {}),
    ...(e.syscall ? { syscall: e.syscall } : {}),
  });
}

export async function readCgroupItem(dirs: readonly CgroupDirs[], key: string, container: string): Promise<string> {
  const path = `${cgroupDirFor(dirs, key, container)}/${key}`;
  try {
    return (await readFile(path, 'utf8')).replace(/\n$/, '');
  } catch (err) {
    throw fileError(err, key, path, container, 'read');
  }
}

export async function writeCgroupItem(dirs: readonly CgroupDirs[], key: string, value: string, container: string): Promise<void> {
  const path = `${cgroupDirFor(dirs, key, container)}/${key}`;
  try {
    await writeFile(path, value);
  } catch (err) {
    throw fileError(err, key, path, container, 'set');
  }
}

/** What lxc-info -S shows, from whichever hierarchy has it; undefined where no cgroup tells. */
export interface CgroupUse {
  /** CPU time, in nanoseconds. */
  readonly cpuNs?: number;
  /** Bytes read and written on block devices. */
  readonly blkioBytes?: number;
  readonly memoryBytes?: number;
  /** v1 kernel memory. */
  readonly kmemBytes?: number;
  /** Memory plus swap (v1 memsw), or swap alone (v2 memory.swap.current) as swapBytes. */
  readonly memswBytes?: number;
  readonly swapBytes?: number;
  readonly pids?: number;
}

/** A cgroup file, read synchronously: cgroupfs answers from memory, and a CLI start of the thread pool costs more. */
export function cgroupFileText(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(`${dir}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A file's number (cpuacct.usage, memory.current…), undefined for no file or no number. */
export const cgroupNumber = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
};

/** Sum of a keyed stat's fields: v1 blkio ("MAJ:MIN Read N" … "Total N") or v2 io.stat ("MAJ:MIN rbytes=N wbytes=N …"). */
function ioBytes(v1: string | undefined, v2: string | undefined): number | undefined {
  if (v1 !== undefined) {
    const total = /^Total ([0-9]+)$/m.exec(v1);
    if (total) return Number(total[1]);
  }
  if (v2 !== undefined) {
    let n = 0;
    for (const m of v2.matchAll(/\b[rw]bytes=([0-9]+)/g)) n += Number(m[1]);
    return n;
  }
  return undefined;
}

export function cgroupUse(dirs: readonly CgroupDirs[]): CgroupUse {
  const v1 = (c: string) => dirs.find((d) => d.version === 1 && d.controllers.includes(c))?.limit;
  const unified = dirs.find((d) => d.version === 2)?.limit;
  // A v1 controller's file when that hierarchy has it, else the unified hierarchy's: a file that is
  // not there costs a thrown ENOENT.
  const cpuacct = cgroupFileText(v1('cpuacct'), 'cpuacct.usage');
  const cpuStat = cpuacct === undefined ? cgroupFileText(unified, 'cpu.stat') : undefined;
  const blkio = cgroupFileText(v1('blkio'), 'blkio.throttle.io_service_bytes');
  const ioStat = blkio === undefined ? cgroupFileText(unified, 'io.stat') : undefined;
  const memDir = v1('memory');
  const mem = cgroupFileText(memDir, 'memory.usage_in_bytes');
  const memCurrent = mem === undefined ? cgroupFileText(unified, 'memory.current') : undefined;
  const kmem = cgroupFileText(memDir, 'memory.kmem.usage_in_bytes');
  const memsw = cgroupFileText(memDir, 'memory.memsw.usage_in_bytes');
  const swap = memDir === undefined ? cgroupFileText(unified, 'memory.swap.current') : undefined;
  const pids = cgroupFileText(v1('pids'), 'pids.current');
  const pidsCurrent = pids === undefined ? cgroupFileText(unified, 'pids.current') : undefined;
  const usec = cpuStat ? /^usage_usec ([0-9]+)$/m.exec(cpuStat)?.[1] : undefined;
  const out: Record<string, number | undefined> = {
    cpuNs: cgroupNumber(cpuacct) ?? (usec !== undefined ? Number(usec) * 1000 : undefined),
    blkioBytes: ioBytes(blkio, ioStat),
    memoryBytes: cgroupNumber(mem) ?? cgroupNumber(memCurrent),
    kmemBytes: cgroupNumber(kmem),
    memswBytes: cgroupNumber(memsw),
    swapBytes: cgroupNumber(swap),
    pids: cgroupNumber(pids) ?? cgroupNumber(pidsCurrent),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as CgroupUse;
}
