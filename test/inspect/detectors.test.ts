import { describe, expect, it } from 'vitest';
import { abaValid, deaValid, luhnValid, npiValid } from '../../src/inspect/detect/checksums.js';
import { deaDetector, mbiDetector, npiDetector } from '../../src/inspect/detect/health-ids.js';
import { abaRoutingDetector, bankAccountDetector, cardNetwork, itinDetector, itinValid, paymentCardDetector, ssnDetector, ssnValid } from '../../src/inspect/detect/identifiers.js';
import type { Confidence, Detector } from '../../src/inspect/detect/types.js';

describe('check digits', () => {
  it.each<[string, (s: string) => boolean, string, boolean]>([
    ['luhn', luhnValid, '4111111111111111', true],
    ['luhn', luhnValid, '4111111111111112', false],
    ['luhn', luhnValid, '79927398713', true],
    ['aba', abaValid, '021000021', true],
    ['aba', abaValid, '011000015', true],
    ['aba', abaValid, '021000022', false],
    ['aba', abaValid, '991000023', false],
    ['npi', npiValid, '1234567893', true],
    ['npi', npiValid, '1234567890', false],
    ['npi', npiValid, '3234567893', false],
    ['dea', deaValid, 'AB1234563', true],
    ['dea', deaValid, 'AB1234564', false],
    ['dea', deaValid, 'ZZ1234563', false],
    ['ssn', ssnValid, '536221234', true],
    ['ssn', ssnValid, '000221234', false],
    ['ssn', ssnValid, '666221234', false],
    ['ssn', ssnValid, '912701234', false],
    ['ssn', ssnValid, '536001234', false],
    ['ssn', ssnValid, '536220000', false],
    ['ssn', ssnValid, '078051120', false],
    ['itin', itinValid, '912701234', true],
    ['itin', itinValid, '912931234', false],
    ['itin', itinValid, '812701234', false],
  ])('%s(%s) = %s', (_name, fn, input, expected) => {
    expect(fn(input)).toBe(expected);
  });

  it.each<[string, string | undefined]>([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['6011111111111117', 'discover'],
    ['3530111333300000', 'jcb'],
    ['30569309025904', 'diners'],
    ['1234567812345670', undefined],
    ['411111111111111', undefined],
  ])('card network of %s', (digits, network) => {
    expect(cardNetwork(digits)).toBe(network);
  });
});

type Case = [string, Detector, string, { count: number; confidence: Confidence; evidence: string[] } | undefined];

