import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem, loadContainerConfig, validateContainerConfig, isLxkitError } from '@lxkit/core';
import { runtimeWith } from '../lib/config.js';
import { withTmpDir } from '../lib/harness.js';

const include = suite('lxc.include');

include('files and directories are read in place, *.conf in name order, relative to the including file', async () => {
  await withTmpDir(async (dir) => {
    await mkdir(join(dir, 'conf.d'));
    await writeFile(join(dir, 'conf.d', '20-b.conf'), 'lxc.environment = B=2\n');
    await writeFile(join(dir, 'conf.d', '10-a.conf'), 'lxc.environment = A=1\n');
    await writeFile(join(dir, 'conf.d', 'ignored.txt'), 'lxc.environment = NO=1\n');
    await writeFile(join(dir, 'common.conf'), 'lxc.tty.max = 4\nlxc.include = conf.d/\n');
    await writeFile(join(dir, 'config'), 'lxc.uts.name = c1\nlxc.include = common.conf\nlxc.environment = C=3\n');
    const runtime = await runtimeWith();
    const config = await loadContainerConfig(runtime, { path: join(dir, 'config') });
    assert.equal(config.model.environment.map((e) => e.name), ['A', 'B', 'C']);
    assert.is(config.model.tty.max, 4);
    assert.equal(config.includes, [join(dir, 'common.conf'), join(dir, 'conf.d/10-a.conf'), join(dir, 'conf.d/20-b.conf')]);
    const fromInclude = config.entries.find((e) => e.key === 'lxc.tty.max')!;
    assert.equal([fromInclude.file, fromInclude.line, fromInclude.fromInclude], [join(dir, 'common.conf'), 1, true]);
    assert.is(config.document.toString(), 'lxc.uts.name = c1\nlxc.include = common.conf\nlxc.environment = C=3\n', 'the main document keeps the include line');
    assert.is(config.get('lxc.tty.max'), '4');
    assert.equal(config.getAll('lxc.environment'), ['A=1', 'B=2', 'C=3']);
  });
});

include('a missing directory (trailing /) is fine as in LXC; a missing file, a loop and bad lines in includes are problems', async () => {
  await withTmpDir(async (dir) => {
    await writeFile(join(dir, 'loop.conf'), 'lxc.include = config\n');
    await writeFile(join(dir, 'bad.conf'), '# comment\nlxc.tty.max = many\n');
    await writeFile(
      join(dir, 'config'),
      ['lxc.include = /nonexistent-lxkit-dir/', 'lxc.include = missing.conf', 'lxc.include = loop.conf', 'lxc.include = bad.conf'].join('\n'),
    );
    const runtime = await runtimeWith();
    const { problems } = await validateContainerConfig(runtime, { path: join(dir, 'config') });
    assert.equal(problems.map(formatProblem), [
      `${join(dir, 'config')}:2: lxc.include: cannot read "${join(dir, 'missing.conf')}": ENOENT`,
      `${join(dir, 'loop.conf')}:1: lxc.include: "${join(dir, 'config')}" includes itself (through ${join(dir, 'config')} -> ${join(dir, 'loop.conf')})`,
      `${join(dir, 'bad.conf')}:2: lxc.tty.max: expected a number of ttys, got "many"`,
    ]);
    try {
      await loadContainerConfig(runtime, { path: join(dir, 'config') });
      assert.unreachable('an invalid config must not load');
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONFIG_INVALID'));
      assert.is(err.file, join(dir, 'config'));
      assert.is(err.line, 2);
      assert.match(err.message, /bad\.conf:2: lxc\.tty\.max/);
      assert.match(err.message, /loop\.conf:1: lxc\.include/);
    }
  });
});

include('a config file that cannot be read is LXKIT_CONFIG_READ with Node-style fields', async () => {
  const runtime = await runtimeWith();
  try {
    await loadContainerConfig(runtime, { path: '/nonexistent-lxkit/config' });
    assert.unreachable();
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_CONFIG_READ'));
    assert.is(err.path, '/nonexistent-lxkit/config');
    assert.is(err.syscall, 'open');
    assert.is(err.errno, -2);
    assert.match(err.message, /cannot read container config \/nonexistent-lxkit\/config: ENOENT/);
  }
});

include.run();
