/**
 * `lxkit ls [-1] [-f] [-F COLUMNS] [--active|--running|--stopped|--frozen|--defined]
 * [-g GROUPS] [--nesting[=LEVELS]] [--filter REGEX | REGEX]` (lxc-ls): the containers of
 * the lxcpath, defined or running. Names in columns on a terminal (one per line
 * otherwise, or with -1); a table with --fancy, its columns chosen with -F,
 * states coloured on a terminal. With --nesting, each running container is
 * followed by the containers in the same lxcpath inside it: named
 * OUTER/INNER, or indented under it in a table, as lxc-ls shows them.
 */
import { createRequire } from 'node:module';
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';
import type { ContainerInfo, NestedContainerInfo } from '../../container/list.js';

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
  /** --nesting: true without a number (commander does not call the parser then). */
  nesting?: number | true;
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
  const { containerInfos, nestedContainerInfos, LxkitError, messageOf } = await import('../../index.js');
  const pattern = o.filter ?? filterArg;
  let re: RegExp | undefined;
  try {
    re = pattern ? new RegExp(pattern) : undefined;
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `--filter ${pattern}: not a regular expression (${(err as Error).message})`);
  }
  const use = (o.fancyFormat ?? []).some((c) => c === 'RAM' || c === 'SWAP');
  const wanted = (c: ContainerInfo) =>
    (!re || re.test(c.name)) &&
    (!o.defined || c.defined) &&
    (!o.active || c.state !== 'STOPPED') &&
    (!o.running || c.state === 'RUNNING') &&
    (!o.stopped || c.state === 'STOPPED') &&
    (!o.frozen || c.state === 'FROZEN') &&
    (o.groups ?? []).every((g) => c.groups.includes(g));
  const runtime = await ctx.runtime();
  const lxcpath = await ctx.lxcpath();
  // Each level filtered as lxc-ls filters it: a nested container shows when it and the ones it is in do.
  const shown: (ContainerInfo & Partial<NestedContainerInfo>)[] =
    o.nesting !== undefined
      ? await nestedContainerInfos(runtime, lxcpath, {
          levels: o.nesting === true ? NESTING_LEVELS : o.nesting,
          use,
          shown: wanted,
          skipped: (name, err) => ctx.log.warn(`the containers in "${name}" are not listed: ${messageOf(err)}`),
        })
      : (await containerInfos(runtime, lxcpath, { use })).filter(wanted);
  const tty = process.stdout.isTTY === true;
  if (!o.fancy && !o.fancyFormat) {
    const names = shown.map((c) => [...(c.parents ?? []), c.name].join('/'));
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
  // lxc-ls --fancy's nesting: a nested container's name under its parent's, behind a backslash one column further in at each level.
  const nameOf = (c: (typeof shown)[number]) => (c.level ? `${' '.repeat(c.level - 1)}\\${c.name}` : c.name);
  for (const c of shown) {
    table.push(cols.map((col) => (col === 'STATE' && tty ? (colour[c.state] ?? String)(c.state) : col === 'NAME' ? nameOf(c) : cell(c, col))));
  }
  await ctx.out(table.toString().split('\n').map((l: string) => l.trimEnd()).join('\n') + '\n');
  return 0;
}

/** lxc-ls --nesting's levels when no number is given. */
const NESTING_LEVELS = 5;

/** lxc-ls's --nesting=NUM. */
function nestingLevels(v: string): number {
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a number of levels`);
  return Number(v);
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
    .option('--nesting [levels]', 'also the containers in the same lxcpath inside each running container, down to LEVELS deep (5)', nestingLevels)
    .option('--filter <regex>', 'only containers whose name matches')
    .argument('[filter]', 'same as --filter')
    .action(action(program, (ctx, filter: string | undefined) => ls(ctx, filter, ctx.opts as never)));
}
