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
import { native } from '../native-package.js';

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

/** syslog's facility numbers for the names lxc.log.syslog takes. */
const SYSLOG_FACILITY: Readonly<Record<string, number>> = {
  daemon: 3,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`local${i}`, 16 + i])),
};
/** LXC's priorities as syslog severities (LOG_DEBUG … LOG_EMERG), as LXC maps them. */
const SEVERITY: Record<LogLevel, number> = { TRACE: 7, DEBUG: 7, INFO: 6, NOTICE: 5, WARN: 4, ERROR: 3, CRIT: 2, ALERT: 1, FATAL: 0 };
/** Where syslog(3) sends: /dev/log, or $LXKIT_SYSLOG_SOCKET (tests). */
const syslogSocket = () => process.env['LXKIT_SYSLOG_SOCKET'] || '/dev/log';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

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
  /** lxc.log.file, adopted from a container's config: opened for each line, so that no Container object holds an fd. */
  #adopted: string | undefined;
  /** lxc.log.syslog, adopted likewise: the facility's number and the lowest priority sent. */
  #syslog: { facility: number; rank: number } | undefined;
  fileRank: number;
  readonly stderrRank: number;

  constructor(opts: LogSinkOptions) {
    this.#opts = opts;
    this.fileRank = opts.file ? RANK[opts.level ?? 'ERROR'] : Infinity;
    this.stderrRank = opts.quiet ? Infinity : RANK[opts.stderrLevel ?? 'ERROR'];
  }

  adopt(settings: ContainerLogSettings): void {
    // The config's priority is its file's and syslog's; -l counts only where the config sets none.
    const rank = RANK[settings.level ?? this.#opts.level ?? 'ERROR'];
    if (settings.syslog && !this.#syslog && SYSLOG_FACILITY[settings.syslog] !== undefined) {
      this.#syslog = { facility: SYSLOG_FACILITY[settings.syslog]!, rank };
    }
    // As LXC: a log file given on the command line (-o) wins over the config's.
    if (this.#opts.file || this.#adopted !== undefined || !settings.file) return;
    this.#adopted = settings.file;
    this.fileRank = rank;
  }

  /** Where lines about the container go besides stderr: the log file (-o, else an adopted lxc.log.file) and syslog, each from its priority. */
  targets(): LogTargets | undefined {
    const file = this.#opts.file ?? this.#adopted;
    const toFile = file !== undefined && Number.isFinite(this.fileRank) ? { path: file, level: LOG_LEVELS[this.fileRank]! } : undefined;
    const s = this.#syslog;
    const toSyslog = s ? { socket: syslogSocket(), facility: s.facility, level: LOG_LEVELS[s.rank]! } : undefined;
    if (!toFile && !toSyslog) return undefined;
    return { program: this.#opts.program, container: this.#opts.container ?? '', ...(toFile ? { file: toFile } : {}), ...(toSyslog ? { syslog: toSyslog } : {}) };
  }

  /** The lowest priority any destination takes. */
  get rank(): number {
    return Math.min(this.fileRank, this.stderrRank, this.#syslog?.rank ?? Infinity);
  }

  #toSyslog(level: LogLevel, module: string, message: string): void {
    const s = this.#syslog!;
    // RFC 3164, as syslog(3) sends it: <PRI>Mmm dd hh:mm:ss ident[pid]: text
    const d = new Date();
    const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${d.toTimeString().slice(0, 8)}`;
    const who = this.#opts.container ? `${this.#opts.container}: ` : '';
    const text = `<${s.facility * 8 + SEVERITY[level]}>${stamp} ${this.#opts.program}[${process.pid}]: ${who}${level} ${module} - ${message}`;
    try {
      native().sendDatagram(syslogSocket(), Buffer.from(text));
    } catch {
      // As syslog(3): without a syslog daemon listening, the line is dropped.
    }
  }

  write(level: LogLevel, module: string, message: string): void {
    const rank = RANK[level];
    if (this.#syslog && rank >= this.#syslog.rank) this.#toSyslog(level, module, message);
    if (rank >= this.fileRank) {
      const line = `${this.#opts.program} ${this.#opts.container ?? ''} ${timestamp()} ${level.padEnd(8)} ${module} - ${message}\n`;
      if (this.#opts.file) {
        // Opened lazily: most commands never log at their level.
        this.#fd ??= openSync(this.#opts.file, 'a', 0o640);
        writeSync(this.#fd, line);
      } else if (this.#adopted !== undefined) {
        try {
          appendFileSync(this.#adopted, line, { mode: 0o640 });
        } catch {
          // A log file that cannot be written must not fail what is logged about.
        }
      }
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

  get sink(): Sink {
    return this.#sink;
  }

  get level(): LogLevel {
    return LOG_LEVELS[Math.min(this.#sink.rank, LOG_LEVELS.length - 1)]!;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#sink.rank;
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

/** A container config's lxc.log.file, lxc.log.level and lxc.log.syslog (a facility's name). */
export interface ContainerLogSettings {
  readonly file?: string | undefined;
  readonly level?: LogLevel | undefined;
  readonly syslog?: string | undefined;
}

/**
 * The container config's lxc.log.file, lxc.log.level and lxc.log.syslog,
 * used as LXC uses them: unless the command line gave a log file (-o), the
 * entries at or above lxc.log.level (else -l's priority, else ERROR) are
 * appended to lxc.log.file; with lxc.log.syslog they go to syslog as well,
 * with that facility, at the same priority. A logger lxkit did not make (a
 * library caller's own) is left alone; one that adopted settings keeps them.
 */
export function adoptContainerLog(logger: Logger, settings: ContainerLogSettings): void {
  // The shared silent logger stays silent: a Container without a logger has one of its own for this.
  if (logger instanceof SinkLogger && logger !== silentLogger) logger.sink.adopt(settings);
}

/** Where a logger's lines about a container go besides stderr, for a helper that sends its own there too (the monitor, while detached). */
export interface LogTargets {
  readonly program: string;
  readonly container: string;
  readonly file?: { readonly path: string; readonly level: LogLevel };
  readonly syslog?: { readonly socket: string; readonly facility: number; readonly level: LogLevel };
}

export function logTargets(logger: Logger): LogTargets | undefined {
  return logger instanceof SinkLogger ? logger.sink.targets() : undefined;
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
