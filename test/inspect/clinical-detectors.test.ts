import { describe, expect, it } from 'vitest';
import { inspectText } from '../../src/inspect/verdict.js';
import { clinicalFormatDetector, isDicom } from '../../src/inspect/detect/clinical-formats.js';
import { cptDetector, diagnosisByNameDetector, icd10Detector, ndcDetector, procedureByNameDetector } from '../../src/inspect/detect/medical-codes.js';
import { customIdentifierDetector, dobDetector, emailListDetector, mrnDetector, phoneDetector, shortDobDetector } from '../../src/inspect/detect/personal.js';
import type { Confidence, Detector } from '../../src/inspect/detect/types.js';

type Case = [string, Detector, string, { count: number; confidence: Confidence; evidence?: string[] } | undefined];

describe('medical codes, personal identifiers, clinical formats', () => {
  it.each<Case>([
    ['ICD-10 with diagnosis keyword', icd10Detector, 'Diagnosis: E11.9 type 2 diabetes', { count: 1, confidence: 'high', evidence: ['ICD-10 E****'] }],
    ['ICD-like product code without context', icd10Detector, 'Replacement part E11.9 in stock', undefined],
    ['two ICD codes', icd10Detector, 'Dx: J45.909, I10', { count: 2, confidence: 'high' }],
    ['CPT with keyword', cptDetector, 'CPT 99213 office visit', { count: 1, confidence: 'high', evidence: ['CPT ****3'] }],
    ['five-digit zip code is not CPT', cptDetector, 'Boston MA 02115', undefined],
    ['a code named by its procedure in a price list', procedureByNameDetector, 'Test prices:\n80053 comprehensive metabolic panel $38\n45378 diagnostic colonoscopy $57', { count: 2, confidence: 'high', evidence: ['CPT ****3', 'CPT ****8'] }],
    ['a code in a table cell', procedureByNameDetector, 'Date\t71046\tchest x-ray', { count: 1, confidence: 'high', evidence: ['CPT ****6'] }],
    ['a ZIP code before an organisation name is not a code', procedureByNameDetector, 'Springfield, IL 62701 Diabetes Center', undefined],
    ['a number before an ordinary word is not a code', procedureByNameDetector, '12345 widgets shipped', undefined],
    ['an ICD-10 code with its condition', diagnosisByNameDetector, 'Problems: E11.9 type 2 diabetes; I10 hypertension', { count: 2, confidence: 'high', evidence: ['ICD-10 E****', 'ICD-10 I**'] }],
    ['an undotted ICD-10 code at the start of a cell', diagnosisByNameDetector, 'Dx\tI10 – essential hypertension', { count: 1, confidence: 'high', evidence: ['ICD-10 I**'] }],
    ['a room number before a condition word is not a code', diagnosisByNameDetector, 'Meet in room B12 for the diabetes class', undefined],
    ['a dotted product code before an ordinary word', diagnosisByNameDetector, 'Part E11.9 replacement valve shipped', undefined],
    ['HCPCS with keyword', cptDetector, 'HCPCS code J1100 administered', { count: 1, confidence: 'high' }],
    ['an ICD-10 code in brackets after its condition', diagnosisByNameDetector, 'Seen for asthma exacerbation (J45.901) today.', { count: 1, confidence: 'high', evidence: ['ICD-10 J******'] }],
    ['an undotted ICD-10 code in brackets after its condition', diagnosisByNameDetector, 'Assessment: essential hypertension (I10), stable', { count: 1, confidence: 'high', evidence: ['ICD-10 I**'] }],
    ['a dotted ICD-10 code after its description and a dash', diagnosisByNameDetector, 'Type 2 diabetes mellitus without complications - E11.9', { count: 1, confidence: 'high' }],
    ['a code after a condition in an organisation\'s name is not named by it', diagnosisByNameDetector, 'Diabetes Center Room B12.4 is closed', undefined],
    ['an undotted code without brackets after a condition is not a code', diagnosisByNameDetector, 'diabetes class in room B12 today', undefined],
    ['a condition on the line before does not name a code', diagnosisByNameDetector, 'asthma\nPart E11.9 shipped', undefined],
    ['aggregate counts without a condition', diagnosisByNameDetector, 'E11.9: 412 patients\nI10: 388 patients', undefined],
    ['a procedure code in brackets after its test', procedureByNameDetector, 'Lipid panel (80061) $25\nHemoglobin A1c (83036) 4.0-5.6 %', { count: 2, confidence: 'high', evidence: ['CPT ****1', 'CPT ****6'] }],
    ['an HCPCS code in brackets after its service', procedureByNameDetector, 'Screening colonoscopy [G0121] covered every ten years', { count: 1, confidence: 'high' }],
    ['a ZIP code in brackets after an event name is not a code', procedureByNameDetector, 'Diabetes Walk registration (60614) opens Monday', undefined],
    ['a ZIP code in brackets after an organisation is not a code', procedureByNameDetector, 'Riverside Cancer Center (60614)', undefined],
    ['a number in brackets without a procedure before it', procedureByNameDetector, 'Order (12345) shipped', undefined],
    ['a procedure code with a claim modifier', procedureByNameDetector, 'Line 1: 99214-25 1 unit $145.00\nLine 2: 73721-RT', { count: 2, confidence: 'high', evidence: ['CPT ****4', 'CPT ****1'] }],
    ['a ZIP+4 is no code with a modifier', procedureByNameDetector, 'Chicago IL 60614-1234', undefined],
    ['an order number with a suffix that is no modifier', procedureByNameDetector, 'Order 12345-01 and SO-12345-25 shipped', undefined],
    ['an HCPCS code starting a labelled value, named by its item', procedureByNameDetector, 'Item: E0114 crutches, underarm', { count: 1, confidence: 'high', evidence: ['CPT ****4'] }],
    ['a CPT code starting a labelled value, named by its service', procedureByNameDetector, 'Service: 97110 physical therapy, 4 units', { count: 1, confidence: 'high' }],
    ['an order number starting a labelled value', procedureByNameDetector, 'Order: 12345 widgets shipped', undefined],
    ['a ZIP code starting a labelled value', procedureByNameDetector, 'ZIP: 62701 Springfield', undefined],
    ['a notifiable disease named with its code in brackets', diagnosisByNameDetector, 'Report suspected measles (B05.9) within 24 hours.', { count: 1, confidence: 'high' }],
    ['CPT named by "modifier"', cptDetector, 'Bill 99213 with modifier 25', { count: 1, confidence: 'high' }],
    ['ICD-10 under an impression heading', icd10Detector, 'Impression: J18.9', { count: 1, confidence: 'high' }],
    ['ICD-10 as the reason for referral', icd10Detector, 'Reason for referral: M54.50', { count: 1, confidence: 'high' }],
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
    ['DOB with a two-digit year', shortDobDetector, 'DOB: 4/12/58', { count: 1, confidence: 'high', evidence: ['DOB **/**/**'] }],
    ['D.O.B. with dashes and a two-digit year', shortDobDetector, 'Pt D.O.B. 04-12-58, seen for asthma', { count: 1, confidence: 'high' }],
    ['German geb. with TT.MM.JJ', shortDobDetector, 'Frau Weber, geb. 12.04.58, Diabetes', { count: 1, confidence: 'high' }],
    ['a short date without its keyword right before it', shortDobDetector, 'Invoice 12/04/25 total, born in Ohio', undefined],
    ['a short date far after the keyword', shortDobDetector, 'DOB on file; visit 4/12/25', undefined],
    ['a version number', shortDobDetector, 'DOB field added in version 1.2.58', undefined],
    ['a four-digit year is the other pattern\'s', shortDobDetector, 'DOB: 04/12/1958', undefined],
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
    ['C-CDA', clinicalFormatDetector, '<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole>', { count: 1, confidence: 'high', evidence: ['C-CDA document'] }],
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

/** An ISA segment of the fixed 106 characters, with the separators given. */
function isa(sep = '*', term = '~', sub = ':'): string {
  const e = ['ISA', '00', '          ', '00', '          ', 'ZZ', 'SUBMITTER      ', 'ZZ', 'RECEIVER       ', '261124', '0930', '^', '00501', '000000001', '0', 'P', sub];
  const s = e.join(sep) + term;
  if (s.length !== 106 + term.length - 1) throw new Error(`ISA is ${s.length} characters`);
  return s;
}
const x12 = (sep: string, term: string, segments: string[]): string => isa(sep, term) + segments.map((seg) => seg.replaceAll('*', sep) + term).join('') + `IEA${sep}1${sep}000000001${term}`;

describe('clinical formats: with an individual (PHI) or without (plumbing)', () => {
  type Row = [string, string, { confidence: 'high' | 'low'; evidence: string[] } | undefined];
  it.each<Row>([
    // HL7 v2
    ['HL7 v2 ADT with a PID', 'MSH|^~\\&|EPIC|HOSP|LAB|LAB|202611240930||ADT^A01|123|P|2.5\rPID|1||00123456^^^HOSP^MR||ROE^JANE||19680417|F\r', { confidence: 'high', evidence: ['HL7 v2 message'] }],
    ['HL7 v2 with a guarantor named, no PID', 'MSH|^~\\&|A|B|C|D|202611240930||BAR^P01|1|P|2.5\nGT1|1||ROE^JANE\n', { confidence: 'high', evidence: ['HL7 v2 message'] }],
    ['HL7 v2 with an insured named (IN1-16)', `MSH|^~\\&|A|B|C|D|1||BAR^P01|1|P|2.5\r${['IN1', '1', 'PLAN', '123', 'INSURER', ...Array<string>(11).fill(''), 'ROE^JANE'].join('|')}\r`, { confidence: 'high', evidence: ['HL7 v2 message'] }],
    ['HL7 v2 ACK', 'MSH|^~\\&|LAB|LAB|EPIC|HOSP|202611240931||ACK^A01|124|P|2.5\rMSA|AA|123\r', { confidence: 'low', evidence: ['HL7 v2 message without patient data'] }],
    ['HL7 v2 MFN (a master file update)', 'MSH|^~\\&|A|B|C|D|1||MFN^M02|1|P|2.5\rMFI|PRA||UPD\rMFE|MAD|||12345\rSTF|12345||SMITH^JOHN^^^DR\r', { confidence: 'low', evidence: ['HL7 v2 message without patient data'] }],
    // interface specs' and builds' samples: every patient segment a test patient's ("ZZTEST^PATIENT", "TEST^…", "…^TEST")
    ['HL7 v2 whose only patient is a test patient', 'MSH|^~\\&|EPIC|RCH|LAB|VL|20241112083000||ADT^A08|MSG1|T|2.5.1\rPID|1||<MRN>^^^RCH^MR||ZZTEST^PATIENT^ONE||19000101|U\r', { confidence: 'low', evidence: ['HL7 v2 message without patient data'] }],
    ['HL7 v2 with a test patient and a real one', 'MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|1||1^^^H^MR||TEST^PATIENT\rPID|2||00123456^^^H^MR||TESTA^MARIA||19680417|F\r', { confidence: 'high', evidence: ['HL7 v2 message'] }],
    ['HL7 v2 with an empty NK1 name', 'MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rNK1|1||SPO\r', { confidence: 'low', evidence: ['HL7 v2 message without patient data'] }],
    // FHIR
    ['FHIR Patient', '{"resourceType": "Patient", "id": "example", "name": [{"family": "Roe"}]}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR Patient of a sandbox: a test patient', '{"resourceType": "Patient", "name": [{"family": "Testpatient", "given": ["Sandbox"]}]}', { confidence: 'low', evidence: ['FHIR resource (JSON) whose persons are test patients without patient data'] }],
    ['FHIR bundle with a test patient and a real one', '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "name": [{"family": "ZZTEST"}]}}, {"resource": {"resourceType": "Patient", "name": [{"family": "Roe"}]}}]}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR RelatedPerson', '{"resourceType":"RelatedPerson","patient":{"reference":"Patient/1"}}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    // a document service's C-CDA template: the patient's name and ids placeholders only
    ['C-CDA template with placeholders', '<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id root="{{facility.mrnOid}}" extension="{{patient.mrn}}"/><patient><name><given>{{patient.name.given}}</given><family>{{patient.name.family}}</family></name><birthTime value="{{patient.birthDate}}"/></patient></patientRole></recordTarget></ClinicalDocument>', { confidence: 'low', evidence: ['C-CDA document without patient data'] }],
    ['C-CDA with a patient', '<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id root="2.16.840.1.113883.19" extension="00592310"/><patient><name><given>Ana</given><family>Roe</family></name></patient></patientRole></recordTarget></ClinicalDocument>', { confidence: 'high', evidence: ['C-CDA document'] }],
    // a cancer registry's submission (NAACCR XML), and its empty shell
    ['NAACCR XML with a patient', '<?xml version="1.0"?>\n<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-240.xml" recordType="A" xmlns="http://naaccr.org/naaccrxml">\n  <Patient>\n    <Item naaccrId="nameLast">ROE</Item>\n  </Patient>\n</NaaccrData>', { confidence: 'high', evidence: ['NAACCR XML registry data'] }],
    ['NAACCR XML without a patient', '<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-240.xml" xmlns="http://naaccr.org/naaccrxml">\n  <Item naaccrId="registryId">0000001722</Item>\n</NaaccrData>', { confidence: 'low', evidence: ['NAACCR XML registry data without patient data'] }],
    // a sandbox's or a generator's bundle, labelled test health data (HL7 v3 ActReason HTEST)
    ['FHIR Bundle tagged HTEST', '{"resourceType":"Bundle","meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST"}]},"entry":[{"resource":{"resourceType":"Patient","name":[{"family":"Kunze215"}]}}]}', { confidence: 'low', evidence: ['FHIR resource (JSON) tagged as test data without patient data'] }],
    ['FHIR Observation about a patient', '{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/123"}, "valueQuantity": {"value": 7.2}}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR Coverage with a beneficiary', '{"resourceType":"Coverage","beneficiary":{"identifier":{"value":"x"}}}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR ExplanationOfBenefit with a patient', '{"resourceType":"ExplanationOfBenefit","patient":{"display":"x"}}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR Bundle holding a Patient', '{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Organization"}},{"resource":{"resourceType":"Patient","id":"1"}}]}', { confidence: 'high', evidence: ['FHIR resource (JSON)'] }],
    ['FHIR CapabilityStatement', '{"resourceType": "CapabilityStatement", "status": "active", "kind": "instance"}', { confidence: 'low', evidence: ['FHIR resource (JSON) without patient data'] }],
    ['FHIR ValueSet', '{"resourceType":"ValueSet","url":"http://example.org/vs","compose":{"include":[{"system":"http://loinc.org"}]}}', { confidence: 'low', evidence: ['FHIR resource (JSON) without patient data'] }],
    ['FHIR OperationOutcome', '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}', { confidence: 'low', evidence: ['FHIR resource (JSON) without patient data'] }],
    ['FHIR Bundle of organisations, practitioners and locations', '{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Organization","name":"Clinic"}},{"resource":{"resourceType":"Practitioner","name":[{"family":"Smith"}]}},{"resource":{"resourceType":"Location"}}]}', { confidence: 'low', evidence: ['FHIR resource (JSON) without patient data'] }],
    ['FHIR XML Patient', '<Patient xmlns="http://hl7.org/fhir"><name><family value="Roe"/></name></Patient>', { confidence: 'high', evidence: ['FHIR resource (XML)'] }],
    ['FHIR XML Condition about a patient', '<Condition xmlns="http://hl7.org/fhir"><subject><reference value="Patient/1"/></subject></Condition>', { confidence: 'high', evidence: ['FHIR resource (XML)'] }],
    ['FHIR XML CodeSystem', '<CodeSystem xmlns="http://hl7.org/fhir"><url value="http://example.org"/></CodeSystem>', { confidence: 'low', evidence: ['FHIR resource (XML) without patient data'] }],
    ['JSON that is not FHIR', '{"resourceType": "Widget", "subject": {"reference": "x"}}', undefined],
    // C-CDA
    ['C-CDA with a recordTarget', '<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id extension="1"/></patientRole></recordTarget></ClinicalDocument>', { confidence: 'high', evidence: ['C-CDA document'] }],
    ['C-CDA with a namespace prefix', '<cda:ClinicalDocument xmlns:cda="urn:hl7-org:v3"><cda:recordTarget><cda:patientRole><cda:id extension="1"/></cda:patientRole></cda:recordTarget></cda:ClinicalDocument>', { confidence: 'high', evidence: ['C-CDA document'] }],
    ['C-CDA template without a recordTarget', '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Template</title></ClinicalDocument>', { confidence: 'low', evidence: ['C-CDA document without patient data'] }],
    // X12, every segment terminator
    ['X12 837 with a subscriber', x12('*', '~', ['GS*HC*S*R*20261124*0930*1*X*005010X222A1', 'ST*837*0001*005010X222A1', 'NM1*IL*1*ROE*JANE****MI*123', 'SE*3*0001']), { confidence: 'high', evidence: ['X12 837 transaction'] }],
    // a clearinghouse's test file: the subscriber a test patient, the loops no one's
    ['X12 837 whose subscriber is a test patient', x12('*', '~', ['ST*837*0001*005010X222A1', 'HL*3*2*22*0', 'NM1*IL*1*TESTPATIENT*JANE****MI*TEST00001', 'SE*4*0001']), { confidence: 'low', evidence: ['X12 837 transaction without patient data'] }],
    ['X12 837 with a test patient and a real one', x12('*', '~', ['ST*837*0001*005010X222A1', 'NM1*IL*1*TESTPATIENT*JANE', 'NM1*QC*1*ROE*JANE', 'SE*4*0001']), { confidence: 'high', evidence: ['X12 837 transaction'] }],
    ['X12 270 eligibility inquiry, subscriber loop (2000C/2100C)', x12('*', '~', ['ST*270*0001*005010X279A1', 'HL*1**20*1', 'NM1*PR*2*PAYER', 'HL*3*2*22*0', 'NM1*IL*1*ROE*JANE', 'SE*6*0001']), { confidence: 'high', evidence: ['X12 270 transaction'] }],
    ['X12 271 with newline terminators', x12('*', '\n', ['ST*271*0001', 'HL*3*2*22*0', 'NM1*IL*1*ROE', 'EB*1', 'SE*5*0001']), { confidence: 'high', evidence: ['X12 271 transaction'] }],
    ['X12 276 with | separators and a control-character terminator', x12('|', '\u001e', ['ST*276*0001', 'HL*4*3*22*0', 'NM1*QC*1*ROE*JANE', 'SE*4*0001']), { confidence: 'high', evidence: ['X12 276 transaction'] }],
    ['X12 277 claim status', x12('*', '~\r\n', ['ST*277*0001', 'NM1*QC*1*ROE', 'SE*3*0001']), { confidence: 'high', evidence: ['X12 277 transaction'] }],
    ['X12 278 prior authorisation', x12('+', "'", ['ST*278*0001', 'HL*3*2*22*1', 'NM1*IL*1*ROE', 'SE*4*0001']), { confidence: 'high', evidence: ['X12 278 transaction'] }],
    ['X12 834 enrolment (INS member level)', x12('*', '~', ['ST*834*0001*005010X220A1', 'INS*Y*18*021*28*A', 'NM1*IL*1*ROE*JANE', 'SE*4*0001']), { confidence: 'high', evidence: ['X12 834 transaction'] }],
    ['X12 820 premium payment with individuals', x12('*', '~', ['ST*820*0001*005010X218', 'ENT*1', 'NM1*IL*1*ROE*JANE', 'RMR*IK*123**100', 'SE*5*0001']), { confidence: 'high', evidence: ['X12 820 transaction'] }],
    ['X12 820 premium payment without individuals', x12('*', '~', ['ST*820*0001*005010X218', 'BPR*C*1000', 'RMR*IK*123**1000', 'SE*4*0001']), { confidence: 'low', evidence: ['X12 820 transaction without patient data'] }],
    ['X12 999 acknowledgement', x12('*', '~', ['GS*FA*R*S*20261124*0931*2*X*005010X231A1', 'ST*999*0001*005010X231A1', 'AK1*HC*1*005010X222A1', 'IK5*A', 'AK9*A*1*1*1', 'SE*5*0001']), { confidence: 'low', evidence: ['X12 999 acknowledgement without patient data'] }],
    ['X12 997 acknowledgement', x12('*', '~', ['ST*997*0001', 'AK1*HC*1', 'AK9*A*1*1*1', 'SE*4*0001']), { confidence: 'low', evidence: ['X12 997 acknowledgement without patient data'] }],
    ['X12 TA1 interchange acknowledgement', x12('*', '~', ['TA1*000000001*261124*0930*A*000']), { confidence: 'low', evidence: ['X12 TA1 acknowledgement without patient data'] }],
    ['X12 850 purchase order is not clinical', x12('*', '~', ['ST*850*0001', 'BEG*00*SA*PO1', 'SE*3*0001']), undefined],
    ['X12 837 without its ISA envelope', 'ST*837*0001*005010X222A1~NM1*QC*1*ROE~SE*3*0001~', { confidence: 'high', evidence: ['X12 837 transaction'] }],
  ])('%s', (_name, text, expected) => {
    const found = clinicalFormatDetector.detect(text);
    if (!expected) return expect(found).toBeUndefined();
    expect(found).toMatchObject({ category: 'CLINICAL_FORMAT', ...expected });
  });

  it.each<[string, string, boolean]>([
    ['HL7 ADT with a PID', 'MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||00123456^^^H^MR||ROE^JANE\r', true],
    ['HL7 ACK', 'MSH|^~\\&|A|B|C|D|1||ACK^A01|1|P|2.5\rMSA|AA|1\r', false],
    ['FHIR CapabilityStatement', '{"resourceType":"CapabilityStatement","status":"active"}', false],
    ['X12 999', x12('*', '~', ['ST*999*0001', 'AK9*A*1*1*1', 'SE*3*0001']), false],
  ])('the verdict: %s is PHI only with an individual (%s)', (_name, text, phi) => {
    const v = inspectText(text);
    expect(v.phi).toBe(phi);
    expect(v.findings.some((f) => f.category === 'CLINICAL_FORMAT')).toBe(true);
    expect(v.categories.includes('CLINICAL_FORMAT')).toBe(phi);
  });

  it.each<[string, () => string]>([
    ['a million HL7-looking lines', () => 'MSH|^~\\&|A\r' + 'NK1|1|\r'.repeat(1_000_000)],
    ['many ISA headers without segments', () => 'ISA*00*'.repeat(500_000)],
    ['an interchange without IEA and many segments', () => isa() + 'NM1*PR*2*X~'.repeat(300_000)],
    ['many resourceType keys', () => '{"resourceType":"Organization",'.repeat(200_000) + '"subject":{' + ' '.repeat(1_000_000)],
    ['an unterminated FHIR XML tag', () => '<Observation ' + 'a="b" '.repeat(1_000_000)],
    ['an unterminated ClinicalDocument tag', () => '<ClinicalDocument ' + 'x'.repeat(5_000_000)],
  ])('hostile text finishes quickly: %s', (_name, make) => {
    const text = make();
    const start = Date.now();
    clinicalFormatDetector.detect(text);
    expect(Date.now() - start).toBeLessThan(3000);
  });
});
