/**
 * While a container runs in the foreground: SIGINT/SIGTERM/SIGHUP to lxkit
 * send the container's halt signal (system containers) or the same signal
 * (application containers: the small init passes it on to the command).
 */
import type { Logger } from '../log/logger.js';
import type { Monitor } from './monitor.js';

/** Installs the forwarding; the function it returns removes it. */
export function forwardSignals(monitor: Monitor, halt: number | undefined, log: Logger): () => void {
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
  const handlers = Object.entries(numbers).map(([name, num]) => {
    const h = () => {
      log.info(`lxkit got ${name}; sending ${halt ?? num} to the container`);
      monitor.kill(halt ?? num);
    };
    process.on(name as NodeJS.Signals, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.off(name as NodeJS.Signals, h);
  };
}
