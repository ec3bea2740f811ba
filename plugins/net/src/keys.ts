/**
 * lxc.net and lxc.net.<index>.<subkey> (confile.c config_jump_table_net).
 * Order matters as in LXC: a type-specific key (veth.*, macvlan.mode,
 * ipvlan.*, vlan.id) is only valid after the network's type says so.
 */
import {
  defineKeys,
  invalid,
  parseBool01,
  parseCidr,
  parseIfname,
  parseIPv4,
  parseIPv6,
  parseUint,
  type Cidr,
  type ConfigEntry,
  type KeyHandler,
} from '@lxkit/core';

export const NET_TYPES = ['empty', 'none', 'veth', 'macvlan', 'ipvlan', 'vlan', 'phys'] as const;
export type NetTypeName = (typeof NET_TYPES)[number];

export interface IPv4Address extends Cidr {
  broadcast?: string;
}

export interface NetDevice {
  readonly index: number;
  type?: NetTypeName;
  up: boolean;
  link?: string;
  l2proxy: boolean;
  mtu?: number;
  name?: string;
  /** May hold `x` placeholders that are randomised at start. */
  hwaddr?: string;
  ipv4: IPv4Address[];
  ipv4Gateway?: string;
  ipv6: Cidr[];
  ipv6Gateway?: string;
  scriptUp?: string;
  scriptDown?: string;
  macvlanMode?: 'private' | 'vepa' | 'bridge' | 'passthru';
  ipvlanMode?: 'l3' | 'l3s' | 'l2';
  ipvlanIsolation?: 'bridge' | 'private' | 'vepa';
  vlanId?: number;
  veth: {
    mode?: 'bridge' | 'router';
    pair?: string;
    ipv4Routes: Cidr[];
    ipv6Routes: Cidr[];
    /** `none` or a VLAN id for the bridge port. */
    vlanId?: number | 'none';
    vlanTaggedIds: number[];
    rxQueues?: number;
    txQueues?: number;
  };
}

export interface NetModel {
  /** Devices by index, in index order once read. */
  devices: NetDevice[];
}

export function createNetModel(): NetModel {
  return { devices: [] };
}

function newDevice(index: number): NetDevice {
  return { index, up: false, l2proxy: false, ipv4: [], ipv6: [], veth: { ipv4Routes: [], ipv6Routes: [], vlanTaggedIds: [] } };
}

const VLAN_ID_MAX = 4094;

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) invalid(`unknown ${what} "${value}"; use ${allowed.join(', ')}`);
  return value as T;
}

function requireType(dev: NetDevice, type: NetTypeName, sub: string): void {
  if (dev.type !== type) {
    invalid(
      `${sub} is only valid for a ${type} network; set lxc.net.${dev.index}.type = ${type} first` +
        (dev.type ? ` (the type is ${dev.type})` : ''),
    );
  }
}

function vlanId(value: string): number {
  return parseUint(value, 'a VLAN id', VLAN_ID_MAX);
}

function gateway(value: string, family: 4 | 6): string {
  if (value === 'auto' || value === 'dev') return value;
  return family === 4 ? parseIPv4(value) : parseIPv6(value);
}

type SubHandler = (dev: NetDevice, value: string, sub: string) => void;

/** Sets or clears an optional field; an empty value always clears. */
function field<K extends keyof NetDevice>(k: K, parse: (v: string) => NetDevice[K]): SubHandler {
  return (dev, v) => {
    if (v === '') delete dev[k];
    else dev[k] = parse(v);
  };
}

function vethField<K extends 'mode' | 'pair' | 'vlanId' | 'rxQueues' | 'txQueues'>(
  k: K,
  parse: (v: string) => NetDevice['veth'][K],
): SubHandler {
  return (dev, v, sub) => {
    requireType(dev, 'veth', sub);
    if (v === '') delete dev.veth[k];
    else dev.veth[k] = parse(v);
  };
}

