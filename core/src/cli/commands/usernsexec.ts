/**
 * `lxkit usernsexec [-m MAP]… [-- CMD…]` (lxc-usernsexec): CMD (a shell by
 * default) runs as root in a new user namespace, on this terminal, with the
 * environment and working directory it is given; lxkit exits with its status.
 * A map is `u|g|b:FIRST-INSIDE:FIRST-ON-HOST:COUNT` (b: both uids and gids);
 * without -m, the caller's first subordinate range in /etc/subuid and in
 * /etc/subgid maps from 0 on. How a user other than root hands files to
 * a container's ids: `lxkit usernsexec -m b:0:1000:1 -m b:1:190000:1 -- chown 1:1 FILE`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { LxkitError } from '../../errors.js';
import type { IdMap } from '../../config/core-keys/model.js';
import { action, commonOptions, type CliContext } from '../context.js';

const MAP = /^([ugb]):([0-9]+):([0-9]+):([0-9]+)$/;

/** One -m value, as lxc-usernsexec takes it; b gives a uid and a gid map. */
function mapArg(value: string, previous: IdMap[] = []): IdMap[] {
  const m = MAP.exec(value);
  if (!m || Number(m[4]) === 0) throw new InvalidArgumentError(`"${value}" is not a map: use u|g|b:FIRST-INSIDE:FIRST-ON-HOST:COUNT (COUNT above 0)`);
  const [nsid, hostid, range] = [Number(m[2]), Number(m[3]), Number(m[4])];
  const types = m[1] === 'b' ? (['u', 'g'] as const) : [m[1] as 'u' | 'g'];
  return [...previous, ...types.map((type) => ({ type, nsid, hostid, range }))];
}

/**
 * The caller's first subordinate range, from 0 on, as lxc-usernsexec maps it
 * without -m: it reads the first matching line only (a later duplicate or a
 * second range is left out, so an overlapping pair cannot make the map
 * invalid).
 */
async function defaultMaps(): Promise<IdMap[]> {
  const { callerSubids } = await import('../../host/subid.js');
  const maps: IdMap[] = [];
  for (const [type, file] of [
    ['u', process.env['LXKIT_SUBUID'] ?? '/etc/subuid'],
    ['g', process.env['LXKIT_SUBGID'] ?? '/etc/subgid'],
  ] as const) {
    const [first] = await callerSubids(file);
    if (!first) throw new LxkitError('LXKIT_USAGE', `no subordinate ${type}ids for this user in ${file}: give maps with -m`, { path: file });
    maps.push({ type, nsid: 0, hostid: first.start, range: first.count });
  }
  return maps;
}

async function usernsexec(ctx: CliContext, argv: string[], given: IdMap[] | undefined): Promise<number> {
  const idmap = given ?? (await defaultMaps());
  // The command becomes root inside: without root mapped there is no root to become (lxc-usernsexec fails then too).
  for (const type of ['u', 'g'] as const) {
    if (!idmap.some((m) => m.type === type && m.nsid === 0)) {
      throw new LxkitError('LXKIT_USAGE', `no map gives ${type}id 0 inside: the command runs as root in the user namespace (add -m ${type}:0:HOST-ID:1, or b:… for both)`);
    }
  }
  const { execInUserNamespace } = await import('../../start/userns-run.js');
  const env = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const exit = await execInUserNamespace({ idmap, argv: argv.length > 0 ? argv : ['/bin/sh'], env, cwd: process.cwd(), log: ctx.log });
  return exit.code;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-m, --map <map>', 'an id map, u|g|b:FIRST-INSIDE:FIRST-ON-HOST:COUNT (repeatable); without, the caller\'s subordinate ids from 0', mapArg)
    .argument('[command...]', 'the command and its arguments, after -- (default: /bin/sh)')
    .action(action(program, (ctx, argv: string[]) => usernsexec(ctx, argv, (ctx.opts as { map?: IdMap[] }).map)));
}
