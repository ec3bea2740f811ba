/** General, root filesystem, /dev and console keys. */
import type { KeyHandler } from '../keys.js';
import { invalid, parseBool01, parseByteSize, parseUint } from '../values.js';
import { optional, set } from './helpers.js';
import type { CoreModel } from './model.js';
import { ARCH_NAMES } from '../arch.js';

type H = KeyHandler<CoreModel>;

/** Linux's nodename limit (__NEW_UTS_LEN). */
const UTS_NAME_MAX = 64;

function sizeOrAuto(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : parseByteSize(value);
}

export const systemKeys: H[] = [
  {
    key: 'lxc.arch',
    apply(m, v) {
      set(m, 'arch', optional(v, (a) => {
        if (!(ARCH_NAMES as readonly string[]).includes(a)) invalid(`unknown architecture "${a}"; use one of ${ARCH_NAMES.join(' ')}`);
        return a;
      }));
    },
  },
  {
    key: 'lxc.uts.name',
    apply(m, v) {
      if (v.length > UTS_NAME_MAX) invalid(`host name is longer than ${UTS_NAME_MAX} characters`);
      set(m, 'utsName', optional(v, String));
    },
  },
  { key: 'lxc.rootfs.path', apply: (m, v) => set(m.rootfs, 'path', optional(v, String)) },
  { key: 'lxc.rootfs.mount', apply: (m, v) => set(m.rootfs, 'mount', optional(v, String)) },
  { key: 'lxc.rootfs.options', apply: (m, v) => set(m.rootfs, 'options', optional(v, String)) },
  { key: 'lxc.rootfs.managed', apply: (m, v) => void (m.rootfs.managed = v === '' ? true : parseBool01(v)) },
  { key: 'lxc.autodev', apply: (m, v) => void (m.autodev.enabled = v === '' ? true : parseBool01(v)) },
  {
    key: 'lxc.autodev.tmpfs.size',
    apply: (m, v) => void (m.autodev.tmpfsSize = v === '' ? 500000 : parseUint(v, 'a size in bytes')),
  },
  { key: 'lxc.tty.max', apply: (m, v) => void (m.tty.max = v === '' ? 0 : parseUint(v, 'a number of ttys')) },
  {
    key: 'lxc.tty.dir',
    apply(m, v) {
      if (v.includes('/')) invalid(`"${v}" must be a directory name under /dev, without '/'`);
      set(m.tty, 'dir', optional(v, String));
    },
  },
  { key: 'lxc.pty.max', apply: (m, v) => void (m.pty.max = v === '' ? 0 : parseUint(v, 'a number of ptys')) },
  { key: 'lxc.console.path', apply: (m, v) => set(m.console, 'path', optional(v, String)) },
  { key: 'lxc.console.logfile', apply: (m, v) => set(m.console, 'logfile', optional(v, String)) },
  { key: 'lxc.console.rotate', apply: (m, v) => void (m.console.rotate = v === '' ? false : parseBool01(v)) },
  { key: 'lxc.console.buffer.size', apply: (m, v) => set(m.console, 'bufferSize', optional(v, sizeOrAuto)) },
  { key: 'lxc.console.size', apply: (m, v) => set(m.console, 'size', optional(v, sizeOrAuto)) },
];
