import { describe, expect, it } from 'vitest';
import { RECORD_NUMBER, recordNumbers } from '../../src/inspect/detect/record-numbers.js';

/** What the global search of the pattern finds: the search recordNumbers replaces. */
function globalSearch(text: string): { index: number; length: number }[] {
  return [...text.matchAll(new RegExp(RECORD_NUMBER, 'g'))].map((m) => ({ index: m.index, length: m[0].length }));
}

describe('recordNumbers: the global search of the record number pattern, tried only in runs that hold five digits', () => {
  it.each<[string, string]>([
    ['a plain number', 'MRN: 00123456'],
    ['a letter prefix', 'MR1234567 and AB123456'],
    ['too many capitals before the digits', 'ABCD1234567'],
    ['alphanumeric with hyphens', 'A12-345-678, CH-004582 and 7734-2281A'],
    ['a date and a phone number are not record numbers', '2024-01-15 and 01-15-2024 and 617-555-0199'],
    ['a lower-case letter before the run', 'x1234567 and _1234567'],
    ['a lower-case letter after the run', '1234567x and AB12-345-67z'],
    ['a match then another after a hyphen', '1234567-ABC12345 and 123456-7890123'],
    ['hyphens at the ends of the run', '-123456 and 123456- and --12-34567--'],
    ['eleven digits', '12345678901 and 1234567890'],
    ['fewer than five digits in the run', 'A1-2-3-4 and 1234'],
    ['five digits spread out', 'A1B2C3D4E5 and 1-2-3-4-5A'],
    ['runs next to each other', '1234567 7654321\n123-45-6789 AB-12345'],
    ['an SSN shape', '123-45-6789'],
    ['non-ASCII around the run', 'é1234567é and ×A12345B'],
    ['at the very start and end', '1234567'],
    ['nothing', ''],
  ])('%s', (_name, text) => {
    expect(recordNumbers(text)).toEqual(globalSearch(text));
  });
});
