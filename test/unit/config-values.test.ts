import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigValueError,
  parseBool01,
  parseByteSize,
  parseCidr,
  parseIdMap,
  parseLogLevel,
  parseMountEntry,
  parsePrlimit,
  parseSignal,
  parseTimeOffset,
  parseUint,
  signalName,
} from '@lxkit/core';

const values = suite('config values');

const rejects = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ConfigValueError && re.test(e.message));

values('signals: names with SIG (any case), numbers, real-time offsets; LXC rejects names without SIG', () => {
  assert.is(parseSignal('SIGPWR'), 30);
  assert.is(parseSignal('sigterm'), 15);
  assert.is(parseSignal('9'), 9);
  assert.is(parseSignal('SIGRTMIN'), 34);
  assert.is(parseSignal('SIGRTMIN+3'), 37);
  assert.is(parseSignal('SIGRTMAX-1'), 63);
  rejects(() => parseSignal('PWR'), /not a signal/);
  rejects(() => parseSignal('SIGNOPE'), /unknown signal/);
  rejects(() => parseSignal('0'), /out of range/);
  rejects(() => parseSignal('65'), /out of range/);
  rejects(() => parseSignal('SIGRTMAX+1'), /outside/);
  assert.is(signalName(30), 'SIGPWR');
  assert.is(signalName(36), 'SIGRTMIN+2');
});

values('numbers, booleans, sizes, log levels', () => {
  assert.is(parseUint('42'), 42);
  rejects(() => parseUint('-1'), /non-negative/);
  rejects(() => parseUint('1x'), /non-negative/);
  assert.is(parseBool01('1'), true);
  rejects(() => parseBool01('yes'), /0 or 1/);
  assert.is(parseByteSize('64kB'), 65536);
  assert.is(parseByteSize('2MB'), 2 * 1024 * 1024);
  assert.is(parseByteSize('4096'), 4096);
  rejects(() => parseByteSize('lots'), /size/);
  assert.is(parseLogLevel('3'), 'NOTICE');
  assert.is(parseLogLevel('warning'), 'WARN');
  assert.is(parseLogLevel('Debug'), 'DEBUG');
  rejects(() => parseLogLevel('9'), /unknown log level/);
});

values('addresses', () => {
  assert.equal(parseCidr('10.0.3.2/24', 4), { address: '10.0.3.2', prefix: 24 });
  assert.equal(parseCidr('10.0.3.2', 4), { address: '10.0.3.2' });
  assert.equal(parseCidr('2001:db8::1/64', 6), { address: '2001:db8::1', prefix: 64 });
  rejects(() => parseCidr('10.0.3.256/24', 4), /IPv4/);
  rejects(() => parseCidr('10.0.3.2/33', 4), /prefix/);
  rejects(() => parseCidr('10.0.3.2', 4, { prefixRequired: true }), /needs a \/prefix/);
  rejects(() => parseCidr('2001:db8::1::2', 6), /IPv6/);
});

values('id maps as parse_idmaps reads them', () => {
  assert.equal(parseIdMap('u 0 100000 65536'), { type: 'u', nsid: 0, hostid: 100000, range: 65536 });
  assert.equal(parseIdMap('  g\t0 100000 65536 '), { type: 'g', nsid: 0, hostid: 100000, range: 65536 });
  rejects(() => parseIdMap('u 0 x 1'), /hostid "x" is not a number/);
  rejects(() => parseIdMap('b 0 1 1'), /must be u or g/);
  rejects(() => parseIdMap('u 0 1'), /missing range/);
  rejects(() => parseIdMap('u 0 1 0'), /at least 1/);
  rejects(() => parseIdMap('u 0 1 1 1'), /too many/);
  rejects(() => parseIdMap('u 0 4294967295 2'), /runs past/);
});

values('mount entries split like getmntent, with LXC options', () => {
  const e = parseMountEntry('/sys/fs/fuse/connections sys/fs/fuse/connections none bind,optional 0 0', { file: 'f', line: 3 });
  assert.is(e.source, '/sys/fs/fuse/connections');
  assert.is(e.target, 'sys/fs/fuse/connections');
  assert.is(e.fstype, 'none');
  assert.equal(e.options, ['bind', 'optional']);
  assert.is(e.optional, true);
  assert.is(e.relative, false);
  assert.equal(e.origin, { file: 'f', line: 3 });
  const c = parseMountEntry('shm dev/shm tmpfs defaults,create=dir', { file: 'f', line: 1 });
  assert.is(c.create, 'dir');
  assert.is(c.dump, 0);
  const esc = parseMountEntry('/a\\040b mnt/x none bind', { file: 'f', line: 1 });
  assert.is(esc.source, '/a b', 'octal escapes decoded');
  rejects(() => parseMountEntry('/a b', { file: 'f', line: 1 }), /source target fstype/);
  rejects(() => parseMountEntry('a b c d,create=link', { file: 'f', line: 1 }), /create=dir or create=file/);
  rejects(() => parseMountEntry('a b c d x 0', { file: 'f', line: 1 }), /dump/);
});

values('prlimits and time offsets', () => {
  assert.equal(parsePrlimit('1024'), { soft: 1024, hard: 1024 });
  assert.equal(parsePrlimit('1024:4096'), { soft: 1024, hard: 4096 });
  assert.equal(parsePrlimit('unlimited'), { soft: 'unlimited', hard: 'unlimited' });
  assert.equal(parsePrlimit('10:unlimited'), { soft: 10, hard: 'unlimited' });
  rejects(() => parsePrlimit('20:10'), /above hard/);
  rejects(() => parsePrlimit('lots'), /not a limit/);
  assert.equal(parseTimeOffset('5s'), { seconds: 5, nanoseconds: 0 });
  assert.equal(parseTimeOffset('-2h'), { seconds: -7200, nanoseconds: 0 });
  assert.equal(parseTimeOffset('1500ms'), { seconds: 1, nanoseconds: 500_000_000 });
  rejects(() => parseTimeOffset('5'), /time offset/);
});

values.run();
