/**
 * The start's timeline, for performance work (docs/timeline.md). With
 * LXKIT_TIMELINE=<file> in the environment, this process, the monitor and
 * the container's first process append one line per step of a start to
 * <file>, each with CLOCK_MONOTONIC in nanoseconds (process.hrtime here):
 *
 *   <ns> <pid> node|monitor|child <step>
 *
 * Without the variable a mark is one comparison. The variable is read at the
 * first mark: a process that sets it later gets no lines from this side.
 */
import { constants, openSync, writeSync } from 'node:fs';

/** undefined: not looked at yet; -1: off. */
let fd: number | undefined;

function open(): number {
  const path = process.env['LXKIT_TIMELINE'];
  if (!path) return -1;
  try {
    // As the helpers open it: appended to (whole lines from several processes), never through a symbolic link.
    return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch {
    // A timeline is a measurement aid: one that cannot be written leaves the start alone.
    return -1;
  }
}

/** Appends `step` to the timeline, if one is on. */
export function timelineMark(step: string): void {
  if (fd === -1) return;
  fd ??= open();
  if (fd === -1) return;
  try {
    writeSync(fd, `${process.hrtime.bigint()} ${process.pid} node ${step}\n`);
  } catch {
    fd = -1;
  }
}
