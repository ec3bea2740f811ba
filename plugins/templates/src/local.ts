/**
 * The local template, LXC's lxc-local: a container from an image on disk in
 * the format of LXC's image server (what distrobuilder builds and the
 * download template fetches) — a root filesystem tarball and a metadata
 * tarball holding:
 *
 *   config, config-user     the distribution's config lines (the -user one for an unprivileged container)
 *   excludes, excludes-user paths left out of the rootfs
 *   fstab                   copied to <dir>/fstab, named by lxc.mount.fstab
 *   templates               rootfs files in which the LXC_* words below are replaced
 *   create-message          printed when the container is made
 *
 * The config is laid out as LXC's template lays it out: the default
 * config's comments, the distribution's lines, the default config's other
 * keys, lxc.uts.name, then the default config's lxc.net.0 keys. LXC_NAME,
 * LXC_PATH (the container's directory), LXC_ROOTFS, LXC_TEMPLATE_CONFIG and
 * LXC_HOOK_DIR are replaced in the config, the fstab and the listed files.
 *
 * Unprivileged unless `-- --privileged`, as lxkit's templates are: then the
 * -user files are used and root inside maps to a subordinate range.
 *
 * Options (after --): -m|--metadata FILE, -f|--fstree FILE, --privileged.
 * Tarballs may be compressed as tar recognises (xz, gzip, zstd, bzip2).
 */
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTool, type Template, type TemplateRequest } from '@lxkit/core';
import { giveRootfs, mapRoot } from './unprivileged.js';

/** Where LXC keeps the config snippets and hooks that images include (LXC's LXCTEMPLATECONFIG and LXCHOOKDIR). */
export const LXC_TEMPLATE_CONFIG = '/usr/share/lxc/config';
export const LXC_HOOK_DIR = '/usr/share/lxc/hooks';

const failed = (what: string) => ({ what, code: 'LXKIT_TEMPLATE_FAILED' as const });

/** The LXC_* words and what they stand for in this container. */
function words(req: TemplateRequest): [string, string][] {
  return [
    ['LXC_NAME', req.name],
    ['LXC_PATH', req.dir],
    ['LXC_ROOTFS', req.rootfs],
    ['LXC_TEMPLATE_CONFIG', process.env['LXKIT_LXC_TEMPLATE_CONFIG'] ?? LXC_TEMPLATE_CONFIG],
    ['LXC_HOOK_DIR', process.env['LXKIT_LXC_HOOK_DIR'] ?? LXC_HOOK_DIR],
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

export const local: Template = {
  name: 'local',
  description: 'a container from an image on disk (LXC image format: -- -m META.tar.xz -f ROOTFS.tar.xz; unprivileged unless --privileged)',
  async create(req: TemplateRequest) {
    const { values } = parseArgs({
      args: [...req.args],
      options: { metadata: { type: 'string', short: 'm' }, fstree: { type: 'string', short: 'f' }, privileged: { type: 'boolean' } },
      strict: true,
    });
    // The image's files keep their owners: tar sets them as root (another user would have to unpack from inside its user namespace, not done yet).
    if (process.getuid?.() !== 0) throw new Error("the local template runs as root (a user other than root cannot give the image's files their owners yet)");
    if (!values.metadata || !values.fstree) throw new Error('the image is needed: -- -m METADATA-TARBALL -f ROOTFS-TARBALL');
    for (const f of [values.metadata, values.fstree]) if (!existsSync(f)) throw new Error(`no such file: ${f}`);
    const meta = await mkdtemp(join(tmpdir(), 'lxkit-local-'));
    try {
      await runTool('tar', ['-xf', values.metadata, '-C', meta], failed(`unpacking the metadata ${values.metadata}`));
      const mode = values.privileged ? undefined : 'user';
      /** A metadata file, its -user variant for an unprivileged container where the image has one. */
      const file = (name: string) => {
        const variant = mode && join(meta, `${name}-${mode}`);
        return variant && existsSync(variant) ? variant : join(meta, name);
      };
      if (!existsSync(file('config'))) throw new Error(`the metadata ${values.metadata} holds no config file`);

      const excludes = existsSync(file('excludes')) ? (await readFile(file('excludes'), 'utf8')).split('\n').filter(Boolean) : [];
      const tar = ['--anchored', ...excludes.map((e) => `--exclude=${e}`), '--numeric-owner', '-xpf', values.fstree, '-C', req.rootfs];
      const ranges = mode ? await mapRoot(req) : undefined;
      await runTool('tar', tar, failed(`unpacking the root filesystem ${values.fstree}`));
      await mkdir(join(req.rootfs, 'dev/pts'), { recursive: true });

      const pairs = words(req);
      const fstab = existsSync(file('fstab'));
      const text = substitute(layout(req, await readFile(file('config'), 'utf8'), fstab).join('\n'), pairs);
      const lines = text.split('\n');
      for (let i = req.config.lines.length - 1; i > 0; i--) req.config.replaceLine(i, []);
      req.config.replaceLine(0, lines);
      if (fstab) {
        await copyFile(file('fstab'), join(req.dir, 'fstab'));
        await writeFile(join(req.dir, 'fstab'), substitute(await readFile(join(req.dir, 'fstab'), 'utf8'), pairs));
      }
      if (existsSync(file('templates'))) {
        for (const path of (await readFile(file('templates'), 'utf8')).split('\n').filter(Boolean)) {
          const target = join(req.rootfs, path);
          // Only regular files in the rootfs (LXC's template skips what is not there); never through a link out of it.
          const st = await lstat(target).catch(() => undefined);
          if (!st?.isFile()) continue;
          if (!(await realpath(target)).startsWith(`${await realpath(req.rootfs)}/`)) throw new Error(`templates: ${path} leads out of the root filesystem`);
          await writeFile(target, substitute(await readFile(target, 'utf8'), pairs));
        }
      }
      if (ranges && process.getuid?.() === 0) await giveRootfs(req, ranges, 'local');
      if (existsSync(file('create-message'))) req.say(await readFile(file('create-message'), 'utf8'));
    } finally {
      await rm(meta, { recursive: true, force: true });
    }
  },
};
