/**
 * Tables as a reader reads them: in a CSV export, a spreadsheet or a
 * tab-separated list, the header names each column ("patient_name",
 * "birth_date", "Chart #"), however far the value sits from it. Each data row
 * of a table is rewritten as "header: value; header: value", so the keyword
 * and proximity rules of the detectors see a value next to its label.
 * Pure; linear in the text (a bounded number of rows per table is
 * rewritten, the rest kept as they are).
 */
import { isSpaceCode, NEWLINE, PIPE, QUOTE, TAB } from './char-codes.js';
import { nameWithCredentials } from './credentials.js';
import { isDigit, isWordChar } from './digit-runs.js';
import { personLike } from './names.js';

const SEPARATORS = ['\t', ';', '|', ','] as const;
/** Rows rewritten per table (the rest stay as they are: the first rows are what decide). */
const MAX_ROWS = 2000;
const MAX_HEADER = 40;
const MAX_COLUMNS = 60;
/** A longer line is no header. */
const MAX_HEADER_LINE = 2000;

/**
 * Split text[start, end) (one line) on `sep`, honouring double quotes
 * ("Friedman, Mei"). A line without quotes is split natively; a quoted one
 * is read in place, an unquoted run cut out whole, not copied a character
 * at a time.
 */
function cells(text: string, lineStart: number, lineEnd: number, sep: string): string[] {
  const { start, end } = sep === '|' ? withinOuterPipes(text, lineStart, lineEnd) : { start: lineStart, end: lineEnd };
  const line = text.slice(start, end);
  if (!line.includes('"')) return plainCells(line, sep);
  const out: string[] = [];
  const sepCode = sep.charCodeAt(0);
  // the current cell: `cur` (what came before its last quote) and then text[from, i)
  let cur = '';
  let from = start;
  let quoted = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      cur += text.slice(from, i);
      if (quoted && i + 1 < end && text.charCodeAt(i + 1) === QUOTE) {
        cur += '"';
        i++;
      } else quoted = !quoted;
      from = i + 1;
    } else if (c === sepCode && !quoted) {
      out.push((cur + text.slice(from, i)).trim());
      cur = '';
      from = i + 1;
      if (out.length > MAX_COLUMNS) return out;
    }
  }
  out.push((cur + text.slice(from, end)).trim());
  return withoutTrailingEmpty(out);
}

/** A line bordered with pipes ("| Patient | MRN |", as ASCII and markdown tables draw them): the part between its outer pipes. */
function withinOuterPipes(text: string, from: number, to: number): { start: number; end: number } {
  let start = from;
  let end = to;
  while (start < end && isSpaceCode(text.charCodeAt(start))) start++;
  while (end > start && isSpaceCode(text.charCodeAt(end - 1))) end--;
  if (end - start >= 2 && text.charCodeAt(start) === PIPE && text.charCodeAt(end - 1) === PIPE) return { start: start + 1, end: end - 1 };
  return { start: from, end: to };
}

/** The cells of a line without quotes: as `cells` reads it (cut after MAX_COLUMNS + 1 cells, trailing empty cells dropped). */
function plainCells(line: string, sep: string): string[] {
  const out = line.split(sep);
  // `cells` stops at the separator that ends cell MAX_COLUMNS + 1, and keeps trailing empty cells then
  const cut = out.length > MAX_COLUMNS + 1;
  if (cut) out.length = MAX_COLUMNS + 1;
  for (let k = 0; k < out.length; k++) out[k] = (out[k] as string).trim();
  return cut ? out : withoutTrailingEmpty(out);
}

