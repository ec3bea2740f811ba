/**
 * @lxkit/plugin-templates: the templates of `lxkit create -t NAME`,
 * offered through hooks.template.for(NAME): busybox, and local (an image on
 * disk in LXC's image format).
 */
import { definePlugin, VERSION } from '@lxkit/core';
import { busybox } from './busybox.js';
import { local } from './local.js';

export { busybox } from './busybox.js';
export { local } from './local.js';

export default definePlugin({
  name: 'templates',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.template.for('busybox').tap('templates', () => busybox);
    runtime.hooks.template.for('local').tap('templates', () => local);
  },
});
