import { describe, expect, it } from 'vitest';
import { clinicalFieldLines, icd10WithDot, titleCase, usDate } from '../../src/inspect/detect/clinical-fields.js';
import { inspectText } from '../../src/inspect/verdict.js';

const CR = '\r';
const hl7 = (...segments: string[]): string => segments.join(CR);

/** The categories inspectText reports, without the ones the format and the raw text give anyway. */
const SCORED = ['SSN', 'NPI', 'ICD10', 'CPT_HCPCS', 'NDC', 'DOB', 'MRN', 'PERSON_NAME', 'MEDICARE_MBI', 'PHI'];
const categories = (text: string): string[] => inspectText(text).categories.filter((c) => SCORED.includes(c)).sort();

const ADT_A01 = hl7(
  'MSH|^~\\&|ADT|RRMC|HIE|STATEHIE|202510211617||ADT^A01|8263262059|P|2.5.1',
  'EVN|A01|202510211617',
  'PID|1||54W-16378^^^RRMC^MR||ROMERO^AISHA^^^^^L||19350503|F|||1033 Summit Ave^^Oro Valley^AZ^85737^USA||(218) 641-9937^PRN^PH',
  'PV1|1|I|4W^401^A^RRMC||||1234567893^SHAH^NEIL^^^^MD^^NPI',
  'DG1|1||M1711^primary osteoarthritis, right knee^I10||202510211617|A',
);

const X12_270 =
  'ISA*00*          *00*          *ZZ*SEALGATECLIN   *ZZ*PAYERX12       *251014*0930*^*00501*449372616*0*P*:~GS*HS*SEALGATECLIN*PAYERX12*20251014*0930*4709*X*005010X279A1~ST*270*0001~BHT*0022*13*0334683707*20251014*0930~HL*1**20*1~NM1*PR*2*NORTHSTAR HEALTH PLAN*****PI*33206~HL*2*1*21*1~NM1*1P*2*CEDAR HOLLOW FAMILY PRACTICE*****XX*1375023565~HL*3*2*22*0~NM1*IL*1*IVANOVA*TARIQ****MI*5F38WY1UK60~DMG*D8*19901117*M~DTP*291*D8*20251014~EQ*30~SE*12*0001~GE*1*1~IEA*1*449372616~';

/** An 837 interchange around the given segments (their loop only). */
function x12Text(segments: string): string {
  return `ISA*00*          *00*          *ZZ*SUB            *ZZ*REC            *261124*0930*^*00501*000001234*0*T*:~GS*HC*SUB*REC*20261124*0930*1*X*005010X222A1~ST*837*0001*005010X222A1~HL*2*1*22*0~${segments}SE*9*0001~GE*1*1~IEA*1*000001234~`;
}

const X12_837 = [
  'ISA*00*          *00*          *ZZ*SUB            *ZZ*REC            *261124*0930*^*00501*000001234*0*P*:~',
  'GS*HC*SUB*REC*20261124*0930*1*X*005010X222A1~ST*837*0001*005010X222A1~',
  'NM1*85*2*RIVERSIDE CLINIC*****XX*1234567893~HL*2*1*22*0~SBR*P*18*******MC~',
  'NM1*IL*1*OKAFOR*GRACE*A***MI*W123456789~N3*12 ELM STREET~N4*SPRINGFIELD*IL*62704~DMG*D8*19610303*F~',
  'CLM*PAT1*150***11:B:1*Y*A*Y*Y~HI*ABK:E119*ABF:I10~LX*1~SV1*HC:99213:25*150*UN*1***1~SE*12*0001~GE*1*1~IEA*1*000001234~',
].join('\n');

const CCDA = `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <id root="2.16.840.1.113883.3.7204.1" extension="9729377478"/>
  <recordTarget><patientRole>
    <id root="2.16.840.1.113883.3.7204.1" extension="50344810"/>
    <addr use="HP"><streetAddressLine>4978 Church St</streetAddressLine><city>Shrewsbury</city><state>MA</state><postalCode>01545</postalCode></addr>
    <patient><name use="L"><given>James</given><family>Morales</family></name><birthTime value="19400915"/></patient>
  </patientRole></recordTarget>
  <documentationOf><serviceEvent><performer typeCode="PRF"><assignedEntity><id root="2.16.840.1.113883.4.6" extension="1234567893"/></assignedEntity></performer></serviceEvent></documentationOf>
  <component><structuredBody><component><section><title>Problems</title><entry><observation classCode="OBS" moodCode="EVN">
    <value xsi:type="CD" code="M54.50" codeSystem="2.16.840.1.113883.6.90" displayName="low back pain"/>
  </observation></entry></section></component></structuredBody></component>
</ClinicalDocument>`;

