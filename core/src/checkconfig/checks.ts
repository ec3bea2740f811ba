/**
 * What `lxkit checkconfig` checks. Labels are lxc-checkconfig's where it has
 * the same check, so the two outputs can be read side by side. A check looks
 * at the kernel config, a live probe (native/src/probe.c), host facts, or a
 * combination; a live probe, when there is one, has the last word.
 */
import type { CgroupLayout } from '../host/cgroup-layout.js';
import type { KernelConfig } from '../host/kernel-config.js';

export type CheckStatus =
  /** Present and working. */
  | 'enabled'
  /** Built as a module that is not loaded; it may load on first use. */
  | 'module'
  /** Not in this kernel / not on this host. */
  | 'missing'
  /** In the kernel, but the live probe failed here (e.g. forbidden by policy). */
  | 'unavailable';

export interface ProbeResult {
  readonly ok: boolean;
  readonly errno?: number;
  readonly code?: string;
  readonly message?: string;
}

export interface CheckResult {
  readonly id: string;
  readonly section: string;
  readonly label: string;
  readonly status: CheckStatus;
  readonly detail?: string;
  /** Kernel options looked at: 'y', 'm', another value, or null for not set. */
  readonly kernel?: Readonly<Record<string, string | null>>;
  readonly probe?: ProbeResult;
}

/** What the checks are evaluated against. */
export interface HostFacts {
  readonly kernel: KernelConfig | undefined;
  /** Probe results by name; empty when probes did not run (explicit kernel config). */
  readonly probes: ReadonlyMap<string, ProbeResult>;
  readonly cgroups: CgroupLayout;
  readonly filesystems: ReadonlySet<string>;
  /** Paths that exist (device nodes, sysfs files) among those the checks ask about. */
  readonly exists: (path: string) => boolean;
  readonly readText: (path: string) => string | undefined;
  /** Absolute path of a program in PATH, if any. */
  readonly which: (program: string) => string | undefined;
}

interface CheckSpec {
  readonly id: string;
  readonly section: string;
  readonly label: string;
  /** Kernel options that must all be set (y or m). */
  readonly kernel?: readonly string[];
  /** Live probe deciding the status when it ran. */
  readonly probe?: string;
  /** Custom evaluation; gets the kernel-based status. */
  readonly evaluate?: (facts: HostFacts, fromKernel: CheckStatus | undefined) => { status: CheckStatus; detail?: string };
}

const S_NS = 'Namespaces';
const S_CG = 'Control groups';
const S_SEC = 'Security';
const S_NET = 'Networking';
const S_STO = 'Storage';
const S_CR = 'Checkpoint/Restore';
const S_SYS = 'Kernel interfaces';

const present = (ok: boolean, detail?: string) => ({ status: (ok ? 'enabled' : 'missing') as CheckStatus, ...(detail ? { detail } : {}) });

/** A kernel feature also visible from userspace (a filesystem registered, a device node). */
function kernelOr(fact: (f: HostFacts) => boolean, what: string) {
  return (facts: HostFacts, fromKernel: CheckStatus | undefined) => {
    if (fact(facts)) return { status: 'enabled' as CheckStatus };
    if (fromKernel === 'module') return { status: 'module' as CheckStatus, detail: `${what} not loaded yet` };
    return { status: fromKernel === 'enabled' ? ('unavailable' as CheckStatus) : ('missing' as CheckStatus), detail: `no ${what}` };
  };
}

