/**
 * Health identifiers: NPI (Luhn with the 80840 prefix), DEA registration
 * numbers (check digit), Medicare Beneficiary Identifiers (CMS format).
 */
import { deaValid, npiValid } from './checksums.js';
import { isLetter, isWordChar, runLengths, runsOfLength, type StartFinder } from './digit-runs.js';
import { patternDetector, type PatternSpec } from './pattern-detector.js';
import { maskValue } from './types.js';

export const npiSpec: PatternSpec = {
  id: 'npi',
  category: 'NPI',
  pattern: /(?<!\d)[12]\d{9}(?!\d)/g,
  validate: npiValid,
  validatorName: 'NPI check digit (Luhn with the 80840 prefix)',
  // the provider's role in a claim or an order names the number too ("Rendering provider: … 1234567893")
  // so do a provider directory or a credentialing file: the word "provider", a taxonomy, or the clinician's credential after the name ("Anjali Tanaka, MD … 1600880003")
  keywords:
    /\b(npi|nppes|national\s+provider|providers?|(?:rendering|referring|ordering|attending|billing|supervising|servicing)\s+(?:provider|physician|practitioner|clinician)|rendering|referring|attending|prescriber|physician|practitioner|credential(?:ing|ed|s)?|taxonomy|enumerat(?:ion|ed)|,\s*(?:M\.?D|D\.?O|N\.?P|PA-C|APRN|FNP|DPM|DDS|DMD|CRNA|CNM|PharmD|LCSW|PsyD))\b/i,
  // a valid-looking 10-digit number without context is as often a phone number
  validatedConfidence: 'low',
  // ten digits with no digit on either side: a whole run of ten, starting with 1 or 2
  starts: runsOfLength(runLengths(10), (text, s) => text.charCodeAt(s) === 49 || text.charCodeAt(s) === 50),
  mask: (v) => `NPI ${maskValue(v)}`,
};
export const npiDetector = patternDetector(npiSpec);

/**
 * Where a DEA number can start: its seven digits end at a word boundary, so
 * they end a run; the run is those seven (two letters before it) or eight
 * (the second character a 9, one letter before it), and no word character
 * stands before the first letter.
 */
const DEA_STARTS: StartFinder = (runs, text, at) => {
  const { start, end } = runs;
  const selected = runs.select(runLengths(7, 8));
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    const s = start[i] as number;
    const letters = (end[i] as number) - s === 7 ? 2 : 1;
    if (letters === 1 && text.charCodeAt(s) !== 57) continue;
    if (isLetter(text.charCodeAt(s - 1)) && (letters === 1 || isLetter(text.charCodeAt(s - 2))) && !isWordChar(text.charCodeAt(s - letters - 1))) at(s - letters);
  }
};

export const deaSpec: PatternSpec = {
  id: 'dea',
  category: 'DEA',
  pattern: /\b[A-Za-z][A-Za-z9]\d{7}\b/g,
  value: (m) => m[0].toUpperCase(),
  validate: deaValid,
  validatorName: 'DEA check digit',
  keywords: /\b(dea|registration|prescriber|controlled\s+substance|schedule\s+(ii|iii|iv|v))\b/i,
  // two letters and seven digits is also the shape of record and member numbers ("MR1234567"):
  // one in ten passes the check digit by chance, so without a keyword it stays low
  validatedConfidence: 'low',
  starts: DEA_STARTS,
  mask: (v) => `DEA ${maskValue(v, 3)}`,
};
export const deaDetector = patternDetector(deaSpec);

/** CMS MBI: C A AN N A AN N A A N N; letters exclude S, L, O, I, B, Z; dashes optional. */
const A = '[AC-HJKMNP-RT-Y]';
const AN = '[AC-HJKMNP-RT-Y0-9]';
export const MBI_PATTERN = new RegExp(`\\b[1-9]${A}${AN}\\d-?${A}${AN}\\d-?${A}${A}\\d\\d\\b`, 'g');

/** Where an MBI can start: its first digit (not 0) is a run of one digit, a word boundary before it, a capital letter after it. */
const MBI_STARTS = runsOfLength(runLengths(1), (text, s) => {
  const after = text.charCodeAt(s + 1);
  return text.charCodeAt(s) !== 48 && after >= 65 && after <= 90 && !isWordChar(text.charCodeAt(s - 1));
});

export const mbiSpec: PatternSpec = {
  id: 'medicare-mbi',
  category: 'MEDICARE_MBI',
  pattern: MBI_PATTERN,
  value: (m) => m[0].replace(/-/g, ''),
  // the 11-character format (upper case, restricted letters) is itself the check
  validate: (v) => v.length === 11,
  validatorName: 'CMS MBI format',
  starts: MBI_STARTS,
  // the card's Part A and Part B dates stand next to the number as people copy it ("Part A и Part B — с 01.09.2006")
  keywords: /\b(medicare|mbi|beneficiary|cms|part\s+[ab])\b/i,
  // CMS's own published example ("1EG4-TE5-MK73"), as coverage guides and forms print it
  refuse: (v) => v === '1EG4TE5MK73',
  // the format is specific enough that "Medicare" in the same paragraph names it ("Dad got his new Medicare card … New number is 3TK7-QW2-RN58")
  window: 200,
  mask: (v) => `MBI ${maskValue(v, 4)}`,
};
export const mbiDetector = patternDetector(mbiSpec);
