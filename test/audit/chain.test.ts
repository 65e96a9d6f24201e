import { describe, expect, it } from 'vitest';
import { canonicalJson, chainedHash, eventHash, GENESIS_HASH } from '../../src/audit/chain.js';

describe('canonicalJson', () => {
  const shared = { a: 1 };
  it.each<[string, unknown, string]>([
    ['null', null, 'null'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['zero', 0, '0'],
    ['negative zero', -0, '0'],
    ['integer', 1700000000000, '1700000000000'],
    ['negative', -42, '-42'],
    ['fraction', 1.5, '1.5'],
    ['large exponent', 1e21, '1e+21'],
    ['small exponent', 1e-7, '1e-7'],
    ['empty string', '', '""'],
    ['quote, backslash, newline', 'a"b\\c\n', '"a\\"b\\\\c\\n"'],
    ['control character', '\u0001\u001f', '"\\u0001\\u001f"'],
    ['non-ASCII kept as is', 'café ✓ 😀', '"café ✓ 😀"'],
    ['U+2028 kept as is', '\u2028', '"\u2028"'],
    ['slash not escaped', 'a/b', '"a/b"'],
    ['lone surrogate escaped', '\ud800', '"\\ud800"'],
    ['empty array', [], '[]'],
    ['empty object', {}, '{}'],
    ['array order kept', [3, 1, 2], '[3,1,2]'],
    ['keys sorted', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['nested keys sorted', { z: { y: 1, x: [{ b: 1, a: 2 }] }, a: null }, '{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}'],
    ['upper case before lower case', { b: 1, a: 2, B: 3, A: 4 }, '{"A":4,"B":3,"a":2,"b":1}'],
    ['integer-like keys sort as strings', { 9: 'x', 10: 'y', a: 'z' }, '{"10":"y","9":"x","a":"z"}'],
    ['keys sorted by UTF-16 code units, not code points', { '\ufb01': 1, '\u{1f600}': 2, é: 3 }, '{"é":3,"😀":2,"ﬁ":1}'],
    ['prefix key first', { ab: 1, a: 2 }, '{"a":2,"ab":1}'],
    ['null-prototype object', Object.assign(Object.create(null) as object, { b: 2, a: 1 }), '{"a":1,"b":2}'],
    ['shared (non-cyclic) reference', { x: shared, y: shared }, '{"x":{"a":1},"y":{"a":1}}'],
    ['__proto__ as an own key', JSON.parse('{"__proto__":1,"a":2}') as unknown, '{"__proto__":1,"a":2}'],
    [
      // RFC 8785 section 3.2.2/3.2.3 example
      'RFC 8785 example',
      JSON.parse(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
      ) as unknown,
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    ],
  ])('%s', (_name, input, expected) => {
    expect(canonicalJson(input)).toBe(expected);
    // canonical output is valid JSON and a fixed point
    expect(canonicalJson(JSON.parse(expected))).toBe(expected);
  });

  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [];
  cyclicArray.push(cyclicArray);

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['undefined property', { a: undefined }],
    ['undefined element', [1, undefined]],
    ['sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['function', () => 1],
    ['function property', { f: () => 1 }],
    ['NaN', NaN],
    ['NaN nested', { n: [NaN] }],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['bigint', 1n],
    ['symbol', Symbol('x')],
    ['Date', new Date(0)],
    ['Buffer', Buffer.from('x')],
    ['Map', new Map()],
    ['class instance', new (class Foo {})()],
    ['cyclic object', cyclic],
    ['cyclic array', cyclicArray],
  ])('rejects %s', (_name, input) => {
    expect(() => canonicalJson(input)).toThrow(TypeError);
  });

  // the error names where the value sits (the path is made only when there is an error)
  it.each<[string, unknown, string]>([
    ['top level', NaN, 'NaN at $ '],
    ['nested in arrays and objects', { a: [1, { b: [undefined] }] }, 'undefined at $.a[1].b[0] '],
    ['a hole', { list: [1, , 3] }, 'hole at $.list[1]'], // eslint-disable-line no-sparse-arrays
    ['a cycle', cyclic, 'cycle at $.self'],
    ['a non-plain object after a sibling', { a: 1, z: { d: new Date(0) } }, 'non-plain object at $.z.d'],
  ])('says where: %s', (_name, input, where) => {
    expect(() => canonicalJson(input)).toThrow(where);
  });
});

describe('eventHash', () => {
  const event = { seq: 1, ts: 1700000000000, type: 'users:added', data: { user: 'alice' } };

  it('GENESIS_HASH is 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });

  it('matches vectors computed independently with printf | sha256sum', () => {
    // printf '%s\n%s' 000…000 '{"data":{"user":"alice"},"seq":1,"ts":1700000000000,"type":"users:added"}' | sha256sum
    const first = eventHash(GENESIS_HASH, event);
    expect(first).toBe('a422552611f02fd285c1020f9911e72a9bb5efffef116ba2096ea2793f55032f');
    // second link, with non-ASCII data (hashed as UTF-8) and keys given out of order
    const second = eventHash(first, {
      type: 'ingress:message_accepted',
      ts: 1700000000001,
      seq: 2,
      data: { size: 1234, sessionId: 's1', sender: 'alice@example.com', recipients: ['bob@example.net', 'café@example.org'], queueId: 'Q1', connector: 'loopback' },
    });
    expect(second).toBe('f0480bdf9bd2be2da9900a81c07613ae4af6a504cd83a6bfc4643ea54f221578');
  });

  it('does not depend on key order in data', () => {
    const a = eventHash(GENESIS_HASH, { ...event, data: { b: 1, a: [{ y: 1, x: 2 }] } });
    const b = eventHash(GENESIS_HASH, { ...event, data: { a: [{ x: 2, y: 1 }], b: 1 } });
    expect(a).toBe(b);
  });

  it.each<[string, string, typeof event]>([
    ['prev hash', '1'.repeat(64), event],
    ['seq', GENESIS_HASH, { ...event, seq: 2 }],
    ['ts', GENESIS_HASH, { ...event, ts: event.ts + 1 }],
    ['type', GENESIS_HASH, { ...event, type: 'users:removed' }],
    ['data', GENESIS_HASH, { ...event, data: { user: 'alicf' } }],
  ])('changes when the %s changes', (_name, prev, changed) => {
    const h = eventHash(prev, changed);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toBe(eventHash(GENESIS_HASH, event));
  });

  // chainedHash: the same hash from the data's canonical text, as the chain's writer and verifier hold it
  it.each<[string, string, typeof event]>([
    ['the first vector', GENESIS_HASH, event],
    ['non-ASCII data, keys out of order', '1'.repeat(64), { seq: 2, ts: 1700000000001, type: 'ingress:message_accepted', data: { size: 1234, recipients: ['café@example.org'], a: { y: 1, x: null } } as never }],
    ['empty data', GENESIS_HASH, { seq: 9007199254740991, ts: 0, type: 'x', data: {} as never }],
    ['a type that needs escaping', GENESIS_HASH, { ...event, type: 'a"b\\c' }],
  ])('chainedHash equals eventHash: %s', (_name, prev, e) => {
    expect(chainedHash(prev, e.seq, e.ts, e.type, canonicalJson(e.data))).toBe(eventHash(prev, e));
  });

  it('rejects data that is not canonicalizable', () => {
    expect(() => eventHash(GENESIS_HASH, { ...event, data: { n: NaN } })).toThrow(TypeError);
  });
});
