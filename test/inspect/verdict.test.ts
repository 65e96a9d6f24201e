import { describe, expect, it } from 'vitest';
import { inspectExtracted, inspectionProfile, inspectText, subjectSensitive, type Verdict } from '../../src/inspect/verdict.js';

describe('inspectText: PHI is an identifier together with health information', () => {
  it.each<[string, string, Partial<Verdict>]>([
    ['identifier next to a condition', 'Patient DOB 04/17/1968 was diagnosed with type 2 diabetes last week.', { phi: true, phiConfidence: 'high' }],
    ['a date of birth and a medication far apart', `DOB: 04/17/1968\n${'Lorem ipsum dolor sit amet. '.repeat(20)}\nContinue metformin 500 mg.`, { phi: true, phiConfidence: 'medium' }],
    ['a medical record number alone: the fact of care', 'Please merge the duplicate chart, MRN: 00123456.', { phi: true, phiConfidence: 'high', phiBasis: { rule: 'patient-identifier', identifier: 'MRN' } }],
    ['an account number among bank words is not a record number', 'Direct deposit: routing 021000021, acct # 00123456 at First Bank.', { phi: false }],
    ['an SSN with the health term only in the organisation name', 'Please correct SSN 536-22-1234 for the new hire at Northfield Home Health & Hospice.', { phi: false }],
    ['an SSN with the health term only in the signature', 'Please correct SSN 536-22-1234 in payroll.\n\nThanks,\nAmara Takahashi\nHospice Intake Coordinator', { phi: false }],
    ['an SSN next to a condition', 'SSN 536-22-1234: his diabetes supplies are not covered.', { phi: true, phiBasis: { rule: 'identifier-and-health', identifier: 'SSN', health: 'diabetes' } }],
    ['SSN with an ICD code', 'SSN 536-22-1234, Dx: E11.9', { phi: true }],
    ['health words without an identifier', 'Join our diabetes awareness walk on Saturday!', { phi: false }],
    ['an identifier without health information', 'Please update my SSN 536-22-1234 in payroll.', { phi: false }],
    ['an HL7 message is PHI by itself', 'MSH|^~\\&|EPIC|HOSP|LAB|LAB|202611240930||ADT^A01|1|P|2.5\rPID|1||123', { phi: true, phiConfidence: 'high' }],
    ['an order number and a product code', 'Order 536221234: replacement part E11.9 shipped', { phi: false }],
  ])('%s', (_name, text, expected) => {
    expect(inspectText(text)).toMatchObject(expected);
  });

  it('lists the categories found, and never a raw value', () => {
    const v = inspectText('Patient SSN 536-22-1234, card 4716 7574 9118 6252, on insulin.');
    expect(v.categories).toEqual(expect.arrayContaining(['SSN', 'PAYMENT_CARD', 'HEALTH_TERM', 'PHI']));
    const serialized = JSON.stringify(v);
    expect(serialized).not.toContain('536-22-1234');
    expect(serialized).not.toContain('4716 7574 9118 6252');
    expect(serialized).not.toMatch(/\d{5,}/);
  });
});

describe('custom detectors (inspection.customDetectors)', () => {
  const profile = inspectionProfile([
    { id: 'acme-member', category: 'MEMBER_NO', pattern: '\\bACM\\d{9}\\b', keywords: ['member number'], keywordRequired: true, window: 40, validator: 'none', minCount: 1, identifier: true },
    { id: 'acme-account', category: 'ACME_ACCOUNT', pattern: '\\b\\d{16}\\b', keywords: [], keywordRequired: false, window: 40, validator: 'luhn', minCount: 2, identifier: false },
  ]);
  const inspect = (text: string) => inspectExtracted({ texts: [text], dicom: false, notFullyScanned: false, reasons: [] }, profile);

  it.each<[string, string, string | undefined, boolean]>([
    ['a member number with its keyword, next to a condition: PHI', 'Member number ACM123456789 was diagnosed with asthma.', 'MEMBER_NO', true],
    ['the same number without its keyword: nothing', 'Reference ACM123456789 for your asthma inhaler order.', undefined, false],
    ['one Luhn-valid account number: below minCount', 'Accounts 4111111111111111 on file.', undefined, false],
    ['two Luhn-valid account numbers', 'Accounts 4111111111111111 and 5500000000000004 on file.', 'ACME_ACCOUNT', false],
    ['two numbers failing Luhn: nothing', 'Accounts 4111111111111112 and 5500000000000005 on file.', undefined, false],
  ])('%s', (_name, text, category, phi) => {
    const v = inspect(text);
    if (category) expect(v.findings.map((f) => f.category)).toContain(category);
    else expect(v.findings.map((f) => f.category)).not.toContain('MEMBER_NO');
    expect(v.phi).toBe(phi);
    expect(JSON.stringify(v)).not.toContain('123456789');
  });

  it('a non-identifier category does not make PHI next to health information', () => {
    expect(inspect('Accounts 4111111111111111 and 5500000000000004 for the diabetes clinic.').phi).toBe(false);
  });
});

describe('subjectSensitive: the subject alone would leak', () => {
  it.each<[string, boolean]>([
    ['Lab results', false],
    ['Results for DOB 04/17/1968: diabetes follow-up', true],
    ['SSN 536-22-1234 update', true],
    ['Diabetes awareness week', false],
    ['Call me at 555-867-5309', false],
    ['', false],
  ])('%j → %s', (subject, expected) => {
    expect(subjectSensitive(subject)).toBe(expected);
  });
});

describe('person names with their label (PERSON_NAME)', () => {
  it.each<[string, boolean, boolean]>([
    ['Patient: Avery Testperson was seen for asthma.', true, true],
    ['Patient name: Jordan Q. Samplesen; started metformin.', true, true],
    ['PATIENT NAME: Riley Fakeington', true, false],
    ['Beneficiary Casey Mockridge, treated for hypertension', true, true],
    ['Employee Morgan Dummond', true, false],
    ['Patient Portal maintenance tonight; diabetes screening tomorrow.', false, false],
    ['Patient Safety Week: our asthma team will visit.', false, false],
    ['Name badge pickup at the front desk.', false, false],
    ['Dr. Harper Examplar reviewed the diabetes guideline.', false, false],
  ])('%j → name %s, PHI %s', (text, name, phi) => {
    const v = inspectText(text);
    expect(v.findings.some((f) => f.category === 'PERSON_NAME')).toBe(name);
    expect(v.phi).toBe(phi);
    expect(JSON.stringify(v.findings.filter((f) => f.category === 'PERSON_NAME'))).not.toMatch(/Testperson|Samplesen|Mockridge/);
  });
});

describe('the person beside their own identifiers is named (PERSON_NAME), though not PHI', () => {
  it.each<[string, string, boolean]>([
    ['a subject line: name and birth date', 'RE: John Smith DOB 04/12/1958\nPlease send his records.', true],
    ['a payroll correction with the employee named', 'Please update the SSN for Laura Kim (employee): Laura Kim, DOB 02/03/1980, SSN 512-44-8830.', true],
    ['an SSN with no one named', 'Please update SSN 512-44-8830 in payroll.', false],
    ['an SSN in a mail that names only its sender', 'Please update SSN 512-44-8830 in payroll.\n\nThanks,\nLaura Kim\nPayroll', false],
    ['a name without an identifier of theirs', 'John Smith called about the invoice.', false],
  ])('%s', (_name, text, named) => {
    const v = inspectText(text);
    expect(v.phi).toBe(false);
    expect(v.categories.includes('PERSON_NAME')).toBe(named);
  });
});
