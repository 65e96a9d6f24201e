import { describe, expect, it } from 'vitest';
import { AddressCells, sentenceEnd } from '../../src/inspect/detect/person-mentions.js';

/*
 * The cell an address sits in is read forwards once per text instead of
 * cutting out its whole line per address: it must be the part of the line
 * that the per-address version (kept here) gave.
 */
function cellAt(text: string, index: number, length: number): string {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  const lineEnd = text.indexOf('\n', index + length);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const at = index - lineStart;
  const before = line.slice(0, at);
  const start = Math.max(before.lastIndexOf('\t'), before.lastIndexOf('|'), before.lastIndexOf('·'), before.lastIndexOf('; ')) + 1;
  const rest = line.slice(at + length);
  const stops = [rest.indexOf('\t'), rest.indexOf('|'), rest.indexOf('·'), rest.indexOf('; ')].filter((n) => n >= 0);
  return line.slice(start, at + length + (stops.length ? Math.min(...stops) : rest.length));
}

/** The cells of the spans (in order, not overlapping) both ways. */
function both(text: string, spans: readonly [number, number][]): [string[], string[]] {
  const cells = new AddressCells(text);
  return [
    spans.map(([index, length]) => {
      const { start, end } = cells.cell(index, length);
      return text.slice(start, end);
    }),
    spans.map(([index, length]) => cellAt(text, index, length)),
  ];
}

/** Each occurrence of "A" as a span of length 1. */
const marks = (text: string): [number, number][] => [...text.matchAll(/A+/g)].map((m) => [m.index, m[0].length]);

describe('AddressCells: the cell of each address as cellAt gave it', () => {
  it.each([
    'x A y',
    'x\tA\ty|A|z',
    'one; A; two;A ;A',
    'a;\nA b · A · c',
    'A\nA\n\nA',
    ';A; A;; A',
    'x; A\tA; y',
    'x\tA\nA y\n\tA',
    'A\tx\nyA',
    '·A·A·',
    'AAA; ;A',
  ])('%j', (text) => {
    const [cells, expected] = both(text, marks(text));
    expect(cells).toEqual(expected);
  });

  it('spans holding a line break or a stop', () => {
    const text = 'Home; 12 Oak\nStreet\tnext | 3 Elm\tRoad; end';
    const spans: [number, number][] = [[6, 13], [28, 9]];
    const [cells, expected] = both(text, spans);
    expect(cells).toEqual(expected);
  });

  it('on generated texts', () => {
    const pieces = ['A', 'x', ' ', ';', '; ', '\t', '|', '·', '\n', 'AA', 'yy'];
    let seed = 3;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      let text = '';
      const n = 1 + next(16);
      for (let j = 0; j < n; j++) text += pieces[next(pieces.length)];
      // spans from each "A" run, sometimes stretched over what follows (an address may hold a tab or a line break)
      const spans: [number, number][] = [];
      let from = 0;
      for (const [index, length] of marks(text)) {
        if (index < from) continue;
        const stretched = Math.min(text.length - index, length + (next(3) === 0 ? next(4) : 0));
        spans.push([index, stretched]);
        from = index + stretched;
      }
      const [cells, expected] = both(text, spans);
      expect([text, spans, cells]).toEqual([text, spans, expected]);
    }
  });
});

describe('sentenceEnd: where a sentence of prose ends (an address cell stops there)', () => {
  it.each<[string, string, boolean]>([
    ['after a lower-case word', 'hip surgery. She was', true],
    ['after a ZIP code', 'IL 62704. She was', true],
    ['a question', 'Questions? Ask Tom', true],
    ['an exclamation', 'today! Please call', true],
    ['an address abbreviation', '1187 W. Harrison St. Apt 3B', false],
    ['a title', 'Dr. Smith', false],
    ['no capital after it', 'e.g. the office', false],
    ['no space after it', 'www.example.org', false],
    ['a capitalised word before it', 'Main St. Springfield', false],
  ])('%s', (_name, text, ends) => {
    const at = text.search(/[.!?]/);
    expect(sentenceEnd(text, at)).toBe(ends);
  });
});
