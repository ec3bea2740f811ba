/**
 * The busybox template: a small system container made from a static busybox
 * (Debian's busybox-static): the applets, an inittab that runs rcS and
 * gettys on the ttys (/sbin/getty, where busybox links it), root without a
 * password (or --password), and the config LXC's busybox template writes,
 * adapted.
 *
 * Unprivileged unless `-- --privileged`: root inside maps to root's
 * subordinate range (/etc/subuid, /etc/subgid; added when missing); the
 * rootfs stays owned by root on disk and is idmapped at start when the
 * kernel and filesystem can, else its ownership is shifted now. Run by
 * another user, the container maps to that user's range, and the rootfs is
 * given to it from inside a user namespace.
 *
 * Options (after --): --privileged, --busybox PATH, --password PASSWORD.
 */
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { importExeca, type Template, type TemplateRequest } from '@lxkit/core';
import { makeUnprivileged } from './unprivileged.js';

const DIRS: readonly [string, number][] = [
  ['bin', 0o755], ['sbin', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['lib', 0o755],
  ['etc/init.d', 0o755], ['dev', 0o755], ['proc', 0o555], ['sys', 0o555], ['tmp', 0o1777],
  ['root', 0o700], ['home', 0o755], ['mnt', 0o755], ['run', 0o755], ['var/log', 0o755], ['var/run', 0o755],
];

const INITTAB = `# Written by lxkit's busybox template.
::sysinit:/etc/init.d/rcS
tty1::respawn:/sbin/getty -L tty1 115200 vt100
tty2::respawn:/sbin/getty -L tty2 115200 vt100
console::askfirst:/bin/sh -l
::ctrlaltdel:/bin/umount -a -r
::shutdown:/bin/umount -a -r
`;

const RCS = `#!/bin/sh
# Run once at boot by init (::sysinit in /etc/inittab).
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run 2>/dev/null
syslogd 2>/dev/null
`;

/** Is the ELF file statically linked (no PT_INTERP program header)? */
async function isStatic(path: string): Promise<boolean> {
  const b = await readFile(path);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // 64-bit ELF only
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

async function findBusybox(given: string | undefined): Promise<string> {
  const candidates = given ? [given] : ['/bin/busybox', '/usr/bin/busybox'];
  for (const c of candidates) {
    try {
      if (await isStatic(c)) return c;
      if (given) throw new Error(`${c} is dynamically linked; use a static busybox (Debian: busybox-static)`);
    } catch (err) {
      if (given) throw err;
    }
  }
  throw new Error('no static busybox found (install Debian\'s busybox-static, or give --busybox PATH)');
}

async function writeAt(rootfs: string, path: string, text: string, mode = 0o644): Promise<void> {
  const file = join(rootfs, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text, { mode });
  await chmod(file, mode);
}

/**
 * The device allowlist every container gets (LXC's hardened default, with
 * the same reach): nothing, then mknod of any node (so that /dev can be
 * filled), and read/write of the harmless character devices: null, zero,
 * full, random, urandom, tty, console, ptmx, the pty slaves, fuse and tun.
 * On a host without the v1 devices controller the cgroup plugin enforces
 * it as an eBPF program.
 */
const DEVICE_RULES: readonly (readonly ['allow' | 'deny', string])[] = [
  ['deny', 'a'],
  ['allow', 'c *:* m'],
  ['allow', 'b *:* m'],
  ...['1:3', '1:5', '1:7', '1:8', '1:9', '5:0', '5:1', '5:2', '136:*', '10:229', '10:200'].map((d) => ['allow', `c ${d} rwm`] as const),
];

export const busybox: Template = {
  name: 'busybox',
  description: 'a small system container from a static busybox (unprivileged unless -- --privileged)',
  async create(req: TemplateRequest) {
    const { values } = parseArgs({
      args: [...req.args],
      options: { privileged: { type: 'boolean' }, busybox: { type: 'string' }, password: { type: 'string' } },
      strict: true,
    });
    const bb = await findBusybox(values.busybox);
    const { rootfs } = req;
    for (const [d, mode] of DIRS) {
      await mkdir(join(rootfs, d), { recursive: true });
      await chmod(join(rootfs, d), mode);
    }
    await copyFile(bb, join(rootfs, 'bin/busybox'));
    await chmod(join(rootfs, 'bin/busybox'), 0o755);
    const { execa } = await importExeca();
    const applets = String((await execa(bb, ['--list-full'])).stdout).split('\n').filter(Boolean);
    const links = applets.filter((a) => a !== 'bin/busybox').map((a) => join(rootfs, a));
    for (const dir of new Set(links.map((l) => dirname(l)))) await mkdir(dir, { recursive: true });
    // ~300 links: side by side on libuv's threads, not one round trip after another (~0.1 s of a create).
    await Promise.all(
      links.map((link) =>
        symlink('/bin/busybox', link).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        }),
      ),
    );
    let hash = '';
    if (values.password !== undefined) {
      hash = String((await execa(bb, ['cryptpw', '-m', 'sha512', values.password])).stdout).trim();
    }
    await writeAt(rootfs, 'etc/inittab', INITTAB);
    await writeAt(rootfs, 'etc/init.d/rcS', RCS, 0o755);
    await writeAt(rootfs, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
    await writeAt(rootfs, 'etc/group', 'root:x:0:\ntty:x:5:\n');
    await writeAt(rootfs, 'etc/shadow', `root:${hash}:19000:0:99999:7:::\n`, 0o600);
    await writeAt(rootfs, 'etc/hostname', `${req.name}\n`);
    await writeAt(rootfs, 'etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${req.name}\n`);
    await writeAt(rootfs, 'etc/fstab', '');
    await writeAt(rootfs, 'etc/profile', 'export PATH=/bin:/sbin:/usr/bin:/usr/sbin\n');

    const c = req.config;
    c.set('lxc.rootfs.path', `dir:${rootfs}`);
    // busybox init halts on SIGUSR1 and reboots on SIGTERM.
    c.set('lxc.signal.halt', 'SIGUSR1');
    c.set('lxc.signal.reboot', 'SIGTERM');
    c.set('lxc.uts.name', req.name);
    c.set('lxc.autodev', '1');
    c.set('lxc.tty.max', '2');
    c.set('lxc.pty.max', '1024');
    if (req.hasPlugin('caps')) c.append('lxc.cap.drop', 'sys_module mac_admin mac_override sys_time');
    if (req.hasPlugin('cgmanager')) for (const [key, rule] of DEVICE_RULES) c.append(`lxc.cgroup.devices.${key}`, rule);
    c.set('lxc.mount.auto', 'proc:mixed sys:ro');
    c.append('lxc.mount.entry', 'shm dev/shm tmpfs defaults,create=dir 0 0');
    c.append('lxc.mount.entry', 'mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0');

    if (!values.privileged) await makeUnprivileged(req, 'busybox');
  },
};
