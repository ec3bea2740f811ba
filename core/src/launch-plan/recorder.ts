/**
 * Records a launch plan while the Node CLI runs a command for the C front
 * (LXKIT_PLAN_RECORD=<file>; docs/launch-plans.md). Loaded by
 * core/bin/lxkit.cjs before anything else, as a bundle of its own.
 *
 * A plan is sound when it holds every input the run's decisions came from and
 * every effect it had on the host, in order:
 *   - inputs: every file consulted through node:fs (a file of a real
 *     filesystem by its stat identity, one of /proc or /sys by its content),
 *     the arguments, the environment, the credentials, umask, the terminal;
 *   - effects: directories made and files written through node:fs (the
 *     cgroups), the lock, the monitor's spawn, the frames sent to it, the
 *     answers waited for, what was printed.
 * What the recorder cannot see or the front cannot redo refuses the plan: an
 * asynchronous file access, another file mutation, a child process, a
 * socket, a native addon call, a plugin that is not `replayable`, and any
 * plugin's notReplayable(). A refused run writes no plan; the front runs the
 * Node CLI for that command every time, which is the normal path.
 */
import type * as FS from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installPlanRecorder, type PlanRecorder, type PlanTail } from './active.js';
import { P, PLAN_FORMAT, STOP_SIGNAL, TAIL, normalise } from './format.js';
import { encodeFrame, encodeRecord } from '../start/protocol.js';

// The module object itself (an ESM namespace import would be a frozen copy): what everyone's require('node:fs') gets.
const fs = require('node:fs') as typeof FS;

type Int = number | bigint;
type Fn = (...args: unknown[]) => unknown;

/** A file changed this recently may change again within the same timestamp, unseen (git's "racy" files). */
const RACY_NS = 20_000_000n;
/** How long a plan may go unwritten before a write of another one removes it. */
const STALE_MS = 30 * 24 * 3600 * 1000;
const M_RESULT = 101;

const WRITE_FLAGS: Record<string, number> = {
  w: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC,
  a: fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT,
  'r+': fs.constants.O_RDWR,
};

const isPseudo = (p: string) => /^\/(proc|sys|dev)(\/|$)/.test(p);

function pathOf(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (Buffer.isBuffer(p)) return p.toString();
  if (p instanceof URL) return fileURLToPath(p);
  return undefined;
}

const errnoOf = (err: unknown): number => Math.abs((err as NodeJS.ErrnoException | undefined)?.errno ?? 0) || 5;

class Recorder implements PlanRecorder {
  readonly #file: string;
  readonly #frames: Buffer[] = [];
  readonly #refused: string[] = [];
  readonly #ignored: string[];
  readonly #orig: Record<string, Fn> = {};
  #untracked = 0;
  #racy: string | undefined;
  #lockFd: number | undefined;
  #finished = false;

  constructor(file: string, ignored: string[]) {
    this.#file = file;
    this.#ignored = ignored;
  }

  // --- the plan's entries -------------------------------------------------------------------

