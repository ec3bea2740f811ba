/**
 * lxc-autostart's selection: which containers of an lxcpath one autostart
 * pass acts on, in which order, and how long to wait after each start.
 *
 * As LXC selects them: the defined containers with lxc.start.auto = 1 (all
 * of them with `ignoreAuto`); those of the groups asked for, group by group
 * in the order given, each container once, where '' is the NULL group (the
 * containers in no lxc.group) and the default; or all of them with `all`.
 * Within a group they go by lxc.start.order, lower first (then by name) for
 * a start or a reboot, the other way round for a shutdown or a kill. A start
 * skips running containers; the other actions skip stopped ones.
 */
import type { Runtime } from '../runtime.js';
import { loadContainerConfig } from '../config/load.js';
import { listContainers } from './list.js';
import { containerPaths } from './paths.js';
import { RunningContainer } from './running.js';

export type AutostartAction = 'start' | 'reboot' | 'shutdown' | 'kill';

export interface AutostartOptions {
  readonly action: AutostartAction;
  /** lxc-autostart -a: every group (and none). */
  readonly all?: boolean;
  /** lxc-autostart -A: lxc.start.auto is not looked at. */
  readonly ignoreAuto?: boolean;
  /** lxc-autostart -g, in order; '' is the NULL group. Default: the NULL group alone. */
  readonly groups?: readonly string[];
}

export interface AutostartEntry {
  readonly name: string;
  /** lxc.start.delay: seconds to wait after starting it. */
  readonly delay: number;
}

/** The containers an autostart pass acts on, in order; `warn` hears of configs that do not load (those are left out). */
export async function autostartPlan(runtime: Runtime, lxcpath: string, opts: AutostartOptions, warn: (message: string) => void): Promise<AutostartEntry[]> {
  const starting = opts.action === 'start' || opts.action === 'reboot';
  const candidates: { name: string; order: number; delay: number; groups: readonly string[] }[] = [];
  for (const name of await listContainers(lxcpath)) {
    const paths = containerPaths(lxcpath, name);
    let model;
    try {
      ({ model } = await loadContainerConfig(runtime, { path: paths.config }));
    } catch (err) {
      warn(`${name}: left out, its config does not load: ${(err as Error).message}`);
      continue;
    }
    if (!opts.ignoreAuto && !model.autostart.auto) continue;
    const running = (await new RunningContainer(paths.command, name).state()) !== 'STOPPED';
    if (running !== (opts.action !== 'start')) continue;
    candidates.push({ name, order: model.autostart.order, delay: model.autostart.delay, groups: model.autostart.groups });
  }
  // Names come sorted; a stable sort keeps them so within one order, and the reverse reverses both.
  candidates.sort((a, b) => a.order - b.order);
  if (!starting) candidates.reverse();
  const chosen = opts.all
    ? candidates
    : (opts.groups?.length ? opts.groups : ['']).flatMap((group) =>
        candidates.filter((c) => (group === '' ? c.groups.length === 0 : c.groups.includes(group))),
      );
  // A container in several of the groups goes with the first of them.
  const byName = new Map<string, AutostartEntry>();
  for (const c of chosen) if (!byName.has(c.name)) byName.set(c.name, { name: c.name, delay: c.delay });
  return [...byName.values()];
}