function withoutTrailingEmpty(out: string[]): string[] {
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

/** The ASCII characters of a label after its first letter: letters, space and _#./()'- (’ is not ASCII). */
const LABEL_REST = /^[A-Za-z _#./()'-]$/;
const LABEL_ASCII = ((): Uint8Array => {
  const set = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (LABEL_REST.test(String.fromCharCode(c))) set[c] = 1;
  return set;
})();

/**
 * A header cell: a short label of letters (and #, _, ., /, parentheses), not a
 * value. A few digits may follow its letters ("ICD10_1", "Dx2", "Addr2"):
 * at most MAX_HEADER_DIGITS, and at least two letters (a value such as
 * "A0048817" or "J3301" is no label).
 */
function labelCell(cell: string): boolean {
  if (cell.length === 0 || cell.length > MAX_HEADER) return false;
  // a numbered list's first column
  if (cell === '#') return true;
  const words = asciiLabelWords(cell);
  if (words !== undefined) return words > 0 && words <= 4;
  return /^[\p{L}][\p{L}\d _#./()'’-]*$/u.test(cell) && fewDigits(cell) && cell.split(/\s+/).length <= 4;
}

/** Digits a header cell may hold (each after a letter, a digit or "_"). */
const MAX_HEADER_DIGITS = 3;

/** Whether a cell holds at most MAX_HEADER_DIGITS digits and, if any, at least two letters (the Unicode path of labelCell). */
function fewDigits(cell: string): boolean {
  const digits = cell.replace(/\D/g, '').length;
  return digits === 0 || (digits <= MAX_HEADER_DIGITS && cell.replace(/[^\p{L}]/gu, '').length >= 2);
}

/**
 * The words of a cell read as ASCII, without the Unicode pattern: 0 when it
 * is no label (an ASCII character the label pattern refuses), undefined when
 * a character beyond ASCII leaves it to the pattern. A label holds no white
 * space but spaces, so its words are its runs of spaces plus one.
 */
function asciiLabelWords(cell: string): number | undefined {
  let words = 1;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < cell.length; i++) {
    const c = cell.charCodeAt(i);
    if (c >= 128) return undefined;
    const letter = (c | 32) >= 97 && (c | 32) <= 122;
    if (letter) letters++;
    else if (i > 0 && isDigit(c) && isWordChar(cell.charCodeAt(i - 1))) {
      digits++;
      continue;
    }
    if (i === 0 ? !letter : LABEL_ASCII[c] !== 1) return 0;
    if (c === 32 && cell.charCodeAt(i - 1) !== 32) words++;
  }
  return digits === 0 || (digits <= MAX_HEADER_DIGITS && letters >= 2) ? words : 0;
}

/** A character that no header line holds (every cell is a label: letters, spaces and _#./()'’-, digits right after a letter, a digit or "_"). */
const NOT_IN_HEADER = /[^\p{L}\d\s"_#./()'’;|,-]|(?<![A-Za-z\d_])\d/u;

/** NOT_IN_HEADER.test(line), read by char codes; the pattern decides once a character beyond ASCII comes before any refused one. */
function notInHeader(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128) return NOT_IN_HEADER.test(line);
    if (refusedAt(line, i, c)) return true;
  }
  return false;
}

/** Whether the ASCII character `c` at text[i] is one no header holds: KIND says never, or a digit not after a letter, a digit or "_" (isWordChar: "ICD10_1"; not "Room 12", not "1985-09-30"). */
function refusedAt(text: string, i: number, c: number): boolean {
  const kind = KIND[c];
  return kind === Kind.Never || (kind === Kind.Digit && !(i > 0 && isWordChar(text.charCodeAt(i - 1))));
}

/** Whether the line, trimmed, ends in a sentence mark (/[.!?:]$/): a sentence, not a header. */
function endsInSentenceMark(line: string): boolean {
  let i = line.length - 1;
  while (i >= 0 && isSpaceCode(line.charCodeAt(i))) i--;
  const c = line.charCodeAt(i);
  return c === 46 || c === 33 || c === 63 || c === 58;
}

/** The separator and cells of a header line, if it is one. */
function header(line: string): { sep: string; names: string[] } | undefined {
  if (line.length > MAX_HEADER_LINE) return undefined;
  // cheap refusals first: a header ends in no sentence mark, and holds only label characters, quotes, separators and spaces
  if (endsInSentenceMark(line)) return undefined;
  if (notInHeader(line)) return spreadsheetHeader(line);
  for (const sep of SEPARATORS) {
    if (!line.includes(sep)) continue;
    const names = cells(line, 0, line.length, sep);
    // "Lauren Whitcomb, MD, FACC" is a signature's name line, "Cedar Ridge Family Medicine | Patient Communications" its organisation's
    if (names.length >= (sep === ',' ? 3 : 2) && names.length <= MAX_COLUMNS && names.every(labelCell) && !nameWithCredentials(names, (cell) => /\s/.test(cell) && personLike(cell)) && !names.some(organisationName) && !nameAndItsValue(names)) return { sep, names: names.map(readableHeader) };
  }
  return undefined;
}

/** Columns a spreadsheet's header has at least, for some of them to be more than labels (SPREADSHEET_LABEL_SHARE). */
const SPREADSHEET_MIN_COLUMNS = 4;
/** The share of a spreadsheet header's cells that must be plain labels (labelCell): at least half. */
const SPREADSHEET_LABEL_SHARE = 0.5;
/** A header cell that is more than a label ("W-4 filing status", "Step 2 (multiple jobs)", "Step 3 dependents $"): it starts with a letter and holds no run of more than three digits. */
const WORDY_HEADER_CELL = /^\p{L}(?!.*\d{4})[^\t]*$/u;

/**
 * A spreadsheet's header (cells separated by tabs, as a sheet's text is
 * written) whose labels hold a form's numbers or signs ("W-4 filing status",
 * "Step 3 dependents $", "I-9 docs"): at least SPREADSHEET_MIN_COLUMNS
 * cells, at least half of them plain labels, the others words of at most
 * MAX_HEADER characters starting with a letter.
 */
function spreadsheetHeader(line: string): { sep: string; names: string[] } | undefined {
  if (!line.includes('\t')) return undefined;
  const names = cells(line, 0, line.length, '\t');
  if (names.length < SPREADSHEET_MIN_COLUMNS || names.length > MAX_COLUMNS) return undefined;
  let labels = 0;
  for (const name of names) {
    if (labelCell(name)) labels++;
    else if (name.length > MAX_HEADER || !WORDY_HEADER_CELL.test(name)) return undefined;
  }
  if (labels < names.length * SPREADSHEET_LABEL_SHARE || names.some(organisationName)) return undefined;
  return { sep: '\t', names: names.map(readableHeader) };
}

/**
 * The abbreviations of column names that database and billing exports use,
 * as the detectors' keywords spell them ("PatAcctNo" → "Pat Acct No" →
 * "patient account number", "Birth_Dt" → "Birth date", "MemberNbr" →
 * "Member number").
 */
const HEADER_WORDS: ReadonlyMap<string, string> = new Map([
  ['pat', 'patient'], ['pt', 'patient'], ['acct', 'account'], ['acc', 'account'], ['nbr', 'number'], ['num', 'number'], ['no', 'number'],
  ['dt', 'date'], ['mbr', 'member'], ['subscr', 'subscriber'], ['nm', 'name'], ['fname', 'first name'], ['lname', 'last name'],
  ['addr', 'address'], ['ins', 'insurance'], ['svc', 'service'], ['bdate', 'birth date'], ['dob', 'DOB'],
]);

/** A camelCase or run-together boundary: a lower-case letter before a capital, or a run of capitals before a capitalised word ("PatDOB", "SubscriberID", "DOBDate"). */
const CASE_BOUNDARY = /(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/g;

/**
 * A header cell as the detectors' keywords read it: underscores as spaces,
 * camelCase split into words, and the usual abbreviations written out
 * (HEADER_WORDS). A header of one word is returned as it is.
 */
export function readableHeader(name: string): string {
  let readable = READ_HEADERS.get(name);
  if (readable === undefined) {
    readable = wordsOfHeader(name);
    // the same exports come again and again: their column names are read once (a bounded memo)
    if (READ_HEADERS.size >= MAX_READ_HEADERS) READ_HEADERS.clear();
    READ_HEADERS.set(name, readable);
  }
  return readable;
}

/** Column names read before, and how readableHeader wrote them. */
const READ_HEADERS = new Map<string, string>();
const MAX_READ_HEADERS = 1024;

function wordsOfHeader(name: string): string {
  const words = name.replace(/_/g, ' ').replace(CASE_BOUNDARY, ' ').split(' ');
  // a header of one word is left as written ("Acct", "DOB": the keywords know them so)
  if (words.length === 1) return name;
  for (let k = 0; k < words.length; k++) {
    const full = HEADER_WORDS.get((words[k] as string).toLowerCase());
    if (full !== undefined) words[k] = full;
  }
  return words.join(' ');
}

/** A person's label as a form's first column gives it ("Name", "Employee name", "Patient"). */
const PERSON_LABEL = /^(?:(?:patient|employee|member|subscriber|client|resident|full|legal)[ _]?)?name$|^(?:patient|employee|member|subscriber|client|resident)$/i;

/** Two cells, a person's label and a person's name ("Name | Jerome Baptiste-Ng"): the first row of a form's label and value pairs, not a header. */
function nameAndItsValue(names: readonly string[]): boolean {
  return names.length === 2 && PERSON_LABEL.test(names[0] ?? '') && /\s/.test(names[1] ?? '') && personLike(names[1] ?? '');
}

/** The last word of an organisation's name. */
const ORGANISATION_LAST_WORD = /^(?:Medicine|Clinic|Clinics|Hospital|Health|Healthcare|Center|Centre|Practice|Pharmacy|Associates|Group|Institute|Foundation|Physicians|Specialists|LLC|Inc)$/;

/** A cell of three words or more ending in an organisation's word ("Cedar Ridge Family Medicine"): a name, not a column's label. */
function organisationName(cell: string): boolean {
  const words = cell.split(' ');
  return words.length >= 3 && ORGANISATION_LAST_WORD.test(words[words.length - 1] ?? '');
}

/** What an ASCII character can be in a header line (NOT_IN_HEADER, and the separators). */
const enum Kind {
  Never = 0,
  Label = 1,
  Separator = 2,
  Comma = 3,
  /** In a header only right after a letter, a digit or "_" (refusedAt). */
  Digit = 4,
}

/** Kind of each ASCII character: letters, whitespace and "_#./()'- are label characters; \t ; | , separators; the rest never in a header. */
const KIND = ((): Uint8Array => {
  const kind = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (!NOT_IN_HEADER.test(ch)) kind[c] = Kind.Label;
  }
  for (let c = 48; c <= 57; c++) kind[c] = Kind.Digit;
  kind[9] = kind[59] = kind[124] = Kind.Separator;
  kind[44] = Kind.Comma;
  return kind;
})();

/**
 * How text[from, to) can serve a header, from its characters alone: -1 when
 * it holds one that NOT_IN_HEADER refuses (ASCII; other characters are left
 * to `header`); otherwise its commas, plus two for each other separator. A
 * line weighing less than two cannot split into two cells (three with
 * commas). Nothing is copied: most lines holding a separator are prose or
 * data rows, refused at their first digit or colon.
 */
function separatorWeight(text: string, from: number, to: number): number {
  let weight = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) continue;
    if (refusedAt(text, i, c)) return -1;
    const kind = KIND[c];
    if (kind === Kind.Separator) weight += 2;
    else if (kind === Kind.Comma) weight++;
  }
  return weight;
}