describe('detectors', () => {
  it.each<Case>([
    // SSN: dashed form is enough, the keyword raises confidence, dashless needs the keyword
    ['dashed SSN', ssnDetector, 'Employee 536-22-1234 joined', { count: 1, confidence: 'medium', evidence: ['SSN ***-**-1234'] }],
    ['SSN with keyword', ssnDetector, 'SSN: 536-22-1234', { count: 1, confidence: 'high', evidence: ['SSN ***-**-1234'] }],
    ['dashless SSN with keyword', ssnDetector, 'social security number 536221234', { count: 1, confidence: 'high', evidence: ['SSN ***-**-1234'] }],
    ['dashless nine digits without keyword', ssnDetector, 'Order 536221234 shipped', undefined],
    ['invalid SSN area', ssnDetector, 'SSN 666-22-1234', undefined],
    ['SSN inside a longer number', ssnDetector, 'ref 1536-22-12345', undefined],
    ['same SSN twice counts once', ssnDetector, '536-22-1234 and again 536 22 1234', { count: 1, confidence: 'medium', evidence: ['SSN ***-**-1234'] }],
    ['ITIN', itinDetector, 'ITIN 912-70-1234', { count: 1, confidence: 'high', evidence: ['ITIN ***-**-1234'] }],
    // cards: IIN + Luhn, keyword raises confidence
    // an SSN written with dots (a keyword needed, as for nine digits in a row); "my social is …"
    ['SSN with dots and its keyword', ssnDetector, 'Please update my SSN on file: 229.84.3371 thanks', { count: 1, confidence: 'high', evidence: ['SSN ***-**-3371'] }],
    ['SSN-shaped dots without a keyword', ssnDetector, 'version 229.84.3371 released', undefined],
    ['"my social is" before a spaced SSN', ssnDetector, 'my social is 145 63 8820 for the W-4', { count: 1, confidence: 'high', evidence: ['SSN ***-**-8820'] }],
    ['Visa with spaces', paymentCardDetector, 'pay with 4716 7574 9118 6252 today', { count: 1, confidence: 'medium', evidence: ['Card **** **** **** 6252'] }],
    ['Amex with keyword', paymentCardDetector, 'Amex card 3719-019335-01280', { count: 1, confidence: 'high', evidence: ['Card **** **** *** 1280'] }],
    // the gateways' published test cards, and a sandbox's routing number: few kinds of digit, or on the networks' lists
    ['a gateway test Visa', paymentCardDetector, 'test card 4111 1111 1111 1111 -> Approved', undefined],
    ['a test Mastercard', paymentCardDetector, 'Mastercard 5555 5555 5555 4444', undefined],
    ['a declining test Visa', paymentCardDetector, 'Visa card 4000 0000 0000 0002 -> Declined', undefined],
    ['a published test Amex', paymentCardDetector, 'Amex card 3782 822463 10005', undefined],
    ['a published test Discover', paymentCardDetector, 'Discover card 6011 0009 9013 9424', undefined],
    ['a sandbox routing number', abaRoutingDetector, 'Test ACH routing 110000000', undefined],
    ['a gateway test card with a run of zeros', paymentCardDetector, 'Visa card 4000 0000 0000 0127', undefined],
    ['a card on a line that says sandbox', paymentCardDetector, 'environment: sandbox; card 4716 7574 9118 6252; expected: APPROVED', undefined],
    ['a routing number on a sandbox line', abaRoutingDetector, 'Test ACH: routing 011000015 / acct 000123456789 (sandbox only)', undefined],
    ['a sandbox test account', bankAccountDetector, 'ACH checking: routing 011000015, account # 000123456789', undefined],
    ['an account repeating one digit', bankAccountDetector, 'ACH checking: routing 011000015, account # 000111111116', undefined],
    // a keyword ending in a character that is no word's ("Routing #:", "routing no.", "Account #:")
    ['"Routing #:" as a form writes it', abaRoutingDetector, 'Routing #: 271974664\n', { count: 1, confidence: 'high', evidence: ['ABA *****4664'] }],
    ['"Account #:" next to a routing number', bankAccountDetector, 'Routing #: 271974664\nAccount #: 000983310571\n', { count: 1, confidence: 'high', evidence: ['Account ********0571'] }],
    ['card failing Luhn', paymentCardDetector, 'card 4111 1111 1111 1112', undefined],
    ['order number outside card ranges', paymentCardDetector, 'order 1234567812345670', undefined],
    // ABA and bank accounts need their keywords
    ['routing number', abaRoutingDetector, 'routing number 021000021', { count: 1, confidence: 'high', evidence: ['ABA *****0021'] }],
    ['nine digits passing ABA without keyword', abaRoutingDetector, 'ticket 021000021', undefined],
    ['bank account', bankAccountDetector, 'Bank: First Federal\nAccount number: 123456789012', { count: 1, confidence: 'high', evidence: ['Account ********9012'] }],
    // "account number" alone also labels a customer's account with a vendor or a utility: medium, not a person's bank account
    ['an account number without a bank', bankAccountDetector, 'Account number: 123456789012', { count: 1, confidence: 'medium', evidence: ['Account ********9012'] }],
    ['a phone bill', bankAccountDetector, 'Your Verizon account number 882319471 is past due.', { count: 1, confidence: 'medium', evidence: ['Account *****9471'] }],
    ['direct deposit', bankAccountDetector, 'Direct deposit change for payroll: account number 882319471', { count: 1, confidence: 'high', evidence: ['Account *****9471'] }],
    // a supplier's own account: an organisation named as its holder, or in an invoice, an order or a remittance
    ['an organisation as the holder', bankAccountDetector, 'Bank name: First Harbor Bank\nABA / routing: 075900119\nAccount number: 40018822913\nAccount name: Brightline Surgical Supply LLC - Operating', { count: 1, confidence: 'medium', evidence: ['Account *******2913'] }],
    ['a remittance advice', bankAccountDetector, 'REMITTANCE ADVICE\nReceiver: Lakeshore Family Medicine (Cust # 300218)\nRemit-to banking: routing 075900119, account number 40018822913', { count: 1, confidence: 'medium', evidence: ['Account *******2913'] }],
    ['a vendor set up for payment', bankAccountDetector, 'Vendor ID: V0048812\nPayment method: ACH (CCD+), Net 30\nABA routing: 044000862\nAccount number: 7730018452', { count: 1, confidence: 'medium', evidence: ['Account ******8452'] }],
    ['a person as the holder', bankAccountDetector, 'Routing: 075900119\nChecking account number: 40018822913\nAccount holder: Maria Lopez', { count: 1, confidence: 'high', evidence: ['Account *******2913'] }],
    ['digits far from the keyword', bankAccountDetector, `account number is below.${' filler'.repeat(20)} 123456789012`, undefined],
    ['the digits of an alphanumeric patient account', bankAccountDetector, 'Acct: V971606835, checking', undefined],
    ['an NPI next to an account keyword', bankAccountDetector, 'Rendering NPI: 1502371424; Patient acct: V003631144', undefined],
    ['a patient account number', bankAccountDetector, 'Patient account number: 123456789', undefined],
    ['a refund to a checking account', bankAccountDetector, 'Refund to checking account 987654321, routing 021000021', { count: 1, confidence: 'high', evidence: ['Account *****4321'] }],
    ['the bare word as the number\'s own label, a bank near', bankAccountDetector, 'Direct deposit: routing 021000021, account 4456789012', { count: 1, confidence: 'high', evidence: ['Account ******9012'] }],
    ['the bare word as the label, no bank', bankAccountDetector, 'Your account: 4456789 with Office Depot', { count: 1, confidence: 'medium', evidence: ['Account ***6789'] }],
    ['the bare word near, not the label', bankAccountDetector, 'Direct deposit to the same account as before; reference 4456789012', undefined],
    // health identifiers
    ['NPI with keyword', npiDetector, 'Prescriber NPI 1234567893', { count: 1, confidence: 'high', evidence: ['NPI ******7893'] }],
    ['NPI-valid number alone', npiDetector, 'call 1234567893', { count: 1, confidence: 'low', evidence: ['NPI ******7893'] }],
    ['NPI named by the provider\'s role in a claim', npiDetector, 'Rendering provider: Dana Whitfield 1234567893', { count: 1, confidence: 'high', evidence: ['NPI ******7893'] }],
    ['NPI in a provider directory row: the credential after the name', npiDetector, 'Anjali Tanaka, MD Obstetrics & Gynecology 1234567893', { count: 1, confidence: 'high', evidence: ['NPI ******7893'] }],
    ['NPI in a credentialing file', npiDetector, 'Credentialing packet for Jane Roe (Type 1): 1234567893', { count: 1, confidence: 'high', evidence: ['NPI ******7893'] }],
    ['NPI next to "provider" alone', npiDetector, 'New provider Jane Roe, 1234567893, starts Monday', { count: 1, confidence: 'high', evidence: ['NPI ******7893'] }],
    ['NPI-valid number in a vendor line: low only', npiDetector, 'Acme Medical Supply, account 1234567893', { count: 1, confidence: 'low', evidence: ['NPI ******7893'] }],
    ['"do" in prose is no credential', npiDetector, 'Please do call 1234567893 today', { count: 1, confidence: 'low', evidence: ['NPI ******7893'] }],
    ['DEA with keyword', deaDetector, 'DEA# AB1234563', { count: 1, confidence: 'high', evidence: ['DEA ******563'] }],
    ['DEA failing check digit', deaDetector, 'DEA AB1234564', undefined],
    ['MBI with dashes', mbiDetector, 'Medicare ID 3TK7-QW2-RN58', { count: 1, confidence: 'high', evidence: ['MBI *******RN58'] }],
    ['MBI-shaped without context', mbiDetector, 'code 3TK7QW2RN58', { count: 1, confidence: 'medium', evidence: ['MBI *******RN58'] }],
    ['MBI with "Medicare" in its paragraph', mbiDetector, 'Dad got his new Medicare card in the mail, apparently the old number got compromised in that data breach thing and they issued a new one. New number is 3TK7-QW2-RN58.', { count: 1, confidence: 'high', evidence: ['MBI *******RN58'] }],
    ['CMS\'s published example MBI', mbiDetector, 'Medicare ID (example): 1EG4-TE5-MK73', undefined],
    ['MBI with a forbidden letter', mbiDetector, 'Medicare 1SG4TE5MK73', undefined],
  ])('%s', (_name, detector, text, expected) => {
    const found = detector.detect(text);
    if (!expected) return expect(found).toBeUndefined();
    expect(found).toMatchObject(expected);
    // never the raw value: at most the last four characters show
    for (const e of found?.evidence ?? []) expect(e).not.toMatch(/[0-9A-Z]{5,}/);
  });
});

