/** The core's built-in features, applied as plugins before any configured one. */
import { coreKeysPlugin } from './core-keys.js';

export const corePlugins = [coreKeysPlugin] as const;
