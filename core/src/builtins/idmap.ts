/**
 * lxc.idmap: writes the user namespace's id maps first on the start-host
 * hook, while the container's first process waits (root itself, other users
 * through newuidmap/newgidmap: see start/idmap-write.ts).
 */
import { LxkitError, messageOf } from '../errors.js';
import { STAGE_FIRST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { writeIdMaps } from '../start/idmap-write.js';
import { VERSION } from '../version.js';

export const idmapPlugin = definePlugin({
  name: 'idmap',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    // The first process waits for its maps: nothing runs in its user namespace before them.
    runtime.hooks.cloneFirst.tap('idmap', (ctx) =>
      ctx.userns && ctx.container.config.model.idmap.length > 0 ? 'its id maps are written at start-host (lxc.idmap)' : undefined,
    );
    runtime.hooks.startHost.tapPromise({ name: 'idmap', stage: STAGE_FIRST }, async (ctx) => {
      const maps = ctx.container.config.model.idmap;
      if (!ctx.userns || maps.length === 0 || ctx.pid === undefined) return;
      await writeIdMaps(
        ctx.pid,
        maps,
        (kind, err) =>
          new LxkitError('LXKIT_START_FAILED', `cannot write the ${kind} map of the container: ${messageOf(err)}`, {
            cause: err,
            key: 'lxc.idmap',
            container: ctx.container.name,
          }),
      );
    });
  },
});
