/**
 * A policy to a BPF program: the rules of each section go to the
 * architectures the host runs (on x86-64: x86_64, and the x86 and x32
 * compat ABIs for [all]; a section for an architecture the host does not
 * run is skipped, as LXC does), then the native compiler (libseccomp,
 * ../native) builds one program. Compiled programs are cached on disk and
 * in memory, keyed by everything they depend on (lxkit's and libseccomp's
 * versions, the architecture, the policy's text), so a repeated start does
 * not compile again.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir as lxkitCacheDir, LxkitError, VERSION } from '@lxkit/core';
import type { Action, ArgFilter, Policy, Rule, Section } from './policy.js';

interface Compiler {
  compile(spec: CompileSpec): { program: Buffer; skipped: string[] };
  version(): string;
}

interface CompileSpec {
  defaultAction: number;
  native: string;
  arches: { arch: string; rules: ({ name: string } | { nr: number } | object)[] }[];
}

/** libseccomp's action values (seccomp.h). */
export function actionValue(a: Action): number {
  switch (a.kind) {
    case 'kill':
      return 0x0000_0000;
    case 'trap':
      return 0x0003_0000;
    case 'errno':
      return (0x0005_0000 | (a.errno & 0xffff)) >>> 0;
    case 'notify':
      return 0x7fc0_0000;
    case 'allow':
      return 0x7fff_0000;
  }
}

const OP_VALUES = { ne: 1, lt: 2, le: 3, eq: 4, ge: 5, gt: 6, masked_eq: 7 } as const;

/** A comparison as libseccomp takes it: datum_a is the mask for masked_eq, the value otherwise. */
const cmp = (f: ArgFilter) =>
  f.op === 'masked_eq' ? { index: f.index, op: OP_VALUES.masked_eq, a: f.mask!, b: f.value } : { index: f.index, op: OP_VALUES[f.op], a: f.value, b: 0n };

/** LXC's section names to libseccomp's architecture names. */
const ARCH_OF: Record<Exclude<Section, 'all' | 'native'>, string> = {
  x86: 'x86', x32: 'x32', x86_64: 'x86_64', arm: 'arm', arm64: 'aarch64', ppc64le: 'ppc64le', ppc64: 'ppc64', ppc: 'ppc',
  mips64: 'mips64', mips64n32: 'mips64n32', mips: 'mips', mipsel64: 'mipsel64', mipsel64n32: 'mipsel64n32', mipsel: 'mipsel',
  s390x: 's390x', s390: 's390',
};

/** The architectures this host runs: the native one and its compat ABIs. */
export function hostArches(arch: string = process.arch): { native: string; compat: string[] } {
  switch (arch) {
    case 'x64':
      return { native: 'x86_64', compat: ['x86', 'x32'] };
    case 'arm64':
      return { native: 'aarch64', compat: ['arm'] };
    case 'ia32':
      return { native: 'x86', compat: [] };
    case 'arm':
      return { native: 'arm', compat: [] };
    case 'ppc64':
      return { native: 'ppc64le', compat: [] };
    case 's390x':
      return { native: 's390x', compat: ['s390'] };
    default:
      return { native: arch, compat: [] };
  }
}

function archesOf(section: Section, host: { native: string; compat: string[] }): string[] {
  if (section === 'all') return [host.native, ...host.compat];
  if (section === 'native') return [host.native];
  const a = ARCH_OF[section];
  return a === host.native || host.compat.includes(a) ? [a] : [];
}

/** umount2(target, flags) with MNT_FORCE in flags: EACCES (LXC's reject_force_umount). */
const MNT_FORCE = 1n;
const forceUmountRule = (): Rule => ({
  syscall: 'umount2',
  action: { kind: 'errno', errno: 13 },
  args: [{ index: 1, op: 'masked_eq', value: MNT_FORCE, mask: MNT_FORCE }],
  section: 'all',
  line: 0,
});

