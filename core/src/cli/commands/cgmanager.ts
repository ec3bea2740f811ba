/**
 * `lxkit cgmanager [--address ADDRESS]`: runs the cgmanager D-Bus service
 * (org.linuxcontainers.cgmanager0_0 on top of cgroupfs, from the cgroup
 * plugin) in the foreground until SIGINT or SIGTERM, on the system bus or
 * the bus at ADDRESS, so that root can delegate cgroups to other users.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function serve(ctx: CliContext, opts: { address?: string }): Promise<number> {
  const { builtinEntry } = await import('../../parts/toolkit.js');
  const { LxkitError } = await import('../../parts/base.js');
  const entry = builtinEntry('cgmanager');
  if (!entry) throw new LxkitError('LXKIT_PLUGIN_NOT_FOUND', 'the cgroup plugin (@lxkit/plugin-cgmanager) is not installed', { plugin: 'cgmanager' });
  // The plugin's own type is not imported: the core does not depend on its plugins.
  type Service = { startCgmanagerService(o: { address?: string; log: CliContext['log'] }): Promise<{ close(): Promise<void> }> };
  // A path, not a URL: the CLI bundle is CommonJS, where this import() is a require().
  const mod = (await import(entry)) as Service & { default?: Service };
  const plugin = typeof mod.startCgmanagerService === 'function' ? mod : mod.default!;
  const service = await plugin.startCgmanagerService({ ...(opts.address ? { address: opts.address } : {}), log: ctx.log });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await service.close();
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, {})
    .option('--address <address>', 'the D-Bus address to serve on (unix:path=…; default: the system bus)')
    .action(action(program, (ctx) => serve(ctx, ctx.opts as never)));
}
