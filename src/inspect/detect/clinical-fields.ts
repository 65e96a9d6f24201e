/**
 * Structured clinical formats as a reader reads them. HL7 v2, X12, C-CDA and
 * FHIR carry their labels in field positions and code-system identifiers
 * (PID-7 is the date of birth, DMG*D8 a birth date, codeSystem
 * 2.16.840.1.113883.6.90 an ICD-10-CM code), not in words next to the
 * values, so the keyword detectors see no "DOB" or "ICD-10" near them. Like
 * the table pre-pass (tables.ts), this writes what those fields say as plain
 * "label: value" lines ("DOB: 04/20/1945", "Diagnosis ICD-10: M17.11") that
 * the detectors read after the text. The lines exist only inside the
 * inspection: the detectors mask what they report.
 *
 * Each line is kept apart from the others (and from the text before it) by a
 * gap wider than any detector's keyword window, so a label only ever
 * supports its own value ("MRN:" never lends itself to an NPI on the next
 * line).
 *
 * Bounded and linear: at most MAX_DOCUMENTS messages, interchanges,
 * documents or resources per text, MAX_SEGMENTS segments each, MAX_LINES
 * lines out; segments and XML elements are cut to a fixed length before any
 * regular expression sees them, and no expression has nested quantifiers.
 */
import { isSpaceCode } from './char-codes.js';
import { npiValid } from './checksums.js';
import { testPatientName } from './test-patients.js';

const MAX_DOCUMENTS = 100;
const MAX_SEGMENTS = 5000;
const MAX_LINES = 400;
/** Characters of one segment (or XML element) looked at. */
const MAX_SEGMENT = 4096;
/** Wider than the widest keyword window (80 characters). */
const GAP = `\n${' '.repeat(100)}\n`;

/**
 * text.indexOf(needle, from), searching for the six characters of `needle`
 * from `offset` on (and checking the rest where they are): V8 searches a
 * string of under seven characters by its first character, a longer one by
 * a skip table that reads mail text several times slower. `offset` picks a
 * piece that starts with a character rare in mail and in the formats. Where
 * the piece is found more often than once in MISS_SPACING characters without
 * the needle (a text made to be slow), the rest is searched for the whole
 * needle.
 */
export function findLiteral(text: string, needle: string, from: number, offset = 0): number {
  const piece = needle.slice(offset, offset + 6);
  let misses = 0;
  for (let at = text.indexOf(piece, from + offset); at >= 0; at = text.indexOf(piece, at + 1)) {
    const start = at - offset;
    if (start >= from && text.startsWith(needle, start)) return start;
    // no needle starts before start + 1: each start up to here has had its piece looked at
    if (++misses > 16 && misses * MISS_SPACING > at - from) return text.indexOf(needle, Math.max(from, start + 1));
  }
  return -1;
}
const MISS_SPACING = 64;

/** Collects the lines, without repeats, up to MAX_LINES. */
class Lines {
  readonly seen = new Set<string>();
  /** The values seen per label: a repeat is refused before its line is built. */
  private readonly values = new Map<string, Set<string>>();
  add(label: string, value: string | undefined): void {
    const v = oneSpaced(value ?? '');
    if (!v || v.length > 200 || this.full()) return;
    let known = this.values.get(label);
    if (!known) {
      known = new Set();
      this.values.set(label, known);
    }
    if (known.has(v)) return;
    known.add(v);
    this.seen.add(`${label}: ${v}`);
  }
  full(): boolean {
    return this.seen.size >= MAX_LINES;
  }
}

/** `s` with each run of white space made one space, trimmed (the pattern runs only where a run or another space than " " is there). */
function oneSpaced(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 ? isSpaceCode(s.charCodeAt(i + 1)) : isSpaceCode(c)) return s.replace(/\s+/g, ' ').trim();
  }
  return s.trim();
}

/** "MORALES" → "Morales", "SMITH-JONES" → "Smith-Jones", "o'brien" → "O'brien". */
export function titleCase(s: string): string {
  const lower = s.toLowerCase();
  return asciiTitleCase(lower) ?? lower.replace(/(^|[\s-])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

/**
 * titleCase of a lower-case ASCII string without the pattern (a letter at the
 * start or after white space or a hyphen made upper case); undefined for any
 * other string, whose letters and spaces the Unicode pattern decides.
 */
function asciiTitleCase(lower: string): string | undefined {
  let out = '';
  let from = 0;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c >= 128) return undefined;
    if (c >= 97 && c <= 122 && (i === 0 || lower.charCodeAt(i - 1) === 45 || isSpaceCode(lower.charCodeAt(i - 1)))) {
      out += lower.slice(from, i) + String.fromCharCode(c - 32);
      from = i + 1;
    }
  }
  return out + lower.slice(from);
}

/** Two letters in a row (/\p{L}{2}/u), seen without the pattern when two ASCII letters are. */
function twoLetters(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 32;
    if (c >= 97 && c <= 122) {
      if (++run === 2) return true;
    } else run = 0;
  }
  return /\p{L}{2}/u.test(s);
}

/** A person's name in reading order, title case: given, a middle initial, family. */
function personName(given: string | undefined, family: string | undefined, middle?: string): string | undefined {
  const g = (given ?? '').trim();
  const f = (family ?? '').trim();
  if (!twoLetters(g) || !twoLetters(f)) return undefined;
  const m = (middle ?? '').trim();
  const mid = /^\p{L}/u.test(m) ? ` ${m[0]?.toUpperCase() ?? ''}.` : '';
  return `${titleCase(g)}${mid} ${titleCase(f)}`;
}

