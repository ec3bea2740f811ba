/**
 * The wire format between lxkit and its C helpers — the JavaScript side of
 * native/src/common/proto.h (keep the two in step).
 *
 * Frame: u32 length | u16 type | u16 0 | payload. A record is
 * u32 nints, i64[nints], u32 nstrs, { u32 len, bytes, NUL }[nstrs].
 */

export const MSG = {
  CLONE: 1,
  BATCH: 2,
  DETACHED_TREE: 3,
  KILL: 4,
  RELEASE: 5,
  QUIT: 6,
  SERVE: 7,
  STATE: 8,
  DAEMONIZE: 9,
  CGROUPS: 10,
  CONFINE: 11,
  NOTIFY: 12,
  NETNS: 13,
  END_ALONE: 14,
  /** lxc.monitor.unshare: the monitor moves to a mount namespace of its own (a slave of the host's) -> RESULT. */
  MOUNT_NS: 15,
  CONFIG_ADD: 16,
  /** A host device (phys) the monitor moves back to the host when the container ends (no reply). */
  NET_GIVE_BACK: 17,
  /** A proxy neighbour entry on a host interface the monitor removes when the container ends (no reply). */
  NET_UNPROXY: 18,
  /** Where the monitor's lines go while no lxkit process is attached (daemon mode): a log file, syslog (no reply). */
  LOG_TARGETS: 19,
  /** A container restored by the program named (criu restore) instead of cloned: answered as CLONE is (native/src/monitor/restore.c). */
  RESTORE: 20,
  /** Ptys of the monitor's /dev/ptmx for a restore's console and ttys: (kind, index) pairs -> PTYS_OPENED, their slaves' paths (native/src/monitor/restore.c). */
  PTYS: 21,
  CLONED: 100,
  RESULT: 101,
  EXITED: 102,
  LOG: 103,
  RUNNING: 104,
  ADOPTED: 105,
  PTYS_OPENED: 106,
} as const;

/** Requests on a container's command socket, and what the monitor sends back. */
export const CMD = {
  GET_STATE: 300,
  SIGNAL: 301,
  SUBSCRIBE: 302,
  CONSOLE: 303,
  PIDFD: 304,
  CONFIG: 305,
  IPS: 306,
  CGROUPS: 307,
  FREEZE: 308,
  /** An attached program's seccomp listener, from lxkit-attach (SCM_RIGHTS); no reply. */
  NOTIFY_LISTENER: 309,
  /** The console's window size, from its client (lxkit-console); no reply. */
  WINSIZE: 310,
  /** lxc.console.buffer.size's ring buffer: ints read, clear, at most N bytes (0: up to 64 KiB) -> errno (EFAULT: none), the bytes. */
  CONSOLE_LOG: 311,
  REPLY: 350,
  STATE_EVENT: 351,
  /** The init's exit, to lxkit monitor's watchers: its code (128+N for signal N) and signal. */
  EXIT_EVENT: 352,
} as const;

/** Requests to lxkit-attach and lxkit-console, on their fd 3. */
export const A_REQUEST = 400;
export const CN_REQUEST = 401;
/** To `lxkit-attach relay`: a command socket in another network namespace (strs: its path, the socket). */
export const AR_RELAY = 402;

/** A_REQUEST's "elevated" bits (lxc-attach -e): what of the container's confinement is left out. */
export const ELEVATE = { CAP: 1, CGROUP: 2, LSM: 4 } as const;

/** Container states, numbered as LXC numbers them (lxc_state_t). */
export const STATES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ABORTING', 'FREEZING', 'FROZEN', 'THAWED'] as const;
export type ContainerState = (typeof STATES)[number];

/** Standard I/O of the container's init (M_CLONE ints[2]). DETACHED: a console pty drained by the monitor (daemon mode), the init's stdio /dev/null. */
export const STDIO = { INHERIT: 0, CONSOLE: 1, NULL: 2, DETACHED: 3 } as const;
export type StdioMode = (typeof STDIO)[keyof typeof STDIO];

export interface WireRecord {
  ints: bigint[] | number[];
  strs: (string | Buffer)[];
}

export interface DecodedRecord {
  ints: number[];
  strs: Buffer[];
}

/** Bytes of a string or buffer on the wire (without its NUL). */
const byteLength = (s: string | Buffer): number => (typeof s === 'string' ? Buffer.byteLength(s) : s.length);

function recordSize(r: WireRecord): number {
  let n = 4 + r.ints.length * 8 + 4;
  for (const s of r.strs) n += 4 + byteLength(s) + 1;
  return n;
}

/** A signed 64-bit integer, little-endian; numbers are written without a BigInt (most ints are small). */
function putInt64(out: Buffer, at: number, i: bigint | number): void {
  if (typeof i === 'bigint') {
    out.writeBigInt64LE(i, at);
    return;
  }
  const high = Math.floor(i / 0x1_0000_0000);
  out.writeUInt32LE(i - high * 0x1_0000_0000, at);
  out.writeInt32LE(high, at + 4);
}

/** Writes a record into `out` at `at`; returns the new offset. */
export function putRecord(out: Buffer, at: number, r: WireRecord): number {
  out.writeUInt32LE(r.ints.length, at);
  at += 4;
  for (const i of r.ints) {
    putInt64(out, at, i);
    at += 8;
  }
  out.writeUInt32LE(r.strs.length, at);
  at += 4;
  for (const s of r.strs) {
    const n = typeof s === 'string' ? out.write(s, at + 4) : s.copy(out, at + 4);
    out.writeUInt32LE(n, at);
    at += 4 + n;
    out[at++] = 0;
  }
  return at;
}

export function encodeRecord(r: WireRecord): Buffer {
  const out = Buffer.allocUnsafe(recordSize(r));
  putRecord(out, 0, r);
  return out;
}

/** A batch payload: u32 count, then { u16 code, u16 0, record } per op. */
export function encodeBatch(ops: readonly { code: number; ints: number[]; strs: (string | Buffer)[] }[]): Buffer {
  let size = 4;
  for (const o of ops) size += 4 + recordSize(o);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(ops.length, 0);
  let at = 4;
  for (const o of ops) {
    out.writeUInt16LE(o.code, at);
    out.writeUInt16LE(0, at + 2);
    at = putRecord(out, at + 4, o);
  }
  return out;
}

export function encodeFrame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length + 4, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(0, 6);
  return Buffer.concat([head, payload]);
}

export function decodeRecord(p: Buffer): DecodedRecord {
  let at = 0;
  const nints = p.readUInt32LE(at);
  at += 4;
  const ints: number[] = [];
  for (let i = 0; i < nints; i++, at += 8) ints.push(Number(p.readBigInt64LE(at)));
  const nstrs = p.readUInt32LE(at);
  at += 4;
  const strs: Buffer[] = [];
  for (let i = 0; i < nstrs; i++) {
    const len = p.readUInt32LE(at);
    at += 4;
    strs.push(p.subarray(at, at + len));
    at += len + 1;
  }
  return { ints, strs };
}

/** Splits a byte stream into frames. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const frames: { type: number; payload: Buffer }[] = [];
    while (this.#pending.length >= 8) {
      const len = this.#pending.readUInt32LE(0);
      if (this.#pending.length < 4 + len) break;
      frames.push({ type: this.#pending.readUInt16LE(4), payload: this.#pending.subarray(8, 4 + len) });
      this.#pending = this.#pending.subarray(4 + len);
    }
    return frames;
  }
}
