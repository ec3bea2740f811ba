/**
 * Subordinate id ranges (/etc/subuid, /etc/subgid, as shadow-utils writes
 * them: `user:start:count` per line, the user by name or uid): the host ids a
 * user may map into a user namespace with newuidmap/newgidmap.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';

export interface SubidEntry {
  /** The user, as the line names it (a name or a uid). */
  readonly user: string;
  readonly start: number;
  readonly count: number;
}

/** The file's entries, in order; comments, blank and malformed lines are left out. */
export function parseSubids(text: string): SubidEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [user = '', start = '', count = ''] = l.split(':');
      return { user, start: Number(start), count: Number(count) };
    })
    .filter((r) => r.user !== '' && Number.isInteger(r.start) && Number.isInteger(r.count) && r.count > 0);
}

/** The calling user's ranges in `file` (by name or uid), in order; none when the file is missing. */
export async function callerSubids(file: string): Promise<SubidEntry[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const { username } = userInfo();
  const uid = String(process.getuid?.() ?? '');
  return parseSubids(text).filter((r) => r.user === username || r.user === uid);
}
