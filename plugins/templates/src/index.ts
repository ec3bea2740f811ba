/**
 * @lxkit/plugin-templates: the templates of `lxkit create -t NAME`,
 * offered through hooks.template.for(NAME). Today: busybox.
 */
import { definePlugin, VERSION } from '@lxkit/core';
import { busybox } from './busybox.js';

export { busybox } from './busybox.js';

export default definePlugin({
  name: 'templates',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.template.for('busybox').tap('templates', () => busybox);
  },
});
