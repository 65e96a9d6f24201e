/**
 * The text of Office XML parts (OOXML: DOCX, XLSX, PPTX; OpenDocument: ODT,
 * ODS, ODP) as the reader sees it: runs joined without separators (a number
 * Word split over several runs reads whole), tabs, line breaks, paragraph,
 * table cell and row ends as whitespace, field codes skipped, entities
 * decoded once.
 *
 * One left-to-right pass over the XML (a tokenizer, no regular expression
 * over the document): time linear in its length, memory for the output and a
 * few counters — no element stack, so deep nesting costs nothing. An
 * unterminated tag or comment ends the part.
 *
 * Tracked deletions (`w:delText`, ODF `text:deletion`) are still in the file
 * and still readable by whoever receives it: they are scanned.
 */

/** How a part is read. */
export type OfficePartKind = 'ooxml' | 'odf' | 'properties' | 'sheet' | 'shared-strings' | 'xml';

const ENTITY = /&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g;

/** XML character and entity references decoded once (`&amp;lt;` stays `&lt;`). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (whole, ref: string) => {
    switch (ref) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
    }
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

interface Tag {
  /** Local name (prefix removed). */
  readonly name: string;
  readonly closing: boolean;
  readonly selfClosing: boolean;
  /** The raw attribute text (for the few attributes read). */
  readonly attrs: string;
  /** Index after the tag's `>`. */
  readonly end: number;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The tag starting at `i` (at `<`), or undefined when it is not terminated. Quoted attribute values may hold `>`. */
function readTag(xml: string, i: number): Tag | undefined {
  let j = i + 1;
  const closing = xml.charCodeAt(j) === 0x2f;
  if (closing) j++;
  const nameStart = j;
  while (j < xml.length) {
    const c = xml.charCodeAt(j);
    if (isSpace(c) || c === 0x2f || c === 0x3e) break;
    j++;
  }
  const qname = xml.slice(nameStart, j);
  const attrStart = j;
  let quote = 0;
  for (; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e) {
      break;
    }
  }
  if (j >= xml.length) return undefined;
  const selfClosing = xml.charCodeAt(j - 1) === 0x2f;
  const colon = qname.indexOf(':');
  return { name: colon >= 0 ? qname.slice(colon + 1) : qname, closing, selfClosing, attrs: xml.slice(attrStart, selfClosing ? j - 1 : j), end: j + 1 };
}

/** One attribute's value by local name (`text:c="3"` → "3"), from a tag's attribute text. */
function attr(attrs: string, local: string): string | undefined {
  const re = new RegExp(`(?:^|[\\s:])${local}\\s*=\\s*("[^"]*"|'[^']*')`);
  const m = re.exec(attrs);
  return m?.[1]?.slice(1, -1);
}

const PROPERTY_TEXT = new Set(['title', 'subject', 'keywords', 'keyword', 'description']);
/** Elements whose content is never shown (phonetic guides, a drawing's fallback copy of text shown once already, field codes). */
const OOXML_HIDDEN = new Set(['rPh', 'Fallback', 'instrText', 'tabs']);

/** Streams the text events of one part to `emit`. */
function walk(xml: string, kind: Exclude<OfficePartKind, 'sheet' | 'shared-strings'>, sink: (s: string) => void, onEnd?: (name: string) => void): void {
  // a paragraph's end is written when the next text comes: a table cell's end right after it
  // gives one tab ("name<TAB>value"), not a newline and a tab
  let pending = false;
  const emit = (s: string): void => {
    if (pending) sink('\n');
    pending = false;
    sink(s);
  };
  const cell = (): void => {
    pending = false;
    sink('\t');
  };
  const brk = (): void => {
    if (pending) sink('\n');
    pending = true;
  };
  const deleted: string[] = [];
  walkTokens(xml, kind, emit, brk, cell, deleted, onEnd);
  if (deleted.length > 0) {
    if (!pending) sink('\n');
    emit(deleted.join(''));
  }
  if (pending) sink('\n');
}

