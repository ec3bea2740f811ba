/**
 * LXC-style logging: nine priorities (TRACE … FATAL), a log file that gets
 * every entry at or above the chosen priority (`-o FILE -l LEVEL`), and
 * stderr, which gets errors unless `-q`.
 *
 * File lines follow LXC's layout so that people used to reading LXC logs read
 * these the same way:
 *   lxkit-start c1 20261122101530.123 ERROR    start - could not mount ...
 */
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from '../config/values.js';

export type { LogLevel };

const RANK: Record<LogLevel, number> = Object.fromEntries(LOG_LEVELS.map((l, i) => [l, i])) as Record<LogLevel, number>;

export function levelRank(level: LogLevel): number {
  return RANK[level];
}

export interface LogSinkOptions {
  /** Program name shown in lines, e.g. `lxkit-start` (LXC: lxc-start). */
  program: string;
  /** Container name, when the command is about one. */
  container?: string;
  /** Priority for the log file (default ERROR, as LXC). */
  level?: LogLevel;
  /** Log file path; entries are appended. */
  file?: string;
  /** Suppress stderr output (`-q`). */
  quiet?: boolean;
  /**
   * Lowest priority that also goes to stderr. Defaults to ERROR; when `-l`
   * is given without `-o`, the CLI lowers it to that level so that
   * `-l DEBUG` shows something.
   */
  stderrLevel?: LogLevel;
}

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string): void;
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  notice(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger that tags its lines with `module` (LXC: the source file's log domain). */
  child(module: string): Logger;
}

function timestamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

class Sink {
  readonly #opts: LogSinkOptions;
  #fd: number | undefined;
  readonly fileRank: number;
  readonly stderrRank: number;

  constructor(opts: LogSinkOptions) {
    this.#opts = opts;
    this.fileRank = opts.file ? RANK[opts.level ?? 'ERROR'] : Infinity;
    this.stderrRank = opts.quiet ? Infinity : RANK[opts.stderrLevel ?? 'ERROR'];
  }

  write(level: LogLevel, module: string, message: string): void {
    const rank = RANK[level];
    if (rank >= this.fileRank && this.#opts.file) {
      // Opened lazily: most commands never log at their level.
      this.#fd ??= openSync(this.#opts.file, 'a', 0o640);
      const name = this.#opts.container ?? '';
      writeSync(this.#fd, `${this.#opts.program} ${name} ${timestamp()} ${level.padEnd(8)} ${module} - ${message}\n`);
    }
    if (rank >= this.stderrRank) {
      const who = this.#opts.container ? `${this.#opts.program}: ${this.#opts.container}` : this.#opts.program;
      const tag = rank >= RANK.ERROR ? '' : `${level}: `;
      try {
        appendFileSync(2, `${who}: ${tag}${message}\n`);
      } catch {
        // stderr closed: nothing sensible left to do with a log line.
      }
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

class SinkLogger implements Logger {
  readonly #sink: Sink;
  readonly #module: string;

  constructor(sink: Sink, module: string) {
    this.#sink = sink;
    this.#module = module;
  }

  get level(): LogLevel {
    return LOG_LEVELS[Math.min(this.#sink.fileRank, this.#sink.stderrRank, LOG_LEVELS.length - 1)]!;
  }

  enabled(level: LogLevel): boolean {
    const r = RANK[level];
    return r >= this.#sink.fileRank || r >= this.#sink.stderrRank;
  }

  log(level: LogLevel, message: string): void {
    if (this.enabled(level)) this.#sink.write(level, this.#module, message);
  }

  trace(m: string): void {
    this.log('TRACE', m);
  }
  debug(m: string): void {
    this.log('DEBUG', m);
  }
  info(m: string): void {
    this.log('INFO', m);
  }
  notice(m: string): void {
    this.log('NOTICE', m);
  }
  warn(m: string): void {
    this.log('WARN', m);
  }
  error(m: string): void {
    this.log('ERROR', m);
  }

  child(module: string): Logger {
    return new SinkLogger(this.#sink, module);
  }
}

export interface ClosableLogger extends Logger {
  close(): void;
}

export function createLogger(opts: LogSinkOptions): ClosableLogger {
  const sink = new Sink(opts);
  const root = new SinkLogger(sink, 'lxkit');
  return Object.assign(root, { close: () => sink.close() });
}

/** A logger that drops everything: the library default when the caller passes none. */
export const silentLogger: Logger = createLogger({ program: 'lxkit', quiet: true });
