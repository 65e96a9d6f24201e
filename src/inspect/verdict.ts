/**
 * The inspection verdict for a text (one message's extracted text, body and
 * attachments together): every detector's finding, and whether the message
 * holds PHI — an identifier together with health information. Pure.
 *
 * PHI when any of:
 *   - a clinical data format carrying an individual (HL7 v2 with a PID, FHIR
 *     with a patient, C-CDA with its recordTarget, X12 with subscriber or
 *     patient loops: a high-confidence finding), or DICOM;
 *   - an identifier (SSN, MBI, MRN, DOB, NPI with context, member id …) and
 *     health information (a code set match, or a health term) in the message;
 * The confidence is high when a health term lies within `window` characters
 * of an identifier match, medium otherwise.
 */
import { clinicalFormatDetector } from './detect/clinical-formats.js';
import { healthTermDetector, sharedHealthTermSpans } from './detect/health-terms.js';
import { deaDetector, mbiDetector, npiDetector } from './detect/health-ids.js';
import { abaRoutingDetector, bankAccountDetector, itinDetector, paymentCardDetector, ssnDetector } from './detect/identifiers.js';
import { cptDetector, diagnosisByNameDetector, icd10Detector, ndcDetector, procedureByNameDetector } from './detect/medical-codes.js';
import { customIdentifierDetector, dobDetector, shortDobDetector, memberIdDetector, mrnDetector, personNameDetector, personNamePartsDetector, phoneDetector, type CustomIdentifier } from './detect/personal.js';
import { personAnchors, type PersonAnchor } from './detect/person-mentions.js';
import { readerAnchors } from './detect/reader.js';
import { authorAnchors } from './detect/message-author.js';
import { inZone, PART_BREAK, signatureZones, type Zone } from './detect/signature.js';
import { clinicalFieldLines } from './detect/clinical-fields.js';
import { alignedTableLines } from './detect/aligned-tables.js';
import { achEntryLines } from './detect/ach-file.js';
import { withScanCache } from './detect/scan-cache.js';
import { isSpaceCode } from './detect/char-codes.js';
import { closest, closestWithin } from './closest.js';
import { lineEndWithin, lineStartWithin, type Span } from './detect/spans.js';
import { labelTables } from './detect/tables.js';
import { flatText } from './detect/flat-text.js';
import { plainCharacters } from './detect/plain-characters.js';
import { CONFIDENCE_RANK, type Confidence, type Detector, type Finding } from './detect/types.js';

import { HEALTH_CATEGORIES, IDENTIFIER_CATEGORIES, PATIENT_ID_CATEGORIES, PERSONAL_ID_CATEGORIES, WEAK_CATEGORIES } from './categories.js';

export { HEALTH_CATEGORIES, IDENTIFIER_CATEGORIES, PATIENT_ID_CATEGORIES, PERSONAL_ID_CATEGORIES, WEAK_CATEGORIES };

export const DEFAULT_DETECTORS: readonly Detector[] = [
  ssnDetector, itinDetector, paymentCardDetector, abaRoutingDetector, bankAccountDetector,
  npiDetector, deaDetector, mbiDetector, icd10Detector, diagnosisByNameDetector, cptDetector, procedureByNameDetector, ndcDetector,
  dobDetector, shortDobDetector, phoneDetector, mrnDetector, memberIdDetector, personNameDetector, personNamePartsDetector, clinicalFormatDetector, healthTermDetector,
];

export interface Verdict {
  readonly findings: readonly Finding[];
  readonly phi: boolean;
  readonly phiConfidence?: Confidence | undefined;
  /** Why it is PHI (for `policy test --explain`). */
  readonly phiBasis?: PhiBasis | undefined;
  /** Categories found at medium confidence or more (what policy rules test). */
  readonly categories: readonly string[];
}

/** What to look for: the detectors, and which categories identify a person (for the PHI verdict). */
export interface InspectionProfile {
  readonly detectors: readonly Detector[];
  readonly identifierCategories: ReadonlySet<string>;
}

export const DEFAULT_PROFILE: InspectionProfile = { detectors: DEFAULT_DETECTORS, identifierCategories: IDENTIFIER_CATEGORIES };

/** The default detectors plus custom ones from config (`inspection.customDetectors`). */
export function inspectionProfile(custom: readonly (CustomIdentifier & { readonly identifier?: boolean })[]): InspectionProfile {
  if (custom.length === 0) return DEFAULT_PROFILE;
  return {
    detectors: [...DEFAULT_DETECTORS, ...custom.map(customIdentifierDetector)],
    identifierCategories: new Set([...IDENTIFIER_CATEGORIES, ...custom.filter((c) => c.identifier !== false).map((c) => c.category)]),
  };
}

