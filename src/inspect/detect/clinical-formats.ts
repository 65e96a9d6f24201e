/**
 * Structured clinical data: HL7 v2 messages, FHIR resources (JSON or XML),
 * C-CDA documents, X12 healthcare transactions (837/835 claims and
 * remittances, 270/271 eligibility, 276/277 claim status, 278 prior
 * authorisation, 834 enrolment, 820 premium payment), DICOM files.
 *
 * A format is PHI only when it carries an individual: an HL7 v2 message with
 * a PID segment (or an insured, guarantor or next of kin with a name), FHIR
 * with a Patient, RelatedPerson or Person, or a resource whose subject,
 * patient or beneficiary refers to one, a C-CDA document with its
 * recordTarget, an X12 transaction with subscriber, patient, dependent or
 * member loops. That is a high-confidence finding. The same format without
 * an individual (an HL7 ACK or master file update, a FHIR
 * CapabilityStatement, ValueSet or Bundle of organisations, an X12 999
 * acknowledgement) is a low-confidence finding: clinical plumbing, not
 * PHI by itself. Evidence carries labels only, never values.
 *
 * Every test is a regular expression without nested quantifiers or a
 * single pass over segments: linear in the text's length.
 */
import { findLiteral, nextIsa } from './clinical-fields.js';
import { hl7TestMessage, samplePatient, x12TestInterchange } from './clinical-fields.js';
import { testPatientName } from './test-patients.js';
import type { Detector, Finding } from './types.js';

interface Format {
  readonly label: string;
  readonly individual: boolean;
}

/** Lines of a segment-based format, each cut to this many characters for the field checks. */
const MAX_SEGMENT = 4096;

function hl7v2(text: string): Format | undefined {
  // the header's literal first (a plain search), then where it stands
  if (!text.includes('MSH|^~\\&') || !/(?:^|[\r\n])MSH\|\^~\\&/.test(text)) return undefined;
  const sep = '|';
  // every message a test or debugging one (MSH-11 "T", "D"): its persons are test patients
  if (onlyTestMessages(text)) return { label: 'HL7 v2 message', individual: false };
  // a patient segment about a person: not every one a test patient ("ZZTEST^PATIENT", interface specs' samples)
  if (realPatientSegment(text)) return { label: 'HL7 v2 message', individual: true };
  // an insured (IN1-16), guarantor (GT1-3) or next of kin (NK1-2) with a name
  const field: Record<string, number> = { IN1: 16, GT1: 3, NK1: 2 };
  const re = /(?:^|[\r\n])(IN1|GT1|NK1)\|/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length - 4;
    const end = text.slice(start, start + MAX_SEGMENT).search(/[\r\n]/);
    const fields = text.slice(start, end < 0 ? start + MAX_SEGMENT : start + end).split(sep);
    if (/[A-Za-z]/.test(fields[field[m[1] as string] ?? 0] ?? '')) return { label: 'HL7 v2 message', individual: true };
  }
  return { label: 'HL7 v2 message', individual: false };
}

/** Where an MSH segment with the usual separators starts. */
const MSH_START = /(?:^|[\r\n])MSH\|\^~\\&/g;

/** Whether every MSH segment (up to MAX_MESSAGES) carries the processing id of a test or debugging message (hl7TestMessage). */
function onlyTestMessages(text: string): boolean {
  let seen = 0;
  MSH_START.lastIndex = 0;
  for (let m = MSH_START.exec(text); m && seen < MAX_MESSAGES; m = MSH_START.exec(text)) {
    seen++;
    const start = m.index + m[0].length - 8;
    const end = text.slice(start, start + MAX_SEGMENT).search(/[\r\n]/);
    if (!hl7TestMessage(text.slice(start, end < 0 ? start + MAX_SEGMENT : start + end), '|', '^')) {
      MSH_START.lastIndex = 0;
      return false;
    }
  }
  MSH_START.lastIndex = 0;
  return seen > 0;
}

/** The MSH segments read for their processing id (a batch of more is judged by its first). */
const MAX_MESSAGES = 200;

