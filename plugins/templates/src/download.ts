/**
 * The download template, LXC's lxc-download: an image from an image server
 * (images.linuxcontainers.org by default, over HTTPS), kept in LXC's cache
 * so that both tools share what either fetched, then installed as image.ts
 * says.
 *
 * The server's index (meta/1.0/index-system, or index-user for an
 * unprivileged container; the .7 variant first, LXC's compatibility level)
 * has one `DIST;RELEASE;ARCH;VARIANT;BUILD;PATH` line per image; PATH holds
 * rootfs.tar.xz and meta.tar.xz. The cache, per image:
 * /var/cache/lxc/download/DIST/RELEASE/ARCH/VARIANT (~/.cache/lxc/… for
 * another user, $LXC_CACHE_PATH instead of /var/cache/lxc/), with the
 * unpacked metadata, the rootfs tarball and `build_id`. A cached image is
 * used until the metadata's `expiry` (seconds since the epoch) has passed;
 * a newer build on the server replaces it.
 *
 * Options (after --): -d|--dist, -r|--release, -a|--arch, --variant
 * (default), --server HOST[:PORT], --flush-cache, --force-cache, -l|--list,
 * --privileged.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { runTool, VERSION, type Template, type TemplateRequest } from '@lxkit/core';
import { failed, installImage, metadataFile } from './image.js';

/** LXC's image server, and the compatibility level LXC 5 announces (index-system.7, config.7…). */
export const DEFAULT_SERVER = 'images.linuxcontainers.org';
export const COMPAT_LEVEL = 7;
const ATTEMPTS = 3;
const TIMEOUT_MS = 30_000;

export interface IndexEntry {
  readonly dist: string;
  readonly release: string;
  readonly arch: string;
  readonly variant: string;
  readonly build: string;
  readonly path: string;
}

/** The index's complete lines (a line without a build or a path is no image). */
export function parseIndex(text: string): IndexEntry[] {
  return text.split('\n').flatMap((line) => {
    const [dist, release, arch, variant, build, path] = line.trim().split(';');
    return dist && release && arch && variant && build && path ? [{ dist, release, arch, variant, build, path }] : [];
  });
}

