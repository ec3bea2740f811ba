/**
 * @lxkit/plugin-criu: checkpoint and restore with criu (lxc-checkpoint).
 *
 * A checkpoint is `criu dump` of the container's init and everything under
 * it, into the checkpoint's directory with criu's log beside the images. A
 * restore is a start whose first process comes from there: the core runs
 * pre-start as usual (cgroups, storage, LSM profiles), then the monitor runs
 * `criu restore --restore-sibling`, so that the restored init is the
 * monitor's child as a cloned one is, and the container's end is any
 * container's (stop and post-stop hooks, its cgroups removed).
 *
 * criu 3.17 locks a network namespace with nftables by a table named after
 * the init's pid at the dump, and at a restore unlocks the one named after
 * the restored init's pid: the dump's table stays in the container's
 * namespace, dropping every packet. The plugin removes it after a restore.
 *
 * The console and ttys (ptys whose masters are the monitor's) are carried
 * as LXC carries its console: external at the dump, and ptys of the new
 * monitor's at the restore (ptys.ts).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { definePlugin, hostIdOf, importExeca, LxkitError, VERSION, type Checkpointer, type CheckpointFeature, type CheckpointRestore } from '@lxkit/core';
import { dumpArgs, logFile, outerDevices, restoreArgs, unsupported, type CriuSettings } from './args.js';
import { cgroupRoots, freezerOf } from './cgroup-root.js';
import { lendImages, type GiveBack } from './images-owner.js';
import { containerPtys, ptysRefused, type CheckpointedPty } from './ptys.js';

export { bindMountMaps, dumpArgs, externalDevices, outerDevices, restoreArgs, unsupported, type CriuSettings, type OuterDevice } from './args.js';
export { belowMount, cgroupMountPoints, cgroupRoots, freezerOf } from './cgroup-root.js';
export { lendImages } from './images-owner.js';
export { containerPtys, dumpPtyArgs, ptysRefused, restorePtyArgs, type CheckpointedPty } from './ptys.js';

const Options = v.optional(
  v.strictObject({
    /** The criu program (a path, or a name looked up in PATH). */
    criu: v.optional(v.pipe(v.string(), v.minLength(1))),
    /** How criu cuts a container's network off while dumping it; by default nftables where criu knows --network-lock. */
    networkLock: v.optional(v.picklist(['nftables', 'iptables'])),
  }),
);

/** criu's names of the features a migration may rely on. */
const CRIU_FEATURES: Record<CheckpointFeature, string> = { 'mem-track': 'mem_dirty_track', 'lazy-pages': 'uffd-noncoop' };

/** What lxkit notes beside criu's images: what a restore needs to know of the dump. */
const NOTE = 'lxkit-checkpoint.json';
interface Note {
  readonly container: string;
  /** The init's pid at the dump: criu's nftables lock is named after it. */
  readonly pid: number;
  readonly networkLock: string | undefined;
  /** The console and ttys at the dump (none in a checkpoint of an older lxkit, which refused them). */
  readonly ptys?: readonly CheckpointedPty[];
}

/** criu's last complaints in its log, for an error message. */
async function complaints(log: string): Promise<string> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const errors = text.split('\n').filter((l) => /\bError\b/.test(l));
  return errors.slice(-4).join('\n');
}