/** Identifier categories that name a person by themselves (not a phone number or a name, which need their context). */
function strongIdentifier(f: Finding, identifierCategories: ReadonlySet<string>): boolean {
  return identifierCategories.has(f.category) && !WEAK_CATEGORIES.has(f.category) && CONFIDENCE_RANK[f.confidence] >= CONFIDENCE_RANK.medium;
}

/** How far (characters) health information may lie from a name, an address or a patient's phone to be about that person. */
export const ANCHOR_WINDOW = 400;

/** Why a message is PHI: the rule, and the identifier and health information it rests on (categories, kinds and health terms; never a value). */
export interface PhiBasis {
  readonly rule: 'clinical-format' | 'patient-identifier' | 'identifier-and-health' | 'individual-and-health';
  /** A category (SSN, MRN …) or the kind of mention (labelled-name, named-patient …). */
  readonly identifier: string;
  /** The health term, or the code category (ICD10 …), closest to it. */
  readonly health?: string | undefined;
  /** Characters between the two. */
  readonly distance?: number | undefined;
}

/** The text as the detectors read it: table rows as "header: value", and the fields of clinical formats, the entries of ACH files and the rows of space-aligned tables as labelled lines after it. */
export function readableText(text: string): string {
  return labelTables(text) + clinicalFieldLines(text) + achEntryLines(text) + alignedTableLines(text);
}

/**
 * What the detectors read of a text: its characters as a reader sees them
 * (plainCharacters: Outlook's ’ “ ” – read as ' " -, zero-width and other
 * invisible formatting characters left out), then its readable text, as one
 * sequential string (flatText). The verdict and its explanation read the
 * same.
 */
export function detectorText(text: string): string {
  return flatText(readableText(plainCharacters(text)));
}

/**
 * The verdict on a text. `readerNames` are the display names of the
 * message's To header (Extracted.readerNames): a letter greeting one of them
 * by first name about their own health is about that person (readerAnchors).
 * `authorNames` are its From header's (Extracted.authorNames): the author's
 * own words about their own health are about that person (authorAnchors);
 * `personalAuthor`: that address is a personal mailbox's (a patient's or a
 * family's, not staff's), whose first person is read more widely.
 */
export function inspectText(
  text: string,
  detectors: readonly Detector[] = DEFAULT_DETECTORS,
  window = 200,
  identifierCategories: ReadonlySet<string> = IDENTIFIER_CATEGORIES,
  readerNames: readonly string[] = [],
  authorNames: readonly string[] = [],
  personalAuthor = false,
): Verdict {
  // each detector scans the text once: its finding and its spans come from the same scan
  return withScanCache(() => verdictOf(text, detectors, window, identifierCategories, readerNames, authorNames, personalAuthor));
}