/** YYYYMMDD[…] or YYYY-MM-DD[…] → MM/DD/YYYY, when it is a calendar date. */
export function usDate(value: string | undefined): string | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec((value ?? '').trim());
  if (!m) return undefined;
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(y) < 1850) return undefined;
  return `${mo}/${d}/${y}`;
}

/** An ICD-10-CM code with its dot (X12 and some HL7 feeds write "E119" for E11.9). */
export function icd10WithDot(code: string | undefined): string | undefined {
  const c = (code ?? '').trim().toUpperCase();
  if (/^[A-TV-Z]\d[0-9AB]\.[0-9A-Z]{1,4}$/.test(c) || /^[A-TV-Z]\d[0-9AB]$/.test(c)) return c;
  if (/^[A-TV-Z]\d[0-9AB][0-9A-Z]{1,4}$/.test(c)) return `${c.slice(0, 3)}.${c.slice(3)}`;
  return undefined;
}

/** An 11-digit billing NDC without hyphens → 5-4-2; a hyphenated one as it is. */
function ndcForm(code: string | undefined): string | undefined {
  const c = (code ?? '').trim();
  if (/^\d{4,5}-\d{3,4}-\d{1,2}$/.test(c)) return c;
  if (/^\d{11}$/.test(c)) return `${c.slice(0, 5)}-${c.slice(5, 9)}-${c.slice(9)}`;
  return undefined;
}