/** Fetches https://SERVER/PATH into `file`: three attempts, 30 s each. Undefined when the server has no such file (404). */
async function fetchTo(server: string, path: string, file: string): Promise<string | undefined> {
  const url = `https://${server}/${path.replace(/^\/+/, '')}`;
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    try {
      const res = await fetch(url, { headers: { 'user-agent': `lxkit/${VERSION} compat:${COMPAT_LEVEL}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (res.status === 404) return undefined;
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
      return url;
    } catch (err) {
      last = err;
    }
  }
  const cause = last instanceof Error ? ((last.cause as Error | undefined)?.message ?? last.message) : String(last);
  throw new Error(`cannot download ${url}: ${cause}`);
}

/** The index of `server` for `mode`, the compatibility level's first. */
async function fetchIndex(server: string, mode: 'system' | 'user', dir: string): Promise<IndexEntry[]> {
  const file = join(dir, 'index');
  const base = `meta/1.0/index-${mode}`;
  const got = (await fetchTo(server, `${base}.${COMPAT_LEVEL}`, file)) ?? (await fetchTo(server, base, file));
  if (!got) throw new Error(`https://${server}/${base} does not exist (is ${server} an LXC image server?)`);
  return parseIndex(await readFile(file, 'utf8'));
}

function table(entries: readonly IndexEntry[]): string {
  const rows = [['DIST', 'RELEASE', 'ARCH', 'VARIANT', 'BUILD'], ...entries.map((e) => [e.dist, e.release, e.arch, e.variant, e.build])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** LXC's cache directory of one image. */
export function cacheDir(o: { dist: string; release: string; arch: string; variant: string }): string {
  const base = process.env['LXC_CACHE_PATH'] ?? (process.getuid?.() === 0 ? '/var/cache/lxc' : join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'lxc'));
  for (const [name, value] of Object.entries(o)) {
    // Each is one directory level of the cache: no separators, nothing that climbs.
    if (!value || value.includes('/') || value === '.' || value === '..') throw new Error(`--${name} "${value}" is not a name`);
  }
  return join(base, 'download', o.dist, o.release, o.arch, o.variant);
}

export const download: Template = {
  name: 'download',
  description: `a container from an image server (LXC's images: -- -d DIST -r RELEASE -a ARCH; --list shows them; unprivileged unless --privileged)`,
  async create(req: TemplateRequest) {
    const { values } = parseArgs({
      args: [...req.args],
      options: {
        dist: { type: 'string', short: 'd' },
        release: { type: 'string', short: 'r' },
        arch: { type: 'string', short: 'a' },
        variant: { type: 'string', default: 'default' },
        server: { type: 'string', default: DEFAULT_SERVER },
        'flush-cache': { type: 'boolean' },
        'force-cache': { type: 'boolean' },
        list: { type: 'boolean', short: 'l' },
        privileged: { type: 'boolean' },
      },
      strict: true,
    });
    const privileged = values.privileged === true;
    const mode = privileged ? 'system' : 'user';
    const server = values.server!;
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(server) && !/^\[[0-9a-fA-F:]+\](:\d+)?$/.test(server)) throw new Error(`--server "${server}" is not HOST or HOST:PORT`);
    const temp = await mkdtemp(join(req.dir, '.download-'));
    try {
      const chosen = { dist: values.dist ?? '', release: values.release ?? '', arch: values.arch ?? '' };
      if (values.list || !values.dist || !values.release || !values.arch) {
        const entries = (await fetchIndex(server, mode, temp)).filter(
          (e) => (!values.dist || e.dist === values.dist) && (!values.release || e.release === values.release) && (!values.arch || e.arch === values.arch) && e.variant === values.variant,
        );
        req.say(table(entries));
        if (values.list) throw new Error('the images are listed above; no container is made with --list');
        // As LXC's template: what is missing is asked for, in this order, where someone can answer.
        for (const [key, question] of [['dist', 'Distribution: \n'], ['release', 'Release: \n'], ['arch', 'Architecture: \n']] as const) {
          chosen[key] ||= (await req.ask(question)) ?? '';
          if (!chosen[key]) throw new Error('which image: -- -d DIST -r RELEASE -a ARCH (the images are listed above)');
        }
      }
      const image = { ...chosen, variant: values.variant! };
      const cache = cacheDir(image);
      const metaOf = { metaDir: cache, privileged, compat: COMPAT_LEVEL };
      let fetchNew = !existsSync(join(cache, 'rootfs.tar.xz'));
      if (!fetchNew && values['flush-cache']) {
        await rm(cache, { recursive: true, force: true });
        req.log.info(`download: the cached ${cache} flushed`);
        fetchNew = true;
      } else if (!fetchNew && !values['force-cache']) {
        const expiry = Number((await readFile(metadataFile(metaOf, 'expiry'), 'utf8').catch(() => '')).trim());
        if (expiry && expiry < Date.now() / 1000) {
          req.say('The cached copy has expired, downloading it again\n');
          fetchNew = true;
        }
      }
      if (fetchNew) {
        const entry = (await fetchIndex(server, mode, temp)).find((e) => e.dist === image.dist && e.release === image.release && e.arch === image.arch && e.variant === image.variant);
        if (!entry) throw new Error(`${server} has no image ${image.dist} ${image.release} ${image.arch} (variant ${image.variant}); -- --list shows what it has`);
        const built = (await readFile(join(cache, 'build_id'), 'utf8').catch(() => '')).trim();
        if (built === entry.build && existsSync(join(cache, 'rootfs.tar.xz'))) {
          req.log.info(`download: the cache holds build ${entry.build} already`);
        } else {
          req.say(`Downloading ${image.dist} ${image.release} ${image.arch} (${image.variant}), build ${entry.build}\n`);
          for (const f of ['rootfs.tar.xz', 'meta.tar.xz']) {
            if (!(await fetchTo(server, `${entry.path}/${f}`, join(temp, f)))) throw new Error(`https://${server}/${entry.path}/${f} does not exist`);
          }
          // Made aside and renamed into place: a failed download leaves the cache as it was.
          const fresh = join(temp, 'cache');
          await mkdir(fresh);
          await runTool('tar', ['-xf', join(temp, 'meta.tar.xz'), '-C', fresh], failed('unpacking the downloaded metadata'));
          await rename(join(temp, 'rootfs.tar.xz'), join(fresh, 'rootfs.tar.xz'));
          await writeFile(join(fresh, 'build_id'), `${entry.build}\n`);
          await rm(cache, { recursive: true, force: true });
          await mkdir(dirname(cache), { recursive: true });
          await rename(fresh, cache).catch(async (err: NodeJS.ErrnoException) => {
            // The cache is on another filesystem than the container: copied across.
            if (err.code !== 'EXDEV') throw err;
            await runTool('cp', ['-a', fresh, cache], failed(`filling the cache ${cache}`));
          });
        }
      } else {
        req.log.info(`download: using the cached image in ${cache}`);
      }
      await installImage(req, { ...metaOf, fstree: join(cache, 'rootfs.tar.xz'), template: 'download' });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  },
};
