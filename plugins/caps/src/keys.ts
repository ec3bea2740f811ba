/** lxc.cap.drop and lxc.cap.keep, read as LXC reads them (confile.c, parse_cap). */
import { readFileSync } from 'node:fs';
import { defineKeys, invalid, splitWords, type KeyHandler } from '@lxkit/core';
import { CAPABILITIES, lastCap } from './capabilities.js';

export interface CapsModel {
  /** Capability numbers to drop, in configuration order. */
  drop: number[];
  /** Capability numbers to keep (all others dropped); `none` keeps nothing. Undefined when unset. */
  keep?: number[] | 'none';
  /** Whether the config sets lxc.cap.drop or lxc.cap.keep at all (even to empty): then the plugin's default drops do not apply. */
  explicit: boolean;
}

export function createCapsModel(): CapsModel {
  return { drop: [], explicit: false };
}

const LAST_CAP = lastCap(() => {
  try {
    return readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8');
  } catch {
    return undefined;
  }
});

/** A capability name (lower case, no CAP_ prefix) or number, as LXC's parse_cap. */
export function parseCap(word: string): number {
  const i = (CAPABILITIES as readonly string[]).indexOf(word);
  if (i >= 0) return i;
  if (/^[0-9]+$/.test(word)) {
    const n = Number(word);
    if (n > LAST_CAP) invalid(`capability ${n} is above this kernel's last capability (${LAST_CAP})`);
    return n;
  }
  const lower = word.toLowerCase().replace(/^cap_/, '');
  if ((CAPABILITIES as readonly string[]).includes(lower)) {
    invalid(`unknown capability "${word}"; write it as "${lower}" (lower case, without CAP_)`);
  }
  return invalid(`unknown capability "${word}"`);
}

export const capsKeys = defineKeys<CapsModel>('caps', [
  {
    key: 'lxc.cap.drop',
    apply(m, v) {
      m.explicit = true;
      if (v === '') m.drop = [];
      else m.drop.push(...splitWords(v).map(parseCap));
    },
  },
  {
    key: 'lxc.cap.keep',
    apply(m, v) {
      m.explicit = true;
      if (v === '') {
        delete m.keep;
        return;
      }
      const words = splitWords(v);
      if (words.includes('none')) {
        if (words.length > 1) invalid('"none" cannot be combined with capability names');
        m.keep = 'none';
        return;
      }
      const caps = words.map(parseCap);
      m.keep = m.keep === undefined || m.keep === 'none' ? caps : [...m.keep, ...caps];
    },
  },
] satisfies KeyHandler<CapsModel>[]);
