/**
 * lxc-unshare's -s: namespace names joined by `|`, in LXC's spelling
 * (MOUNT, PID, UTSNAME, IPC, USER, NETWORK) or the kernel's (mnt, uts,
 * net, cgroup, time…), in any case, as lxc-unshare takes them.
 */
import type { NamespaceName } from '../config/core-keys/model.js';
import { LxkitError } from '../errors.js';
import { CLONE_FLAGS } from '../start/namespaces.js';

const LXC_NAMES: Readonly<Record<string, NamespaceName>> = { mount: 'mnt', network: 'net', utsname: 'uts' };

/** The namespaces `list` names, in its order, without repeats. */
export function parseNamespaceList(list: string): NamespaceName[] {
  const names: NamespaceName[] = [];
  for (const part of list.split('|')) {
    const word = part.trim().toLowerCase();
    if (word === '') continue;
    const name = LXC_NAMES[word] ?? word;
    if (!Object.hasOwn(CLONE_FLAGS, name)) {
      throw new LxkitError(
        'LXKIT_USAGE',
        `-s ${list}: no namespace is called "${part.trim()}" (use MOUNT, PID, UTSNAME, IPC, USER, NETWORK, CGROUP or TIME, joined by |)`,
      );
    }
    if (!names.includes(name as NamespaceName)) names.push(name as NamespaceName);
  }
  if (names.length === 0) throw new LxkitError('LXKIT_USAGE', '-s names no namespace: the command needs at least one new namespace (-s "MOUNT|PID", for example)');
  return names;
}

export const cloneFlagsOf = (names: readonly NamespaceName[]): number => names.reduce((f, n) => f | CLONE_FLAGS[n], 0);
