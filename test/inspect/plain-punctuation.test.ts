import { describe, expect, it } from 'vitest';
import { plainPunctuation } from '../../src/inspect/detect/plain-punctuation.js';
import { explainVerdict } from '../../src/inspect/explain.js';
import { inspectExtracted, inspectText } from '../../src/inspect/verdict.js';

const note = 'Patient: Maria O\'Brien, DOB 03/14/1962, SSN 536-22-1234. Seen today for "type 2 diabetes" - A1c 8.1. ';

/** Outlook's and Word's punctuation for what was typed as ' " and -. */
const outlook = (text: string): string =>
  text
    .replace(/'/g, '\u2019')
    .replace(/"([^"\n]*)"/g, '\u201c$1\u201d')
    .replace(/ - /g, ' \u2013 ');

describe('plainPunctuation', () => {
  it.each<[string, string, string]>([
    ['plain text is returned as it is', note, note],
    ['Latin-1 letters are left alone', 'Müller, Señora Peña, née le 3 mars', 'Müller, Señora Peña, née le 3 mars'],
    ['curly apostrophes', 'O\u2019Brien\u2018s \u201aok\u201b', "O'Brien's 'ok'"],
    ['curly quotes', '\u201cbiopsy\u201d \u201eja\u201f', '"biopsy" "ja"'],
    ['the hyphen and dash family', '536\u201122\u20111234 \u2010 \u2012 \u2013 \u2014 \u2015 \u2212', '536-22-1234 - - - - - -'],
    ['other characters beyond U+00FF are kept', 'c\u0153ur \u2026 \u2022 \u20ac \u{1d400} \uff1a \u2019', "c\u0153ur \u2026 \u2022 \u20ac \u{1d400} \uff1a '"],
    ['a long Outlook text', outlook(note).repeat(30), note.repeat(30)],
    ['a long Outlook text with other characters beyond U+00FF', `${outlook(note)}\u2026 \u2022 `.repeat(30), `${note}\u2026 \u2022 `.repeat(30)],
    ['surrogate pairs and lone surrogates beside the marks', '\u{1d400}\u2019\ud800\u2013\udc00 x'.repeat(100), "\u{1d400}'\ud800-\udc00 x".repeat(100)],
    ['a mark at each end', '\u2013 SSN 536-22-1234 \u201d', '- SSN 536-22-1234 "'],
    ['characters next to the table, kept', '\u200f\u2016\u2017\u2020\u2211\u2213', '\u200f\u2016\u2017\u2020\u2211\u2213'],
  ])('%s', (_name, text, expected) => {
    const plain = plainPunctuation(text);
    expect(plain.length).toBe(text.length);
    expect(plain === expected).toBe(true);
  });
});

describe('plainPunctuation: one buffer reused from text to text', () => {
  it('keeps each result apart from the next', () => {
    const a = plainPunctuation(`x\u2019y `.repeat(500));
    const b = plainPunctuation(`\u2026\u201c `.repeat(3000));
    expect(a === "x'y ".repeat(500)).toBe(true);
    expect(b === '\u2026" '.repeat(3000)).toBe(true);
  });

  it('leaves nothing beyond U+00FF when the marks were the only such characters', () => {
    expect(/[\u0100-\uffff]/.test(plainPunctuation(outlook(note).repeat(10)))).toBe(false);
  });
});

describe('the detectors read Outlook punctuation as plain punctuation', () => {
  it.each<[string, string]>([
    ['an Outlook note', note.repeat(3)],
    ['a note with a name, a quote and a dash', 'Hi team, Mrs. Rosa O\'Malley called - her "biopsy" results are in. DOB 1961-02-03, MRN 00482913.\n'.repeat(4)],
  ])('%s: the same verdict and explanation as the text typed plainly', (_name, text) => {
    expect(inspectText(outlook(text))).toEqual(inspectText(text));
    const extracted = (t: string) => ({ texts: [t], dicom: false, notFullyScanned: false, reasons: [] });
    const plain = inspectExtracted(extracted(text));
    const curly = inspectExtracted(extracted(outlook(text)));
    expect(explainVerdict([outlook(text)], curly)).toEqual(explainVerdict([text], plain));
  });

  it.each<[string, string, string]>([
    ['an SSN written with Word non-breaking hyphens', 'SSN 536\u201122\u20111234 for the diabetes claim.', 'SSN'],
    ['a date of birth with en dashes', 'Patient DOB: 1962\u201303\u201314, seen for asthma.', 'DOB'],
    ['a Medicare number with non-breaking hyphens', 'Medicare MBI 1EG4\u2011TE5\u2011MK72, hospice admission.', 'MEDICARE_MBI'],
  ])('%s: found', (_name, text, category) => {
    const v = inspectText(text);
    expect(v.categories).toContain(category);
    expect(v.phi).toBe(true);
  });
});
