/**
 * The generated container profile (lxc.apparmor.profile = generated), with
 * the same rules LXC generates: a base that allows what a system container
 * does and denies writes to the kernel's knobs, then blocks for the host's
 * features (unix mediation, cgroup namespaces, stacking) and the config
 * (nesting, unprivileged, lxc.apparmor.raw). The profile is self-contained
 * (no includes), so it compiles where only apparmor_parser is installed.
 */
import { everythingBut, type Exceptions } from './globs.js';

export interface ProfileOptions {
  /** The profile's name (profileName()). */
  name: string;
  /** apparmor_parser understands unix rules (≥ 2.10.95). */
  unix: boolean;
  /** The host has cgroup namespaces: cgroup and cgroup2 may be mounted under /sys/fs/cgroup. */
  cgroupns: boolean;
  /** The container gets its own policy namespace stacked under this profile (stacking kernels). */
  stackNamespace?: string | undefined;
  /** lxc.apparmor.allow_nesting. */
  nesting: boolean;
  /** The container has a user namespace, or lxkit runs unprivileged. */
  unprivileged: boolean;
  /** lxc.apparmor.raw lines, appended as they are. */
  raw: readonly string[];
}

/** FNV-1a, 64 bits, as 16 hex digits: LXC shortens names over the kernel's limit with it. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * Characters a profile name cannot carry everywhere it goes: a quote or a
 * backslash in the profile's quoted name, a colon in the stacked label's
 * `:namespace:`, white space and control characters in either. Container
 * names may have them (LXC takes any name without a slash).
 */