function verdictOf(text: string, detectors: readonly Detector[], window: number, identifierCategories: ReadonlySet<string>, readerNames: readonly string[], authorNames: readonly string[], personalAuthor: boolean): Verdict {
  // a table's header labels every value in its column
  const table = detectorText(text);
  const findings = detectors.map((d) => d.detect(table)).filter((f): f is Finding => f !== undefined);
  const categories = [...new Set(findings.filter((f) => CONFIDENCE_RANK[f.confidence] >= CONFIDENCE_RANK.medium || f.category === 'HEALTH_TERM').map((f) => f.category))];
  const phi = (basis: PhiBasis, extra: readonly string[] = []): Verdict => ({
    findings,
    categories: [...new Set([...categories, ...extra, 'PHI'])],
    phi: true,
    phiConfidence: basis.distance === undefined || basis.distance <= window ? 'high' : 'medium',
    phiBasis: basis,
  });
  // a clinical format is PHI when it carries an individual (high); without one (an HL7 ACK, a FHIR ValueSet, an X12 999) it is not
  const clinical = findings.find((f) => f.category === 'CLINICAL_FORMAT' && f.confidence === 'high');
  if (clinical) return phi({ rule: 'clinical-format', identifier: clinical.evidence[0] ?? 'CLINICAL_FORMAT' });
  // the individuals named (for the PERSON_NAME category when another rule decides)
  const named = (): string[] => (categories.includes('PERSON_NAME') || !namedIndividual(table) ? [] : ['PERSON_NAME']);
  const patientId = findings.find((f) => PATIENT_ID_CATEGORIES.has(f.category) && f.confidence === 'high');
  if (patientId) return phi({ rule: 'patient-identifier', identifier: patientId.category }, named());
  // not PHI: the person whose identifiers these are is still named ("RE: John Smith DOB …", a payroll row), not only someone mentioned in passing
  const notPhi = (): Verdict => {
    const owned = !categories.includes('PERSON_NAME') && findings.some((f) => OWNED_CATEGORIES.has(f.category) && f.confidence === 'high') && namedIndividual(table, false);
    return { findings, categories: owned ? [...categories, 'PERSON_NAME'] : categories, phi: false };
  };
  if (!findings.some((f) => HEALTH_CATEGORIES.has(f.category))) return notPhi();
  // health information about someone: not in a signature, not part of an organisation's name ("Home Health & Hospice")
  const zones = signatureZones(table);
  const terms = healthSpans(table, detectors).filter((t) => !inZone(zones, t.index) && !inOrganisationName(table, t.index, t.length) && !namesSomethingElse(table, t.index + t.length) && !PLACE_OF_WORK_LABEL.test(table.slice(Math.max(0, t.index - 24), t.index)));
  if (terms.length === 0) return notPhi();
  // an identifier of a person (SSN, DOB …) anywhere in the message with health information
  const strong = findings.filter((f) => strongIdentifier(f, identifierCategories)).map((f) => f.category);
  if (strong.length) {
    const ids = detectors.filter((d) => strong.includes(d.category) && d.locate).flatMap((d) => (d.locate?.(table) ?? []).map((span) => ({ ...span, category: d.category })));
    const best = closest(ids, terms);
    return phi({ rule: 'identifier-and-health', identifier: best?.from.category ?? strong[0] ?? '', health: best?.to.term, distance: best?.distance }, named());
  }
  // a person named (with a label, an honorific, a patient cue or a home address) with health information near
  const anchors = individuals(table, zones, readerNames, authorNames, personalAuthor);
  // a name introduced by an everyday word ("for …") counts only with health information in its sentence
  const best = closestWithin(anchors, terms, ANCHOR_WINDOW, (a, t) => !a.weak || sameSentence(table, a, t));
  if (!best) return notPhi();
  return phi({ rule: 'individual-and-health', identifier: best.from.kind, health: best.to.term, distance: best.distance }, ['patient-phone', 'patient-contact', 'home-address'].includes(best.from.kind) ? [] : ['PERSON_NAME']);
}

/**
 * The individuals a text names (person mentions, the letter's reader and
 * its author), outside signatures — but for a signed or quoted author,
 * whose name stands in a signature or a quoted header. The verdict and its
 * explanation read the same.
 */
export function individuals(text: string, zones: readonly Zone[], readerNames: readonly string[], authorNames: readonly string[] = [], personalAuthor = false): PersonAnchor[] {
  return [...personAnchors(text), ...readerAnchors(text, readerNames), ...authorAnchors(text, authorNames, personalAuthor)].filter((a) => a.kind === 'signed-author' || a.kind === 'quoted-author' || !inZone(zones, a.index));
}

/** Whether the text names a person (not in a signature): a name, not only a phone, e-mail or address; `weak` whether one introduced only by an everyday word counts. */
function namedIndividual(text: string, weak = true): boolean {
  const zones = signatureZones(text);
  return personAnchors(text).some((a) => !['patient-phone', 'patient-contact', 'home-address'].includes(a.kind) && (weak || !a.weak) && !inZone(zones, a.index));
}

/** Identifiers of one person (found with their keyword): the person the text names beside them is whose they are. */
const OWNED_CATEGORIES: ReadonlySet<string> = new Set([...PERSONAL_ID_CATEGORIES, 'DOB']);

/** No sentence end (". ", "!", "?", a blank line) between two spans, and at most 200 characters apart. */
function sameSentence(text: string, a: Span, b: Span): boolean {
  const start = Math.min(a.index + a.length, b.index + b.length);
  const end = Math.max(a.index, b.index);
  if (end - start > 200) return false;
  return !/[.!?](?:\s|$)|\n\s*\n/.test(text.slice(Math.min(a.index, b.index), end));
}

/** Where the health information is: health terms, and codes found with their keywords (named by category). */
function healthSpans(text: string, detectors: readonly Detector[]): { index: number; length: number; term: string }[] {
  const codes = detectors
    .filter((d) => HEALTH_CATEGORIES.has(d.category) && d.category !== 'HEALTH_TERM' && d.locate)
    .flatMap((d) => (d.locate?.(text) ?? []).map((span) => ({ ...span, term: d.category })));
  // the terms are only read: the shared list, not a copy of it, goes into this one
  return [...sharedHealthTermSpans(text), ...codes];
}

