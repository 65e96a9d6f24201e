/**
 * The second, independent DLP corpus (test/fixtures/dlp-corpus-2): the
 * committed files are exactly what its generator makes and the labels are
 * consistent. Deliberately no detector-quality assertion here: the corpus
 * measures mail nobody tuned for, and its held-out half must stay unseen.
 * Also the table-driven unit test of its scorer (score2.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus2, CATEGORIES, CLASSES, NEGATIVE_CLASSES, type Label2 } from '../fixtures/dlp-corpus-2/generate.js';
import { abaValid, deaValid, luhnValid, npiValid } from '../fixtures/dlp-corpus-2/ids.js';
import { Rng } from '../fixtures/dlp-corpus-2/rng.js';
import { aba, card, dea, npi } from '../fixtures/dlp-corpus-2/ids.js';
import { scoreProtect, type Detected2 } from '../fixtures/dlp-corpus-2/score2.js';

const root = join('test', 'fixtures', 'dlp-corpus-2');
let labels: Label2[];

beforeAll(async () => {
  labels = JSON.parse(await readFile(join(root, 'labels.json'), 'utf8')) as Label2[];
});

describe('the second DLP corpus', () => {
  it('is what the generator makes (run `npm run corpus:dlp` after changing it)', async () => {
    const corpus = buildCorpus2();
    expect(corpus.length).toBeGreaterThanOrEqual(320);
    expect(corpus.map((m) => m.label)).toEqual(labels);
    expect((await readdir(join(root, 'messages'))).filter((f) => f.endsWith('.eml')).sort()).toEqual(labels.map((l) => l.file).sort());
    for (const m of corpus) expect(await readFile(join(root, 'messages', m.label.file), 'utf8')).toBe(m.eml);
  });

  it('is deterministic', () => {
    expect(buildCorpus2().map((m) => m.eml)).toEqual(buildCorpus2().map((m) => m.eml));
  });

  it('has consistent labels', () => {
    for (const l of labels) {
      if (l.phi) expect(l.protect, l.file).toBe(true);
      for (const c of l.categories) expect(CATEGORIES, l.file).toContain(c);
      for (const c of l.classes) expect(CLASSES, l.file).toContain(c);
      const negative = l.classes.some((c) => (NEGATIVE_CLASSES as readonly string[]).includes(c));
      expect(negative, l.file).toBe(!l.protect);
      expect(['en', 'de', 'es', 'fr']).toContain(l.language);
    }
    const share = labels.filter((l) => l.protect).length / labels.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.5);
  });

  it('splits into two halves with every class at least 5 times in each', () => {
    for (const half of ['tune', 'heldout'] as const) {
      const mine = labels.filter((l) => l.half === half);
      expect(mine.length).toBeGreaterThan(0);
      for (const c of CLASSES) expect(mine.filter((l) => l.classes.includes(c)).length, `${c} in ${half}`).toBeGreaterThanOrEqual(5);
    }
  });

  it('makes identifiers that pass their real-world checks', () => {
    const r = new Rng('check');
    for (let i = 0; i < 200; i++) {
      expect(luhnValid(card(r, 'visa'))).toBe(true);
      expect(luhnValid(card(r, 'amex'))).toBe(true);
      expect(npiValid(npi(r))).toBe(true);
      expect(deaValid(dea(r, 'Smith'))).toBe(true);
      expect(abaValid(aba(r))).toBe(true);
    }
  });
});

describe('scoreProtect', () => {
  const L = (file: string, protect: boolean, phi: boolean, categories: string[], classes: string[], half: 'tune' | 'heldout' = 'tune') => ({ file, half, kind: 'k', protect, phi, categories, classes });
  const labelsT = [L('a', true, true, ['MRN'], ['alnum-mrn']), L('b', true, false, ['SSN'], ['identifier-only']), L('c', false, false, [], ['negative-routine']), L('d', false, false, ['NPI'], ['negative-provider-directory'], 'heldout')];
  const cases: { name: string; detected: [string, Detected2][]; half?: 'tune' | 'heldout'; protect: [number, number, number]; phi: [number, number, number]; misses: string[] }[] = [
    { name: 'perfect', detected: [['a', { protect: true, phi: true, categories: ['MRN'] }], ['b', { protect: true, phi: false, categories: ['SSN'] }], ['d', { protect: false, phi: false, categories: ['NPI'] }]], protect: [2, 0, 0], phi: [1, 0, 0], misses: [] },
    { name: 'nothing detected', detected: [], protect: [0, 0, 2], phi: [0, 0, 1], misses: ['a:protect:fn', 'a:phi:fn', 'a:MRN:fn', 'b:protect:fn', 'b:SSN:fn', 'd:NPI:fn'] },
    { name: 'false alarm on a negative', detected: [['a', { protect: true, phi: true, categories: ['MRN'] }], ['b', { protect: true, phi: false, categories: ['SSN'] }], ['c', { protect: true, phi: true, categories: ['PERSON_NAME'] }], ['d', { protect: false, phi: false, categories: ['NPI'] }]], protect: [2, 1, 0], phi: [1, 1, 0], misses: ['c:protect:fp', 'c:phi:fp', 'c:PERSON_NAME:fp'] },
    { name: 'held-out half only', detected: [], half: 'heldout', protect: [0, 0, 0], phi: [0, 0, 0], misses: ['d:NPI:fn'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = scoreProtect(labelsT, new Map(c.detected), c.half);
      expect([s.protect.tp, s.protect.fp, s.protect.fn]).toEqual(c.protect);
      expect([s.phi.tp, s.phi.fp, s.phi.fn]).toEqual(c.phi);
      expect(s.misclassified.map((m) => `${m.file}:${m.what}:${m.error}`)).toEqual(c.misses);
    });
  }

  it('reports per class and precision/recall', () => {
    const s = scoreProtect(labelsT, new Map([['c', { protect: true, phi: false, categories: [] }]]));
    expect(s.perClass['negative-routine']?.protect.fp).toBe(1);
    expect(s.perClass['alnum-mrn']?.protect.fn).toBe(1);
    expect(s.protect.precision).toBe(0);
    expect(s.protect.recall).toBe(0);
    expect(s.perCategory.MRN?.recall).toBe(0);
  });
});
