/**
 * Container names. LXC takes any name without a `/` ("web 1", "db@prod",
 * "_base", "ü" all work), and lxkit reads the containers LXC made, so it
 * takes them too. What it refuses names no directory of the lxcpath could
 * (`.`, `..`), one that LXC's lxc-ls and lxkit ls do not list (a leading
 * `.`), and what no line-based output could show (control characters).
 */
import { LxkitError } from '../errors.js';

/** Linux's NAME_MAX, less room for suffixes lxkit adds (".lock", ".json"), in bytes. */
const NAME_MAX = 200;

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `name` is not a container name, or undefined when it is one. */
function refusal(name: string): string | undefined {
  if (name.includes('/')) return "it contains '/'";
  if (name.startsWith('.')) return "it starts with '.' (a hidden directory, which LXC does not list either)";
  if (CONTROL.test(name)) return 'it contains a control character';
  if (Buffer.byteLength(name) > NAME_MAX) return `it is longer than ${NAME_MAX} bytes`;
  return undefined;
}

/** Whether `name` names a container (what lxkit ls lists of an lxcpath's directories). */
export const isContainerName = (name: string): boolean => name !== '' && refusal(name) === undefined;

export function checkName(name: string): string {
  if (typeof name !== 'string' || name === '') {
    throw new LxkitError('LXKIT_CONTAINER_NAME_INVALID', 'a container name is required (-n NAME)');
  }
  const why = refusal(name);
  if (why) throw new LxkitError('LXKIT_CONTAINER_NAME_INVALID', `invalid container name ${JSON.stringify(name)}: ${why}`, { container: name });
  return name;
}
