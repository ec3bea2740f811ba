/** Recognising plugin objects, without loading the rest of the plugin machinery. */
import type { Plugin } from './define.js';

/** Marks plugin objects; a registered symbol so that two copies of the core agree. */
export const PLUGIN_BRAND: unique symbol = Symbol.for('lxkit.plugin') as never;

export function isPlugin(value: unknown): value is Plugin<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
