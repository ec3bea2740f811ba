/**
 * System-call failures from the native side, as Node reports its own:
 * `code` ('ENOENT'), `errno` (negative), `syscall`, `path`, and a message
 * that says what lxkit was doing and, for configured work, where it was
 * configured.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

export interface SystemErrorInit {
  /** Positive errno, as the kernel returns it. */
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  /** What lxkit was doing, e.g. "mounting proc on /proc". */
  readonly doing: string;
  readonly origin?: { readonly file: string; readonly line: number; readonly key: string } | undefined;
  readonly container?: string;
  /** More from the helper (a hook's exit status...). */
  readonly detail?: string;
}

export interface LxkitSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  container?: string;
  file?: string;
  line?: number;
  key?: string;
}

let errorMap: Map<number, [string, string]> | undefined;
let names: Map<number, string> | undefined;

/** [code, description]: libuv's table, else the kernel's name from os.constants (ECHILD, ENOMEDIUM...). */
export function errnoName(errno: number): [string, string] {
  errorMap ??= getSystemErrorMap();
  const known = errorMap.get(-Math.abs(errno));
  if (known) return known;
  names ??= new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
  const name = names.get(Math.abs(errno));
  return name ? [name, 'system error'] : [`E${errno}`, 'unknown error'];
}

/** EXDEV from a path resolved beneath the root (to open it, or to make the directories it lacks) means the path tried to leave it. */
function describe(init: SystemErrorInit, code: string, text: string): string {
  if (code === 'EXDEV' && (init.syscall === 'open' || init.syscall === 'mkdir')) return 'the path leaves the container\'s root filesystem (through ".." or an absolute symlink)';
  return text;
}

export function systemError(init: SystemErrorInit): LxkitSystemError {
  const [code, text] = errnoName(init.errno);
  const where = init.origin ? ` (${init.origin.file}:${init.origin.line}: ${init.origin.key})` : '';
  const detail = init.detail ? ` [${init.detail}]` : '';
  const message =
    `${init.doing}${where}: ${code}: ${describe(init, code, text)}, ${init.syscall}` +
    (init.path ? ` '${init.path}'` : '') +
    detail;
  const err = new Error(message) as LxkitSystemError;
  err.code = code;
  err.errno = -Math.abs(init.errno);
  err.syscall = init.syscall;
  if (init.path) err.path = init.path;
  if (init.container) err.container = init.container;
  if (init.origin) {
    err.file = init.origin.file;
    err.line = init.origin.line;
    err.key = init.origin.key;
  }
  return err;
}
