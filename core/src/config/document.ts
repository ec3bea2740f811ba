/**
 * One LXC config file as lines, kept byte for byte.
 *
 * LXC's parser (confile.c parse_line) is line based: leading blanks are
 * skipped, `#` lines are comments, lines not starting with `lxc.` are ignored,
 * an `lxc.` line must hold `=`; key and value are trimmed and one pair of
 * matching quotes around the value is removed. This module follows those rules
 * exactly and keeps every line's raw text, so that writing back an unchanged
 * document gives the same bytes, and an edited one changes only the lines the
 * edit touched.
 */

export type LineKind =
  /** empty or only blanks */
  | 'blank'
  /** first non-blank character is `#` */
  | 'comment'
  /** an `lxc.` key with a value */
  | 'entry'
  /** an `lxc.` line without `=`: LXC rejects the whole file for it */
  | 'malformed'
  /** anything else: LXC ignores it ("martian" lines) */
  | 'other';

export interface ConfigLine {
  readonly kind: LineKind;
  /** The line's text without its '\n' (a trailing '\r' stays). */
  readonly raw: string;
  /** Trimmed key; set for 'entry' and 'malformed'. */
  readonly key?: string;
  /** Trimmed value with one pair of matching quotes removed; set for 'entry'. */
  readonly value?: string;
}

const BLANKS = ' \t\r\n\v\f';

function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && BLANKS.includes(s[start]!)) start++;
  while (end > start && BLANKS.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length > 1 && value[value.length - 1] === q) {
    return value.slice(1, -1);
  }
  return value;
}

export function parseLine(raw: string): ConfigLine {
  const text = trimBlanks(raw);
  if (text === '') return { kind: 'blank', raw };
  if (text.startsWith('#')) return { kind: 'comment', raw };
  if (!text.startsWith('lxc.')) return { kind: 'other', raw };
  const eq = text.indexOf('=');
  if (eq < 0) return { kind: 'malformed', raw, key: text };
  const key = trimBlanks(text.slice(0, eq));
  const value = unquote(trimBlanks(text.slice(eq + 1)));
  return { kind: 'entry', raw, key, value };
}

/**
 * Formats a value so that parseLine gives it back unchanged: values that
 * would lose blanks or a quote pair are quoted.
 */
export function formatValue(value: string): string {
  if (/[\n\r]/.test(value)) {
    throw new RangeError(`a config value cannot span lines: ${JSON.stringify(value)}`);
  }
  if (value === '') return '';
  if (trimBlanks(value) !== value || unquote(value) !== value) {
    // A value holding both quote kinds at its ends cannot be written; LXC has
    // no escape syntax either.
    const q = value.startsWith('"') || value.endsWith('"') ? "'" : '"';
    return q + value + q;
  }
  return value;
}

export function formatEntry(key: string, value: string): string {
  // LXC itself writes `key =` for an empty value (do_append_unexp_config_line).
  return value === '' ? `${key} =` : `${key} = ${formatValue(value)}`;
}

export interface EntryRef {
  /** 0-based index into the document's lines. */
  readonly index: number;
  /** 1-based line number, as printed in problems. */
  readonly line: number;
  readonly key: string;
  readonly value: string;
}

export class ConfigDocument {
  /** File the text came from, when it came from one. */
  readonly path: string | undefined;
  #lines: ConfigLine[];
  /** Set when the file is not valid UTF-8; it is then kept as latin1 so that bytes survive. */
  readonly encoding: 'utf8' | 'latin1';

  private constructor(lines: ConfigLine[], path: string | undefined, encoding: 'utf8' | 'latin1') {
    this.#lines = lines;
    this.path = path;
    this.encoding = encoding;
  }

  static parse(text: string, path?: string, encoding: 'utf8' | 'latin1' = 'utf8'): ConfigDocument {
    // Splitting on '\n' and joining with '\n' is exactly lossless, including a
    // missing final newline (the last element is then non-empty).
    return new ConfigDocument(text.split('\n').map(parseLine), path, encoding);
  }

  static fromBuffer(buf: Buffer, path?: string): ConfigDocument {
    const utf8 = buf.toString('utf8');
    if (Buffer.byteLength(utf8) === buf.length && Buffer.from(utf8, 'utf8').equals(buf)) {
      return ConfigDocument.parse(utf8, path, 'utf8');
    }
    return ConfigDocument.parse(buf.toString('latin1'), path, 'latin1');
  }

