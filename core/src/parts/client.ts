/**
 * The core's client part: talking to running containers through their
 * monitors (state, stop, wait, attach, console, monitor), without the hook
 * bus, config model and plugin machinery, so that lxkit info, attach and
 * friends load little. See scripts/build.mjs.
 */
export * from '../command/client.js';
export * from '../cgroup/files.js';
export * from '../command/watch.js';
export * from '../command/helper-session.js';
export * from '../container/paths.js';
export * from '../container/running.js';
export * from '../attach/attach.js';
export * from '../console/console.js';
export * from '../start/protocol.js';
export * from '../start/system-error.js';
export * from '../start/namespaces.js';