export const CHECKS: readonly CheckSpec[] = [
  { id: 'namespaces', section: S_NS, label: 'Namespaces', kernel: ['CONFIG_NAMESPACES'] },
  { id: 'ns.uts', section: S_NS, label: 'Utsname namespace', kernel: ['CONFIG_UTS_NS'], probe: 'ns.uts' },
  { id: 'ns.ipc', section: S_NS, label: 'Ipc namespace', kernel: ['CONFIG_IPC_NS'], probe: 'ns.ipc' },
  { id: 'ns.pid', section: S_NS, label: 'Pid namespace', kernel: ['CONFIG_PID_NS'], probe: 'ns.pid' },
  { id: 'ns.user', section: S_NS, label: 'User namespace', kernel: ['CONFIG_USER_NS'], probe: 'ns.user' },
  { id: 'ns.net', section: S_NS, label: 'Network namespace', kernel: ['CONFIG_NET_NS'], probe: 'ns.net' },
  { id: 'ns.mnt', section: S_NS, label: 'Mount namespace', probe: 'ns.mnt' },
  { id: 'ns.cgroup', section: S_NS, label: 'Cgroup namespace', kernel: ['CONFIG_CGROUPS'], probe: 'ns.cgroup' },
  { id: 'ns.time', section: S_NS, label: 'Time namespace', kernel: ['CONFIG_TIME_NS'], probe: 'ns.time' },
  {
    id: 'uidmap.newuidmap',
    section: S_NS,
    label: 'newuidmap',
    evaluate: (f) => present(f.which('newuidmap') !== undefined, f.which('newuidmap') ?? 'not installed (Debian package uidmap)'),
  },
  {
    id: 'uidmap.newgidmap',
    section: S_NS,
    label: 'newgidmap',
    evaluate: (f) => present(f.which('newgidmap') !== undefined, f.which('newgidmap') ?? 'not installed (Debian package uidmap)'),
  },

  { id: 'cgroups', section: S_CG, label: 'Cgroups', kernel: ['CONFIG_CGROUPS'] },
  {
    id: 'cgroup.layout',
    section: S_CG,
    label: 'Cgroup layout',
    evaluate: (f) => ({
      status: f.cgroups.kind === 'none' ? 'missing' : 'enabled',
      detail: f.cgroups.kind,
    }),
  },
  {
    id: 'cgroup.clone_children',
    section: S_CG,
    label: 'Cgroup v1 clone_children flag',
    evaluate: (f) => {
      const v1 = f.cgroups.hierarchies.filter((h) => h.version === 1);
      if (v1.length === 0) return { status: 'missing', detail: 'no cgroup v1 hierarchy' };
      return present(v1.some((h) => h.cloneChildren));
    },
  },
  { id: 'cgroup.device', section: S_CG, label: 'Cgroup device', kernel: ['CONFIG_CGROUP_DEVICE'] },
  { id: 'cgroup.bpf', section: S_CG, label: 'Cgroup BPF device programs', kernel: ['CONFIG_CGROUP_BPF', 'CONFIG_BPF_SYSCALL'] },
  { id: 'cgroup.sched', section: S_CG, label: 'Cgroup sched', kernel: ['CONFIG_CGROUP_SCHED'] },
  { id: 'cgroup.cpuacct', section: S_CG, label: 'Cgroup cpu account', kernel: ['CONFIG_CGROUP_CPUACCT'] },
  { id: 'cgroup.memory', section: S_CG, label: 'Cgroup memory controller', kernel: ['CONFIG_MEMCG'] },
  { id: 'cgroup.cpuset', section: S_CG, label: 'Cgroup cpuset', kernel: ['CONFIG_CPUSETS'] },
  { id: 'cgroup.freezer', section: S_CG, label: 'Cgroup freezer', kernel: ['CONFIG_CGROUP_FREEZER'] },
  { id: 'cgroup.pids', section: S_CG, label: 'Cgroup pids', kernel: ['CONFIG_CGROUP_PIDS'] },

  { id: 'seccomp', section: S_SEC, label: 'Seccomp filter', kernel: ['CONFIG_SECCOMP', 'CONFIG_SECCOMP_FILTER'], probe: 'seccomp.filter' },
  { id: 'seccomp.notify', section: S_SEC, label: 'Seccomp user notification', probe: 'seccomp.notify' },
  {
    id: 'apparmor',
    section: S_SEC,
    label: 'AppArmor',
    kernel: ['CONFIG_SECURITY_APPARMOR'],
    evaluate: (f, k) => {
      const enabled = f.readText('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y';
      if (enabled) return { status: 'enabled' };
      return { status: 'missing', detail: k === 'enabled' ? 'in the kernel but not enabled (boot with apparmor=1 security=apparmor)' : 'not in the kernel' };
    },
  },
  {
    id: 'selinux',
    section: S_SEC,
    label: 'SELinux',
    kernel: ['CONFIG_SECURITY_SELINUX'],
    evaluate: (f, k) =>
      f.exists('/sys/fs/selinux/enforce')
        ? { status: 'enabled' }
        : { status: 'missing', detail: k === 'enabled' ? 'in the kernel but not enabled' : 'not in the kernel' },
  },
  { id: 'caps.file', section: S_SEC, label: 'File capabilities', evaluate: () => ({ status: 'enabled', detail: 'always on since Linux 2.6.33' }) },

  { id: 'net.veth', section: S_NET, label: 'Veth pair device', kernel: ['CONFIG_VETH'], probe: 'net.veth' },
  { id: 'net.macvlan', section: S_NET, label: 'Macvlan', kernel: ['CONFIG_MACVLAN'], probe: 'net.macvlan' },
  { id: 'net.ipvlan', section: S_NET, label: 'Ipvlan', kernel: ['CONFIG_IPVLAN'], probe: 'net.ipvlan' },
  { id: 'net.vlan', section: S_NET, label: 'Vlan', kernel: ['CONFIG_VLAN_8021Q'], probe: 'net.vlan' },
  { id: 'net.bridge', section: S_NET, label: 'Bridges', kernel: ['CONFIG_BRIDGE'], probe: 'net.bridge' },
  { id: 'netfilter.advanced', section: S_NET, label: 'Advanced netfilter', kernel: ['CONFIG_NETFILTER_ADVANCED'] },
  { id: 'netfilter.masquerade4', section: S_NET, label: 'CONFIG_IP_NF_TARGET_MASQUERADE', kernel: ['CONFIG_IP_NF_TARGET_MASQUERADE'] },
  { id: 'netfilter.masquerade6', section: S_NET, label: 'CONFIG_IP6_NF_TARGET_MASQUERADE', kernel: ['CONFIG_IP6_NF_TARGET_MASQUERADE'] },
  { id: 'netfilter.checksum', section: S_NET, label: 'CONFIG_NETFILTER_XT_TARGET_CHECKSUM', kernel: ['CONFIG_NETFILTER_XT_TARGET_CHECKSUM'] },
  { id: 'netfilter.comment', section: S_NET, label: 'CONFIG_NETFILTER_XT_MATCH_COMMENT', kernel: ['CONFIG_NETFILTER_XT_MATCH_COMMENT'] },

  {
    id: 'fs.btrfs',
    section: S_STO,
    label: 'Btrfs',
    kernel: ['CONFIG_BTRFS_FS'],
    evaluate: kernelOr((f) => f.filesystems.has('btrfs'), 'btrfs in /proc/filesystems'),
  },
  {
    id: 'fs.overlay',
    section: S_STO,
    label: 'Overlayfs',
    kernel: ['CONFIG_OVERLAY_FS'],
    evaluate: kernelOr((f) => f.filesystems.has('overlay'), 'overlay in /proc/filesystems'),
  },
  {
    id: 'dev.loop',
    section: S_STO,
    label: 'Loop devices',
    kernel: ['CONFIG_BLK_DEV_LOOP'],
    evaluate: kernelOr((f) => f.exists('/dev/loop-control'), '/dev/loop-control'),
  },
  {
    id: 'fuse',
    section: S_STO,
    label: 'FUSE (for use with lxcfs)',
    kernel: ['CONFIG_FUSE_FS'],
    evaluate: kernelOr((f) => f.exists('/dev/fuse'), '/dev/fuse'),
  },
  {
    id: 'dev.mapper',
    section: S_STO,
    label: 'Device mapper (LVM)',
    kernel: ['CONFIG_BLK_DEV_DM'],
    evaluate: kernelOr((f) => f.exists('/dev/mapper/control'), '/dev/mapper/control'),
  },

  { id: 'checkpoint', section: S_CR, label: 'checkpoint restore', kernel: ['CONFIG_CHECKPOINT_RESTORE'] },
  ...['CONFIG_FHANDLE', 'CONFIG_EVENTFD', 'CONFIG_EPOLL', 'CONFIG_UNIX_DIAG', 'CONFIG_INET_DIAG', 'CONFIG_PACKET_DIAG', 'CONFIG_NETLINK_DIAG'].map(
    (c): CheckSpec => ({ id: `checkpoint.${c.slice(7).toLowerCase()}`, section: S_CR, label: c, kernel: [c] }),
  ),
  {
    id: 'checkpoint.criu',
    section: S_CR,
    label: 'criu',
    evaluate: (f) => present(f.which('criu') !== undefined, f.which('criu') ?? 'not installed'),
  },

  { id: 'syscall.clone3', section: S_SYS, label: 'clone3', probe: 'syscall.clone3' },
  { id: 'syscall.openat2', section: S_SYS, label: 'openat2 (RESOLVE_IN_ROOT)', probe: 'syscall.openat2' },
  { id: 'syscall.pidfd_open', section: S_SYS, label: 'pidfd_open', probe: 'syscall.pidfd_open' },
  { id: 'syscall.mount_setattr', section: S_SYS, label: 'mount_setattr (idmapped mounts)', probe: 'syscall.mount_setattr' },
  { id: 'syscall.close_range', section: S_SYS, label: 'close_range', probe: 'syscall.close_range' },
];

/** Probes the checks use, for running only what is needed. */
export const PROBES_USED: readonly string[] = CHECKS.flatMap((c) => (c.probe ? [c.probe] : []));

function kernelStatus(spec: CheckSpec, kernel: KernelConfig | undefined): { status?: CheckStatus; seen?: Record<string, string | null> } {
  if (!spec.kernel || !kernel) return {};
  const seen: Record<string, string | null> = {};
  for (const k of spec.kernel) seen[k] = kernel.get(k) ?? null;
  const values = Object.values(seen);
  const status: CheckStatus = values.some((v) => v === null || v === 'n')
    ? 'missing'
    : values.some((v) => v === 'm')
      ? 'module'
      : 'enabled';
  return { status, seen };
}

/** Errors meaning the feature is absent rather than merely refused. */
const ABSENT = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOSYS', 'ENOENT', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

export function evaluate(spec: CheckSpec, facts: HostFacts): CheckResult {
  const { status: fromKernel, seen } = kernelStatus(spec, facts.kernel);
  const probe = spec.probe ? facts.probes.get(spec.probe) : undefined;
  let status: CheckStatus;
  let detail: string | undefined;
  if (spec.evaluate) {
    ({ status, detail } = spec.evaluate(facts, fromKernel));
  } else if (probe) {
    if (probe.ok) status = 'enabled';
    else if (fromKernel === 'module') status = 'module';
    else if (fromKernel === 'enabled' || !ABSENT.has(probe.code ?? '')) status = 'unavailable';
    else status = 'missing';
    if (!probe.ok) detail = `probe failed: ${probe.code} (${probe.message})`;
  } else if (fromKernel) {
    status = fromKernel;
  } else {
    status = 'missing';
    detail = spec.kernel ? 'no kernel config to check' : 'not probed';
  }
  return {
    id: spec.id,
    section: spec.section,
    label: spec.label,
    status,
    ...(detail ? { detail } : {}),
    ...(seen ? { kernel: seen } : {}),
    ...(probe ? { probe } : {}),
  };
}

export function runChecks(facts: HostFacts): CheckResult[] {
  return CHECKS.map((c) => evaluate(c, facts));
}
