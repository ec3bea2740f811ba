/**
 * The part of the container model that the core owns, with LXC's defaults
 * (src/lxc/conf.c lxc_conf_init).
 */
import type { LogLevel } from '../values.js';

/** Hook types of lxc.hook.<type>, in the order LXC runs them during a container's life. */
export const HOOK_TYPES = [
  'pre-start',
  'pre-mount',
  'mount',
  'autodev',
  'start-host',
  'start',
  'stop',
  'post-stop',
  'clone',
  'destroy',
] as const;
export type HookType = (typeof HOOK_TYPES)[number];

/** Namespace names as lxc.namespace.* spells them. */
export const NAMESPACE_NAMES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceName = (typeof NAMESPACE_NAMES)[number];

export interface IdMap {
  readonly type: 'u' | 'g';
  readonly nsid: number;
  readonly hostid: number;
  readonly range: number;
}

/** One lxc.mount.entry, split as getmntent(3) splits an fstab line. */
export interface MountEntry {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  /** Options as written, LXC's own (optional, create=, relative) included. */
  readonly options: readonly string[];
  readonly dump: number;
  readonly pass: number;
  readonly optional: boolean;
  readonly create?: 'dir' | 'file';
  /** The source is relative to the container's rootfs (`relative`). */
  readonly relative: boolean;
  /** Where it was configured, for error messages at start. */
  readonly origin: { readonly file: string; readonly line: number };
}

export type CgroupMountMode = 'default' | 'mixed' | 'ro' | 'rw';

export interface MountAuto {
  proc?: 'mixed' | 'rw';
  sys?: 'ro' | 'mixed' | 'rw';
  cgroup?: { full: boolean; mode: CgroupMountMode; force: boolean };
  shmounts?: { hostPath: string; containerPath: string };
}

export type Limit = number | 'unlimited';

export interface Prlimit {
  readonly soft: Limit;
  readonly hard: Limit;
}

/** A time namespace offset, split like struct timespec. */
export interface TimeOffset {
  readonly seconds: number;
  readonly nanoseconds: number;
}

export interface CoreModel {
  arch?: string;
  utsName?: string;
  rootfs: { path?: string; mount?: string; options?: string; managed: boolean };
  mount: { fstab?: string; entries: MountEntry[]; auto: MountAuto };
  /** `tmpfsSize`: bytes (lxc.autodev.tmpfs.size, as LXC reads it: 500000 is ~500 KB). */
  autodev: { enabled: boolean; tmpfsSize: number };
  idmap: IdMap[];
  hooks: Record<HookType, string[]>;
  hookVersion: 0 | 1;
  tty: { max: number; dir?: string };
  pty: { max: number };
  console: {
    path?: string;
    logfile?: string;
    rotate: boolean;
    bufferSize?: number | 'auto';
    size?: number | 'auto';
  };
  /** `value` undefined means "inherit from the host environment". */
  environment: { name: string; value?: string }[];
  init: { cmd?: string; uid?: number; gid?: number; cwd?: string; groups: number[] };
  executeCmd?: string;
  prlimit: Record<string, Prlimit>;
  sysctl: Record<string, string>;
  proc: Record<string, string>;
  namespaces: {
    clone: NamespaceName[];
    keep: NamespaceName[];
    share: Partial<Record<NamespaceName, string>>;
  };
  timeOffset: { boot: TimeOffset; monotonic: TimeOffset };
  log: { level?: LogLevel; file?: string; syslog?: string };
  monitor: { unshare: boolean; pdeathSignal: number };
  signals: { halt: number; reboot: number; stop: number };
  autostart: { auto: boolean; delay: number; order: number; groups: string[] };
  ephemeral: boolean;
  noNewPrivs: boolean;
  schedCore: boolean;
  /** A new session keyring for the init (lxc.keyring.session unset or 0, as LXC reads it). */
  keyringSession: boolean;
  selinux: { context?: string; keyringContext?: string };
}

// Signal numbers are the same on every architecture lxkit runs on for these three.
const SIGINT = 2;
const SIGKILL = 9;
const SIGPWR = 30;

export function createCoreModel(): CoreModel {
  return {
    rootfs: { managed: true },
    mount: { entries: [], auto: {} },
    autodev: { enabled: true, tmpfsSize: 500000 },
    idmap: [],
    hooks: Object.fromEntries(HOOK_TYPES.map((t) => [t, []])) as unknown as Record<HookType, string[]>,
    hookVersion: 0,
    tty: { max: 0 },
    pty: { max: 0 },
    console: { rotate: false },
    environment: [],
    init: { groups: [] },
    prlimit: {},
    sysctl: {},
    proc: {},
    namespaces: { clone: [], keep: [], share: {} },
    timeOffset: { boot: { seconds: 0, nanoseconds: 0 }, monotonic: { seconds: 0, nanoseconds: 0 } },
    log: {},
    monitor: { unshare: false, pdeathSignal: SIGKILL },
    signals: { halt: SIGPWR, reboot: SIGINT, stop: SIGKILL },
    autostart: { auto: false, delay: 0, order: 0, groups: [] },
    ephemeral: false,
    noNewPrivs: false,
    schedCore: false,
    keyringSession: true,
    selinux: {},
  };
}
