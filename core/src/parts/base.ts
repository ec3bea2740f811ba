/**
 * The core's base part: what every command needs (errors, logging, value
 * parsers, the version), built as its own small CommonJS file so that the CLI
 * can start without loading the whole library. See scripts/build.mjs.
 */
export * from '../errors.js';
export * from '../log/logger.js';
export * from '../config/values.js';
export * from '../version.js';
export * from '../toolkit/items.js';
export * from '../native-package.js';
export * from '../toolkit/locate.js';
