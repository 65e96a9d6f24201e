import { describe, expect, it } from 'vitest';
import { digitRuns } from '../../src/inspect/detect/digit-runs.js';
import { diagnosisCodesAtCells, dottedDiagnosisCodes, procedureCodesAtCells, type CodeMatch } from '../../src/inspect/detect/medical-codes.js';

/*
 * The codes named on their line are found from the digit runs instead of by
 * a regex search over the whole text. Each search must find what the global
 * search of the pattern it replaced finds: the code (group 1) and where the
 * match ends (the health term is looked for from there).
 */

const SEARCHES: [string, (text: string) => CodeMatch[], RegExp][] = [
  ['procedure code at a cell', (t) => procedureCodesAtCells(t, digitRuns(t)), /(?:^|[\t|;\n])[ \t]*(\d{4}[0-9FT]|[A-V]\d{4})[ \t]+(?=\S)/g],
  ['ICD-10 category at a cell', (t) => diagnosisCodesAtCells(t, digitRuns(t)), /(?:^|[\t|;\n])[ \t]*([A-TV-Z]\d[0-9AB])(?![A-Za-z0-9.])/g],
  ['dotted ICD-10 code', (t) => dottedDiagnosisCodes(t, digitRuns(t)), /(?<![A-Za-z0-9.])([A-TV-Z]\d[0-9AB]\.[0-9A-TV-Z]{1,4})(?![A-Za-z0-9])/g],
];

/** What the pattern finds, as the search reports it. */
function byPattern(text: string, pattern: RegExp): CodeMatch[] {
  return [...text.matchAll(pattern)].map((m) => {
    const code = m[1] ?? '';
    const index = m.index + m[0].indexOf(code);
    return { index, length: code.length, end: m.index + m[0].length };
  });
}

const CASES: string[] = [
  '99213 office visit\n80053 metabolic panel',
  '\t99213 office visit',
  '|99213 x;80053 y',
  '  99213 \t80053 x',
  'Codes:\t99213 visit;80053 panel\n45378 colonoscopy',
  'no codes here',
  'x\n99213 ',
  'x\n99213 \n',
  'x\n99213\u00a0y',
  'x\n9921F y\t1234T z\tA1234 w\tW1234 v',
  'x\n123456 y\n1234 y\n12345',
  '',
  'E11.9 type 2 diabetes\nI10 essential hypertension',
  'I10\nJ45.909|K21.0;E78.5 high cholesterol',
  '\tE1A x\tE1B\tE1C\tU10\tE10.\tE10.1234\tE10.12345 .E11.9 aE11.9 _E11.9 E11.9_ E11.9a E11.9U',
  'Model E11.9 exam table cover\nItem condition: new, model M54.5 bracket\nroom A21 renovation\nB20 bracket',
  'K21.0.5 Z99.89 Z9.89 Z999.1 E11.12.3',
  '  I10 x',
  '\t\tI10',
  'I10_',
  'I10.',
  '99213\t\t80053\tx',
  '99213 80053 x',
  'A12345 x\n\tB1234\t\tC12345',
];

describe('the code searches find what their patterns find', () => {
  for (const [name, search, pattern] of SEARCHES) {
    it.each(CASES)(`${name}: %j`, (text) => {
      expect(search(text)).toEqual(byPattern(text, pattern));
    });
  }

  it('on generated texts of code-like pieces', () => {
    const pieces = ['\t', '\n', '|', ';', ' ', '  ', 'E11', '.9', '9', 'A', 'B', 'U', 'I10', '99213', '1234', 'F', 'T', 'x', '.', '_', 'K21.0', '\u00a0', 'Z', '12', '1'];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      let text = '';
      const n = 1 + next(12);
      for (let j = 0; j < n; j++) text += pieces[next(pieces.length)];
      for (const [name, search, pattern] of SEARCHES) expect([name, text, search(text)]).toEqual([name, text, byPattern(text, pattern)]);
    }
  });
});
