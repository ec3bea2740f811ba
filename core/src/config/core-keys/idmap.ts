/** lxc.idmap: `u|g <nsid> <hostid> <range>` (confile_utils.c parse_idmaps). */
import type { KeyHandler } from '../keys.js';
import { invalid } from '../values.js';
import type { CoreModel, IdMap } from './model.js';

const ID_MAX = 0xffffffff;

function parseId(text: string | undefined, what: string): number {
  if (text === undefined) invalid(`missing ${what}; expected "u|g <nsid> <hostid> <range>"`);
  if (!/^[0-9]+$/.test(text)) invalid(`${what} "${text}" is not a number`);
  const n = Number(text);
  if (n > ID_MAX) invalid(`${what} ${text} is larger than ${ID_MAX}`);
  return n;
}

export function parseIdMap(value: string): IdMap {
  const fields = value.trim().split(/[ \t\r]+/);
  if (fields.length > 4) invalid(`too many fields; expected "u|g <nsid> <hostid> <range>"`);
  const [type, nsid, hostid, range] = fields;
  if (type !== 'u' && type !== 'g') invalid(`id mapping type "${type}" must be u or g`);
  const map: IdMap = {
    type,
    nsid: parseId(nsid, 'nsid'),
    hostid: parseId(hostid, 'hostid'),
    range: parseId(range, 'range'),
  };
  if (map.range === 0) invalid('range must be at least 1');
  if (map.nsid + map.range - 1 > ID_MAX || map.hostid + map.range - 1 > ID_MAX) {
    invalid(`the range runs past id ${ID_MAX}`);
  }
  return map;
}

/** The host's id for `id` in the container, through the maps of `type`; undefined when unmapped. */
export function hostIdOf(idmap: readonly IdMap[], type: 'u' | 'g', id: number): number | undefined {
  const m = idmap.find((e) => e.type === type && e.nsid <= id && id < e.nsid + e.range);
  return m === undefined ? undefined : m.hostid + (id - m.nsid);
}

export const idmapKeys: KeyHandler<CoreModel>[] = [
  {
    key: 'lxc.idmap',
    apply(m, v) {
      if (v === '') {
        m.idmap = [];
        return;
      }
      m.idmap.push(parseIdMap(v));
    },
  },
];
