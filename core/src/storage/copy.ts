/**
 * The core's copy of a root filesystem for backends that cannot clone
 * their own (and across types): rsync with LXC's options (-aHXS
 * --numeric-ids), between two roots opened on the host.
 */
import type { Logger } from '../log/logger.js';
import { storageTool } from './host-mount.js';

export async function copyRootfs(from: string, to: string, o: { container: string; log: Logger }): Promise<void> {
  const argv = ['-aHXS', '--numeric-ids', `${from.replace(/\/+$/, '')}/`, `${to.replace(/\/+$/, '')}/`];
  o.log.debug(`copying the root filesystem: rsync ${argv.join(' ')}`);
  await storageTool('rsync', argv, { what: `copying the root filesystem ${from} to ${to}`, container: o.container, path: from });
}
