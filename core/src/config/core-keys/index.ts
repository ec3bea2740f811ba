/** Every key the core owns, as one table (built once per process). */
import { defineKeys } from '../keys.js';
import { hookKeys } from './hooks.js';
import { idmapKeys } from './idmap.js';
import { lifecycleKeys } from './lifecycle.js';
import type { CoreModel } from './model.js';
import { mountKeys } from './mount.js';
import { processKeys } from './process.js';
import { systemKeys } from './system.js';

export const coreKeys = defineKeys<CoreModel>('core', [
  ...systemKeys,
  ...mountKeys,
  ...idmapKeys,
  ...hookKeys,
  ...processKeys,
  ...lifecycleKeys,
]);
