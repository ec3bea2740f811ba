/**
 * What makes a template's container unprivileged: root inside mapped to a
 * subordinate range (root's in /etc/subuid and /etc/subgid, added when
 * missing, as LXD does; another user's own range), and the root filesystem
 * owned by the container's root — idmapped at start when the kernel and
 * filesystem can, else its ownership shifted now; for a user other than
 * root, files are written from inside the container's user namespace
 * (lxc-usernsexec's way), the only place it may own them.
 */
import { runInUserNamespace, withCallerIds, type TemplateRequest } from '@lxkit/core';
import { shiftOwnership, supportsIdmappedMounts } from './ownership.js';
import { callerRange, ensureRootRange, type SubidRange } from './subid.js';

export interface RootRanges {
  readonly uids: SubidRange;
  readonly gids: SubidRange;
}

export const isRoot = () => process.getuid?.() === 0;

/** The ranges root inside maps to, written as the container's lxc.idmap. */
export async function mapRoot(req: TemplateRequest): Promise<RootRanges> {
  // LXKIT_SUBUID/LXKIT_SUBGID point elsewhere (tests, image builders that must not touch the host's files).
  const range = isRoot() ? ensureRootRange : callerRange;
  const uids = await range(process.env['LXKIT_SUBUID'] ?? '/etc/subuid');
  const gids = await range(process.env['LXKIT_SUBGID'] ?? '/etc/subgid');
  req.config.append('lxc.idmap', `u 0 ${uids.start} ${uids.count}`);
  req.config.append('lxc.idmap', `g 0 ${gids.start} ${gids.count}`);
  return { uids, gids };
}

/** The container's maps: root inside to the ranges' first ids. */
export const rootMaps = (r: RootRanges) => [
  { type: 'u' as const, nsid: 0, hostid: r.uids.start, range: r.uids.count },
  { type: 'g' as const, nsid: 0, hostid: r.gids.start, range: r.gids.count },
];

/** `argv` run as root of the container's user namespace (a caller other than root writing the rootfs). */
export function asContainerRoot(req: TemplateRequest, r: RootRanges, argv: readonly string[], what: string): Promise<void> {
  return runInUserNamespace({ idmap: withCallerIds(rootMaps(r)), argv: [...argv], what, log: req.log });
}

/** Root's rootfs, written with the ids as they are inside, made the container's. */
export async function giveRootfs(req: TemplateRequest, r: RootRanges, template: string): Promise<void> {
  if (r.uids.start === r.gids.start && (await supportsIdmappedMounts(req.rootfs))) {
    req.config.set('lxc.rootfs.options', 'idmap=container');
  } else {
    await shiftOwnership(req.rootfs, r.uids.start);
    req.log.info(`${template}: shifted the rootfs ownership by ${r.uids.start} (no idmapped mounts here)`);
  }
}

/** The busybox template's way: everything it wrote becomes root's of the container. */
export async function makeUnprivileged(req: TemplateRequest, template: string): Promise<void> {
  const r = await mapRoot(req);
  if (isRoot()) await giveRootfs(req, r, template);
  else await asContainerRoot(req, r, ['chown', '-R', '-h', '0:0', req.rootfs], `giving the root filesystem to the container's root (host ids ${r.uids.start}:${r.gids.start})`);
}
