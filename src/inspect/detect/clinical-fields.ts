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
import { npiValid } from './checksums.js';

const MAX_DOCUMENTS = 100;
const MAX_SEGMENTS = 5000;
const MAX_LINES = 400;
/** Characters of one segment (or XML element) looked at. */
const MAX_SEGMENT = 4096;
/** Wider than the widest keyword window (80 characters). */
const GAP = `\n${' '.repeat(100)}\n`;

/** Collects the lines, without repeats, up to MAX_LINES. */
class Lines {
  readonly seen = new Set<string>();
  add(label: string, value: string | undefined): void {
    const v = (value ?? '').replace(/\s+/g, ' ').trim();
    if (!v || v.length > 200 || this.full()) return;
    this.seen.add(`${label}: ${v}`);
  }
  full(): boolean {
    return this.seen.size >= MAX_LINES;
  }
}

/** "MORALES" → "Morales", "SMITH-JONES" → "Smith-Jones", "o'brien" → "O'brien". */
export function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s-])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

/** A person's name in reading order, title case: given, a middle initial, family. */
function personName(given: string | undefined, family: string | undefined, middle?: string): string | undefined {
  const g = (given ?? '').trim();
  const f = (family ?? '').trim();
  if (!/\p{L}{2}/u.test(g) || !/\p{L}{2}/u.test(f)) return undefined;
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

/** The components of a field's first repetition (or of the repetition given). */
function comps(field: string | undefined, s: Hl7Seps): string[] {
  return (field ?? '').split(s.comp).map((c) => (c.split(s.sub)[0] ?? '').replace(/\\[A-Z.][^\\]{0,8}\\/g, ' '));
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

function hl7Segment(seg: string, s: Hl7Seps, out: Lines): void {
  const id = seg.slice(0, 3);
  const f = seg.split(s.field);
  switch (id) {
    case 'PID': {
      // PID-2/3/4 patient identifiers: typed MR (medical record) or SS; PID-3 untyped is the record number
      for (const k of [2, 3, 4]) {
        for (const r of reps(f[k], s)) {
          const c = comps(r, s);
          const type = (c[4] ?? '').trim().toUpperCase();
          if (type === 'SS') out.add('SSN', c[0]);
          else if (type === 'MR' || type === 'MRN' || type === 'PI' || type === 'PT' || (k === 3 && type === '')) out.add('MRN', c[0]);
        }
      }
      const name = comps(reps(f[5], s)[0], s);
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

/** Every HL7 v2 message: MSH with its own separators, its segments up to the next MSH or a line that is not a segment. */
function hl7(text: string, out: Lines): void {
  const msh = /(?:^|[\r\n])MSH([^A-Za-z0-9\s])([^A-Za-z0-9\s])([^A-Za-z0-9\s])([^A-Za-z0-9\s])([^A-Za-z0-9\s])?/g;
  let messages = 0;
  for (let m = msh.exec(text); m && messages < MAX_DOCUMENTS && !out.full(); m = msh.exec(text)) {
    messages++;
    const [, field, comp, rep, , sub] = m as unknown as [string, string, string, string, string, string | undefined];
    if (comp === field || rep === field || rep === comp) continue;
    const seps: Hl7Seps = { field, comp, rep, sub: sub && sub !== field ? sub : '&' };
    let i = m.index + (m[0].startsWith('MSH') ? 0 : 1);
    // the segments that follow: three upper-case letters or digits and the field separator
    for (let n = 0; n < MAX_SEGMENTS && i < text.length && !out.full(); n++) {
      let end = i;
      const limit = Math.min(text.length, i + MAX_SEGMENT);
      while (end < limit && text[end] !== '\r' && text[end] !== '\n') end++;
      const seg = text.slice(i, end);
      if (n > 0 && seg.startsWith('MSH')) break;
      if (seg.length > 0) {
        if (!/^[A-Z][A-Z0-9]{2}$/.test(seg.slice(0, 3)) || seg[3] !== field) break;
        if (n > 0) hl7Segment(seg, seps, out);
      }
      // a segment longer than MAX_SEGMENT: skip to its end
      while (end < text.length && text[end] !== '\r' && text[end] !== '\n') end++;
      i = end + 1;
    }
    // the next message is looked for after this one
    msh.lastIndex = Math.max(msh.lastIndex, i - 1);
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
  street: string | undefined;
}

function x12Segment(el: string[], sub: string, st: X12State, out: Lines): void {
  const id = (el[0] ?? '').trim();
  switch (id) {
    case 'NM1': {
      const entity = (el[1] ?? '').trim();
      st.person = X12_PERSON.has(entity) && (el[2] ?? '').trim() === '1';
      st.street = undefined;
      if (st.person) out.add(entity === 'IL' ? 'Subscriber name' : 'Patient name', personName(el[4], el[3], el[5]));
      const qualifier = (el[8] ?? '').trim();
      if (qualifier === 'XX') out.add('NPI', el[9]);
      else if (qualifier === '34' && st.person) out.add('SSN', el[9]);
      break;
    }
    case 'DMG':
      if ((el[1] ?? '').trim() === 'D8') out.add('DOB', usDate(el[2]));
      break;
    case 'REF': {
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

/** Every X12 interchange: ISA with its own separators, its segments to IEA. */
function x12(text: string, out: Lines): void {
  const isa = /(?:^|[^A-Za-z0-9])ISA([^A-Za-z0-9 \r\n])\d\d\1/g;
  let interchanges = 0;
  for (let m = isa.exec(text); m && interchanges < MAX_DOCUMENTS && !out.full(); m = isa.exec(text)) {
    interchanges++;
    const sep = m[1] as string;
    const begin = m.index + m[0].indexOf('ISA');
    // ISA16 (the sub-element separator) is the character after the 16th element separator; the segment terminator follows it
    let pos = begin;
    let count = 0;
    while (count < 16 && pos >= 0 && pos < begin + 200) {
      pos = text.indexOf(sep, pos + 1);
      count++;
    }
    if (count < 16 || pos < 0 || pos >= begin + 200) continue;
    const sub = text[pos + 1] ?? ':';
    let term = text[pos + 2];
    if (term === undefined || term === sep) continue;
    if (term === '\r' && text[pos + 3] === '\n') term = '\r\n';
    const st: X12State = { person: false, street: undefined };
    let i = pos + 2 + term.length;
    for (let n = 0; n < MAX_SEGMENTS && i < text.length && !out.full(); n++) {
      let end = text.indexOf(term, i);
      if (end < 0) end = text.length;
      let a = i;
      while (a < end && (text[a] === '\r' || text[a] === '\n' || text[a] === ' ')) a++;
      const el = text.slice(a, Math.min(end, a + MAX_SEGMENT)).split(sep);
      i = end + term.length;
      if ((el[0] ?? '') === 'IEA') break;
      x12Segment(el, sub, st, out);
    }
    isa.lastIndex = Math.max(isa.lastIndex, i - 1);
  }
}

// ---------------------------------------------------------------- XML (C-CDA, FHIR XML)

/** The attributes of one start tag (cut to MAX_SEGMENT characters). */
function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.slice(0, MAX_SEGMENT).matchAll(/([A-Za-z_:][\w:.-]{0,40})\s{0,5}=\s{0,5}(?:"([^"<>]{0,400})"|'([^'<>]{0,400})')/g)) out.set(m[1] as string, xmlText(m[2] ?? m[3] ?? ''));
  return out;
}

function xmlText(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** The element `name` from `from` (its start tag to its end tag, or the empty-element tag), within `limit` characters. */
function element(text: string, name: string, from: number, limit: number): { start: number; end: number; body: string } | undefined {
  const re = new RegExp(`<${name}[\\s>/]`, 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m || m.index >= limit) return undefined;
  const tagEnd = text.indexOf('>', m.index);
  if (tagEnd < 0 || tagEnd > limit) return undefined;
  if (text[tagEnd - 1] === '/') return { start: m.index, end: tagEnd + 1, body: text.slice(m.index, tagEnd + 1) };
  const close = text.indexOf(`</${name}>`, tagEnd);
  const end = close < 0 || close > limit ? limit : close + name.length + 3;
  return { start: m.index, end, body: text.slice(m.index, end) };
}

/** The text of every `<name>…</name>` in a short fragment. */
function texts(fragment: string, name: string): string[] {
  const out: string[] = [];
  for (const m of fragment.slice(0, MAX_SEGMENT).matchAll(new RegExp(`<${name}(?:\\s[^<>]{0,200})?>([^<>]{0,200})</${name}>`, 'g'))) out.push(xmlText(m[1] ?? '').trim());
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

const OID_ICD10 = new Set(['2.16.840.1.113883.6.90', '2.16.840.1.113883.6.3']);
const OID_CPT = new Set(['2.16.840.1.113883.6.12', '2.16.840.1.113883.6.285']);
const OID_NDC = '2.16.840.1.113883.6.69';
const OID_NPI = '2.16.840.1.113883.4.6';
const OID_SSN = '2.16.840.1.113883.4.1';
/** C-CDA documents looked at, each up to this many characters. */
const MAX_XML = 2_000_000;

function ccda(text: string, out: Lines): void {
  const re = /<ClinicalDocument\b/g;
  let documents = 0;
  for (let m = re.exec(text); m && documents < MAX_DOCUMENTS && !out.full(); m = re.exec(text)) {
    documents++;
    const start = m.index;
    const close = text.indexOf('</ClinicalDocument>', start);
    const end = close < 0 ? Math.min(text.length, start + MAX_XML) : Math.min(close, start + MAX_XML);
    const doc = text.slice(start, end);
    // the patient: recordTarget/patientRole
    const target = element(doc, 'recordTarget', 0, doc.length);
    if (target) {
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
    for (const { a } of tagsWith(doc, 'codeSystem')) {
      const system = a.get('codeSystem') ?? '';
      if (OID_ICD10.has(system)) out.add('Diagnosis ICD-10', icd10WithDot(a.get('code')));
      else if (OID_CPT.has(system)) out.add('CPT', a.get('code'));
      else if (system === OID_NDC) out.add('NDC', ndcForm(a.get('code')));
      if (out.full()) break;
    }
    for (const { name, a } of tagsWith(doc, 'root')) {
      if (name !== 'id') continue;
      if (a.get('root') === OID_NPI) out.add('NPI', a.get('extension'));
      if (out.full()) break;
    }
    re.lastIndex = Math.max(re.lastIndex, end);
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

function fhirWalk(root: Json, out: Lines): void {
  let nodes = 0;
  const visit = (node: Json, person: boolean, depth: number): void => {
    if (nodes++ > MAX_NODES || depth > 40 || out.full() || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const v of node) visit(v, person, depth + 1);
      return;
    }
    const type = str(node.resourceType);
    if (type && FHIR_TERMINOLOGY.has(type)) return;
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

/** Every FHIR JSON resource: the object around a "resourceType" (its opening brace at most 500 characters before), parsed whole. */
function fhirJson(text: string, out: Lines): void {
  const re = /"resourceType"\s{0,20}:\s{0,20}"[A-Za-z]{1,64}"/g;
  let resources = 0;
  let tries = 0;
  for (let m = re.exec(text); m && resources < MAX_DOCUMENTS && tries++ < 10 * MAX_DOCUMENTS && !out.full(); m = re.exec(text)) {
    const floor = Math.max(0, m.index - 500);
    const start = text.slice(floor, m.index).lastIndexOf('{');
    if (start < 0) continue;
    const from = floor + start;
    const end = jsonEnd(text, from, Math.min(text.length, from + MAX_JSON));
    // an object that does not close is not read again from inside: the next resource is looked for after what was scanned
    if (end < 0) {
      re.lastIndex = Math.min(text.length, from + MAX_JSON);
      continue;
    }
    resources++;
    try {
      fhirWalk(JSON.parse(text.slice(from, end)) as Json, out);
    } catch {
      // not JSON after all
    }
    re.lastIndex = Math.max(re.lastIndex, end);
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
  if (text.includes('<ClinicalDocument')) ccda(text, out);
  if (text.includes('"resourceType"')) fhirJson(text, out);
  if (text.includes('http://hl7.org/fhir"')) fhirXml(text, out);
  return out.seen.size === 0 ? '' : GAP + [...out.seen].join(GAP);
}