const SUBKEYS: Record<string, SubHandler> = {
  type: field('type', (v) => oneOf(v, NET_TYPES, 'network type')),
  flags(dev, v) {
    if (v !== '' && v !== 'up') invalid(`unknown flag "${v}"; the only flag is "up"`);
    dev.up = v === 'up';
  },
  link: field('link', (v) => {
    // A trailing '+' on a phys link matches every interface with that prefix.
    parseIfname(v.endsWith('+') ? v.slice(0, -1) : v);
    return v;
  }),
  l2proxy: (dev, v) => void (dev.l2proxy = v === '' ? false : parseBool01(v)),
  mtu: field('mtu', (v) => parseUint(v, 'an MTU')),
  name: field('name', parseIfname),
  hwaddr: field('hwaddr', (v) => {
    if (!/^([0-9a-fA-Fx]{2}:){5}[0-9a-fA-Fx]{2}$/.test(v)) invalid(`"${v}" is not a MAC address (x may stand for random hex digits)`);
    return v;
  }),
  'ipv4.address'(dev, v) {
    if (v === '') {
      dev.ipv4 = [];
      return;
    }
    const [cidr, broadcast, ...rest] = v.split(/\s+/);
    if (rest.length > 0) invalid(`"${v}": expected ADDRESS/PREFIX [BROADCAST]`);
    const addr: IPv4Address = parseCidr(cidr!, 4);
    if (broadcast !== undefined) addr.broadcast = parseIPv4(broadcast);
    dev.ipv4.push(addr);
  },
  'ipv4.gateway': field('ipv4Gateway', (v) => gateway(v, 4)),
  'ipv6.address'(dev, v) {
    if (v === '') dev.ipv6 = [];
    else dev.ipv6.push(parseCidr(v, 6));
  },
  'ipv6.gateway': field('ipv6Gateway', (v) => gateway(v, 6)),
  'script.up': field('scriptUp', String),
  'script.down': field('scriptDown', String),
  'macvlan.mode'(dev, v, sub) {
    requireType(dev, 'macvlan', sub);
    field('macvlanMode', (x) => oneOf(x, ['private', 'vepa', 'bridge', 'passthru'] as const, 'macvlan mode'))(dev, v, sub);
  },
  'ipvlan.mode'(dev, v, sub) {
    requireType(dev, 'ipvlan', sub);
    field('ipvlanMode', (x) => oneOf(x, ['l3', 'l3s', 'l2'] as const, 'ipvlan mode'))(dev, v, sub);
  },
  'ipvlan.isolation'(dev, v, sub) {
    requireType(dev, 'ipvlan', sub);
    field('ipvlanIsolation', (x) => oneOf(x, ['bridge', 'private', 'vepa'] as const, 'ipvlan isolation'))(dev, v, sub);
  },
  'vlan.id'(dev, v, sub) {
    requireType(dev, 'vlan', sub);
    field('vlanId', vlanId)(dev, v, sub);
  },
  'veth.mode': vethField('mode', (v) => oneOf(v, ['bridge', 'router'] as const, 'veth mode')),
  'veth.pair': vethField('pair', parseIfname),
  'veth.vlan.id': vethField('vlanId', (v) => (v === 'none' ? 'none' : vlanId(v))),
  'veth.n_rxqueues': vethField('rxQueues', (v) => parseUint(v, 'a queue count')),
  'veth.n_txqueues': vethField('txQueues', (v) => parseUint(v, 'a queue count')),
  'veth.ipv4.route'(dev, v, sub) {
    requireType(dev, 'veth', sub);
    if (v === '') dev.veth.ipv4Routes = [];
    else dev.veth.ipv4Routes.push(parseCidr(v, 4, { prefixRequired: true }));
  },
  'veth.ipv6.route'(dev, v, sub) {
    requireType(dev, 'veth', sub);
    if (v === '') dev.veth.ipv6Routes = [];
    else dev.veth.ipv6Routes.push(parseCidr(v, 6, { prefixRequired: true }));
  },
  'veth.vlan.tagged.id'(dev, v, sub) {
    requireType(dev, 'veth', sub);
    if (v === '') dev.veth.vlanTaggedIds = [];
    else dev.veth.vlanTaggedIds.push(vlanId(v));
  },
};

/** Index and subkey of `lxc.net.<index>[.<subkey>]`. */
function splitKey(entry: ConfigEntry): { index: number; sub: string | undefined } {
  const m = /^lxc\.net\.([0-9]+)(?:\.(.+))?$/.exec(entry.key);
  if (!m) return invalid('expected lxc.net.<index>.<subkey>');
  return { index: Number(m[1]), sub: m[2] };
}

function device(m: NetModel, index: number): NetDevice {
  let dev = m.devices.find((d) => d.index === index);
  if (!dev) {
    dev = newDevice(index);
    m.devices.push(dev);
    m.devices.sort((a, b) => a.index - b.index);
  }
  return dev;
}

export const netKeys = defineKeys<NetModel>('net', [
  {
    key: 'lxc.net',
    apply(m, v) {
      if (v !== '') invalid('lxc.net only takes an empty value (to remove every network); use lxc.net.<index>.<subkey>');
      m.devices = [];
    },
  },
  {
    key: 'lxc.net.',
    apply(m, v, entry) {
      const { index, sub } = splitKey(entry);
      if (sub === undefined) {
        // `lxc.net.N =` removes that network.
        if (v !== '') invalid(`lxc.net.${index} only takes an empty value (to remove the network)`);
        m.devices = m.devices.filter((d) => d.index !== index);
        return;
      }
      const handler = SUBKEYS[sub];
      if (!handler) {
        // LXC's own converter writes lxc.net.N.ipv4 for 2.x's lxc.network.N.ipv4.
        const hint = sub === 'ipv4' || sub === 'ipv6' ? `; did you mean ${sub}.address?` : '';
        invalid(`unknown network key "${sub}"${hint}`);
      }
      handler(device(m, index), v, sub);
    },
  },
] satisfies KeyHandler<NetModel>[]);
