/**
 * Where the digit-led patterns of the medical codes (ICD-10-CM, CPT/HCPCS,
 * NDC) and of US phone numbers can start, for their specs' `starts`: each
 * lists, from the text's digit runs, a superset of the places where its
 * pattern can match (see `PatternSpec.starts`). Each is written against the
 * pattern named in its comment; a change to that pattern needs a look here.
 */
import { isWordChar, runLengths, runsOfLength, type DigitRuns, type StartFinder } from './digit-runs.js';

function isCapital(code: number, from: number, to: number): boolean {
  return code >= from && code <= to;
}

/**
 * ICD-10-CM, `\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b`: the letter (a
 * word boundary before it) stands right before a run of one digit, then A or
 * B, or of two; then no word character.
 */
export const ICD10_STARTS: StartFinder = (runs, text, at) => {
  const { start, end } = runs;
  const selected = runs.select(runLengths(1, 2));
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    const s = start[i] as number;
    const e = end[i] as number;
    const third = text.charCodeAt(s + 1);
    const codeEnd = e - s === 2 ? e : third === 65 || third === 66 ? e + 1 : -1;
    if (codeEnd > 0 && !isWordChar(text.charCodeAt(codeEnd)) && isCapital(text.charCodeAt(s - 1), 65, 90) && !isWordChar(text.charCodeAt(s - 2))) at(s - 1);
  }
};

/**
 * CPT/HCPCS, `\b(?:\d{4}[0-9FT]|[A-V]\d{4})\b`, word boundaries on both
 * sides: five digits (a whole run), four then F or T (a run of four), or a
 * letter A-V before a run of four.
 */
export const CPT_STARTS: StartFinder = (runs, text, at) => {
  const { start, end } = runs;
  const selected = runs.select(runLengths(4, 5));
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    const s = start[i] as number;
    const before = text.charCodeAt(s - 1);
    if ((end[i] as number) - s === 5) {
      if (!isWordChar(before) && !isWordChar(text.charCodeAt(s + 5))) at(s);
      continue;
    }
    const after = text.charCodeAt(s + 4);
    if (isCapital(before, 65, 86) && !isWordChar(text.charCodeAt(s - 2)) && !isWordChar(after)) at(s - 1);
    if ((after === 70 || after === 84) && !isWordChar(before) && !isWordChar(text.charCodeAt(s + 5))) at(s);
  }
};

/** NDC, `\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})\b`: a run of four or five digits, no word character before it, a dash after it. */
export const NDC_STARTS = runsOfLength(runLengths(4, 5), (text, s, e) => text.charCodeAt(e) === 45 && !isWordChar(text.charCodeAt(s - 1)));

/**
 * A US phone number's digits are groups of 3, 3 and 4 (10), or 1, 3, 3 and 4
 * (11, with the country code 1); runs of digits break only between groups,
 * so the digits of its first runs add up to these sums.
 */
const PHONE_GROUPS = [3, 6, 10];
const PHONE_GROUPS_WITH_1 = [1, 4, 7, 11];
/** At most two characters stand between two runs of a phone number (") " after the area code). */
const PHONE_GAP = 2;

/** Runs from `i` on, at most PHONE_GAP apart, whose lengths add up group by group to all of `sums`. */
function runsAddUpTo(runs: DigitRuns, i: number, sums: readonly number[]): boolean {
  const { count, start, end } = runs;
  let total = 0;
  for (let j = i; j < count; j++) {
    if (j > i && (start[j] as number) - (end[j - 1] as number) > PHONE_GAP) return false;
    total += (end[j] as number) - (start[j] as number);
    if (!sums.includes(total)) return false;
    if (total === sums[sums.length - 1]) return true;
  }
  return false;
}

/** The lengths in `sums` as bits (bit n: length n), to test a run's length without a search. */
function lengthBits(sums: readonly number[]): number {
  return sums.reduce((bits, n) => bits | (1 << n), 0);
}

