/**
 * devices.allow / devices.deny for the unified hierarchy, where there is no
 * devices controller: the rules become a BPF_PROG_TYPE_CGROUP_DEVICE program
 * (as LXC, crun and runc do), attached to the container's cgroup.
 *
 * Semantics, as the v1 controller and LXC: a cgroup starts allowing every
 * device; a rule `a` resets the list and flips the default (deny a: nothing
 * but what is allowed afterwards; allow a: everything but what is denied
 * afterwards); otherwise the last rule that matches a request decides. An
 * allow rule matches when it grants every access asked for, a deny rule when
 * it covers any of them.
 */
import type { DeviceRule } from './device-rules.js';

export interface DevicePolicy {
  /** What a request no rule matches gets. */
  readonly defaultAllow: boolean;
  readonly rules: readonly (DeviceRule & { readonly allow: boolean })[];
}

/** Folds devices.allow/deny settings, in order, into a policy. */
export function devicePolicy(settings: readonly { allow: boolean; rule: DeviceRule }[]): DevicePolicy {
  let defaultAllow = true;
  let rules: (DeviceRule & { allow: boolean })[] = [];
  for (const { allow, rule } of settings) {
    if (rule.type === 'a' && rule.major === -1 && rule.minor === -1 && rule.access === 'rwm') {
      defaultAllow = allow;
      rules = [];
      continue;
    }
    rules.push({ ...rule, allow });
  }
  return { defaultAllow, rules };
}

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }: access_type = access << 16 | type.
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;

// Opcodes (linux/bpf.h): class | op | source.
const LDX_MEM_W = 0x61;
const ALU64_AND_K = 0x57;
const ALU64_RSH_K = 0x77;
const ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf;
const JMP_JNE_K = 0x55;
const JMP_JEQ_K = 0x15;
const JMP_EXIT = 0x95;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

const accessBits = (access: string): number => [...access].reduce((n, a) => n | ACCESS[a as keyof typeof ACCESS], 0);

/** One rule's test: falls through to "return its verdict", or jumps past it. */
function ruleBlock(rule: DevicePolicy['rules'][number]): Insn[] {
  const block: Insn[] = [];
  // Jumps carry off = -1 until the block's length is known.
  if (rule.type !== 'a') block.push(insn(JMP_JNE_K, 2, 0, -1, DEV_TYPE[rule.type]));
  if (rule.major !== -1) block.push(insn(JMP_JNE_K, 4, 0, -1, rule.major));
  if (rule.minor !== -1) block.push(insn(JMP_JNE_K, 5, 0, -1, rule.minor));
  const bits = accessBits(rule.access);
  block.push(insn(ALU64_MOV_X, 1, 3));
  if (rule.allow) {
    // Granted only when nothing outside the rule's access is asked for.
    block.push(insn(ALU64_AND_K, 1, 0, 0, ~bits));
    block.push(insn(JMP_JNE_K, 1, 0, -1, 0));
  } else {
    block.push(insn(ALU64_AND_K, 1, 0, 0, bits));
    block.push(insn(JMP_JEQ_K, 1, 0, -1, 0));
  }
  block.push(insn(ALU64_MOV_K, 0, 0, 0, rule.allow ? 1 : 0));
  block.push(insn(JMP_EXIT));
  block.forEach((i, at) => {
    if (i.off === -1) i.off = block.length - at - 1;
  });
  return block;
}

/** The program (struct bpf_insn[]) for a policy. */
export function deviceProgram(policy: DevicePolicy): Buffer {
  const insns: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0), // r2 = access_type
    insn(ALU64_AND_K, 2, 0, 0, 0xffff), // r2 = device type
    insn(LDX_MEM_W, 3, 1, 0),
    insn(ALU64_RSH_K, 3, 0, 0, 16), // r3 = access asked for
    insn(LDX_MEM_W, 4, 1, 4), // r4 = major
    insn(LDX_MEM_W, 5, 1, 8), // r5 = minor
  ];
  // The last matching rule decides: test them from the last one back.
  for (const rule of [...policy.rules].reverse()) insns.push(...ruleBlock(rule));
  insns.push(insn(ALU64_MOV_K, 0, 0, 0, policy.defaultAllow ? 1 : 0), insn(JMP_EXIT));
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    out.writeUInt8(i.code, n * 8);
    out.writeUInt8((i.dst & 0xf) | ((i.src & 0xf) << 4), n * 8 + 1);
    out.writeInt16LE(i.off, n * 8 + 2);
    out.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return out;
}

/** What the program decides for one request (the same logic, for tests and dry runs). */
export function deviceAllowed(policy: DevicePolicy, type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  const asked = accessBits(access);
  for (const r of [...policy.rules].reverse()) {
    if (r.type !== 'a' && r.type !== type) continue;
    if (r.major !== -1 && r.major !== major) continue;
    if (r.minor !== -1 && r.minor !== minor) continue;
    const bits = accessBits(r.access);
    if (r.allow ? (asked & ~bits) === 0 : (asked & bits) !== 0) return r.allow;
  }
  return policy.defaultAllow;
}
