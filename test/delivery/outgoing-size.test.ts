import { describe, expect, it } from 'vitest';
import { outgoingSize } from '../../src/delivery/engine.js';
import { isE2eMethod } from '../../src/policy/decide.js';

describe('outgoingSize: the SIZE declared for what a job sends', () => {
  it.each<[string, { size: number | null } | undefined, string | null, number]>([
    ['the message as spooled', undefined, null, 1000],
    ['an end-to-end copy: its own size', { size: 1370 }, null, 1370],
    ['an end-to-end copy wins over the rewrite', { size: 1370 }, JSON.stringify({ stripSubjectTag: false, addHeaders: { 'X-Class': 'phi' } }), 1370],
    ['pass-through (no copy size): the message and the added fields', { size: null }, JSON.stringify({ stripSubjectTag: true, addHeaders: { 'X-Class': 'phi' } }), 1000 + 'X-Class: phi\r\n'.length],
    ['added header fields count', undefined, JSON.stringify({ stripSubjectTag: false, addHeaders: { 'X-A': '1', 'X-Bb': '22' } }), 1000 + 'X-A: 1\r\n'.length + 'X-Bb: 22\r\n'.length],
  ])('%s', (_name, e2e, rewrite, size) => {
    expect(outgoingSize({ e2e }, { size: 1000, rewrite })).toBe(size);
  });

  it.each([
    ['pgp', true],
    ['smime', true],
    ['portal', false],
    ['tls-verified', false],
    [null, false],
  ] as const)('isE2eMethod(%s) = %s', (method, expected) => {
    expect(isE2eMethod(method)).toBe(expected);
  });
});
