import { describe, expect, it } from 'vitest';
import { firstStartingFrom, lowerBound } from '../../src/inspect/detect/spans.js';

describe('lowerBound', () => {
  it.each([
    { sorted: [], at: 5, want: 0 },
    { sorted: [3], at: 2, want: 0 },
    { sorted: [3], at: 3, want: 0 },
    { sorted: [3], at: 4, want: 1 },
    { sorted: [1, 4, 4, 9], at: 4, want: 1 },
    { sorted: [1, 4, 4, 9], at: 5, want: 3 },
    { sorted: [1, 4, 4, 9], at: 0, want: 0 },
    { sorted: [1, 4, 4, 9], at: 10, want: 4 },
  ])('$sorted at $at → $want', ({ sorted, at, want }) => {
    expect(lowerBound(sorted, at)).toBe(want);
  });
});

describe('firstStartingFrom: lowerBound over the spans\' starts', () => {
  it.each([[], [3], [1, 4, 4, 9], [0, 0, 2], [5, 6, 7, 8, 9, 10, 11]])('%j', (...starts) => {
    const spans = starts.map((index) => ({ index, length: 2 }));
    for (let at = -1; at <= 12; at++) expect([at, firstStartingFrom(spans, at)]).toEqual([at, lowerBound(starts, at)]);
  });
});