/** Where a PID segment starts. */
const PID_START = /(?:^|[\r\n])PID\|/g;

/** Whether a PID segment of an HL7 v2 text names someone other than a test patient (read up to the first that does). */
function realPatientSegment(text: string): boolean {
  PID_START.lastIndex = 0;
  for (let m = PID_START.exec(text); m; m = PID_START.exec(text)) {
    const start = m.index + m[0].length;
    const end = text.slice(start, start + MAX_SEGMENT).search(/[\r\n]/);
    // PID-5 is the fifth field after the segment id
    const name = text.slice(start, end < 0 ? start + MAX_SEGMENT : start + end).split('|', 5)[4] ?? '';
    if (!testPatientName(name)) {
      PID_START.lastIndex = 0;
      return true;
    }
  }
  return false;
}

/** FHIR resource types recognised as FHIR. */
const FHIR_TYPES =
  'Patient|RelatedPerson|Person|Observation|Condition|Encounter|EpisodeOfCare|MedicationRequest|MedicationStatement|MedicationAdministration|MedicationDispense|DiagnosticReport|Procedure|AllergyIntolerance|Immunization|ImagingStudy|Specimen|ServiceRequest|Appointment|CarePlan|CareTeam|Goal|FamilyMemberHistory|QuestionnaireResponse|Composition|DocumentReference|Consent|Communication|Flag|RiskAssessment|ClinicalImpression|DetectedIssue|AdverseEvent|DeviceRequest|NutritionOrder|Claim|ClaimResponse|ExplanationOfBenefit|Coverage|CoverageEligibilityRequest|CoverageEligibilityResponse|Account|Invoice|ChargeItem|Bundle|Organization|Practitioner|PractitionerRole|Location|HealthcareService|Endpoint|Device|Medication|Substance|CapabilityStatement|ValueSet|CodeSystem|ConceptMap|StructureDefinition|SearchParameter|OperationDefinition|OperationOutcome|Questionnaire|Parameters|Subscription|AuditEvent|Provenance|Binary|List|Group|Library|Measure|MeasureReport|PlanDefinition|ActivityDefinition|ImplementationGuide|NamingSystem|TerminologyCapabilities';
const PERSON_TYPES = new Set(['Patient', 'RelatedPerson', 'Person']);

/** A FHIR JSON resource's type (compiled once; global, lastIndex reset by each use). */
const FHIR_JSON_TYPE = new RegExp(`"resourceType"\\s{0,20}:\\s{0,20}"(${FHIR_TYPES})"`, 'g');

/**
 * A FHIR resource's security label "HTEST" (HL7 v3 ActReason: test health
 * data), as sandboxes and synthetic data generators tag their bundles:
 * the persons in it are test patients.
 */
const FHIR_TEST_DATA = /"code"\s{0,20}:\s{0,20}"HTEST"/;

/** A FHIR HumanName's family name in JSON ("family": "Testpatient"). */
const FHIR_FAMILY = /"family"\s{0,20}:\s{0,20}"([^"\n]{1,60})"/g;
/** The family names read (a bundle of more is judged by its first). */
const MAX_FAMILIES = 50;

/** Whether the JSON names persons and every family name it gives is a test patient's ("Testpatient", "ZZTEST"): a sandbox's or an interface test's bundle. */
function onlyTestFamilies(text: string): boolean {
  if (!text.includes('"family"')) return false;
  let seen = 0;
  FHIR_FAMILY.lastIndex = 0;
  for (let m = FHIR_FAMILY.exec(text); m && seen < MAX_FAMILIES; m = FHIR_FAMILY.exec(text)) {
    seen++;
    if (!testPatientName(`${m[1] ?? ''}^`)) {
      FHIR_FAMILY.lastIndex = 0;
      return false;
    }
  }
  FHIR_FAMILY.lastIndex = 0;
  return seen > 0;
}

