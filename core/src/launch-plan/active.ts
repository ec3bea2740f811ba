/**
 * The launch-plan recorder of this process, when there is one: the C front
 * (native/src/front) runs the Node CLI with LXKIT_PLAN_RECORD when it has no
 * valid plan for a command, and core/bin/lxkit.cjs installs the recorder
 * (recorder.ts, its own bundle) before anything else runs. The core reports
 * to it what a plan is made of that node:fs does not show: the container's
 * lock, the monitor's spawn, the frames exchanged with the monitor. See
 * docs/launch-plans.md.
 */

export interface PlanRecorder {
  /** The container's lock taken on `path` (open O_APPEND|O_CREAT 0600, flock LOCK_EX|LOCK_NB); `fd` is the descriptor. */
  lock(path: string, fd: number): void;
  /** A helper started with posix_spawn: its path, argv, and the fds it gets from fd 4 on. */
  spawn(path: string, argv: readonly string[], fds: readonly number[]): void;
  /** A frame written to the monitor. */
  send(type: number, payload: Buffer): void;
  /** A frame the monitor sent (M_LOG excluded). */
  received(type: number, payload: Buffer): void;
  /** False inside untracked(). */
  readonly tracking: boolean;
  /** Runs `fn` with file access that is not part of the plan (what lock() and spawn() stand for). */
  untracked<T>(fn: () => T): T;
  /** This run cannot be replayed; the reason is kept for `LXKIT_PLAN_DEBUG`. */
  refuse(reason: string): void;
  /**
   * The command has come to the point the front takes over from (see
   * PlanTail). What the process does afterwards is the front's to redo its
   * own way: a `stop` tail stops tracking; after the others, anything more
   * refuses the plan.
   */
  finish(tail: PlanTail): void;
}

/** Where a replay ends and the front carries on by itself (native/src/front/main.c). */
export type PlanTail =
  /** The init's exit and the monitor's end are waited for (signals forwarded); the init's status is the exit status. */
  | { readonly kind: 'foreground'; readonly container: string }
  /** The container is left to its monitor (M_DAEMONIZE answered): exit 0. */
  | { readonly kind: 'daemon'; readonly container: string }
  /**
   * A terminal helper (lxkit-attach) has its request: its exit status is the
   * command's; a failure it reports before its work starts goes to the Node CLI.
   */
  | { readonly kind: 'helper'; readonly container: string }
  /**
   * lxc-stop on the command socket `socket`: the halt (or reboot) signal the
   * container runs with, or SIGKILL, then STOPPED waited for as StopOptions say.
   */
  | {
      readonly kind: 'stop';
      readonly container: string;
      readonly socket: string;
      readonly signal: 'halt' | 'reboot' | 'kill';
      /** Seconds before SIGKILL (-1: forever). */
      readonly timeout: number;
      readonly nokill: boolean;
      readonly nowait: boolean;
    };

const KEY = Symbol.for('lxkit.launchPlanRecorder');

export function planRecorder(): PlanRecorder | undefined {
  return (globalThis as { [KEY]?: PlanRecorder })[KEY];
}

export function installPlanRecorder(r: PlanRecorder): void {
  (globalThis as { [KEY]?: PlanRecorder })[KEY] = r;
}

/**
 * Says that this start cannot be replayed from a launch plan (a plugin about
 * to do host work the recorder cannot see or the front cannot redo: D-Bus,
 * netlink, a program it runs). No-op unless a plan is being recorded.
 */
export function notReplayable(reason: string): void {
  planRecorder()?.refuse(reason);
}
