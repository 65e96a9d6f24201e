/**
 * Tables whose columns are aligned with spaces, as EHR reports, class
 * rosters and plain-text exports write them: a header of column names
 * ("Name           Phone           A1c   Notes"), perhaps a rule of dashes
 * under it, then the rows, each value starting where its column's name
 * starts. No separator character marks the cells, so tables.ts does not see
 * them; each row is written out after the text as a labelled line ("Name:
 * Carmen Villa; Phone: (614) 555-0211; A1c: 9.4; Notes: …"), as the clinical
 * formats' fields are (clinical-fields.ts), so that the detectors' labels
 * and keywords see each value beside its column's name. Pure; linear in the
 * text (each line is split at most once as a header, rows are bounded).
 */

import { PART_BREAK } from './signature.js';

/** Blanks between the text and its table rows: more than the verdict's reach from a name to a health term (ANCHOR_WINDOW, 400 characters). */
export const ROWS_APART = 450;

/** Columns a header has at least (two could be any phrase with a wide gap). */
const MIN_COLUMNS = 3;
const MAX_COLUMNS = 20;
/** A longer line is no header. */
const MAX_HEADER_LINE = 300;
/** Rows written out per table, and in all (a long report's first rows say what the rest do). */
const MAX_ROWS = 200;
const MAX_LINES = 1000;

/** A column's name: a letter, then letters, digits, spaces and _#./()'’- (at most 40 characters, four words). */
const COLUMN_NAME = /^[\p{L}][\p{L}\d _#./()'’-]{0,39}$/u;
/** Two or more spaces, or a tab: where one column ends and the next starts. */
const GAP = /[ ]{2,}|\t/g;
/** A rule under the header: runs of dashes or equals signs, separated by spaces. */
const RULE = /^[ \t]*[-=]{2,}(?:[ \t]+[-=]{2,})*[ \t]*$/;

interface Column {
  readonly name: string;
  readonly start: number;
}

/** The columns of a header line: its names and where each starts, if the line is one (MIN_COLUMNS names or more, each a COLUMN_NAME of at most four words, separated by gaps). */
function headerColumns(line: string): Column[] | undefined {
  if (line.length > MAX_HEADER_LINE || !line.includes('  ')) return undefined;
  const columns: Column[] = [];
  let start = 0;
  while (start < line.length && line.charCodeAt(start) === 32) start++;
  GAP.lastIndex = start;
  for (let m = GAP.exec(line); ; m = GAP.exec(line)) {
    const end = m ? m.index : line.length;
    const name = line.slice(start, end).trimEnd();
    if (name !== '') {
      if (!COLUMN_NAME.test(name) || name.split(' ').length > 4) return undefined;
      columns.push({ name, start });
      if (columns.length > MAX_COLUMNS) return undefined;
    }
    if (!m) break;
    start = m.index + m[0].length;
  }
  return columns.length >= MIN_COLUMNS ? columns : undefined;
}

/** A row's values by the header's columns, if the row is aligned with them: each later column's start is preceded by a blank or lies beyond the row's end, and the first value is there. */
function rowValues(line: string, columns: readonly Column[]): string[] | undefined {
  const first = columns[0];
  if (first === undefined || line.trim() === '' || line.slice(first.start, (columns[1]?.start ?? line.length)).trim() === '') return undefined;
  const values: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const start = (columns[i] as Column).start;
    if (i > 0 && start < line.length && line.charCodeAt(start - 1) !== 32 && line.charCodeAt(start - 1) !== 9) return undefined;
    values.push(line.slice(start, columns[i + 1]?.start ?? line.length).trim());
  }
  return values;
}

/** The rows of the space-aligned tables in `text` as labelled lines ("Name: …; Phone: …"), each line apart, after a part break; '' when there is none. */
export function alignedTableLines(text: string): string {
  if (!text.includes('   ')) return '';
  let out = '';
  let written = 0;
  let from = 0;
  while (from < text.length && written < MAX_LINES) {
    // only a line with a gap of two spaces can be a header: the next such gap, found natively, and its line
    const gap = text.indexOf('  ', from);
    if (gap < 0) break;
    const start = lineStart(text, gap, from);
    const end = lineEnd(text, gap);
    const columns = end - start <= MAX_HEADER_LINE ? headerColumns(text.slice(start, end)) : undefined;
    from = end + 1;
    if (columns === undefined) continue;
    // the rule under the header, then the rows up to a blank line or one that is not aligned
    if (from < text.length && RULE.test(text.slice(from, lineEnd(text, from)))) from = lineEnd(text, from) + 1;
    let rows = 0;
    while (from < text.length && rows < MAX_ROWS && written < MAX_LINES) {
      const rowEnd = lineEnd(text, from);
      const values = rowValues(text.slice(from, rowEnd), columns);
      if (values === undefined) break;
      out += `\n${columns.map((c, i) => `${c.name}: ${values[i] ?? ''}`).join('; ')}\n`;
      rows++;
      written++;
      from = rowEnd + 1;
    }
  }
  // a part of its own, apart from the text: the rows are read as the table's, not as part of the signature that may end the
  // text, and a row's name is not paired with a word of the table as the text shows it (a column's "Dialysis" without its label)
  return out === '' ? '' : `${PART_BREAK}${' '.repeat(ROWS_APART)}${out}`;
}

/** Where the line holding `index` starts (after a newline or a form feed), not before `floor`. */
function lineStart(text: string, index: number, floor: number): number {
  for (let i = index; i > floor; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 10 || c === 12) return i;
  }
  return floor;
}

/** Where the line starting at `from` ends (its newline, a form feed, or the text's end); a carriage return before the newline is left to the line. */
function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 12) return i;
  }
  return text.length;
}
