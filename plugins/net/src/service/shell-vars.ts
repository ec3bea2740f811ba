/**
 * The variables of a Debian "default" file (/etc/default/lxc, lxc-net): the
 * shell variable assignments LXC's lxc-net script gets by sourcing them,
 * read without a shell. What such files hold is understood:
 *
 *   NAME=value, NAME="value", NAME='value', export NAME=value   (several per line)
 *   $NAME and ${NAME} in values, from the files' earlier assignments, else the environment
 *   . FILE, source FILE, [ -f FILE ] && . FILE, [ ! -f FILE ] || . FILE   (includes)
 *   # comments, blank lines
 *
 * Anything that would need a shell to evaluate (command substitution,
 * ${NAME:-default} and the like) is an error naming the file and line; any
 * other command is ignored with a warning naming them, as a shell would run
 * it for its side effects only.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, type ParseEntry } from 'shell-quote';
import { LxkitError, type Logger } from '@lxkit/core';

/** A variable's value and where it was set. */
export interface ShellVariable {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export type ShellVariables = Map<string, ShellVariable>;

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/s;

function invalid(file: string, line: number, message: string): LxkitError {
  return new LxkitError('LXKIT_NET_SETTINGS_INVALID', `${file}:${line}: ${message}`, { file, line });
}

/** What only a shell can evaluate, outside single quotes: `…`, $(…), ${NAME…} beyond a bare name. */
function needsShell(text: string): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && quote !== "'") i++;
    else if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === "'" && quote === undefined) quote = c;
    else if (c === '"') quote = quote === '"' ? undefined : '"';
    else if (c === '#' && quote === undefined && (i === 0 || /\s/.test(text[i - 1]!))) return undefined;
    else if (c === '`') return 'a command substitution (`…`)';
    else if (c === '$' && text[i + 1] === '(') return 'a command substitution ($(…))';
    else if (c === '$' && text[i + 1] === '{' && !/^\{[A-Za-z_][A-Za-z0-9_]*\}/.test(text.slice(i + 1))) return 'a parameter expansion other than ${NAME}';
  }
  return quote ? `an unterminated ${quote} quote (a value is one line here)` : undefined;
}

/** The file a line includes and whether it must exist, when the line is an include. */
function includeOf(words: readonly ParseEntry[]): { path: string; optional: boolean } | undefined {
  const w = words.map((x) => (typeof x === 'string' ? x : 'op' in x ? `\0${x.op}` : undefined));
  if (w.some((x) => x === undefined)) return undefined;
  const s = w as string[];
  const source = (x: string | undefined) => x === '.' || x === 'source';
  if (s.length === 2 && source(s[0])) return { path: s[1]!, optional: false };
  // A guarded include: [ -f F ] && . F, [ ! -f F ] || . F, and the same with test.
  const guard = s[0] === '[' ? s.slice(1, s.indexOf(']')) : s[0] === 'test' ? s.slice(1, s.findIndex((x) => x.startsWith('\0'))) : undefined;
  const rest = s.slice(s.findIndex((x) => x.startsWith('\0')));
  if (!guard || rest.length !== 3 || !source(rest[1])) return undefined;
  const negated = guard[0] === '!';
  const [test, path] = negated ? guard.slice(1) : guard;
  const op = negated ? '\0||' : '\0&&';
  if ((test === '-f' || test === '-e' || test === '-r') && path !== undefined && path === rest[2] && rest[0] === op && guard.length === (negated ? 3 : 2)) return { path, optional: true };
  return undefined;
}

/**
 * Reads `file`'s assignments into `vars` (later ones win, as in a shell),
 * following its includes. `required`: a missing file is an error, else
 * nothing is read from it.
 */
export function readShellVariables(file: string, vars: ShellVariables, log: Logger, required = true, seen = new Set<string>()): void {
  const path = resolve(file);
  if (seen.has(path)) return;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return;
    throw new LxkitError('LXKIT_NET_SETTINGS_INVALID', `cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  seen.add(path);
  const lookup = (name: string) => vars.get(name)?.value ?? process.env[name] ?? '';
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim() || raw.trim().startsWith('#')) return;
    const shell = needsShell(raw);
    if (shell) throw invalid(path, line, `${shell} needs a shell; lxkit reads variable assignments without one: ${raw.trim()}`);
    const words = parse(raw, lookup).filter((w) => typeof w === 'string' || !('comment' in w));
    const include = includeOf(words);
    if (include) {
      readShellVariables(resolve(path, '..', include.path), vars, log, !include.optional, seen);
      return;
    }
    const assignments = words[0] === 'export' ? words.slice(1) : words;
    if (assignments.length > 0 && assignments.every((w) => typeof w === 'string' && ASSIGNMENT.test(w))) {
      for (const w of assignments as string[]) {
        const [, name] = ASSIGNMENT.exec(w)!;
        vars.set(name!, { value: w.slice(name!.length + 1), file: path, line });
      }
      return;
    }
    log.warn(`${path}:${line}: not a variable assignment or an include, ignored: ${raw.trim()}`);
  });
}
