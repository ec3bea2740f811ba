/**
 * Splitting a configured command line (lxc.init.cmd, lxc.hook.*) into words,
 * with shell-style quoting (shell-quote) but without a shell: no variable
 * expansion, and shell operators are refused rather than run.
 */
import { parse } from 'shell-quote';
import { LxkitError } from '../errors.js';

export function splitCommand(text: string, key: string): string[] {
  // Variables stay as written: nothing here goes through a shell.
  const parts = parse(text, (name: string) => `$${name}`);
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