/** Whether text[start, end) ends in a full stop before its trailing white space: a sentence, never a header. */
function endsInFullStop(text: string, start: number, end: number): boolean {
  let i = end - 1;
  while (i >= start && isSpaceCode(text.charCodeAt(i))) i--;
  return i >= start && text.charCodeAt(i) === 46;
}

/**
 * The next separator character at or after `from`: each separator's next
 * place is looked up (a native search) only once the reading has passed the
 * last one found, so a text is searched once per separator, not once per line.
 */
class SeparatorFinder {
  private readonly next = [-1, -1, -1, -1];
  constructor(private readonly text: string) {}
  at(from: number): number {
    let best = Infinity;
    for (let k = 0; k < SEPARATORS.length; k++) {
      let at = this.next[k] as number;
      if (at < from && at !== Infinity) {
        const found = this.text.indexOf(SEPARATORS[k] as string, from);
        at = found < 0 ? Infinity : found;
        this.next[k] = at;
      }
      if (at < best) best = at;
    }
    return best;
  }
}

/**
 * Where the line holding `index` starts (after the last newline before it,
 * never before `floor`, a line start), or -1 when a character between holds
 * one that no header holds (ASCII, as in `separatorWeight`).
 */
function headerLineStart(text: string, index: number, floor: number): number {
  let i = index;
  for (; i > floor; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === NEWLINE) break;
    if (c < 128 && refusedAt(text, i - 1, c)) return -1;
  }
  return i;
}

