/**
 * lxc.idmap: writes the user namespace's id maps first on the start-host
 * hook, while the container's first process waits. Root writes
 * /proc/<pid>/{uid,gid}_map itself; other users go through the setuid
 * newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
 */
import { writeFile } from 'node:fs/promises';
import type { IdMap } from '../config/core-keys/model.js';
import { LxkitError, messageOf } from '../errors.js';
import { STAGE_FIRST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { VERSION } from '../version.js';
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

export const idmapPlugin = definePlugin({
  name: 'idmap',
  version: VERSION,
  apply(runtime) {
    runtime.hooks.startHost.tapPromise({ name: 'idmap', stage: STAGE_FIRST }, async (ctx) => {
      const maps = ctx.container.config.model.idmap;
      if (!ctx.userns || maps.length === 0 || ctx.pid === undefined) return;
      for (const kind of ['u', 'g'] as const) {
        const mine = maps.filter((m) => m.type === kind);
        if (mine.length === 0) continue;
        try {
          await writeMap(ctx.pid, kind, mine);
        } catch (err) {
          throw new LxkitError('LXKIT_START_FAILED', `cannot write the ${kind === 'u' ? 'uid' : 'gid'} map of the container: ${messageOf(err)}`, {
            cause: err,
            key: 'lxc.idmap',
            container: ctx.container.name,
          });
        }
      }
    });
  },
});
