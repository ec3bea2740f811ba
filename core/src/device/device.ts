/**
 * lxc-device: a host device handed to a running container, or taken back.
 * A device node (a path) gets the container's devices cgroup rule and a node
 * of the same type, numbers and mode in the container's /dev (through
 * /proc/<init>/root, resolved beneath it: Node never enters the container);
 * a network interface (a name) moves into the container's network namespace,
 * or back out of it.
 */
import { statSync } from 'node:fs';
import { attachDeviceSettings, recordedDeviceSettings } from '../cgroup/device-state.js';
import { parseDeviceRule } from '../cgroup/device-rules.js';
import type { CgroupDirs } from '../command/client.js';
import { containerPaths } from '../container/paths.js';
import { RunningContainer } from '../container/running.js';
import { importExeca } from '../esm-imports.js';
import { LxkitError, messageOf } from '../errors.js';
import { native } from '../native-package.js';

export interface DeviceRequest {
  readonly lxcpath: string;
  readonly container: string;
  /** A device node's path on the host (`/dev/…`), or a network interface's name. */
  readonly device: string;
  /** Where (a path) or under which name (an interface) it is in the container; the same by default. */
  readonly as?: string;
}

interface Node {
  readonly type: 'b' | 'c';
  readonly major: number;
  readonly minor: number;
  readonly mode: number;
}

/** The host's device node at `path` (symlinks followed, as /dev/disk/by-id/… are). */
function hostNode(path: string, container: string): Node {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `${path}: ${messageOf(err)}`, { container, path, cause: err });
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) throw new LxkitError('LXKIT_USAGE', `${path} is no device node (a character or block device)`, { container, path });
  // glibc's major()/minor() of a 64-bit dev_t.
  const dev = st.rdev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { type, major, minor, mode: Number(st.mode) };
}

/**
 * The rule in the container's devices cgroup: the container's cgroup first,
 * then its init's below it when that is another (a v1 child may allow only
 * what its parent allows). On the unified hierarchy, which has no devices
 * files, the rule joins those its device program was made of (recorded on
 * the cgroup) and the program is loaded again in the old one's place; a
 * container with no program allows every device already.
 */
async function deviceRule(dirs: readonly CgroupDirs[], file: 'devices.allow' | 'devices.deny', rule: string, container: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const v1 = dirs.find((d) => d.version === 1 && d.controllers.includes('devices'));
  if (!v1) {
    const unified = dirs.find((d) => d.version === 2);
    if (!unified) throw new LxkitError('LXKIT_UNSUPPORTED', `container "${container}" has neither a v1 devices cgroup nor a cgroup on the unified hierarchy`, { container });
    const allow = file === 'devices.allow';
    try {
      const recorded = recordedDeviceSettings(unified.limit);
      if (recorded === undefined && allow) return;
      attachDeviceSettings(unified.limit, [...(recorded ?? []), { allow, rule: parseDeviceRule(rule) }], { replace: true });
    } catch (err) {
      throw new LxkitError('LXKIT_CGROUP_FAILED', `container "${container}": cannot load a device program with "${file === 'devices.allow' ? 'allow' : 'deny'} ${rule}" into ${unified.limit}: ${messageOf(err)}`, {
        container,
        path: unified.limit,
        cause: err,
      });
    }
    return;
  }
  const order = file === 'devices.allow' ? [v1.limit, v1.init] : [v1.init, v1.limit];
  for (const dir of [...new Set(order)]) {
    try {
      await writeFile(`${dir}/${file}`, rule);
    } catch (err) {
      throw new LxkitError('LXKIT_CGROUP_FAILED', `container "${container}": cannot write "${rule}" to ${dir}/${file}: ${messageOf(err)}`, { container, path: `${dir}/${file}`, cause: err });
    }
  }
}

async function running(req: DeviceRequest): Promise<{ pid: number; dirs: readonly CgroupDirs[] }> {
  if (process.getuid?.() !== 0) throw new LxkitError('LXKIT_USAGE', 'lxkit device must be run as root (as lxc-device)', { container: req.container });
  const c = new RunningContainer(containerPaths(req.lxcpath, req.container).command, req.container);
  const status = await c.status();
  if (!status || status.state !== 'RUNNING' || status.pid === undefined) {
    throw new LxkitError('LXKIT_CONTAINER_NOT_RUNNING', `container "${req.container}" is not running`, { container: req.container });
  }
  return { pid: status.pid, dirs: (await c.cgroups()) ?? [] };
}

const isPath = (device: string) => device.startsWith('/');

async function ip(args: readonly string[], what: string, container: string): Promise<void> {
  const { execa } = await importExeca();
  const r = await execa(args[0]!, args.slice(1), { reject: false });
  if (r.exitCode !== 0) {
    const why = String(r.stderr).trim() || (r.exitCode === undefined ? messageOf(r) : `${args[0]} exited ${r.exitCode}`);
    throw new LxkitError('LXKIT_COMMAND_FAILED', `container "${container}": cannot ${what}: ${why}`, { container });
  }
}

/** lxc-device add: the node (rule, then node) or the interface (moved in, renamed to `as`). */
export async function addDevice(req: DeviceRequest): Promise<void> {
  const { pid, dirs } = await running(req);
  if (!isPath(req.device)) {
    const args = ['ip', 'link', 'set', 'dev', req.device, 'netns', String(pid), ...(req.as ? ['name', req.as] : [])];
    return ip(args, `move the network interface ${req.device} in${req.as ? ` as ${req.as}` : ''}`, req.container);
  }
  const node = hostNode(req.device, req.container);
  const target = req.as ?? req.device;
  if (!isPath(target)) throw new LxkitError('LXKIT_USAGE', `"${target}": a device node's place in the container is an absolute path`, { container: req.container });
  await deviceRule(dirs, 'devices.allow', `${node.type} ${node.major}:${node.minor} rwm`, req.container);
  try {
    native().makeNodeBeneath(`/proc/${pid}/root`, target, node.mode, node.major, node.minor);
  } catch (err) {
    throw new LxkitError('LXKIT_COMMAND_FAILED', `container "${req.container}": cannot make ${target}: ${messageOf(err)}`, { container: req.container, path: target, cause: err });
  }
}

/** lxc-device del: the node (gone, then denied) or the interface `device` of the container (moved out, renamed to `as`). */
export async function removeDevice(req: DeviceRequest): Promise<void> {
  const { pid, dirs } = await running(req);
  if (!isPath(req.device)) {
    // Run in the container's network namespace (nsenter, not Node), towards lxkit's own.
    const args = ['nsenter', `--net=/proc/${pid}/ns/net`, '--', 'ip', 'link', 'set', 'dev', req.device, 'netns', String(process.pid), ...(req.as ? ['name', req.as] : [])];
    return ip(args, `move the network interface ${req.device} out${req.as ? ` as ${req.as}` : ''}`, req.container);
  }
  const target = req.as ?? req.device;
  if (!isPath(target)) throw new LxkitError('LXKIT_USAGE', `"${target}": a device node's place in the container is an absolute path`, { container: req.container });
  // The rule is the host node's; the container's own may be gone already.
  const node = hostNode(req.device, req.container);
  try {
    native().removeNodeBeneath(`/proc/${pid}/root`, target);
  } catch (err) {
    throw new LxkitError('LXKIT_COMMAND_FAILED', `container "${req.container}": cannot remove ${target}: ${messageOf(err)}`, { container: req.container, path: target, cause: err });
  }
  await deviceRule(dirs, 'devices.deny', `${node.type} ${node.major}:${node.minor} rwm`, req.container);
}
