/**
 * `lxkit checkconfig`: gathers host facts (kernel config, live probes run by
 * the native lxkit-probe helper, cgroup layout, filesystems, device nodes)
 * and evaluates the checks against them.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { helperPath } from '../native-package.js';
import { LxkitError, messageOf } from '../errors.js';
import { readCgroupLayout, type CgroupLayout } from '../host/cgroup-layout.js';
import { readKernelConfig } from '../host/kernel-config.js';
import { PROBES_USED, runChecks, type CheckResult, type ProbeResult } from './checks.js';
import { importExeca } from '../esm-imports.js';

export interface CheckconfigReport {
  readonly kernel: {
    readonly release: string;
    /** Where the kernel config came from; null when none was found. */
    readonly config: string | null;
    /** False when an explicit config was given: live probes describe the running kernel, not that one. */
    readonly probed: boolean;
  };
  readonly cgroup: CgroupLayout;
  readonly results: readonly CheckResult[];
}

export interface CheckconfigOptions {
  /** A kernel config to check instead of the running kernel's (lxc-checkconfig's CONFIG=). */
  kernelConfig?: string;
}

/** Runs lxkit-probe; one JSON line per probe. */
export async function runProbes(names: readonly string[]): Promise<Map<string, ProbeResult>> {
  const { execa } = await importExeca();
  let stdout: string;
  try {
    ({ stdout } = await execa(helperPath('lxkit-probe'), [...new Set(names)], { timeout: 30_000 }));
  } catch (err) {
    throw new LxkitError('LXKIT_PROBE_FAILED', `kernel feature probes could not run: ${messageOf(err)}`, { cause: err });
  }
  const out = new Map<string, ProbeResult>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const { probe, ...result } = JSON.parse(line) as ProbeResult & { probe: string };
    out.set(probe, result);
  }
  return out;
}

function which(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function checkconfig(opts: CheckconfigOptions = {}): Promise<CheckconfigReport> {
  const explicit = opts.kernelConfig ?? process.env['CONFIG'];
  let source;
  try {
    source = await readKernelConfig(explicit);
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `cannot read kernel config ${explicit}: ${messageOf(err)}`, {
      cause: err,
      ...(explicit ? { path: explicit } : {}),
    });
  }
  const probed = explicit === undefined;
  const [probes, cgroups] = await Promise.all([
    probed ? runProbes(PROBES_USED) : Promise.resolve(new Map<string, ProbeResult>()),
    readCgroupLayout(),
  ]);
  const filesystems = new Set(
    (readText('/proc/filesystems') ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter(Boolean),
  );
  const results = runChecks({
    kernel: source?.config,
    probes,
    cgroups,
    filesystems,
    exists: existsSync,
    readText,
    which,
  });
  return { kernel: { release: release(), config: source?.path ?? null, probed }, cgroup: cgroups, results };
}
