/** lxc.hook.<type> and lxc.hook.version. */
import type { KeyHandler } from '../keys.js';
import { invalid } from '../values.js';
import { HOOK_TYPES, type CoreModel, type HookType } from './model.js';

type H = KeyHandler<CoreModel>;

const perType: H[] = HOOK_TYPES.map((type: HookType) => ({
  key: `lxc.hook.${type}`,
  apply(m: CoreModel, v: string) {
    // An empty value clears this type's list, as in LXC (clr_config_hooks).
    if (v === '') m.hooks[type] = [];
    else m.hooks[type].push(v);
  },
}));

export const hookKeys: H[] = [
  ...perType,
  {
    key: 'lxc.hook.version',
    apply(m, v) {
      if (v === '' || v === '0') m.hookVersion = 0;
      else if (v === '1') m.hookVersion = 1;
      else invalid(`hook version "${v}" is not supported; use 0 or 1`);
    },
  },
  {
    // `lxc.hook =` clears every hook; LXC takes no other value for the bare key.
    key: 'lxc.hook',
    apply(m, v) {
      if (v !== '') invalid('lxc.hook only takes an empty value (to clear all hooks); use lxc.hook.<type>');
      for (const t of HOOK_TYPES) m.hooks[t] = [];
    },
  },
];
