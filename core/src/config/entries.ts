/**
 * The expanded view of a container config: every entry of the main file and
 * of the files it includes, in LXC's reading order, each remembering where it
 * came from so that problems can name file and line.
 */

export interface ConfigEntry {
  /** The current key (a legacy key is already translated). */
  readonly key: string;
  readonly value: string;
  /** File the line is in; `<define>` for `-s KEY=VAL`, `<string>` for parsed text. */
  readonly file: string;
  /** 1-based line number in `file`; 0 for defines. */
  readonly line: number;
  /** The key as written, when it was a legacy (LXC 1.x/2.x) key. */
  readonly legacyKey?: string;
  /** True when the entry came from an lxc.include rather than the file itself. */
  readonly fromInclude: boolean;
}

export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
  readonly severity: Severity;
}

/** `FILE:LINE: KEY: reason`, the format `lxkit config validate` prints. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return `${where}: ${p.key}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

/**
 * Collects problems while a config is read and validated, and records which
 * owner (the core or a plugin) took each entry. An entry nobody takes is an
 * unknown key.
 */
export class ConfigCheck {
  readonly problems: ConfigProblem[] = [];
  readonly #owners = new Map<ConfigEntry, string>();

  claim(entry: ConfigEntry, owner: string): void {
    this.#owners.set(entry, owner);
  }

  ownerOf(entry: ConfigEntry): string | undefined {
    return this.#owners.get(entry);
  }

  error(where: Pick<ConfigEntry, 'file' | 'line' | 'key'>, message: string): void {
    this.problems.push({ file: where.file, line: where.line, key: where.key, message, severity: 'error' });
  }

  warn(where: Pick<ConfigEntry, 'file' | 'line' | 'key'>, message: string): void {
    this.problems.push({ file: where.file, line: where.line, key: where.key, message, severity: 'warning' });
  }

  get errors(): ConfigProblem[] {
    return this.problems.filter((p) => p.severity === 'error');
  }

  get warnings(): ConfigProblem[] {
    return this.problems.filter((p) => p.severity === 'warning');
  }
}
