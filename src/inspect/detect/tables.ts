/**
 * Tables as a reader reads them: in a CSV export, a spreadsheet or a
 * tab-separated list, the header names each column ("patient_name",
 * "birth_date", "Chart #"), however far the value sits from it. Each data row
 * of a table is rewritten as "header: value; header: value", so the keyword
 * and proximity rules of the detectors see a value next to its label.
 * Pure; linear in the text (a bounded number of rows per table is
 * rewritten, the rest kept as they are).
 */

const SEPARATORS = ['\t', ';', '|', ','] as const;
/** Rows rewritten per table (the rest stay as they are: the first rows are what decide). */
const MAX_ROWS = 2000;
const MAX_HEADER = 40;
const MAX_COLUMNS = 60;

/** Split one line on `sep`, honouring double quotes ("Friedman, Mei"). */
function cells(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      if (quoted && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === sep && !quoted) {
      out.push(cur.trim());
      cur = '';
      if (out.length > MAX_COLUMNS) return out;
    } else cur += c;
  }
  out.push(cur.trim());
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

/** A header cell: a short label of letters (and #, _, ., /, parentheses), not a value. */
function labelCell(cell: string): boolean {
  return cell.length > 0 && cell.length <= MAX_HEADER && /^[\p{L}][\p{L} _#./()'’-]*$/u.test(cell) && cell.split(/\s+/).length <= 4;
}

/** A character that no header line holds (every cell is a label: letters, spaces and _#./()'’-). */
const NOT_IN_HEADER = /[^\p{L}\s"_#./()'’;|,-]/u;

/** The separator and cells of a header line, if it is one. */
function header(line: string): { sep: string; names: string[] } | undefined {
  if (line.length > 2000) return undefined;
  // cheap refusals first: a header ends in no sentence mark, and holds only label characters, quotes, separators and spaces
  if (/[.!?:]$/.test(line.trim()) || NOT_IN_HEADER.test(line)) return undefined;
  for (const sep of SEPARATORS) {
    if (!line.includes(sep)) continue;
    const names = cells(line, sep);
    if (names.length >= (sep === ',' ? 3 : 2) && !/[.!?:]$/.test(line.trim()) && names.length <= MAX_COLUMNS && names.every(labelCell)) return { sep, names: names.map((n) => n.replace(/_/g, ' ')) };
  }
  return undefined;
}

/** A separator character: only lines holding one can be a table's header. */
const ANY_SEPARATOR = /[\t;|,]/g;

export function labelTables(text: string): string {
  // only the lines holding a separator are read; the text is split nowhere else
  const parts: string[] = [];
  let copied = 0;
  let from = 0;
  for (;;) {
    ANY_SEPARATOR.lastIndex = from;
    const found = ANY_SEPARATOR.exec(text);
    if (!found) break;
    const start = text.lastIndexOf('\n', found.index) + 1;
    const end = text.indexOf('\n', found.index);
    // the last line is never a header: no row follows it
    if (end < 0) break;
    const h = header(text.slice(start, end));
    from = end + 1;
    if (!h) continue;
    const rows: string[] = [];
    let rowsEnd = end;
    for (let j = end + 1; j <= text.length && rows.length < MAX_ROWS; ) {
      const nl = text.indexOf('\n', j);
      const lineEnd = nl < 0 ? text.length : nl;
      const line = text.slice(j, lineEnd);
      if (!line.includes(h.sep)) break;
      const values = cells(line, h.sep);
      if (values.length < 2 || Math.abs(values.length - h.names.length) > 1) break;
      rows.push(values.map((v, k) => (h.names[k] ? `${h.names[k]}: ${v}` : v)).join('; '));
      rowsEnd = lineEnd;
      j = lineEnd + 1;
    }
    if (rows.length === 0) continue;
    parts.push(text.slice(copied, end + 1), rows.join('\n'));
    copied = rowsEnd;
    // the line that ends the table may start the next one
    from = rowsEnd + 1;
  }
  ANY_SEPARATOR.lastIndex = 0;
  if (parts.length === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}
