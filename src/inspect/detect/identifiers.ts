/**
 * Financial and government identifiers: US SSN, ITIN, payment cards, ABA
 * routing numbers, bank accounts (with a keyword). Each returns masked
 * evidence only.
 */
import { abaValid, luhnValid } from './checksums.js';
import { commerceDocument } from './commerce.js';
import { isLetter, runLengths, runLengthsFrom, runsOfLength, type DigitRuns, type StartFinder } from './digit-runs.js';
import { patternDetector, type PatternSpec } from './pattern-detector.js';
import { isSampleValue } from './sample-values.js';
import { maskValue, type Detector } from './types.js';

const digitsOf = (s: string): string => s.replace(/\D/g, '');

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; well-known sample numbers excluded. */
export function ssnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area.startsWith('9')) return false;
  if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return false;
  return !isSampleValue('us-ssn', digits);
}

/** IRS ITIN: 9XX-XX-XXXX with the middle digits in 50-65, 70-88, 90-92 or 94-99. */
export function itinValid(digits: string): boolean {
  if (!/^9\d{8}$/.test(digits)) return false;
  const g = Number(digits.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

// "SS#" ends in a non-word character, so it cannot sit inside \b…\b with the others
/** Labels that say a number is an order, invoice, tracking … number, not an identifier of a person. */
export const OTHER_NUMBER_LABEL = /\b(order|invoice|inv|ref|reference|confirmation|tracking|ticket|case|po|part|item|sku|serial|model|claim|batch|lot)\b\s*(?:number|no\.?|num|#|id)?\s*[#:.-]?\s*$/i;

/** Whether text[dot] starts ".NN." (two digits between two full stops), as the middle of a dotted SSN ("229.84.3371"), not a decimal ("100.00"). */
function dottedGroup(text: string, dot: number): boolean {
  const a = text.charCodeAt(dot + 1);
  const b = text.charCodeAt(dot + 2);
  return a >= 48 && a <= 57 && b >= 48 && b <= 57 && text.charCodeAt(dot + 3) === 46;
}

/**
 * Where an SSN (or, `first` "9", an ITIN) can start: its first digit has no
 * digit or dash before it, so it starts a run of digits; the run is all nine
 * (no separator) or the first three, followed by the dash or space (or, with
 * `dots`, a full stop).
 */
function ssnStarts(first?: string, dots = false): StartFinder {
  const firstCode = first === undefined ? -1 : first.charCodeAt(0);
  return runsOfLength(runLengths(3, 9), (text, s, e) => {
    const after = text.charCodeAt(e);
    return text.charCodeAt(s - 1) !== 45 && (firstCode < 0 || text.charCodeAt(s) === firstCode) && (e - s === 9 || after === 45 || after === 32 || (dots && after === 46 && dottedGroup(text, e)));
  });
}

/** An organisation's tax id label right before a number: "Group TIN", "practice tax ID", "Federal Tax ID #", "EIN", "FEIN"; an X12 reference of an employer's or a federal tax id ("REF*EI*", "REF*TJ*": an SSN is "REF*SY*"); a provider's id ("Medicaid provider ID: …"). */
const ORGANISATION_TAX_ID_BEFORE =
  /(?:\b(?:group|practice|federal|employer|business|organi[sz]ation(?:al)?|facility|billing\s+provider|company|corporate|vendor|clinic|hospital)\s+(?:tax\s*id|tin)|\bf?ein)\b(?:\s*(?:number|no\.?|num))?\s*[#:.-]?\s*$|\bprovider\s+(?:id|number|no\.?|#)\s*[#:.-]?\s*$|\bREF\*(?:EI|TJ)\*$/i;

const SSN_WORDS = /(?:\bss#|\b(?:ssn|ssa|social[\s-]*security|soc\.?\s*sec|taxpayer|tax\s*id|tin)\b|\bsocial\s*(?::|#|no\b|number\b|is\b|was\b))/i;

export const ssnSpec: PatternSpec = {
  id: 'us-ssn',
  category: 'SSN',
  // dashed or spaced form; nine digits in a row or a dotted form ("229.84.3371") only with a keyword
  pattern: /(?<![\d.-])(\d{3})([-. ]?)(\d{2})\2(\d{4})(?![\d-]|\.\d)/g,
  value: (m) => `${m[1] ?? ''}${m[3] ?? ''}${m[4] ?? ''}`,
  validate: ssnValid,
  validatorName: 'SSA area, group and serial ranges',
  keywords: SSN_WORDS,
  keywordRequired: (m) => m[2] === '' || m[2] === '.',
  // "gave us his social 418559023", "my social is 145 63 8820": the bare word as the number's own label
  label: /\bsocial(?:\s+(?:is|was))?\s*[:#-]?\s*$/i,
  notAfter: OTHER_NUMBER_LABEL,
  // a practice's or a company's tax id ("Group TIN: 421587330", "EIN 42-1587330") is an employer identification number, no person's
  refuse: (_v, text, index) => ORGANISATION_TAX_ID_BEFORE.test(text.slice(Math.max(0, index - 40), index)),
  starts: ssnStarts(undefined, true),
  mask: (v) => `SSN ***-**-${v.slice(5)}`,
};
export const ssnDetector = patternDetector(ssnSpec);

export const itinSpec: PatternSpec = {
  id: 'us-itin',
  category: 'ITIN',
  pattern: /(?<![\d-])(9\d{2})([- ]?)(\d{2})\2(\d{4})(?![\d-])/g,
  value: (m) => `${m[1] ?? ''}${m[3] ?? ''}${m[4] ?? ''}`,
  validate: itinValid,
  validatorName: 'IRS ITIN group ranges',
  keywords: /\b(itin|individual\s+taxpayer|tax\s*id|taxpayer)\b/i,
  keywordRequired: (m) => m[2] === '',
  notAfter: OTHER_NUMBER_LABEL,
  starts: ssnStarts('9'),
  // "999-99-9999": the filler forms and test messages write where an SSN goes; an issued number has more kinds of digit
  refuse: (v) => fewKindsOfDigit(v, 1),
  mask: (v) => `ITIN ***-**-${v.slice(5)}`,
};
export const itinDetector = patternDetector(itinSpec);

/** Issuer identification ranges of the major networks, with their lengths. */
export function cardNetwork(digits: string): string | undefined {
  const n = digits.length;
  const p = (k: number): number => Number(digits.slice(0, k));
  if (digits.startsWith('4') && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (n === 16 && ((p(2) >= 51 && p(2) <= 55) || (p(4) >= 2221 && p(4) <= 2720))) return 'mastercard';
  if (n === 15 && (p(2) === 34 || p(2) === 37)) return 'amex';
  if ((n === 16 || n === 19) && (p(4) === 6011 || p(2) === 65 || (p(3) >= 644 && p(3) <= 649) || (p(6) >= 622126 && p(6) <= 622925))) return 'discover';
  if ((n >= 16 && n <= 19) && p(4) >= 3528 && p(4) <= 3589) return 'jcb';
  if (n === 14 && ((p(3) >= 300 && p(3) <= 305) || p(2) === 36 || p(2) === 38 || p(2) === 39)) return 'diners';
  return undefined;
}

/** Card numbers have 13 to 19 digits. */
const CARD_MIN_DIGITS = 13;

/**
 * Where a card number can start: at a run of digits (no digit or dash before
 * it) that, with the runs each joined to the last by one space or dash, holds
 * at least 13 digits. The runs so joined are counted as a sliding window:
 * each run enters and leaves it once, however long the chain.
 */
const CARD_STARTS: StartFinder = (runs, text, at) => {
  const { count, start, end } = runs;
  let last = -1; // the window is runs i..last, each joined to the one before
  let digits = 0;
  for (let i = 0; i < count; i++) {
    if (last < i) {
      last = i;
      digits = (end[i] as number) - (start[i] as number);
    }
    while (digits < CARD_MIN_DIGITS && last + 1 < count && joinedByOneSeparator(runs, text, last)) {
      last++;
      digits += (end[last] as number) - (start[last] as number);
    }
    if (digits >= CARD_MIN_DIGITS && text.charCodeAt((start[i] as number) - 1) !== 45) at(start[i] as number);
    // run i leaves the window; the next run stays in it only if joined to run i
    if (last > i) digits -= (end[i] as number) - (start[i] as number);
    else last = -1;
  }
};

/** Run `j + 1` follows run `j` after exactly one space or dash. */
function joinedByOneSeparator(runs: DigitRuns, text: string, j: number): boolean {
  const e = runs.end[j] as number;
  if (runs.start[j + 1] !== e + 1) return false;
  const c = text.charCodeAt(e);
  return c === 32 || c === 45;
}

/**
 * The card numbers payment networks and gateways publish for testing
 * (Stripe, Braintree, Adyen, PayPal sandboxes: "4111 1111 1111 1111" and
 * the rest), where their digits are too varied for `fewKindsOfDigit` to tell.
 */
const PUBLISHED_TEST_CARDS: ReadonlySet<string> = new Set([
  '4012888888881881', '4000056655665556', '4005519200000004', '4009348888881881', '4012000033330026', '4012000077777777', '4217651111111119',
  '4500600000000061', '4000002500003155', '4000000000003220', '4000000000009995', '4000000000003063', '5200828282828210', '5431111111111111',
  '2223003122003222', '2222400010000008', '2223000048400011', '378282246310005', '371449635398431', '378734493671000', '6011000990139424',
  '6011981111111113', '6445644564456445', '3056930009020004', '36227206271667', '30569309025904', '38520000023237', '3566002020360505',
  '3530111333300000', '3566111111111113', '6200000000000005', '6250941006528599', '6011111111111117', '5105105105105100', '4242424242424242',
]);

/** What says a payment number on its line is a sandbox's ("environment: sandbox", "Test ACH (sandbox only)", "test card", "UAT"). */
const SANDBOX_LINE = /\b(?:sandbox|test[ \t]+(?:cards?|accounts?|ach|mode|environment|data|numbers?)|uat)\b/i;

/** Whether the line holding text[index] says its payment numbers are a sandbox's (SANDBOX_LINE). */
function onSandboxLine(text: string, index: number): boolean {
  const start = text.lastIndexOf('\n', index) + 1;
  let end = text.indexOf('\n', index);
  if (end < 0) end = text.length;
  return end - start <= 2000 && SANDBOX_LINE.test(text.slice(start, end));
}

/** A run of seven zeros or more in a card number ("4000 0000 0000 0127"): the gateways' test numbers are written so; an issued card's account digits are not. */
const ZERO_RUN = /0{7}/;

/** An account number of leading zeros and then a count from 1 to 9 or one digit repeated ("000123456789", "000111111116"): a sandbox's test account. */
function testAccountNumber(digits: string): boolean {
  return /^0{2,}123456789$/.test(digits) || /^0{2,}(\d)\1{7,}\d?$/.test(digits);
}

/** Digits of at most `most` different kinds ("4111111111111111", "4000000000000002", "110000000"): a test or a placeholder number, not one issued at random. */
function fewKindsOfDigit(digits: string, most: number): boolean {
  let seen = 0;
  let kinds = 0;
  for (let i = 0; i < digits.length; i++) {
    const bit = 1 << (digits.charCodeAt(i) - 48);
    if ((seen & bit) === 0) {
      seen |= bit;
      if (++kinds > most) return false;
    }
  }
  return true;
}

export const paymentCardSpec: PatternSpec = {
  id: 'payment-card',
  category: 'PAYMENT_CARD',
  pattern: /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g,
  value: (m) => digitsOf(m[0]),
  validate: (d) => cardNetwork(d) !== undefined && luhnValid(d),
  validatorName: 'card network number range and Luhn checksum',
  starts: CARD_STARTS,
  keywords: /\b(card|credit|debit|visa|mastercard|master\s*card|amex|american\s+express|discover|cvv|cvc|exp(iry|iration)?)\b/i,
  // a gateway's published test card ("4111 1111 1111 1111", "5555 5555 5555 4444", "4000 0000 0000 0002"): a random card number has more kinds of digit than three
  refuse: (d, text, index) => fewKindsOfDigit(d, 3) || ZERO_RUN.test(d) || PUBLISHED_TEST_CARDS.has(d) || onSandboxLine(text, index),
  mask: (d) => `Card ${'*'.repeat(d.length - 4).replace(/(.{4})/g, '$1 ').trim()} ${d.slice(-4)}`.replace(/\s+/g, ' '),
};
export const paymentCardDetector = patternDetector(paymentCardSpec);

export const abaRoutingSpec: PatternSpec = {
  id: 'aba-routing',
  category: 'ABA_ROUTING',
  pattern: /(?<!\d)\d{9}(?!\d)/g,
  validate: abaValid,
  validatorName: 'ABA checksum',
  // "routing" alone also labels freight and call routing codes: the bank words around it decide
  // (the end is no \b: "Routing #:" and "routing no." end in a character that is no word's)
  keywords: /\b(aba|rtn|routing\s*(?:number|no\.?|#|\/\s*transit)|routing\s+transit|transit\s*(?:number|no\.?)|bank(?:ing)?|wire|ach|direct\s+deposit)(?![a-z0-9])/i,
  keywordRequired: true,
  // a sandbox's routing number ("110000000"): an issued one has more kinds of digit than two
  refuse: (v, text, index) => fewKindsOfDigit(v, 2) || onSandboxLine(text, index),
  // nine digits with no digit on either side: a whole run of nine
  starts: runsOfLength(runLengths(9)),
  mask: (v) => `ABA ${maskValue(v)}`,
};
export const abaRoutingDetector = patternDetector(abaRoutingSpec);

function notLetterOrDash(code: number): boolean {
  return !isLetter(code) && code !== 45;
}

export const bankAccountSpec: PatternSpec = {
  id: 'bank-account',
  category: 'BANK_ACCOUNT',
  // not the digits of an alphanumeric id ("V971606835"), nor a number labelled as something else ("NPI: …", "Patient acct: …")
  pattern: /(?<![A-Za-z\d-])(?<!\b(?:npi|mrn|dea|phone|tel|fax|chart|claim|invoice|order|(?:patient\s+(?:acct|account)|routing|aba|rtn|transit)(?:\s*(?:no\.?|number|#))?)\s*[#:.-]?\s*)\d{6,17}(?![A-Za-z\d-])/gi,
  keywords: /\b(account\s*(no\.?|number|#)|acct\.?\s*(no\.?|#)?|checking|savings|iban|bank\s+account)(?![a-z0-9])/i,
  // "routing 021000021, account 4456789012": the bare word only as the number's own label
  label: /\baccount\s*[:#]?\s*$/i,
  keywordRequired: true,
  window: 40,
  // no letter, digit or dash on either side: a whole run of 6 to 17 digits
  starts: runsOfLength(runLengthsFrom(6, 17), (text, s, e) => notLetterOrDash(text.charCodeAt(s - 1)) && notLetterOrDash(text.charCodeAt(e))),
  // a sandbox's test account ("000123456789"), or one on a line that says it is a sandbox's
  refuse: (v, text, index) => testAccountNumber(v) || onSandboxLine(text, index),
  mask: (v) => `Account ${maskValue(v)}`,
};
/** A bank's words: what makes an "account number" a bank account rather than a customer's account with a vendor or a utility. */
const BANK_CONTEXT = /\b(?:routing|aba|rtn|checking|savings|iban|swift|bic|bank|banking|deposit|wire|ach|payroll|refund)\b/i;
/** How far from the number a bank's words are looked for (a form's fields may stand a few lines apart). */
const BANK_CONTEXT_WINDOW = 160;

/**
 * Whether the account at `index` is a person's at a bank: a bank's words
 * within BANK_CONTEXT_WINDOW characters, no organisation named as its
 * holder near it ("Account name: Brightline Surgical Supply LLC"), and not
 * in a supplier's invoice, order or remittance (commerceDocument), where
 * the account is the supplier's own.
 */
function banked(text: string, index: number, length: number): boolean {
  const around = text.slice(Math.max(0, index - BANK_CONTEXT_WINDOW), index + length + BANK_CONTEXT_WINDOW);
  return BANK_CONTEXT.test(around) && !ORGANISATION_HOLDER.test(around) && !ORGANISATION_ACCOUNT.test(around) && !commerceDocument(text);
}

/** An account's holder named as an organisation: its label (an account's name, a payee, a remit-to or ACH/wire line, a legal or business name), then a name ending in a company's word on the same line. */
const ORGANISATION_HOLDER =
  /\b(?:account\s+(?:name|holder)|name\s+on\s+(?:the\s+)?account|beneficiary(?:\s+name)?|payee(?:\s+name)?|remit(?:\s+to)?|ach(?:\s*\/\s*wire)?|wire\s+to|legal\s+(?:business\s+)?name|business\s+name|dba)\s*[:#-]?[ \t]*[^\n]{0,60}?\b(?:LLC|L\.L\.C\.|Inc|Corp|Corporation|Ltd|LLP|PLLC|P\.?C|Company|Co)\b/i;

/** An account the text says is an organisation's: its operating, business or lockbox account, or where payments to it are remitted ("Remit to", "(Riverbend operating account)"). */
const ORGANISATION_ACCOUNT = /\b(?:operating|business|corporate|company|practice|escrow|lockbox|merchant)\s+(?:checking\s+|bank\s+)?account\b|\bremit(?:tance)?\s+(?:to|payment)\b/i;

const accountNumbers = patternDetector(bankAccountSpec);

/**
 * Bank accounts: a number labelled as an account (bankAccountSpec), high
 * confidence only with a bank's words near one of them ("checking",
 * "routing", "direct deposit", "refund" …); "account number 88231947" on a
 * vendor's invoice or a phone bill alone is medium, so it is not protected
 * like a person's bank account (identifierProtection counts high ones).
 */
export const bankAccountDetector: Detector = {
  id: accountNumbers.id,
  category: accountNumbers.category,
  locate: (text) => accountNumbers.locate?.(text) ?? [],
  explain(text) {
    const spans = accountNumbers.locate?.(text) ?? [];
    return (accountNumbers.explain?.(text) ?? []).map((e, i) => {
      const span = spans[i];
      return e.confidence === 'high' && span && !banked(text, span.index, span.length) ? { ...e, confidence: 'medium' as const } : e;
    });
  },
  detect(text) {
    const found = accountNumbers.detect(text);
    if (!found || found.confidence !== 'high') return found;
    return (accountNumbers.locate?.(text) ?? []).some((s) => banked(text, s.index, s.length)) ? found : { ...found, confidence: 'medium' };
  },
};
