/**
 * What the plugins answer about a start, from the query hooks and from which
 * hooks they tap: whether the container's end needs lxkit's stop work
 * (`stopWork`), and whether the ops' taps need the clone's answer first
 * (`cloneFirst`). A plugin that taps the hooks a question is about without
 * answering it is taken to need them, every time.
 */
import { HOOK_NAMES, pluginOf, type HookName } from '../hooks/bus.js';
import type { StartContext } from '../hooks/contexts.js';
import type { Runtime } from '../runtime.js';

/**
 * Why a daemon's end needs lxkit's stop work (a Node process), or undefined
 * when its monitor can end it alone: a `stopWork` tap says so for this
 * container, or a plugin taps stop or post-stop without answering
 * `stopWork` (it is taken to need every stop). A reboot always needs it.
 */
export function stopWorkReason(runtime: Runtime, ctx: StartContext): string | undefined {
  const { stopWork, stop, postStop } = runtime.hooks;
  const said = stopWork.call(ctx);
  if (said) return said;
  const answering = new Set(stopWork.taps.map(pluginOf));
  const always = [...stop.taps, ...postStop.taps].find((t) => !answering.has(pluginOf(t)));
  return always ? `plugin "${pluginOf(always)}" has stop work at every stop` : undefined;
}

/** Hooks whose taps either queue the first batch's ops or make the first process wait (start-host). */
const AFTER_CLONE = ['startHost', 'preMount', 'mount', 'autodev', 'start'] as const satisfies readonly HookName[];

/**
 * Why this start must have the clone's answer before the pre-mount … start
 * taps queue their ops (the `cloneFirst` hook's answer, or a plugin that
 * taps those hooks without answering it), or undefined.
 */
export function cloneFirstReason(runtime: Runtime, ctx: StartContext): string | undefined {
  const { cloneFirst } = runtime.hooks;
  const said = cloneFirst.call(ctx);
  if (said) return said;
  const answering = new Set(cloneFirst.taps.map(pluginOf));
  for (const hook of AFTER_CLONE) {
    const silent = runtime.hooks[hook].taps.find((t) => !answering.has(pluginOf(t)));
    if (silent) return `plugin "${pluginOf(silent)}" taps ${HOOK_NAMES[hook]} without saying whether it needs the clone first`;
  }
  return undefined;
}
