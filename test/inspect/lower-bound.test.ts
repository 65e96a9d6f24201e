import { describe, expect, it } from 'vitest';
import { firstStartingFrom, lineEndWithin, lineStartWithin, lowerBound } from '../../src/inspect/detect/spans.js';

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

describe('lineStartWithin and lineEndWithin: the line bounds, clamped to the reach, as lastIndexOf and indexOf give them', () => {
  it.each(['', '\n', 'abc', 'a\nb', '\n\nxyz\n', `${'x'.repeat(30)}\n${'y'.repeat(30)}`, 'x'.repeat(50), 'ab\ncd\nef\n'])('%j', (text) => {
    for (const reach of [0, 1, 3, 10, 40]) {
      for (let index = 0; index <= text.length; index++) {
        const start = Math.max(text.lastIndexOf('\n', index - 1) + 1, index - reach);
        const lineEnd = text.indexOf('\n', index);
        const end = Math.min(lineEnd < 0 ? text.length : lineEnd, index + reach);
        // a start past `index` (the text's first character a line break, index 0) reads no characters either way
        expect([reach, index, Math.min(lineStartWithin(text, index, reach), index)]).toEqual([reach, index, Math.min(start, index)]);
        expect([reach, index, lineEndWithin(text, index, reach)]).toEqual([reach, index, end]);
      }
    }
  });
});