function fhirJson(text: string): Format | undefined {
  if (!text.includes('"resourceType"')) return undefined;
  if (text.includes('"HTEST"') && FHIR_TEST_DATA.test(text)) return { label: 'FHIR resource (JSON) tagged as test data', individual: false };
  if (onlyTestFamilies(text)) return { label: 'FHIR resource (JSON) whose persons are test patients', individual: false };
  const re = FHIR_JSON_TYPE;
  re.lastIndex = 0;
  let found = false;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    found = true;
    if (PERSON_TYPES.has(m[1] as string)) {
      re.lastIndex = 0;
      return { label: 'FHIR resource (JSON)', individual: true };
    }
  }
  if (!found) return undefined;
  // a resource about a patient: its subject, patient or beneficiary refers to one
  const about = /"(?:subject|patient|beneficiary)"\s{0,20}:\s{0,20}\{[^{}]{0,400}?"(?:reference|identifier|display)"\s{0,20}:/;
  return { label: 'FHIR resource (JSON)', individual: about.test(text) };
}

/** A FHIR XML resource's root element (compiled once). */
const FHIR_XML_ROOT = new RegExp(`<(${FHIR_TYPES})\\b[^<>]{0,1000}xmlns="http://hl7\\.org/fhir"`);

const FHIR_NAMESPACE = 'xmlns="http://hl7.org/fhir"';

function fhirXml(text: string): Format | undefined {
  // the namespace searched from its rare ":" (findLiteral): V8's own search for so long a string reads mail slowly
  if (findLiteral(text, FHIR_NAMESPACE, 0, FHIR_NAMESPACE.indexOf(':')) < 0 || !FHIR_XML_ROOT.test(text)) return undefined;
  const individual = /<(?:Patient|RelatedPerson|Person)[\s>]/.test(text) || /<(?:subject|patient|beneficiary)>\s{0,200}<(?:reference|identifier|display)\b/.test(text);
  return { label: 'FHIR resource (XML)', individual };
}

function ccda(text: string): Format | undefined {
  // the root element's literal first (a plain search), then the pattern; a namespace prefix allowed ("<cda:ClinicalDocument")
  if (findLiteral(text, 'ClinicalDocument', 0) < 0 || !/<(?:[A-Za-z_][\w.-]{0,20}:)?ClinicalDocument\b[^<>]{0,2000}urn:hl7-org:v3/.test(text)) return undefined;
  const target = /<(?:[A-Za-z_][\w.-]{0,20}:)?(?:recordTarget|patientRole)[\s>]/.exec(text);
  return { label: 'C-CDA document', individual: target !== null && !templatePatient(text, target.index) && !exampleCdaPatient(text, target.index) };
}

/** A template's placeholder: "{{patient.mrn}}", "${name}", "[Patient Name]", "<<DOB>>", "___". */
const PLACEHOLDER = /^\s*(?:\{\{[^{}]*\}\}|\$\{[^{}]*\}|\[[^[\]]*\]|<<[^<>]*>>|_+)?\s*$/;

/**
 * Whether the C-CDA patient (recordTarget) from `at` is a template's: its
 * name parts and identifiers (given, family, the id's extension, the birth
 * time's value) hold placeholders only ("{{patient.name.family}}"), as a
 * document service's template or an interface spec's example does.
 */
