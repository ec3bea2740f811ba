/**
 * An image in LXC's image format (what distrobuilder builds, what the local
 * and download templates install), made from a busybox rootfs of the
 * test's: a rootfs tarball and a metadata tarball with config, config-user,
 * excludes-user, fstab, templates and a create message.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { busyboxIn, type Scratch } from './harness.js';

export interface Image {
  readonly meta: string;
  readonly fstree: string;
}

/**
 * An image of a busybox rootfs (one per scratch, made on first use) in
 * `o.into` (default: the scratch directory): `o.build` goes in
 * /etc/image-build, `o.expiry` in the metadata's `expiry`; with
 * `o.lxcCommon` its config includes LXC's common.conf as real images do.
 */
export async function imageIn(s: Scratch, o: { into?: string; build?: string; expiry?: number; lxcCommon?: boolean } = {}): Promise<Image> {
  const into = o.into ?? s.dir;
  const src = existsSync(join(s.lxcpath, 'imgsrc')) ? join(s.lxcpath, 'imgsrc') : await busyboxIn(s, 'imgsrc');
  const rootfs = join(src, 'rootfs');
  await writeFile(join(rootfs, 'etc/hostname'), 'LXC_NAME\n');
  await writeFile(join(rootfs, 'etc/motd'), 'welcome to LXC_NAME in LXC_PATH\n');
  await writeFile(join(rootfs, 'etc/only-privileged'), 'left out of unprivileged containers\n');
  await writeFile(join(rootfs, 'etc/image-build'), `${o.build ?? 'local'}\n`);
  await mkdir(into, { recursive: true });
  const fstree = join(into, 'rootfs.tar.xz');
  await execa('tar', ['--numeric-owner', '-cJf', fstree, '-C', rootfs, '.']);
  const meta = await mkdtemp(join(s.dir, 'meta-'));
  const common = [...(o.lxcCommon ? ['lxc.include = LXC_TEMPLATE_CONFIG/common.conf'] : []), 'lxc.signal.halt = SIGUSR1', 'lxc.signal.reboot = SIGTERM', 'lxc.autodev = 1', 'lxc.tty.max = 0', 'lxc.mount.auto = proc:mixed sys:ro', 'lxc.environment = IMAGE_OF=LXC_NAME'];
  const files: Record<string, string> = {
    config: ['# the image, privileged', ...common, ''].join('\n'),
    'config-user': ['# the image, unprivileged', ...common, 'lxc.environment = IMAGE_MODE=user', ''].join('\n'),
    'excludes-user': './etc/only-privileged\n',
    fstab: '# for LXC_NAME\ntmpfs mnt tmpfs defaults 0 0\n',
    templates: '/etc/hostname\n/etc/motd\n/etc/not-in-the-image\n',
    'create-message': 'Made from the test image.\n',
    ...(o.expiry !== undefined ? { expiry: `${o.expiry}\n` } : {}),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(meta, name), text);
  const metaTar = join(into, 'meta.tar.xz');
  await execa('tar', ['-cJf', metaTar, '-C', meta, ...Object.keys(files)]);
  return { meta: metaTar, fstree };
}