function walkTokens(xml: string, kind: Exclude<OfficePartKind, 'sheet' | 'shared-strings'>, emit: (s: string) => void, brk: () => void, cell: () => void, deleted: string[], onEnd?: (name: string) => void): void {
  let i = 0;
  /** Inside a text element (OOXML `t`, ODF `p`/`h`, a property, or anything for plain XML). */
  let inText = kind === 'xml' ? 1 : 0;
  let hidden = 0;
  let inDeleted = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > i && hidden === 0) {
      if (inDeleted > 0) deleted.push(decodeEntities(xml.slice(i, textEnd)));
      else if (inText > 0) emit(decodeEntities(xml.slice(i, textEnd)));
    }
    if (lt < 0) return;
    if (xml.startsWith('<!--', lt)) {
      const e = xml.indexOf('-->', lt + 4);
      if (e < 0) return;
      i = e + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      const e = xml.indexOf(']]>', lt + 9);
      if (e < 0) return;
      if (inText > 0 && hidden === 0) emit(xml.slice(lt + 9, e));
      i = e + 3;
      continue;
    }
    if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      const e = xml.indexOf('>', lt + 2);
      if (e < 0) return;
      i = e + 1;
      continue;
    }
    const tag = readTag(xml, lt);
    if (!tag) return;
    i = tag.end;
    const { name } = tag;
    if (kind === 'xml') {
      emit(' ');
      continue;
    }
    if (OOXML_HIDDEN.has(name) && kind === 'ooxml') {
      if (!tag.selfClosing) hidden = Math.max(0, hidden + (tag.closing ? -1 : 1));
      continue;
    }
    if (kind === 'ooxml') {
      if (name === 't') {
        if (!tag.selfClosing) inText = Math.max(0, inText + (tag.closing ? -1 : 1));
        continue;
      }
      // a tracked deletion: kept apart (after the part's text), so the text as it now reads stays whole
      if (name === 'delText') {
        if (!tag.selfClosing) inDeleted = Math.max(0, inDeleted + (tag.closing ? -1 : 1));
        continue;
      }
      if (name === 'del' && tag.closing) {
        deleted.push('\n');
        continue;
      }
      if (hidden > 0) continue;
      if (tag.closing) {
        if (name === 'p' || name === 'tr' || name === 'si') brk();
        else if (name === 'tc') cell();
        onEnd?.(name);
        continue;
      }
      if (name === 'tab' || name === 'ptab') emit('\t');
      else if (name === 'br' || name === 'cr') brk();
      else if (name === 'noBreakHyphen') emit('-');
      if (tag.selfClosing) onEnd?.(name);
      continue;
    }
    if (kind === 'properties') {
      if (PROPERTY_TEXT.has(name) && !tag.selfClosing) {
        inText = Math.max(0, inText + (tag.closing ? -1 : 1));
        if (tag.closing) brk();
      }
      continue;
    }
    // OpenDocument: the text of a paragraph or heading, its spans, links and notes included
    if (name === 'note-body') {
      brk();
      continue;
    }
    if (name === 'note-citation') {
      // the footnote's number, shown as a superscript: read next to the text it would join a number
      if (!tag.selfClosing) hidden = Math.max(0, hidden + (tag.closing ? -1 : 1));
      continue;
    }
    if (name === 'p' || name === 'h') {
      if (!tag.selfClosing) inText = Math.max(0, inText + (tag.closing ? -1 : 1));
      if (tag.closing || tag.selfClosing) brk();
      continue;
    }
    if (tag.closing) {
      if (name === 'table-cell' || name === 'covered-table-cell') cell();
      else if (name === 'table-row') brk();
      continue;
    }
    if (name === 's') {
      const n = Number(attr(tag.attrs, 'c') ?? '1');
      emit(' '.repeat(Number.isInteger(n) && n > 0 ? Math.min(n, 16) : 1));
    } else if (name === 'tab') {
      emit('\t');
    } else if (name === 'line-break') {
      brk();
    }
  }
}

