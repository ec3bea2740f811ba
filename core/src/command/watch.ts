/**
 * lxkit monitor's side of state changes: a listening socket whose abstract
 * name is the lxcpath's watch prefix and this process's pid, registered as a
 * file named by the pid in the lxcpath's watchers directory; every container
 * monitor of that lxcpath connects to each registered watcher at each state
 * change and sends one C_STATE_EVENT (the state and the container's name),
 * and at its init's exit one C_EXIT_EVENT (before STOPPING).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { native } from '../native-package.js';
import { CMD, FrameReader, decodeRecord, type ContainerState } from '../start/protocol.js';
import { stateName } from './client.js';
import { pruneEmptyDirs } from '../container/lock.js';
import { runDir, watchDir, watchPrefix } from '../container/paths.js';

export interface StateChange {
  readonly container: string;
  readonly state: ContainerState;
}

export interface InitExit {
  readonly container: string;
  /** The exit status, 128+N when signal N killed the init. */
  readonly code: number;
  /** The signal that killed it, or 0. */
  readonly signal: number;
}

/**
 * Registers this process as a watcher in `dir`: a file named by its pid,
 * where the lxcpath's container monitors look for whom to tell (it listens
 * already, so that any monitor that finds the file finds the socket too).
 * Returns what removes it, which also runs at this process's exit; a
 * watcher killed before then leaves its file, and the first monitor that
 * finds nobody at its name removes it.
 */
export function registerWatcher(dir: string): () => void {
  const file = join(dir, String(process.pid));
  for (let attempt = 0; ; attempt++) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    try {
      writeFileSync(file, '', { mode: 0o644 });
      break;
    } catch (err) {
      // Another watcher removed the emptied directory in between: once more.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
    }
  }
  const remove = () => {
    process.off('exit', remove);
    pruneEmptyDirs(file, runDir());
  };
  process.on('exit', remove);
  return remove;
}

/**
 * Listens for the state changes of every container of `lxcpath`, and with
 * `onExit` for their inits' exits; close the server to stop.
 */
export function watchStates(lxcpath: string, onChange: (c: StateChange) => void, onExit?: (e: InitExit) => void): Promise<Server> {
  const fd = native().listenAbstract(`${watchPrefix(lxcpath)}${process.pid}`);
  const server = createServer((conn) => {
    const reader = new FrameReader();
    conn.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.type !== CMD.STATE_EVENT && f.type !== CMD.EXIT_EVENT) continue;
        const r = decodeRecord(f.payload);
        const container = r.strs[0]?.toString() ?? '';
        if (f.type === CMD.STATE_EVENT) onChange({ container, state: stateName(r.ints[0] ?? 0) });
        else onExit?.({ container, code: r.ints[0] ?? 0, signal: r.ints[1] ?? 0 });
      }
    });
    conn.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      try {
        server.once('close', registerWatcher(watchDir(lxcpath)));
      } catch (err) {
        server.close();
        reject(err);
        return;
      }
      resolve(server);
    });
  });
}
