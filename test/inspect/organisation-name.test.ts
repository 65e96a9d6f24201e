import { describe, expect, it } from 'vitest';
import { inOrganisationName } from '../../src/inspect/verdict.js';

/*
 * inOrganisationName reads the capitalised name around a health term word by
 * word instead of splitting 80 characters each side: it must answer as the
 * split version (kept here) did.
 */
const ORGANISATION_WORD =
  /^(?:center|centre|clinic|clinics|hospital|hospice|health|healthcare|institute|program|programme|services?|unit|department|foundation|society|association|group|associates|network|partners|care|walk|run|week|month|day|awareness|education|line|team|research|fund|alliance|coalition|league|council|clinique|klinik|klinikum|zentrum|centro|praxis|pharmacy|specialists|physicians|medicine|ward|floor|wing|suite|library|press|journal|magazine|college|university|school)$/i;

function bySplitting(text: string, index: number, length: number): boolean {
  if (!/^\p{Lu}/u.test(text.slice(index, index + 1))) return false;
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  const lineEndAt = text.indexOf('\n', index + length);
  const before = text.slice(Math.max(lineStart, index - 80), index).split(/\s+/).filter(Boolean).reverse();
  const after = text.slice(index + length, Math.min(lineEndAt < 0 ? text.length : lineEndAt, index + length + 80)).split(/\s+/).filter(Boolean);
  const words: string[] = [];
  for (const side of [before, after]) {
    for (const raw of side) {
      const w = raw.replace(/^[("'“]+|[)"'”,.;:!?]+$/g, '');
      if (/^(?:&|and|of|for|the|de|du|des|für|y)$/i.test(w)) continue;
      if (!/^\p{Lu}/u.test(w)) break;
      words.push(w);
      if (raw !== w && /[,.;:!?)]$/.test(raw)) break;
    }
  }
  const own = text.slice(index, index + length).split(/\s+/);
  return [...words, ...own.slice(1)].some((w) => ORGANISATION_WORD.test(w)) || (own.length === 1 && words.some((w) => ORGANISATION_WORD.test(w)));
}

/** Each case: the text and the term in it (its first occurrence). */
const CASES: [string, string][] = [
  ['Riverside Cancer Center', 'Cancer'],
  ['Northfield Home Health & Hospice', 'Health'],
  ['Diabetes Education Program starts', 'Diabetes'],
  ['the diabetes education program', 'diabetes'],
  ['Heart Health Awareness Walk', 'Heart'],
  ['Mrs. Lee has Diabetes. Clinic', 'Diabetes'],
  ['"Oncology" (Cancer) Center', 'Cancer'],
  ['Cancer, Center', 'Cancer'],
  ['Center: Cancer', 'Cancer'],
  ['Center; Cancer', 'Cancer'],
  ['Center of the Cancer', 'Cancer'],
  ['the Center für Cancer', 'Cancer'],
  ['Zentrum FÜR Krebs', 'Krebs'],
  ['Krebs\nZentrum', 'Krebs'],
  ['Zentrum\nKrebs', 'Krebs'],
  ['\nKrebs', 'Krebs'],
  ['Krebs Care Unit', 'Krebs Care'],
  ['Krebs\u00a0Care Unit', 'Krebs'],
  ['Élan Cancer Centre', 'Cancer'],
  ['Öffentliche Diabetes Klinik', 'Diabetes'],
  ['Asthma Ñ clinic', 'Asthma'],
  ['Asthma 123 Clinic', 'Asthma'],
  [`${'Word '.repeat(20)}Asthma ${'Word '.repeat(20)}Clinic`, 'Asthma'],
  [`${'x'.repeat(78)} Clinic Asthma`, 'Asthma'],
  [`Clinic${'x'.repeat(77)} Asthma`, 'Asthma'],
  ['Asthma ) Clinic', 'Asthma'],
  ['Asthma "" Clinic', 'Asthma'],
  ['Asthma ". Clinic', 'Asthma'],
  ['Asthma Clinic.', 'Asthma'],
  ['Asthma and the Clinic', 'Asthma'],
  ['\u{1D400}sthma Clinic', '\u{1D400}sthma'],
  [`${'x '.repeat(100)}Cancer Center${' y'.repeat(100)}`, 'Cancer'],
  [`Clinic\n${'Word '.repeat(15)}Cancer`, 'Cancer'],
  [`Clinic\n${'W '.repeat(39)}Cancer`, 'Cancer'],
  [`Clinic\n${'W '.repeat(40)}Cancer`, 'Cancer'],
  [`Cancer${' W'.repeat(39)}\nClinic`, 'Cancer'],
  [`Cancer${' W'.repeat(40)}\nClinic`, 'Cancer'],
  ['\nCancer Clinic', 'Cancer'],
];

describe('inOrganisationName reads as the split version did', () => {
  it.each(CASES)('%j (%s)', (text, term) => {
    const index = text.indexOf(term);
    expect(inOrganisationName(text, index, term.length)).toBe(bySplitting(text, index, term.length));
  });

  it('on generated texts, at every position', () => {
    const pieces = ['Clinic', 'clinic', 'Cancer', 'Health', 'and', 'of', '&', ' ', '  ', '\n', ',', '.', '"', '(', ')', '“', 'Ö', 'x', 'Mary', 'Care Unit', '\t', '\u00a0', 'y'];
    let seed = 5;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 1500; round++) {
      let text = '';
      const n = 1 + next(16);
      for (let j = 0; j < n; j++) text += pieces[next(pieces.length)];
      for (let index = 0; index < text.length; index++) {
        const length = 1 + next(Math.min(12, text.length - index));
        expect([text, index, length, inOrganisationName(text, index, length)]).toEqual([text, index, length, bySplitting(text, index, length)]);
      }
    }
  });
});