/** The header (or a form's first field pair) of the line ending at `end` whose first separator is at `found`, if it is one. */
function headerAt(text: string, found: number, lineFrom: number, end: number): { sep: string; names: string[] } | undefined {
  const start = headerLineStart(text, found, lineFrom);
  if (start < 0 || end - start > MAX_HEADER_LINE) return undefined;
  const headerLine = text.slice(start, end);
  return header(headerLine) ?? fieldPairsStart(headerLine);
}

/** A spreadsheet's header with a form's numbers in its labels (spreadsheetHeader) on the line ending at `end`: asked only of a line whose first separator is a tab and whose first cell starts with a letter. */
function spreadsheetHeaderAt(text: string, found: number, lineFrom: number, end: number): { sep: string; names: string[] } | undefined {
  if (text.charCodeAt(found) !== TAB) return undefined;
  const start = text.lastIndexOf('\n', found) + 1;
  if (start < lineFrom || end - start > MAX_HEADER_LINE || !/^\p{L}/u.test(text.charAt(start))) return undefined;
  return spreadsheetHeader(text.slice(start, end));
}

/** A data row as "header: value; header: value" (a value beyond the header's columns stays bare). */
function labelledRow(values: readonly string[], names: readonly string[]): string {
  let row = '';
  for (let k = 0; k < values.length; k++) {
    const name = names[k];
    if (k > 0) row += '; ';
    row += name ? `${name}: ${values[k] ?? ''}` : (values[k] ?? '');
  }
  return row;
}

