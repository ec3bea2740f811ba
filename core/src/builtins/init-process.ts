/**
 * What the init process runs with, on the start hook: a session keyring of
 * its own (unless lxc.keyring.session = 1, as LXC reads it: the container
 * must not reach the keys of lxkit's session), a core scheduling domain of
 * its own with lxc.sched.core (attached programs join it), lxc.arch's personality
 * (attached programs get it too), lxc.prlimit (never a hard limit above
 * what lxkit itself holds, unless it may raise limits) and lxc.no_new_privs
 * (at STAGE_NO_NEW_PRIVS, among the last ops).
 */
import { readFileSync } from 'node:fs';
import type { Limit } from '../config/core-keys/model.js';
import { PRLIMIT_RESOURCES } from '../config/core-keys/process.js';
import { archPersonality } from '../config/arch.js';
import { LxkitError } from '../errors.js';
import { namespaceNames } from '../start/namespaces.js';
import { STAGE_DEFAULT, STAGE_NO_NEW_PRIVS } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { VERSION } from '../version.js';

/** RLIMIT_* numbers (asm-generic, as on x86_64 and arm64). */
const RLIMIT: Readonly<Record<(typeof PRLIMIT_RESOURCES)[number], number>> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9,
  locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};

const CAP_SYS_RESOURCE = 24;

/** Hard limits lxkit holds now, by RLIMIT number (/proc/self/limits lists them in that order). */
function currentHardLimits(): (number | 'unlimited')[] {
  const lines = readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1).filter(Boolean);
  return lines.map((l) => {
    const hard = l.slice(47, 68).trim();
    return hard === 'unlimited' ? 'unlimited' : Number(hard);
  });
}

function mayRaiseLimits(): boolean {
  const status = readFileSync('/proc/self/status', 'utf8');
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  return (BigInt(`0x${eff}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n ? true : false;
}

const asNumber = (l: Limit) => (l === 'unlimited' ? -1 : l);

export const initProcessPlugin = definePlugin({
  name: 'init-process',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    // Its ops follow from the config and lxkit's own limits alone.
    runtime.hooks.cloneFirst.tap('init-process', () => undefined);
    runtime.hooks.start.tap({ name: 'init-process', stage: STAGE_DEFAULT }, (ctx) => {
      const { arch, keyringSession, schedCore } = ctx.container.config.model;
      if (keyringSession) ctx.ops.sessionKeyring({ what: 'joining a new session keyring (lxc.keyring.session)' });
      if (schedCore) {
        // As LXC: the domain is the pid namespace's processes, so the container must have its own.
        if (!namespaceNames(ctx.container.config).clone.includes('pid')) {
          throw new LxkitError('LXKIT_CONFIG_INVALID', `container "${ctx.container.name}": lxc.sched.core needs a pid namespace of the container's own`, {
            key: 'lxc.sched.core',
            container: ctx.container.name,
          });
        }
        ctx.ops.schedCore({ what: 'making a core scheduling domain (lxc.sched.core)' });
      }
      const persona = arch === undefined ? undefined : archPersonality(arch);
      if (persona !== undefined) {
        ctx.ops.personality(persona, { what: `setting the personality of lxc.arch = ${arch}` });
        ctx.attachConfinement.personality = persona;
      }
    });
    runtime.hooks.start.tap({ name: 'init-process', stage: STAGE_DEFAULT }, (ctx) => {
      const { prlimit } = ctx.container.config.model;
      const names = Object.keys(prlimit) as (keyof typeof RLIMIT)[];
      if (names.length === 0) return;
      const held = currentHardLimits();
      const canRaise = mayRaiseLimits();
      for (const name of names) {
        const want = prlimit[name]!;
        const res = RLIMIT[name];
        let hard = want.hard;
        let soft = want.soft;
        const mine = held[res] ?? 'unlimited';
        const above = (a: Limit, b: Limit) => b !== 'unlimited' && (a === 'unlimited' || a > b);
        if (!canRaise && above(hard, mine)) {
          ctx.log.warn(`lxc.prlimit.${name}: hard limit ${hard} is above lxkit's own (${mine}) and cannot be raised here; using ${mine}`);
          hard = mine;
          if (above(soft, hard)) soft = hard;
        }
        ctx.ops.prlimit(res, asNumber(soft), asNumber(hard), { what: `setting lxc.prlimit.${name}` });
      }
    });
    runtime.hooks.start.tap({ name: 'init-process', stage: STAGE_NO_NEW_PRIVS }, (ctx) => {
      if (!ctx.container.config.model.noNewPrivs) return;
      ctx.ops.noNewPrivs({ what: 'setting no_new_privs (lxc.no_new_privs)' });
      ctx.attachConfinement.noNewPrivs = true;
    });
  },
});
