/**
 * The seccomp plugin's cache of compiled programs: a new process finds a
 * program compiled by an earlier one on disk; an entry is used only when its
 * whole key (lxkit's version, architecture, policy text) matches and the
 * compiler that made it (the addon and libseccomp, told by their files) is
 * unchanged, so another policy, another libseccomp, a damaged file or a
 * foreign entry under the same name is compiled afresh and replaced. A hit
 * loads no compiler at all.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { withTmpDir } from '../lib/harness.js';

const cache = suite('seccomp program cache');

/** Compiles `policy` in a new Node process with the cache in `dir`: how it was found, and the program. */
async function compileIn(dir: string, policy: string): Promise<{ cached: string; program: string; loaded: boolean }> {
  const script = `
    const { compilePolicy, parsePolicy } = require('@lxkit/plugin-seccomp');
    const fs = require('node:fs');
    const text = fs.readFileSync(process.argv[1], 'utf8');
    const r = compilePolicy(parsePolicy(text, process.argv[1]), text);
    const loaded = fs.readFileSync('/proc/self/maps', 'utf8').includes('/libseccomp.so');
    process.stdout.write(JSON.stringify({ cached: String(r.cached), program: r.program.toString('hex'), loaded }));
  `;
  const r = await execa(process.execPath, ['-e', script, policy], { env: { LXKIT_CACHE_DIR: dir } });
  return JSON.parse(r.stdout) as { cached: string; program: string; loaded: boolean };
}

/** An entry's parts (the format of plugins/seccomp/src/compile.ts): key, the compiler's files, program. */
function parseEntry(data: Buffer): { key: string; files: string; program: Buffer } {
  const magic = 'lxkit-bpf 2\n';
  assert.is(data.toString('latin1', 0, magic.length), magic, 'the entry names its format');
  let at = magic.length;
  const field = () => {
    const nl = data.indexOf(10, at);
    const len = Number(data.toString('latin1', at, nl));
    const text = data.toString('utf8', nl + 1, nl + 1 + len);
    at = nl + 1 + len;
    return text;
  };
  const key = field();
  const files = field();
  return { key, files, program: data.subarray(at) };
}

function makeEntry(key: string, files: string, program: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`lxkit-bpf 2\n${Buffer.byteLength(key)}\n${key}${Buffer.byteLength(files)}\n${files}`), program]);
}

const entries = (dir: string) => readdirSync(join(dir, 'seccomp')).filter((f) => f.endsWith('.bpf'));

cache('a program compiled by one process is read from disk by the next; another policy text compiles afresh', async () => {
  await withTmpDir(async (dir) => {
    const policy = join(dir, 'p.seccomp');
    writeFileSync(policy, '2\ndenylist\nkexec_load errno 1\n');
    const first = await compileIn(dir, policy);
    assert.equal([first.cached, first.loaded], ['false', true]);
    assert.ok(first.program.length > 0 && (first.program.length / 2) % 8 === 0, 'whole BPF instructions');
    assert.is(entries(dir).length, 1);
    const entry = parseEntry(readFileSync(join(dir, 'seccomp', entries(dir)[0]!)));
    assert.ok(entry.key.includes('kexec_load errno 1'), 'the entry holds its key, the policy text included');
    assert.match(entry.files, /lxkit_seccomp\.node\0.*\n\/.*\/libseccomp\.so[^\n]*\0.*\nlibseccomp \d/, 'and the compiler\'s files, stamped');

    const second = await compileIn(dir, policy);
    assert.equal(second, { cached: 'disk', program: first.program, loaded: false }, 'a hit loads no compiler (no libseccomp in the process)');

    writeFileSync(policy, '2\ndenylist\nkexec_load errno 1\n# a comment is another text\n');
    const third = await compileIn(dir, policy);
    assert.is(third.cached, 'false');
    assert.is(entries(dir).length, 2);
  });
});

cache('an entry with another key under the same name, one made by another libseccomp, or a damaged one is compiled afresh and replaced', async () => {
  await withTmpDir(async (dir) => {
    const policy = join(dir, 'p.seccomp');
    writeFileSync(policy, '2\ndenylist\nopen_by_handle_at errno 1\n');
    const first = await compileIn(dir, policy);
    const file = join(dir, 'seccomp', entries(dir)[0]!);
    const good = readFileSync(file);

    const { key, files } = parseEntry(good);
    // Same file name, another key (as a name collision would leave it): not this policy's program.
    writeFileSync(file, makeEntry('lxkit 0\nx86_64\n\nsomething else', files, Buffer.alloc(8)));
    const afterForeign = await compileIn(dir, policy);
    assert.equal(afterForeign, { cached: 'false', program: first.program, loaded: true });
    assert.ok(readFileSync(file).equals(good), 'the entry was replaced by this policy\'s');

    // This policy's key, made by another libseccomp (its file was another inode): compiled again.
    const otherLib = files.replace(/(libseccomp\.so[^\n]*\0\d+:)(\d+)/, (_, head: string, ino: string) => `${head}${BigInt(ino) + 1n}`);
    assert.is.not(otherLib, files);
    writeFileSync(file, makeEntry(key, otherLib, Buffer.alloc(8)));
    const afterUpgrade = await compileIn(dir, policy);
    assert.equal(afterUpgrade, { cached: 'false', program: first.program, loaded: true });
    assert.ok(readFileSync(file).equals(good));

    writeFileSync(file, good.subarray(0, good.length - 3));
    const afterDamage = await compileIn(dir, policy);
    assert.equal(afterDamage, { cached: 'false', program: first.program, loaded: true });
    assert.is((await compileIn(dir, policy)).cached, 'disk');
  });
});

cache.run();
