/**
 * Record and member numbers (the `mrn` and `member-id` detectors): the same
 * pattern next to different keywords. Both are found in one search per text:
 * the runs of capitals, digits and hyphens that hold five digits are listed
 * with one regex, the pattern is tried only where a match can start in them
 * (one sticky try each), and the words around every match are read once for
 * all the detectors. What each detector finds, locates and explains is what
 * the pattern detector (`patternDetector` with the same pattern, keywords,
 * window 40, keyword required and the bank words as `notNear`) finds.
 */
import { keywordAround } from './proximity.js';
import { cachedScan } from './scan-cache.js';
import { type Confidence, type Detector, type Finding, type MatchExplanation } from './types.js';

/** A record, chart, account or member number: 6 to 10 digits with an optional letter prefix, or an alphanumeric one of at least 5 digits (not shaped like a date or a phone number). */
export const RECORD_NUMBER =
  '\\b[A-Z]{0,3}\\d{6,10}\\b|(?<![A-Za-z0-9-])(?!\\d{4}-\\d{1,2}-\\d{1,2}(?![A-Za-z0-9-])|\\d{1,2}-\\d{1,2}-\\d{2,4}(?![A-Za-z0-9-])|\\d{3}-\\d{3}-\\d{4}(?![A-Za-z0-9-]))(?=[0-9]*[A-Z-])(?=(?:[A-Z-]*\\d){5})[A-Z]{0,4}-?\\d[0-9A-Z]*(?:-[0-9A-Z]+){0,3}(?![A-Za-z0-9-])';

/** The pattern at one place: the match the global search finds there. */
const RECORD_NUMBER_AT = new RegExp(RECORD_NUMBER, 'y');

/**
 * The first five digits of a run of capitals, digits and hyphens, from its
 * first digit. Searched from the end of the last run, it stops at the first
 * run holding five digits (a run with fewer fails at each of its digits, each
 * try reading at most to the run's end, so the search stays linear).
 */
const FIVE_DIGITS = /[0-9][A-Z-]*[0-9][A-Z-]*[0-9][A-Z-]*[0-9][A-Z-]*[0-9]/g;

/** An account number among bank words is a bank account (payroll, refunds), not a patient's or a member's number. */
const BANK_WORDS = /\b(?:routing|aba|rtn|checking|savings|bank(?:ing)?|direct\s+deposit|wire|ach|iban|swift|bic)\b/i;

/** Characters before and after a match where its keywords count. */
const WINDOW = 40;

function inRun(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 45;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

interface Span {
  readonly index: number;
  readonly length: number;
}

/**
 * The record numbers in the run text[start, end), as the global search finds
 * them. A match starts where a word boundary or "no capital, digit or hyphen
 * before" holds: at the run's start, or right after one of its hyphens (a
 * capital or digit before is a word character); both forms hold at least five
 * digits of the run from where they start.
 */
function matchesInRun(text: string, start: number, end: number, out: Span[]): void {
  let digits = 0;
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) digits++;
  let from = start;
  for (let p = start; p < end; p++) {
    const c = text.charCodeAt(p);
    const candidate = p === start || text.charCodeAt(p - 1) === 45;
    if (candidate && p >= from && digits >= 5) {
      RECORD_NUMBER_AT.lastIndex = p;
      const m = RECORD_NUMBER_AT.exec(text);
      if (m) {
        out.push({ index: p, length: m[0].length });
        from = p + m[0].length;
      }
    }
    if (isDigit(c)) digits--;
  }
}

/** Every record number in the text, in order (what the global search of RECORD_NUMBER finds). */
export function recordNumbers(text: string): Span[] {
  const out: Span[] = [];
  const n = text.length;
  FIVE_DIGITS.lastIndex = 0;
  for (let f = FIVE_DIGITS.exec(text); f; f = FIVE_DIGITS.exec(text)) {
    // the whole run around the five digits (only capitals and hyphens before its first digit)
    let start = f.index;
    while (start > 0 && inRun(text.charCodeAt(start - 1))) start--;
    let end = FIVE_DIGITS.lastIndex;
    while (end < n && inRun(text.charCodeAt(end))) end++;
    matchesInRun(text, start, end, out);
    FIVE_DIGITS.lastIndex = end;
  }
  FIVE_DIGITS.lastIndex = 0;
  RECORD_NUMBER_AT.lastIndex = 0;
  return out;
}

/** The words around a match where keywords count, as `keywordNear` reads them: the window before, a space, the window after. */
function around(text: string, index: number, length: number): string {
  return text.slice(Math.max(0, index - WINDOW), index) + ' ' + text.slice(index + length, Math.min(text.length, index + length + WINDOW));
}

export interface RecordNumberSpec {
  readonly id: string;
  readonly category: string;
  /** Words that must be within WINDOW characters of the number (a case-insensitive regex). */
  readonly keywords: RegExp;
}

interface Accepted {
  readonly value: string;
  readonly index: number;
}

const MAX_EVIDENCE = 3;
const MAX_EXPLAINED = 5;

/**
 * Any spec's keywords (one search where most numbers have none near), or
 * undefined when their flags differ.
 */
function anyKeyword(specs: readonly RecordNumberSpec[]): RegExp | undefined {
  const flags = specs[0]?.keywords.flags ?? '';
  if (specs.some((spec) => spec.keywords.flags !== flags)) return undefined;
  return new RegExp(specs.map((spec) => `(?:${spec.keywords.source})`).join('|'), flags);
}

/** Accepted numbers of each spec (in the specs' order): a keyword near, and no bank word. */
function acceptAll(specs: readonly RecordNumberSpec[], any: RegExp | undefined, text: string): Accepted[][] {
  const accepted = specs.map((): Accepted[] => []);
  for (const { index, length } of recordNumbers(text)) {
    const words = around(text, index, length);
    if (any && !any.test(words)) continue;
    let bank: boolean | undefined;
    specs.forEach((spec, i) => {
      if (!spec.keywords.test(words)) return;
      bank ??= BANK_WORDS.test(words);
      if (!bank) accepted[i]?.push({ value: text.slice(index, index + length), index });
    });
  }
  return accepted;
}

/**
 * Detectors for record numbers next to each spec's keywords. The numbers and
 * the words around them are found once per text for all of them.
 */
export function recordNumberDetectors(specs: readonly RecordNumberSpec[]): Detector[] {
  const key = {};
  const any = anyKeyword(specs);
  const scan = (text: string, i: number): readonly Accepted[] => cachedScan(key, text, (t) => acceptAll(specs, any, t))[i] ?? [];
  return specs.map((spec, i): Detector => {
    const mask = (v: string): string => `${spec.category} ${'*'.repeat(Math.max(0, v.length - 3))}${v.slice(-3)}`;
    // a number counts only with its keyword, so every one accepted is found with high confidence
    const confidence: Confidence = 'high';
    return {
      id: spec.id,
      category: spec.category,
      locate: (text) => scan(text, i).map(({ value, index }) => ({ index, length: value.length })),
      explain: (text) =>
        scan(text, i)
          .slice(0, MAX_EXPLAINED)
          .map(
            (a): MatchExplanation => ({
              evidence: mask(a.value),
              confidence,
              validator: undefined,
              keyword: keywordAround(text, a.index, a.value.length, spec.keywords, WINDOW),
            }),
          ),
      detect(text: string): Finding | undefined {
        const values = new Set(scan(text, i).map((a) => a.value));
        if (values.size === 0) return undefined;
        return { detector: spec.id, category: spec.category, count: values.size, confidence, evidence: [...values].slice(0, MAX_EVIDENCE).map(mask) };
      },
    };
  });
}
