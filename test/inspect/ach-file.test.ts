import { describe, expect, it } from 'vitest';
import { achEntryLines } from '../../src/inspect/detect/ach-file.js';
import { inspectText } from '../../src/inspect/verdict.js';

const HEADER = '101 07590037113912077842410181005A094101FIRST PRAIRIE BANK     CASCADE ORTHOPEDIC ASSO        ';
const BATCH = '5220CASCADE ORTHO                       1391207784PPDPT REFUND 241018241021   1075900370000001';
const ENTRY = '6222610745904401872239       0000012500CO118330       HEDLUND, INGRID         0075900370000001';
const CONTROL = '822000000600925150640000000000000000001184371391207784                         075900370000001';

describe('achEntryLines: a NACHA file\'s entries as labelled lines', () => {
  it.each<[string, string, string[]]>([
    ['a refund file', [HEADER, BATCH, ENTRY, CONTROL].join('\n'), ['ACH entry, routing number: 261074590', 'Bank account number: 4401872239', 'Name: HEDLUND, INGRID']],
    ['CRLF records', [HEADER, BATCH, ENTRY].join('\r\n'), ['ACH entry, routing number: 261074590', 'Bank account number: 4401872239', 'Name: HEDLUND, INGRID']],
    ['entry-shaped lines without a file header', [BATCH, ENTRY].join('\n'), []],
    ['a file header and no entry', [HEADER, BATCH, CONTROL].join('\n'), []],
    ['prose', 'Please approve the refund batch by 2pm.', []],
  ])('%s', (_name, text, lines) => {
    expect(achEntryLines(text).split('\n').filter(Boolean)).toEqual(lines);
  });

  it('a refund file attached to a note: the bank accounts are a person\'s (high)', () => {
    const v = inspectText(`Attached is the NACHA file for this week's patient refunds.\n\n${[HEADER, BATCH, ENTRY, CONTROL].join('\n')}\n`);
    expect(v.findings.find((f) => f.category === 'BANK_ACCOUNT')?.confidence).toBe('high');
    expect(v.findings.find((f) => f.category === 'ABA_ROUTING')?.confidence).toBe('high');
  });
});
