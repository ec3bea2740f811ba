/**
 * LXC's seccomp policy files, read as LXC reads them (seccomp.c):
 *
 *   line 1   `1` or `2`
 *   line 2   v1: `allowlist`; v2: `allowlist` or `denylist` (or the old
 *            `whitelist`/`blacklist`), optionally followed by the default action
 *   then     rules: `NAME [ACTION] [idx,value,op[,mask]]…`, `[arch]` sections,
 *            `reject_force_umount`, `#` comments and blank lines; v1 rules are
 *            bare syscall numbers.
 *
 * Defaults: a denylist allows by default and its rules kill; an allowlist
 * kills by default and its rules allow. Actions: kill, errno N, allow,
 * trap, notify. At most six argument filters, idx < 6, op one of
 * SCMP_CMP_{NE,LT,LE,EQ,GE,GT,MASKED_EQ} or != < <= == >= > &=.
 * An error names the file, line and reason.
 */
import { LxkitError } from '@lxkit/core';

export type Action = { kind: 'kill' } | { kind: 'allow' } | { kind: 'trap' } | { kind: 'notify' } | { kind: 'errno'; errno: number };

export type CompareOp = 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';

export interface ArgFilter {
  readonly index: number;
  readonly op: CompareOp;
  /** The value compared with (for masked_eq: the value after masking). */
  readonly value: bigint;
  /** masked_eq only. */
  readonly mask?: bigint;
}

/** Where a rule applies: every architecture the host runs, or one of them. */
export type Section = 'all' | 'native' | 'x86' | 'x32' | 'x86_64' | 'arm' | 'arm64' | 'ppc64le' | 'ppc64' | 'ppc' | 'mips64' | 'mips64n32' | 'mips' | 'mipsel64' | 'mipsel64n32' | 'mipsel' | 's390x' | 's390';

export interface Rule {
  /** A syscall name, or (v1) a number. */
  readonly syscall: string | number;
  readonly action: Action;
  readonly args: readonly ArgFilter[];
  readonly section: Section;
  readonly line: number;
}

export interface Policy {
  readonly version: 1 | 2;
  readonly list: 'allowlist' | 'denylist';
  readonly defaultAction: Action;
  readonly rules: readonly Rule[];
  readonly rejectForceUmount: boolean;
  readonly file: string;
}

const SECTIONS = new Set<string>(['all', 'x86', 'x32', 'x86_64', 'arm', 'arm64', 'ppc64le', 'ppc64', 'ppc', 'mips64', 'mips64n32', 'mips', 'mipsel64', 'mipsel64n32', 'mipsel', 's390x', 's390']);

const OPS: Record<string, CompareOp> = {
  SCMP_CMP_NE: 'ne', '!=': 'ne',
  SCMP_CMP_LT: 'lt', '<': 'lt',
  SCMP_CMP_LE: 'le', '<=': 'le',
  SCMP_CMP_EQ: 'eq', '==': 'eq',
  SCMP_CMP_GE: 'ge', '>=': 'ge',
  SCMP_CMP_GT: 'gt', '>': 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq', '&=': 'masked_eq',
};

export class PolicyError extends LxkitError {
  constructor(file: string, line: number, reason: string) {
    super('LXKIT_CONFIG_INVALID', `${file}:${line}: ${reason}`, { path: file, line });
  }
}

/** A number as LXC's strtoull(…, 0) reads it: decimal, 0x hex or 0 octal, up to 64 bits. */
function parseU64(text: string): bigint | undefined {
  if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(text)) return undefined;
  const v = text.length > 1 && text[0] === '0' && !/^0[xX]/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
  return v < 1n << 64n ? v : undefined;
}

/** `kill`, `allow`, `trap`, `notify`, `errno N` at the start of `words`; returns the action and how many words it took. */
function parseAction(words: readonly string[], at: number): [Action, number] | undefined {
  const w = words[at];
  if (w === 'kill' || w === 'allow' || w === 'trap' || w === 'notify') return [{ kind: w }, 1];
  if (w === 'errno') {
    const n = words[at + 1];
    if (n === undefined || !/^-?[0-9]+$/.test(n)) return undefined;
    const errno = Number(n);
    return [{ kind: 'errno', errno }, 2];
  }
  return undefined;
}

function parseArg(text: string, file: string, line: number): ArgFilter {
  const parts = text.replace(/^\[|\]$/g, '').split(',').map((p) => p.trim());
  if (parts.length < 3 || parts.length > 4) throw new PolicyError(file, line, `argument filter "${text}": expected [index,value,op] or [index,value,SCMP_CMP_MASKED_EQ,mask]`);
  const index = Number(parts[0]);
  if (!/^[0-9]+$/.test(parts[0]!) || index > 5) throw new PolicyError(file, line, `argument filter "${text}": the argument index must be 0 to 5`);
  const op = OPS[parts[2]!];
  if (!op) throw new PolicyError(file, line, `argument filter "${text}": unknown operator "${parts[2]}"`);
  const value = parseU64(parts[1]!);
  if (value === undefined) throw new PolicyError(file, line, `argument filter "${text}": "${parts[1]}" is not a number`);
  if (op === 'masked_eq') {
    const mask = parts[3] === undefined ? undefined : parseU64(parts[3]);
    if (mask === undefined) throw new PolicyError(file, line, `argument filter "${text}": SCMP_CMP_MASKED_EQ needs a mask`);
    // [index, value, op, mask]: the argument matches when (arg & mask) == value.
    return { index, op, value, mask };
  }
  if (parts[3] !== undefined) throw new PolicyError(file, line, `argument filter "${text}": only SCMP_CMP_MASKED_EQ takes a mask`);
  return { index, op, value };
}