describe('contexts that change a match (found by the labelled corpus)', () => {
  const found = (d: Detector, text: string): { count: number; confidence: Confidence } | undefined => {
    const f = d.detect(text);
    return f ? { count: f.count, confidence: f.confidence } : undefined;
  };
  it.each<[string, Detector, string, { count: number; confidence: Confidence } | undefined]>([
    ['"SS#" is an SSN label (it ends in a non-word character)', ssnDetector, 'SS# 375176689', { count: 1, confidence: 'high' }],
    ['an order number printed like an SSN', ssnDetector, 'Order #536-22-1234 has shipped.', undefined],
    ['a reference number printed like an SSN', ssnDetector, 'Ref: 536-22-1234', undefined],
    ['an SSN next to an order label but with its own keyword', ssnDetector, 'Order for patient, SSN 536-22-1234', { count: 1, confidence: 'high' }],
    ['an ITIN printed as a tracking number', itinDetector, 'Tracking 912-70-1234', undefined],
    ['a freight "routing code" that passes the ABA check', abaRoutingDetector, 'Freight carrier routing code 021000021 for the pallet.', undefined],
    ['a bank routing number', abaRoutingDetector, 'Bank routing number 021000021', { count: 1, confidence: 'high' }],
    ['an ABA number with "ACH"', abaRoutingDetector, 'ACH 021000021', { count: 1, confidence: 'high' }],
    ['a record number shaped like a DEA number, no keyword: low only', deaDetector, 'Chart MR1234563 updated', { count: 1, confidence: 'low' }],
    ['a DEA number with its keyword', deaDetector, 'DEA registration AB1234563', { count: 1, confidence: 'high' }],
  ])('%s', (_name, detector, text, expected) => {
    expect(found(detector, text)).toEqual(expected);
  });
});
