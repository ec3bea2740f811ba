/**
 * An image in the format of LXC's image server made into a container: what
 * LXC's lxc-local and lxc-download templates share once they have the
 * image's metadata unpacked and its rootfs tarball on disk.
 *
 * Metadata files (each with a -user variant for an unprivileged container,
 * and, for the download template, a .COMPAT variant, used where present):
 *
 *   config                  the distribution's config lines
 *   excludes                paths left out of the rootfs
 *   fstab                   copied to <dir>/fstab, named by lxc.mount.fstab
 *   templates               rootfs files in which the LXC_* words below are replaced
 *   create-message          shown when the container is made
 *
 * The config is laid out as LXC's templates lay it out: the default
 * config's comments, the distribution's lines, the default config's other
 * keys, lxc.rootfs.path, lxc.mount.fstab, lxc.uts.name, then the default
 * config's lxc.net.0 keys. LXC_NAME, LXC_PATH (the container's directory),
 * LXC_ROOTFS, LXC_TEMPLATE_CONFIG and LXC_HOOK_DIR are replaced in the
 * config, the fstab and the listed files.
 *
 * Unprivileged unless the image is installed `privileged`: then the -user
 * files are used and root inside maps to a subordinate range. A user other
 * than root makes unprivileged containers only, and writes their rootfs from
 * inside the container's user namespace (as LXC runs its templates under
 * lxc-usernsexec): only there may the files have the image's owners.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overwriteInUserNamespace, runTool, type TemplateRequest } from '@lxkit/core';
import { asContainerRoot, giveRootfs, isRoot, mapRoot, rootMaps, type RootRanges } from './unprivileged.js';

/** Where LXC keeps the config snippets and hooks that images include (LXC's LXCTEMPLATECONFIG and LXCHOOKDIR). */
export const LXC_TEMPLATE_CONFIG = '/usr/share/lxc/config';
export const LXC_HOOK_DIR = '/usr/share/lxc/hooks';
/** lxkit's own, written by the build (share/ with this tree's paths): for a host without LXC's. */
export const OWN_TEMPLATE_CONFIG = fileURLToPath(new URL('./share/config', import.meta.url));
export const OWN_HOOK_DIR = fileURLToPath(new URL('./share/hooks', import.meta.url));

/**
 * LXC_TEMPLATE_CONFIG and LXC_HOOK_DIR for a new container: LXC's where it
 * is installed (a container both tools share then reads the same files),
 * else lxkit's own; LXKIT_LXC_TEMPLATE_CONFIG and LXKIT_LXC_HOOK_DIR name others.
 */
export function snippetDirs(lxcInstalled = existsSync(join(LXC_TEMPLATE_CONFIG, 'common.conf'))): { config: string; hooks: string } {
  return {
    config: process.env['LXKIT_LXC_TEMPLATE_CONFIG'] ?? (lxcInstalled ? LXC_TEMPLATE_CONFIG : OWN_TEMPLATE_CONFIG),
    hooks: process.env['LXKIT_LXC_HOOK_DIR'] ?? (lxcInstalled ? LXC_HOOK_DIR : OWN_HOOK_DIR),
  };
}

export const failed = (what: string) => ({ what, code: 'LXKIT_TEMPLATE_FAILED' as const });

/** The LXC_* words and what they stand for in this container. */
function words(req: TemplateRequest): [string, string][] {
  const dirs = snippetDirs();
  return [
    ['LXC_NAME', req.name],
    ['LXC_PATH', req.dir],
    ['LXC_ROOTFS', req.rootfs],
    ['LXC_TEMPLATE_CONFIG', dirs.config],
    ['LXC_HOOK_DIR', dirs.hooks],
  ];
}

const substitute = (text: string, pairs: readonly [string, string][]) => pairs.reduce((t, [word, value]) => t.replaceAll(word, value), text);

/** The default config's lines around the distribution's, in LXC's order. */
function layout(req: TemplateRequest, distribution: string, fstab: boolean): string[] {
  const raws = req.config.lines.map((l) => l.raw);
  while (raws.length && raws[raws.length - 1] === '') raws.pop();
  // LXC's template sorts the default config's lines by text: lxc.net.0 ones last, other lxc. ones after the distribution's.
  const network = raws.filter((l) => l.includes('lxc.net.0'));
  const keys = raws.filter((l) => !l.includes('lxc.net.0') && l.includes('lxc.'));
  const rest = raws.filter((l) => !l.includes('lxc.'));
  const out = [...rest, '', '# Distribution configuration', ...distribution.replace(/\n$/, '').split('\n'), '', '# Container specific configuration', ...keys];
  // Where lxc-create has written it by then (lxkit's create sets the storage's own path over it).
  if (!keys.some((l) => l.trim().startsWith('lxc.rootfs.path'))) out.push(`lxc.rootfs.path = dir:${req.rootfs}`);
  if (fstab) out.push(`lxc.mount.fstab = ${join(req.dir, 'fstab')}`);
  out.push(`lxc.uts.name = ${req.name}`);
  if (network.length) out.push('', '# Network configuration', ...network);
  return [...out, ''];
}

