import { describe, expect, it } from 'vitest';
import { ADDRESS, addressMatches, CANDIDATE_NAME, candidateNames } from '../../src/inspect/detect/mention-search.js';
import { mergedMatches, placesSource, searchSource } from '../../src/inspect/detect/wide-text.js';

const found = (search: (text: string, each: (m: RegExpExecArray) => void) => void, text: string): string[] => {
  const out: string[] = [];
  search(text, (m) => out.push(`${m.index}:${m[0]}`));
  return out;
};
const globalSearch = (re: RegExp, text: string): string[] => [...text.matchAll(re)].map((m) => `${m.index}:${m[0]}`);

// each text as it is and with a character beyond U+00FF after it (V8 then stores it two bytes a character and the split searches run)
const forms = (text: string): string[] => [text, `${text}\n—`];

describe('candidateNames and addressMatches: the global search of their pattern, in texts of one and of two bytes a character', () => {
  it.each<string>([
    'Spoke with Maria Alvarez and Wei Zhang today.',
    'ÉLODIE Martin, Élodie Martin and Łukasz Nowak',
    '’Maria Alvarez —Ana Ruiz «Jean Dupont»',
    'éMaria Alvarez xMaria Alvarez 1Maria Alvarez _Maria Alvarez',
    '\u{1D400}bc Maria \u{1D400}lvarez Dúbois',
    'Jean-Pierre de la Cruz, María José van der Berg',
    'Mensah’s biopsy; O’Brien Smith; McKay Nguyen-Tran',
    "Brian O'Connor, Lucia D’Angelo, I'M Okay, O'' Neil",
    'Иван Петров and Анна Каренина',
    '12 Oak Street, 221 Birch Lane; 4124 N Franklin St. and 3rd Ave',
    'Lindenstraße 14, Hauptstr. 5a, xÖsterstraße 5, Österstraße 5, 1Übersee­weg 3',
    'Calle Mayor 5, Rúa Nova 3, Av. de la Paz 12, C/ Sol 4',
    '12 rue de la Paix, 12 bis, rue Émile Zola, 3 allée d’Ivry',
    '5 Élysée Road and 7 Ölweg 9',
    '',
  ])('%j', (text) => {
    for (const t of forms(text)) {
      expect(found(candidateNames, t)).toEqual(globalSearch(CANDIDATE_NAME, t));
      expect(found(addressMatches, t)).toEqual(globalSearch(ADDRESS, t));
    }
  });
  it('a text mostly beyond ASCII is searched whole', () => {
    const text = `${'Иван Петров, Анна Каренина. '.repeat(50)}Maria Alvarez — 12 Oak Street`;
    expect(found(candidateNames, text)).toEqual(globalSearch(CANDIDATE_NAME, text));
    expect(found(addressMatches, text)).toEqual(globalSearch(ADDRESS, text));
  });
});

describe('mergedMatches: the leftmost next match of sources that never match at the same place, then on from its end', () => {
  it.each<[string, string[]]>([
    ['a1 Bb a2 Cc a3', ['0:a1', '3:Bb', '6:a2', '9:Cc', '12:a3']],
    ['a1Bb', ['0:a1', '2:Bb']],
    ['', []],
  ])('%j', (text, expected) => {
    const out: string[] = [];
    const places = [...text.matchAll(/[A-Z]/g)].map((m) => m.index);
    mergedMatches([searchSource(/[a-z]\d/g, text), placesSource(/[A-Z][a-z]/y, text, places)], (m) => out.push(`${m.index}:${m[0]}`));
    expect(out).toEqual(expected);
  });
  it('a match swallows the next one of another source', () => {
    const out: string[] = [];
    const text = 'aB1 xyz';
    mergedMatches([searchSource(/a\w+/g, text), placesSource(/B\d/y, text, [1])], (m) => out.push(`${m.index}:${m[0]}`));
    expect(out).toEqual(['0:aB1']);
  });
});
