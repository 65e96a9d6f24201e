import { describe, expect, it } from 'vitest';
import { CPT_STARTS, ICD10_STARTS, NDC_STARTS, PHONE_STARTS, RECORD_NUMBER_STARTS } from '../../src/inspect/detect/code-starts.js';
import { cptSpec, icd10Spec, ndcSpec } from '../../src/inspect/detect/medical-codes.js';
import { mrnSpec, phoneSpec } from '../../src/inspect/detect/personal.js';
import { digitRuns, LONG_RUN, runLengths, runLengthsFrom, type StartFinder } from '../../src/inspect/detect/digit-runs.js';
import { deaSpec, mbiSpec, npiSpec } from '../../src/inspect/detect/health-ids.js';
import { abaRoutingSpec, bankAccountSpec, itinSpec, paymentCardSpec, ssnSpec } from '../../src/inspect/detect/identifiers.js';
import { patternDetector, type PatternSpec } from '../../src/inspect/detect/pattern-detector.js';

const runsOf = (text: string): [number, number][] => {
  const runs = digitRuns(text);
  return Array.from({ length: runs.count }, (_, i) => [runs.start[i] ?? -1, runs.end[i] ?? -1]);
};

describe('digit runs', () => {
  it.each<[string, [number, number][]]>([
    ['', []],
    ['no digits here', []],
    ['7', [[0, 1]]],
    ['a1b22c333', [[1, 2], [3, 5], [6, 9]]],
    ['123-45-6789', [[0, 3], [4, 6], [7, 11]]],
    ['٣٤٥ 12', [[4, 6]]],
    ['x'.repeat(200) + '0123456789'.repeat(10), [[200, 300]]],
  ])('%j', (text, expected) => {
    expect(runsOf(text)).toEqual(expected);
  });

  it.each<[string]>([
    ['\u0131\u0130\u2030\u2039\u3031 1\u01322'],
    ['12\u2033\u2034345\u0139'],
    ['1'], ['12'], ['123'], ['1234'], ['12345'], ['a1234'], ['ab1234'], ['abc1234'],
    ['1a2b3c4d5e6f7g8h9'], ['x'.repeat(4095) + '9'], ['9' + 'x'.repeat(4096) + '99'],
  ])('the runs of /[0-9]+/g: %j', (text) => {
    expect(runsOf(text)).toEqual(Array.from(text.matchAll(/[0-9]+/g), (m) => [m.index, m.index + m[0].length]));
  });

  it('finds the runs of /[0-9]+/g in generated texts, characters beyond U+00FF among them', () => {
    const rnd = generator(11);
    const alphabet = '0123456789 a-:\u0130\u0131\u0139\u2030\u2039\u3035\uff11\u0660';
    for (let t = 0; t < 2000; t++) {
      let text = '';
      const n = rnd(40);
      for (let i = 0; i < n; i++) text += alphabet[rnd(alphabet.length)];
      expect(runsOf(text), text).toEqual(Array.from(text.matchAll(/[0-9]+/g), (m) => [m.index, m.index + m[0].length]));
    }
  });

  it('lists many runs (growing its tables)', () => {
    const text = '1 '.repeat(5000);
    const runs = digitRuns(text);
    expect(runs.count).toBe(5000);
    expect([runs.start[4999], runs.end[4999]]).toEqual([9998, 9999]);
  });

  it.each<[string, number, number[]]>([
    ['one length', runLengths(3), [1, 4]],
    ['two lengths merged in order', runLengths(2, 3), [0, 1, 3, 4]],
    ['a range gathered in order', runLengthsFrom(1, 3), [0, 1, 2, 3, 4]],
    ['none of that length', runLengths(9), []],
    ['the long group', runLengths(LONG_RUN), [5]],
  ])('select: %s', (_name, lengths, expected) => {
    const text = `12 345 6 78 901 ${'5'.repeat(40)}`;
    expect(Array.from(digitRuns(text).select(lengths))).toEqual(expected);
  });

  it('selects the same among many runs (grouped by length) as among few', () => {
    const rnd = generator(7);
    let text = '';
    for (let i = 0; i < 3000; i++) text += `${'7'.repeat(1 + rnd(rnd(4) === 0 ? 40 : 12))}${' x-'.slice(0, 1 + rnd(3))}`;
    const runs = digitRuns(text);
    expect(runs.count).toBe(3000);
    for (const lengths of [runLengths(9), runLengths(3, 9), runLengths(1, 2), runLengthsFrom(6, 17), runLengthsFrom(4), runLengths(LONG_RUN), runLengths(20)]) {
      const expected = Array.from({ length: runs.count }, (_, i) => i).filter((i) => {
        const n = (runs.end[i] ?? 0) - (runs.start[i] ?? 0);
        return (lengths & (1 << (Math.min(n, LONG_RUN) - 1))) !== 0;
      });
      expect(runs.select(lengths)).toEqual(expected);
    }
  });

  it.each([0, LONG_RUN + 1, 1.5])('rejects run length %s', (n) => {
    expect(() => runLengths(n)).toThrow(RangeError);
  });
});