/** A line that only rules a table: dashes or equals signs, with pluses, pipes, colons and blanks ("-----+-----", "|:---|---:|"). */
const RULE_LINE = /^[ \t|+:]*[-=]{3,}[-=+|: \t]*\r?$/;

/** The data rows under a header (after a rule line under it), each rewritten as "header: value; …", and where the last one ends. */
function tableRows(text: string, h: { sep: string; names: string[] }, headerEnd: number): { rows: string[]; end: number } {
  const rows: string[] = [];
  let rowsEnd = headerEnd;
  let first = headerEnd + 1;
  // a rule under the header ("---+---", "|---|---|", "=== ==="): the rows start after it
  const ruleEnd = text.indexOf('\n', first);
  if (ruleEnd > first && RULE_LINE.test(text.slice(first, ruleEnd))) first = ruleEnd + 1;
  for (let j = first; j <= text.length && rows.length < MAX_ROWS; ) {
    const nl = text.indexOf('\n', j);
    const lineEnd = nl < 0 ? text.length : nl;
    // a line without the separator is one cell: the table ends there
    const values = cells(text, j, lineEnd, h.sep);
    if (values.length < 2 || Math.abs(values.length - h.names.length) > 1) break;
    rows.push(labelledRow(values, h.names));
    rowsEnd = lineEnd;
    j = lineEnd + 1;
  }
  return { rows, end: rowsEnd };
}

