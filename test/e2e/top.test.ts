/** lxkit top (lxc-top): the active containers' CPU, block I/O and memory use. */
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LXKIT_BIN, busyboxIn, lxkit, lxkitIn, testIf, until, which, withScratch, withTmpDir, type Scratch } from '../lib/harness.js';
import { lxkitPid, onTerminal } from '../lib/terminal.js';

const test = suite('top');
const LXC_MISSING = which('lxc-top') ? undefined : "lxc-top is not installed (Debian's lxc package)";
const CSV_HEADER = 'time_ms,container,cpu_nanos,cpu_sys_userhz,cpu_user_userhz,blkio_bytes,blkio_iops,mem_used_bytes,memsw_used_bytes,kernel_mem_used_bytes';

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');

/** `lxkit top -b` until `rounds` rounds of `rows` lines each have come, then SIGINT: the CSV lines and the exit status. */
async function batch(s: Scratch, args: string[], rows: number, rounds = 1) {
  const proc = execa(LXKIT_BIN, ['top', '-P', s.lxcpath, '-b', ...args], { env: { ...s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await until(async () => (out.split('\n').length - 2 >= rows * rounds ? true : undefined), 15000, `${rounds} round(s) of lxkit top -b`);
    proc.kill('SIGINT');
    const r = await proc;
    return { code: r.exitCode, lines: String(r.stdout).trim().split('\n'), stderr: String(r.stderr) };
  } finally {
    proc.kill('SIGKILL');
  }
}

/** The fields of a CSV line, numbers where they are. */
function fields(line: string) {
  const [time, name, ...numbers] = line.split(',');
  const n = numbers.map(Number);
  assert.ok(n.every((x) => Number.isInteger(x) && x >= 0), `numbers: ${line}`);
  const [cpuNs, sys, user, ioBytes, ioOps, mem, memsw, kmem] = n as [number, number, number, number, number, number, number, number];
  return { time: Number(time), name: name!, cpuNs, sys, user, ioBytes, ioOps, mem, memsw, kmem };
}

test('-b: a CSV line per running container and round, what its cgroups say; sorted by name, -s m and -r; SIGINT ends it with 0', async () => {
  await withScratch(async (s) => {
    // `burn` spends some CPU time in user mode, then idles: its counters stay put once it sleeps.
    await busyboxIn(s, 'burn');
    await busyboxIn(s, 'idle');
    await busyboxIn(s, 'stopped');
    for (const [name, cmd] of [
      ['burn', ['sh', '-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; touch /burnt; exec sleep 1000']],
      ['idle', ['sleep', '1000']],
    ] as const) {
      const r = await lxkitIn(s, 'start', '-n', name, '--', ...cmd);
      assert.is(r.exitCode, 0, r.stderr);
    }
    try {
      await until(async () => ((await lxkitIn(s, 'attach', '-n', 'burn', '--', 'test', '-e', '/burnt')).exitCode === 0 ? true : undefined), 30000, 'the busy loop to end');
      const r = await batch(s, ['-d', '0.2'], 2, 2);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.lines[0], CSV_HEADER);
      const rows = r.lines.slice(1).map(fields);
      // Two rounds, each with the running containers in name order (the stopped one is not active).
      assert.equal(rows.slice(0, 4).map((f) => f.name), ['burn', 'idle', 'burn', 'idle']);
      assert.ok(rows[2]!.time - rows[0]!.time >= 150, 'the rounds are -d apart');
      const burn = rows[0]!;
      assert.ok(burn.cpuNs >= 1e8 && burn.user >= 5, `burn used CPU time, most of it in user mode: ${JSON.stringify(burn)}`);
      assert.ok(burn.cpuNs > rows[1]!.cpuNs, 'more than idle');
      for (const f of rows) assert.ok(f.mem > 0 && f.memsw >= f.mem, `memory, and memory+swap: ${JSON.stringify(f)}`);
      // The same numbers as the cgroup files read directly (burn sleeps now).
      const item = async (key: string) => (await lxkitIn(s, 'cgroup', '-n', 'burn', key)).stdout.trim();
      assert.is(String(burn.cpuNs), await item('cpuacct.usage'));
      assert.match(await item('cpuacct.stat'), new RegExp(`^user ${burn.user}\\nsystem ${burn.sys}$`));
      // Sorted by memory (largest first), and reversed; -r alone turns names round.
      const byMem = (await batch(s, ['-d', '0.2', '-s', 'm'], 2)).lines.slice(1, 3).map(fields);
      assert.ok(byMem[0]!.mem >= byMem[1]!.mem, JSON.stringify(byMem));
      const byMemUp = (await batch(s, ['-d', '0.2', '-s', 'm', '-r'], 2)).lines.slice(1, 3).map(fields);
      assert.ok(byMemUp[0]!.mem <= byMemUp[1]!.mem, JSON.stringify(byMemUp));
      assert.equal((await batch(s, ['-d', '0.2', '-r'], 2)).lines.slice(1, 3).map((l) => fields(l).name), ['idle', 'burn']);
    } finally {
      for (const name of ['burn', 'idle']) await lxkitIn(s, 'stop', '-n', name, '-k');
    }
  });
});

test('on a terminal: the screen with a line per container and the TOTAL line; keys sort it, q leaves it', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'alpha');
    await busyboxIn(s, 'beta');
    for (const name of ['alpha', 'beta']) assert.is((await lxkitIn(s, 'start', '-n', name)).exitCode, 0);
    const t = onTerminal(s, ['top', '-P', s.lxcpath, '-d', '0.2'], { rows: 20, cols: 160 });
    try {
      await t.waitFor(/TOTAL 2 of 2/);
      const row = /^(\S+(?: \d of \d)?) +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +.*\(.*\/.*\) +[0-9.]+ (KiB|MiB|GiB) +[0-9.]+ (KiB|MiB|GiB) +[0-9.]+ (KiB|MiB|GiB)$/;
      // Each refresh clears the screen and draws it again, the TOTAL line last (no newline after it): a whole one.
      const screens = plain(t.output()).split(/(?=Container {19}CPU)/);
      const lines = screens.map((x) => x.split('\n')).find((l) => l.length === 5 && row.test(l[4]!))!;
      assert.ok(lines, plain(t.output()));
      assert.is(lines[0], `Container${' '.repeat(19)}CPU${' '.repeat(10)}CPU${' '.repeat(10)}CPU${' '.repeat(32)}BlkIO${' '.repeat(8)}Mem${' '.repeat(6)}MemSw${' '.repeat(7)}KMem`);
      assert.is(lines[1], `Name${' '.repeat(23)}Used${' '.repeat(10)}Sys${' '.repeat(9)}User${' '.repeat(20)}Total(Read/Write)${' '.repeat(7)}Used${' '.repeat(7)}Used${' '.repeat(7)}Used`);
      assert.equal(lines.slice(2).map((l) => row.exec(l)?.[1]), ['alpha', 'beta', 'TOTAL 2 of 2']);
      // n again: names Z to A.
      const before = t.output().length;
      t.type('n');
      await until(async () => (/beta[^\n]*\n[^\n]*alpha/.test(plain(t.output().slice(before))) ? true : undefined), 10000, 'beta above alpha');
      t.type('q');
      const r = await t.proc;
      assert.is(r.exitCode, 0);
    } finally {
      await t.kill();
      for (const name of ['alpha', 'beta']) await lxkitIn(s, 'stop', '-n', name, '-k');
    }
  });
});

