/**
 * Builds what the kernel-feature VM boots (see ../../docs/testing.md):
 *
 *  - the kernel: Debian's stock cloud kernel (/boot/vmlinuz-<kver>);
 *  - a tiny initramfs: static busybox, the virtio modules and an /init that
 *    mounts the root disk and switches to it;
 *  - the root disk (ext4, made with `mkfs.ext4 -d` from a staging folder, no
 *    mount needed): busybox's applets, node, the tools kernel-feature tests
 *    use (LVM, dmsetup, iproute2's ip and bridge, apparmor_parser, criu, losetup) with the
 *    libraries `ldd` names, the kernel modules the VM loads, the guest's
 *    init, and the project — its built JavaScript, native binaries,
 *    node_modules and the selected test files bundled to plain JavaScript —
 *    which the guest binds at the same absolute path as on the host, so
 *    every path the project computes from its own location holds inside too.
 *
 * Everything is rebuilt on each run (a few seconds); nothing is mounted on
 * the host.
 */
import { chmod, copyFile, link, lstat, mkdir, open, readdir, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { execa } from 'execa';

/** Kernel modules the guest loads at boot, with their dependencies (modprobe --show-depends). */
export const GUEST_MODULES = [
  // Block devices for the disks and the tests.
  'virtio_pci', 'virtio_blk', 'loop',
  // device-mapper for LVM: classic snapshots and thin pools.
  'dm-mod', 'dm-snapshot', 'dm-thin-pool',
  // Networking the host kernel may lack or the tests need.
  '8021q', 'tun', 'veth', 'bridge', 'macvlan', 'ipvlan', 'dummy', 'nf_tables',
  // Storage.
  'overlay', 'btrfs', 'fuse',
  // Socket diagnostics (criu).
  'unix_diag', 'inet_diag', 'tcp_diag', 'udp_diag', 'af_packet_diag', 'netlink_diag',
  // criu dumps a network namespace's conntrack entries over netfilter's netlink.
  'nf_conntrack_netlink',
];

/** Modules the initramfs needs to reach the root disk. */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk'];

/** Programs copied into the guest (resolved through PATH on the host), with the Debian package that has them. */
export const GUEST_TOOLS = {
  lvm: 'lvm2',
  dmsetup: 'dmsetup',
  ip: 'iproute2',
  bridge: 'iproute2',
  apparmor_parser: 'apparmor',
  criu: 'criu',
  losetup: 'util-linux',
  // The LVM storage tests: lxkit formats volumes (mkfs, mkfs.ext4), reads their type (blkid) and copies them (rsync).
  mkfs: 'util-linux',
  mke2fs: 'e2fsprogs',
  blkid: 'util-linux',
  rsync: 'rsync',
  // criu dumps a container's tmpfs mounts (its /dev, /dev/shm, /run) with GNU tar's options.
  tar: 'tar',
  // lxkit's criu plugin removes criu's leftover nftables lock from a restored container's network namespace.
  nft: 'nftables',
  nsenter: 'util-linux',
  // Tests that run lxkit as a user other than root (the checkpoint refusals).
  setpriv: 'util-linux',
};

/** The newest installed Debian cloud kernel: its version, vmlinuz and module tree. */
export function findKernel() {
  const versions = existsSync('/lib/modules') ? readdirSync('/lib/modules').filter((v) => v.endsWith('-cloud-amd64') && existsSync(`/boot/vmlinuz-${v}`)) : [];
  const kver = versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  return kver ? { kver, vmlinuz: `/boot/vmlinuz-${kver}`, modules: `/lib/modules/${kver}` } : undefined;
}

/** `insmod` lines for `modules` in dependency order, each module once; builtin ones are left out. */
async function insmodOrder(kver, modules) {
  const seen = new Set();
  const lines = [];
  for (const m of modules) {
    const { stdout } = await execa('modprobe', ['-S', kver, '--show-depends', m]);
    for (const l of stdout.split('\n')) {
      const hit = /^insmod (\S+)(.*)$/.exec(l.trim());
      if (!hit || seen.has(hit[1])) continue;
      seen.add(hit[1]);
      lines.push({ path: hit[1], params: hit[2].trim() });
    }
  }
  return lines;
}

/** Hard-links `from` to `to` (same filesystem), else copies it; parents are made. */
async function place(from, to) {
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { force: true });
  await link(from, to).catch(() => copyFile(from, to));
}

/**
 * Copies `path` into `stage` at the same place, following the symlink chain
 * (each link recreated as a link), so that /lib64/ld-linux… and
 * libfoo.so.1 -> libfoo.so.1.2.3 keep their names.
 */
async function placeChain(stage, path) {
  for (let p = path, hops = 0; hops < 16; hops++) {
    const st = await lstat(p);
    const dest = join(stage, p);
    if (!st.isSymbolicLink()) return place(p, dest);
    const target = await readlink(p);
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    await symlink(target, dest);
    p = target.startsWith('/') ? target : join(dirname(p), target);
  }
}

