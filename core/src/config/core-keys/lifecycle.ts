/** Keys about the container's life: signals, monitor, logging, autostart, namespaces, time. */
import type { KeyHandler } from '../keys.js';
import {
  invalid,
  parseBool01,
  parseInt32,
  parseLogLevel,
  parseSignal,
  parseSyslogFacility,
  parseUint,
  splitWords,
} from '../values.js';
import { optional, set } from './helpers.js';
import { NAMESPACE_NAMES, type CoreModel, type NamespaceName, type TimeOffset } from './model.js';

type H = KeyHandler<CoreModel>;

function parseNamespaceList(value: string): NamespaceName[] {
  return splitWords(value).map((ns) => {
    if (!(NAMESPACE_NAMES as readonly string[]).includes(ns)) {
      invalid(`unknown namespace "${ns}"; use ${NAMESPACE_NAMES.join(' ')}`);
    }
    return ns as NamespaceName;
  });
}

const NS_PER_S = 1_000_000_000;
const TIME_UNITS: Record<string, { s?: number; ns?: number }> = {
  h: { s: 3600 },
  min: { s: 60 },
  s: { s: 1 },
  ms: { ns: 1_000_000 },
  us: { ns: 1_000 },
  ns: { ns: 1 },
};

/** `<integer><unit>` with unit h, min, s, ms, us or ns (confile.c set_config_time_offset_*). */
export function parseTimeOffset(value: string): TimeOffset {
  const m = /^(-?[0-9]+)(h|min|s|ms|us|ns)$/.exec(value);
  if (!m) invalid(`"${value}" is not a time offset; use an integer with h, min, s, ms, us or ns`);
  const n = Number(m[1]);
  const unit = TIME_UNITS[m[2]!]!;
  if (unit.s !== undefined) return { seconds: n * unit.s, nanoseconds: 0 };
  const total = n * unit.ns!;
  const seconds = Math.trunc(total / NS_PER_S);
  return { seconds, nanoseconds: total - seconds * NS_PER_S };
}

export const lifecycleKeys: H[] = [
  { key: 'lxc.signal.halt', apply: (m, v) => void (m.signals.halt = v === '' ? 30 : parseSignal(v)) },
  { key: 'lxc.signal.reboot', apply: (m, v) => void (m.signals.reboot = v === '' ? 2 : parseSignal(v)) },
  { key: 'lxc.signal.stop', apply: (m, v) => void (m.signals.stop = v === '' ? 9 : parseSignal(v)) },
  { key: 'lxc.monitor.unshare', apply: (m, v) => void (m.monitor.unshare = v === '' ? false : parseBool01(v)) },
  {
    key: 'lxc.monitor.signal.pdeath',
    apply: (m, v) => void (m.monitor.pdeathSignal = v === '' ? 9 : parseSignal(v)),
  },
  { key: 'lxc.log.level', apply: (m, v) => set(m.log, 'level', optional(v, parseLogLevel)) },
  { key: 'lxc.log.file', apply: (m, v) => set(m.log, 'file', optional(v, String)) },
  {
    key: 'lxc.log.syslog',
    apply: (m, v) => set(m.log, 'syslog', optional(v, parseSyslogFacility)),
  },
  { key: 'lxc.start.auto', apply: (m, v) => void (m.autostart.auto = v === '' ? false : parseBool01(v)) },
  {
    key: 'lxc.start.delay',
    apply: (m, v) => void (m.autostart.delay = v === '' ? 0 : parseUint(v, 'a delay in seconds')),
  },
  { key: 'lxc.start.order', apply: (m, v) => void (m.autostart.order = v === '' ? 0 : parseInt32(v, 'an order')) },
  {
    key: 'lxc.group',
    apply(m, v) {
      if (v === '') m.autostart.groups = [];
      else m.autostart.groups.push(...splitWords(v));
    },
  },
  { key: 'lxc.ephemeral', apply: (m, v) => void (m.ephemeral = v === '' ? false : parseBool01(v)) },
  {
    key: 'lxc.namespace.clone',
    apply(m, v) {
      m.namespaces.clone = parseNamespaceList(v);
      if (m.namespaces.clone.length > 0 && m.namespaces.keep.length > 0) {
        invalid('lxc.namespace.clone and lxc.namespace.keep cannot both be set');
      }
    },
  },
  {
    key: 'lxc.namespace.keep',
    apply(m, v) {
      m.namespaces.keep = parseNamespaceList(v);
      if (m.namespaces.clone.length > 0 && m.namespaces.keep.length > 0) {
        invalid('lxc.namespace.clone and lxc.namespace.keep cannot both be set');
      }
    },
  },
  {
    key: 'lxc.namespace.share.',
    apply(m, v, entry) {
      const ns = entry.key.slice('lxc.namespace.share.'.length);
      if (!(NAMESPACE_NAMES as readonly string[]).includes(ns)) {
        invalid(`unknown namespace "${ns}"; use ${NAMESPACE_NAMES.join(' ')}`);
      }
      set(m.namespaces.share, ns as NamespaceName, optional(v, String));
    },
  },
  {
    key: 'lxc.time.offset.boot',
    apply: (m, v) => void (m.timeOffset.boot = v === '' ? { seconds: 0, nanoseconds: 0 } : parseTimeOffset(v)),
  },
  {
    key: 'lxc.time.offset.monotonic',
    apply: (m, v) => void (m.timeOffset.monotonic = v === '' ? { seconds: 0, nanoseconds: 0 } : parseTimeOffset(v)),
  },
];
