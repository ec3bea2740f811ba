/** One look at every active container of an lxcpath: its name and what its cgroups say. */
import { lockedContainers } from '../container/active.js';
import { containerPaths } from '../container/paths.js';
import { RunningContainer } from '../container/running.js';
import type { TopRow } from './render.js';
import { topStats } from './stats.js';

/** Containers whose monitor answers (as lxc-top's list of active containers), in no set order. */
export async function activeContainerStats(lxcpath: string): Promise<TopRow[]> {
  const names = await lockedContainers(lxcpath);
  const rows = await Promise.all(
    names.map(async (name) => {
      const dirs = await new RunningContainer(containerPaths(lxcpath, name).command, name).cgroups().catch(() => undefined);
      return dirs ? { name, stats: topStats(dirs) } : undefined;
    }),
  );
  return rows.filter((r): r is TopRow => r !== undefined);
}
