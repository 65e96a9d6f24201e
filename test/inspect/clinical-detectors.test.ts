import { describe, expect, it } from 'vitest';
import { clinicalFormatDetector, isDicom } from '../../src/inspect/detect/clinical-formats.js';
import { cptDetector, icd10Detector, ndcDetector } from '../../src/inspect/detect/medical-codes.js';
import { customIdentifierDetector, dobDetector, emailListDetector, mrnDetector, phoneDetector } from '../../src/inspect/detect/personal.js';
import type { Confidence, Detector } from '../../src/inspect/detect/types.js';

type Case = [string, Detector, string, { count: number; confidence: Confidence; evidence?: string[] } | undefined];

describe('medical codes, personal identifiers, clinical formats', () => {
  it.each<Case>([
    ['ICD-10 with diagnosis keyword', icd10Detector, 'Diagnosis: E11.9 type 2 diabetes', { count: 1, confidence: 'high', evidence: ['ICD-10 E****'] }],
    ['ICD-like product code without context', icd10Detector, 'Replacement part E11.9 in stock', undefined],
    ['two ICD codes', icd10Detector, 'Dx: J45.909, I10', { count: 2, confidence: 'high' }],
    ['CPT with keyword', cptDetector, 'CPT 99213 office visit', { count: 1, confidence: 'high', evidence: ['CPT ****3'] }],
    ['five-digit zip code is not CPT', cptDetector, 'Boston MA 02115', undefined],
    ['HCPCS with keyword', cptDetector, 'HCPCS code J1100 administered', { count: 1, confidence: 'high' }],
    ['NDC with keyword', ndcDetector, 'NDC 0002-3227-30 dispensed', { count: 1, confidence: 'high', evidence: ['NDC ****-****-30'] }],
    ['NDC-shaped without context', ndcDetector, 'serial 0002-3227-30', undefined],
    ['DOB numeric', dobDetector, 'DOB: 04/17/1968', { count: 1, confidence: 'high', evidence: ['DOB **/**/****'] }],
    ['DOB written out', dobDetector, 'date of birth March 3, 1951', { count: 1, confidence: 'high' }],
    ['a date without birth context', dobDetector, 'Meeting on 04/17/2026 at noon', undefined],
    ['DOB in ISO form', dobDetector, 'DOB 1968-04-17', { count: 1, confidence: 'high' }],
    ['DOB ISO with slashes', dobDetector, 'Date of birth: 1968/04/17', { count: 1, confidence: 'high' }],
    ['DOB day-first when the day is over 12', dobDetector, 'DOB: 17/04/1968', { count: 1, confidence: 'high' }],
    ['German: Geburtsdatum TT.MM.JJJJ', dobDetector, 'Geburtsdatum: 17.04.1968', { count: 1, confidence: 'high' }],
    ['German: geboren am, month in letters', dobDetector, 'Frau Roe, geboren am 3. März 1961, wurde', { count: 1, confidence: 'high' }],
    ['German: geb.', dobDetector, 'Max Muster, geb. 17.04.1968', { count: 1, confidence: 'high' }],
    ['Spanish: fecha de nacimiento', dobDetector, 'Fecha de nacimiento: 3 de marzo de 1961', { count: 1, confidence: 'high' }],
    ['Spanish: nacida el', dobDetector, 'La paciente, nacida el 17/04/1968, presenta', { count: 1, confidence: 'high' }],
    ['French: date de naissance', dobDetector, 'Date de naissance : 3 mars 1961', { count: 1, confidence: 'high' }],
    ['French: née le', dobDetector, 'Mme Roe, née le 17.04.1968', { count: 1, confidence: 'high' }],
    ['French: DDN', dobDetector, 'DDN 17/04/1968', { count: 1, confidence: 'high' }],
    ['a German date without birth context', dobDetector, 'Termin am 17.04.2026 um 10 Uhr', undefined],
    ['a Spanish date without birth context', dobDetector, 'Reunión el 3 de marzo de 2026', undefined],
    ['a word that merely starts like a keyword', dobDetector, 'gebraucht 17.04.2026', undefined],
    ['phone with keyword', phoneDetector, 'Call me on (617) 555-0142', { count: 1, confidence: 'high', evidence: ['Phone ***-***-0142'] }],
    ['phone alone', phoneDetector, 'reach 617-555-0142 anytime', { count: 1, confidence: 'low' }],
    ['number that cannot be a US phone', phoneDetector, 'ref 123-456-7890', undefined],
    ['MRN with keyword', mrnDetector, 'MRN: 00123456', { count: 1, confidence: 'high', evidence: ['MRN *****456'] }],
    ['MRN-shaped without keyword', mrnDetector, 'invoice 00123456', undefined],
    ['alphanumeric MRN with hyphens', mrnDetector, 'MRN: A12-345-678', { count: 1, confidence: 'high' }],
    ['chart number behind "Chart #"', mrnDetector, 'Chart #: CH-004582', { count: 1, confidence: 'high' }],
    ['patient account behind "Acct"', mrnDetector, 'Acct 7734-2281A balance due', { count: 1, confidence: 'high' }],
    ['MR# with a letter suffix', mrnDetector, 'MR# 0045821B', { count: 1, confidence: 'high' }],
    ['a zip code near the keyword is no MRN', mrnDetector, 'patient account office, Boston MA 02115', undefined],
    ['a date near the keyword is no MRN', mrnDetector, 'Acct statement of 2026-12-04', undefined],
    ['a phone number near the keyword is no MRN', mrnDetector, 'Questions about your acct? 617-555-0142', undefined],
    ['a keyword inside a longer word does not count', mrnDetector, 'MRNX 00123456', undefined],
    ['configured member id', customIdentifierDetector({ id: 'member', category: 'MEMBER_ID', pattern: '\\bHX\\d{8}\\b', keywords: ['member'] }), 'Member HX12345678 eligible', { count: 1, confidence: 'high', evidence: ['MEMBER_ID *******678'] }],
    ['HL7 v2', clinicalFormatDetector, 'MSH|^~\\&|EPIC|HOSP|LAB|LAB|202611240930||ORU^R01|123|P|2.5\rPID|1||12345', { count: 1, confidence: 'high', evidence: ['HL7 v2 message'] }],
    ['FHIR JSON', clinicalFormatDetector, '{"resourceType": "Patient", "id": "example"}', { count: 1, confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['C-CDA', clinicalFormatDetector, '<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3">', { count: 1, confidence: 'high', evidence: ['C-CDA document'] }],
    ['X12 837', clinicalFormatDetector, 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261124*0930*^*00501*000000001*0*P*:~GS*HC*S*R*20261124*0930*1*X*005010X222A1~ST*837*0001*005010X222A1~', { count: 1, confidence: 'high', evidence: ['X12 837/835 transaction'] }],
    ['JSON that is not FHIR', clinicalFormatDetector, '{"resourceType": "Widget"}', undefined],
  ])('%s', (_name, detector, text, expected) => {
    const found = detector.detect(text);
    if (!expected) return expect(found).toBeUndefined();
    expect(found).toMatchObject(expected);
  });

  it('flags many external addresses, not internal ones', () => {
    const external = Array.from({ length: 30 }, (_, i) => `patient${i}@gmail.example`).join(', ');
    const internal = Array.from({ length: 30 }, (_, i) => `staff${i}@hospital.example`).join(', ');
    const detector = emailListDetector(['hospital.example'], 25);
    expect(detector.detect(external)).toMatchObject({ category: 'EMAIL_LIST', count: 30, evidence: ['30 external email addresses'] });
    expect(detector.detect(internal)).toBeUndefined();
  });

  it('recognises a DICOM file by its preamble', () => {
    const dicom = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([2, 0, 0, 0])]);
    expect(isDicom(dicom)).toBe(true);
    expect(isDicom(Buffer.from('DICM'.padEnd(132, ' ')))).toBe(false);
    expect(isDicom(Buffer.alloc(10))).toBe(false);
  });
});
