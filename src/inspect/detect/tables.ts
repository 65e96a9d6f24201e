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

/** The separator and cells of a header line, if it is one. */
function header(line: string): { sep: string; names: string[] } | undefined {
  if (line.length > 2000) return undefined;
  for (const sep of SEPARATORS) {
    if (!line.includes(sep)) continue;
    const names = cells(line, sep);
    if (names.length >= (sep === ',' ? 3 : 2) && !/[.!?:]$/.test(line.trim()) && names.length <= MAX_COLUMNS && names.every(labelCell)) return { sep, names: names.map((n) => n.replace(/_/g, ' ')) };
  }
  return undefined;
}

export function labelTables(text: string): string {
  if (!/[\t;|,]/.test(text)) return text;
  const lines = text.split('\n');
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    const h = header(lines[i] ?? '');
    if (!h) continue;
    let rows = 0;
    let j = i + 1;
    for (; j < lines.length && rows < MAX_ROWS; j++) {
      const line = lines[j] ?? '';
      if (!line.includes(h.sep)) break;
      const values = cells(line, h.sep);
      if (values.length < 2 || Math.abs(values.length - h.names.length) > 1) break;
      lines[j] = values.map((v, k) => (h.names[k] ? `${h.names[k]}: ${v}` : v)).join('; ');
      rows++;
    }
    if (rows > 0) {
      changed = true;
      i = j - 1;
    }
  }
  return changed ? lines.join('\n') : text;
}
