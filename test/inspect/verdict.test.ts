import { describe, expect, it } from 'vitest';
import { inspectText, type Verdict } from '../../src/inspect/verdict.js';

describe('inspectText: PHI is an identifier together with health information', () => {
  it.each<[string, string, Partial<Verdict>]>([
    ['identifier next to a condition', 'Patient DOB 04/17/1968 was diagnosed with type 2 diabetes last week.', { phi: true, phiConfidence: 'high' }],
    ['MRN and a medication far apart', `MRN: 00123456\n${'Lorem ipsum dolor sit amet. '.repeat(20)}\nContinue metformin 500 mg.`, { phi: true, phiConfidence: 'medium' }],
    ['SSN with an ICD code', 'SSN 536-22-1234, Dx: E11.9', { phi: true }],
    ['health words without an identifier', 'Join our diabetes awareness walk on Saturday!', { phi: false }],
    ['an identifier without health information', 'Please update my SSN 536-22-1234 in payroll.', { phi: false }],
    ['an HL7 message is PHI by itself', 'MSH|^~\\&|EPIC|HOSP|LAB|LAB|202611240930||ADT^A01|1|P|2.5\rPID|1||123', { phi: true, phiConfidence: 'high' }],
    ['an order number and a product code', 'Order 536221234: replacement part E11.9 shipped', { phi: false }],
  ])('%s', (_name, text, expected) => {
    expect(inspectText(text)).toMatchObject(expected);
  });

  it('lists the categories found, and never a raw value', () => {
    const v = inspectText('Patient SSN 536-22-1234, card 4111 1111 1111 1111, on insulin.');
    expect(v.categories).toEqual(expect.arrayContaining(['SSN', 'PAYMENT_CARD', 'HEALTH_TERM', 'PHI']));
    const serialized = JSON.stringify(v);
    expect(serialized).not.toContain('536-22-1234');
    expect(serialized).not.toContain('4111 1111 1111 1111');
    expect(serialized).not.toMatch(/\d{5,}/);
  });
});
