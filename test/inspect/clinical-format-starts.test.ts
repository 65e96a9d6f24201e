import { describe, expect, it } from 'vitest';
import { nextIsa } from '../../src/inspect/detect/clinical-fields.js';
import { clinicalFormatDetector } from '../../src/inspect/detect/clinical-formats.js';

/*
 * The X12 interchange headers are found by a plain search for "ISA" and a
 * look at the characters around it instead of a regex search of the whole
 * text: the same places as the pattern they replace, searched on from the
 * same places.
 */
const ISA = /(?:^|[^A-Za-z0-9])ISA([^A-Za-z0-9 \r\n])\d\d\1/g;

/** Where the pattern finds "ISA", each search going on from `next(end)` (the caller may skip ahead). */
function byPattern(text: string, next: (end: number) => number): number[] {
  const out: number[] = [];
  ISA.lastIndex = 0;
  for (let m = ISA.exec(text); m; m = ISA.exec(text)) {
    out.push(m.index + m[0].indexOf('ISA'));
    ISA.lastIndex = next(m.index + m[0].length);
  }
  return out;
}

function byHeader(text: string, next: (end: number) => number): number[] {
  const out: number[] = [];
  for (let h = nextIsa(text, 0); h; h = nextIsa(text, next(h.end))) out.push(h.at);
  return out;
}

describe('nextIsa finds what the ISA pattern finds', () => {
  it.each<string>([
    'ISA*00*          *00*',
    'x\nISA*00*',
    'xISA*00*',
    '1ISA*00*',
    '~ISA|01|~ISA*02*',
    'ISA 00 ',
    'ISA\n00\n',
    'ISA\r00\r',
    'ISA*0*',
    'ISA*00|',
    'ISA*0A*',
    'ISA',
    'ISAISA*00*',
    ' ISA*00* ISA*00*',
    'ISA*00*ISA*00*',
    'VISA*00* ISABEL',
    'ISA\u00e900\u00e9 -ISA\ud83d00\ud83d',
    '',
  ])('%j', (text) => {
    expect(byHeader(text, (end) => end)).toEqual(byPattern(text, (end) => end));
    expect(byHeader(text, (end) => end + 3)).toEqual(byPattern(text, (end) => end + 3));
  });

  it('on generated texts', () => {
    const pieces = ['ISA', '*', '|', '0', '00', 'x', ' ', '\n', '-', 'I', 'SA', 'A', '\u00e9'];
    let seed = 11;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      let text = '';
      const n = 1 + next(14);
      for (let j = 0; j < n; j++) text += pieces[next(pieces.length)];
      expect([text, byHeader(text, (end) => end)]).toEqual([text, byPattern(text, (end) => end)]);
    }
  });
});

describe('the X12 walk reads the segment ids it looks for, and only those', () => {
  const isa = 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:~';
  it.each<[string, string, string | undefined]>([
    ['ST, then a subscriber', `${isa}GS*HC*A*B~ST*837*0001~NM1*IL*1*DOE*JANE~SE*3*0001~IEA*1*000000001~`, 'high'],
    ['an id that only starts as ST', `${isa}STX*837*0001~NM1*IL*1~IEA*1*000000001~`, undefined],
    ['an id of one letter', `${isa}S*837~H*1*2*22~IEA*1*000000001~`, undefined],
    ['HL of a dependent', `${isa}ST*270*1~HL*3*2*23~IEA*1*000000001~`, 'high'],
    ['HLX is no HL', `${isa}ST*270*1~HLX*3*2*23~IEA*1*000000001~`, 'low'],
    ['INS and TA1', `${isa}ST*834*1~INS*Y*18~IEA*1*000000001~`, 'high'],
    ['a segment after IEA is not read', `${isa}ST*999*1~IEA*1*000000001~NM1*IL*1~`, 'low'],
    ['newlines and spaces before ids', `${isa}\n ST*837*1~\r\n NM1*QC*1~IEA*1*000000001~`, 'high'],
  ])('%s', (_name, text, confidence) => {
    expect(clinicalFormatDetector.detect(text)?.confidence).toBe(confidence);
  });
});
