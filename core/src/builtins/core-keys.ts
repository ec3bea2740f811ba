/** The core's own keys, read into the model first of all config taps. */
import { coreKeys } from '../config/core-keys/index.js';
import { readKeys } from '../config/keys.js';
import { STAGE_FIRST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { VERSION } from '../version.js';

export const coreKeysPlugin = definePlugin({
  name: 'core',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    runtime.hooks.config.tap({ name: 'core', stage: STAGE_FIRST }, (config, check) => {
      readKeys(config.entries, check, coreKeys, config.model);
      return config;
    });
  },
});