test('the rows fit the terminal: the TOTAL line counts those shown of all', async () => {
  await withScratch(async (s) => {
    for (const name of ['c1', 'c2', 'c3']) {
      await busyboxIn(s, name);
      assert.is((await lxkitIn(s, 'start', '-n', name)).exitCode, 0);
    }
    // 5 rows: the two header lines and the TOTAL line leave room for two containers.
    const t = onTerminal(s, ['top', '-P', s.lxcpath, '-d', '0.2'], { rows: 5, cols: 160 });
    try {
      await t.waitFor(/TOTAL 2 of 3/);
    } finally {
      await t.kill();
      for (const name of ['c1', 'c2', 'c3']) await lxkitIn(s, 'stop', '-n', name, '-k');
    }
  });
});

/** What `argv` shows on a 20x160 terminal once `done` matches (python's pty; lxc-top wants one even with -b). */
async function onPty(argv: string[], done: RegExp): Promise<string> {
  const PTY = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';
  const proc = execa('python3', ['-c', PTY, 'sh', '-c', 'stty rows 20 cols 160 && exec "$0" "$@"', ...argv], { reject: false, env: { NODE_EXTRA_CA_CERTS: '' } });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await until(async () => (done.test(out) ? true : undefined), 15000, `${argv.join(' ')} to show ${done}`);
  } finally {
    try {
      process.kill(await lxkitPid(proc.pid!), 'SIGKILL');
    } catch {
      // gone already
    }
    proc.kill('SIGKILL');
    await proc;
  }
  return plain(out);
}

