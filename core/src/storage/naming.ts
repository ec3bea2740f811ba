/**
 * The name of the volume or dataset a clone gets, for backends that keep
 * them in a shared namespace (a ZFS parent dataset, an LVM volume group):
 * the new container's name, but `<container>_snapN` for a container's
 * snapshot N. LXC names every container's snapshot N `snapN` there, so a
 * second container's snapshot collides with the first one's (lxc/lxc#603,
 * #2443); either tool reads the other's, since a snapshot's config names
 * its storage.
 */
import { resolve } from 'node:path';
import type { StorageCloneRequest } from './backend.js';

export function cloneStorageName(req: StorageCloneRequest): string {
  const ofSnapshot = resolve(req.lxcpath) === resolve(req.from.container.dir, 'snaps');
  return ofSnapshot ? `${req.from.container.name}_${req.name}` : req.name;
}
