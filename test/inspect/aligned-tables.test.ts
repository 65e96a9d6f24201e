import { describe, expect, it } from 'vitest';
import { alignedTableLines, ROWS_APART } from '../../src/inspect/detect/aligned-tables.js';
import { PART_BREAK } from '../../src/inspect/detect/signature.js';
import { ANCHOR_WINDOW } from '../../src/inspect/verdict.js';

const ROSTER = [
  'Roster for week 2.',
  '',
  'Name           Phone           A1c   Notes',
  '-------------  --------------  ----  ------------------------',
  'Carmen Villa   (614) 555-0211  9.4   new on glargine 14 u',
  'Frank Dorsey   (614) 555-0232  8.1',
  '',
  'Thanks!',
].join('\n');

describe('alignedTableLines: the rows of a table aligned with spaces, as labelled lines', () => {
  it.each<[string, string, string[]]>([
    ['a roster with a rule under its header; a short last row', ROSTER, ['Name: Carmen Villa; Phone: (614) 555-0211; A1c: 9.4; Notes: new on glargine 14 u', 'Name: Frank Dorsey; Phone: (614) 555-0232; A1c: 8.1; Notes:']],
    ['no rule; CRLF line ends; an indented table', '  Patient      Room   Diet\r\n  Ana Ruiz     412    NPO\r\n  Li Wen       415    renal\r\n', ['Patient: Ana Ruiz; Room: 412; Diet: NPO', 'Patient: Li Wen; Room: 415; Diet: renal']],
    ['a row not aligned with the header ends the table', 'Name     Unit    Shift\nJo Park  4W      nights\nThis sentence runs across the columns without gaps.\nAl Roy   5E      days', ['Name: Jo Park; Unit: 4W; Shift: nights']],
    ['two columns are not enough', 'Name           Phone\nCarmen Villa   (614) 555-0211', []],
    ['prose with wide gaps is no header', 'We met.  Then we left.  It rained all day, and nobody came back.\nCarmen Villa   (614) 555-0211  9.4', []],
    ['a header without rows writes nothing', 'Name     Unit    Shift\n\nlater text', []],
    ['no text', '', []],
  ])('%s', (_name, text, rows) => {
    const out = alignedTableLines(text);
    if (rows.length === 0) expect(out).toBe('');
    else {
      expect(out.startsWith(PART_BREAK)).toBe(true);
      expect(out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '\f')).toEqual(rows);
    }
  });

  it('writes a bounded number of rows, and stays linear on a huge aligned table', () => {
    const rows = 'Carmen Villa   (614) 555-0211  9.4   note\n'.repeat(100_000);
    const out = alignedTableLines(`Name           Phone           A1c   Notes\n${rows}`);
    expect(out.split('Name: ').length - 1).toBe(200);
    const wide = `${'Col  '.repeat(2000)}\n`.repeat(500);
    expect(alignedTableLines(wide)).toBe('');
  });
});

describe('the rows stand apart from the text', () => {
  it('further than a name reaches for a health term, so a row pairs only with its own cells', () => {
    expect(ROWS_APART).toBeGreaterThan(ANCHOR_WINDOW);
  });
});
