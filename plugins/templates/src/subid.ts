/**
 * Root's subordinate id ranges (/etc/subuid, /etc/subgid): the host ids an
 * unprivileged container's ids map to. As LXD does, a missing range for root
 * is added (100000:65536, or the first free block of 65536 after the ranges
 * already given out).
 */
import { appendFile, readFile } from 'node:fs/promises';

export interface SubidRange {
  readonly start: number;
  readonly count: number;
}

const SIZE = 65536;

function parse(text: string): { user: string; start: number; count: number }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [user = '', start = '', count = ''] = l.split(':');
      return { user, start: Number(start), count: Number(count) };
    })
    .filter((r) => Number.isInteger(r.start) && Number.isInteger(r.count));
}

/** Root's range in `file`, added when missing. */
export async function ensureRootRange(file: string): Promise<SubidRange> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const ranges = parse(text);
  const mine = ranges.find((r) => (r.user === 'root' || r.user === '0') && r.count >= SIZE);
  if (mine) return { start: mine.start, count: SIZE };
  // After every range already given out, from 100000 on (the usual first range).
  const start = ranges.reduce((m, r) => Math.max(m, r.start + r.count), 100000);
  await appendFile(file, `${text && !text.endsWith('\n') ? '\n' : ''}root:${start}:${SIZE}\n`);
  return { start, count: SIZE };
}
