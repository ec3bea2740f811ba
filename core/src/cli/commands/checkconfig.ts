/**
 * `lxkit checkconfig [--json] [--kernel-config FILE]` (lxc-checkconfig):
 * coloured sections for a terminal, or JSON for scripts.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import type { CheckconfigReport, CheckStatus } from '../../index.js';
import { VERSION } from '../../version.js';
import { action, commonOptions, type CliContext } from '../context.js';

const COLOUR: Record<CheckStatus, (s: string) => string> = {
  enabled: pc.green,
  module: pc.yellow,
  missing: pc.red,
  unavailable: pc.yellow,
};

function render(report: CheckconfigReport): string {
  const lines: string[] = [];
  lines.push(
    `lxkit ${VERSION}, kernel ${report.kernel.release}` +
      (report.kernel.config ? ` (config: ${report.kernel.config})` : ' (no kernel config found)'),
  );
  if (!report.kernel.probed) lines.push(pc.yellow('Live probes skipped: checking a given kernel config, not the running kernel.'));
  let section = '';
  for (const r of report.results) {
    if (r.section !== section) {
      section = r.section;
      lines.push('', pc.bold(`--- ${section} ---`));
    }
    if (r.id === 'cgroup.layout') {
      lines.push(`${r.label}: ${COLOUR[r.status](r.detail ?? r.status)}`);
      for (const h of report.cgroup.hierarchies) {
        lines.push(pc.dim(`  v${h.version} ${h.mountpoint}${h.controllers.length ? ': ' + h.controllers.join(' ') : ''}`));
      }
      continue;
    }
    const status = COLOUR[r.status](r.status === 'module' ? 'enabled, not loaded' : r.status);
    lines.push(`${r.label}: ${status}${r.detail ? pc.dim(` (${r.detail})`) : ''}`);
  }
  lines.push('', 'To check a kernel before booting it: lxkit checkconfig --kernel-config /path/to/config');
  return lines.join('\n') + '\n';
}

async function run(ctx: CliContext, opts: { json?: boolean; kernelConfig?: string }): Promise<number> {
  const { checkconfig } = await import('../../index.js');
  const report = await checkconfig(opts.kernelConfig ? { kernelConfig: opts.kernelConfig } : {});
  await ctx.out(opts.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('--json', 'print the report as JSON')
    .option('--kernel-config <file>', 'check this kernel config (may be .gz) instead of the running kernel (env CONFIG works too)')
    .action(action(program, (ctx) => run(ctx, ctx.opts as { json?: boolean; kernelConfig?: string })));
}
