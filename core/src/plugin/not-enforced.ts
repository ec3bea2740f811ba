/**
 * For plugins that read and validate their keys before they can enforce
 * them: one warning per start, naming the keys, so that a container that
 * asks for confinement is never run without it silently.
 */
import type { LifecycleContext } from '../hooks/contexts.js';
import { VERSION } from '../version.js';

export function notEnforcedYet(ctx: LifecycleContext, keys: string, what: string): void {
  ctx.log.warn(`container ${ctx.container.name}: ${keys} is set, but lxkit ${VERSION} does not apply ${what} yet: the container runs without it`);
}
