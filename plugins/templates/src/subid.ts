/**
 * Subordinate id ranges (/etc/subuid, /etc/subgid): the host ids an
 * unprivileged container's ids map to. As LXD does, a missing range for root
 * is added (100000:65536, or the first free block of 65536 after the ranges
 * already given out); another user must have one already.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseSubids } from '@lxkit/core';

export interface SubidRange {
  readonly start: number;
  readonly count: number;
}

const SIZE = 65536;

/** Root's range in `file`, added when missing. */
export async function ensureRootRange(file: string): Promise<SubidRange> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const ranges = parseSubids(text);
  const mine = ranges.find((r) => (r.user === 'root' || r.user === '0') && r.count >= SIZE);
  if (mine) return { start: mine.start, count: SIZE };
  // After every range already given out, from 100000 on (the usual first range).
  const start = ranges.reduce((m, r) => Math.max(m, r.start + r.count), 100000);
  await appendFile(file, `${text && !text.endsWith('\n') ? '\n' : ''}root:${start}:${SIZE}\n`);
  return { start, count: SIZE };
}

/**
 * The calling user's range in `file` (by name or uid), for a user other than
 * root: it cannot add one, so a missing range is an error saying how to get one.
 */
export async function callerRange(file: string): Promise<SubidRange> {
  const { username } = userInfo();
  const uid = String(process.getuid?.() ?? '');
  const text = await readFile(file, 'utf8').catch(() => '');
  const mine = parseSubids(text).find((r) => (r.user === username || r.user === uid) && r.count >= SIZE);
  if (!mine) {
    throw new Error(
      `user ${username} has no range of ${SIZE} subordinate ids in ${file}; root can give one with ` +
        `"usermod --add-subuids 200000-265535 --add-subgids 200000-265535 ${username}"`,
    );
  }
  return { start: mine.start, count: SIZE };
}
