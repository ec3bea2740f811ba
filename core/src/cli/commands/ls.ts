/**
 * `lxkit ls [-1] [-f] [-F COLUMNS] [--active|--running|--stopped|--frozen|--defined]
 * [-g GROUPS] [--filter REGEX | REGEX]` (lxc-ls): the containers of the lxcpath, defined
 * or running. Names in columns on a terminal (one per line otherwise, or
 * with -1); a table with --fancy, its columns chosen with -F, states
 * coloured on a terminal.
 */
import { createRequire } from 'node:module';
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';
import type { ContainerInfo } from '../../container/list.js';

const COLUMNS = ['NAME', 'STATE', 'PID', 'RAM', 'SWAP', 'AUTOSTART', 'GROUPS', 'INTERFACE', 'IPV4', 'IPV6', 'UNPRIVILEGED'] as const;
type Column = (typeof COLUMNS)[number];
const DEFAULT_FANCY: Column[] = ['NAME', 'STATE', 'AUTOSTART', 'GROUPS', 'IPV4', 'IPV6', 'UNPRIVILEGED'];

interface LsOptions {
  line?: boolean;
  fancy?: boolean;
  fancyFormat?: Column[];
  active?: boolean;
  running?: boolean;
  stopped?: boolean;
  frozen?: boolean;
  defined?: boolean;
  groups?: string[];
  filter?: string;
}

function columns(v: string): Column[] {
  const list = v.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
  const bad = list.filter((c) => !(COLUMNS as readonly string[]).includes(c));
  if (list.length === 0 || bad.length) throw new InvalidArgumentError(`unknown column ${bad.join(', ') || '""'}; columns are ${COLUMNS.join(',')}`);
  return list as Column[];
}

function cell(info: ContainerInfo, column: Column): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '-');
  switch (column) {
    case 'NAME':
      return info.name;
    case 'STATE':
      return info.state;
    case 'PID':
      return info.pid !== undefined ? String(info.pid) : '-';
    case 'AUTOSTART':
      return info.autostart ? '1' : '0';
    case 'GROUPS':
      return list(info.groups);
    case 'INTERFACE':
      return list(info.interfaces);
    case 'IPV4':
      return list(info.ipv4);
    case 'IPV6':
      return list(info.ipv6);
    case 'UNPRIVILEGED':
      return info.unprivileged ? 'true' : 'false';
    case 'RAM':
      return megabytes(info.memoryBytes);
    case 'SWAP':
      return megabytes(info.swapBytes);
    default:
      return '-';
  }
}

/** lxc-ls's RAM and SWAP: MiB with two decimals, written "MB" as it does. */
const megabytes = (n: number | undefined) => (n === undefined ? '-' : `${(n / 1048576).toFixed(2)}MB`);

async function ls(ctx: CliContext, filterArg: string | undefined, o: LsOptions): Promise<number> {
  const { containerInfos, LxkitError } = await import('../../index.js');
  const pattern = o.filter ?? filterArg;
  let re: RegExp | undefined;
  try {
    re = pattern ? new RegExp(pattern) : undefined;
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `--filter ${pattern}: not a regular expression (${(err as Error).message})`);
  }
  const use = (o.fancyFormat ?? []).some((c) => c === 'RAM' || c === 'SWAP');
  const all = await containerInfos(await ctx.runtime(), await ctx.lxcpath(), { use });
  const shown = all.filter(
    (c) =>
      (!re || re.test(c.name)) &&
      (!o.defined || c.defined) &&
      (!o.active || c.state !== 'STOPPED') &&
      (!o.running || c.state === 'RUNNING') &&
      (!o.stopped || c.state === 'STOPPED') &&
      (!o.frozen || c.state === 'FROZEN') &&
      (o.groups ?? []).every((g) => c.groups.includes(g)),
  );
  const tty = process.stdout.isTTY === true;
  if (!o.fancy && !o.fancyFormat) {
    const names = shown.map((c) => c.name);
    if (o.line || !tty || names.length === 0) {
      await ctx.out(names.map((n) => n + '\n').join(''));
    } else {
      // Columns across the terminal, as ls and lxc-ls print names.
      const width = Math.max(...names.map((n) => n.length)) + 2;
      const per = Math.max(1, Math.floor((process.stdout.columns ?? 80) / width));
      const rows = [];
      for (let i = 0; i < names.length; i += per) rows.push(names.slice(i, i + per).map((n) => n.padEnd(width)).join('').trimEnd());
      await ctx.out(rows.join('\n') + '\n');
    }
    return 0;
  }
  const cols = o.fancyFormat ?? DEFAULT_FANCY;
  // CommonJS packages, required only when a table is asked for.
  const require = createRequire(import.meta.url);
  const Table = require('cli-table3') as typeof import('cli-table3');
  const pc = require('picocolors') as typeof import('picocolors');
  const colour: Partial<Record<string, (s: string) => string>> = {
    RUNNING: pc.green,
    STOPPED: pc.dim,
    FROZEN: pc.cyan,
    STARTING: pc.yellow,
    STOPPING: pc.yellow,
    ABORTING: pc.red,
  };
  const table = new Table({
    head: cols.map((c) => (tty ? pc.bold(c) : c)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    // lxc-ls --fancy's look: no frame, columns aligned by spaces.
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '' },
  });
  for (const c of shown) table.push(cols.map((col) => (col === 'STATE' && tty ? (colour[c.state] ?? String)(c.state) : cell(c, col))));
  await ctx.out(table.toString().split('\n').map((l: string) => l.trimEnd()).join('\n') + '\n');
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-1, --line', 'one container per line')
    .option('-f, --fancy', 'a table: ' + DEFAULT_FANCY.join(', '))
    .option('-F, --fancy-format <columns>', `the table's columns, comma separated (${COLUMNS.join(',')})`, columns)
    .option('--active', 'only containers that are not stopped')
    .option('--running', 'only running containers')
    .option('--stopped', 'only stopped containers')
    .option('--frozen', 'only frozen containers')
    .option('--defined', 'only containers with a config in the lxcpath')
    .option('-g, --groups <groups>', 'only containers in every one of these groups (lxc.group), comma separated', (v: string) =>
      v.split(',').map((g) => g.trim()).filter(Boolean),
    )
    .option('--filter <regex>', 'only containers whose name matches')
    .argument('[filter]', 'same as --filter')
    .action(action(program, (ctx, filter: string | undefined) => ls(ctx, filter, ctx.opts as never)));
}
