/**
 * Value parsers shared by every owner of config keys. Each returns the parsed
 * value or throws ConfigValueError with a reason a user can act on; the
 * caller adds file, line and key.
 */
import { constants as osConstants } from 'node:os';

export class ConfigValueError extends Error {
  override get name(): string {
    return 'ConfigValueError';
  }
}

export function invalid(reason: string): never {
  throw new ConfigValueError(reason);
}

const UINT = /^[0-9]+$/;
const INT = /^-?[0-9]+$/;

/** A non-negative decimal integer, as LXC's lxc_safe_uint. */
export function parseUint(value: string, what = 'a non-negative integer', max = 0xffffffff): number {
  if (!UINT.test(value)) invalid(`expected ${what}, got "${value}"`);
  const n = Number(value);
  if (n > max) invalid(`expected ${what} of at most ${max}, got ${value}`);
  return n;
}

export function parseInt32(value: string, what = 'an integer'): number {
  if (!INT.test(value)) invalid(`expected ${what}, got "${value}"`);
  const n = Number(value);
  if (n < -0x80000000 || n > 0x7fffffff) invalid(`${value} is out of range`);
  return n;
}

/** LXC's boolean keys take exactly 0 or 1. */
export function parseBool01(value: string): boolean {
  if (value === '0') return false;
  if (value === '1') return true;
  return invalid(`expected 0 or 1, got "${value}"`);
}

export function parseNonEmpty(value: string, what = 'a value'): string {
  if (value === '') invalid(`expected ${what}`);
  return value;
}

/** Linux's limit on interface names (IFNAMSIZ - 1). */
export const IFNAMSIZ_MAX = 15;

export function parseIfname(value: string): string {
  if (value.length > IFNAMSIZ_MAX) invalid(`interface name "${value}" is longer than ${IFNAMSIZ_MAX} characters`);
  if (/[\s/]/.test(value) || value === '.' || value === '..') invalid(`"${value}" is not a valid interface name`);
  return value;
}

/** Real-time signal range as glibc exposes it (the kernel's 32 and 33 are libc-internal). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/**
 * A signal as LXC's sig_parse accepts it: a number, or a name with the SIG
 * prefix (any case), including SIGRTMIN+n and SIGRTMAX-n.
 */
export function parseSignal(value: string): number {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (n < 1 || n > SIGRTMAX) invalid(`signal number ${value} is out of range 1-${SIGRTMAX}`);
    return n;
  }
  const upper = value.toUpperCase();
  if (!upper.startsWith('SIG')) invalid(`"${value}" is not a signal; use a name like SIGPWR or a number`);
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(upper);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]);
    const n = rt[2] === '-' ? base - off : base + off;
    if ((rt[1] === 'MIN' && rt[2] === '-') || (rt[1] === 'MAX' && rt[2] === '+') || n < SIGRTMIN || n > SIGRTMAX) {
      invalid(`"${value}" is outside SIGRTMIN..SIGRTMAX`);
    }
    return n;
  }
  const n = (osConstants.signals as Record<string, number>)[upper];
  if (n === undefined) invalid(`unknown signal "${value}"`);
  return n;
}

/** The name of a signal number, for messages and for `lxkit config` output. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === n) return name;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}

/**
 * A byte size as LXC's parse_byte_size_string: a number with an optional
 * B, kB/KB, MB, GB suffix (powers of 1024).
 */
export function parseByteSize(value: string): number {
  const m = /^([0-9]+)\s*([kKmMgG]?[bB]?)$/.exec(value);
  if (!m) invalid(`expected a size like 4096, 64kB or 1MB, got "${value}"`);
  const unit = m[2]!.toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARN', 'ERROR', 'CRIT', 'ALERT', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log level as LXC takes it: 0-8 or a name (any case; WARNING is WARN). */
export function parseLogLevel(value: string): LogLevel {
  if (/^[0-8]$/.test(value)) return LOG_LEVELS[Number(value)]!;
  const upper = value.toUpperCase();
  const name = upper === 'WARNING' ? 'WARN' : upper;
  if ((LOG_LEVELS as readonly string[]).includes(name)) return name as LogLevel;
  return invalid(`unknown log level "${value}"; use one of ${LOG_LEVELS.join(' ')} or 0-8`);
}

/** syslog facilities LXC accepts for lxc.log.syslog. */
export const SYSLOG_FACILITIES = [
  'daemon', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

export function parseSyslogFacility(value: string): string {
  if (!(SYSLOG_FACILITIES as readonly string[]).includes(value)) {
    invalid(`unknown syslog facility "${value}"; use one of ${SYSLOG_FACILITIES.join(' ')}`);
  }
  return value;
}

/** Splits a value on blanks, as LXC does for lists such as lxc.cap.drop. */
export function splitWords(value: string): string[] {
  return value.split(/[ \t]+/).filter((w) => w !== '');
}

export function parseIPv4(value: string): string {
  const parts = value.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) {
    invalid(`"${value}" is not an IPv4 address`);
  }
  return value;
}

export function parseIPv6(value: string): string {
  // Structural check; the kernel is the final judge when the address is set.
  if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(':') || (value.match(/::/g) ?? []).length > 1) {
    invalid(`"${value}" is not an IPv6 address`);
  }
  const groups = value.split(':');
  if (groups.length > 8 || groups.some((g) => g.length > 4 && !g.includes('.'))) invalid(`"${value}" is not an IPv6 address`);
  return value;
}

export interface Cidr {
  address: string;
  /** Absent when the value had none; LXC then derives it from the address class. */
  prefix?: number;
}

export function parseCidr(value: string, family: 4 | 6, { prefixRequired = false } = {}): Cidr {
  const [addr, prefixText, ...rest] = value.split('/');
  if (rest.length > 0) invalid(`"${value}" is not an address/prefix`);
  const address = family === 4 ? parseIPv4(addr!) : parseIPv6(addr!);
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefixText === undefined) {
    if (prefixRequired) invalid(`"${value}" needs a /prefix`);
    return { address };
  }
  const prefix = parseUint(prefixText, 'a prefix length', maxPrefix);
  return { address, prefix };
}
