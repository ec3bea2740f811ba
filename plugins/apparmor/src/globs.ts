/**
 * AppArmor globs for "every path under DIR except these". AppArmor's glob
 * language has no negation, so a set of exceptions is spelled as the names
 * that diverge from every exception at some character: for the exceptions
 * `kernel` and `net` under /proc/sys that is `/proc/sys/[^kn]*`,
 * `/proc/sys/k[^e]*`, …, `/proc/sys/kernel?*` (longer names), and so on.
 * The generated profile uses this for the writable parts of /proc/sys and
 * /sys and for the mount targets a container may bind onto.
 */

/**
 * What stays out of the complement, by name under a directory:
 * - `'tree'`: the name and everything below it;
 * - `'self'`: the name itself only (a name ending in `*` is a prefix: every
 *   name starting with it); what is below it is included again;
 * - a nested Exceptions: the name itself, and below it everything but those.
 */
export type Exception = 'tree' | 'self' | Exceptions;
export interface Exceptions {
  readonly [name: string]: Exception;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  /** The exception ending exactly here, if any. */
  end?: { exception: Exception; prefix: boolean };
}

function buildTrie(exceptions: Exceptions): TrieNode {
  const root: TrieNode = { children: new Map() };
  for (const [name, exception] of Object.entries(exceptions)) {
    const prefix = name.endsWith('*');
    const word = prefix ? name.slice(0, -1) : name;
    if (word === '' || /[/*?[\]{},"\s]/.test(word)) throw new Error(`apparmor: "${name}" cannot be an exception name`);
    let node = root;
    for (const ch of word) {
      let next = node.children.get(ch);
      if (!next) node.children.set(ch, (next = { children: new Map() }));
      node = next;
    }
    node.end = { exception, prefix };
  }
  return root;
}

/** Characters AppArmor's character classes need escaped. */
const classChar = (ch: string): string => (/[\]\\^-]/.test(ch) ? `\\${ch}` : ch);

/**
 * Globs (with `{,/**}` so that each covers a whole subtree) that together
 * match every path strictly below `dir` except the exceptions. `dir` ends
 * without a slash.
 */
export function everythingBut(dir: string, exceptions: Exceptions): string[] {
  const out: string[] = [];
  const walk = (node: TrieNode, word: string): void => {
    const next = [...node.children.keys()].sort();
    const end = node.end;
    if (end?.prefix) {
      // Every name starting with `word` is an exception: nothing longer to cover at this level.
      if (end.exception === 'self') out.push(`${dir}/${word}*/**`);
      else if (end.exception !== 'tree') for (const g of everythingBut(`${dir}/${word}*`, end.exception)) out.push(g);
      return;
    }
    if (!end && word !== '') out.push(`${dir}/${word}{,/**}`);
    if (next.length > 0) out.push(`${dir}/${word}[^${next.map(classChar).join('')}]*{,/**}`);
    else if (end) out.push(`${dir}/${word}?*{,/**}`);
    else out.push(`${dir}/*{,/**}`);
    if (end?.exception === 'self') out.push(`${dir}/${word}/**`);
    else if (end && end.exception !== 'tree') out.push(...everythingBut(`${dir}/${word}`, end.exception));
    for (const ch of next) walk(node.children.get(ch)!, word + ch);
  };
  walk(buildTrie(exceptions), '');
  return out;
}
