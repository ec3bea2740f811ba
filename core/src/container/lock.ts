/**
 * The per-container lock: an flock(2) on a file under the run directory.
 * A start takes it and hands the fd to the monitor, which holds it for as
 * long as the container runs; a destroy takes it for its duration. Because
 * the kernel drops an flock when its holder dies, a crash never leaves a
 * container locked for good.
 */
import { closeSync, mkdirSync, openSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { native } from '../native-package.js';
import { LxkitError } from '../errors.js';
import { planRecorder } from '../launch-plan/active.js';

/** Opens (making) a lock file; a destroy elsewhere may remove its empty directory in between: then once more. */
function openLockFile(path: string): number {
  for (let attempt = 0; ; attempt++) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    try {
      return openSync(path, 'a', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
    }
  }
}

/**
 * Removes a run-time file (a destroyed container's lock, a watcher's
 * registration) and the directories above it that it leaves empty, up to
 * lxkit's run directory: nothing of it stays in /run.
 */
export function pruneEmptyDirs(path: string, runDir: string): void {
  rmSync(path, { force: true });
  for (let dir = dirname(path); dir.startsWith(`${runDir}/`); dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (other containers), or gone
    }
  }
}

export class ContainerLock {
  #fd: number | undefined;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Takes the lock, or throws LXKIT_CONTAINER_BUSY. Short retries for `waitMs`
   * (60 ms by default) let a concurrent `held()` check, which takes the lock
   * shared for an instant, pass; a longer wait outlasts a container's stop.
   */
  static async acquire(path: string, container: string, doing: string, waitMs = 60): Promise<ContainerLock> {
    // A launch plan records the lock as one step (the front takes it the same way), not as its file calls.
    const plan = planRecorder();
    const untracked = <T>(fn: () => T): T => (plan ? plan.untracked(fn) : fn());
    const fd = untracked(() => openLockFile(path));
    const { flock, constants } = untracked(native);
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        untracked(() => flock(fd, constants.LOCK_EX | constants.LOCK_NB));
        plan?.lock(path, fd);
        return new ContainerLock(fd);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EWOULDBLOCK' || code === 'EAGAIN') && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        closeSync(fd);
        if (code === 'EWOULDBLOCK' || code === 'EAGAIN') {
          throw new LxkitError('LXKIT_CONTAINER_BUSY', `cannot ${doing} container "${container}": it is running or busy with another lxkit command`, {
            container,
            path,
          });
        }
        throw err;
      }
    }
  }

  /** A lock this process already holds on `fd` (inherited: a daemon's stop work gets it from the monitor as fd 4). */
  static fromFd(fd: number): ContainerLock {
    return new ContainerLock(fd);
  }

  /** Whether someone holds the lock now (without taking it). */
  static held(path: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return false;
    }
    const { flock, constants } = native();
    try {
      flock(fd, constants.LOCK_SH | constants.LOCK_NB);
      return false;
    } catch {
      return true;
    } finally {
      closeSync(fd);
    }
  }

  /** The fd, for handing to the monitor. */
  get fd(): number {
    if (this.#fd === undefined) throw new Error('lock released');
    return this.#fd;
  }

  release(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