export interface ImageOnDisk {
  /** The unpacked metadata. */
  readonly metaDir: string;
  /** The rootfs tarball (any compression tar recognises). */
  readonly fstree: string;
  readonly privileged: boolean;
  /** The download template's compatibility level: metadata files FILE.LEVEL win. */
  readonly compat?: number;
  /** The template's name, for messages. */
  readonly template: string;
}

/** The metadata's file `name` as this container uses it (the -user, then the .COMPAT variant where present). */
export function metadataFile(image: Pick<ImageOnDisk, 'metaDir' | 'privileged' | 'compat'>, name: string): string {
  let path = join(image.metaDir, name);
  if (!image.privileged && existsSync(`${path}-user`)) path = `${path}-user`;
  if (image.compat !== undefined && existsSync(`${path}.${image.compat}`)) path = `${path}.${image.compat}`;
  return path;
}

/** How the rootfs is written: directly by root, or by a program run as root of the container's user namespace. */
interface RootfsWriter {
  tar(args: readonly string[], what: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Replaces the contents of existing files. */
  overwrite(files: readonly (readonly [path: string, text: string])[]): Promise<void>;
}

const asRoot: RootfsWriter = {
  tar: (args, what) => runTool('tar', args, failed(what)).then(() => undefined),
  mkdir: (path) => mkdir(path, { recursive: true }).then(() => undefined),
  async overwrite(files) {
    for (const [path, text] of files) await writeFile(path, text);
  },
};

function insideUserNamespace(req: TemplateRequest, ranges: RootRanges): RootfsWriter {
  const run = (argv: readonly string[], what: string) => asContainerRoot(req, ranges, argv, what);
  return {
    tar: (args, what) => run(['tar', ...args], what),
    mkdir: (path) => run(['mkdir', '-p', path], `making ${path}`),
    overwrite: (files) => overwriteInUserNamespace(files, { idmap: rootMaps(ranges), what: 'writing the templated files', log: req.log }),
  };
}

/** Unpacks the rootfs, writes the config, the fstab and the templated files; the image's owners kept (shifted for an unprivileged container). */
export async function installImage(req: TemplateRequest, image: ImageOnDisk): Promise<void> {
  if (image.privileged && !isRoot()) throw new Error(`a privileged container is root's to make: a user other than root makes unprivileged ones (leave out --privileged)`);
  const file = (name: string) => metadataFile(image, name);
  if (!existsSync(file('config'))) throw new Error('the image\'s metadata holds no config file');

  const excludes = existsSync(file('excludes')) ? (await readFile(file('excludes'), 'utf8')).split('\n').filter(Boolean) : [];
  const tar = ['--anchored', ...excludes.map((e) => `--exclude=${e}`), '--numeric-owner', '-xpf', image.fstree, '-C', req.rootfs];
  const ranges = image.privileged ? undefined : await mapRoot(req);
  const writer = ranges && !isRoot() ? insideUserNamespace(req, ranges) : asRoot;
  await writer.tar(tar, `unpacking the root filesystem ${image.fstree}`);
  await writer.mkdir(join(req.rootfs, 'dev/pts'));

  const pairs = words(req);
  const fstab = existsSync(file('fstab'));
  const lines = substitute(layout(req, await readFile(file('config'), 'utf8'), fstab).join('\n'), pairs).split('\n');
  for (let i = req.config.lines.length - 1; i > 0; i--) req.config.replaceLine(i, []);
  req.config.replaceLine(0, lines);
  if (fstab) await writeFile(join(req.dir, 'fstab'), substitute(await readFile(file('fstab'), 'utf8'), pairs));
  if (existsSync(file('templates'))) {
    const rootfs = await realpath(req.rootfs);
    const templated: [string, string][] = [];
    for (const path of (await readFile(file('templates'), 'utf8')).split('\n').filter(Boolean)) {
      const target = join(req.rootfs, path);
      // Only regular files in the rootfs (LXC's template skips what is not there); never through a link out of it.
      const st = await lstat(target).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (!(await realpath(target)).startsWith(`${rootfs}/`)) throw new Error(`templates: ${path} leads out of the root filesystem`);
      templated.push([target, substitute(await readFile(target, 'utf8'), pairs)]);
    }
    await writer.overwrite(templated);
  }
  if (ranges && isRoot()) await giveRootfs(req, ranges, image.template);
  if (existsSync(file('create-message'))) req.say(await readFile(file('create-message'), 'utf8'));
}
