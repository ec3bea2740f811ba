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
  /** Where each lxkit monitor of the lxcpath registers (a file named by its pid), for the monitors to find them. */
  readonly watchDir: string;
}

/**
 * A 64-bit FNV-1a hash of the UTF-16 code units, hex: short stable names for
 * long paths. In two 32-bit halves with Math.imul (BigInt arithmetic costs
 * ~0.4 ms at every CLI start): the low half is plain FNV-1a 32, the high half
 * the same over the code units with a different seed.
 */
function fnv64(text: string): string {
  let lo = 0x811c9dc5;
  let hi = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193);
    hi = Math.imul(hi ^ c ^ (lo >>> 24), 0x01000193);
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * The command socket's abstract name, as LXC's "@<lxcpath>/<name>/command"
 * but bounded: the run directory and lxcpath hashed (so that test and user
 * run directories never meet), the name kept when it fits.
 */
function commandSocketName(lxcpath: string, name: string, run: string): string {
  const base = socketBase(lxcpath, run);
  const full = `${base}/${name}`;
  return Buffer.byteLength(full) <= 100 ? full : `${base}/${fnv64(name)}`;
}

const socketBase = (lxcpath: string, run = runDir()) => `lxkit/${fnv64(`${run}\0${lxcpath}`)}`;

/** lxkit monitor's sockets for an lxcpath are named this prefix plus their pid. */
export function watchPrefix(lxcpath: string, run = runDir()): string {
  return `${socketBase(lxcpath, run)}.watch/`;
}

/**
 * Where lxkit monitor's watchers of an lxcpath register: an empty file named
 * by each one's pid, next to the lxcpath's locks. A container's monitor reads
 * it at each state change (native/src/monitor/watchers.c): cheaper than
 * looking for the listening sockets among all of the host's.
 */
export function watchDir(lxcpath: string, run = runDir()): string {
  return join(lxcpathRunDir(lxcpath, run), '.watchers');
}

/** Base of lxkit's run-time files. LXKIT_RUNDIR moves it (tests, relocatable installs). */
export function runDir(): string {
  if (process.env['LXKIT_RUNDIR']) return process.env['LXKIT_RUNDIR'];
  if (process.getuid?.() === 0) return '/run/lxkit';
  return join(process.env['XDG_RUNTIME_DIR'] || join(tmpdir(), `lxkit-${process.getuid?.() ?? 'user'}`), 'lxkit');
}

/**
 * An lxcpath's run-time files (its containers' locks, its watchers): keyed by
 * lxcpath as LXC does (/run/lxc/lock/<lxcpath>/<name>), so that equal names
 * in two lxcpaths never collide.
 */
export function lxcpathRunDir(lxcpath: string, run = runDir()): string {
  return join(run, lxcpath.replace(/^\/+/, ''));
}

/** `run`: the run directory of the lxkit that runs the container (this process's by default; another inside a container). */
export function containerPaths(lxcpath: string, name: string, run = runDir()): ContainerPaths {
  const dir = join(lxcpath, name);
  return {
    dir,
    config: join(dir, 'config'),
    rootfs: join(dir, 'rootfs'),
    lock: join(lxcpathRunDir(lxcpath, run), `${name}.lock`),
    command: commandSocketName(lxcpath, name, run),
    watchPrefix: watchPrefix(lxcpath, run),
    watchDir: watchDir(lxcpath, run),
  };
}
