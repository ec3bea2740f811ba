/**
 * Running one of lxkit's terminal helpers (lxkit-attach, lxkit-console):
 * it gets lxkit's stdin/stdout/stderr, one request on its control socket,
 * and reports a failure before its work starts as a RESULT record, which
 * becomes a Node-style error here. Otherwise its exit status is the result.
 */
import { openChannel, startHelper } from '../native-package.js';
import type { HelperName } from '@lxkit/native';
import { FrameReader, MSG, decodeRecord, encodeFrame, encodeRecord } from '../start/protocol.js';
import { systemError } from '../start/system-error.js';
import { planRecorder } from '../launch-plan/active.js';

export interface HelperRequest {
  readonly type: number;
  readonly ints: number[];
  readonly strs: (string | Buffer)[];
}

/** Runs `helper` with `request`; resolves with its exit status, or throws what it reported. */
export async function runTerminalHelper(helper: HelperName, request: HelperRequest, doing: string, container: string): Promise<number> {
  // The request waits in the control socket while the helper is spawned.
  const proc = startHelper(helper);
  const reader = new FrameReader();
  let failure: Error | undefined;
  let ended!: () => void;
  const closed = new Promise<void>((r) => (ended = r));
  const channel = openChannel(
    proc.control,
    (chunk) => {
      for (const f of reader.push(chunk)) {
        if (f.type !== MSG.RESULT) continue;
        const r = decodeRecord(f.payload);
        if (r.ints[0]) continue;
        failure ??= systemError({
          errno: r.ints[2] ?? 0,
          syscall: r.strs[0]?.toString() || 'unknown',
          path: r.strs[1]?.toString() || '',
          doing,
          container,
        });
      }
    },
    () => ended(),
  );
  const payload = encodeRecord({ ints: request.ints, strs: request.strs });
  try {
    channel.write(encodeFrame(request.type, payload));
  } catch {
    // The helper died at once: its exit status tells.
  }
  const plan = planRecorder();
  plan?.send(request.type, payload);
  plan?.finish({ kind: 'helper', container });
  // The terminal's ^C and ^\ are for the program in the container (in our process group without a pty).
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const exit = await proc.exited;
    // A helper that never ran: posix_spawn's error.
    await proc.started;
    await closed;
    if (failure) throw failure;
    return exit.code ?? 128 + (exit.signal ?? 0);
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
    channel.close();
  }
}
