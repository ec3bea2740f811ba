/**
 * The core's built-in features, applied as plugins before any configured
 * one: reading the core's keys, and the container set-up steps that hang on
 * lifecycle hooks (id maps, rootfs, mounts, /dev, the init's limits, site
 * hook scripts).
 */
import { autodevPlugin } from './autodev.js';
import { coreKeysPlugin } from './core-keys.js';
import { hookScriptsPlugin } from './hook-scripts.js';
import { idmapPlugin } from './idmap.js';
import { initProcessPlugin } from './init-process.js';
import { mountsPlugin } from './mounts.js';
import { rootfsPlugin } from './rootfs.js';

export const corePlugins = [
  coreKeysPlugin,
  idmapPlugin,
  rootfsPlugin,
  mountsPlugin,
  autodevPlugin,
  initProcessPlugin,
  hookScriptsPlugin,
] as const;
