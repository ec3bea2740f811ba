/**
 * Splitting a configured command line into words, each key as LXC splits it,
 * so that a config written for LXC gives its program the same arguments:
 *
 * - lxc.hook.* go through sh -c in LXC: shell quoting (shell-quote) without a
 *   shell, shell operators refused rather than run, variables expanded from
 *   the hook's environment as sh would (bare or inside double quotes, never
 *   inside single quotes; a bare one that is empty or unset leaves no word);
 * - lxc.execute.cmd: a word that starts with a quote runs to the same quote,
 *   nothing else is special (lxc-execute's quoted split);
 * - lxc.init.cmd: split at spaces, nothing else is special (lxc-start's).
 */
import { parse } from 'shell-quote';
import { LxkitError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** C's isspace() in the C locale, which LXC splits at. */
const SPACE = /[ \t\n\v\f\r]/;
const WORD = /^[^ \t\n\v\f\r]*/;

const NAME = /^(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/;

/** `text` without the bare `$NAME`/`${NAME}` that expand to nothing (sh drops them, and a word made of one alone). */
function dropEmptyBare(text: string, env: Env): string {
  let out = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && quote !== "'") {
      out += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = undefined;
    else if (c === '$' && quote === undefined) {
      const m = NAME.exec(text.slice(i + 1));
      if (m && !env[m[1] ?? m[2]!]) {
        i += m[0].length;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** A hook line's words, as sh -c would make them with the hook's environment `env`. */
export function splitCommand(text: string, key: string, env?: Env): string[] {
  const parts = env ? parse(dropEmptyBare(text, env), (name: string) => env[name] ?? '') : parse(text, (name: string) => `$${name}`);
  const words: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') words.push(p);
    else {
      const op = 'op' in p ? p.op : 'comment' in p ? '#' : '?';
      throw new LxkitError('LXKIT_CONFIG_INVALID', `${key} = ${text}: "${String(op)}" needs a shell; lxkit runs commands without one (write a script)`, {
        key,
      });
    }
  }
  return nonEmpty(words, key);
}

/**
 * lxc.execute.cmd's words, as lxc-execute splits it: at whitespace, except
 * that a word starting with ' or " runs to the next same quote (which are not
 * part of it). A quote inside a word is an ordinary character, a backslash is
 * always one, and a quoted word left open at the end is dropped.
 */
export function splitQuotedCommand(text: string, key: string): string[] {
  const words: string[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (SPACE.test(c)) i++;
    else if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) break;
      words.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      const m = WORD.exec(text.slice(i))!;
      words.push(m[0]);
      i += m[0].length;
    }
  }
  return nonEmpty(words, key);
}

/** lxc.init.cmd's words, as lxc-start splits it: at spaces only (a tab, a quote or a backslash is part of a word). */
export function splitSpacedCommand(text: string, key: string): string[] {
  return nonEmpty(
    text.split(' ').filter((w) => w !== ''),
    key,
  );
}

function nonEmpty(words: string[], key: string): string[] {
  if (words.length === 0) throw new LxkitError('LXKIT_CONFIG_INVALID', `${key}: empty command`, { key });
  return words;
}
