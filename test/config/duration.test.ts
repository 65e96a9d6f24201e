import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it.each<[string | number, number | undefined]>([
    [1500, 1500],
    [0, 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['4h', 14_400_000],
    ['5d', 432_000_000],
    [' 10 s ', 10_000],
    ['5', undefined],
    ['5w', undefined],
    ['-5m', undefined],
    ['', undefined],
    [-1, undefined],
    [1.5, undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});