/** What the native compiler is given for `policy` on this host. */
export function compileSpec(policy: Policy, host = hostArches()): CompileSpec {
  const byArch = new Map<string, object[]>([[host.native, []], ...host.compat.map((a): [string, object[]] => [a, []])]);
  const rules = policy.rejectForceUmount ? [...policy.rules, forceUmountRule()] : policy.rules;
  for (const r of rules) {
    for (const arch of archesOf(r.section, host)) {
      byArch.get(arch)!.push({
        ...(typeof r.syscall === 'number' ? { nr: r.syscall } : { name: r.syscall }),
        action: actionValue(r.action),
        args: r.args.map(cmp),
      });
    }
  }
  // A v1 policy or a native-only one needs no compat filters: those ABIs are then killed as foreign.
  const arches = [...byArch].filter(([arch, list]) => arch === host.native || list.length > 0 || policy.version === 2).map(([arch, list]) => ({ arch, rules: list }));
  return { defaultAction: actionValue(policy.defaultAction), native: host.native, arches };
}

let compiler: Compiler | undefined;

/** The native compiler, or a clear error when this build has none. */
export function nativeCompiler(): Compiler {
  if (compiler) return compiler;
  const path = fileURLToPath(new URL('../native/build/Release/lxkit_seccomp.node', import.meta.url));
  try {
    compiler = createRequire(import.meta.url)(path) as Compiler;
  } catch (err) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `the seccomp compiler is not built (${path}); install libseccomp-dev and run npm run build`, { cause: err, path });
  }
  return compiler;
}

/** Where compiled programs are kept: root's under /var/cache, another user's under its cache directory. */
export const cacheDir = (): string => lxkitCacheDir('seccomp');

const memory = new Map<string, Buffer>();

/**
 * A name for a cache file: 64 bits of FNV-1a. Not a security boundary —
 * every entry holds its whole key and is used only when that matches
 * exactly — so node:crypto (~2.5 ms to load in a CLI start) is not needed.
 */
function fileName(key: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b + (a >>> 7)) >>> 0;
  }
  return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}.bpf`;
}

const MAGIC = 'lxkit-bpf 1\n';

/** An entry: MAGIC, the key's length and the key, then the program. */
function encodeEntry(key: string, program: Buffer): Buffer {
  const k = Buffer.from(key);
  const head = Buffer.from(`${MAGIC}${k.length}\n`);
  return Buffer.concat([head, k, program]);
}

/** The program of an entry whose key is exactly `key`; undefined for another key or a damaged file. */
function decodeEntry(data: Buffer, key: string): Buffer | undefined {
  if (data.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const nl = data.indexOf(10, MAGIC.length);
  const len = Number(data.toString('latin1', MAGIC.length, nl));
  if (nl < 0 || !Number.isInteger(len)) return undefined;
  const start = nl + 1;
  if (data.length < start + len || data.toString('utf8', start, start + len) !== key) return undefined;
  const program = data.subarray(start + len);
  // A BPF program is a whole number of 8-byte instructions.
  return program.length > 0 && program.length % 8 === 0 ? program : undefined;
}

export interface Compiled {
  readonly program: Buffer;
  /** "arch:name" of rules whose syscall the architecture does not have. */
  readonly skipped: readonly string[];
  readonly cached: 'memory' | 'disk' | false;
}

/**
 * The program for `policy` (read from `text`), from the cache when the same
 * text was compiled before with the same libseccomp on this architecture.
 */
export function compilePolicy(policy: Policy, text: string, opts: { cache?: boolean } = {}): Compiled {
  const c = nativeCompiler();
  const host = hostArches();
  const key = `lxkit ${VERSION}\nlibseccomp ${c.version()}\n${host.native}\n${text}`;
  // cache: false compiles afresh (and keeps nothing): what a first start pays.
  const hit = opts.cache === false ? undefined : memory.get(key);
  if (hit) return { program: hit, skipped: [], cached: 'memory' };
  const file = join(cacheDir(), fileName(key));
  if (opts.cache !== false) {
    let program: Buffer | undefined;
    try {
      program = decodeEntry(readFileSync(file), key);
    } catch {
      // not compiled yet
    }
    if (program) {
      memory.set(key, program);
      return { program, skipped: [], cached: 'disk' };
    }
  }
  let out: { program: Buffer; skipped: string[] };
  try {
    out = c.compile(compileSpec(policy, host));
  } catch (err) {
    throw new LxkitError('LXKIT_SECCOMP_FAILED', `${policy.file}: cannot compile the seccomp policy: ${(err as Error).message}`, { cause: err, path: policy.file });
  }
  if (opts.cache !== false) {
    memory.set(key, out.program);
    try {
      mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, encodeEntry(key, out.program), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written only costs a compile next time.
    }
  }
  return { program: out.program, skipped: out.skipped, cached: false };
}
