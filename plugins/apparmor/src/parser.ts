/**
 * apparmor_parser, run through execa with argument arrays: load (-r) and
 * unload (-R) with a binary cache (-W -L DIR) so that a repeated start of an
 * unchanged profile loads the cached policy instead of recompiling it, and
 * a compile-only check (-Q: everything but the kernel load) that works on
 * hosts where AppArmor is off.
 */
import { importExeca, LxkitError } from '@lxkit/core';

export interface ParserVersion {
  major: number;
  minor: number;
  micro: number;
}

let version: Promise<ParserVersion | undefined> | undefined;

/** `apparmor_parser --version`, once per process; undefined when it is not installed. */
export function parserVersion(): Promise<ParserVersion | undefined> {
  version ??= (async () => {
    const { execa } = await importExeca();
    const r = await execa('apparmor_parser', ['--version'], { reject: false });
    const m = /AppArmor parser version (\d+)\.(\d+)(?:\.(\d+))?/.exec(String(r.stdout));
    return r.exitCode === 0 && m ? { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) } : undefined;
  })();
  return version;
}

/** Unix rules are understood from 2.10.95 on. */
export const supportsUnix = (v: ParserVersion): boolean => v.major > 2 || (v.major === 2 && (v.minor > 10 || (v.minor === 10 && v.micro >= 95)));

async function run(args: string[], what: string, path: string, input?: string): Promise<void> {
  const { execa } = await importExeca();
  const r = await execa('apparmor_parser', args, input === undefined ? { reject: false, stdin: 'ignore' } : { reject: false, input });
  if (r.exitCode === 0) return;
  // The parser's own message names the line; the cache warnings around it are noise on hosts without AppArmor.
  const message = String(r.stderr)
    .split('\n')
    .filter((l) => l && !l.startsWith('Cache read/write disabled'))
    .join('; ');
  const detail = r.failed && r.exitCode === undefined ? String(r.shortMessage) : message || `exit status ${r.exitCode}`;
  throw new LxkitError('LXKIT_APPARMOR_FAILED', `apparmor_parser could not ${what} ${path}: ${detail}`, { path });
}

/** Loads (or replaces) the profile in `file`, keeping its binary in `cache`. */
export const loadProfile = (file: string, cache: string): Promise<void> => run(['-rWL', cache, file], 'load', file);

/** Removes the profile in `file` from the kernel. */
export const unloadProfile = (file: string, cache: string): Promise<void> => run(['-RWL', cache, file], 'unload', file);

/** Compiles `text` without loading it (apparmor_parser -Q -K); rejects with the parser's message. */
export const checkProfile = (text: string, name = '<generated profile>'): Promise<void> => run(['-Q', '-K'], 'compile', name, text);
