/**
 * Where a container's files are: LXC's layout under the lxcpath
 * (<lxcpath>/<name>/config, <name>/rootfs), and lxkit's run-time files
 * (locks, state) under /run/lxkit for root or $XDG_RUNTIME_DIR/lxkit.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface ContainerPaths {
  readonly dir: string;
  readonly config: string;
  readonly rootfs: string;
  /** flock()ed by whoever starts or destroys the container; held by the monitor while it runs. */
  readonly lock: string;
  /** What lxkit knows of a running container (state, pids). */
  readonly state: string;
}

/** Base of lxkit's run-time files. LXKIT_RUNDIR moves it (tests, relocatable installs). */
export function runDir(): string {
  if (process.env['LXKIT_RUNDIR']) return process.env['LXKIT_RUNDIR'];
  if (process.getuid?.() === 0) return '/run/lxkit';
  return join(process.env['XDG_RUNTIME_DIR'] || join(tmpdir(), `lxkit-${process.getuid?.() ?? 'user'}`), 'lxkit');
}

export function containerPaths(lxcpath: string, name: string): ContainerPaths {
  const dir = join(lxcpath, name);
  // Keyed by lxcpath as LXC does (/run/lxc/lock/<lxcpath>/<name>), so that equal names in two lxcpaths never collide.
  const run = join(runDir(), lxcpath.replace(/^\/+/, ''));
  return {
    dir,
    config: join(dir, 'config'),
    rootfs: join(dir, 'rootfs'),
    lock: join(run, `${name}.lock`),
    state: join(run, `${name}.state`),
  };
}
