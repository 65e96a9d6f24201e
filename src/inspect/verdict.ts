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
import { healthTermDetector, healthTermSpans } from './detect/health-terms.js';
import { deaDetector, mbiDetector, npiDetector } from './detect/health-ids.js';
import { abaRoutingDetector, bankAccountDetector, itinDetector, paymentCardDetector, ssnDetector } from './detect/identifiers.js';
import { cptDetector, icd10Detector, ndcDetector } from './detect/medical-codes.js';
import { customIdentifierDetector, dobDetector, mrnDetector, personNameDetector, phoneDetector, type CustomIdentifier } from './detect/personal.js';
import { personAnchors } from './detect/person-mentions.js';
import { CONFIDENCE_RANK, type Confidence, type Detector, type Finding } from './detect/types.js';

export const DEFAULT_DETECTORS: readonly Detector[] = [
  ssnDetector, itinDetector, paymentCardDetector, abaRoutingDetector, bankAccountDetector,
  npiDetector, deaDetector, mbiDetector, icd10Detector, cptDetector, ndcDetector,
  dobDetector, phoneDetector, mrnDetector, personNameDetector, clinicalFormatDetector, healthTermDetector,
];

/** Categories that identify a person. */
export const IDENTIFIER_CATEGORIES = new Set(['SSN', 'ITIN', 'MEDICARE_MBI', 'MRN', 'DOB', 'PHONE', 'MEMBER_ID', 'PERSON_NAME']);
/**
 * Identifiers of a person that HIPAA lists among the 18 (SSN, medical record
 * and health plan numbers, account numbers) or that identify a person's
 * money: found with high confidence, they alone call for the PHI transport
 * protection (policy setting identifierProtection), even without a health word.
 */
export const PERSONAL_ID_CATEGORIES: ReadonlySet<string> = new Set(['SSN', 'ITIN', 'MEDICARE_MBI', 'MRN', 'MEMBER_ID', 'PAYMENT_CARD', 'BANK_ACCOUNT']);
/** Categories that do not make a message sensitive alone (only next to health information, as PHI). */
export const WEAK_CATEGORIES: ReadonlySet<string> = new Set(['HEALTH_TERM', 'PHONE', 'PERSON_NAME']);

/** Categories that are health information by themselves. */
export const HEALTH_CATEGORIES = new Set(['ICD10', 'CPT_HCPCS', 'NDC', 'HEALTH_TERM']);

export interface Verdict {
  readonly findings: readonly Finding[];
  readonly phi: boolean;
  readonly phiConfidence?: Confidence | undefined;
  /** Categories found at medium confidence or more (what policy rules test). */
  readonly categories: readonly string[];
}

function identifierSpans(text: string, detectors: readonly Detector[], identifierCategories: ReadonlySet<string>): { index: number; length: number }[] {
  return detectors.filter((d) => identifierCategories.has(d.category) && d.locate).flatMap((d) => d.locate?.(text) ?? []);
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

export function inspectText(text: string, detectors: readonly Detector[] = DEFAULT_DETECTORS, window = 200, identifierCategories: ReadonlySet<string> = IDENTIFIER_CATEGORIES): Verdict {
  const findings = detectors.map((d) => d.detect(text)).filter((f): f is Finding => f !== undefined);
  const categories = [...new Set(findings.filter((f) => CONFIDENCE_RANK[f.confidence] >= CONFIDENCE_RANK.medium || f.category === 'HEALTH_TERM').map((f) => f.category))];
  // a clinical format is PHI when it carries an individual (high); without one (an HL7 ACK, a FHIR ValueSet, an X12 999) it is not
  const clinical = findings.some((f) => f.category === 'CLINICAL_FORMAT' && f.confidence === 'high');
  if (clinical) return { findings, categories: [...categories, 'PHI'], phi: true, phiConfidence: 'high' };
  const health = findings.some((f) => HEALTH_CATEGORIES.has(f.category));
  if (!health) return { findings, categories, phi: false };
  const terms = healthSpans(text, detectors);
  // an identifier of a person (SSN, MRN, DOB …) anywhere in the message with health information
  if (findings.some((f) => strongIdentifier(f, identifierCategories))) {
    const ids = identifierSpans(text, detectors, identifierCategories);
    const near = ids.some((id) => terms.some((t) => Math.abs(t.index - id.index) <= window));
    return { findings, categories: [...categories, 'PHI'], phi: true, phiConfidence: near ? 'high' : 'medium' };
  }
  // a person named (with a label, an honorific, a patient cue or a home address) with health information near
  const anchors = personAnchors(text);
  const about = anchors.filter((a) => terms.some((t) => t.index >= a.index - ANCHOR_WINDOW && t.index <= a.index + a.length + ANCHOR_WINDOW));
  if (about.length === 0) return { findings, categories, phi: false };
  const names = about.some((a) => a.kind !== 'patient-phone') && !categories.includes('PERSON_NAME') ? ['PERSON_NAME'] : [];
  const near = about.some((a) => terms.some((t) => Math.abs(t.index - a.index) <= window));
  return { findings, categories: [...categories, ...names, 'PHI'], phi: true, phiConfidence: near ? 'high' : 'medium' };
}

/** Where the health information is: health terms, and codes found with their keywords. */
function healthSpans(text: string, detectors: readonly Detector[]): { index: number; length: number }[] {
  const codes = detectors.filter((d) => HEALTH_CATEGORIES.has(d.category) && d.category !== 'HEALTH_TERM' && d.locate).flatMap((d) => d.locate?.(text) ?? []);
  return [...healthTermSpans(text), ...codes];
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

/** Verdict for an extracted message: its texts, plus what the walk found (DICOM, limits). */
export function inspectExtracted(extracted: { texts: readonly string[]; dicom: boolean; notFullyScanned: boolean; reasons: readonly string[] }, profile: InspectionProfile = DEFAULT_PROFILE): MessageVerdict {
  const v = inspectText(extracted.texts.join('\n\n'), profile.detectors, 200, profile.identifierCategories);
  const dicom: Finding[] = extracted.dicom ? [{ detector: 'clinical-format', category: 'CLINICAL_FORMAT', count: 1, confidence: 'high', evidence: ['DICOM file'] }] : [];
  const phi = v.phi || extracted.dicom;
  return {
    findings: [...v.findings, ...dicom],
    categories: [...new Set([...v.categories, ...(extracted.dicom ? ['CLINICAL_FORMAT', 'PHI'] : [])])],
    phi,
    phiConfidence: extracted.dicom ? 'high' : v.phiConfidence,
    notFullyScanned: extracted.notFullyScanned,
    scanReasons: extracted.reasons,
  };
}
