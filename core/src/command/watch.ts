/**
 * lxkit monitor's side of state changes: a listening socket whose abstract
 * name starts with the lxcpath's watch prefix; every container monitor of
 * that lxcpath connects to it at each state change and sends one
 * C_STATE_EVENT (the state and the container's name), and at its init's
 * exit one C_EXIT_EVENT (before STOPPING).
 */
import { createServer, type Server } from 'node:net';
import { native } from '../native-package.js';
import { CMD, FrameReader, decodeRecord, type ContainerState } from '../start/protocol.js';
import { stateName } from './client.js';

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
 * Listens for the state changes of every container of the lxcpath whose
 * sockets start with `prefix`, and with `onExit` for their inits' exits;
 * close the server to stop.
 */
export function watchStates(prefix: string, onChange: (c: StateChange) => void, onExit?: (e: InitExit) => void): Promise<Server> {
  const fd = native().listenAbstract(`${prefix}${process.pid}`);
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
    server.listen({ fd }, () => resolve(server));
  });
}