/** The shared libraries an ELF file loads (ldd), absolute paths. */
async function librariesOf(file) {
  const r = await execa('ldd', [file], { reject: false });
  if (r.exitCode !== 0) return []; // static, or not an ELF file
  return [...r.stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
}

async function isElf(file) {
  const fd = await open(file);
  try {
    const b = Buffer.alloc(4);
    await fd.read(b, 0, 4, 0);
    return b.toString('latin1') === '\x7fELF';
  } finally {
    await fd.close();
  }
}

async function* walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield { path: p, entry: e };
  }
}

/** The host programs the guest gets: absolute paths (PATH lookup), throwing with the package to install. */
async function resolveTools() {
  const out = [];
  for (const [tool, pkg] of Object.entries(GUEST_TOOLS)) {
    const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', tool], { reject: false });
    if (r.exitCode !== 0) throw new Error(`the kernel-feature VM needs ${tool} on the host (Debian package ${pkg})`);
    out.push(r.stdout.trim());
  }
  return out;
}

/** Every symlink in the directory of `target` that points at it (lvm's pvcreate, vgcreate…). */
async function aliasesOf(target) {
  const dir = dirname(target);
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isSymbolicLink()) continue;
    const to = await readlink(join(dir, e.name)).catch(() => '');
    if (to === basename(target) || to === target) out.push(join(dir, e.name));
  }
  return out;
}

const LVM_CONF = `# lxkit's kernel-feature VM: no udev, no monitoring daemon (there is neither).
devices {
  obtain_device_list_from_udev = 0
  scan = [ "/dev" ]
}
activation {
  udev_sync = 0
  udev_rules = 0
  monitoring = 0
}
global {
  use_lvmetad = 0
}
`;

/** Folders and files of the project the guest does not need. */
const PROJECT_SKIP = new Set(['.git', 'bench', 'docs', 'test', 'obj.target', '.deps', 'src']);

async function stageProject(root, dest) {
  const copyTree = async (from, to, top) => {
    for (const e of await readdir(from, { withFileTypes: true })) {
      // Sources are skipped in the project's own packages, never inside node_modules.
      if (!top.inNodeModules && PROJECT_SKIP.has(e.name)) continue;
      if (e.name === 'tmp' && from === root) continue;
      const src = join(from, e.name);
      const dst = join(to, e.name);
      if (e.isSymbolicLink()) {
        await mkdir(to, { recursive: true });
        await symlink(await readlink(src), dst);
      } else if (e.isDirectory()) {
        await copyTree(src, dst, { inNodeModules: top.inNodeModules || e.name === 'node_modules' });
      } else if (e.isFile() && !e.name.endsWith('.tsbuildinfo')) {
        await place(src, dst);
      }
    }
  };
  await copyTree(root, dest, { inNodeModules: false });
}

/**
 * Bundles the test files (and the guest runner) to JavaScript at the same
 * places under the staged project: test/e2e/x.test.ts → test/e2e/x.test.mjs.
 * Packages stay imports, so @lxkit/core is the same built code the CLI runs.
 */
async function bundleTests(root, dest, files) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: files,
    outdir: join(dest, 'test'),
    outbase: join(root, 'test'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  for (const f of ['vm/guest.mjs', 'lib/runner.mjs']) await place(join(root, 'test', f), join(dest, 'test', f));
}

/**
 * Builds the kernel, initramfs and root disk into `work`; `files` are the
 * test files (absolute .ts paths under root/test) the guest runs, and
 * `manifest` what guest.mjs reads (test/vm/files.json).
 * Returns the paths qemu boots.
 */
