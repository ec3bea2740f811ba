/**
 * @lxkit/plugin-apparmor: AppArmor confinement. Owns lxc.apparmor.*.
 *
 * pre-start decides the label (resolve.ts, LXC's rules), and for
 * `generated` writes the container's profile to <lxcpath>/<name>/apparmor/
 * and loads it with apparmor_parser (binary cache under lxkit's cache
 * directory); the `start` hook's LSM stage has the child change to the
 * label right before exec, and attached programs get it too; post-stop
 * unloads a generated profile. Without LXC's default profile loaded, an
 * unset lxc.apparmor.profile uses lxkit's own default (the generated base,
 * loaded once). On a host where AppArmor is off, one info line and nothing
 * else, as LXC does.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir, definePlugin, LxkitError, mountEntry, parseMountEntry, STAGE_AFTER_MOUNT_ENTRIES, STAGE_LSM, tapConfigKeys, VERSION, type StartContext, type StopContext } from '@lxkit/core';
import { namespaceDir, probeHost, profileLoaded, type AppArmorHost } from './host.js';
import { apparmorKeys, createAppArmorModel, type AppArmorModel } from './keys.js';
import { loadProfile, parserVersion, supportsUnix, unloadProfile } from './parser.js';
import { containerLabel, generateProfile, namespaceName, profileName, type ProfileOptions } from './profile.js';
import { resolveProfile } from './resolve.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    apparmor?: AppArmorModel;
  }
}

export type { AppArmorModel } from './keys.js';
export { everythingBut, type Exception, type Exceptions } from './globs.js';
export { bareLabel, probeHost, type AppArmorHost, type ReadFile } from './host.js';
export { checkProfile, loadProfile, parserVersion, unloadProfile } from './parser.js';
export { containerLabel, generateProfile, namespaceName, profileName, type ProfileOptions } from './profile.js';
export { LXC_DEFAULT_PROFILE, LXC_DEFAULT_PROFILE_CGNS, resolveProfile, type Resolution } from './resolve.js';

/**
 * lxc.apparmor.allow_nesting's mounts, LXC's nesting helpers: a proc and a
 * sysfs of the container's own where nested containers find them whole
 * (the kernel lets a new proc or sysfs be mounted only where one is fully
 * visible), which the nesting profile keeps the container itself from using.
 */
const NESTING_MOUNTS = ['proc dev/.lxc/proc proc create=dir,optional 0 0', 'sys dev/.lxc/sys sysfs create=dir,optional 0 0'];

/** lxkit's own defaults, used when LXC's are not loaded. */
export const LXKIT_DEFAULT_PROFILE = 'lxkit-container-default';

const hasCgroupns = (): boolean => existsSync('/proc/self/ns/cgroup');

/** The generated profile's file (named as the namespace: apparmor_parser names its cache entries after the file). */
const profileFile = (name: string, lxcpath: string): string => join(lxcpath, name, 'apparmor', namespaceName(name, lxcpath));

/** Writes `text` to `file` unless it holds that already: the parser's cache is keyed on mtime. */
async function writeIfChanged(file: string, text: string): Promise<void> {
  const old = await readFile(file, 'utf8').catch(() => undefined);
  if (old === text) return;
  await mkdir(join(file, '..'), { recursive: true, mode: 0o755 });
  await writeFile(file, text, { mode: 0o600 });
}

async function features(host: AppArmorHost): Promise<Pick<ProfileOptions, 'unix' | 'cgroupns'>> {
  const v = await parserVersion();
  if (!v) throw new LxkitError('LXKIT_APPARMOR_FAILED', 'apparmor_parser is not installed; it is needed to load a generated AppArmor profile (Debian: apt-get install apparmor)');
  return { unix: supportsUnix(v), cgroupns: host.enabled && hasCgroupns() };
}

/** Loads lxkit's default profile unless it is loaded already. */
async function ensureDefault(host: AppArmorHost, name: string): Promise<void> {
  if (profileLoaded(name)) return;
  const file = join(cacheDir('apparmor'), 'profiles', name);
  await writeIfChanged(file, generateProfile({ name, ...(await features(host)), nesting: false, unprivileged: false, raw: [] }));
  await loadProfile(file, cacheDir('apparmor'));
}