function address(street: string | undefined, city: string | undefined, state: string | undefined, zip: string | undefined): string | undefined {
  const s = (street ?? '').trim();
  if (!/\d/.test(s) || !/\p{L}/u.test(s)) return undefined;
  const place = [(city ?? '').trim(), [(state ?? '').trim(), (zip ?? '').trim()].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return place ? `${s}, ${place}` : s;
}

// ---------------------------------------------------------------- HL7 v2

const HL7_ICD10 = /^(?:I10|I10C|I10-CM|ICD10|ICD-?10-?CM|ICD10CM)$/i;
const HL7_CPT = /^(?:C4|C5|CPT|CPT4|CPT-4|HCPCS|HCPC|HPC)$/i;

interface Hl7Seps {
  readonly field: string;
  readonly comp: string;
  readonly rep: string;
  readonly sub: string;
}

/** What precedes the first `sep` in `value` (all of it without one): value.split(sep)[0] without the array. */
function firstPart(value: string, sep: string): string {
  const at = value.indexOf(sep);
  return at < 0 ? value : value.slice(0, at);
}

/** HL7 escapes (\\F\\, \\X0D\\ …) made spaces: the pattern runs only where a backslash is. */
function unescaped(component: string): string {
  return component.includes('\\') ? component.replace(/\\[A-Z.][^\\]{0,8}\\/g, ' ') : component;
}

/** The components of a field's first repetition (or of the repetition given). */
function comps(field: string | undefined, s: Hl7Seps): string[] {
  const parts = (field ?? '').split(s.comp);
  for (let k = 0; k < parts.length; k++) parts[k] = unescaped(firstPart(parts[k] ?? '', s.sub));
  return parts;
}

function reps(field: string | undefined, s: Hl7Seps): string[] {
  return (field ?? '').split(s.rep).slice(0, 20);
}

/** A provider (XCN) whose identifier is an NPI: marked so (assigning authority, type) or ten digits passing the NPI check. */
function hl7Npi(field: string | undefined, s: Hl7Seps, out: Lines): void {
  for (const r of reps(field, s)) {
    const c = comps(r, s);
    const id = (c[0] ?? '').trim();
    if (/NPI/i.test(`${c[8] ?? ''} ${c[12] ?? ''}`) || (/^[12]\d{9}$/.test(id) && npiValid(id))) out.add('NPI', id);
  }
}

function hl7Code(field: string | undefined, s: Hl7Seps, out: Lines): void {
  for (const r of reps(field, s)) {
    const c = comps(r, s);
    // CE/CWE: code, text, coding system; then the alternate code, text and system
    for (const [code, system] of [[c[0], c[2]], [c[3], c[5]]] as const) {
      const sys = (system ?? '').trim();
      if (HL7_ICD10.test(sys)) out.add('Diagnosis ICD-10', icd10WithDot(code));
      else if (HL7_CPT.test(sys)) out.add('CPT', code);
      else if (/^NDC$/i.test(sys)) out.add('NDC', ndcForm(code));
    }
  }
}

/** The HL7 segments whose fields are read (the others are not split). */
const HL7_READ = new Set(['PID', 'NK1', 'GT1', 'IN1', 'DG1', 'PR1', 'OBX', 'OBR', 'ORC', 'PV1', 'RXA', 'RXE', 'RXD', 'RXO']);

function hl7Segment(seg: string, s: Hl7Seps, out: Lines): void {
  const id = seg.slice(0, 3);
  if (!HL7_READ.has(id)) return;
  const f = seg.split(s.field);
  switch (id) {
    case 'PID': {
      const name = comps(reps(f[5], s)[0], s);
      // a test patient's segment ("ZZTEST^PATIENT", interface builds' and vendors' samples) is no one's: nothing of it is written out
      if (testPatientName(`${name[0] ?? ''}^${name[1] ?? ''}`)) break;
      // PID-2/3/4 patient identifiers: typed MR (medical record) or SS; PID-3 untyped is the record number
      for (const k of [2, 3, 4]) {
        for (const r of reps(f[k], s)) {
          const c = comps(r, s);
          const type = (c[4] ?? '').trim().toUpperCase();
          if (type === 'SS') out.add('SSN', c[0]);
          else if (type === 'MR' || type === 'MRN' || type === 'PI' || type === 'PT' || (k === 3 && type === '')) out.add('MRN', c[0]);
        }
      }
      out.add('Patient name', personName(name[1], name[0], name[2]));
      out.add('DOB', usDate(comps(f[7], s)[0]));
      const addr = comps(reps(f[11], s)[0], s);
      out.add('Address', address(addr[0], addr[2], addr[3], addr[4]));
      out.add('SSN', /^\d{3}-?\d{2}-?\d{4}$/.test((f[19] ?? '').trim()) ? f[19] : undefined);
      break;
    }
    case 'NK1':
    case 'GT1': {
      const name = comps(reps(f[id === 'NK1' ? 2 : 3], s)[0], s);
      out.add('Name', personName(name[1], name[0], name[2]));
      break;
    }
    case 'IN1': {
      const name = comps(reps(f[16], s)[0], s);
      out.add('Insured', personName(name[1], name[0], name[2]));
      break;
    }
    case 'DG1':
    case 'PR1':
    case 'OBX':
      hl7Code(f[3], s, out);
      break;
    case 'OBR':
      hl7Code(f[4], s, out);
      hl7Npi(f[16], s, out);
      break;
    case 'ORC':
      hl7Npi(f[12], s, out);
      break;
    case 'PV1':
      for (const k of [7, 8, 9, 17]) hl7Npi(f[k], s, out);
      break;
    case 'RXA':
      hl7Code(f[5], s, out);
      break;
    case 'RXE':
    case 'RXD':
      hl7Code(f[2], s, out);
      break;
    case 'RXO':
      hl7Code(f[1], s, out);
      break;
  }
}

/** A character that the MSH pattern takes as a separator: [^A-Za-z0-9\\s]. */
function hl7Separator(c: number): boolean {
  return !(c >= 48 && c <= 57) && !(c >= 65 && c <= 90) && !(c >= 97 && c <= 122) && !isSpaceCode(c) && !Number.isNaN(c);
}

interface MshHeader {
  /** Where "MSH" starts. */
  readonly at: number;
  /** Where the header's separators end (where the pattern's match ends). */
  readonly end: number;
  readonly field: string;
  readonly comp: string;
  readonly rep: string;
  readonly sub: string | undefined;
}

/**
 * The first message header whose match starts at or after `from`, as
 * /(?:^|[\r\n])MSH([^A-Za-z0-9\s]){4}([^A-Za-z0-9\s])?/g from lastIndex
 * `from` finds it: "MSH" at the start of the text (when `from` is 0) or after
 * a CR or LF at or after `from`, then four separators and an optional fifth.
 * Found by a native search for "MSH", not by the pattern tried at every place.
 */
function nextMsh(text: string, from: number): MshHeader | undefined {
  for (let at = text.indexOf('MSH', from); at >= 0; at = text.indexOf('MSH', at + 1)) {
    const before = at > 0 ? text.charCodeAt(at - 1) : -1;
    const lineStart = at === 0 ? from === 0 : at - 1 >= from && (before === 13 || before === 10);
    if (!lineStart || !(hl7Separator(text.charCodeAt(at + 3)) && hl7Separator(text.charCodeAt(at + 4)) && hl7Separator(text.charCodeAt(at + 5)) && hl7Separator(text.charCodeAt(at + 6)))) continue;
    const fifth = hl7Separator(text.charCodeAt(at + 7));
    return { at, end: at + (fifth ? 8 : 7), field: text.charAt(at + 3), comp: text.charAt(at + 4), rep: text.charAt(at + 5), sub: fifth ? text.charAt(at + 7) : undefined };
  }
  return undefined;
}

/** Whether text[i, i + 3) is a segment id: an upper-case letter, then two upper-case letters or digits. */
function segmentId(text: string, i: number): boolean {
  const a = text.charCodeAt(i);
  const b = text.charCodeAt(i + 1);
  const c = text.charCodeAt(i + 2);
  const upper = (x: number): boolean => x >= 65 && x <= 90;
  const upperOrDigit = (x: number): boolean => upper(x) || (x >= 48 && x <= 57);
  return upper(a) && upperOrDigit(b) && upperOrDigit(c);
}

/** Where the segment (or line) that starts at `i` ends: at the next CR or LF, `limit` at most. */
function segmentEnd(text: string, i: number, limit: number): number {
  let end = i;
  for (; end < limit; end++) {
    const c = text.charCodeAt(end);
    if (c === 13 || c === 10) break;
  }
  return end;
}

/** Whether an X12 interchange header (the ISA segment up to its last element separator) has the usage indicator ISA15 "T" (test). */
export function x12TestInterchange(isa: string, sep: string): boolean {
  return isa.split(sep)[15]?.trim() === 'T';
}

/** Whether an MSH segment's processing id (MSH-11, the tenth field after the segment id) is "T" (test) or "D" (debugging). */
export function hl7TestMessage(msh: string, field: string, comp: string): boolean {
  const id = (msh.split(field)[10] ?? '').split(comp)[0]?.trim();
  return id === 'T' || id === 'D';
}

/** Every HL7 v2 message: MSH with its own separators, its segments up to the next MSH or a line that is not a segment. */
function hl7(text: string, out: Lines): void {
  let messages = 0;
  for (let m = nextMsh(text, 0); m && messages < MAX_DOCUMENTS && !out.full(); ) {
    messages++;
    const { field, comp, rep, sub } = m;
    if (comp === field || rep === field || rep === comp) {
      m = nextMsh(text, m.end);
      continue;
    }
    const seps: Hl7Seps = { field, comp, rep, sub: sub && sub !== field ? sub : '&' };
    let i = m.at;
    // a test or debugging message (MSH-11, the processing id, "T" or "D"): its persons are no one, nothing of it is written out
    let test = false;
    // the segments that follow: three upper-case letters or digits and the field separator
    for (let n = 0; n < MAX_SEGMENTS && i < text.length && !out.full(); n++) {
      let end = segmentEnd(text, i, Math.min(text.length, i + MAX_SEGMENT));
      if (n > 0 && text.startsWith('MSH', i) && end - i >= 3) break;
      if (end > i) {
        if (end - i < 4 || !segmentId(text, i) || text.charAt(i + 3) !== field) break;
        if (n === 0) test = hl7TestMessage(text.slice(i, end), field, comp);
        else if (!test) hl7Segment(text.slice(i, end), seps, out);
      }
      // a segment longer than MAX_SEGMENT: skip to its end
      end = segmentEnd(text, end, text.length);
      i = end + 1;
    }
    // the next message is looked for after this one
    m = nextMsh(text, Math.max(m.end, i - 1));
  }
}

// ---------------------------------------------------------------- X12

/** NM1 entity codes of the person a transaction is about: subscriber/insured, patient, dependent, policyholder. */
const X12_PERSON = new Set(['IL', 'QC', '03', 'QE']);
/** HI qualifiers of ICD-10-CM diagnoses (principal, admitting, reason for visit, other, external cause). */
const X12_ICD10 = new Set(['ABK', 'ABJ', 'ABN', 'ABF', 'APR', 'ABU']);

interface X12State {
  /** The last NM1 was a person the transaction is about (N3/N4 are that person's address). */
  person: boolean;
  /** The last NM1 was a test patient ("TESTPATIENT*ALPHA"): its birth date, numbers and address are no one's. */
  testPerson: boolean;
  /** The interchange is a test one (ISA15, the usage indicator, "T"): its persons are all test patients. */
  readonly testInterchange: boolean;
  street: string | undefined;
}

function x12Segment(el: string[], sub: string, st: X12State, out: Lines): void {
  const id = (el[0] ?? '').trim();
  switch (id) {
    case 'NM1': {
      const entity = (el[1] ?? '').trim();
      const person = X12_PERSON.has(entity) && (el[2] ?? '').trim() === '1';
      st.testPerson = person && (st.testInterchange || testPatientName(`${(el[3] ?? '').trim()}^${(el[4] ?? '').trim()}`));
      st.person = person && !st.testPerson;
      st.street = undefined;
      if (st.person) out.add(entity === 'IL' ? 'Subscriber name' : 'Patient name', personName(el[4], el[3], el[5]));
      const qualifier = (el[8] ?? '').trim();
      if (qualifier === 'XX') out.add('NPI', el[9]);
      else if (qualifier === '34' && st.person) out.add('SSN', el[9]);
      break;
    }
    case 'DMG':
      if ((el[1] ?? '').trim() === 'D8' && !st.testPerson) out.add('DOB', usDate(el[2]));
      break;
    case 'REF': {
      if (st.testPerson) break;
      const q = (el[1] ?? '').trim();
      if (q === 'SY') out.add('SSN', el[2]);
      else if (q === 'EA') out.add('MRN', el[2]);
      break;
    }
    case 'N3':
      st.street = st.person ? [el[1], el[2]].filter(Boolean).join(' ') : undefined;
      break;
    case 'N4':
      if (st.person && st.street) out.add('Address', address(st.street, el[1], el[2], el[3]));
      st.street = undefined;
      break;
    case 'HI':
      for (const e of el.slice(1, 13)) {
        const [q, code] = e.split(sub);
        if (X12_ICD10.has((q ?? '').trim())) out.add('Diagnosis ICD-10', icd10WithDot(code));
      }
      break;
    case 'SV1':
    case 'SVC':
    case 'SV2': {
      const [q, code] = (el[id === 'SV2' ? 2 : 1] ?? '').split(sub);
      if ((q ?? '').trim() === 'HC') out.add('CPT', code);
      break;
    }
    case 'LIN':
      for (let k = 2; k + 1 < el.length && k < 12; k += 2) if ((el[k] ?? '').trim() === 'N4') out.add('NDC', ndcForm(el[k + 1]));
      break;
  }
}

/** The X12 segments whose elements are read (the others are not split). */
const X12_READ = new Set(['NM1', 'DMG', 'REF', 'N3', 'N4', 'HI', 'SV1', 'SVC', 'SV2', 'LIN']);

const isAsciiDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiAlnum = (c: number): boolean => isAsciiDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * The first interchange header whose match starts at or after `from`, as
 * /(?:^|[^A-Za-z0-9])ISA([^A-Za-z0-9 \r\n])\d\d\1/g from lastIndex `from`
 * finds it: "ISA" at the start of the text (when `from` is 0) or after a
 * character that is no letter or digit, at or after `from`; its element
 * separator, two digits and the separator again. Where "ISA" starts, its
 * separator and where the match ends; found by a native search for "ISA".
 */
export function nextIsa(text: string, from: number): { at: number; sep: string; end: number } | undefined {
  for (let at = text.indexOf('ISA', from); at >= 0; at = text.indexOf('ISA', at + 1)) {
    const start = at === 0 ? from === 0 : at - 1 >= from && !isAsciiAlnum(text.charCodeAt(at - 1));
    if (!start || at + 6 >= text.length) continue;
    const sep = text.charCodeAt(at + 3);
    if (isAsciiAlnum(sep) || sep === 32 || sep === 13 || sep === 10) continue;
    if (isAsciiDigit(text.charCodeAt(at + 4)) && isAsciiDigit(text.charCodeAt(at + 5)) && text.charCodeAt(at + 6) === sep) return { at, sep: text.charAt(at + 3), end: at + 7 };
  }
  return undefined;
}

/** Every X12 interchange: ISA with its own separators, its segments to IEA. */
function x12(text: string, out: Lines): void {
  let interchanges = 0;
  for (let m = nextIsa(text, 0); m && interchanges < MAX_DOCUMENTS && !out.full(); ) {
    interchanges++;
    const { sep, at: begin } = m;
    // ISA16 (the sub-element separator) is the character after the 16th element separator; the segment terminator follows it
    let pos = begin;
    let count = 0;
    while (count < 16 && pos >= 0 && pos < begin + 200) {
      pos = text.indexOf(sep, pos + 1);
      count++;
    }
    let term = pos + 2 < text.length ? text.charAt(pos + 2) : undefined;
    if (count < 16 || pos < 0 || pos >= begin + 200 || term === undefined || term === sep) {
      m = nextIsa(text, m.end);
      continue;
    }
    const sub = text.charAt(pos + 1);
    if (term === '\r' && text.charAt(pos + 3) === '\n') term = '\r\n';
    const st: X12State = { person: false, testPerson: false, testInterchange: x12TestInterchange(text.slice(begin, pos), sep), street: undefined };
    let i = pos + 2 + term.length;
    // the next element separator at or after the segment read (searched again only once passed)
    let sepAt = -1;
    for (let n = 0; n < MAX_SEGMENTS && i < text.length && !out.full(); n++) {
      let end = text.indexOf(term, i);
      if (end < 0) end = text.length;
      let a = i;
      while (a < end && (text.charCodeAt(a) === 13 || text.charCodeAt(a) === 10 || text.charCodeAt(a) === 32)) a++;
      const cut = Math.min(end, a + MAX_SEGMENT);
      i = end + term.length;
      if (sepAt < a) {
        const found = text.indexOf(sep, a);
        sepAt = found < 0 ? text.length : found;
      }
      // the segment id (its first element) decides whether the segment is split at all
      const first = text.slice(a, Math.min(sepAt, cut));
      if (first === 'IEA') break;
      // (a long first element is no id: not hashed for the look-up)
      const id = first.trim();
      if (id.length <= 3 && X12_READ.has(id)) x12Segment(text.slice(a, cut).split(sep), sub, st, out);
    }
    m = nextIsa(text, Math.max(m.end, i - 1));
  }
}

// ---------------------------------------------------------------- XML (C-CDA, FHIR XML)

/** The attributes of one start tag (cut to MAX_SEGMENT characters). */
function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.slice(0, MAX_SEGMENT).matchAll(/([A-Za-z_:][\w:.-]{0,40})\s{0,5}=\s{0,5}(?:"([^"<>]{0,400})"|'([^'<>]{0,400})')/g)) out.set(m[1] as string, xmlText(m[2] ?? m[3] ?? ''));
  return out;
}

