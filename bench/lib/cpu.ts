/**
 * Where the CPU time of a stretch of a benchmark went, machine-wide and in
 * this Node process: with back-to-back starts, the sum over all CPUs divided
 * by their number is a floor that no reordering of the work can get under.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface CpuSnapshot {
  /** /proc/stat's first line: user nice system idle iowait irq softirq steal, in clock ticks. */
  readonly machine: readonly number[];
  /** This process's main thread and its other threads (V8's compiler and GC, libuv's pool), in clock ticks. */
  readonly main: number;
  readonly threads: number;
}

export interface CpuUse {
  /** Busy CPU time of the whole machine (every process and the kernel's workers), ms per unit. */
  readonly busy: number;
  readonly main: number;
  readonly threads: number;
  /** Everything else: the helpers, the containers' processes, the kernel's threads. */
  readonly others: number;
  /** Share of the CPUs' time that was idle, and that the hypervisor took (steal). */
  readonly idleShare: number;
  readonly stealShare: number;
  /** busy / number of CPUs: the least wall time per unit on this machine. */
  readonly floor: number;
  readonly cpus: number;
}

let tick: number | undefined;
const tickMs = (): number => (tick ??= 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));

/** utime + stime of /proc/self/task/<tid>/stat (fields 14 and 15; the name before them may hold spaces). */
function threadTicks(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function cpuSnapshot(): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const machine = line.trim().split(/\s+/).slice(1, 9).map(Number);
  let main = 0;
  let threads = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (Number(tid) === process.pid) main = threadTicks(tid);
      else threads += threadTicks(tid);
    } catch {
      // A thread that ended in between.
    }
  }
  return { machine, main, threads };
}

/** The CPU time between two snapshots, per unit of work (`units`: how many executes ran in between). */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, units: number): CpuUse {
  const d = b.machine.map((v, i) => v - a.machine[i]!);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = d as [number, number, number, number, number, number, number, number];
  const busyTicks = user + nice + system + irq + softirq;
  const all = busyTicks + idle + iowait + steal;
  const per = (ticks: number) => (ticks * tickMs()) / units;
  const busy = per(busyTicks);
  const main = per(b.main - a.main);
  const threads = per(b.threads - a.threads);
  const n = cpus().length;
  return {
    busy,
    main,
    threads,
    others: Math.max(0, busy - main - threads),
    idleShare: all > 0 ? (idle + iowait) / all : 0,
    stealShare: all > 0 ? steal / all : 0,
    floor: busy / n,
    cpus: n,
  };
}
