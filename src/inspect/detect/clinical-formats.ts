/**
 * Structured clinical data: HL7 v2 messages, FHIR resources (JSON or XML),
 * C-CDA documents, X12 837/835 claims and remittances, DICOM files. Finding
 * one means the content is clinical data, whatever else it holds.
 */
import type { Detector, Finding } from './types.js';

interface FormatRule {
  readonly id: string;
  readonly label: string;
  readonly test: RegExp;
}

const RULES: readonly FormatRule[] = [
  { id: 'hl7v2', label: 'HL7 v2 message', test: /(?:^|[\r\n])MSH\|\^~\\&/ },
  { id: 'fhir-json', label: 'FHIR resource (JSON)', test: /"resourceType"\s*:\s*"(?:Patient|Observation|Condition|Encounter|MedicationRequest|MedicationStatement|DiagnosticReport|Procedure|AllergyIntolerance|Immunization|Bundle|Claim|ExplanationOfBenefit|Coverage|DocumentReference|CarePlan)"/ },
  { id: 'fhir-xml', label: 'FHIR resource (XML)', test: /<(?:Patient|Observation|Condition|Bundle|Encounter|DiagnosticReport)\b[^>]*xmlns="http:\/\/hl7\.org\/fhir"/ },
  { id: 'c-cda', label: 'C-CDA document', test: /<ClinicalDocument\b[^>]*urn:hl7-org:v3/ },
  { id: 'x12-837-835', label: 'X12 837/835 transaction', test: /ISA\*[^~\n]{0,120}~?[\s\S]{0,400}?ST\*(?:837|835)\*/ },
];

export const clinicalFormatDetector: Detector = {
  id: 'clinical-format',
  category: 'CLINICAL_FORMAT',
  detect(text: string): Finding | undefined {
    const hits = RULES.filter((r) => r.test.test(text));
    if (hits.length === 0) return undefined;
    return { detector: 'clinical-format', category: 'CLINICAL_FORMAT', count: hits.length, confidence: 'high', evidence: hits.map((h) => h.label) };
  },
};

/** DICOM Part 10 file: "DICM" at byte 128 (binary attachments, not text). */
export function isDicom(bytes: Buffer): boolean {
  return bytes.length >= 132 && bytes.subarray(128, 132).toString('latin1') === 'DICM';
}