/** XML text with its five entities resolved (none to resolve without an ampersand). */
function xmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/**
 * The element `name` from `from` (its start tag to its end tag, or the
 * empty-element tag), within `limit` characters. Its start (/<name[\s>/]/) is
 * found by a plain search for "<name", not a pattern compiled per call.
 */
function element(text: string, name: string, from: number, limit: number): { start: number; end: number; body: string } | undefined {
  const open = `<${name}`;
  let start = -1;
  for (let at = text.indexOf(open, from); at >= 0 && at < limit; at = text.indexOf(open, at + 1)) {
    const c = text.charCodeAt(at + open.length);
    if (c === 62 || c === 47 || isSpaceCode(c)) {
      start = at;
      break;
    }
  }
  if (start < 0) return undefined;
  const tagEnd = text.indexOf('>', start);
  if (tagEnd < 0 || tagEnd > limit) return undefined;
  if (text[tagEnd - 1] === '/') return { start, end: tagEnd + 1, body: text.slice(start, tagEnd + 1) };
  const close = text.indexOf(`</${name}>`, tagEnd);
  const end = close < 0 || close > limit ? limit : close + name.length + 3;
  return { start, end, body: text.slice(start, end) };
}

/** The patterns of `texts`, one per element name (a handful), compiled once. */
const TEXT_PATTERNS = new Map<string, RegExp>();

