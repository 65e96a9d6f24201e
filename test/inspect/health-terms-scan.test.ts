import { describe, expect, it } from 'vitest';
import { ASCII_WORD, DIGIT_MARK, HIGH_SURROGATE, LETTER, LOW_SURROGATE, SPACE, WORD, codeUnits, unitClass, unitClassTable } from '../../src/inspect/detect/health-terms-chars.js';
import { healthTermSpans } from '../../src/inspect/detect/health-terms.js';
import { labelTerms } from '../../src/inspect/detect/health-terms-labels.js';
import { ROOT, type TermMatch, buildTermTrie, childOf, termFrom } from '../../src/inspect/detect/health-terms-trie.js';
import { type HealthTermSpan, wordTerms } from '../../src/inspect/detect/health-terms-words.js';

const BITS = WORD | LETTER | SPACE | DIGIT_MARK | ASCII_WORD | HIGH_SURROGATE | LOW_SURROGATE;

describe('unitClass: what the regexes say about one code unit', () => {
  it.each<[string, number]>([
    ['a', WORD | LETTER | ASCII_WORD],
    ['Z', WORD | LETTER | ASCII_WORD],
    ['7', WORD | DIGIT_MARK | ASCII_WORD],
    ['_', WORD | DIGIT_MARK | ASCII_WORD],
    [' ', SPACE],
    ['\t', SPACE],
    ['\u00a0', SPACE],
    ['-', 0],
    [':', 0],
    ['é', WORD | LETTER],
    ['ſ', WORD | LETTER],
    ['\u0301', WORD | DIGIT_MARK],
    ['٣', WORD | DIGIT_MARK],
    ['\ud835', HIGH_SURROGATE],
    ['\udc00', LOW_SURROGATE],
  ])('%j', (unit, bits) => {
    expect(unitClass(unit.charCodeAt(0)) & BITS).toBe(bits);
  });

  it('the table held by the words pass is the one unitClass fills (0 until a unit is looked at)', () => {
    const table = unitClassTable();
    const c = 0x4e2d; // 中: no test above looks at it
    const before = table[c];
    const bits = unitClass(c);
    expect(before === 0 || before === bits).toBe(true);
    expect(table[c]).toBe(bits);
    for (const unit of 'aZ7_ \t-:éſ') expect(table[unit.charCodeAt(0)]).toBe(unitClass(unit.charCodeAt(0)));
  });
});

describe('codeUnits: the text as UTF-16 code units', () => {
  it.each<[string, string]>([
    ['empty', ''],
    ['ASCII', 'Diagnosis: asthma'],
    ['accents and an emoji', 'opérée 😀 €'],
    ['lone surrogates', '\ud835x\udc00'],
    ['longer than the kept array', 'heart failure '.repeat(700)],
    ['a little over 2^20 units (kept: a 1 MB body with its tables written out)', 'heart failure, '.repeat(70_000)],
    ['shorter again, after it (the kept array reused)', 'opérée 😀 €'],
    ['over 2^21 units (an array of its own)', 'x'.repeat((1 << 21) + 3)],
  ])('%s', (_name, text) => {
    const units = codeUnits(text);
    expect(units.length).toBe(text.length);
    const differing = [...Array(text.length).keys()].filter((i) => units[i] !== text.charCodeAt(i));
    expect(differing).toEqual([]);
  });
});

describe('termFrom: the longest term at a word start, ending at a word boundary', () => {
  const trie = buildTermTrie(['heart', 'heart failure', 'x-ray', 'pain', 'back pain']);
  /** The term at `p` as the words pass finds it: the walk along the word, then termFrom. */
  const termAt = (text: string, p: number): TermMatch | undefined => {
    const units = codeUnits(text);
    let node = ROOT;
    let i = p;
    for (; i < units.length && (unitClass(units[i] as number) & WORD) !== 0; i++) node = childOf(trie, node, units[i] as number);
    const found: TermMatch = { end: 0, term: '' };
    return termFrom(trie, text, units, p, node, i, found) ? found : undefined;
  };
  it.each<[string, number, TermMatch | undefined]>([
    ['heart failure', 0, { end: 13, term: 'heart failure' }],
    ['HEART \n\t FAILURE.', 0, { end: 16, term: 'heart failure' }],
    ['heart failures', 0, { end: 5, term: 'heart' }],
    ['hearts', 0, undefined],
    ['X-Ray', 0, { end: 5, term: 'x-ray' }],
    ['x-rays', 0, undefined],
    ['back pain', 0, { end: 9, term: 'back pain' }],
    ['back\u00a0pain', 0, { end: 9, term: 'back pain' }],
    ['backpain', 0, undefined],
  ])('%j at %i', (text, p, expected) => {
    expect(termAt(text, p)).toEqual(expected);
  });
});