const UNSAFE = /["\\:\s\u0000-\u001f\u007f]/;

/** LXC's name for a container's generated profile: `lxc-NAME_<LXCPATH>`, hashed when too long for the kernel or unsafe. */
export function profileName(container: string, lxcpath: string): string {
  const full = `lxc-${container}_<${lxcpath}>`;
  return Buffer.byteLength(full) + 7 > 253 || UNSAFE.test(full) ? fnv1a64(full) : full;
}

/** The container's policy namespace (stacking): the profile name with slashes as dashes; also the profile file's name. */
export const namespaceName = (container: string, lxcpath: string): string => profileName(container, lxcpath).replaceAll('/', '-');

/** The label a container runs under: the profile, stacked with its namespace when there is one. */
export const containerLabel = (name: string, stackNamespace?: string): string => (stackNamespace ? `${name}//&:${stackNamespace}:` : name);

/** Writable sysctls: hostname, domainname, the IPC limits and the (namespaced) network. */
const PROC_SYS_WRITABLE: Exceptions = {
  kernel: { hostname: 'tree', domainname: 'tree', 'shm*': 'self', 'sem*': 'self', 'msg*': 'self' },
  net: 'tree',
};
/** Writable sysfs: the cgroup tree and network devices (their namespaced view). */
const SYS_WRITABLE: Exceptions = {
  fs: { cgroup: 'tree' },
  class: { net: 'tree' },
  devices: { virtual: { net: 'tree' } },
  // /sys/kernel is handled by the stacking blocks.
  'kernel*': 'tree',
};
/** What a container may bind or move elsewhere: not /proc, /sys, /dev itself nor /dev/.lxc (nesting helpers). */
const BIND_SOURCES: Exceptions = { proc: 'tree', sys: 'tree', dev: { '.lxc': 'tree' } };
/** What it may rbind: nothing of /dev either. */
const RBIND_SOURCES: Exceptions = { proc: 'tree', sys: 'tree', dev: 'tree' };

const deny = (globs: string[], perms: string): string[] => globs.map((g) => `deny ${g} ${perms},`);

function base(): string[] {
  const bindable = everythingBut('', BIND_SOURCES);
  const rules: string[] = [
    '# What a system container does',
    'capability,',
    'dbus,',
    'file,',
    'network,',
    'umount,',
    'signal (receive),',
    'signal peer=@{profile_name},',
    'ptrace (readby),',
    'ptrace (tracedby),',
    'ptrace peer=@{profile_name},',
    '',
    '# Filesystems a container may mount anywhere',
    ...['tmpfs', 'hugetlbfs', 'mqueue', 'fuse', 'fuse.*'].map((fs) => `mount fstype=${fs},`),
    '# ... and in their usual places',
    'mount fstype=proc -> /proc/,',
    'mount fstype=sysfs -> /sys/,',
    'mount fstype=binfmt_misc -> /proc/sys/fs/binfmt_misc/,',
    'mount fstype=efivarfs -> /sys/firmware/efi/efivars/,',
    'mount fstype=fusectl -> /sys/fs/fuse/connections/,',
    'mount fstype=securityfs -> /sys/kernel/security/,',
    'mount fstype=debugfs -> /sys/kernel/debug/,',
    'deny mount fstype=debugfs -> /var/lib/ureadahead/debugfs/,',
    'mount options=(rw, nosuid, nodev, noexec, remount) -> /sys/,',
    'mount options=(ro, nosuid, nodev, noexec, remount, strictatime) -> /sys/fs/cgroup/,',
    '# An init remounting / read-only at shutdown is refused quietly',
    'deny mount options=(ro, remount) -> /,',
    'deny mount options=(ro, remount, silent) -> /,',
    '',
    '# Propagation changes of the root',
    ...['slave', 'rslave', 'shared', 'rshared', 'private', 'rprivate', 'unbindable', 'runbindable'].map((p) => `mount options=(rw,make-${p}) -> /,`),
    '',
    '# Bind, rbind and move mounts of anything but /proc, /sys and /dev',
    ...bindable.map((g) => `mount options=(rw,bind) ${g},`),
    ...everythingBut('', RBIND_SOURCES).map((g) => `mount options=(rw,rbind) ${g},`),
    ...bindable.map((g) => `mount options=(rw,move) ${g},`),
    '# Read-only bind remounts (of the same) with any of nodev, nosuid, noexec and an atime flag',
    ...remounts(bindable),
    '',
    '# The kernel\'s knobs and devices',
    'deny /proc/bus/** wklx,',
    'deny /proc/sys/fs/** wklx,',
    'deny /proc/kcore rwklx,',
    'deny /proc/sysrq-trigger rwklx,',
    'deny /proc/acpi/** rwklx,',
    'deny /sys/firmware/efi/efivars/** rwklx,',
    'deny /sys/kernel/debug/{,**} rwklx,',
    ...deny(everythingBut('/proc/sys', PROC_SYS_WRITABLE), 'wklx'),
    ...deny(everythingBut('/sys', SYS_WRITABLE), 'wklx'),
  ];
  return rules;
}

function remounts(targets: string[]): string[] {
  const out: string[] = [];
  const flags = ['nodev', 'nosuid', 'noexec'];
  for (let set = 0; set < 1 << flags.length; set++) {
    const chosen = flags.filter((_, i) => set & (1 << i));
    for (const atime of [[], ['noatime'], ['strictatime']]) {
      const options = ['ro', 'remount', 'bind', ...chosen, ...atime].join(',');
      for (const t of targets) out.push(`mount options=(${options}) -> ${t},`);
    }
  }
  return out;
}

/** The profile's text. */
export function generateProfile(o: ProfileOptions): string {
  const body: string[] = base();
  if (o.unix) body.push('', '# Unix sockets: receive from anyone, talk freely inside', 'unix (receive),', 'unix peer=(label=@{profile_name}),');
  if (o.cgroupns) body.push('', '# cgroup namespaces: cgroupfs mounts of its own', 'mount fstype=cgroup -> /sys/fs/cgroup/**,', 'mount fstype=cgroup2 -> /sys/fs/cgroup/**,');
  if (o.stackNamespace !== undefined) {
    body.push(
      '',
      '# Stacking: the container may load policy into its own namespace, and nothing else under /sys/kernel',
      ...deny(everythingBut('/sys/kernel', { security: { apparmor: 'tree' } }), 'wklx'),
      'deny /sys/kernel?*{,/**} wklx,',
      `change_profile -> ":${o.stackNamespace}:*",`,
      `change_profile -> ":${o.stackNamespace}://*",`,
    );
  } else {
    body.push('', '# No stacking: /sys/kernel stays out of reach', 'deny /sys/kernel*{,/**} rwklx,');
  }
  if (o.nesting) {
    body.push(
      '',
      '# Nesting (lxc.apparmor.allow_nesting): containers inside',
      'pivot_root,',
      'ptrace,',
      'signal,',
      'deny /dev/.lxc/proc/** rw,',
      'deny /dev/.lxc/sys/** rw,',
      'mount fstype=proc -> /usr/lib/*/lxc/**,',
      'mount fstype=sysfs -> /usr/lib/*/lxc/**,',
      'mount none -> /var/lib/lxd/shmounts/,',
      'mount /var/lib/lxd/shmounts/ -> /var/lib/lxd/shmounts/,',
      'mount options=bind /var/lib/lxd/shmounts/** -> /var/lib/lxd/**,',
      '# Inner runtimes remount proc/sys with flag sets no narrower rule expresses',
      'mount,',
    );
    if (o.stackNamespace === undefined) body.push(`change_profile -> "${o.name}",`);
  }
  if (o.unprivileged) {
    body.push(
      '',
      '# Unprivileged: the user namespace already limits mounts',
      'pivot_root,',
      ...['slave', 'rslave', 'shared', 'rshared', 'private', 'rprivate', 'unbindable', 'runbindable'].map((p) => `mount options=(rw,make-${p}) -> **,`),
      'mount options=(rw,bind),',
      'mount options=(rw,rbind),',
      'mount options=(ro,remount),',
    );
  }
  if (o.raw.length > 0) body.push('', '# lxc.apparmor.raw', ...o.raw);
  const indented = body.map((l) => (l === '' ? '' : `  ${l}`));
  return [`# Generated by lxkit for ${o.name}; rewritten at every start`, `profile "${o.name}" flags=(attach_disconnected,mediate_deleted) {`, ...indented, '}', ''].join('\n');
}