/** The text of every `<name>…</name>` in a short fragment. */
function texts(fragment: string, name: string): string[] {
  let re = TEXT_PATTERNS.get(name);
  if (!re) {
    re = new RegExp(`<${name}(?:\\s[^<>]{0,200})?>([^<>]{0,200})</${name}>`, 'g');
    TEXT_PATTERNS.set(name, re);
  }
  const out: string[] = [];
  const head = fragment.slice(0, MAX_SEGMENT);
  re.lastIndex = 0;
  for (let m = re.exec(head); m; m = re.exec(head)) out.push(xmlText(m[1] ?? '').trim());
  return out;
}

/** Every start tag in `text` that has attribute `attr`: its name and attributes (each tag read up to 2000 characters; one pass). */
function* tagsWith(text: string, attr: string): Generator<{ name: string; a: Map<string, string> }> {
  const needle = `${attr}=`;
  for (const m of text.matchAll(/<([A-Za-z_][\w:.-]{0,59})([^<>]{0,2000})/g)) {
    const rest = m[2] ?? '';
    if (rest.includes(needle)) yield { name: m[1] ?? '', a: attributes(rest) };
  }
}

/**
 * The codes (by code system) and the NPIs (ids rooted in the NPI OID) of a
 * C-CDA document, in one pass over its start tags, added in the order that
 * reading all codes and then all ids gives.
 */