describe('wordTerms: dictionary terms and medical words in one pass', () => {
  const trie = buildTermTrie(['asthma', 'sleep apnea', 'post-op']);
  const scan = (text: string): [HealthTermSpan[], HealthTermSpan[]] => {
    const dictionary: HealthTermSpan[] = [];
    const morphology: HealthTermSpan[] = [];
    wordTerms(text, codeUnits(text), trie, dictionary, morphology);
    return [dictionary, morphology];
  };
  const span = (index: number, length: number, term: string): HealthTermSpan => ({ index, length, term });
  it.each<[string, HealthTermSpan[], HealthTermSpan[]]>([
    ['asthma, sleep  apnea; post-op', [span(0, 6, 'asthma'), span(8, 12, 'sleep apnea'), span(22, 7, 'post-op')], []],
    ['asthmatic sleepy', [], []],
    ['cholecystitis after an APPENDECTOMY', [], [span(0, 13, 'cholecystitis'), span(23, 12, 'appendectomy')]],
    ['gastritis2 _neuropathy arthritis\u0301', [], []],
    ['cholecystitiſ', [], [span(0, 13, 'cholecystitiſ')]],
    ['academia empathy nostalgia', [], []],
    // a letter outside the BMP joins the letters on both sides into one run
    ['x\u{1D400}gastritis', [], [span(0, 12, 'x\u{1D400}gastritis')]],
    ['gastri\u{1D400}tis', [], []],
    // several words of one run: tried once, as the whole run
    ['ab\u{1D400}ab\u{1D400}ab\u{1D400}itis', [], [span(0, 16, 'ab\u{1D400}ab\u{1D400}ab\u{1D400}itis')]],
  ])('%j', (text, dictionary, morphology) => {
    expect(scan(text)).toEqual([dictionary, morphology]);
  });
});

describe('labelTerms: a field label, its colon and the value after it', () => {
  const labels = (text: string): [number, number, string][] => {
    const out: HealthTermSpan[] = [];
    labelTerms(text, codeUnits(text), out);
    return out.map((s) => [s.index, s.length, s.term]);
  };
  it.each<[string, [number, number, string][]]>([
    ['Diagnosis: asthma', [[0, 11, 'diagnosis']]],
    ['Reason  for\tvisit :\tchest pain', [[0, 20, 'reason for visit']]],
    ['Dx:\n fever', []],
    ['Dx: 42', []],
    ['ICD-Dx: E11', [[4, 4, 'dx']]],
    ['xDx: fever', []],
    ['Dx:: fever', []],
    ['10:30 Dx: x', [[6, 4, 'dx']]],
    ['Diagnóstico: DIAGNÓSTICO: x', [[0, 13, 'diagnóstico'], [13, 13, 'diagnóstico']]],
    ['Motif de consultation : douleurs', [[0, 24, 'motif de consultation']]],
    ['Allergies:none Medications :  metformin', [[0, 10, 'allergies'], [15, 15, 'medications']]],
    // ſ is s to the unicode regex: such a text is searched with the regex itself
    ['Diagnoſis: asthma', [[0, 11, 'diagnoſis']]],
  ])('%j', (text, expected) => {
    expect(labels(text)).toEqual(expected);
  });
});

describe('healthTermSpans: the three kinds merged in the order of the text', () => {
  it.each<[string, [number, number, string][]]>([
    ['heart   failure and HEART\nFAILURE', [[0, 15, 'heart failure'], [20, 13, 'heart failure']]],
    ["Alzheimer's, x-ray, post-op, covid-19", [[0, 11, "alzheimer's"], [13, 5, 'x-ray'], [20, 7, 'post-op'], [29, 8, 'covid-19']]],
    ['prediabetes diabetes2 _diabetes diabetes_', []],
    ['ÉCTOMÍA gastrectomía COLECISTECTOMÍA', [[8, 12, 'gastrectomía'], [21, 15, 'colecistectomía']]],
    ['appendectomy\u0301 and 7appendectomy', []],
    ['Diagnóstico: DIAGNÓSTICO: diagnostic:', [[0, 11, 'diagnóstico'], [0, 13, 'diagnóstico'], [13, 11, 'diagnóstico'], [13, 13, 'diagnóstico'], [26, 10, 'diagnostic']]],
    ['academia, Empathy, neuropathy', [[19, 10, 'neuropathy'], [19, 10, 'neuropathy']]],
    ['séances  de dialyse; HÉMODIALYSE', [[0, 19, 'séances de dialyse'], [21, 11, 'hémodialyse']]],
    ['infection\u00a0ear infection', [[0, 9, 'infection'], [10, 13, 'ear infection']]],
    ['the patient with therapy as asthma', [[28, 6, 'asthma']]],
    ['Aspirin: none. Allergies:none Medications :  metformin', [[15, 9, 'allergies'], [15, 10, 'allergies'], [30, 11, 'medications'], [30, 15, 'medications'], [45, 9, 'metformin']]],
  ])('%j', (text, expected) => {
    expect(healthTermSpans(text).map((s) => [s.index, s.length, s.term])).toEqual(expected);
  });
});
