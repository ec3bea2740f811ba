/**
 * The seccomp plugin's cache of compiled programs: a new process finds a
 * program compiled by an earlier one on disk; an entry is used only when its
 * whole key (lxkit and libseccomp versions, architecture, policy text) matches,
 * so another policy, a damaged file or a foreign entry under the same name is
 * compiled afresh and replaced.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { withTmpDir } from '../lib/harness.js';

const cache = suite('seccomp program cache');

/** Compiles `policy` in a new Node process with the cache in `dir`: how it was found, and the program. */
async function compileIn(dir: string, policy: string): Promise<{ cached: string; program: string }> {
  const script = `
    const { compilePolicy, parsePolicy } = require('@lxkit/plugin-seccomp');
    const text = require('node:fs').readFileSync(process.argv[1], 'utf8');
    const r = compilePolicy(parsePolicy(text, process.argv[1]), text);
    process.stdout.write(JSON.stringify({ cached: String(r.cached), program: r.program.toString('hex') }));
  `;
  const r = await execa(process.execPath, ['-e', script, policy], { env: { LXKIT_CACHE_DIR: dir } });
  return JSON.parse(r.stdout) as { cached: string; program: string };
}

const entries = (dir: string) => readdirSync(join(dir, 'seccomp')).filter((f) => f.endsWith('.bpf'));

cache('a program compiled by one process is read from disk by the next; another policy text compiles afresh', async () => {
  await withTmpDir(async (dir) => {
    const policy = join(dir, 'p.seccomp');
    writeFileSync(policy, '2\ndenylist\nkexec_load errno 1\n');
    const first = await compileIn(dir, policy);
    assert.is(first.cached, 'false');
    assert.ok(first.program.length > 0 && (first.program.length / 2) % 8 === 0, 'whole BPF instructions');
    assert.is(entries(dir).length, 1);
    const entry = readFileSync(join(dir, 'seccomp', entries(dir)[0]!));
    assert.ok(entry.toString('latin1').startsWith('lxkit-bpf 1\n'), 'the entry names its format');
    assert.ok(entry.includes('kexec_load errno 1'), 'the entry holds its key, the policy text included');

    const second = await compileIn(dir, policy);
    assert.equal(second, { cached: 'disk', program: first.program });

    writeFileSync(policy, '2\ndenylist\nkexec_load errno 1\n# a comment is another text\n');
    const third = await compileIn(dir, policy);
    assert.is(third.cached, 'false');
    assert.is(entries(dir).length, 2);
  });
});

cache('an entry with another key under the same name, or a damaged one, is compiled afresh and replaced', async () => {
  await withTmpDir(async (dir) => {
    const policy = join(dir, 'p.seccomp');
    writeFileSync(policy, '2\ndenylist\nopen_by_handle_at errno 1\n');
    const first = await compileIn(dir, policy);
    const file = join(dir, 'seccomp', entries(dir)[0]!);
    const good = readFileSync(file);

    // Same file name, another key (as a name collision would leave it): not this policy's program.
    const key = 'lxkit 0\nlibseccomp 0\nx86_64\nsomething else';
    writeFileSync(file, Buffer.concat([Buffer.from(`lxkit-bpf 1\n${Buffer.byteLength(key)}\n${key}`), Buffer.alloc(8)]));
    const afterForeign = await compileIn(dir, policy);
    assert.equal(afterForeign, { cached: 'false', program: first.program });
    assert.ok(readFileSync(file).equals(good), 'the entry was replaced by this policy\'s');

    writeFileSync(file, good.subarray(0, good.length - 3));
    const afterDamage = await compileIn(dir, policy);
    assert.equal(afterDamage, { cached: 'false', program: first.program });
    assert.is((await compileIn(dir, policy)).cached, 'disk');
  });
});

cache.run();