function ccdaCodesAndNpis(doc: string, out: Lines): void {
  const npis: (string | undefined)[] = [];
  for (const m of doc.matchAll(/<([A-Za-z_][\w:.-]{0,59})([^<>]{0,2000})/g)) {
    const rest = m[2] ?? '';
    const coded = rest.includes('codeSystem=');
    const rooted = rest.includes('root=') && m[1] === 'id';
    if (!coded && !rooted) continue;
    const a = attributes(rest);
    if (coded) ccdaCode(a, out);
    if (rooted && a.get('root') === OID_NPI) npis.push(a.get('extension'));
    if (out.full()) return;
  }
  for (const npi of npis) out.add('NPI', npi);
}

/** A coded element's code, by its code system. */
function ccdaCode(a: Map<string, string>, out: Lines): void {
  const system = a.get('codeSystem') ?? '';
  if (OID_ICD10.has(system)) out.add('Diagnosis ICD-10', icd10WithDot(a.get('code')));
  else if (OID_CPT.has(system)) out.add('CPT', a.get('code'));
  else if (system === OID_NDC) out.add('NDC', ndcForm(a.get('code')));
}

const OID_ICD10 = new Set(['2.16.840.1.113883.6.90', '2.16.840.1.113883.6.3']);
const OID_CPT = new Set(['2.16.840.1.113883.6.12', '2.16.840.1.113883.6.285']);
const OID_NDC = '2.16.840.1.113883.6.69';
const OID_NPI = '2.16.840.1.113883.4.6';
const OID_SSN = '2.16.840.1.113883.4.1';
/** C-CDA documents looked at, each up to this many characters. */
const MAX_XML = 2_000_000;

const CLINICAL_DOCUMENT = '<ClinicalDocument';

/** Where the next "<ClinicalDocument" at or after `from` starts that ends a word (/<ClinicalDocument\b/), -1 when none. */
function nextClinicalDocument(text: string, from: number): number {
  for (let at = findLiteral(text, CLINICAL_DOCUMENT, from); at >= 0; at = findLiteral(text, CLINICAL_DOCUMENT, at + 1)) {
    const after = text.charCodeAt(at + CLINICAL_DOCUMENT.length);
    if (!(isAsciiAlnum(after) || after === 95)) return at;
  }
  return -1;
}

/** A C-CDA root written with a namespace prefix ("<cda:ClinicalDocument xmlns:cda=\"urn:hl7-org:v3\">"): the prefix. */
const PREFIXED_CDA_ROOT = /<([A-Za-z_][\w.-]{0,20}):ClinicalDocument\b[^<>]{0,2000}xmlns:\1\s*=\s*["']urn:hl7-org:v3["']/;

/**
 * The text with the HL7 v3 namespace's prefix taken off its element names
 * ("<cda:recordTarget>" → "<recordTarget>"), so a prefixed document reads
 * as an unprefixed one; the text as it is when no root is prefixed so.
 */
export function withoutCdaPrefix(text: string): string {
  const prefix = PREFIXED_CDA_ROOT.exec(text)?.[1];
  return prefix === undefined ? text : text.replace(new RegExp(`<(/?)${prefix}:`, 'g'), '<$1');
}

/** Whether a C-CDA recordTarget's patient is a test or a sample one: its first family and given names a test patient's or a specification's (testPatientName); a namespace prefix allowed ("<cda:family>"). */
export function samplePatient(role: string): boolean {
  const family = /<(?:[A-Za-z_][\w.-]{0,20}:)?family\b[^<>]*>([^<]*)</.exec(role)?.[1] ?? '';
  const given = /<(?:[A-Za-z_][\w.-]{0,20}:)?given\b[^<>]*>([^<]*)</.exec(role)?.[1] ?? '';
  return family !== '' && testPatientName(`${family}^${given}`);
}

function ccda(text: string, out: Lines): void {
  let documents = 0;
  for (let m = nextClinicalDocument(text, 0); m >= 0 && documents < MAX_DOCUMENTS && !out.full(); ) {
    documents++;
    const start = m;
    const close = text.indexOf('</ClinicalDocument>', start);
    const end = close < 0 ? Math.min(text.length, start + MAX_XML) : Math.min(close, start + MAX_XML);
    const doc = text.slice(start, end);
    // the patient: recordTarget/patientRole
    const target = element(doc, 'recordTarget', 0, doc.length);
    // a test or a specification's sample patient ("ZZTEST", "Everyman, Adam") is no one: nothing of it is written out
    if (target && !samplePatient(target.body)) {
      const role = target.body;
      const patientAt = role.search(/<patient[\s>]/);
      const ids = patientAt < 0 ? role : role.slice(0, patientAt);
      for (const { name, a } of tagsWith(ids, 'extension')) {
        if (name !== 'id') continue;
        const root = a.get('root') ?? '';
        if (root === OID_SSN) out.add('SSN', a.get('extension'));
        else if (root !== OID_NPI) out.add('MRN', a.get('extension'));
      }
      const addr = element(role, 'addr', 0, role.length);
      if (addr) out.add('Address', address(texts(addr.body, 'streetAddressLine').join(' '), texts(addr.body, 'city')[0], texts(addr.body, 'state')[0], texts(addr.body, 'postalCode')[0]));
      const patient = element(role, 'patient', 0, role.length);
      if (patient) {
        const name = element(patient.body, 'name', 0, patient.body.length);
        if (name) {
          const given = texts(name.body, 'given');
          out.add('Patient name', personName(given[0], texts(name.body, 'family')[0], given[1]));
        }
        const birth = /<birthTime\s[^<>]{0,200}value="(\d{8})/.exec(patient.body);
        out.add('DOB', usDate(birth?.[1]));
      }
    }
    // codes anywhere in the document, by code system; NPIs of performers, authors, providers
    ccdaCodesAndNpis(doc, out);
    m = nextClinicalDocument(text, Math.max(m + CLINICAL_DOCUMENT.length, end));
  }
}

// ---------------------------------------------------------------- FHIR (JSON and XML)

/** Terminology and conformance resources: their codes are about no one, and are not read. */
const FHIR_TERMINOLOGY = new Set(['ValueSet', 'CodeSystem', 'ConceptMap', 'StructureDefinition', 'CapabilityStatement', 'SearchParameter', 'OperationDefinition', 'ImplementationGuide', 'NamingSystem', 'TerminologyCapabilities', 'Questionnaire', 'Library', 'Measure', 'PlanDefinition', 'ActivityDefinition']);
const FHIR_PERSON = new Set(['Patient', 'RelatedPerson', 'Person']);
/** A FHIR JSON resource parsed, at most this many characters. */
const MAX_JSON = 2_000_000;
/** Objects and arrays walked per resource. */
const MAX_NODES = 50_000;

function fhirCoding(system: string, code: string | undefined, out: Lines): void {
  const sys = system.toLowerCase();
  if (/\/sid\/icd-10(?:-cm)?$/.test(sys) || sys === 'urn:oid:2.16.840.1.113883.6.90') out.add('Diagnosis ICD-10', icd10WithDot(code));
  else if (sys.endsWith('/go/cpt') || sys === 'urn:oid:2.16.840.1.113883.6.12' || /hcpcs/.test(sys)) out.add('CPT', code);
  else if (sys.endsWith('/sid/ndc') || sys === 'urn:oid:2.16.840.1.113883.6.69') out.add('NDC', ndcForm(code));
}

function fhirIdentifier(system: string, value: string | undefined, types: readonly string[], out: Lines): void {
  const sys = system.toLowerCase();
  if (sys.endsWith('/sid/us-ssn') || sys === 'urn:oid:2.16.840.1.113883.4.1' || types.includes('SS')) out.add('SSN', value);
  else if (sys.endsWith('/sid/us-npi') || sys === 'urn:oid:2.16.840.1.113883.4.6' || types.includes('NPI')) out.add('NPI', value);
  else if (types.includes('MR') || /\/mrn$/.test(sys)) out.add('MRN', value);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : v !== undefined && v !== null ? [v] : []);
const obj = (v: Json | undefined): { [k: string]: Json } | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);