export default definePlugin({
  name: 'apparmor',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    const labels = new WeakMap<StartContext, string>();
    // Starts that loaded a generated profile: post-stop unloads it.
    const generated = new WeakSet<StartContext>();
    // What the kernel offers is read once per runtime (host.ts): it does not change while lxkit runs.
    let probed: { host: AppArmorHost; cgroupns: boolean } | undefined;
    runtime.hooks.preStart.tapPromise('apparmor', async (ctx) => {
      const { name, lxcpath } = ctx.container;
      const model = ctx.container.config.model.apparmor ?? createAppArmorModel();
      probed ??= { host: probeHost(), cgroupns: hasCgroupns() };
      const { host } = probed;
      const r = resolveProfile({ model, host, cgroupns: probed.cgroupns, generatedName: profileName(name, lxcpath) });
      if (r.action === 'none') {
        ctx.log.info(`${name}: ${r.info}`);
        return;
      }
      if (r.action === 'refuse') throw new LxkitError('LXKIT_CONFIG_INVALID', `${name}: ${r.key}: ${r.reason}`, { key: r.key, container: name });
      let label = r.profile;
      try {
        if (r.generated) {
          const stackNamespace = host.canStack && !host.stacked ? namespaceName(name, lxcpath) : undefined;
          const text = generateProfile({
            name: r.profile,
            ...(await features(host)),
            stackNamespace,
            nesting: model.allowNesting,
            unprivileged: ctx.userns || process.getuid?.() !== 0,
            raw: model.raw,
          });
          const file = profileFile(name, lxcpath);
          await writeIfChanged(file, text);
          if (stackNamespace) {
            await mkdir(namespaceDir(stackNamespace)).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'EEXIST') throw e;
            });
          }
          await loadProfile(file, cacheDir('apparmor'));
          generated.add(ctx);
          label = containerLabel(r.profile, stackNamespace);
        } else if (r.isDefault && !profileLoaded(r.profile)) {
          // LXC's default policy is not loaded here: lxkit's own equivalent, when it may load it.
          label = r.profile.replace(/^lxc-/, 'lxkit-');
          if (!host.admin) {
            throw new LxkitError(
              'LXKIT_APPARMOR_FAILED',
              `${name}: no default AppArmor profile is loaded (${r.profile} or ${label}) and loading one needs CAP_MAC_ADMIN; set lxc.apparmor.profile, or start a container as root once`,
              { key: 'lxc.apparmor.profile', container: name },
            );
          }
          await ensureDefault(host, label);
        }
      } catch (err) {
        if (err instanceof LxkitError) throw Object.assign(err, { container: name, key: err.key ?? 'lxc.apparmor.profile' });
        throw new LxkitError('LXKIT_APPARMOR_FAILED', `${name}: preparing AppArmor profile ${r.profile}: ${(err as Error).message}`, { cause: err, container: name, key: 'lxc.apparmor.profile' });
      }
      ctx.log.info(`${name}: AppArmor label ${label}`);
      labels.set(ctx, label);
    });
    // After lxc.mount.entry's mounts, as LXC's; AppArmor or not, as LXC mounts them too.
    runtime.hooks.mount.tap({ name: 'apparmor', stage: STAGE_AFTER_MOUNT_ENTRIES }, (ctx) => {
      if (!ctx.container.config.model.apparmor?.allowNesting) return;
      const set = ctx.container.config.last('lxc.apparmor.allow_nesting');
      const origin = { file: set?.file ?? '(lxc.apparmor.allow_nesting)', line: set?.line ?? 0 };
      for (const line of NESTING_MOUNTS) mountEntry(ctx, parseMountEntry(line, origin), 'lxc.apparmor.allow_nesting');
    });
    // The label is chosen in pre-start; its op needs nothing of the clone's answer.
    runtime.hooks.cloneFirst.tap('apparmor', () => undefined);
    runtime.hooks.start.tap({ name: 'apparmor', stage: STAGE_LSM }, (ctx) => {
      const label = labels.get(ctx);
      if (label === undefined) return;
      ctx.ops.lsmLabel(label, { what: `changing to AppArmor profile ${label} (lxc.apparmor.profile)` });
      ctx.attachConfinement.label = label;
    });
    runtime.hooks.stopWork.tap('apparmor', (ctx) => (generated.has(ctx) ? 'the generated AppArmor profile is unloaded' : undefined));
    runtime.hooks.postStop.tapPromise('apparmor', async (ctx: StopContext) => {
      // Another process may have started the container: what to undo is read from disk, not memory.
      const { name, lxcpath } = ctx.container;
      if (ctx.container.config.model.apparmor?.profile !== 'generated') return;
      const file = profileFile(name, lxcpath);
      if (!existsSync(file)) return;
      const host = probeHost();
      if (host.enabled && host.admin) {
        if (host.canStack && !host.stacked) await rmdir(namespaceDir(namespaceName(name, lxcpath))).catch(() => undefined);
        // Already gone (never loaded, or unloaded by hand) is what post-stop wants anyway.
        await unloadProfile(file, cacheDir('apparmor')).catch((err: Error) => ctx.log.debug(`${name}: ${err.message}`));
      }
      await rm(join(lxcpath, name, 'apparmor'), { recursive: true, force: true });
    });
    tapConfigKeys(runtime, 'apparmor', apparmorKeys, createAppArmorModel);
  },
});