  get lines(): readonly ConfigLine[] {
    return this.#lines;
  }

  toString(): string {
    return this.#lines.map((l) => l.raw).join('\n');
  }

  toBuffer(): Buffer {
    return Buffer.from(this.toString(), this.encoding);
  }

  /** Entries in file order. */
  entries(): EntryRef[] {
    const out: EntryRef[] = [];
    this.#lines.forEach((l, index) => {
      if (l.kind === 'entry') out.push({ index, line: index + 1, key: l.key!, value: l.value! });
    });
    return out;
  }

  /** The value of the last line with exactly this key. */
  get(key: string): string | undefined {
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      const l = this.#lines[i]!;
      if (l.kind === 'entry' && l.key === key) return l.value;
    }
    return undefined;
  }

  getAll(key: string): string[] {
    return this.entries()
      .filter((e) => e.key === key)
      .map((e) => e.value);
  }

  /**
   * Sets a single-valued key: the first line holding it gets the new value
   * (keeping that line's layout up to the value) and later lines with the
   * same key go; without such a line, one is appended.
   */
  set(key: string, value: string): void {
    const hits = this.entries().filter((e) => e.key === key);
    const first = hits[0];
    if (!first) {
      this.append(key, value);
      return;
    }
    this.#lines[first.index] = parseLine(rewriteValue(this.#lines[first.index]!.raw, value));
    this.#removeIndexes(hits.slice(1).map((h) => h.index));
  }

  /** Adds a line for a repeatable key, after the last line with the same key, or at the end. */
  append(key: string, value: string): void {
    const same = this.entries().filter((e) => e.key === key);
    const line = parseLine(formatEntry(key, value));
    const last = same[same.length - 1];
    if (last) {
      this.#lines.splice(last.index + 1, 0, line);
      return;
    }
    // Keep the file's final newline where it was: insert before a trailing empty line.
    const end = this.#lines.length;
    const at = end > 0 && this.#lines[end - 1]!.raw === '' ? end - 1 : end;
    this.#lines.splice(at, 0, line);
  }

  /**
   * Removes the lines of `key`; with `subkeys`, also of every key below it
   * (`lxc.net.0` removes `lxc.net.0.type`...). Returns how many went.
   */
  remove(key: string, options: { subkeys?: boolean } = {}): number {
    const hits = this.entries().filter(
      (e) => e.key === key || (options.subkeys === true && e.key.startsWith(key + '.')),
    );
    this.#removeIndexes(hits.map((h) => h.index));
    return hits.length;
  }

  /** Replaces line `index` with other lines (none removes it). Used by converters. */
  replaceLine(index: number, raws: readonly string[]): void {
    this.#lines.splice(index, 1, ...raws.map(parseLine));
  }

  #removeIndexes(indexes: number[]): void {
    for (const i of [...indexes].sort((a, b) => b - a)) this.#lines.splice(i, 1);
  }
}

/** Replaces the value part of an entry line, keeping the key, blanks and quote style. */
export function rewriteValue(raw: string, value: string): string {
  const eq = raw.indexOf('=');
  let start = eq + 1;
  while (start < raw.length && (raw[start] === ' ' || raw[start] === '\t')) start++;
  const head = raw.slice(0, start);
  const oldText = trimBlanks(raw.slice(start));
  const q = oldText[0];
  const wasQuoted = (q === '"' || q === "'") && oldText.length > 1 && oldText.endsWith(q);
  let text = formatValue(value);
  if (wasQuoted && text === value && !value.includes(q)) text = q + value + q;
  if (value === '') return head.trimEnd();
  // An empty old value leaves no layout to follow; write LXC's `key = value`.
  if (oldText === '') return head.trimEnd() + ' ' + text;
  return head + text;
}

/** Replaces the key part of an entry line, keeping everything else. */
export function rewriteKey(raw: string, oldKey: string, newKey: string): string {
  const at = raw.indexOf(oldKey);
  if (at < 0) throw new RangeError(`key ${oldKey} not in line ${JSON.stringify(raw)}`);
  return raw.slice(0, at) + newKey + raw.slice(at + oldKey.length);
}
