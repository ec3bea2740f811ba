/**
 * `lxkit update-config -c FILE`: converts LXC 1.x/2.x keys to current ones,
 * keeping the original as FILE.backup (lxc-update-config).
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function update(ctx: CliContext, file: string): Promise<number> {
  const { updateConfigFile } = await import('../../index.js');
  const result = await updateConfigFile(file);
  for (const c of result.changes) {
    ctx.log.info(`${file}:${c.line}: ${c.from.trim()} -> ${c.to === undefined ? '(removed)' : c.to.trim()}`);
  }
  for (const e of result.errors) ctx.log.error(`${file}:${e.line}: ${e.from.trim()}: ${e.note}; left unchanged`);
  if (!ctx.opts.quiet) {
    await ctx.out(
      result.backup
        ? `${file}: ${result.changes.length} line(s) converted; the original is in ${result.backup}\n`
        : `${file}: no legacy keys, unchanged\n`,
    );
  }
  return result.errors.length > 0 ? 1 : 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .requiredOption('-c, --config <file>', 'the container configuration file to update')
    .action(action(program, (ctx) => update(ctx, (ctx.opts as { config: string }).config)));
}