function criuCheckpointer(options: v.InferOutput<typeof Options>): Checkpointer {
  const criu = options?.criu ?? 'criu';
  let settings: Promise<CriuSettings> | undefined;
  /** Images lent to a restoring container's root, by checkpoint directory, until its restore ends. */
  const lent = new Map<string, GiveBack>();
  /** The note of each checkpoint being restored, read once by the restorer, until its restore ends. */
  const notes = new Map<string, Note>();
  /** Which network lock criu offers, asked once (criu --help). */
  const settle = () =>
    (settings ??= importExeca().then(async ({ execa }) => {
      if (options?.networkLock) return { criu, networkLock: options.networkLock };
      const help = await execa(criu, ['--help'], { reject: false, all: true, stdin: 'ignore' });
      return { criu, networkLock: /--network-lock/.test(String(help.all ?? '')) ? 'nftables' : undefined };
    }));

  const run = async (args: readonly string[], o: { what: string; container: string; log: string }) => {
    const { execa } = await importExeca();
    const r = await execa(criu, args, { reject: false, all: true, stdin: 'ignore' });
    if (!r.failed) return;
    const missing = (r as { code?: string }).code === 'ENOENT';
    const said = missing ? `${criu} is not installed (Debian package criu)` : (await complaints(o.log)) || String(r.all ?? '').trim() || `exit ${r.exitCode}`;
    throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `${o.what} of container "${o.container}" failed${missing ? '' : ` (criu's log: ${o.log})`}: ${said}`, {
      container: o.container,
      path: o.log,
    });
  };

  return {
    name: 'criu',
    unsupported,
    async dump(req) {
      const s = await settle();
      const ptys = await containerPtys(req.pid);
      const args = dumpArgs(req, s, cgroupRoots(req.cgroups), freezerOf(req.cgroups), ptys);
      req.log.debug(`checkpointing with ${criu} ${args.join(' ')}`);
      const note: Note = { container: req.container.name, pid: req.pid, networkLock: s.networkLock, ptys };
      await writeFile(join(req.directory, NOTE), `${JSON.stringify(note, null, 2)}\n`);
      await run(args, { what: req.preDump ? 'the pre-dump' : 'the checkpoint', container: req.container.name, log: logFile(req.directory, req.preDump ? 'pre-dump' : 'dump') });
    },
    async restorer(req) {
      const text = await readFile(join(req.directory, NOTE), 'utf8').catch(() => undefined);
      if (text === undefined) {
        throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `cannot restore container "${req.container.name}": ${req.directory} holds no checkpoint of lxkit's (no ${NOTE})`, {
          container: req.container.name,
          path: req.directory,
        });
      }
      const note = JSON.parse(text) as Note;
      notes.set(req.directory, note);
      const checkpointed = note.ptys ?? [];
      const refused = ptysRefused(checkpointed, req.container.config);
      if (refused !== undefined) {
        throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `cannot restore container "${req.container.name}" from ${req.directory}: ${refused}`, {
          container: req.container.name,
          path: req.directory,
        });
      }
      const opened = checkpointed.length > 0 ? await req.openPtys(checkpointed.map(({ kind, index }) => ({ kind, index }))) : [];
      const ptys = checkpointed.map((p, i) => ({ ...p, path: opened[i]!.path, fd: opened[i]!.fd }));
      const idmap = req.container.config.model.idmap;
      const [uid, gid] = [hostIdOf(idmap, 'u', 0), hostIdOf(idmap, 'g', 0)];
      // An unprivileged container's processes read their images themselves, as its root.
      if (uid !== undefined && gid !== undefined) lent.set(req.directory, await lendImages(req.directory, uid, gid));
      const pidFile = join(req.directory, 'restore.pid');
      const devices = outerDevices(req.container.config, req.container.name);
      // The host ends' names, in the running config as a start puts them (lxkit info, script.down).
      for (const d of devices) if (d.type === 'veth') req.runtimeConfig(`lxc.net.${d.index}.veth.pair`, d.outside);
      return { argv: [criu, ...restoreArgs(req, cgroupRoots(req.cgroups), pidFile, devices, ptys)], pidFile };
    },
    async restored(req) {
      await rm(join(req.directory, 'restore.pid'), { force: true });
      const note = notes.get(req.directory);
      if (note) await unlock(req, note);
    },
    async unsupportedFeatures(features) {
      const { execa } = await importExeca();
      const out: CheckpointFeature[] = [];
      for (const f of features) {
        // criu's own names, as LXC asks for them (criu check --feature).
        const r = await execa(criu, ['check', '--feature', CRIU_FEATURES[f]], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
        if (r.exitCode !== 0) out.push(f);
      }
      return out;
    },
    async restoreFailed(req) {
      const said = await complaints(logFile(req.directory, 'restore'));
      return said ? `criu's log (${logFile(req.directory, 'restore')}):\n${said}` : undefined;
    },
    async restoreEnded(req) {
      const giveBack = lent.get(req.directory);
      lent.delete(req.directory);
      notes.delete(req.directory);
      await giveBack?.();
    },
  };
}

/** Removes criu's leftover nftables lock from the restored container's network namespace (see above). */
async function unlock(req: CheckpointRestore & { readonly namespaces: Readonly<Record<string, string>> }, note: Note): Promise<void> {
  const netns = req.namespaces['net'];
  if (note.networkLock !== 'nftables' || !netns) return;
  const { execa } = await importExeca();
  const table = `CRIU-${note.pid}`;
  const r = await execa('nsenter', [`--net=${netns}`, 'nft', 'delete', 'table', 'inet', table], { reject: false, all: true, stdin: 'ignore' });
  const said = String(r.all ?? '').trim();
  // Gone already: a criu that names its lock after the pid the restored init has inside, or one that unlocks by the dump's.
  if (r.failed && !/No such file or directory/.test(said)) {
    req.log.warn(`container ${req.container.name}: criu's network lock (nftables table inet ${table}) could not be removed, so its network drops every packet: ${said || `exit ${r.exitCode}`}`);
  }
}

export default definePlugin({
  name: 'criu',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  options: Options,
  apply(runtime, options) {
    runtime.hooks.checkpointer.tap('criu', () => criuCheckpointer(options));
  },
});