/** A seeded generator (mulberry32): the same texts on every run. */
function generator(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

const PIECES = [
  ...'0123456789'.split(''),
  ...'0123456789'.split(''),
  ' ', ' ', '-', '-', '.', '(', ')', '+', '/', '#', ':', '\n', 'é', '_',
  'A', 'B', 'E', 'F', 'K', 'M', 'T', 'X', 'Z', 'a', 'b', 'x', 'z',
  '123-45-6789', '923-70-1234', '536221234', '536 22 1234', '912 70 1234', '912701234', '4716 7574 9118 6252', '4716-7574-9118-6252', '371901933501280', '4 7 1 6 7 5 7 4 9 1 1 8 6 2 5 2',
  'E11.9', 'I10', 'Z3A', 'E1B', 'K21.0', 'A0B.12', '99213', '0001T', '1234F', 'J1100', '0002-1433-80', '12345-678-90', '12345-6789-1', '12345-6789-12',
  '555-234-5678', '(555) 234-5678', '+1 555 234 5678', '1-555-234-5678', '+15552345678', '555.234.5678', '1(555)2345678',
  'A12-345-678', 'CH-004582', '7734-2281A', 'MR1234567', 'XJH482913057', 'A1B2C3D4E5', '-12345-', 'AB-1-2-3-4-5',
  '021000021', '1234567893', 'AB1234563', 'A91234563', 'MR1234563', '3TK7-QW2-RN58', '3TK7QW2RN58', '229.84.3371', '555-234-5678',
  ' SSN ', ' ssn:', ' ITIN ', ' card ', ' routing number ', ' account # ', ' checking ', ' NPI ', ' DEA ', ' medicare ', ' order # ', ' tax', 'id ',
];

function texts(count: number, seed: number): string[] {
  const rnd = generator(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let t = '';
    const parts = 1 + rnd(60);
    for (let j = 0; j < parts; j++) t += PIECES[rnd(PIECES.length)];
    out.push(t);
  }
  return out;
}

/** What a detector reports for a text: its finding, spans and explanations. */
function everything(spec: PatternSpec, text: string): unknown {
  const d = patternDetector(spec);
  return [d.detect(text), d.locate?.(text), d.explain?.(text)];
}

describe('start finders change nothing found', () => {
  it.each<[string, PatternSpec]>([
    ['us-ssn', ssnSpec],
    ['us-itin', itinSpec],
    ['payment-card', paymentCardSpec],
    ['aba-routing', abaRoutingSpec],
    ['bank-account', bankAccountSpec],
    ['npi', npiSpec],
    ['dea', deaSpec],
    ['medicare-mbi', mbiSpec],
  ])('%s: the same as searching the whole text', (_id, spec) => {
    expect(spec.starts).toBeDefined();
    const searched: PatternSpec = { ...spec, starts: undefined };
    let found = 0;
    for (const text of texts(1500, spec.id.length * 7919)) {
      const expected = everything(searched, text);
      expect(everything(spec, text), text).toEqual(expected);
      if ((expected as unknown[])[0]) found++;
    }
    // the texts hold matches, not only misses
    expect(found).toBeGreaterThan(20);
  });
});

/** Where the global search of `pattern` finds matches. */
function matchStarts(pattern: RegExp, text: string): number[] {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  return Array.from(text.matchAll(re), (m) => m.index);
}

function named(finder: StartFinder, text: string): number[] {
  const out: number[] = [];
  finder(digitRuns(text), text, (at) => out.push(at));
  return out;
}

describe('start finders name every place a match starts, in order', () => {
  it.each<[string, RegExp, StartFinder]>([
    ['icd10-cm', icd10Spec.pattern, ICD10_STARTS],
    ['cpt-hcpcs', cptSpec.pattern, CPT_STARTS],
    ['ndc', ndcSpec.pattern, NDC_STARTS],
    ['phone-us', phoneSpec.pattern, PHONE_STARTS],
    ['mrn', mrnSpec.pattern, RECORD_NUMBER_STARTS],
    ['us-ssn', ssnSpec.pattern, ssnSpec.starts as StartFinder],
    ['payment-card', paymentCardSpec.pattern, paymentCardSpec.starts as StartFinder],
    ['dea', deaSpec.pattern, deaSpec.starts as StartFinder],
    ['medicare-mbi', mbiSpec.pattern, mbiSpec.starts as StartFinder],
  ])('%s', (id, pattern, finder) => {
    let found = 0;
    for (const text of texts(1500, id.length * 104729)) {
      const places = named(finder, text);
      expect(places, text).toEqual([...places].sort((x, y) => x - y));
      const missed = matchStarts(pattern, text).filter((at) => !places.includes(at));
      expect(missed, text).toEqual([]);
      found += matchStarts(pattern, text).length;
    }
    expect(found).toBeGreaterThan(50);
  });
});

describe('record number starts in long runs of capitals, digits and hyphens', () => {
  it.each<[string, string, number[]]>([
    // a digit and 79 capitals a line (Postfix smtp-source's body): too few digits in any run, no place
    ['lines of a digit and capitals', `${'1' + 'X'.repeat(79)}\r\n${'2' + 'X'.repeat(79)}\r\n`, []],
    // the digits that make a run a record run are past the first 16 characters after the first digit run
    ['digits far along a long run', `ref 1${'A'.repeat(40)}2345-67890 end`, [4, 50]],
    ['a run that reaches the end of the text', `9${'B'.repeat(30)}12345`, [0]],
    ['two record runs, a space between', `AB-12345 ${'C'.repeat(20)}-67890`, [0, 3, 9, 30]],
  ])('%s', (_name, text, expected) => {
    expect(named(RECORD_NUMBER_STARTS, text)).toEqual(expected);
    // and every place the record number pattern matches is among them
    expect(matchStarts(mrnSpec.pattern, text).filter((at) => !expected.includes(at))).toEqual([]);
  });
});
