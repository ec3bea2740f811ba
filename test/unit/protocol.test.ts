/**
 * The wire records lxkit sends its helpers (core/src/start/protocol.ts; read
 * by native/src/common/proto.c): ints are signed 64-bit little-endian, strings
 * are length-prefixed UTF-8 with a NUL after each. The encoder writes numbers
 * without BigInt and strings straight into the frame; these cases pin the
 * layout down byte for byte and check that decoding gives back what went in.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRecord, encodeBatch, encodeRecord } from '../../core/src/start/protocol.js';

const proto = suite('helper protocol records');

proto('ints of every size and sign go out as signed 64-bit little-endian', () => {
  const ints = [0, 1, -1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 2 ** 40 + 5, -(2 ** 40) - 5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  const buf = encodeRecord({ ints, strs: [] });
  assert.is(buf.length, 4 + ints.length * 8 + 4);
  ints.forEach((i, k) => assert.is(buf.readBigInt64LE(4 + k * 8), BigInt(i), `int ${i}`));
  assert.equal(decodeRecord(buf).ints, ints);
});

proto('bigint ints (64-bit masks) are written as given', () => {
  const mask = (1n << 63n) | 0x1234n;
  const buf = encodeRecord({ ints: [mask - (1n << 64n)], strs: [] });
  assert.is(buf.readBigUInt64LE(4), mask);
});

proto('strings are length-prefixed UTF-8 with a NUL, buffers copied as they are', () => {
  const strs = ['', 'lxc.payload.ä', Buffer.from([0, 1, 2, 255])];
  const buf = encodeRecord({ ints: [7], strs });
  let at = 4 + 8;
  assert.is(buf.readUInt32LE(at), 3);
  at += 4;
  for (const s of strs) {
    const bytes = typeof s === 'string' ? Buffer.from(s) : s;
    assert.is(buf.readUInt32LE(at), bytes.length);
    assert.ok(buf.subarray(at + 4, at + 4 + bytes.length).equals(bytes));
    assert.is(buf[at + 4 + bytes.length], 0, 'NUL after each string');
    at += 4 + bytes.length + 1;
  }
  assert.is(at, buf.length, 'nothing after the last string');
  const back = decodeRecord(buf);
  assert.equal(back.ints, [7]);
  assert.equal(
    back.strs.map((b) => b.toString('hex')),
    strs.map((s) => (typeof s === 'string' ? Buffer.from(s) : s).toString('hex')),
  );
});

proto('a batch is a count, then a code and a record per op', () => {
  const ops = [
    { code: 3, ints: [0, 4096, -1], strs: ['proc', 'proc', 'proc', ''] },
    { code: 9, ints: [0], strs: [] },
  ];
  const buf = encodeBatch(ops);
  assert.is(buf.readUInt32LE(0), 2);
  let at = 4;
  for (const op of ops) {
    assert.is(buf.readUInt16LE(at), op.code);
    assert.is(buf.readUInt16LE(at + 2), 0);
    const size = encodeRecord(op).length;
    assert.ok(buf.subarray(at + 4, at + 4 + size).equals(encodeRecord(op)));
    assert.equal(decodeRecord(buf.subarray(at + 4, at + 4 + size)).ints, op.ints);
    at += 4 + size;
  }
  assert.is(at, buf.length);
});

proto.run();