/**
 * Whether a FHIR resource's meta carries the security label or tag "HTEST"
 * (HL7 v3 ActReason: test health data), as sandboxes and synthetic data
 * generators mark their resources: its fields are no person's.
 */
function taggedAsTestData(resource: { [k: string]: Json }): boolean {
  const meta = obj(resource.meta);
  if (!meta) return false;
  return [...arr(meta.security), ...arr(meta.tag)].some((c) => str(obj(c)?.code) === 'HTEST');
}

function fhirWalk(root: Json, out: Lines): void {
  let nodes = 0;
  const visit = (node: Json, person: boolean, depth: number): void => {
    if (nodes++ > MAX_NODES || depth > 40 || out.full() || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const v of node) visit(v, person, depth + 1);
      return;
    }
    const type = str(node.resourceType);
    if (type && (FHIR_TERMINOLOGY.has(type) || taggedAsTestData(node))) return;
    const isPerson = type ? FHIR_PERSON.has(type) : person;
    if (type && FHIR_PERSON.has(type)) {
      const name = obj(arr(node.name)[0]);
      if (name) {
        const given = arr(name.given).map(str);
        out.add(type === 'Patient' ? 'Patient name' : 'Name', personName(given[0], str(name.family), given[1]));
      }
      out.add('DOB', usDate(str(node.birthDate)));
      const addr = obj(arr(node.address)[0]);
      if (addr) out.add('Address', address(arr(addr.line).map(str).filter(Boolean).join(' '), str(addr.city), str(addr.state), str(addr.postalCode)));
    }
    for (const id of arr(node.identifier)) {
      const o = obj(id);
      if (!o) continue;
      const types = arr(obj(o.type)?.coding).map((c) => str(obj(c)?.code) ?? '');
      fhirIdentifier(str(o.system) ?? '', str(o.value), types, out);
    }
    const system = str(node.system);
    if (system && str(node.code)) fhirCoding(system, str(node.code), out);
    for (const [k, v] of Object.entries(node)) if (k !== 'identifier' && v !== null && typeof v === 'object') visit(v, isPerson, depth + 1);
  };
  visit(root, false, 0);
}

