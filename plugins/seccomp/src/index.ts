/**
 * @lxkit/plugin-seccomp: seccomp confinement. Owns lxc.seccomp.*; reads
 * the policy file (LXC's format, versions 1 and 2) and compiles it before
 * the clone (pre-start: a policy error stops the start before anything
 * runs), then hands the program to the child as the last op before exec
 * (the `start` hook's seccomp stage) and keeps it for attached programs.
 *
 * Without lxc.seccomp.profile the shipped default policy applies (LXC's
 * default rules, policies/default.seccomp); the `defaultPolicy` option
 * turns that off. Without lxc.seccomp.allow_nesting, a container started
 * from a process that is already under a seccomp filter gets none of its
 * own, as LXC does.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { definePlugin, LxkitError, STAGE_SECCOMP, tapConfigKeys, VERSION, type StartContext } from '@lxkit/core';
import * as v from 'valibot';
import { compilePolicy } from './compile.js';
import { createSeccompModel, seccompKeys, type SeccompModel } from './keys.js';
import { parsePolicy, type Policy } from './policy.js';

declare module '@lxkit/core' {
  interface ContainerModel {
    seccomp?: SeccompModel;
  }
}

export type { SeccompModel } from './keys.js';
export { parsePolicy, PolicyError, type Action, type ArgFilter, type CompareOp, type Policy, type Rule, type Section } from './policy.js';
export { actionValue, cacheDir, compilePolicy, compileSpec, hostArches, nativeCompiler, type Compiled } from './compile.js';

/** The shipped default policy. */
export const DEFAULT_POLICY = fileURLToPath(new URL('../policies/default.seccomp', import.meta.url));

const Options = v.optional(
  v.strictObject({
    /** Apply the default policy to containers that set no lxc.seccomp.profile (default true). */
    defaultPolicy: v.optional(v.boolean()),
  }),
);

/** Whether this process is under a seccomp filter already (/proc/self/status Seccomp: 2). */
let filteredOnce: boolean | undefined;
/** Whether lxkit runs under a seccomp filter; read once (a filter is never lifted, and lxkit installs none on itself). */
function filtered(): boolean {
  if (filteredOnce !== undefined) return filteredOnce;
  try {
    filteredOnce = /^Seccomp:\s*2$/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    filteredOnce = false;
  }
  return filteredOnce;
}

export default definePlugin({
  name: 'seccomp',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  options: Options,
  apply(runtime, options) {
    const useDefault = options?.defaultPolicy ?? true;
    const programs = new WeakMap<StartContext, { program: Buffer; notify: boolean }>();
    let lastParsed: { file: string; text: string; policy: Policy } | undefined;
    runtime.hooks.preStart.tap('seccomp', (ctx) => {
      const model = ctx.container.config.model.seccomp;
      const file = model?.profile ?? (useDefault ? DEFAULT_POLICY : undefined);
      if (!file) return;
      if (filtered() && !model?.allowNesting) {
        ctx.log.info(`seccomp: lxkit runs under a seccomp filter already and lxc.seccomp.allow_nesting is not set: the container gets no filter of its own`);
        return;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new LxkitError('LXKIT_CONFIG_INVALID', `lxc.seccomp.profile: cannot read ${file} (${e.code})`, { cause: err, path: file, container: ctx.container.name });
      }
      // The file is read at every start (it may have changed); the same text is parsed once.
      let parsed = lastParsed?.file === file && lastParsed.text === text ? lastParsed.policy : undefined;
      if (!parsed) {
        parsed = parsePolicy(text, file);
        lastParsed = { file, text, policy: parsed };
      }
      const policy = parsed;
      const notify = policy.rules.some((r) => r.action.kind === 'notify') || policy.defaultAction.kind === 'notify';
      if (notify && !model?.notifyProxy) ctx.log.info(`seccomp: ${file} has notify rules but lxc.seccomp.notify.proxy is unset: those calls fail with ENOSYS`);
      const compiled = compilePolicy(policy, text);
      for (const s of compiled.skipped) ctx.log.info(`seccomp: ${file}: ${s.replace(':', ' has no syscall ')}; rule skipped`);
      ctx.log.debug(`seccomp: ${file}: ${compiled.program.length / 8} instructions${compiled.cached ? ` (cached, ${compiled.cached})` : ''}`);
      programs.set(ctx, { program: compiled.program, notify });
    });
    // The program is compiled in pre-start; its op needs nothing of the clone's answer.
    runtime.hooks.cloneFirst.tap('seccomp', () => undefined);
    runtime.hooks.start.tap({ name: 'seccomp', stage: STAGE_SECCOMP }, (ctx) => {
      const filter = programs.get(ctx);
      if (!filter) return;
      ctx.ops.seccomp(filter.program, { what: 'installing the seccomp filter (lxc.seccomp.profile)' }, { notify: filter.notify });
      ctx.attachConfinement.seccomp = filter.program;
      if (filter.notify) {
        const model = ctx.container.config.model.seccomp;
        ctx.seccompNotify = { proxy: model?.notifyProxy, cookie: model?.notifyCookie };
      }
    });
    tapConfigKeys(runtime, 'seccomp', seccompKeys, createSeccompModel);
  },
});