export function parsePolicy(text: string, file: string): Policy {
  const lines = text.split('\n');
  let n = 0;
  const next = (): [string, number] | undefined => {
    while (n < lines.length) {
      const raw = lines[n++]!;
      const t = raw.replace(/\r$/, '').trim();
      if (t === '' || t.startsWith('#')) continue;
      return [t, n];
    }
    return undefined;
  };
  const first = next();
  if (!first || (first[0] !== '1' && first[0] !== '2')) throw new PolicyError(file, first?.[1] ?? 1, `expected the policy version (1 or 2) on the first line, found "${first?.[0] ?? ''}"`);
  const version = Number(first[0]) as 1 | 2;
  const head = next();
  if (!head) throw new PolicyError(file, first[1], 'expected "allowlist" or "denylist" after the version');
  const headWords = head[0].replace(/#.*$/, '').trim().split(/\s+/);
  const kind = { allowlist: 'allowlist', whitelist: 'allowlist', denylist: 'denylist', blacklist: 'denylist' }[headWords[0]!] as Policy['list'] | undefined;
  if (!kind || (version === 1 && kind !== 'allowlist')) {
    throw new PolicyError(file, head[1], version === 1 ? `a version 1 policy must be an allowlist, not "${headWords[0]}"` : `expected "allowlist" or "denylist", found "${headWords[0]}"`);
  }
  let defaultAction: Action = kind === 'denylist' ? { kind: 'allow' } : { kind: 'kill' };
  if (headWords.length > 1) {
    if (version === 1) throw new PolicyError(file, head[1], 'a version 1 policy takes no default action');
    const a = parseAction(headWords, 1);
    if (!a || a[1] !== headWords.length - 1) throw new PolicyError(file, head[1], `unknown default action "${headWords.slice(1).join(' ')}"`);
    defaultAction = a[0];
  }
  const ruleDefault: Action = kind === 'denylist' ? { kind: 'kill' } : { kind: 'allow' };
  const rules: Rule[] = [];
  let section: Section = 'all';
  let rejectForceUmount = false;
  for (let l = next(); l; l = next()) {
    const [t, line] = l;
    const body = t.replace(/\s#.*$/, '').trim();
    if (version === 1) {
      if (!/^[0-9]+$/.test(body)) throw new PolicyError(file, line, `a version 1 policy lists syscall numbers, not "${body}"`);
      rules.push({ syscall: Number(body), action: { kind: 'allow' }, args: [], section: 'native', line });
      continue;
    }
    const sec = /^\[([^\]]+)\]$/.exec(body);
    if (sec) {
      const name = sec[1]!.trim().toLowerCase();
      if (!SECTIONS.has(name)) throw new PolicyError(file, line, `unknown architecture section [${sec[1]}]`);
      section = name as Section;
      continue;
    }
    if (body === 'reject_force_umount') {
      rejectForceUmount = true;
      continue;
    }
    const words = body.split(/\s+/);
    const name = words[0]!;
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new PolicyError(file, line, `"${name}" is not a syscall name`);
    let at = 1;
    let action: Action = ruleDefault;
    const a = words[at] && !words[at]!.startsWith('[') ? parseAction(words, at) : undefined;
    if (a) {
      action = a[0];
      at += a[1];
    } else if (words[at] && !words[at]!.startsWith('[')) {
      throw new PolicyError(file, line, `${name}: unknown action "${words[at]}"`);
    }
    // Argument filters: [idx,value,op(,mask)], possibly spread over words ("[1, 0, ==]").
    const rest = words.slice(at).join(' ');
    const args = [...rest.matchAll(/\[[^\]]*\]/g)].map((m) => parseArg(m[0], file, line));
    if (rest.replace(/\[[^\]]*\]/g, '').trim() !== '') throw new PolicyError(file, line, `${name}: cannot read "${rest}"`);
    if (args.length > 6) throw new PolicyError(file, line, `${name}: at most 6 argument filters`);
    if (action.kind === 'errno' && (action.errno < 0 || action.errno > 4095)) throw new PolicyError(file, line, `${name}: errno ${action.errno} is out of range (0 to 4095)`);
    rules.push({ syscall: name, action, args, section, line });
  }
  if (defaultAction.kind === 'errno' && (defaultAction.errno < 0 || defaultAction.errno > 4095)) throw new PolicyError(file, head[1], `errno ${defaultAction.errno} is out of range (0 to 4095)`);
  return { version, list: kind, defaultAction, rules, rejectForceUmount, file };
}