/** Where the JSON object that starts at `start` ends (its closing brace + 1), reading strings; -1 when it does not end within `limit`. */
function jsonEnd(text: string, start: number, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

const RESOURCE_TYPE = '"resourceType"';
/** 'Type"' is searched for (the quote that starts the needle is everywhere in JSON and CSV, a capital T is rare). */
const RESOURCE_TYPE_PIECE = 9;

/** How many of up to `max` white-space characters (\\s) start at `i`. */
function spaces(text: string, i: number, max: number): number {
  let n = 0;
  while (n <= max && isSpaceCode(text.charCodeAt(i + n))) n++;
  return n;
}

/** How many ASCII letters start at `i` (up to `max` + 1: more than `max` is too many). */
function letters(text: string, i: number, max: number): number {
  let n = 0;
  for (; n <= max; n++) {
    const c = text.charCodeAt(i + n) | 32;
    if (c < 97 || c > 122) break;
  }
  return n;
}

/**
 * The first `"resourceType": "Type"` whose match starts at or after `from`,
 * as /"resourceType"\s{0,20}:\s{0,20}"[A-Za-z]{1,64}"/g from lastIndex
 * `from` finds it (no part of it can give back what another took, so it is
 * read straight on): where it starts and ends.
 */
function nextResourceType(text: string, from: number): { at: number; end: number } | undefined {
  for (let at = findLiteral(text, RESOURCE_TYPE, from, RESOURCE_TYPE_PIECE); at >= 0; at = findLiteral(text, RESOURCE_TYPE, at + 1, RESOURCE_TYPE_PIECE)) {
    let i = at + RESOURCE_TYPE.length;
    const before = spaces(text, i, 20);
    if (before > 20 || text.charCodeAt((i += before)) !== 58) continue;
    const after = spaces(text, ++i, 20);
    if (after > 20 || text.charCodeAt((i += after)) !== 34) continue;
    const name = letters(text, ++i, 64);
    if (name < 1 || name > 64 || text.charCodeAt((i += name)) !== 34) continue;
    return { at, end: i + 1 };
  }
  return undefined;
}

/** Every FHIR JSON resource: the object around a "resourceType" (its opening brace at most 500 characters before), parsed whole. */
function fhirJson(text: string, out: Lines): void {
  let resources = 0;
  let tries = 0;
  for (let m = nextResourceType(text, 0); m && resources < MAX_DOCUMENTS && tries++ < 10 * MAX_DOCUMENTS && !out.full(); ) {
    // the next resource is looked for after this match, or after what was read
    let next = m.end;
    const floor = Math.max(0, m.at - 500);
    // (looked for in the 500 characters only: a search back through the whole text would make many matches quadratic)
    const inWindow = text.slice(floor, m.at).lastIndexOf('{');
    const brace = floor + inWindow;
    if (inWindow >= 0) {
      const end = jsonEnd(text, brace, Math.min(text.length, brace + MAX_JSON));
      // an object that does not close is not read again from inside: the next resource is looked for after what was scanned
      if (end < 0) next = Math.min(text.length, brace + MAX_JSON);
      else {
        resources++;
        try {
          fhirWalk(JSON.parse(text.slice(brace, end)) as Json, out);
        } catch {
          // not JSON after all
        }
        next = Math.max(next, end);
      }
    }
    m = nextResourceType(text, next);
  }
}

/** The value attributes of `<name value="…"/>` children in a short fragment. */
function values(fragment: string, name: string): string[] {
  return [...fragment.slice(0, MAX_SEGMENT).matchAll(new RegExp(`<${name}\\s[^<>]{0,200}?value="([^"<>]{0,200})"`, 'g'))].map((m) => xmlText(m[1] ?? ''));
}

/** FHIR XML: persons' names, birth dates and addresses, identifiers, codings. */
function fhirXml(text: string, out: Lines): void {
  const re = /<([A-Z][A-Za-z]{1,63})\b[^<>]{0,1000}xmlns="http:\/\/hl7\.org\/fhir"/g;
  let resources = 0;
  for (let m = re.exec(text); m && resources < MAX_DOCUMENTS && !out.full(); m = re.exec(text)) {
    resources++;
    const type = m[1] as string;
    const close = text.indexOf(`</${type}>`, m.index);
    const end = close < 0 ? Math.min(text.length, m.index + MAX_XML) : Math.min(close, m.index + MAX_XML);
    re.lastIndex = Math.max(re.lastIndex, end);
    if (FHIR_TERMINOLOGY.has(type)) continue;
    const doc = text.slice(m.index, end);
    for (const p of ['Patient', 'RelatedPerson', 'Person']) {
      const person = element(doc, p, 0, doc.length);
      if (!person) continue;
      const name = element(person.body, 'name', 0, person.body.length);
      if (name) {
        const given = values(name.body, 'given');
        out.add(p === 'Patient' ? 'Patient name' : 'Name', personName(given[0], values(name.body, 'family')[0], given[1]));
      }
      out.add('DOB', usDate(values(person.body, 'birthDate')[0]));
      const addr = element(person.body, 'address', 0, person.body.length);
      if (addr) out.add('Address', address(values(addr.body, 'line').join(' '), values(addr.body, 'city')[0], values(addr.body, 'state')[0], values(addr.body, 'postalCode')[0]));
    }
    for (let i = 0, n = 0; n < MAX_SEGMENTS && !out.full(); n++) {
      const id = element(doc, 'identifier', i, doc.length);
      if (!id) break;
      const type = element(id.body, 'type', 0, id.body.length);
      const types = type ? values(type.body, 'code') : [];
      const rest = type ? id.body.slice(0, type.start - 0) + id.body.slice(type.end) : id.body;
      fhirIdentifier(values(rest, 'system')[0] ?? '', values(rest, 'value')[0], types, out);
      i = id.end;
    }
    for (let i = 0, n = 0; n < MAX_SEGMENTS && !out.full(); n++) {
      const coding = element(doc, 'coding', i, doc.length);
      if (!coding) break;
      fhirCoding(values(coding.body, 'system')[0] ?? '', values(coding.body, 'code')[0], out);
      i = coding.end;
    }
  }
}

/**
 * Extra "label: value" lines for the structured fields of every HL7 v2
 * message, X12 interchange, C-CDA document and FHIR resource in `text`
 * (empty when there is none), to be read after the text itself.
 */
export function clinicalFieldLines(text: string): string {
  const out = new Lines();
  if (text.includes('MSH')) hl7(text, out);
  if (text.includes('ISA')) x12(text, out);
  if (findLiteral(text, CLINICAL_DOCUMENT, 0) >= 0) ccda(text, out);
  else if (findLiteral(text, ':ClinicalDocument', 0) >= 0) ccda(withoutCdaPrefix(text), out);
  if (findLiteral(text, RESOURCE_TYPE, 0, RESOURCE_TYPE_PIECE) >= 0) fhirJson(text, out);
  if (findLiteral(text, 'http://hl7.org/fhir"', 0, 4) >= 0) fhirXml(text, out);
  return out.seen.size === 0 ? '' : GAP + [...out.seen].join(GAP);
}
