/** The library API (Container), as a program embedding lxkit uses it. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, createRuntime, isLxkitError } from '@lxkit/core';
import { withScratch } from '../lib/harness.js';

const lib = suite('library API');

lib('create, config items, execute, state and destroy through Container', async () => {
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    const c = new Container('app', { lxcpath: s.lxcpath, runtime });
    assert.is(await c.defined(), false);
    await c.create({ template: 'busybox', templateArgs: ['--privileged'] });
    assert.is(await c.defined(), true);
    assert.is(await c.state(), 'STOPPED');

    assert.is(await c.getConfigItem('lxc.uts.name'), 'app');
    assert.equal(await c.getConfigItem('lxc.mount.entry'), [
      'shm dev/shm tmpfs defaults,create=dir 0 0',
      'mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0',
    ]);
    await c.setConfigItem('lxc.uts.name', 'renamed');
    await c.setConfigItem('lxc.environment', 'MODE=test');
    try {
      await c.setConfigItem('lxc.tty.max', '-1');
      assert.unreachable('an invalid value is refused');
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONFIG_INVALID'));
    }
    const before = await readFile(join(s.lxcpath, 'app/config'), 'utf8');
    await c.saveConfig();
    const after = await readFile(join(s.lxcpath, 'app/config'), 'utf8');
    assert.is(after, before.replace('lxc.uts.name = app', 'lxc.uts.name = renamed') + 'lxc.environment = MODE=test\n', 'only the edited lines changed');

    const exit = await c.execute(['/bin/sh', '-c', 'test "$(hostname)" = renamed && test "$MODE" = test && exit 5']);
    assert.equal(exit, { code: 5, signal: 0 });
    const run = await c.start({ command: ['/bin/true'], console: false });
    assert.equal(run.exit, { code: 0, signal: 0 });
    assert.is(await c.state(), 'STOPPED');
    assert.is(await c.initPid(), undefined);

    await c.destroy();
    assert.is(await c.defined(), false);
    try {
      await c.destroy();
      assert.unreachable();
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONTAINER_NOT_FOUND'));
    }
  });
});

lib('one runtime runs many containers one after the other', async () => {
  await withScratch(async (s) => {
    const runtime = await createRuntime();
    for (let i = 0; i < 10; i++) {
      const exit = await new Container(`c${i}`, { lxcpath: s.lxcpath, runtime }).execute(['/bin/sh', '-c', `exit ${i}`]);
      assert.is(exit.code, i);
    }
  });
});

lib.run();