export async function buildImages({ root, work, files, manifest, say = () => {} }) {
  const kernel = findKernel();
  if (!kernel) throw new Error('no Debian cloud kernel installed (apt-get install linux-image-cloud-amd64)');
  await rm(work, { recursive: true, force: true });
  const stage = join(work, 'root');
  const initrd = join(work, 'initrd');
  await mkdir(stage, { recursive: true });

  // A merged-/usr layout, as Debian's.
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']) await mkdir(join(stage, d), { recursive: true });
  for (const [l, t] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) await symlink(t, join(stage, l));
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'root', 'var/tmp', 'var/cache', 'var/lib', 'mnt', 'etc', 'lxkit-vm']) await mkdir(join(stage, d), { recursive: true });

  say(`staging the root disk (kernel ${kernel.kver})`);
  // busybox first; real tools then take the names they share with applets.
  const busybox = '/bin/busybox';
  await place(busybox, join(stage, 'usr/bin/busybox'));
  const { stdout: applets } = await execa(busybox, ['--list-full']);
  for (const a of applets.split('\n').filter(Boolean)) {
    const dest = join(stage, a.replace(/^(bin|sbin)\//, 'usr/$1/'));
    if (existsSync(dest)) continue;
    await mkdir(dirname(dest), { recursive: true });
    await symlink('/usr/bin/busybox', dest);
  }

  const elves = [await realpath(process.execPath)];
  const tools = await Promise.all((await resolveTools()).map((t) => realpath(t)));
  elves.push(...tools);
  const names = [];
  for (const t of tools) for (const a of await aliasesOf(t)) names.push(a);
  // A busybox applet of the same name (ip, losetup) would shadow the real tool in one of the bin folders.
  for (const n of [...elves, ...names].map((p) => basename(p))) {
    for (const d of ['usr/bin', 'usr/sbin']) await rm(join(stage, d, n), { force: true });
  }
  for (const p of [...elves, ...names]) await placeChain(stage, p);
  if (process.execPath !== '/usr/bin/node') await symlink(process.execPath, join(stage, 'usr/bin/node')).catch(() => undefined);

  say('staging the project');
  // On the disk at /lxkit-vm/project; the guest's init binds it at its host path (which may be under /tmp, a tmpfs there).
  const project = join(stage, 'lxkit-vm/project');
  await stageProject(root, project);
  await bundleTests(root, project, files);
  await writeFile(join(project, 'test/vm/files.json'), JSON.stringify(manifest));
  for await (const { path } of walk(project)) {
    if (path.includes('/node_modules/')) continue;
    if (/\.(node)$|\/lxkit-[a-z]+$/.test(path) && (await isElf(path))) elves.push(path);
  }
  const libs = new Set();
  for (const e of elves) for (const l of await librariesOf(e)) libs.add(l);
  for (const l of libs) await placeChain(stage, l);

  // Kernel modules, and the order to load them in.
  const modules = await insmodOrder(kernel.kver, GUEST_MODULES);
  for (const m of modules) await place(m.path, join(stage, m.path));
  await writeFile(join(stage, 'lxkit-vm/modules'), modules.map((m) => `${m.path} ${m.params}`.trim()).join('\n') + '\n');

  // Configuration the tools need.
  await writeFile(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  await writeFile(join(stage, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(stage, 'etc/hostname'), 'lxkit-vm\n');
  await writeFile(join(stage, 'etc/hosts'), '127.0.0.1 localhost lxkit-vm\n::1 localhost\n');
  await mkdir(join(stage, 'etc/lvm'), { recursive: true });
  await writeFile(join(stage, 'etc/lvm/lvm.conf'), LVM_CONF);
  await writeFile(join(stage, 'etc/subuid'), 'root:100000:65536\n');
  await writeFile(join(stage, 'etc/subgid'), 'root:100000:65536\n');
  await place(join(root, 'test/vm/guest-init.sh'), join(stage, 'lxkit-vm/init'));
  await chmod(join(stage, 'lxkit-vm/init'), 0o755);
  await writeFile(join(stage, 'lxkit-vm/project-path'), root + '\n');

  say('making the root disk');
  const rootImg = join(work, 'root.img');
  const { stdout: du } = await execa('du', ['-sm', '--apparent-size', stage]);
  // Room for what the tests write on it (test/tmp, caches); scratch space is a tmpfs.
  const sizeMb = Number(du.split(/\s/)[0]) + 512;
  await execa('mkfs.ext4', ['-q', '-F', '-L', 'lxkit-vm', '-E', 'lazy_itable_init=1', '-d', stage, rootImg, `${sizeMb}M`]);
  await rm(stage, { recursive: true, force: true });

  say('making the initramfs');
  await mkdir(join(initrd, 'bin'), { recursive: true });
  for (const d of ['dev', 'proc', 'sys', 'newroot']) await mkdir(join(initrd, d));
  await place(busybox, join(initrd, 'bin/busybox'));
  const early = await insmodOrder(kernel.kver, INITRAMFS_MODULES);
  for (const m of early) await place(m.path, join(initrd, m.path));
  await writeFile(join(initrd, 'modules'), early.map((m) => m.path).join('\n') + '\n');
  await place(join(root, 'test/vm/initramfs-init.sh'), join(initrd, 'init'));
  await chmod(join(initrd, 'init'), 0o755);
  const { stdout: list } = await execa('find', ['.', '-mindepth', '1'], { cwd: initrd });
  const cpio = await execa('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], { cwd: initrd, input: list + '\n', encoding: 'buffer' });
  const initramfs = join(work, 'initramfs.cpio');
  await writeFile(initramfs, cpio.stdout);
  await rm(initrd, { recursive: true, force: true });

  const results = join(work, 'results.img');
  await writeFile(results, Buffer.alloc(0));
  await execa('truncate', ['-s', '64M', results]);
  return { kernel: kernel.vmlinuz, kver: kernel.kver, initramfs, rootImg, results, sizeMb };
}

