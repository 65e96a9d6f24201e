import { describe, expect, it } from 'vitest';
import { caseless, foldVariants } from '../../src/inspect/detect/caseless.js';
import { HEALTH_TERMS } from '../../src/inspect/detect/health-terms.js';

const allCodePoints = function* (): Generator<string> {
  for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) yield String.fromCodePoint(cp);
};

describe('foldVariants: the characters case folding makes equal to a letter', () => {
  // the letters of the date-of-birth words, those of the health terms (a larger sample), and a few more
  const letters = [...new Set(`${HEALTH_TERMS.source.replace(/\\[pP]\{[^}]*\}/g, '')}dobgeburtsdatumfechanacimientonaissanceéeABZÄÖÜåÅøæœçñÿ`.match(/\p{L}/gu))];
  it('matches the iu flags for every code point', () => {
    const any = new RegExp(`^[${letters.join('')}]$`, 'iu');
    const folded = new Map<string, Set<string>>(letters.map((l) => [l, new Set([l])]));
    for (const c of allCodePoints()) {
      if (!any.test(c)) continue;
      for (const l of letters) if (new RegExp(`^${l}$`, 'iu').test(c)) folded.get(l)?.add(c);
    }
    for (const l of letters) expect([...foldVariants(l)].sort()).toEqual([...(folded.get(l) ?? [])].sort());
  });
  it('letters, digits, marks and the underscore do not change under folding', () => {
    const iu = /^[\p{L}\p{N}\p{M}_]$/iu;
    const u = /^[\p{L}\p{N}\p{M}_]$/u;
    const differ: string[] = [];
    for (const c of allCodePoints()) if (iu.test(c) !== u.test(c)) differ.push(c);
    expect(differ).toEqual([]);
  });
  it('letters and digits: only U+0345 (which folds to a letter) changes', () => {
    const iu = /^[\p{L}\p{N}]$/iu;
    const u = /^[\p{L}\p{N}]$/u;
    const differ: number[] = [];
    for (const c of allCodePoints()) if (iu.test(c) !== u.test(c)) differ.push(c.codePointAt(0) ?? 0);
    expect(differ).toEqual([0x345]);
  });
});

describe('caseless: the same matches with the u flag alone', () => {
  const source = String.raw`(?<![\p{L}\p{N}\p{M}_])(?:geburtsdatum|date\s+de\s+naissance|n[ée]e?\s+le|knie-tep|straße|crohn's|x\.ray)(?![\p{L}\p{N}\p{M}_])`;
  const iu = new RegExp(source, 'giu');
  const u = new RegExp(caseless(source), 'gu');
  it.each<string>([
    'GEBURTSDATUM 1.2.1960',
    'geburtſdatum',
    'Date De Naiſſance',
    'NÉE LE 3 mars',
    'Née  le',
    'KNIE-TEP',
    'knie-tep',
    'STRAẞE',
    "CROHN'S",
    'X.RAY x-ray',
    'xgeburtsdatum geburtsdatumx geburtsdatum_',
    'geburtsdatum\u0345',
    '\u{1D400}geburtsdatum',
  ])('%j', (text) => {
    const all = (re: RegExp): string[] => [...text.matchAll(re)].map((m) => `${m.index}:${m[0]}`);
    expect(all(u)).toEqual(all(iu));
  });
  it.each<string>([String.raw`\bword`, String.raw`\w+`, String.raw`\u0041`, String.raw`(?<name>a)`, '[a-z]', '[^a]', String.raw`(a)\1`])('refuses %j', (unsupported) => {
    expect(() => caseless(unsupported)).toThrow();
  });
});
