/**
 * `lxkit update-config`: rewrites legacy (LXC 1.x/2.x) keys of one config
 * file to current keys, keeping everything else byte for byte and the
 * original as FILE.backup. Unlike LXC's sed-based converter it handles
 * indexed `lxc.network.N.ipv4` (→ `lxc.net.N.ipv4.address`), `lxc.limit.*`,
 * and `lxc.rootfs` values that already carry a storage type.
 */
import { chmod, chown, copyFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { LxkitError } from '../errors.js';
import { formatEntry, rewriteKey, rewriteValue, type ConfigDocument } from './document.js';
import { LegacyTranslator } from './legacy.js';
import { readDocument } from './read.js';

export interface ConfigChange {
  readonly line: number;
  readonly from: string;
  /** The new line, or undefined when the line was removed. */
  readonly to: string | undefined;
  readonly note: string;
}

export interface ConversionResult {
  readonly changes: readonly ConfigChange[];
  /** Legacy lines that could not be converted (left as they were). */
  readonly errors: readonly ConfigChange[];
}

/** Converts `doc` in place. */
export function convertDocument(doc: ConfigDocument): ConversionResult {
  const entries = doc.entries();
  const translator = new LegacyTranslator(entries);
  const changes: ConfigChange[] = [];
  const errors: ConfigChange[] = [];
  const edits: { index: number; raws: string[] }[] = [];
  for (const e of entries) {
    const t = translator.translate(e.key, e.value);
    if (!t) continue;
    const raw = doc.lines[e.index]!.raw;
    if (t.kind === 'error') {
      errors.push({ line: e.line, from: raw, to: raw, note: t.note });
      continue;
    }
    if (t.kind === 'drop') {
      edits.push({ index: e.index, raws: [] });
      changes.push({ line: e.line, from: raw, to: undefined, note: t.note });
      continue;
    }
    let to = rewriteKey(raw, e.key, t.key);
    if (t.value !== e.value) to = t.value === '' ? formatEntry(t.key, '') : rewriteValue(to, t.value);
    edits.push({ index: e.index, raws: [to] });
    changes.push({ line: e.line, from: raw, to, note: t.note });
  }
  // Back to front, so that earlier indexes stay valid while lines are removed.
  for (const { index, raws } of edits.reverse()) doc.replaceLine(index, raws);
  return { changes, errors };
}

export interface UpdateResult extends ConversionResult {
  readonly file: string;
  /** Where the original was saved; undefined when nothing needed changing. */
  readonly backup: string | undefined;
}

/** Converts a file on disk, keeping `FILE.backup`; the new file replaces the old atomically. */
export async function updateConfigFile(file: string): Promise<UpdateResult> {
  const doc = await readDocument(file);
  const result = convertDocument(doc);
  if (result.changes.length === 0) return { ...result, file, backup: undefined };
  const backup = `${file}.backup`;
  const tmp = `${file}.lxkit-update.${process.pid}`;
  try {
    await copyFile(file, backup);
    const st = await stat(file);
    await writeFile(tmp, doc.toBuffer(), { mode: st.mode & 0o7777 });
    // The replacement keeps the original's owner and mode.
    await chmod(tmp, st.mode & 0o7777);
    if (process.getuid?.() === 0) await chown(tmp, st.uid, st.gid);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw new LxkitError('LXKIT_CONFIG_READ', `cannot rewrite ${file}: ${e.message}`, {
      cause: err,
      file,
      ...(e.path ? { path: e.path } : {}),
      ...(e.syscall ? { syscall: e.syscall } : {}),
    });
  }
  return { ...result, file, backup };
}
