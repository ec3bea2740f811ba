/**
 * What lxc-top shows of a container, read from its cgroups: CPU time (and
 * its user and system parts), block I/O, memory, memory+swap and kernel
 * memory. A v1 controller's files where that hierarchy has them, else the
 * unified hierarchy's; 0 where no cgroup tells (as lxc-top shows it).
 */
import { cgroupFileText as text, cgroupNumber as int } from '../cgroup/files.js';
import type { CgroupDirs } from '../command/client.js';

export interface TopStats {
  /** CPU time, in nanoseconds. */
  readonly cpuNs: number;
  /** CPU time in user mode and in the kernel, in USER_HZ ticks (cpuacct.stat's unit). */
  readonly cpuUserTicks: number;
  readonly cpuSysTicks: number;
  /** Bytes read and written on block devices, and both. */
  readonly ioReadBytes: number;
  readonly ioWriteBytes: number;
  readonly ioBytes: number;
  /** Block I/O operations. */
  readonly ioOps: number;
  readonly memoryBytes: number;
  /** v1: memory+swap (memory.memsw); the unified hierarchy: swap alone (memory.swap.current), as lxc-top reads them. */
  readonly memswBytes: number;
  /** v1: memory.kmem; the unified hierarchy: memory.stat's kernel. */
  readonly kmemBytes: number;
}

/**
 * The kernel reports cpuacct.stat in USER_HZ, which is 100 on every
 * architecture Node runs on (sysconf(_SC_CLK_TCK)); cpu.stat is in µs.
 */
export const USER_HZ = 100;

/** The value of `key` in a "key value" per line file (cpuacct.stat, cpu.stat, memory.stat). */
const field = (s: string | undefined, key: string): number | undefined => int(s === undefined ? undefined : new RegExp(`^${key} ([0-9]+)$`, 'm').exec(s)?.[1]);

/** v1 blkio ("MAJ:MIN Read N", "MAJ:MIN Write N", … "Total N"). */
function blkio(s: string): { read: number; write: number; total: number } {
  let read = 0;
  let write = 0;
  let total: number | undefined;
  for (const line of s.split('\n')) {
    const [a, b, c] = line.trim().split(/\s+/);
    if (a === 'Total') total = Number(b);
    else if (b === 'Read') read += Number(c);
    else if (b === 'Write') write += Number(c);
  }
  return { read, write, total: total ?? read + write };
}

/** v2 io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N wios=N …"), summed over devices. */
function ioStat(s: string, keys: readonly string[]): number {
  let n = 0;
  for (const k of keys) for (const m of s.matchAll(new RegExp(`\\b${k}=([0-9]+)`, 'g'))) n += Number(m[1]);
  return n;
}

export function topStats(dirs: readonly CgroupDirs[]): TopStats {
  const v1 = (c: string) => dirs.find((d) => d.version === 1 && d.controllers.includes(c))?.limit;
  const unified = dirs.find((d) => d.version === 2)?.limit;

  const cpuacct = v1('cpuacct');
  const usage = int(text(cpuacct, 'cpuacct.usage'));
  let cpu: Pick<TopStats, 'cpuNs' | 'cpuUserTicks' | 'cpuSysTicks'>;
  if (usage !== undefined) {
    const stat = text(cpuacct, 'cpuacct.stat');
    cpu = { cpuNs: usage, cpuUserTicks: field(stat, 'user') ?? 0, cpuSysTicks: field(stat, 'system') ?? 0 };
  } else {
    const stat = text(unified, 'cpu.stat');
    const ticks = (usec: number | undefined) => Math.floor(((usec ?? 0) * USER_HZ) / 1e6);
    cpu = { cpuNs: (field(stat, 'usage_usec') ?? 0) * 1000, cpuUserTicks: ticks(field(stat, 'user_usec')), cpuSysTicks: ticks(field(stat, 'system_usec')) };
  }

  let io: Pick<TopStats, 'ioReadBytes' | 'ioWriteBytes' | 'ioBytes' | 'ioOps'> = { ioReadBytes: 0, ioWriteBytes: 0, ioBytes: 0, ioOps: 0 };
  const bytes = text(v1('blkio'), 'blkio.throttle.io_service_bytes');
  if (bytes !== undefined) {
    const b = blkio(bytes);
    const ops = text(v1('blkio'), 'blkio.throttle.io_serviced');
    io = { ioReadBytes: b.read, ioWriteBytes: b.write, ioBytes: b.total, ioOps: ops === undefined ? 0 : blkio(ops).total };
  } else {
    const stat = text(unified, 'io.stat');
    if (stat !== undefined) {
      const read = ioStat(stat, ['rbytes']);
      const write = ioStat(stat, ['wbytes']);
      io = { ioReadBytes: read, ioWriteBytes: write, ioBytes: read + write, ioOps: ioStat(stat, ['rios', 'wios']) };
    }
  }

  const memory = v1('memory');
  const used = int(text(memory, 'memory.usage_in_bytes'));
  const mem: Pick<TopStats, 'memoryBytes' | 'memswBytes' | 'kmemBytes'> =
    used !== undefined
      ? { memoryBytes: used, memswBytes: int(text(memory, 'memory.memsw.usage_in_bytes')) ?? 0, kmemBytes: int(text(memory, 'memory.kmem.usage_in_bytes')) ?? 0 }
      : {
          memoryBytes: int(text(unified, 'memory.current')) ?? 0,
          memswBytes: int(text(unified, 'memory.swap.current')) ?? 0,
          kmemBytes: field(text(unified, 'memory.stat'), 'kernel') ?? 0,
        };
  return { ...cpu, ...io, ...mem };
}
