/** The benchmarks' container: LXC's own busybox template, the same rootfs and config for every runtime compared. */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Makes `name` in `lxcpath` with `lxc-create -t busybox`, then drops the
 * config's network and AppArmor lines (and those of `drop`) for an empty
 * network namespace: no bridge to set up, and nothing LXC and lxkit would
 * confine differently on this machine.
 */
export async function lxcBusybox(lxcpath: string, name: string, opts: { drop?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  execFileSync('lxc-create', ['-P', lxcpath, '-n', name, '-t', 'busybox'], { stdio: 'ignore', ...(opts.env ? { env: opts.env } : {}) });
  const file = join(lxcpath, name, 'config');
  const keys = ['net\\.0', 'apparmor', ...(opts.drop ?? [])].join('|');
  const config = (await readFile(file, 'utf8')).replace(new RegExp(`^lxc\\.(${keys})\\..*$`, 'gm'), '');
  await writeFile(file, config + 'lxc.net.0.type = empty\n');
}