/** A form's field name, as the first cell of a row of two gives it ("Employee ID", "Routing #", "Account #", "Bank", "Dept", "DOB"). */
const FIELD_NAME =
  /^(?:[A-Za-z][A-Za-z .'/()-]{0,30}[ _])?(?:#|no\.?|number|id|name|dob|date|ssn|dept|department|routing|account|acct|bank|type|address|phone|cell|e-?mail|amount|member|group|plan|employer|city|state|zip|sex|gender|age|mrn|insurance|policy|relationship)(?:[ \t]*#)?$/i;

/** A line of two cells (tab, pipe or semicolon between), as a form's first field row may be one that is no header ("Dept | Environmental Services - nights"). */
function fieldPairsStart(line: string): { sep: string; names: string[] } | undefined {
  for (const sep of ['\t', '|', ';'] as const) {
    if (!line.includes(sep)) continue;
    const names = cells(line, 0, line.length, sep);
    if (names.length === 2 && FIELD_NAME.test((names[0] ?? '').trim())) return { sep, names };
    return undefined;
  }
  return undefined;
}

/**
 * A form's fields as rows of two cells, its field's name and its value
 * ("Name | Jerome Baptiste-Ng", "Employee ID | 448120", "Routing # |
 * 271974664"): every row of two cells, the first cells all different, and at
 * least two of them field names (FIELD_NAME). Read as "field: value" lines
 * from the first row, which is no header. Undefined for a table of columns.
 */
function fieldPairs(text: string, h: { sep: string; names: string[] }, headerEnd: number): { rows: string[]; end: number } | undefined {
  if (h.names.length !== 2) return undefined;
  const pairs = [h.names];
  let end = headerEnd;
  for (let j = headerEnd + 1; j <= text.length && pairs.length < MAX_ROWS; ) {
    const nl = text.indexOf('\n', j);
    const lineEnd = nl < 0 ? text.length : nl;
    const values = cells(text, j, lineEnd, h.sep);
    if (values.length !== 2) break;
    pairs.push(values);
    end = lineEnd;
    j = lineEnd + 1;
  }
  if (pairs.length < 3) return undefined;
  const fields = pairs.map((row) => (row[0] ?? '').trim());
  if (new Set(fields.map((f) => f.toLowerCase())).size !== fields.length || fields.filter((f) => FIELD_NAME.test(f)).length < 2) return undefined;
  return { rows: pairs.map((row, k) => `${fields[k] ?? ''}: ${(row[1] ?? '').trim()}`), end };
}

export function labelTables(text: string): string {
  // only the lines holding a separator are read; the text is split nowhere else, and returned as it is when it holds no table
  let out = '';
  const separators = new SeparatorFinder(text);
  let copied = 0;
  // always a line start
  let from = 0;
  for (;;) {
    const found = separators.at(from);
    if (found === Infinity) break;
    const end = text.indexOf('\n', found);
    // the last line is never a header: no row follows it
    if (end < 0) break;
    const lineFrom = from;
    from = end + 1;
    // the cheapest refusals first: a full stop at the end, then what follows the line's first separator (none precedes it: `from` is a line start), then what precedes it
    if (end - found > MAX_HEADER_LINE || endsInFullStop(text, found, end)) continue;
    const h = separatorWeight(text, found, end) < 2 ? spreadsheetHeaderAt(text, found, lineFrom, end) : headerAt(text, found, lineFrom, end);
    if (!h) continue;
    const pairs = fieldPairs(text, h, end);
    if (pairs) {
      // a form's fields, one a row ("Employee ID | 448120", "Routing # | 271974664"): each row is "field: value", the first too
      out += `${text.slice(copied, end + 1)}${pairs.rows.join('\n')}`;
      copied = pairs.end;
      from = pairs.end + 1;
      continue;
    }
    const { rows, end: rowsEnd } = tableRows(text, h, end);
    if (rows.length === 0) continue;
    out += text.slice(copied, end + 1) + rows.join('\n');
    copied = rowsEnd;
    // the line that ends the table may start the next one
    from = rowsEnd + 1;
  }
  // the rewritten text is left as pieces (joined once, when a detector first reads it)
  return out === '' ? text : out + text.slice(copied);
}
