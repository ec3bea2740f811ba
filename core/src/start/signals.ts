/**
 * While a container runs in the foreground: SIGINT/SIGTERM/SIGHUP to lxkit
 * send the container's halt signal (system containers) or the same signal
 * (application containers: the small init passes it on to the command).
 *
 * While it starts, the first is held and sent once it runs: a signal in the
 * middle of a start would otherwise end lxkit with the start half done, and
 * the monitor may report RUNNING before lxkit is through (a restore's init
 * runs as soon as criu is done, before the restorer's own clean-up).
 */
import type { Logger } from '../log/logger.js';
import type { Monitor } from './monitor.js';

const NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
type Forwarded = keyof typeof NUMBERS;
const NAMES = Object.keys(NUMBERS) as Forwarded[];

function listen(on: (name: Forwarded) => void): () => void {
  const handlers = NAMES.map((name) => {
    const h = () => on(name);
    process.on(name, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.off(name, h);
  };
}

/**
 * Until forwarding starts: the first signal lxkit gets is kept in `held`; a
 * second one ends lxkit as it would have without us (a start that hangs can
 * still be interrupted; the monitor and what it started go with lxkit).
 * `release` stops listening.
 */
export function holdSignals(log: Logger): { readonly held: readonly Forwarded[]; release(): void } {
  const held: Forwarded[] = [];
  const release = listen((name) => {
    if (held.length > 0) {
      release();
      process.kill(process.pid, name);
      return;
    }
    log.info(`lxkit got ${name} while the container starts: it goes to the container once it runs (another ends lxkit)`);
    held.push(name);
  });
  return { held, release };
}

/** Installs the forwarding, sending the `held` ones first; the function it returns removes it. */
export function forwardSignals(monitor: Monitor, halt: number | undefined, log: Logger, held: readonly Forwarded[] = []): () => void {
  const send = (name: Forwarded) => {
    log.info(`lxkit got ${name}; sending ${halt ?? NUMBERS[name]} to the container`);
    monitor.kill(halt ?? NUMBERS[name]);
  };
  const stop = listen(send);
  for (const name of held) send(name);
  return stop;
}
