/**
 * Writing a user namespace's id maps: root writes /proc/<pid>/{uid,gid}_map
 * itself; other users go through the setuid newuidmap/newgidmap, which check
 * /etc/subuid and /etc/subgid (and let a user map its own uid and gid).
 */
import { writeFile } from 'node:fs/promises';
import type { IdMap } from '../config/core-keys/model.js';
import { importExeca } from '../esm-imports.js';

async function writeMap(pid: number, kind: 'u' | 'g', maps: readonly IdMap[]): Promise<void> {
  const file = `/proc/${pid}/${kind}id_map`;
  if (process.getuid?.() === 0) {
    await writeFile(file, maps.map((m) => `${m.nsid} ${m.hostid} ${m.range}\n`).join(''));
    return;
  }
  const { execa } = await importExeca();
  const tool = kind === 'u' ? 'newuidmap' : 'newgidmap';
  await execa(tool, [String(pid), ...maps.flatMap((m) => [String(m.nsid), String(m.hostid), String(m.range)])]);
}

/** Writes the uid and then the gid map of `pid`'s user namespace; a failure says which. */
export async function writeIdMaps(pid: number, maps: readonly IdMap[], fail: (kind: 'uid' | 'gid', err: unknown) => Error): Promise<void> {
  for (const kind of ['u', 'g'] as const) {
    const mine = maps.filter((m) => m.type === kind);
    if (mine.length === 0) continue;
    try {
      await writeMap(pid, kind, mine);
    } catch (err) {
      throw fail(kind === 'u' ? 'uid' : 'gid', err);
    }
  }
}
