/**
 * What every command shares: LXC's common options (lxc_arguments.c) and the
 * logger, toolkit config and runtime they lead to.
 */
import { writeSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
// The CLI loads the core's parts as it needs them (see scripts/build.mjs):
// errors, logging and values always; the toolkit config and the full library
// through the dynamic imports below.
import { parseLogLevel, type LogLevel } from '../config/values.js';
import { LxkitError } from '../errors.js';
import { createLogger, type ClosableLogger } from '../log/logger.js';
import { defaultLxcpath, findToolkitConfigFile } from '../toolkit/locate.js';
import type { Runtime } from '../runtime.js';
import type { ToolkitConfig } from '../toolkit/config.js';

export interface CommonOptions {
  name?: string;
  lxcpath?: string;
  logfile?: string;
  logpriority?: LogLevel;
  quiet?: boolean;
  rcfile?: string;
}

export interface CommonOptionsSpec {
  /** Whether the command is about one container (-n). */
  name?: 'required' | 'optional' | false;
  /** lxc-config uses -l for --list; it then keeps only --logpriority. */
  shortLogPriority?: boolean;
}

function logLevelArg(value: string): LogLevel {
  try {
    return parseLogLevel(value);
  } catch (err) {
    // commander reports this as a usage error naming the option, and exits 1.
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Adds LXC's common options: -n -P -o -l -q --rcfile. */
export function commonOptions(cmd: Command, spec: CommonOptionsSpec = {}): Command {
  if (spec.name === 'required') cmd.requiredOption('-n, --name <name>', 'name of the container');
  else if (spec.name === 'optional') cmd.option('-n, --name <name>', 'name of the container');
  return cmd
    .option('-P, --lxcpath <path>', 'use this container path instead of the configured lxcpath')
    .option('-o, --logfile <file>', 'append log entries to this file')
    .option(
      spec.shortLogPriority === false ? '--logpriority <level>' : '-l, --logpriority <level>',
      'log priority: TRACE DEBUG INFO NOTICE WARN ERROR CRIT ALERT FATAL',
      logLevelArg,
    )
    .option('-q, --quiet', 'do not write errors to stderr')
    .option('--rcfile <file>', 'read the toolkit configuration from this file');
}

export class CliContext {
  readonly opts: CommonOptions;
  readonly log: ClosableLogger;
  #toolkit: Promise<ToolkitConfig> | undefined;
  #runtime: Promise<Runtime> | undefined;

  constructor(program: string, opts: CommonOptions) {
    this.opts = opts;
    this.log = createLogger({
      program,
      ...(opts.name ? { container: opts.name } : {}),
      ...(opts.logfile ? { file: opts.logfile } : {}),
      ...(opts.logpriority ? { level: opts.logpriority } : {}),
      // `-l LEVEL` without `-o` would otherwise change nothing visible.
      ...(opts.logpriority && !opts.logfile ? { stderrLevel: opts.logpriority } : {}),
      quiet: opts.quiet === true,
    });
  }

  toolkit(): Promise<ToolkitConfig> {
    this.#toolkit ??= import('../toolkit/config.js').then(({ loadToolkitConfig }) =>
      loadToolkitConfig({
        ...(this.opts.rcfile ? { rcfile: this.opts.rcfile } : {}),
        ...(this.opts.lxcpath ? { lxcpath: this.opts.lxcpath } : {}),
      }),
    );
    return this.#toolkit;
  }

  /**
   * The lxcpath: -P as given, the default when there is no toolkit config
   * file, else the config's. The first two load no toolkit config part:
   * commands that only talk to monitors stay small.
   */
  async lxcpath(): Promise<string> {
    if (this.opts.lxcpath) return this.opts.lxcpath;
    if (!this.opts.rcfile && !findToolkitConfigFile()) return defaultLxcpath();
    return (await this.toolkit()).lxcpath;
  }

  runtime(): Promise<Runtime> {
    this.#runtime ??= Promise.all([import('../index.js'), this.toolkit()]).then(([{ Runtime }, toolkit]) =>
      Runtime.create({ toolkit, log: this.log }),
    );
    return this.#runtime;
  }

  /**
   * Writes to stdout; resolves when the data is written, so that exit codes
   * follow complete output. Straight to fd 1: making process.stdout loads
   * stream modules (~4.5 ms of a short command). A reader that went away
   * (EPIPE) ends the output quietly, as for C tools.
   */
  out(text: string): Promise<void> {
    const data = Buffer.from(text);
    let done = 0;
    try {
      while (done < data.length) done += writeSync(1, data, done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return Promise.resolve();
      // A non-blocking stdout that is full: let Node's stream queue the rest.
      if (code !== 'EAGAIN') return Promise.reject(err);
      const rest = data.subarray(done);
      return new Promise((resolve, reject) => process.stdout.write(rest, (e) => (e ? reject(e) : resolve())));
    }
    return Promise.resolve();
  }
}

/**
 * Wraps a command's implementation as a commander action: builds the
 * context from the common options, turns the result into the exit code, and
 * reports lxkit errors as one clear line (the stack only at DEBUG).
 */
export function action<A extends unknown[]>(
  program: string,
  fn: (ctx: CliContext, ...args: A) => Promise<number | void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = new CliContext(program, cmd.opts<CommonOptions>());
    try {
      process.exitCode = (await fn(ctx, ...(args.slice(0, -2) as A))) ?? 0;
    } catch (err) {
      // lxkit's own errors and system-call failures (Node's shape) are the user's to read; anything else is a bug.
      const systemError = err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
      if (!(err instanceof LxkitError) && !systemError) throw err;
      ctx.log.error(err.message);
      if (err.cause instanceof Error) ctx.log.debug(`caused by: ${err.cause.stack ?? err.cause.message}`);
      process.exitCode = 1;
    } finally {
      ctx.log.close();
    }
  };
}

/** `-s KEY=VALUE` options as [key, value] pairs. */
export function collectDefines(defines: readonly string[] | undefined): [string, string][] {
  return (defines ?? []).map((d) => {
    const eq = d.indexOf('=');
    if (eq <= 0) throw new LxkitError('LXKIT_USAGE', `-s ${d}: expected KEY=VALUE`);
    return [d.slice(0, eq).trim(), d.slice(eq + 1).trim()];
  });
}
