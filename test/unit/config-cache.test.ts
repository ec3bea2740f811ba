/** A runtime keeps validated configs while the files they were read from are unchanged. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadContainerConfig } from '@lxkit/core';
import { runtimeWith } from '../lib/config.js';
import { withTmpDir } from '../lib/harness.js';

const cache = suite('config cache');

/** Files changed within the last 20 ms are not cached (they could change again unnoticed within one clock tick): let them settle. */
const settle = () => sleep(40);

cache('a second load of unchanged files is the same object; each change to a file or an included directory is seen', async () => {
  await withTmpDir(async (dir) => {
    await mkdir(join(dir, 'conf.d'));
    await writeFile(join(dir, 'conf.d', '10-a.conf'), 'lxc.environment = A=1\n');
    await writeFile(join(dir, 'config'), 'lxc.uts.name = c1\nlxc.include = conf.d/\nlxc.include = extra/\n');
    await settle();
    const runtime = await runtimeWith();
    const path = join(dir, 'config');
    const first = await loadContainerConfig(runtime, { path });
    assert.ok((await loadContainerConfig(runtime, { path })) === first, 'served from the cache');
    assert.ok((await loadContainerConfig(runtime, { path, defines: [['lxc.tty.max', '3']] })) !== first, 'defines are part of the key');

    await writeFile(join(dir, 'config'), 'lxc.uts.name = c2\nlxc.include = conf.d/\nlxc.include = extra/\n');
    await settle();
    const edited = await loadContainerConfig(runtime, { path });
    assert.is(edited.model.utsName, 'c2', 'the main file changed');

    await writeFile(join(dir, 'conf.d', '10-a.conf'), 'lxc.environment = A=2\n');
    await settle();
    assert.equal((await loadContainerConfig(runtime, { path })).getAll('lxc.environment'), ['A=2'], 'an included file changed');

    await writeFile(join(dir, 'conf.d', '20-b.conf'), 'lxc.environment = B=1\n');
    await settle();
    assert.equal((await loadContainerConfig(runtime, { path })).getAll('lxc.environment'), ['A=2', 'B=1'], 'a file appeared in an included directory');

    await mkdir(join(dir, 'extra'));
    await writeFile(join(dir, 'extra', 'x.conf'), 'lxc.environment = X=1\n');
    await settle();
    assert.equal((await loadContainerConfig(runtime, { path })).getAll('lxc.environment'), ['A=2', 'B=1', 'X=1'], 'a missing included directory appeared');

    await rm(join(dir, 'conf.d', '20-b.conf'));
    await settle();
    assert.equal((await loadContainerConfig(runtime, { path })).getAll('lxc.environment'), ['A=2', 'X=1'], 'a file went away');
  });
});

cache('a file written a moment ago is read again each time, and an invalid config is never kept', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'config');
    const runtime = await runtimeWith();
    await writeFile(path, 'lxc.uts.name = fresh\n');
    const a = await loadContainerConfig(runtime, { path });
    const b = await loadContainerConfig(runtime, { path });
    assert.ok(a !== b, 'a just-written file could change again within the same clock tick unnoticed');

    await writeFile(path, 'lxc.tty.max = -1\n');
    await settle();
    for (let i = 0; i < 2; i++) {
      try {
        await loadContainerConfig(runtime, { path });
        assert.unreachable('invalid');
      } catch (err) {
        assert.is((err as { code?: string }).code, 'LXKIT_CONFIG_INVALID');
      }
    }
  });
});

cache.run();