  #entry(type: number, ints: Int[], strs: (string | Buffer)[]): void {
    if (this.#finished) {
      this.refuse(`something happened after the container was left to run (entry ${type})`);
      return;
    }
    this.#frames.push(encodeFrame(type, encodeRecord({ ints: ints as bigint[], strs })));
  }

  begin(): void {
    const env = Object.entries(process.env)
      .map(([k, v]) => `${k}=${v}`)
      .sort();
    const tty = require('node:tty') as typeof import('node:tty');
    const umask = process.umask();
    this.#entry(
      P.HEAD,
      [PLAN_FORMAT, process.getuid!(), process.getgid!(), process.geteuid!(), process.getegid!(), umask, ...[0, 1, 2].map((fd) => (tty.isatty(fd) ? 1 : 0))],
      [process.cwd()],
    );
    this.#entry(P.ARGS, [], process.argv.slice(2));
    this.#entry(P.ENV, [], env);
    this.#patchFs();
    this.#patchElse();
    // ES modules (execa...) see the built-ins' exports through bindings of their own: update those too.
    (require('node:module') as typeof import('node:module')).syncBuiltinESMExports();
    process.once('exit', () => this.#commit());
  }

  refuse(reason: string): void {
    if (this.#refused.length < 20) this.#refused.push(reason);
  }

  get tracking(): boolean {
    return this.#untracked === 0;
  }

  untracked<T>(fn: () => T): T {
    this.#untracked++;
    try {
      return fn();
    } finally {
      this.#untracked--;
    }
  }

  lock(path: string, fd: number): void {
    this.#lockFd = fd;
    this.#entry(P.LOCK, [], [path]);
  }

  spawn(path: string, argv: readonly string[], fds: readonly number[]): void {
    const kinds = fds.map((fd) => (fd === this.#lockFd ? 1 : 0));
    if (kinds.includes(0)) this.refuse(`a helper gets a descriptor other than the lock (${path})`);
    this.#entry(P.SPAWN, kinds, [path, ...argv]);
  }

  send(type: number, payload: Buffer): void {
    this.#entry(P.SEND, [type], [payload]);
  }

  received(type: number, payload: Buffer): void {
    // Only answers a request waited for come here: the init's exit and the monitor's end of the container do not.
    const ok = type === M_RESULT ? Number(payload.readBigInt64LE(4)) : 1;
    this.#entry(P.RECV, [type, ok], []);
  }

  finish(tail: PlanTail): void {
    if (tail.kind === 'stop') {
      const { signal, timeout, nokill, nowait, socket } = tail;
      this.#entry(P.TAIL, [TAIL.stop, STOP_SIGNAL[signal], timeout, nokill ? 1 : 0, nowait ? 1 : 0], [tail.container, socket]);
      // The conversation on the command socket that follows is what the front has of its own (main.c stop()).
      this.#untracked++;
    } else {
      this.#entry(P.TAIL, [TAIL[tail.kind]], [tail.container]);
    }
    this.#finished = true;
  }

  #commit(): void {
    const write = this.#orig['writeFileSync']!;
    const rename = this.#orig['renameSync']!;
    const debug = process.env['LXKIT_PLAN_DEBUG'] === '1';
    const why = !this.#finished ? 'the command did not run a container to the hand-over' : this.#refused[0] ?? this.#racy;
    if (why) {
      if (debug) process.stderr.write(`lxkit: no launch plan: ${[why, ...this.#refused.slice(1)].join('; ')}\n`);
      return;
    }
    try {
      const tmp = `${this.#file}.${process.pid}`;
      write.call(fs, tmp, Buffer.concat(this.#frames), { mode: 0o600 });
      rename.call(fs, tmp, this.#file);
      if (debug) process.stderr.write(`lxkit: launch plan written: ${this.#file}\n`);
      this.#prune();
    } catch (err) {
      // A plan is an optimisation: never a reason to fail a command.
      if (debug) process.stderr.write(`lxkit: cannot write the launch plan: ${(err as Error).message}\n`);
    }
  }

  /** Plans not written for STALE_MS are of commands no longer run (or of checkouts that are gone): removed, as the V8 caches are. */
  #prune(): void {
    const dir = this.#file.slice(0, this.#file.lastIndexOf('/'));
    const now = Date.now();
    // The plans' directory is an ignored one: these calls are not part of any plan.
    for (const name of fs.readdirSync(dir)) {
      const file = `${dir}/${name}`;
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st && now - st.mtimeMs > STALE_MS) fs.rmSync(file, { force: true });
    }
  }

  // --- node:fs ----------------------------------------------------------------------------------

  #skip(path: string | undefined): boolean {
    if (this.#untracked > 0 || path === undefined || this.#ignored.some((d) => path.startsWith(d))) return true;
    // A path of one particular process (the container's init, the monitor) names another one at the next start.
    if (/^\/proc\/([2-9]|[1-9][0-9]+)\//.test(path)) this.refuse(`${path} belongs to one process`);
    return false;
  }

  /** A file's identity now (a real filesystem) or its presence and type (/proc, /sys, /dev). */
  #stat(path: string, nofollow: boolean): void {
    const st = (this.#orig[nofollow ? 'lstatSync' : 'statSync']!.call(fs, path, { bigint: true, throwIfNoEntry: false }) ?? undefined) as FS.BigIntStats | undefined;
    if (isPseudo(path)) {
      this.#entry(P.EXISTS, [st ? 0 : 2, st ? Number(st.mode) & fs.constants.S_IFMT : 0, nofollow ? 1 : 0], [path]);
      return;
    }
    if (!st) {
      this.#entry(P.STAT, [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, nofollow ? 1 : 0], [path]);
      return;
    }
    const B = 1_000_000_000n;
    // A directory's content is what a readdir of it records; its size and times change with any entry made or removed in it.
    if (st.isDirectory()) {
      this.#entry(P.STAT, [0, st.dev, st.ino, st.mode, st.uid, st.gid, -1, -1, -1, -1, -1, nofollow ? 1 : 0], [path]);
      return;
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    if (now - st.mtimeNs < RACY_NS || now - st.ctimeNs < RACY_NS) this.#racy = `${path} changed a moment ago`;
    this.#entry(
      P.STAT,
      [0, st.dev, st.ino, st.mode, st.uid, st.gid, st.size, st.mtimeNs / B, st.mtimeNs % B, st.ctimeNs / B, st.ctimeNs % B, nofollow ? 1 : 0],
      [path],
    );
  }

  /** A file read: its identity, or for /proc and /sys what was read. */
  #read(path: string, content: Buffer | string | undefined, err: unknown): void {
    if (!isPseudo(path)) {
      this.#stat(path, false);
      return;
    }
    if (content === undefined) {
      this.#entry(P.CONTENT, [errnoOf(err), 0], [path, '']);
      return;
    }
    const text = typeof content === 'string' ? content : content.toString('latin1');
    const n = normalise(path, text);
    this.#entry(P.CONTENT, [0, n === undefined ? 0 : 1], [path, n ?? Buffer.from(text, typeof content === 'string' ? 'utf8' : 'latin1')]);
  }

  /** Wraps fs[name]: `note` records the call once it returned or threw. */
  #wrap(name: string, note: (path: string | undefined, args: unknown[], result: unknown, err: unknown) => void): void {
    const orig = (fs as unknown as Record<string, Fn>)[name]!;
    this.#orig[name] = orig;
    const self = this;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const path = pathOf(args[0]);
      if (self.#skip(path) && typeof args[0] !== 'number') return orig.apply(this, args);
      let result: unknown;
      try {
        result = orig.apply(this, args);
      } catch (err) {
        if (self.#untracked === 0) note(path, args, undefined, err);
        throw err;
      }
      if (self.#untracked === 0) note(path, args, result, undefined);
      return result;
    };
    Object.defineProperty(fs, name, { value: Object.assign(wrapped, orig), writable: true, configurable: true, enumerable: true });
  }

  #patchFs(): void {
    // Kept for the plan's own write, whatever is patched below.
    this.#orig['writeFileSync'] = fs.writeFileSync as Fn;
    this.#orig['renameSync'] = fs.renameSync as Fn;
    this.#orig['statSync'] = fs.statSync as Fn;
    this.#orig['lstatSync'] = fs.lstatSync as Fn;
    const readdirTyped = fs.readdirSync;
    const realpath = fs.realpathSync;

    this.#wrap('readFileSync', (path, args, result, err) => {
      if (path !== undefined) this.#read(path, result as Buffer | string | undefined, err);
      // A read through a descriptor: the open was recorded.
      else if (typeof args[0] !== 'number') this.refuse('fs.readFileSync of something that is not a path');
    });
    this.#wrap('openSync', (path, args, result, err) => {
      const flags = args[1] ?? 'r';
      if (path === undefined) return this.refuse('fs.openSync of something that is not a path');
      if (flags !== 'r' && flags !== fs.constants.O_RDONLY) return this.refuse(`fs.openSync(${path}, ${String(flags)})`);
      if (!isPseudo(path)) return this.#stat(path, false);
      // A pseudo file opened for reading is taken to be read whole.
      let content: Buffer | undefined;
      if (result !== undefined) content = this.untracked(() => fs.readFileSync(path));
      this.#read(path, content, err);
    });
    for (const name of ['statSync', 'lstatSync', 'existsSync'] as const) {
      this.#wrap(name, (path) => path !== undefined && this.#stat(path, name === 'lstatSync'));
    }
    this.#wrap('accessSync', (path, args, _r, err) => path !== undefined && this.#entry(P.ACCESS, [err ? errnoOf(err) : 0, Number(args[1] ?? 0)], [path]));
    this.#wrap('readdirSync', (path, _a, _r, err) => {
      if (path === undefined) return;
      const names = err ? [] : this.untracked(() => readdirTyped(path, { withFileTypes: true }));
      const typed = names.map((d) => `${d.isDirectory() ? 'd' : d.isFile() ? 'f' : d.isSymbolicLink() ? 'l' : 'o'}${d.name}`).sort();
      this.#entry(P.READDIR, [err ? errnoOf(err) : 0], [path, ...typed]);
    });
    const realpathNote = (path: string | undefined, _a: unknown[], result: unknown, err: unknown) =>
      path !== undefined && this.#entry(P.REALPATH, [err ? errnoOf(err) : 0], [path, err ? '' : String(result)]);
    this.#wrap('realpathSync', realpathNote);
    (fs.realpathSync as unknown as { native: Fn }).native = Object.assign(
      (...args: unknown[]) => {
        const path = pathOf(args[0]);
        if (this.#skip(path)) return realpath.native(...(args as [string]));
        try {
          const r = realpath.native(...(args as [string]));
          realpathNote(path, args, r, undefined);
          return r;
        } catch (err) {
          realpathNote(path, args, undefined, err);
          throw err;
        }
      },
      {},
    );
    this.#wrap('readlinkSync', (path, _a, result, err) => path !== undefined && this.#entry(P.READLINK, [err ? errnoOf(err) : 0], [path, err ? '' : String(result)]));

    this.#wrap('mkdirSync', (path, args, _r, err) => {
      if (path === undefined) return;
      const o = args[1];
      const mode = Number((typeof o === 'object' && o ? (o as FS.MakeDirectoryOptions).mode : o) ?? 0o777);
      if (typeof o === 'object' && o && (o as FS.MakeDirectoryOptions).recursive) this.#entry(P.MKDIRP, [mode], [path]);
      else this.#entry(P.MKDIR, [mode, err ? errnoOf(err) : 0], [path]);
    });
    this.#wrap('writeFileSync', (path, args, _r, err) => {
      if (path === undefined) return this.refuse('fs.writeFileSync to a descriptor');
      const o = args[2];
      const opts = (typeof o === 'string' ? { encoding: o } : (o ?? {})) as FS.WriteFileOptions & { flag?: string; mode?: number; encoding?: BufferEncoding };
      const flags = WRITE_FLAGS[String(opts.flag ?? 'w')];
      if (flags === undefined) return this.refuse(`fs.writeFileSync(${path}) with flag ${String(opts.flag)}`);
      const data = args[1];
      const bytes = typeof data === 'string' ? Buffer.from(data, opts.encoding ?? 'utf8') : Buffer.isBuffer(data) ? data : undefined;
      if (!bytes) return this.refuse(`fs.writeFileSync(${path}) of a typed array`);
      this.#entry(P.WRITE, [flags, opts.mode ?? 0o666, err ? errnoOf(err) : 0], [path, bytes]);
    });
    this.#wrap('chownSync', (path, args, _r, err) => path !== undefined && this.#entry(P.CHOWN, [Number(args[1]), Number(args[2]), err ? errnoOf(err) : 0], [path]));
    this.#wrap('rmdirSync', (path, args, _r, err) => {
      if (path === undefined || (args[1] as { recursive?: boolean } | undefined)?.recursive) return this.refuse(`fs.rmdirSync(${path}) recursive`);
      this.#entry(P.RMDIR, [err ? errnoOf(err) : 0], [path]);
    });
    this.#wrap('writeSync', (path, args) => {
      const fd = args[0];
      if (path === undefined && (fd === 1 || fd === 2)) {
        const d = args[1];
        this.#entry(P.OUTPUT, [fd], [typeof d === 'string' ? d : Buffer.from(d as Uint8Array)]);
      } else this.refuse(`fs.writeSync to descriptor ${String(fd)}`);
    });

    // Anything else that changes files, and every asynchronous access (its effect lands at a time the plan cannot place).
    const mutating = ['appendFileSync', 'rmSync', 'unlinkSync', 'renameSync', 'symlinkSync', 'linkSync', 'chmodSync', 'copyFileSync', 'cpSync', 'truncateSync', 'utimesSync', 'mkdtempSync', 'fchownSync', 'fchmodSync', 'ftruncateSync'];
    const asynchronous = ['readFile', 'writeFile', 'appendFile', 'stat', 'lstat', 'access', 'open', 'readdir', 'realpath', 'mkdir', 'rm', 'rmdir', 'unlink', 'rename', 'chown', 'chmod', 'exists', 'opendir', 'createReadStream', 'createWriteStream', 'copyFile', 'symlink', 'readlink'];
    for (const name of [...mutating, ...asynchronous]) {
      if (typeof (fs as unknown as Record<string, unknown>)[name] !== 'function') continue;
      this.#wrap(name, (path) => this.refuse(`fs.${name}(${path ?? ''})`));
    }
    const promises = fs.promises as unknown as Record<string, Fn>;
    for (const name of Object.keys(promises)) {
      const orig = promises[name];
      if (typeof orig !== 'function') continue;
      promises[name] = (...args: unknown[]) => {
        if (!this.#skip(pathOf(args[0]))) this.refuse(`fs.promises.${name}(${pathOf(args[0]) ?? ''})`);
        return orig(...args);
      };
    }
  }

  /** Processes, sockets, addons, and output through the standard streams. */
  #patchElse(): void {
    const cp = require('node:child_process') as Record<string, Fn>;
    for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
      const orig = cp[name]!;
      cp[name] = (...args: unknown[]) => {
        this.refuse(`a child process (${String(args[0])})`);
        return orig(...args);
      };
    }
    const net = require('node:net') as typeof import('node:net');
    const connect = net.Socket.prototype.connect;
    const self = this;
    net.Socket.prototype.connect = function (this: import('node:net').Socket, ...args: unknown[]) {
      self.refuse('a socket connection');
      return (connect as Fn).apply(this, args);
    } as typeof connect;
    const Module = require('node:module') as { _extensions: Record<string, Fn> };
    const loadNode = Module._extensions['.node']!;
    Module._extensions['.node'] = (module: unknown, filename: unknown) => {
      // lxkit's own addon is the monitor's channel (what spawn() and send() stand for); any other one does host work unseen.
      if (!String(filename).endsWith('/lxkit.node')) this.refuse(`a native addon (${String(filename)})`);
      return loadNode(module, filename);
    };
    for (const fd of [1, 2] as const) {
      const stream = fd === 1 ? process.stdout : process.stderr;
      const write = stream.write.bind(stream) as Fn;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (this.#untracked === 0) this.#entry(P.OUTPUT, [fd], [typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array)]);
        return write(chunk, ...rest);
      }) as typeof stream.write;
    }
  }
}

/**
 * Starts recording into `file`; `ignored`: directories whose files are no
 * input of any command (the V8 code caches, the plans themselves).
 */
export function recordPlan(file: string, ignored: string[]): void {
  const r = new Recorder(file, ignored);
  installPlanRecorder(r);
  r.begin();
}
