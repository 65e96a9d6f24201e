import { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { extractMessage } from '../../src/inspect/extract.js';
import { plainCharacters } from '../../src/inspect/detect/plain-characters.js';
import { explainVerdict } from '../../src/inspect/explain.js';
import { inspectExtracted, inspectText } from '../../src/inspect/verdict.js';

const note = 'Patient: Maria O\'Brien, DOB 03/14/1962, SSN 536-22-1234. Seen today for "type 2 diabetes" - A1c 8.1. ';

/** Outlook's and Word's punctuation for what was typed as ' " and -. */
const outlook = (text: string): string =>
  text
    .replace(/'/g, '\u2019')
    .replace(/"([^"\n]*)"/g, '\u201c$1\u201d')
    .replace(/ - /g, ' \u2013 ')
    .replace(/\.\.\./g, '\u2026');

/** The verdict and the `--explain` explanation of `text` are those of `typed`. */
function expectReadAs(text: string, typed: string): void {
  expect(inspectText(text)).toEqual(inspectText(typed));
  const explained = (t: string) => explainVerdict([t], inspectExtracted({ texts: [t], dicom: false, notFullyScanned: false, reasons: [] }));
  expect(explained(text)).toEqual(explained(typed));
}

describe('plainCharacters', () => {
  it.each<[string, string, string]>([
    ['plain text is returned as it is', note, note],
    ['Latin-1 letters are left alone', 'Müller, Señora Peña, née le 3 mars', 'Müller, Señora Peña, née le 3 mars'],
    ['curly apostrophes', 'O\u2019Brien\u2018s \u201aok\u201b', "O'Brien's 'ok'"],
    ['curly quotes', '\u201cbiopsy\u201d \u201eja\u201f', '"biopsy" "ja"'],
    ['the hyphen and dash family', '536\u201122\u20111234 \u2010 \u2012 \u2013 \u2014 \u2015 \u2212', '536-22-1234 - - - - - -'],
    ['other characters beyond U+00FF are kept', 'c\u0153ur \u2027 \u2022 \u20ac \u{1d400} \u0085 \u2019', "c\u0153ur \u2027 \u2022 \u20ac \u{1d400} \u0085 '"],
    ['the leaders as dots (Outlook\'s ellipsis for "...")', 'Seen today\u2026 stable \u2024 \u2025', 'Seen today... stable . ..'],
    ['a long Outlook text', outlook(note).repeat(30), note.repeat(30)],
    ['a long Outlook text with other characters beyond U+00FF', `${outlook(note)}\u2026 \u2022 `.repeat(30), `${note}... \u2022 `.repeat(30)],
    ['surrogate pairs and lone surrogates beside the marks', '\u{1d400}\u2019\ud800\u2013\udc00 x'.repeat(100), "\u{1d400}'\ud800-\udc00 x".repeat(100)],
    ['a mark at each end', '\u2013 SSN 536-22-1234 \u201d', '- SSN 536-22-1234 "'],
    ['characters next to the tables, kept', '\u1fff\u2016\u2017\u2020\u2027\u2030\u205e\u2211\u2213\u2065\u2fff\u3001\ufefe\u009f\u00a1\u00ac\u00ae', '\u1fff\u2016\u2017\u2020\u2027\u2030\u205e\u2211\u2213\u2065\u2fff\u3001\ufefe\u009f\u00a1\u00ac\u00ae'],
    ['more places to change than the kept table holds', 'a\u00a0b\u200bc\u2019'.repeat(40_000), "a bc'".repeat(40_000)],
    ['no-break spaces in one-byte text', 'SSN\u00a0536\u00a022\u00a01234', 'SSN 536 22 1234'],
    ['the other spaces', 'a\u1680b\u2000c\u2005d\u200ae\u202ff\u205fg\u3000h', 'a b c d e f g h'],
    ['the line and paragraph separators', 'Patient: Ann Lee\u2028DOB 03/14/1962\u2029', 'Patient: Ann Lee\nDOB 03/14/1962\n'],
    ['fullwidth forms of ASCII', '\uff33\uff33\uff2e\uff1a\u3000\uff15\uff13\uff16\uff0d\uff12\uff12\uff0d\uff11\uff12\uff13\uff14\uff01\uff5e', 'SSN: 536-22-1234!~'],
    ['next to the fullwidth forms, kept', '\uff00\uff5f\uff61', '\uff00\uff5f\uff61'],
    ['combining marks composed with their letters (NFC)', 'Jose\u0301 Marti\u0301nez, diabe\u0300te, ne\u0301 le', 'Jos\u00e9 Mart\u00ednez, diab\u00e8te, n\u00e9 le'],
    ['combining marks with nothing to compose stay', 'x\u0301 \u0627\u064e', 'x\u0301 \u0627\u064e'],
    ['Latin ligatures as their letters', 'atrial \ufb01brillation, \ufb00 \ufb02 \ufb03 \ufb04 \ufb05 \ufb06', 'atrial fibrillation, ff fl ffi ffl st st'],
    ['ligatures, combining marks, spaces and invisible characters together', `pre\u0301nom\u00a0: Jose\u0301\u200b \ufb01n \u2013 `.repeat(40), 'pr\u00e9nom : Jos\u00e9 fin - '.repeat(40)],
    ['a soft hyphen in one-byte text', 'SSN 536-22\u00ad-1234, dia\u00adbetes', 'SSN 536-22-1234, diabetes'],
    ['zero-width space, non-joiner, joiner, word joiner, byte order mark', '5\u200b3\u200c6\u200d-\u206022\ufeff-1234', '536-22-1234'],
    ['direction marks, embeddings, overrides and isolates', '\u200e\u200fA\u202a\u202b\u202c\u202d\u202eB\u2066\u2067\u2068\u2069C\u180e\u2061\u2062\u2063\u2064', 'ABC'],
    ['only invisible characters', '\u200b\u00ad\ufeff', ''],
    ['left out and made plain together, two bytes kept', `\u2026 O\u2019\u200bBrien \u2013 536\u2011\u00ad22\u20111234 \u{1d400}`.repeat(50), `... O'Brien - 536-22-1234 \u{1d400}`.repeat(50)],
    ['left out and made plain together, one byte left', `O\u2019\u200bBrien \u2013 536\u2011\u00ad22\u20111234 `.repeat(50), "O'Brien - 536-22-1234 ".repeat(50)],
  ])('%s', (_name, text, expected) => {
    expect(plainCharacters(text) === expected).toBe(true);
  });
});

describe('plainCharacters: one buffer reused from text to text', () => {
  it('keeps each result apart from the next', () => {
    const a = plainCharacters(`x\u2019y `.repeat(500));
    const b = plainCharacters(`\u2022\u201c `.repeat(3000));
    expect(a === "x'y ".repeat(500)).toBe(true);
    expect(b === '\u2022" '.repeat(3000)).toBe(true);
  });

  it('leaves nothing beyond U+00FF when the marks were the only such characters', () => {
    expect(/[\u0100-\uffff]/.test(plainCharacters(outlook(note).repeat(10)))).toBe(false);
  });
});

describe('the detectors read the characters a reader sees', () => {
  it.each<[string, string]>([
    ['an Outlook note', note.repeat(3)],
    ['a note with a name, a quote and a dash', 'Hi team, Mrs. Rosa O\'Malley called - her "biopsy" results are in. DOB 1961-02-03, MRN 00482913.\n'.repeat(4)],
    ['a note with an ellipsis between a name and a condition', 'Spoke with Rosa Morales... her asthma is worse. Called her daughter Ana... no answer.\n'.repeat(3)],
  ])('%s: the same verdict and explanation as the text typed plainly', (_name, text) => {
    expectReadAs(outlook(text), text);
  });

  it('a note with zero-width spaces between its digits and soft hyphens in its words: the verdict and explanation of the note without them', () => {
    const text = note.repeat(3);
    const hidden = text.replace(/(\d)(?=\d)/g, '$1\u200b').replace(/(\p{L}{3})(?=\p{L}{3})/gu, '$1\u00ad');
    expect(hidden).not.toBe(text);
    expectReadAs(hidden, text);
  });

  it('a French letter with its accents written apart (NFD): the verdict and explanation of the letter as typed', () => {
    const letter = 'Nom du patient : Mart\u00ednez, Jos\u00e9 ; n\u00e9 le 3 mars 1962 ; diab\u00e8te de type 2, s\u00e9ances de dialyse.\n'.repeat(3);
    const apart = letter.normalize('NFD');
    expect(apart).not.toBe(letter);
    expectReadAs(apart, letter);
  });

  it.each<[string, string, string]>([
    ['an SSN spaced with no-break spaces (HTML mail\'s &nbsp;)', 'SSN 536\u00a022\u00a01234 for the diabetes claim.', 'SSN'],
    ['a labelled name written with no-break spaces, next to a condition', 'Patient:\u00a0Maria\u00a0Alvarez was seen for diabetes.', 'PERSON_NAME'],
    ['a birth date in French with its narrow no-break space', 'Date de naissance\u202f: 3\u00a0mars\u00a01962, diab\u00e8te de type 2.', 'DOB'],
    ['an SSN in fullwidth digits', 'SSN \uff15\uff13\uff16\uff0d\uff12\uff12\uff0d\uff11\uff12\uff13\uff14 for the diabetes claim.', 'SSN'],
    ['a birth date and a name in French copied with its accents apart (NFD)', 'Patient: Jos\u00e9 Mart\u00ednez, diab\u00e8te de type 2, n\u00e9 le 3 mars 1962.'.normalize('NFD'), 'DOB'],
    ['a condition written with a ligature, an SSN', 'SSN 536-22-1234, atrial \ufb01brillation.', 'SSN'],
    ['an SSN with a zero-width space in it', 'SSN 536\u200b-22-1234 for the diabetes claim.', 'SSN'],
    ['an SSN with a soft hyphen in it', 'SSN 536-22\u00ad-1234 for the diabetes claim.', 'SSN'],
    ['a date of birth with a zero-width space, a health term with a soft hyphen', 'Patient DOB 03/14/\u200b1962, dia\u00adbetes follow-up.', 'DOB'],
    ['an SSN written with Word non-breaking hyphens', 'SSN 536\u201122\u20111234 for the diabetes claim.', 'SSN'],
    ['a date of birth with en dashes', 'Patient DOB: 1962\u201303\u201314, seen for asthma.', 'DOB'],
    ['a Medicare number with non-breaking hyphens', 'Medicare MBI 1EG4\u2011TE5\u2011MK72, hospice admission.', 'MEDICARE_MBI'],
  ])('%s: found', (_name, text, category) => {
    const v = inspectText(text);
    expect(v.categories).toContain(category);
    expect(v.phi).toBe(true);
  });
});

describe('an Outlook HTML message through the MIME walk', () => {
  it('&nbsp;, &shy;, &#8203;, curly quotes and en dashes: the findings of the message typed plainly', async () => {
    const message = async (html: string): Promise<Buffer> => new MailComposer({ from: 'a@example.com', to: 'b@example.net', subject: 'Follow-up', html }).compile().build();
    const read = async (raw: Buffer) => inspectExtracted(await extractMessage(Readable.from([raw])));
    const outlookHtml =
      '<p>Patient:&nbsp;Maria&nbsp;Alvarez</p><p>SSN&nbsp;536&nbsp;22&nbsp;1234 &#8211; DOB 1962&#8209;03&#8209;14</p><p>Seen today for &#8220;dia&shy;betes&#8221;; A1c&#8203; 8.1. Rosa&#8217;s chart to follow&#8230;</p>';
    const plainHtml = '<p>Patient: Maria Alvarez</p><p>SSN 536 22 1234 - DOB 1962-03-14</p><p>Seen today for "diabetes"; A1c 8.1. Rosa\'s chart to follow...</p>';
    const outlook = await read(await message(outlookHtml));
    expect(outlook).toEqual(await read(await message(plainHtml)));
    expect(outlook.phi).toBe(true);
    expect(outlook.categories).toEqual(expect.arrayContaining(['SSN', 'DOB', 'PERSON_NAME', 'HEALTH_TERM']));
  });
});
