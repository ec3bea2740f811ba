/**
 * @lxkit/plugin-templates: the templates of `lxkit create -t NAME`,
 * offered through hooks.template.for(NAME): busybox; local and download (an
 * image in LXC's image format, on disk or from an image server); and the
 * config snippets images include, for a host without LXC's.
 */
import { definePlugin, VERSION } from '@lxkit/core';
import { busybox } from './busybox.js';
import { download } from './download.js';
import { LXC_TEMPLATE_CONFIG, OWN_TEMPLATE_CONFIG } from './image.js';
import { local } from './local.js';

export { busybox } from './busybox.js';
export { download, parseIndex, type IndexEntry } from './download.js';
export { local } from './local.js';
export { LXC_HOOK_DIR, LXC_TEMPLATE_CONFIG, OWN_HOOK_DIR, OWN_TEMPLATE_CONFIG, snippetDirs } from './image.js';

export default definePlugin({
  name: 'templates',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.template.for('busybox').tap('templates', () => busybox);
    runtime.hooks.template.for('local').tap('templates', () => local);
    runtime.hooks.template.for('download').tap('templates', () => download);
    // A container LXC made includes LXC's common.conf and userns.conf: on a host without LXC, lxkit's own read in their place.
    runtime.standInForIncludes(LXC_TEMPLATE_CONFIG, OWN_TEMPLATE_CONFIG);
  },
});
