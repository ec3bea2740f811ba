/**
 * The local template, LXC's lxc-local: a container from an image on disk in
 * the format of LXC's image server (what distrobuilder builds and the
 * download template fetches) — a metadata tarball and a root filesystem
 * tarball, installed as image.ts says.
 *
 * Options (after --): -m|--metadata FILE, -f|--fstree FILE, --privileged.
 * Tarballs may be compressed as tar recognises (xz, gzip, zstd, bzip2).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTool, type Template, type TemplateRequest } from '@lxkit/core';
import { failed, installImage } from './image.js';

export const local: Template = {
  name: 'local',
  description: 'a container from an image on disk (LXC image format: -- -m META.tar.xz -f ROOTFS.tar.xz; unprivileged unless --privileged)',
  async create(req: TemplateRequest) {
    const { values } = parseArgs({
      args: [...req.args],
      options: { metadata: { type: 'string', short: 'm' }, fstree: { type: 'string', short: 'f' }, privileged: { type: 'boolean' } },
      strict: true,
    });
    if (!values.metadata || !values.fstree) throw new Error('the image is needed: -- -m METADATA-TARBALL -f ROOTFS-TARBALL');
    for (const f of [values.metadata, values.fstree]) if (!existsSync(f)) throw new Error(`no such file: ${f}`);
    const meta = await mkdtemp(join(tmpdir(), 'lxkit-local-'));
    try {
      await runTool('tar', ['-xf', values.metadata, '-C', meta], failed(`unpacking the metadata ${values.metadata}`));
      if (!existsSync(join(meta, 'config'))) throw new Error(`the metadata ${values.metadata} holds no config file`);
      await installImage(req, { metaDir: meta, fstree: values.fstree, privileged: values.privileged === true, template: 'local' });
    } finally {
      await rm(meta, { recursive: true, force: true });
    }
  },
};
