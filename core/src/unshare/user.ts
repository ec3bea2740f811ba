/**
 * lxc-unshare's -u: a user of this host, by name or uid, as the C library
 * (NSS) knows it; id(1) asks it, so users from LDAP and the like count too.
 */
import { LxkitError } from '../errors.js';
import { importExeca } from '../esm-imports.js';

export interface HostUser {
  readonly uid: number;
  readonly gid: number;
  /** Every group of the user, its primary group included. */
  readonly groups: readonly number[];
}

export async function lookupUser(user: string): Promise<HostUser> {
  if (user === '' || user.startsWith('-')) throw new LxkitError('LXKIT_USAGE', `-u "${user}": not a user name or uid`);
  const { execa } = await importExeca();
  const ask = async (flag: '-u' | '-g' | '-G') => {
    // `--`: a name such as "-x" is no option of id's. A number is a uid once no user has it as a name.
    const r = await execa('id', [flag, '--', user], { reject: false, env: { LC_ALL: 'C' } });
    if (r.exitCode !== 0) throw new LxkitError('LXKIT_USAGE', `-u ${user}: this host has no such user (${String(r.stderr).trim() || `id exited ${r.exitCode}`})`);
    return String(r.stdout).trim().split(/\s+/).map(Number);
  };
  const [[uid], [gid], groups] = await Promise.all([ask('-u'), ask('-g'), ask('-G')]);
  return { uid: uid!, gid: gid!, groups: groups! };
}
