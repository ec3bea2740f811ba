/**
 * Running a host tool (ip, nft, btrfs, losetup…) with an argument array,
 * never a shell: its failure is an LxkitError saying what lxkit was doing
 * and what the tool said, or that the tool is not installed.
 */
import { importExeca } from '../esm-imports.js';
import { LxkitError, type ErrorCode, type ErrorDetails } from '../errors.js';

export interface ToolOptions {
  /** What lxkit was doing, for the message: "adding the bridge lxcbr0". */
  what: string;
  /** The code of the error a failure raises. */
  code: ErrorCode;
  details?: ErrorDetails;
  env?: Record<string, string>;
  /** Written to the tool's stdin (else it reads nothing). */
  input?: string;
}

/** Runs `file args…`; resolves with its trimmed stdout. */
export async function runTool(file: string, args: readonly string[], o: ToolOptions): Promise<string> {
  const { execa } = await importExeca();
  const r = await execa(file, args, {
    reject: false,
    all: true,
    ...(o.input === undefined ? { stdin: 'ignore' as const } : { input: o.input }),
    ...(o.env ? { env: o.env } : {}),
  });
  if (r.failed) {
    const why = (r as { code?: string }).code === 'ENOENT' ? `${file} is not installed` : `${file} ${args.join(' ')}: ${String(r.all ?? '').trim() || `exit ${r.exitCode}`}`;
    throw new LxkitError(o.code, `${o.what}: ${why}`, o.details ?? {});
  }
  return String(r.stdout ?? '').trim();
}
