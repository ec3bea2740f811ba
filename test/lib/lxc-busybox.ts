/**
 * A busybox container made by LXC's own lxc-create, for the tests that run
 * LXC's tools and lxkit on the same container and compare what they do.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { containerCgroups, lxkit, removeCgroups, withLxcPivotCleanup, withScratch, type Scratch } from './harness.js';

/** A busybox container made by lxc-create, run by both LXC's tools and lxkit's. */
export interface LxcBusybox {
  readonly s: Scratch;
  /** Its name (`bb` unless told). */
  readonly name: string;
  readonly rootfs: string;
  /** Writes an executable script at `/name` in the rootfs. */
  install(name: string, script: string): Promise<void>;
  /** Sets the config: the template's, without a network device or AppArmor (the same for both), plus `extra`. */
  configure(extra: string): Promise<void>;
  /** Runs `lxc-<verb>` (who: lxc) or `lxkit <verb>` on it with `args`; a failure is the caller's to judge. */
  run(who: 'lxc' | 'lxkit', verb: string, ...args: string[]): Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }>;
  /**
   * Runs `lxc-<verb>` and then `lxkit <verb>` on it with `args`, each to exit
   * status 0, and gives what `read` finds after each.
   */
  both<T>(verb: 'start' | 'execute', args: readonly string[], read: () => Promise<T>): Promise<Record<'lxc' | 'lxkit', T>>;
}

/** Runs `fn` with an LXC busybox container `name`; destroys it (and LXC's pivot cgroups) after. */
export async function withLxcBusybox(fn: (c: LxcBusybox) => Promise<void>, name = 'bb'): Promise<void> {
  await withLxcPivotCleanup(() =>
    withScratch(async (s) => {
      await execa('lxc-create', ['-P', s.lxcpath, '-n', name, '-t', 'busybox']);
      try {
        const configFile = join(s.lxcpath, name, 'config');
        const base = (await readFile(configFile, 'utf8')).replace(/^lxc\.(net\.0|apparmor)\..*$/gm, '') + 'lxc.net.0.type = empty\n';
        const where = ['-P', s.lxcpath, '-n', name];
        await fn({
          s,
          name,
          rootfs: join(s.lxcpath, name, 'rootfs'),
          install: (file, script) => writeFile(join(s.lxcpath, name, 'rootfs', file), script, { mode: 0o755 }),
          configure: (extra) => writeFile(configFile, base + extra),
          run: (who, verb, ...args) =>
            who === 'lxc' ? execa(`lxc-${verb}`, [...where, ...args], { reject: false, input: '' }) : lxkit([verb, ...where, ...args], { env: s.env, input: '' }),
          async both<T>(verb: 'start' | 'execute', args: readonly string[], read: () => Promise<T>) {
            const seen = {} as Record<'lxc' | 'lxkit', T>;
            for (const [who, run] of [
              ['lxc', () => execa(`lxc-${verb}`, [...where, ...args], { reject: false, input: '' })],
              ['lxkit', () => lxkit([verb, ...where, ...args], { env: s.env, input: '' })],
            ] as const) {
              const r = await run();
              assert.is(r.exitCode, 0, `${who} ${verb}: ${String(r.stderr)}`);
              seen[who] = await read();
            }
            return seen;
          },
        });
      } finally {
        await execa('lxc-destroy', ['-P', s.lxcpath, '-n', name], { reject: false });
        // LXC 5.0.2 leaves its monitor's cgroups (lxc.monitor.NAME) behind when a start fails in its network set-up.
        await removeCgroups(await containerCgroups([name]));
      }
    }),
  );
}
