/**
 * A policy to a BPF program: the rules of each section go to the
 * architectures the host runs (on x86-64: x86_64, and the x86 and x32
 * compat ABIs for [all]; a section for an architecture the host does not
 * run is skipped, as LXC does), then the native compiler (libseccomp,
 * ../native) builds one program. Compiled programs are cached on disk and
 * in memory, keyed by everything they depend on (lxkit's version, the
 * architecture, the policy's text, the compiler addon and the libseccomp it
 * loaded), so a repeated start does not compile again.
 *
 * The compiler is told by its files rather than by asking it: loading the
 * addon and libseccomp (dlopen) is ~2 ms of a CLI start, which a start whose
 * program is cached no longer pays. An entry records the addon's and
 * libseccomp's paths with their identity (device, inode, size, mtime) and is
 * used only while both files are those: an upgraded libseccomp is a new file.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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

const addonPath = (): string => fileURLToPath(new URL('../native/build/Release/lxkit_seccomp.node', import.meta.url));

/** The native compiler, or a clear error when this build has none. */
export function nativeCompiler(): Compiler {
  if (compiler) return compiler;
  const path = addonPath();
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

const MAGIC = 'lxkit-bpf 2\n';

/** A file's identity: a replaced or rewritten file (an upgrade, a rebuild) is another. */
function stamp(path: string): string | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  return st && `${path}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/**
 * The loaded compiler's files, stamped: the addon, and the libseccomp the
 * dynamic loader gave it (from /proc/self/maps; its real path, which an
 * upgrade replaces). Undefined when one cannot be told: then nothing is cached
 * on disk.
 */
function compilerFiles(c: Compiler): string | undefined {
  let lib: string | undefined;
  try {
    lib = /\s(\/\S*\/libseccomp\.so[^\s/]*)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
  const addon = stamp(addonPath());
  const seccomp = lib && stamp(lib);
  return addon && seccomp ? `${addon}\n${seccomp}\nlibseccomp ${c.version()}` : undefined;
}

/** Whether the compiler an entry was made with is still the one these files hold. */
function sameCompiler(files: string): boolean {
  const lines = files.split('\n');
  return lines.length === 3 && lines.slice(0, 2).every((line) => stamp(line.slice(0, line.indexOf('\0'))) === line);
}

/** An entry: MAGIC, the key's length and the key, the compiler's files' length and them, then the program. */
function encodeEntry(key: string, files: string, program: Buffer): Buffer {
  const k = Buffer.from(key);
  const f = Buffer.from(files);
  return Buffer.concat([Buffer.from(`${MAGIC}${k.length}\n`), k, Buffer.from(`${f.length}\n`), f, program]);
}

/** `text` as a length, a newline and the text, at `at`: the text and where what follows starts. */
function field(data: Buffer, at: number): { text: string; end: number } | undefined {
  const nl = data.indexOf(10, at);
  if (nl < 0) return undefined;
  const len = Number(data.toString('latin1', at, nl));
  if (!Number.isInteger(len) || len < 0 || data.length < nl + 1 + len) return undefined;
  return { text: data.toString('utf8', nl + 1, nl + 1 + len), end: nl + 1 + len };
}

/**
 * The program of an entry whose key is exactly `key`, made by a compiler whose
 * files are unchanged; undefined for another key, another compiler or a damaged file.
 */
function decodeEntry(data: Buffer, key: string): Buffer | undefined {
  if (data.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const k = field(data, MAGIC.length);
  if (!k || k.text !== key) return undefined;
  const files = field(data, k.end);
  if (!files || !sameCompiler(files.text)) return undefined;
  const program = data.subarray(files.end);
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
  const host = hostArches();
  // The compiler is not part of the key: an entry says which one made it (decodeEntry).
  const key = `lxkit ${VERSION}\n${host.native}\n${process.env['LD_LIBRARY_PATH'] ?? ''}\n${text}`;
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
  const c = nativeCompiler();
  let out: { program: Buffer; skipped: string[] };
  try {
    out = c.compile(compileSpec(policy, host));
  } catch (err) {
    throw new LxkitError('LXKIT_SECCOMP_FAILED', `${policy.file}: cannot compile the seccomp policy: ${(err as Error).message}`, { cause: err, path: policy.file });
  }
  if (opts.cache !== false) {
    memory.set(key, out.program);
    const files = compilerFiles(c);
    try {
      if (files) {
        mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}`;
        writeFileSync(tmp, encodeEntry(key, files, out.program), { mode: 0o600 });
        renameSync(tmp, file);
      }
    } catch {
      // A cache that cannot be written only costs a compile next time.
    }
  }
  return { program: out.program, skipped: out.skipped, cached: false };
}
