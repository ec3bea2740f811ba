/**
 * Reading a container config from disk: the main file, its lxc.include files
 * and directories (every `*.conf`, in name order), and legacy keys translated
 * with a warning each.
 *
 * The reads are synchronous, behind an async interface: config files are a
 * few KB, read in microseconds, while the first use of node:fs/promises
 * costs a CLI start ~1.5 ms to load it, and each await a thread-pool hop.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LxkitError } from '../errors.js';
import { ConfigDocument } from './document.js';
import type { ConfigCheck, ConfigEntry } from './entries.js';
import { LegacyTranslator } from './legacy.js';

export interface ExpandedConfig {
  readonly path: string | undefined;
  readonly document: ConfigDocument;
  readonly entries: ConfigEntry[];
  readonly includes: string[];
  /** Every path read or looked for (the main file, include files and directories, missing ones too). */
  readonly consulted: string[];
}

interface RawEntry {
  key: string;
  value: string;
  file: string;
  line: number;
  fromInclude: boolean;
}

/** Reads one config file as a document; read errors become LXKIT_CONFIG_READ in Node's shape. */
export async function readDocument(path: string): Promise<ConfigDocument> {
  try {
    return ConfigDocument.fromBuffer(readFileSync(path), path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LxkitError('LXKIT_CONFIG_READ', `cannot read container config ${path}: ${e.code ?? e.message}`, {
      cause: err,
      file: path,
      path,
      syscall: e.syscall ?? 'open',
      ...(e.errno !== undefined ? { errno: e.errno } : {}),
    });
  }
}

/** A file standing in for a missing include (Runtime.includeStandIn). */
export type StandIn = (target: string) => string | undefined;

/**
 * The files an lxc.include names. A value ending in '/' names a directory,
 * and a missing one is no error (LXC's behaviour, which Debian's userns.conf
 * relies on for its absent userns.conf.d/); a missing file is.
 */
async function includeTargets(target: string, asDirectory: boolean): Promise<string[]> {
  let st;
  try {
    st = statSync(target);
  } catch (err) {
    if (asDirectory && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (!st.isDirectory()) return [target];
  const names = readdirSync(target).filter((n) => n.endsWith('.conf')).sort();
  const files: string[] = [];
  for (const n of names) {
    const p = join(target, n);
    if (statSync(p).isFile()) files.push(p);
  }
  return files;
}

async function collect(
  doc: ConfigDocument,
  file: string,
  fromInclude: boolean,
  check: ConfigCheck,
  stack: string[],
  out: { entries: RawEntry[]; includes: string[]; consulted: string[] },
  standIn?: StandIn,
): Promise<void> {
  const lines = doc.lines;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const where = { file, line: i + 1, key: l.key ?? '' };
    if (l.kind === 'malformed') {
      check.error(where, `invalid line: no "=" after the key`);
      continue;
    }
    if (l.kind !== 'entry') continue;
    if (l.key !== 'lxc.include') {
      out.entries.push({ key: l.key!, value: l.value!, file, line: i + 1, fromInclude });
      continue;
    }
    if (l.value === '') continue;
    const target = resolve(dirname(file), l.value!);
    out.consulted.push(target);
    let targets: string[];
    try {
      targets = await includeTargets(target, l.value!.endsWith('/'));
    } catch (err) {
      const alt = (err as NodeJS.ErrnoException).code === 'ENOENT' ? standIn?.(target) : undefined;
      if (alt !== undefined && existsSync(alt)) {
        check.warn(where, `"${target}" is not there: "${alt}" stands in for it`);
        out.consulted.push(alt);
        targets = await includeTargets(alt, false);
      } else {
        check.error(where, `cannot read "${target}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        continue;
      }
    }
    for (const t of targets) {
      const real = realpathSync(t);
      if (stack.includes(real)) {
        check.error(where, `"${t}" includes itself (through ${stack.join(' -> ')})`);
        continue;
      }
      let child: ConfigDocument;
      try {
        child = await readDocument(t);
      } catch (err) {
        check.error(where, `cannot read "${t}": ${(err as LxkitError).message}`);
        continue;
      }
      out.includes.push(t);
      if (t !== target) out.consulted.push(t);
      await collect(child, t, true, check, [...stack, real], out, standIn);
    }
  }
}

/** Translates legacy keys in reading order, reporting each as a warning. */
function translate(raw: RawEntry[], check: ConfigCheck): ConfigEntry[] {
  const translator = new LegacyTranslator(raw);
  const out: ConfigEntry[] = [];
  const hinted = new Set<string>();
  for (const r of raw) {
    const t = translator.translate(r.key, r.value);
    if (!t) {
      out.push(r);
      continue;
    }
    if (t.kind === 'rename') {
      // The way out is said once per file, on its first legacy line.
      const hint = hinted.has(r.file) ? '' : `; run "lxkit update-config -c ${r.file}" to convert the file`;
      hinted.add(r.file);
      check.warn(r, t.note + hint);
      out.push({ ...r, key: t.key, value: t.value, legacyKey: r.key });
    } else if (t.kind === 'drop') {
      check.warn(r, t.note);
    } else {
      check.error(r, t.note);
    }
  }
  return out;
}

/** Expands a document that is already in memory (the main file, or text given by a caller). */
export async function expandDocument(
  document: ConfigDocument,
  check: ConfigCheck,
  file = document.path ?? '<string>',
  standIn?: StandIn,
): Promise<ExpandedConfig> {
  const out = { entries: [] as RawEntry[], includes: [] as string[], consulted: document.path ? [document.path] : [] };
  const stack = document.path ? [realOrSelf(document.path)] : [];
  await collect(document, file, false, check, stack, out, standIn);
  return { path: document.path, document, entries: translate(out.entries, check), includes: out.includes, consulted: out.consulted };
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export async function readExpanded(path: string, check: ConfigCheck): Promise<ExpandedConfig> {
  return expandDocument(await readDocument(path), check);
}
