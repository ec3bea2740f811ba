/**
 * Configured command lines split into words without a shell, each key as LXC
 * splits it: hook lines as sh -c would (quoting, refused operators, variables),
 * lxc.execute.cmd with lxc-execute's quoted words, lxc.init.cmd at spaces.
 * test/e2e/lxc-compat.test.ts checks the last two against LXC itself.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isLxkitError, splitCommand, splitQuotedCommand, splitSpacedCommand } from '@lxkit/core';

const words = suite('command words');

words('hook lines: shell quotes group words; without an environment variables stay as written', () => {
  assert.equal(splitCommand(`/h --opt 'two words' "a b" $HOME f\\ g`, 'lxc.hook.mount'), ['/h', '--opt', 'two words', 'a b', '$HOME', 'f g']);
});

words('lxc.execute.cmd: a word that starts with a quote runs to the same quote; nothing else is special', () => {
  const split = (line: string): string[] => splitQuotedCommand(line, 'lxc.execute.cmd');
  assert.equal(split(`/p a 'b c' "d e" $HOME f\\ g`), ['/p', 'a', 'b c', 'd e', '$HOME', 'f\\', 'g']);
  // A quote inside a word is part of it; a closing quote ends the word; '' is an empty word.
  assert.equal(split(`/p a"b c" "x"y '' "a'b"\tz`), ['/p', 'a"b', 'c"', 'x', 'y', '', "a'b", 'z']);
  // A quoted word left open is dropped, as lxc-execute drops it.
  assert.equal(split(`/p x "open y`), ['/p', 'x']);
  // Shell operators are ordinary words: there is no shell in LXC's split either.
  assert.equal(split('/p a > b;c'), ['/p', 'a', '>', 'b;c']);
  assert.throws(() => split(' \t '), /lxc\.execute\.cmd: empty command/);
});

words('lxc.init.cmd: words at spaces only', () => {
  const split = (line: string): string[] => splitSpacedCommand(line, 'lxc.init.cmd');
  assert.equal(split(`/sbin/init  'a b' "c"\td\\ e `), ['/sbin/init', "'a", "b'", '"c"\td\\', 'e']);
  assert.throws(() => split('   '), /lxc\.init\.cmd: empty command/);
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
  assert.throws(() => splitCommand('   ', 'lxc.hook.mount', {}), /lxc\.hook\.mount: empty command/);
});

words.run();