const FHIR_BUNDLE = JSON.stringify({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'Patient',
        identifier: [
          { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:2.16.840.1.113883.3.7204.1', value: 'PZ9773429' },
          { system: 'http://hl7.org/fhir/sid/us-ssn', value: '123-45-6780' },
        ],
        name: [{ family: 'Yilmaz', given: ['Ingrid'] }],
        birthDate: '1938-07-27',
      },
    },
    { resource: { resourceType: 'Condition', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' }] }, subject: { reference: 'Patient/1' } } },
    { resource: { resourceType: 'Procedure', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] }, performer: [{ actor: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' } } }] } },
  ],
}, null, 1);

// the second code sits far from its system (more than a keyword window): only a reader of the structure would tie it to ICD-10, and this one does not read terminology
const FHIR_VALUESET = JSON.stringify({ resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', concept: [{ code: 'O24.419', display: `${'x'.repeat(120)}` }, { code: 'I48.91' }] }] } });

const FHIR_XML = `<Patient xmlns="http://hl7.org/fhir"><identifier><type><coding><system value="http://terminology.hl7.org/CodeSystem/v2-0203"/><code value="MR"/></coding></type><value value="RMC-1106943"/></identifier><name><family value="Brooks"/><given value="Minh"/></name><birthDate value="1982-02-04"/></Patient>`;

const ACK = hl7('MSH|^~\\&|EHR|RRMC|LAB|RRMC|202510112233||ACK^R01^ACK|61326166|P|2.5.1', 'MSA|AA|44355612|Message accepted');

describe('clinicalFieldLines: what the fields say, as label: value lines', () => {
  it.each<[string, string, string[]]>([
    ['HL7 ADT^A01', ADT_A01, ['MRN: 54W-16378', 'Patient name: Aisha Romero', 'DOB: 05/03/1935', 'Address: 1033 Summit Ave, Oro Valley, AZ 85737', 'NPI: 1234567893', 'Diagnosis ICD-10: M17.11']],
    ['HL7 ACK without PID', ACK, []],
    // a test patient's segment writes nothing; a FHIR resource labelled test health data neither
    ['HL7 ADT whose patient is a test patient', hl7('MSH|^~\\&|EHR|RRMC|IIS|ST|202510112233||VXU^V04|1|T|2.5.1', 'PID|1||TST0001^^^RRMC^MR||ZZTEST^PATIENT||20190101|F|||123 TEST ST^^Springfield^IL^62704'), []],
    ['FHIR Patient tagged HTEST', JSON.stringify({ resourceType: 'Patient', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST' }] }, name: [{ family: 'Kunze215', given: ['Rosalind847'] }], birthDate: '1971-04-02' }), []],
    ['X12 837 whose subscriber is a test patient: no name, birth date or address of theirs', x12Text('NM1*IL*1*TESTPATIENT*ALPHA****MI*TEST000000001~N3*123 TEST ST~N4*ANYTOWN*MN*55555~DMG*D8*19700101*F~REF*SY*823782354~NM1*82*1*HALE*ROBIN****XX*1234567893~'), ['NPI: 1234567893']],
    ['X12 270: subscriber, birth date, provider NPI (the member id is left to the format)', X12_270, ['NPI: 1375023565', 'Subscriber name: Tariq Ivanova', 'DOB: 11/17/1990']],
    [
      'X12 837: diagnoses without their dot, a procedure, the subscriber address',
      X12_837,
      ['NPI: 1234567893', 'Subscriber name: Grace A. Okafor', 'Address: 12 ELM STREET, SPRINGFIELD, IL 62704', 'DOB: 03/03/1961', 'Diagnosis ICD-10: E11.9', 'Diagnosis ICD-10: I10', 'CPT: 99213'],
    ],
    ['C-CDA: the recordTarget, codes by OID, the performer NPI', CCDA, ['MRN: 50344810', 'Address: 4978 Church St, Shrewsbury, MA 01545', 'Patient name: James Morales', 'DOB: 09/15/1940', 'Diagnosis ICD-10: M54.50', 'NPI: 1234567893']],
    [
      'C-CDA with its elements prefixed ("<cda:recordTarget>")',
      CCDA.replace('<ClinicalDocument xmlns="urn:hl7-org:v3"', '<cda:ClinicalDocument xmlns:cda="urn:hl7-org:v3"').replace(/<(\/?)(?!\?)/g, (_m, slash: string) => `<${slash}cda:`).replace(/<(\/?)cda:cda:/g, '<$1cda:'),
      ['MRN: 50344810', 'Address: 4978 Church St, Shrewsbury, MA 01545', 'Patient name: James Morales', 'DOB: 09/15/1940', 'Diagnosis ICD-10: M54.50', 'NPI: 1234567893'],
    ],
    ['FHIR Bundle (JSON)', FHIR_BUNDLE, ['MRN: PZ9773429', 'SSN: 123-45-6780', 'Patient name: Ingrid Yilmaz', 'DOB: 07/27/1938', 'Diagnosis ICD-10: E11.9', 'CPT: 99213', 'NPI: 1234567893']],
    ['FHIR Patient (XML)', FHIR_XML, ['MRN: RMC-1106943', 'Patient name: Minh Brooks', 'DOB: 02/04/1982']],
    ['FHIR ValueSet: terminology is about no one, not read', FHIR_VALUESET, []],
  ])('%s', (_name, text, lines) => {
    const out = clinicalFieldLines(text).split('\n').map((l) => l.trim()).filter(Boolean);
    expect(out.sort()).toEqual([...lines].sort());
  });

  it('helpers', () => {
    expect(titleCase('SMITH-JONES')).toBe('Smith-Jones');
    expect(usDate('19350503120000')).toBe('05/03/1935');
    expect(usDate('1982-02-04')).toBe('02/04/1982');
    expect(usDate('19351303')).toBeUndefined();
    expect(icd10WithDot('E119')).toBe('E11.9');
    expect(icd10WithDot('I10')).toBe('I10');
    expect(icd10WithDot('99213')).toBeUndefined();
  });
});

describe('inspectText reads the structured fields', () => {
  it.each<[string, string, string[]]>([
    ['HL7 ADT^A01 with PID, PV1 and DG1', ADT_A01, ['DOB', 'ICD10', 'MRN', 'NPI', 'PERSON_NAME', 'PHI']],
    ['HL7 ACK: nothing', ACK, []],
    ['X12 270', X12_270, ['DOB', 'MEDICARE_MBI', 'NPI', 'PERSON_NAME', 'PHI']],
    ['X12 837', X12_837, ['CPT_HCPCS', 'DOB', 'ICD10', 'NPI', 'PERSON_NAME', 'PHI']],
    ['C-CDA', CCDA, ['DOB', 'ICD10', 'MRN', 'NPI', 'PERSON_NAME', 'PHI']],
    ['FHIR Bundle', FHIR_BUNDLE, ['CPT_HCPCS', 'DOB', 'ICD10', 'MRN', 'NPI', 'PERSON_NAME', 'PHI', 'SSN']],
    ['FHIR Patient (XML)', FHIR_XML, ['DOB', 'MRN', 'PERSON_NAME', 'PHI']],
    // ICD10 from the raw text (the system URL lies next to the first code), as before this pre-pass; nothing about anyone
    ['FHIR ValueSet: no DOB, no name, no PHI', FHIR_VALUESET, ['ICD10']],
  ])('%s', (_name, text, expected) => {
    expect(categories(text)).toEqual(expected);
  });
});

describe('hostile input stays fast', () => {
  it('5 MB of one HL7 segment repeated', () => {
    const text = `MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\r${'PID|1||12345678^^^X^MR||DOE^JOHN||19700101|M\r'.repeat(120_000)}`;
    expect(text.length).toBeGreaterThan(5_000_000);
    const start = performance.now();
    const out = clinicalFieldLines(text);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(out).toContain('DOB: 01/01/1970');
  });
  it('5 MB of X12 segments and of XML attributes', () => {
    for (const text of [
      `ISA*00*          *00*          *ZZ*A              *ZZ*B              *251014*0930*^*00501*1*0*P*:~${'HI*ABK:E119*ABF:I10~'.repeat(260_000)}`,
      `<ClinicalDocument xmlns="urn:hl7-org:v3">${'<value code="E11.9" codeSystem="2.16.840.1.113883.6.90"/>'.repeat(90_000)}`,
      `<ClinicalDocument xmlns="urn:hl7-org:v3">${'codeSystem='.repeat(500_000)}`,
    ]) {
      expect(text.length).toBeGreaterThan(5_000_000);
      const start = performance.now();
      clinicalFieldLines(text);
      expect(performance.now() - start).toBeLessThan(1500);
    }
  });
  it('5 MB of FHIR resource types that never close', () => {
    const text = `{${'"resourceType":"Patient",'.repeat(210_000)}`;
    const start = performance.now();
    clinicalFieldLines(text);
    expect(performance.now() - start).toBeLessThan(1500);
  });
  it('5 MB of MSH headers', () => {
    const text = 'MSH|^~\\&|A|B\r'.repeat(400_000);
    const start = performance.now();
    clinicalFieldLines(text);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
