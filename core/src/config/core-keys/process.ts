/** What the container's init runs as and with: environment, init, limits, sysctls. */
import type { KeyHandler } from '../keys.js';
import { invalid, parseBool01, parseUint } from '../values.js';
import { optional, set } from './helpers.js';
import type { CoreModel, Limit, Prlimit } from './model.js';

type H = KeyHandler<CoreModel>;

/** Resource names of lxc.prlimit.<res> (setrlimit(2) without RLIMIT_). */
export const PRLIMIT_RESOURCES = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss',
  'rtprio', 'rttime', 'sigpending', 'stack',
] as const;

function parseLimit(text: string): Limit {
  if (text === 'unlimited') return 'unlimited';
  if (!/^[0-9]+$/.test(text)) invalid(`"${text}" is not a limit; use a number or "unlimited"`);
  return Number(text);
}

export function parsePrlimit(value: string): Prlimit {
  const parts = value.split(':');
  if (parts.length > 2) invalid(`"${value}": expected SOFT[:HARD]`);
  const soft = parseLimit(parts[0]!);
  const hard = parts.length === 2 ? parseLimit(parts[1]!) : soft;
  if (soft !== 'unlimited' && hard !== 'unlimited' && soft > hard) invalid(`soft limit ${soft} is above hard limit ${hard}`);
  if (soft === 'unlimited' && hard !== 'unlimited') invalid('an unlimited soft limit needs an unlimited hard limit');
  return { soft, hard };
}

const ENV_NAME = /^[^=\s]+$/;

/** A keyed family (`lxc.sysctl.<key>`): an empty value removes that key, `<family> =` removes all. */
function keyedFamily(family: 'sysctl' | 'proc', prefix: string): H[] {
  return [
    {
      key: prefix.slice(0, -1),
      apply(m, v) {
        if (v !== '') invalid(`${prefix.slice(0, -1)} only takes an empty value (to clear); use ${prefix}<name>`);
        m[family] = {};
      },
    },
    {
      key: prefix,
      apply(m, v, entry) {
        const name = entry.key.slice(prefix.length);
        if (v === '') delete m[family][name];
        else m[family][name] = v;
      },
    },
  ];
}

export const processKeys: H[] = [
  {
    key: 'lxc.environment',
    apply(m, v) {
      if (v === '') {
        m.environment = [];
        return;
      }
      const eq = v.indexOf('=');
      const name = eq < 0 ? v : v.slice(0, eq);
      if (!ENV_NAME.test(name)) invalid(`"${name}" is not an environment variable name`);
      m.environment.push(eq < 0 ? { name } : { name, value: v.slice(eq + 1) });
    },
  },
  { key: 'lxc.init.cmd', apply: (m, v) => set(m.init, 'cmd', optional(v, String)) },
  { key: 'lxc.init.uid', apply: (m, v) => set(m.init, 'uid', optional(v, (x) => parseUint(x, 'a uid'))) },
  { key: 'lxc.init.gid', apply: (m, v) => set(m.init, 'gid', optional(v, (x) => parseUint(x, 'a gid'))) },
  { key: 'lxc.init.cwd', apply: (m, v) => set(m.init, 'cwd', optional(v, String)) },
  {
    key: 'lxc.init.groups',
    apply(m, v) {
      if (v === '') {
        m.init.groups = [];
        return;
      }
      for (const g of v.split(',')) m.init.groups.push(parseUint(g.trim(), 'a comma-separated list of gids'));
    },
  },
  { key: 'lxc.execute.cmd', apply: (m, v) => set(m, 'executeCmd', optional(v, String)) },
  {
    key: 'lxc.prlimit',
    apply(m, v) {
      if (v !== '') invalid('lxc.prlimit only takes an empty value (to clear); use lxc.prlimit.<resource>');
      m.prlimit = {};
    },
  },
  {
    key: 'lxc.prlimit.',
    apply(m, v, entry) {
      const res = entry.key.slice('lxc.prlimit.'.length);
      if (!(PRLIMIT_RESOURCES as readonly string[]).includes(res)) {
        invalid(`unknown resource "${res}"; use one of ${PRLIMIT_RESOURCES.join(' ')}`);
      }
      if (v === '') delete m.prlimit[res];
      else m.prlimit[res] = parsePrlimit(v);
    },
  },
  ...keyedFamily('sysctl', 'lxc.sysctl.'),
  ...keyedFamily('proc', 'lxc.proc.'),
  { key: 'lxc.no_new_privs', apply: (m, v) => void (m.noNewPrivs = v === '' ? false : parseBool01(v)) },
  // As LXC's code reads it (keyring_disable_session): 1 keeps the starter's keyring, 0 or unset makes a
  // new one. lxc.container.conf(5) says the reverse; what LXC containers get is this.
  { key: 'lxc.keyring.session', apply: (m, v) => void (m.keyringSession = v === '' ? true : !parseBool01(v)) },
  { key: 'lxc.sched.core', apply: (m, v) => void (m.schedCore = v === '' ? false : parseBool01(v)) },
  // SELinux contexts are read and kept; with no SELinux driver they are ignored at start, as LXC
  // ignores them when SELinux is not enabled.
  { key: 'lxc.selinux.context', apply: (m, v) => set(m.selinux, 'context', optional(v, String)) },
  { key: 'lxc.selinux.context.keyring', apply: (m, v) => set(m.selinux, 'keyringContext', optional(v, String)) },
];