/** The lengths a phone number's first run can have: a group or groups merged, with or without the country code. */
const PHONE_FIRST = lengthBits(PHONE_GROUPS);
const PHONE_FIRST_WITH_1 = lengthBits(PHONE_GROUPS_WITH_1);

/**
 * US phone, `(?<![\d-])(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}(?![\d-])`:
 * it starts with a digit that starts a run (no digit or dash before it), or
 * with the "+" or "(" right before such a run; from there the runs add up to
 * its groups of digits (a first "1" the country code).
 */
export const PHONE_STARTS: StartFinder = (runs, text, at) => {
  const { count, start, end } = runs;
  for (let i = 0; i < count; i++) {
    const s = start[i] as number;
    const length = (end[i] as number) - s;
    // most runs have no group's length: rejected by one bit test before anything is added up
    if (length > 11 || ((PHONE_FIRST | PHONE_FIRST_WITH_1) & (1 << length)) === 0) continue;
    const plain = (PHONE_FIRST & (1 << length)) !== 0 && runsAddUpTo(runs, i, PHONE_GROUPS);
    if (!plain && !((PHONE_FIRST_WITH_1 & (1 << length)) !== 0 && text.charCodeAt(s) === 49 && runsAddUpTo(runs, i, PHONE_GROUPS_WITH_1))) continue;
    const before = text.charCodeAt(s - 1);
    if (before === 43 || before === 40) at(s - 1);
    if (before !== 45) at(s);
  }
};

/** A capital, a digit or a hyphen: what a record or member number is made of. */
function inRecordRun(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || code === 45;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A record number holds at least five digits of its run. */
const RECORD_DIGITS = 5;

/**
 * The places in the run text[start, end) (holding `digits` digits) where a
 * record number can start: the run's start, or right after one of its
 * hyphens, while at least five of its digits are still ahead.
 */
function recordStartsIn(text: string, start: number, end: number, digits: number, at: (index: number) => void): void {
  let left = digits;
  for (let p = start; p < end && left >= RECORD_DIGITS; p++) {
    if (p === start || text.charCodeAt(p - 1) === 45) at(p);
    if (isDigitCode(text.charCodeAt(p))) left--;
  }
}

/** What follows a record run's first digits in it: capitals, digits and hyphens (`inRecordRun`), as a sticky pattern. */
const RECORD_RUN_REST = /[-0-9A-Z]*/y;

/**
 * Record and member numbers (personal.ts RECORD_NUMBER): a match is made of
 * capitals, digits and hyphens, so it lies in a run of them, one holding at
 * least five digits (both forms need five from where they start); it starts
 * where that run starts or right after a hyphen in it (a capital or digit
 * before it is a word character, and neither form starts after one). The
 * runs are built around the digit runs: each digit run not yet taken is
 * widened backwards over capitals and hyphens, then forwards over them and
 * the digit runs they reach.
 */
export const RECORD_NUMBER_STARTS: StartFinder = (runs, text, at) => {
  const { count, start: runStart, end: runEnd } = runs;
  for (let i = 0; i < count; ) {
    const s = runStart[i] as number;
    const e = runEnd[i] as number;
    const alone = !inRecordRun(text.charCodeAt(s - 1)) && !inRecordRun(text.charCodeAt(e));
    if (alone) {
      // most digit runs stand alone (between spaces, slashes, colons): the run is the digits, its only start where they start
      if (e - s >= RECORD_DIGITS) at(s);
      i++;
      continue;
    }
    let start = s;
    while (start > 0 && inRecordRun(text.charCodeAt(start - 1))) start--;
    // the rest of the run, skipped natively (a line of capitals would be a call a character otherwise)
    RECORD_RUN_REST.lastIndex = e;
    RECORD_RUN_REST.test(text);
    const end = RECORD_RUN_REST.lastIndex;
    // the digit runs inside it (a digit run is all record characters: each lies wholly inside or outside)
    let digits = 0;
    while (i < count && (runStart[i] as number) < end) {
      digits += (runEnd[i] as number) - (runStart[i] as number);
      i++;
    }
    if (digits >= RECORD_DIGITS) recordStartsIn(text, start, end, digits, at);
  }
};