function templatePatient(text: string, at: number): boolean {
  const block = text.slice(at, at + 20_000);
  const end = block.search(/<\/(?:[A-Za-z_][\w.-]{0,20}:)?recordTarget>/);
  const target = end < 0 ? block : block.slice(0, end);
  const values = [
    ...[...target.matchAll(/<(?:[A-Za-z_][\w.-]{0,20}:)?(?:given|family)\b[^<>]*>([^<]*)</g)].map((m) => m[1] ?? ''),
    ...[...target.matchAll(/\b(?:extension|value)="([^"]*)"/g)].map((m) => m[1] ?? ''),
  ];
  return values.length > 0 && values.every((v) => PLACEHOLDER.test(v) || /^tel:\{\{/.test(v));
}

/**
 * Whether the C-CDA patient (recordTarget) from `at` is a test or sample
 * patient: the first family and given names a test patient's or a
 * specification's example (testPatientName: "ZZTEST", "Everyman, Adam",
 * "Public, John Q"). (Identifiers under HL7's example OID,
 * 2.16.840.1.113883.19, do not tell: documents made from the samples keep it
 * for real patients.)
 */
function exampleCdaPatient(text: string, at: number): boolean {
  const block = text.slice(at, at + 20_000);
  const end = block.search(/<\/(?:[A-Za-z_][\w.-]{0,20}:)?recordTarget>/);
  return samplePatient(end < 0 ? block : block.slice(0, end));
}

/** X12 transaction sets of healthcare (HIPAA) and their acknowledgements. */
const X12_HEALTH = new Set(['270', '271', '275', '276', '277', '278', '820', '834', '835', '837']);
const X12_ACK = new Set(['997', '999']);
/** NM1 entity codes of a person the transaction is about: insured/subscriber, patient, dependent, policyholder. */
const X12_PERSON = new Set(['IL', 'QC', '03', 'QE']);

interface X12Scan {
  readonly sets: Set<string>;
  /** A person's name (NM1) not a test patient's. */
  individual: boolean;
  /** A person's loop: INS, or a subscriber's or dependent's HL. */
  personLoop: boolean;
  /** A person's name (NM1) that is a test patient's ("TESTPATIENT*JANE"): its loops are a test file's. */
  testPerson: boolean;
  ta1: boolean;
}

/** Whether text[from, to) is a segment id the walk reads: ST, HL, IEA (its end), TA1, INS or NM1. */
function scannedId(text: string, from: number, to: number): boolean {
  const a = text.charCodeAt(from);
  const b = text.charCodeAt(from + 1);
  if (to - from === 2) return (a === 83 && b === 84) || (a === 72 && b === 76);
  if (to - from !== 3) return false;
  const c = text.charCodeAt(from + 2);
  return (a === 73 && b === 69 && c === 65) || (a === 84 && b === 65 && c === 49) || (a === 73 && b === 78 && c === 83) || (a === 78 && b === 77 && c === 49);
}

/** The first place in [from, to) holding `code`, or `to`. */
function charBefore(text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i;
  return to;
}

/** Walks the segments from `start`, separated by `term`, elements by `sep`, to the interchange's end (IEA); returns where it stopped. */
function scanX12(text: string, start: number, sep: string, term: string, into: X12Scan): number {
  let i = start;
  while (i < text.length) {
    let end = text.indexOf(term, i);
    if (end < 0) end = text.length;
    // newlines around the segment terminator are layout
    let a = i;
    while (a < end && (text[a] === '\r' || text[a] === '\n' || text[a] === ' ')) a++;
    // the segment's first 64 characters; its id is what precedes the first separator there
    const cut = Math.min(end, a + 64);
    const idEnd = charBefore(text, sep.charCodeAt(0), a, cut);
    // only these ids are read: the others are not copied
    if (scannedId(text, a, idEnd)) {
      const seg = text.slice(a, cut);
      const id = seg.slice(0, idEnd - a);
      if (id === 'IEA') return end;
      const el = seg.split(sep);
      if (id === 'ST') into.sets.add((el[1] ?? '').trim());
      else if (id === 'TA1') into.ta1 = true;
      else if (id === 'INS') into.personLoop = true;
      else if (id === 'NM1' && X12_PERSON.has((el[1] ?? '').trim())) {
        // NM1*IL*1*FAMILY*GIVEN: a test patient's name is no individual
        if (testPatientName(`${el[3] ?? ''}^${el[4] ?? ''}`)) into.testPerson = true;
        else into.individual = true;
      } else if (id === 'HL' && /^2[23]$/.test((el[3] ?? '').trim())) into.personLoop = true; // 2000C subscriber, 2000D dependent
    }
    i = end + term.length;
  }
  return text.length;
}

function x12(text: string): Format | undefined {
  const scan: X12Scan = { sets: new Set(), individual: false, personLoop: false, testPerson: false, ta1: false };
  // an interchange: ISA, the element separator (the 4th character), ISA01 (two digits); the
  // segment terminator follows ISA16, the 16th element (the 106th character of a well-formed ISA)
  let envelopes = 0;
  let from = 0;
  // each found by a plain search for "ISA" and a look at the characters around it (nextIsa, shared with the field lines)
  for (let header = nextIsa(text, from); header && envelopes < 100; header = nextIsa(text, from)) {
    envelopes++;
    const { at: begin, sep, end } = header;
    from = end;
    let pos = begin;
    let count = 0;
    while (count < 16 && pos < begin + 200) {
      pos = text.indexOf(sep, pos + 1);
      if (pos < 0) break;
      count++;
    }
    if (count < 16 || pos < 0) continue;
    let term = text[pos + 2];
    if (term === undefined || term === sep) continue;
    if (term === '\r' && text[pos + 3] === '\n') term = '\r\n';
    // the next interchange is looked for after this one: each character is read once; a test interchange's persons
    // (ISA15, the usage indicator, "T") are a test file's, no one's
    if (x12TestInterchange(text.slice(begin, pos), sep)) {
      const test: X12Scan = { sets: scan.sets, individual: false, personLoop: false, testPerson: false, ta1: false };
      from = Math.max(from, scanX12(text, pos + 2 + term.length, sep, term, test));
      scan.ta1 ||= test.ta1;
      scan.testPerson ||= test.personLoop || test.individual || test.testPerson;
    } else from = Math.max(from, scanX12(text, pos + 2 + term.length, sep, term, scan));
  }
  // a transaction without its interchange envelope: ST*837* and the usual separators
  if (envelopes === 0 && text.includes('ST*') && /(?:^|[~\r\n])ST\*(?:27[0-8]|820|83[457]|99[79])\*/.test(text)) scanX12(text, 0, '*', /~/.test(text) ? '~' : '\n', scan);
  const health = [...scan.sets].filter((s) => X12_HEALTH.has(s)).sort();
  const acks = [...scan.sets].filter((s) => X12_ACK.has(s)).sort();
  // a person's loop is an individual's unless the only names in it are test patients'
  if (health.length > 0) return { label: `X12 ${health.join('/')} transaction`, individual: scan.individual || (scan.personLoop && !scan.testPerson) };
  if (acks.length > 0 || (scan.ta1 && envelopes > 0)) return { label: `X12 ${acks.length > 0 ? acks.join('/') : 'TA1'} acknowledgement`, individual: false };
  return undefined;
}

/**
 * NAACCR XML, the cancer registries' exchange format
 * (naaccr.org/naaccrxml): a NaaccrData root in its namespace, with a
 * Patient element when it carries a person (a data dictionary or an empty
 * submission carries none).
 */
function naaccrXml(text: string): Format | undefined {
  if (!text.includes('NaaccrData') || !/<NaaccrData\b[^<>]{0,2000}naaccr\.org\/naaccrxml/.test(text)) return undefined;
  return { label: 'NAACCR XML registry data', individual: /<Patient[\s>]/.test(text) };
}

const FORMATS: readonly ((text: string) => Format | undefined)[] = [hl7v2, fhirJson, fhirXml, ccda, x12, naaccrXml];

export const clinicalFormatDetector: Detector = {
  id: 'clinical-format',
  category: 'CLINICAL_FORMAT',
  detect(text: string): Finding | undefined {
    const hits = FORMATS.map((f) => f(text)).filter((f): f is Format => f !== undefined);
    if (hits.length === 0) return undefined;
    const individual = hits.some((h) => h.individual);
    return {
      detector: 'clinical-format',
      category: 'CLINICAL_FORMAT',
      count: hits.length,
      confidence: individual ? 'high' : 'low',
      evidence: hits.map((h) => (h.individual ? h.label : `${h.label} without patient data`)),
    };
  },
};

/** DICOM Part 10 file: "DICM" at byte 128 (binary attachments, not text). */
export function isDicom(bytes: Buffer): boolean {
  return bytes.length >= 132 && bytes.subarray(128, 132).toString('latin1') === 'DICM';
}