/** A field's label that makes the value after it a place of work ("Unit: Dialysis", "Department: Oncology", "Specialty: Cardiology"), not anyone's health. */
const PLACE_OF_WORK_LABEL = /(?<![\p{L}])(?:unit|department|dept|service|location|clinic|ward|floor|specialty|speciality|program|programme|team|site|division)[ \t]*:[ \t]*$/iu;

/**
 * Nouns after a health term that make it the name of a unit, a team, an
 * event or a thing, not anyone's health ("her ICU colleagues", "the
 * oncology unit", "cancer research", "the new dialysis chairs", "42 private
 * infusion bays", "lodging and medication costs"); not what a
 * person has or uses ("his diabetes supplies", "her wound dressings").
 */
const NOT_ABOUT_SOMEONE = /^[ \t]+(?:unit|units|team|teams|colleagues|staff|department|dept|division|ward|floor|fellows|residents|nurses|rotation|conference|budget|meeting|committee|research|fundraiser|walk|awareness|chairs|bays|suites|vendor|rep|costs?|expenses|prices|pricing|shortages?|assistance)(?![\p{L}])/iu;

/** Whether the word right after a health term ending at `end` makes it a unit, a team, an event or a thing (NOT_ABOUT_SOMEONE). */
function namesSomethingElse(text: string, end: number): boolean {
  return NOT_ABOUT_SOMEONE.test(text.slice(end, end + 24));
}

/** Words that end an organisation's or a programme's name. */
const ORGANISATION_WORD =
  /^(?:center|centre|clinic|clinics|hospital|hospice|health|healthcare|institute|program|programme|services?|unit|department|foundation|society|association|group|associates|network|partners|care|walk|run|week|month|day|awareness|education|line|team|research|fund|alliance|coalition|league|council|clinique|klinik|klinikum|zentrum|centro|praxis|pharmacy|specialists|physicians|medicine|ward|floor|wing|suite|library|press|journal|magazine|college|university|school)$/i;

/** Words after a department's or a service's name that make it care someone received there ("Emergency Department services on 06/02"). */
const CARE_RECEIVED_AFTER = /^[ \t]+(?:visits?|services|charges|stay|encounter|admission)(?![\p{L}])/iu;