/** The text of one Office XML part (not a worksheet: see `sheetText`). */
export function officeXmlText(xml: string, kind: Exclude<OfficePartKind, 'sheet' | 'shared-strings'>): string {
  const out: string[] = [];
  walk(xml, kind, (s) => out.push(s));
  return out.join('');
}

/** XML to text for parts read as plain XML: tags become spaces, entities decoded. */
export function xmlText(xml: string): string {
  return officeXmlText(xml, 'xml').replace(/[ \t]{2,}/g, ' ');
}

/** The strings of an XLSX shared-string table (`xl/sharedStrings.xml`), one per `<si>`, rich-text runs joined. */
export function sharedStrings(xml: string): string[] {
  const strings: string[] = [];
  let current: string[] = [];
  walk(xml, 'ooxml', (s) => {
    if (s !== '\n') current.push(s);
  }, (name) => {
    if (name === 'si') {
      strings.push(current.join(''));
      current = [];
    }
  });
  return strings;
}

/**
 * The text of an XLSX worksheet as the grid shows it: each cell's value
 * (a shared string by its index, an inline string with its runs joined, a
 * number or a formula's cached result), cells separated by a tab, rows by a
 * newline. Formulas themselves are not read. `used` collects the indexes of
 * shared strings the sheet shows.
 */
export function sheetText(xml: string, strings: readonly string[], used?: Set<number>): string {
  const out: string[] = [];
  let type = '';
  let inValue = 0;
  let inInline = 0;
  let inT = 0;
  let hidden = 0;
  let value: string[] = [];
  // the next cell's column in the row being read
  let column = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > i && hidden === 0 && (inValue > 0 || (inInline > 0 && inT > 0))) value.push(decodeEntities(xml.slice(i, textEnd)));
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt) || xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      const close = xml.startsWith('<!--', lt) ? '-->' : '>';
      const e = xml.indexOf(close, lt + 2);
      if (e < 0) break;
      i = e + close.length;
      continue;
    }
    const tag = readTag(xml, lt);
    if (!tag) break;
    i = tag.end;
    const step = tag.selfClosing ? 0 : tag.closing ? -1 : 1;
    switch (tag.name) {
      case 'c':
        if (!tag.closing) {
          type = attr(tag.attrs, 't') ?? '';
          value = [];
          // a sheet leaves empty cells out: the cell's reference ("E3") says how many tabs stand for them, so values stay under their headers
          const at = columnOf(attr(tag.attrs, 'r'));
          if (at !== undefined && at > column) out.push('\t'.repeat(Math.min(at - column, MAX_EMPTY_CELLS)));
          column = at === undefined ? column + 1 : Math.max(at, column) + 1;
        }
        if (tag.closing || tag.selfClosing) {
          const v = value.join('');
          if (type === 's') {
            const n = Number(v.trim());
            if (Number.isInteger(n) && n >= 0 && n < strings.length) {
              out.push(strings[n] ?? '');
              used?.add(n);
            }
          } else {
            out.push(v);
          }
          out.push('\t');
          value = [];
        }
        break;
      case 'v':
        inValue = Math.max(0, inValue + step);
        break;
      case 'is':
        inInline = Math.max(0, inInline + step);
        break;
      case 't':
        inT = Math.max(0, inT + step);
        break;
      case 'rPh':
        hidden = Math.max(0, hidden + step);
        break;
      case 'row':
        if (tag.closing) out.push('\n');
        column = 0;
        break;
    }
  }
  return out.join('');
}

/** At most this many empty cells are written before a value (a reference far to the right, "XFD1", writes no megabyte of tabs). */
const MAX_EMPTY_CELLS = 64;

/** The 0-based column of a cell reference ("A1" 0, "E3" 4, "AA10" 26), or undefined without one. */
export function columnOf(reference: string | undefined): number | undefined {
  const letters = reference === undefined ? null : /^([A-Za-z]{1,3})\d*$/.exec(reference);
  if (!letters?.[1]) return undefined;
  let n = 0;
  for (const ch of letters[1].toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}
