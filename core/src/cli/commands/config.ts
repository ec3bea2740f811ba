/**
 * `lxkit config -l | ITEM`: the toolkit's lxc.system.conf items, printed as
 * lxc-config prints them.
 * `lxkit config validate FILE…`: checks container config files with every
 * enabled plugin validating its keys; one `FILE:LINE: KEY: reason` line per
 * problem and exit 1 when there is any.
 */
import type { Command } from 'commander';
import { LxkitError } from '../../errors.js';
import { SYSTEM_CONFIG_ITEMS } from '../../toolkit/items.js';
import { action, commonOptions, type CliContext } from '../context.js';

async function show(ctx: CliContext, item: string | undefined, opts: { list?: boolean }): Promise<number> {
  if (opts.list) {
    // Like lxc-config -l: the names of the items, whatever their values.
    await ctx.out(SYSTEM_CONFIG_ITEMS.map((k) => k + '\n').join(''));
    return 0;
  }
  if (!item) {
    await ctx.out('Usage: lxkit config -l: list all available configuration items\n       lxkit config ITEM: print configuration item\n');
    return 0;
  }
  const known = SYSTEM_CONFIG_ITEMS.find((k) => k === item);
  if (!known) throw new LxkitError('LXKIT_USAGE', `Unknown configuration item: ${item}`);
  const { systemConfigItem } = await import('../../toolkit/config.js');
  const value = systemConfigItem(await ctx.toolkit(), known);
  await ctx.out(value === undefined ? `${item} is not set.\n` : `${value}\n`);
  return 0;
}

async function validate(ctx: CliContext, files: string[], opts: { json?: boolean }): Promise<number> {
  const { formatProblem, validateContainerConfig } = await import('../../index.js');
  const runtime = await ctx.runtime();
  const report: { file: string; problems: unknown[]; error?: string }[] = [];
  let failed = false;
  for (const file of files) {
    try {
      const { problems } = await validateContainerConfig(runtime, { path: file });
      report.push({ file, problems: [...problems] });
      for (const p of problems) {
        if (p.severity === 'error') {
          failed = true;
          if (!opts.json) await ctx.out(formatProblem(p) + '\n');
        } else if (!opts.json && !ctx.opts.quiet) {
          process.stderr.write(formatProblem(p) + '\n');
        }
      }
    } catch (err) {
      if (!(err instanceof LxkitError)) throw err;
      failed = true;
      report.push({ file, problems: [], error: err.message });
      if (!opts.json) await ctx.out(`${file}: ${err.message}\n`);
    }
  }
  if (opts.json) await ctx.out(JSON.stringify(report, null, 2) + '\n');
  return failed ? 1 : 0;
}

export function define(cmd: Command, program: string): void {
  // Options after `validate` belong to validate, not to config.
  cmd.enablePositionalOptions();
  commonOptions(cmd, { shortLogPriority: false })
    .argument('[item]', 'configuration item to print, e.g. lxc.lxcpath')
    .option('-l, --list', 'list all available configuration items')
    .action(action(program, (ctx, item: string | undefined) => show(ctx, item, ctx.opts as { list?: boolean })));

  const v = cmd
    .command('validate')
    .description('check container config files: one FILE:LINE: KEY: reason line per problem, exit 1 if any')
    .argument('<file...>', 'container config files');
  commonOptions(v)
    .option('--json', 'print a JSON report instead')
    .action(action(program, (ctx, files: string[]) => validate(ctx, files, ctx.opts as { json?: boolean })));
}