/** A name's word joined by these does not end the name ("Home Health & Hospice", "Department of Medicine"). */
const NAME_JOINER = /^(?:&|and|of|for|the|de|du|des|für|y)$/i;
/** Quote marks and brackets before a word, punctuation after it: not part of the word. */
const AROUND_WORD = /^[("'“]+|[)"'”,.;:!?]+$/g;
const ENDS_CLAUSE = /[,.;:!?)]$/;
const STARTS_CAPITAL = /^\p{Lu}/u;

/** Whether `s` starts with an upper-case letter (`/^\p{Lu}/u`; an ASCII first character decided without the pattern). */
function startsCapitalised(s: string): boolean {
  const c = s.charCodeAt(0);
  return c < 128 ? c >= 65 && c <= 90 : STARTS_CAPITAL.test(s);
}

/**
 * Reads one word of a capitalised name next to a health term: false when
 * the name ends before it (a word not capitalised), true when it ends after
 * it (punctuation after the word), undefined to read on. `found` is set
 * when the word is an organisation word.
 */
function nameWord(raw: string, state: { found: boolean }): boolean | undefined {
  const w = raw.replace(AROUND_WORD, '');
  if (NAME_JOINER.test(w)) return undefined;
  if (!startsCapitalised(w)) return false;
  if (ORGANISATION_WORD.test(w)) state.found = true;
  return raw !== w && ENDS_CLAUSE.test(raw) ? true : undefined;
}

/**
 * A health term written as part of a capitalised name that holds an
 * organisation word: "Riverside Cancer Center", "Northfield Home Health &
 * Hospice", "Diabetes Education Program". Such a name is not health
 * information about anyone. The name is read word by word outwards from the
 * term, at most 80 characters each way on its line, and only as far as it
 * goes (most terms are not capitalised, and most names end within a word or
 * two).
 */
/** Whether a capitalised word stands right before `index`, a space or a tab between, on the same line. */
function capitalisedWordBefore(text: string, index: number): boolean {
  let end = index;
  while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  if (end === index) return false;
  let start = end;
  while (start > 0 && !isSpaceCode(text.charCodeAt(start - 1))) start--;
  return start < end && startsCapitalised(text.slice(start, end)) && !NAME_JOINER.test(text.slice(start, end));
}

export function inOrganisationName(text: string, index: number, length: number): boolean {
  const first = text.charCodeAt(index);
  if (first < 128 ? !(first >= 65 && first <= 90) : !STARTS_CAPITAL.test(text.slice(index, index + 1))) return false;
  // care someone received there: "Emergency Department services provided to …", "Behavioral Health visit on 3/2"
  if (CARE_RECEIVED_AFTER.test(text.slice(index + length, index + length + 24))) return false;
  // the term's own words after its first ("Behavioral Health")
  const own = text.slice(index, index + length).split(/\s+/);
  for (let k = 1; k < own.length; k++) if (ORGANISATION_WORD.test(own[k] as string)) return true;
  // a term that is itself an organisation's last word, after a capitalised word ("Lakeshore Hospice")
  if (own.length === 1 && ORGANISATION_WORD.test(own[0] as string) && capitalisedWordBefore(text, index)) return true;
  const state = { found: false };
  // before the term: its words from the nearest outwards
  const floor = lineStartWithin(text, index, 80);
  for (let end = index; end > floor; ) {
    while (end > floor && isSpaceCode(text.charCodeAt(end - 1))) end--;
    if (end <= floor) break;
    let start = end - 1;
    while (start > floor && !isSpaceCode(text.charCodeAt(start - 1))) start--;
    const stop = nameWord(text.slice(start, end), state);
    if (state.found) return true;
    if (stop !== undefined) break;
    end = start;
  }
  // after it
  const ceiling = lineEndWithin(text, index + length, 80);
  for (let start = index + length; start < ceiling; ) {
    while (start < ceiling && isSpaceCode(text.charCodeAt(start))) start++;
    if (start >= ceiling) break;
    let end = start + 1;
    while (end < ceiling && !isSpaceCode(text.charCodeAt(end))) end++;
    const stop = nameWord(text.slice(start, end), state);
    if (state.found) return true;
    if (stop !== undefined) break;
    start = end;
  }
  return false;
}

/**
 * Pure: the subject alone holds PHI or another sensitive finding. A method
 * that leaves the subject visible (S/MIME, OpenPGP, a portal notification)
 * must then send a neutral outer subject.
 */
export function subjectSensitive(subject: string, profile: InspectionProfile = DEFAULT_PROFILE): boolean {
  if (!subject) return false;
  const v = inspectText(subject, profile.detectors, 200, profile.identifierCategories);
  return v.phi || v.findings.some((f) => !WEAK_CATEGORIES.has(f.category) && CONFIDENCE_RANK[f.confidence] >= CONFIDENCE_RANK.medium);
}

export interface MessageVerdict extends Verdict {
  readonly notFullyScanned: boolean;
  readonly scanReasons: readonly string[];
}

/** A message's extracted texts (subject, bodies, attachments) as one text, each part apart from the next (PART_BREAK). */
export function messageText(texts: readonly string[]): string {
  return texts.join(PART_BREAK);
}

/** Verdict for an extracted message: its texts, plus what the walk found (DICOM, limits). */
export function inspectExtracted(
  extracted: { texts: readonly string[]; readerNames?: readonly string[]; authorNames?: readonly string[]; personalAuthor?: boolean; dicom: boolean; notFullyScanned: boolean; reasons: readonly string[] },
  profile: InspectionProfile = DEFAULT_PROFILE,
): MessageVerdict {
  const v = inspectText(messageText(extracted.texts), profile.detectors, 200, profile.identifierCategories, extracted.readerNames, extracted.authorNames, extracted.personalAuthor);
  const dicom: Finding[] = extracted.dicom ? [{ detector: 'clinical-format', category: 'CLINICAL_FORMAT', count: 1, confidence: 'high', evidence: ['DICOM file'] }] : [];
  const phi = v.phi || extracted.dicom;
  return {
    findings: [...v.findings, ...dicom],
    categories: [...new Set([...v.categories, ...(extracted.dicom ? ['CLINICAL_FORMAT', 'PHI'] : [])])],
    phi,
    phiConfidence: extracted.dicom ? 'high' : v.phiConfidence,
    phiBasis: v.phi ? v.phiBasis : extracted.dicom ? { rule: 'clinical-format', identifier: 'DICOM file' } : undefined,
    notFullyScanned: extracted.notFullyScanned,
    scanReasons: extracted.reasons,
  };
}
