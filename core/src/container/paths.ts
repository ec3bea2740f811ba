/**
 * Where a container's files are: LXC's layout under the lxcpath
 * (<lxcpath>/<name>/config, <name>/rootfs), lxkit's run-time files (locks)
 * under /run/lxkit for root or $XDG_RUNTIME_DIR/lxkit, and the name of the
 * command socket its monitor serves while it exists.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface ContainerPaths {
  readonly dir: string;
  readonly config: string;
  readonly rootfs: string;
  /** flock()ed by whoever starts or destroys the container; held by the monitor while it runs. */
  readonly lock: string;
  /** The abstract unix socket the container's monitor serves (without the leading NUL). */
  readonly command: string;
  /** Where lxkit monitor listens for the lxcpath's state changes: this prefix and its pid. */
  readonly watchPrefix: string;
}

/** FNV-1a, 64 bits, hex: short stable names for long paths. */
function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * The command socket's abstract name, as LXC's "@<lxcpath>/<name>/command"
 * but bounded: the run directory and lxcpath hashed (so that test and user
 * run directories never meet), the name kept when it fits.
 */
function commandSocketName(lxcpath: string, name: string): string {
  const base = socketBase(lxcpath);
  const full = `${base}/${name}`;
  return Buffer.byteLength(full) <= 100 ? full : `${base}/${fnv64(name)}`;
}

const socketBase = (lxcpath: string) => `lxkit/${fnv64(`${runDir()}\0${lxcpath}`)}`;

/** lxkit monitor's sockets for an lxcpath are named this prefix plus their pid. */
export function watchPrefix(lxcpath: string): string {
  return `${socketBase(lxcpath)}.watch/`;
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
    command: commandSocketName(lxcpath, name),
    watchPrefix: watchPrefix(lxcpath),
  };
}