testIf(test, LXC_MISSING, "as lxc-top: the same screen for an lxcpath with nothing running, and batch mode's CSV header", async () => {
  await withTmpDir(async (dir) => {
    const total = /TOTAL 0 of 0[^\n]*\) +0\.00 {3}(?:\x1b|$)/;
    const screenOf = async (argv: string[]) => {
      const text = await onPty(argv, total);
      // From the first screen's header to its TOTAL line, which the next screen's header follows.
      const from = text.indexOf('Container');
      const next = text.indexOf('Container', text.indexOf('TOTAL', from));
      return text.slice(from, next < 0 ? undefined : next);
    };
    const lxc = await screenOf(['lxc-top', '-P', dir, '-d', '1']);
    const ours = await screenOf([process.execPath, LXKIT_BIN, 'top', '-P', dir, '-d', '1']);
    assert.is(ours, lxc);
    assert.match(ours, /^Container +CPU +CPU +CPU +BlkIO +Mem\nName +Used +Sys +User +Total\(Read\/Write\) +Used\nTOTAL 0 of 0 +0\.00 +0\.00 +0\.00 +0\.00 {3}\( {2}0\.00 {3}\/ {2}0\.00 {3}\) {4}0\.00 {3}$/);
    const header = async (argv: string[]) => (await onPty(argv, /kernel_mem_used_bytes\r?\n/)).split('\n').find((l) => l.startsWith('time_ms'));
    const lxcHeader = await header(['lxc-top', '-P', dir, '-b']);
    assert.is(lxcHeader, CSV_HEADER);
    assert.is(await header([process.execPath, LXKIT_BIN, 'top', '-P', dir, '-b']), lxcHeader);
  });
});

test('refusals: no terminal without -b, a sort key or delay that is not one, each named, with status 1', async () => {
  await withScratch(async (s) => {
    const cases: [string[], RegExp][] = [
      [['top', '-P', s.lxcpath], /lxkit top draws its screen on a terminal, and this is none: use -b/],
      [['top', '-P', s.lxcpath, '-b', '-s', 'x'], /-s x: sort by n \(name\), c \(CPU\)/],
      [['top', '-P', s.lxcpath, '-b', '-d', '0'], /"0" is not a number of seconds above 0/],
      [['top', '-P', s.lxcpath, '-b', '-d', 'soon'], /"soon" is not a number of seconds above 0/],
    ];
    for (const [args, message] of cases) {
      const r = await lxkit(args, { env: s.env, stdin: 'ignore' });
      assert.is(r.exitCode, 1, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

test.run();
