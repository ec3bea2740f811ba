/**
 * lxc-top's two outputs: the screen (a header, a line per container, a
 * TOTAL line, with lxc-top's columns and units) and batch mode's CSV lines.
 */
import pc from 'picocolors';
import { USER_HZ, type TopStats } from './stats.js';

export interface TopRow {
  readonly name: string;
  readonly stats: TopStats;
}

/** lxc-top's sort keys: name, CPU, block I/O, memory, memory+swap, kernel memory. */
export const SORT_KEYS = ['n', 'c', 'b', 'm', 's', 'k'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const isSortKey = (k: string): k is SortKey => (SORT_KEYS as readonly string[]).includes(k);

const measure: Record<Exclude<SortKey, 'n'>, (s: TopStats) => number> = {
  c: (s) => s.cpuNs,
  b: (s) => s.ioBytes,
  m: (s) => s.memoryBytes,
  s: (s) => s.memswBytes,
  k: (s) => s.kmemBytes,
};

const byName = (a: TopRow, b: TopRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Names A to Z; the numbers largest first, as top shows them. `reverse` turns either round. */
export function sortRows(rows: readonly TopRow[], key: SortKey, reverse: boolean): TopRow[] {
  const sign = reverse ? -1 : 1;
  if (key === 'n') return [...rows].sort((a, b) => sign * byName(a, b));
  const m = measure[key];
  return [...rows].sort((a, b) => sign * (m(b.stats) - m(a.stats)) || byName(a, b));
}

export function totalOf(rows: readonly TopRow[]): TopStats {
  const keys: (keyof TopStats)[] = ['cpuNs', 'cpuUserTicks', 'cpuSysTicks', 'ioReadBytes', 'ioWriteBytes', 'ioBytes', 'ioOps', 'memoryBytes', 'memswBytes', 'kmemBytes'];
  return Object.fromEntries(keys.map((k) => [k, rows.reduce((n, r) => n + r.stats[k], 0)])) as unknown as TopStats;
}

const two = (n: number) => String(n).padStart(2, '0');

/** lxc-top's units: two decimals of KiB, MiB or GiB above each (rounded as lxc-top rounds), bytes below. */
export function humanSize(n: number): string {
  if (n > 2 ** 30) return `${Math.floor(n / 2 ** 30)}.${two(Math.floor((n % 2 ** 30) / 10737419))} GiB`;
  for (const [shift, unit, round] of [
    [20, 'MiB', 5243],
    [10, 'KiB', 5],
  ] as const) {
    if (n > 2 ** shift) {
      const x = n + round;
      return `${Math.floor(x / 2 ** shift)}.${two(Math.floor(((x % 2 ** shift) * 100) / 2 ** shift))} ${unit}`;
    }
  }
  return `${String(n).padStart(3)}.00   `;
}

const num = (n: number) => n.toFixed(2).padStart(12);

function line(name: string, s: TopStats, total: TopStats): string {
  const io = `${humanSize(s.ioBytes)}(${humanSize(s.ioReadBytes)}/${humanSize(s.ioWriteBytes)})`;
  let out = `${name.slice(0, 18).padEnd(18)} ${num(s.cpuNs / 1e9)} ${num(s.cpuSysTicks / USER_HZ)} ${num(s.cpuUserTicks / USER_HZ)} ${io.padStart(36)} ${humanSize(s.memoryBytes).padStart(10)}`;
  if (total.memswBytes > 0) out += ` ${humanSize(s.memswBytes).padStart(10)}`;
  if (total.kmemBytes > 0) out += ` ${humanSize(s.kmemBytes).padStart(10)}`;
  return out;
}

function header(total: TopStats): string {
  const cols = (name: string, cpu: readonly string[], io: string, mem: string, extra: string) =>
    `${name.padEnd(18)} ${cpu.map((c) => c.padStart(12)).join(' ')} ${io.padStart(36)} ${mem.padStart(10)}` +
    (total.memswBytes > 0 ? ` ${(extra || 'MemSw').padStart(10)}` : '') +
    (total.kmemBytes > 0 ? ` ${(extra || 'KMem').padStart(10)}` : '');
  return [cols('Container', ['CPU', 'CPU', 'CPU'], 'BlkIO', 'Mem', ''), cols('Name', ['Used', 'Sys', 'User'], 'Total(Read/Write)', 'Used', 'Used')]
    .map((l) => pc.inverse(pc.bold(l)))
    .join('\n');
}

/** The screen: header, at most `room` containers, and the TOTAL line (which counts those shown of all). */
export function screen(rows: readonly TopRow[], room: number): string {
  const total = totalOf(rows);
  const shown = rows.slice(0, Math.max(0, room));
  return [header(total), ...shown.map((r) => line(r.name, r.stats, total)), line(`TOTAL ${shown.length} of ${rows.length}`, total, total)].join('\n');
}

export const CSV_HEADER = 'time_ms,container,cpu_nanos,cpu_sys_userhz,cpu_user_userhz,blkio_bytes,blkio_iops,mem_used_bytes,memsw_used_bytes,kernel_mem_used_bytes';

export function csvLine(row: TopRow, timeMs: number): string {
  const s = row.stats;
  return [timeMs, row.name, s.cpuNs, s.cpuSysTicks, s.cpuUserTicks, s.ioBytes, s.ioOps, s.memoryBytes, s.memswBytes, s.kmemBytes].join(',');
}
