/**
 * Splitting a configured command line (lxc.init.cmd, lxc.hook.*) into words,
 * with shell-style quoting (shell-quote) but without a shell: shell operators
 * are refused rather than run. Variables are expanded only when an
 * environment is given (hook scripts, which LXC runs through sh -c with the
 * hook's environment), as sh would expand them: inside double quotes or bare,
 * never inside single quotes; a bare one that is empty or unset leaves no word.
 */
import { parse } from 'shell-quote';
import { LxkitError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

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
  if (words.length === 0) throw new LxkitError('LXKIT_CONFIG_INVALID', `${key}: empty command`, { key });
  return words;
}
