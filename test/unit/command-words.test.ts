/** Configured command lines split into words without a shell: quoting, refused operators, hook variables expanded as sh would. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isLxkitError, splitCommand } from '@lxkit/core';

const words = suite('command words');

words('quotes group words; without an environment variables stay as written (lxc.init.cmd)', () => {
  assert.equal(splitCommand(`/sbin/init --opt 'two words' "a b" $HOME`, 'lxc.init.cmd'), ['/sbin/init', '--opt', 'two words', 'a b', '$HOME']);
});

words('with an environment (hook scripts), as sh -c expands: bare and double-quoted, not single-quoted', () => {
  const env = { LXC_NAME: 'c1', LXC_ROOTFS_PATH: '/srv/c1/rootfs', EMPTY: '' };
  assert.equal(
    splitCommand(`/h $LXC_NAME \${LXC_ROOTFS_PATH}/etc "$LXC_NAME x" '$LXC_NAME' \\$LXC_NAME`, 'lxc.hook.mount', env),
    ['/h', 'c1', '/srv/c1/rootfs/etc', 'c1 x', '$LXC_NAME', '$LXC_NAME'],
  );
  // A bare variable that is unset or empty leaves no word; a quoted one leaves an empty word.
  assert.equal(splitCommand('/h $NOPE ${EMPTY} "$NOPE" a$NOPE b${NOPE}c', 'lxc.hook.mount', env), ['/h', '', 'a', 'bc']);
});

words('shell operators are refused with the key and the line; an empty command too', () => {
  for (const line of ['/h a; rm x', '/h > /tmp/out', '/h *.conf']) {
    try {
      splitCommand(line, 'lxc.hook.pre-start', {});
      assert.unreachable(line);
    } catch (err) {
      assert.ok(isLxkitError(err) && err.code === 'LXKIT_CONFIG_INVALID', String(err));
      assert.match((err as Error).message, `lxc.hook.pre-start = ${line}: "`);
      assert.match((err as Error).message, /needs a shell/);
    }
  }
  assert.throws(() => splitCommand('   ', 'lxc.init.cmd'), /lxc\.init\.cmd: empty command/);
});

words.run();
