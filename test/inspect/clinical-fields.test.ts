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

const ACK = hl7('MSH|^~\\&|EHR|RRMC|LAB|RRMC|202510112233||ACK^R01^ACK|61326166|P|2.5.1', 'MSA|AA|44355612|Message accepted');

describe('clinicalFieldLines: what the fields say, as label: value lines', () => {
  it.each<[string, string, string[]]>([
    ['HL7 ADT^A01', ADT_A01, ['MRN: 54W-16378', 'Patient name: Aisha Romero', 'DOB: 05/03/1935', 'Address: 1033 Summit Ave, Oro Valley, AZ 85737', 'NPI: 1234567893', 'Diagnosis ICD-10: M17.11']],
    ['HL7 ACK without PID', ACK, []],
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
  it('5 MB of MSH headers', () => {
    const text = 'MSH|^~\\&|A|B\r'.repeat(400_000);
    const start = performance.now();
    clinicalFieldLines(text);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
