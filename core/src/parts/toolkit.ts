/**
 * The core's toolkit part: finding and reading the toolkit configuration
 * (cosmiconfig), without the hook bus, config model and plugin machinery.
 * See scripts/build.mjs.
 */
export * from '../toolkit/config.js';
export * from '../plugin/brand.js';
export * from '../plugin/builtins.js';
