import { describe, expect, it } from 'vitest';
import { OrderedSpans, OverlapIndex, type Span } from '../../src/inspect/detect/spans.js';

const overlapsAny = (spans: readonly Span[], index: number, length: number): boolean => spans.some((t) => index < t.index + t.length && t.index < index + length);

describe('OverlapIndex: whether a span overlaps any of the given ones', () => {
  const spans: Span[] = [
    { index: 30, length: 5 },
    { index: 0, length: 3 },
    { index: 10, length: 40 },
    { index: 12, length: 2 },
    { index: 60, length: 0 },
    { index: 70, length: 4 },
  ];
  const index = new OverlapIndex(spans);
  it.each<[number, number]>([
    [3, 2],
    [2, 1],
    [50, 5],
    [49, 1],
    [55, 10],
    [59, 2],
    [60, 0],
    [61, 0],
    [74, 3],
    [73, 3],
    [0, 0],
    [1, 0],
    [100, 5],
  ])('span at %i of %i characters, as the linear search says', (at, length) => {
    expect(index.overlaps(at, length)).toBe(overlapsAny(spans, at, length));
  });
  it('no spans: nothing overlaps', () => {
    expect(new OverlapIndex([]).overlaps(0, 10)).toBe(false);
  });
});

describe('OrderedSpans: the first span starting or ending in a range that passes a test', () => {
  const spans: Span[] = [
    { index: 0, length: 5 },
    { index: 10, length: 5 },
    { index: 20, length: 10 },
    { index: 40, length: 2 },
  ];
  const ordered = new OrderedSpans(spans);
  const odd = (s: Span): boolean => s.index !== 10;
  it.each<[number, number]>([
    [0, 100],
    [1, 19],
    [5, 10],
    [11, 39],
    [41, 50],
  ])('starting in [%i, %i], as find says', (from, to) => {
    expect(ordered.firstStartingIn(from, to, odd)).toBe(spans.find((s) => s.index >= from && s.index <= to && odd(s)));
  });
  it.each<[number, number]>([
    [0, 100],
    [5, 14],
    [6, 15],
    [16, 41],
    [43, 50],
  ])('ending in [%i, %i], as find says', (from, to) => {
    expect(ordered.firstEndingIn(from, to, odd)).toBe(spans.find((s) => s.index + s.length >= from && s.index + s.length <= to && odd(s)));
  });
});
