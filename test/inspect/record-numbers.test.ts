import { describe, expect, it } from 'vitest';
import { RECORD_NUMBER_STARTS } from '../../src/inspect/detect/code-starts.js';
import { digitRuns } from '../../src/inspect/detect/digit-runs.js';
import { patternDetector, patternDetectors, type PatternSpec } from '../../src/inspect/detect/pattern-detector.js';
import { memberIdSpec, mrnSpec, phoneSpec } from '../../src/inspect/detect/personal.js';
import { withScanCache } from '../../src/inspect/detect/scan-cache.js';

/** Where the global search of the record number pattern finds matches. */
function matchStarts(text: string): number[] {
  return Array.from(text.matchAll(new RegExp(mrnSpec.pattern.source, 'g')), (m) => m.index);
}

function named(text: string): number[] {
  const out: number[] = [];
  RECORD_NUMBER_STARTS(digitRuns(text), text, (at) => out.push(at));
  return out;
}

/** What a detector reports for a text: its finding, spans and explanations. */
function everything(spec: PatternSpec, text: string): unknown {
  const d = patternDetector(spec);
  return [d.detect(text), d.locate?.(text), d.explain?.(text)];
}

const CASES: [string, string][] = [
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
  ['capitals between digit runs', 'MRN AB12CD345EF and 12AB345'],
  ['runs next to each other', '1234567 7654321\n123-45-6789 AB-12345'],
  ['an SSN shape', '123-45-6789'],
  ['non-ASCII around the run', 'é1234567é and ×A12345B'],
  ['at the very start and end', '1234567'],
  ['keywords around', 'Member ID: XJH482913057, MRN 0045821B, policy # A12-345-678 routing 123456789'],
  ['nothing', ''],
];

describe('record number starts: every place the global search of the pattern finds a match, in order', () => {
  it.each(CASES)('%s', (_name, text) => {
    const places = named(text);
    expect(places).toEqual([...places].sort((x, y) => x - y));
    expect(matchStarts(text).filter((at) => !places.includes(at))).toEqual([]);
  });

  it.each(CASES)('%s: the detectors find what searching the whole text finds', (_name, text) => {
    for (const spec of [mrnSpec, memberIdSpec]) {
      expect(everything(spec, text)).toEqual(everything({ ...spec, starts: undefined }, text));
    }
  });
});

describe('patternDetectors: specs that find the same matches, judged in one pass', () => {
  it.each(CASES)('%s: each finds what it finds alone, within a verdict and outside', (_name, text) => {
    const alone = [mrnSpec, memberIdSpec].map((spec) => everything(spec, text));
    const group = (): unknown[] => patternDetectors([mrnSpec, memberIdSpec]).map((d) => [d.detect(text), d.locate?.(text), d.explain?.(text)]);
    expect(group()).toEqual(alone);
    expect(withScanCache(group)).toEqual(alone);
  });

  it('refuses specs that find different matches', () => {
    expect(() => patternDetectors([mrnSpec, phoneSpec])).toThrow(/share/);
    expect(() => patternDetectors([mrnSpec, { ...memberIdSpec, window: 80 }])).toThrow(/share/);
    expect(patternDetectors([])).toEqual([]);
  });
});

describe('the MRN detector: "Acct" and "Account #" name a patient\'s account, not a customer\'s in an invoice or an order', () => {
  it.each<[string, string, string | undefined]>([
    ['a bill', 'Account #: 00392817\nStatement date: 11/02/2026', 'Account #'],
    ['a short label', 'Acct 4471-22981, guarantor Samuel Ortiz', 'Acct'],
    ['an invoice with a PO', 'Invoice #: INV-118734\nCustomer Account #: MBP-00392\nPO #: 45521', undefined],
    ['an order with tracking', 'Order #: SO-7718204\nAccount #: 300218\nTracking #: 1Z4F82W70391827746', undefined],
    ['one commerce mark is not enough', 'Order #: 55821 (copay)\nAccount #: 00392817', 'Account #'],
    // a bare account number is a patient's only in mail about a patient or a bill
    ['a vendor\'s customer account, no patient or bill words', 'Ridgeview Community Hospital, acct 55-01173: recall units returned', undefined],
    ['a product with "patient" in its name', 'ThermaFlo Patient Warming Blanket recall, acct 55-01173', undefined],
    ['a patient called about it', 'Re: Acct RMC-3501344 prep instructions\nPt called confused', 'Acct'],
    ['a strong keyword counts in an invoice too', 'Invoice #: 1187\nPatient account: 00392817\nPO #: 45521', 'Patient account'],
  ])('%s', (_name, text, keyword) => {
    const d = patternDetector(mrnSpec);
    const explained = withScanCache(() => d.explain?.(text) ?? []);
    expect(explained[0]?.keyword?.keyword).toBe(keyword);
    expect(withScanCache(() => d.detect(text)) !== undefined).toBe(keyword !== undefined);
  });
});

describe('record numbers: an HL7 message\'s header and acknowledgement hold its control ids, not a patient\'s number', () => {
  it.each<[string, string, boolean]>([
    ['an ACK\'s error text beside the control id', 'MSH|^~\\&|HUB|HIE|ADT|MVH|20261203141523||ACK^A01^ACK|CH001|P|2.5.1\rMSA|AE|MVH0000184520|PV1-19 visit number exceeds max length\rERR||PV1^1^19', false],
    ['a header\'s control id after a record keyword in the line before', 'Visit number check:\nMSH|^~\\&|HUB|HIE|ADT|MVH|2026||ACK|00483921|P|2.5.1', false],
    ['a note segment\'s number with its keyword', 'MSH|^~\\&|HUB|HIE|ADT|MVH|2026||ORU|1|P|2.5.1\rNTE|1||Visit number 00483921 on file', true],
    ['prose that starts with the same letters', 'MSA review: visit number 00483921', true],
  ])('%s', (_name, text, found) => {
    expect(withScanCache(() => patternDetector(mrnSpec).detect(text)) !== undefined).toBe(found);
  });
});

describe('record numbers: one digit repeated, or a test record\'s label, stands in for a number', () => {
  it.each<[string, boolean]>([
    ['MRN 0000000', false],
    ['Chart # 99-999-9999', false],
    ['MRN 00483921', true],
    ['MRN 12345678', true],
    // a test or sample record's label before it
    ['the standard test patient ZZTEST, PATIENT (test MRN ZZ9900017)', false],
    ['Use sample MRN: W44190283 for the demo', false],
    ['Use MRN: W44190283 for the demo', true],
    ['Patient test results: MRN 00483921', true],
  ])('%s', (text, found) => {
    expect(withScanCache(() => patternDetector(mrnSpec).detect(text)) !== undefined).toBe(found);
  });
});
