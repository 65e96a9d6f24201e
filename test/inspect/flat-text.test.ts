import { describe, expect, it } from 'vitest';
import { flatText } from '../../src/inspect/detect/flat-text.js';

const note = 'Patient: Maria Alvarez, DOB 03/14/1962, MRN 00482913. Seen today for type 2 diabetes; A1c 8.1. ';

/** Texts of every kind V8 stores and every width: the copy holds the same code units. */
const CASES: [string, string][] = [
  ['empty', ''],
  ['short (returned as it is)', 'SSN 536-22-1234'],
  ['one byte a character, a slice of a larger string', note.repeat(40).slice(7, 3007)],
  ['one byte, with Latin-1 letters and a NUL', `${note}Müller, Señora Peña\u0000 `.repeat(20)],
  ['two bytes: Outlook punctuation', `${note.replace(/'/g, '\u2019')}Mr. O\u2019Brien \u2013 \u201cbiopsy\u201d `.repeat(20)],
  ['two bytes: a pair outside the BMP and lone surrogates', `${note}\u{1d400} \ud800 x \udc00 `.repeat(20)],
  ['a concatenation', note.repeat(20) + '\n\nPatient name: Maria Alvarez\nDOB: 03/14/1962'],
  ['longer than the buffer kept at first', note.repeat(200)],
  ['two bytes, longer than the buffer kept at first', `${note}\u2019`.repeat(200)],
  ['longer than any buffer kept', 'x'.repeat((1 << 21) + 5)],
];

describe('flatText', () => {
  it.each(CASES)('%s: the same code units', (_name, text) => {
    const flat = flatText(text);
    expect(flat.length).toBe(text.length);
    expect(flat === text).toBe(true); // compared as values (a long string's diff is not printed)
  });

  it('keeps each copy apart from the next (the kept buffer is reused)', () => {
    const a = flatText(note.repeat(10));
    const b = flatText('z'.repeat(600));
    expect(a).toBe(note.repeat(10));
    expect(b).toBe('z'.repeat(600));
  });
});
