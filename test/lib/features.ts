/**
 * Kernel features a test can declare it needs. On a machine without one the
 * test skips naming what is missing; the kernel-feature VM (test/vm) has
 * them all, so a file tagged `@kernel-vm` runs such tests there.
 *
 *   testIf(t, needs('device-mapper'), 'an LV and its snapshot', async () => …)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export type KernelFeature = 'device-mapper' | 'vlan' | 'ipvlan' | 'bridge-vlan' | 'apparmor' | 'cgroup2' | 'criu' | 'modules';

/** The controllers 'cgroup2' promises on the unified hierarchy. */
export const UNIFIED_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb'] as const;

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const has = (program: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program]).status === 0;

/** Each feature's probe: what is missing, or undefined when the feature is there. */
const PROBES: Record<KernelFeature, () => string | undefined> = {
  'device-mapper': () =>
    !/ device-mapper$/m.test(read('/proc/misc') ?? '') ? 'this kernel has no device-mapper' : !has('lvm') || !has('dmsetup') ? 'the LVM tools are not installed (Debian: lvm2)' : undefined,
  vlan: () => (existsSync('/proc/net/vlan/config') ? undefined : 'this kernel has no 802.1Q VLAN support (8021q)'),
  // Built in or loaded: the module's directory is there either way (the VM loads it at boot).
  ipvlan: () => (existsSync('/sys/module/ipvlan') ? undefined : 'this kernel has no ipvlan devices (module ipvlan not loaded)'),
  // A bridge of the probe's own, deleted at once: whether its VLAN filtering can be turned on.
  'bridge-vlan': () => {
    const name = `lxkprobe${process.pid % 100000}`;
    const made = spawnSync('ip', ['link', 'add', name, 'type', 'bridge', 'vlan_filtering', '1']).status === 0;
    if (made) spawnSync('ip', ['link', 'del', name]);
    return made ? undefined : "this kernel's bridges do not filter VLANs (CONFIG_BRIDGE_VLAN_FILTERING)";
  },
  apparmor: () =>
    read('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y' && existsSync('/sys/kernel/security/apparmor/profiles') ? undefined : 'AppArmor is not enabled in this kernel',
  cgroup2: () => {
    const mounts = read('/proc/self/mountinfo') ?? '';
    if (/ - cgroup /m.test(mounts)) return 'cgroups are hybrid here (v1 controllers), not a pure unified hierarchy';
    const enabled = (read('/sys/fs/cgroup/cgroup.subtree_control') ?? '').split(/\s+/);
    const missing = UNIFIED_CONTROLLERS.filter((c) => !enabled.includes(c));
    return missing.length ? `the unified hierarchy lacks the ${missing.join(', ')} controller(s)` : undefined;
  },
  criu: () => {
    if (!has('criu')) return 'criu is not installed';
    const r = spawnSync('criu', ['check'], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `criu check fails on this kernel (${(r.stderr || r.stdout).trim().split('\n').at(-1)})`;
  },
  modules: () => (existsSync('/proc/modules') ? undefined : 'this kernel cannot load modules'),
};

/** Whether this process runs inside the kernel-feature VM (its guest runner sets LXKIT_VM). */
export const inKernelVm = process.env['LXKIT_VM'] === '1';

/** What of `feature` is missing here, or undefined. */
export const missingFeature = (feature: KernelFeature): string | undefined => PROBES[feature]();

/**
 * A skip reason naming the missing features, or undefined when all are
 * here. Inside the kernel-feature VM it is always undefined: the VM
 * promises every feature, so a missing one must fail the test, not skip it.
 */
export function needs(...features: KernelFeature[]): string | undefined {
  if (inKernelVm) return undefined;
  const missing = features.flatMap((f) => {
    const why = PROBES[f]();
    return why ? [`${f}: ${why}`] : [];
  });
  return missing.length ? `needs ${missing.join('; ')} (runs in the kernel-feature VM)` : undefined;
}
