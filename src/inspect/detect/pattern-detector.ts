/**
 * The common shape of identifier detectors: a pattern, an optional validator
 * (checksum, allowed ranges), supporting keywords and a mask. Confidence
 * follows the pattern + validator + keyword-within-N-characters model:
 *   pattern only                       low
 *   pattern + validator                medium
 *   pattern (+ validator) + keyword    high
 * A detector may require the keyword (a bare 9-digit number is not an SSN
 * without context); matches without it are then ignored.
 */
import { digitRuns, type StartFinder } from './digit-runs.js';
import { DEFAULT_WINDOW, keywordAround, textAround } from './proximity.js';
import { cachedScan } from './scan-cache.js';
import { CONFIDENCE_RANK, type Confidence, type Detector, type Finding, type MatchExplanation } from './types.js';

export interface PatternSpec {
  readonly id: string;
  readonly category: string;
  /** Global regex; the value is the whole match unless `value` extracts it. */
  readonly pattern: RegExp;
  readonly value?: (match: RegExpExecArray) => string;
  readonly validate?: (value: string) => boolean;
  /** What the validator checks, in words ("Luhn checksum"), for explanations. */
  readonly validatorName?: string;
  readonly keywords?: RegExp;
  /**
   * Keywords that count only in some texts: tested like `keywords` when
   * `weakKeywordsCount(text)` holds ("acct", "account #" name a patient's
   * account, but a customer's in an invoice or an order).
   */
  readonly weakKeywords?: RegExp;
  readonly weakKeywordsCount?: (text: string) => boolean;
  /** Ignore matches without a keyword nearby. */
  readonly keywordRequired?: boolean | ((match: RegExpExecArray) => boolean);
  readonly window?: number;
  readonly mask: (value: string) => string;
  /**
   * A label right before the match that says it is something else ("Order #",
   * "Invoice", "Tracking"): tested on the 24 characters before it; such a
   * match is ignored unless a keyword is near.
   */
  readonly notAfter?: RegExp;
  /**
   * A label right before the match that names it ("account 4456789012"):
   * tested on the 24 characters before it when no keyword is near, it counts
   * as one. For a word that is a keyword only as the match's own label
   * (anywhere in the window it would name other numbers).
   */
  readonly label?: RegExp;
  /** Words near the match that make it something else (a bank account, not a record number): such a match is ignored. */
  readonly notNear?: RegExp;
  /**
   * Whether a match is something else whatever keyword is near (a
   * placeholder such as "0000000", an id in an HL7 message's header or
   * acknowledgement): such a match is ignored. Asked last, of the few
   * matches otherwise accepted.
   */
  readonly refuse?: (value: string, text: string, index: number) => boolean;
  /** Confidence when the validator passes and no keyword is near (default medium). */
  readonly validatedConfidence?: Confidence;
  /**
   * Where matches can start (a speed-up that changes nothing found): given the
   * text's runs of ASCII digits (found once per text for all detectors), it
   * names, in increasing order, every place where `pattern` can match (more
   * places do no harm, fewer lose matches). `pattern` is then tried only
   * there, in the whole text (sticky), never searched for.
   */
  readonly starts?: StartFinder;
}

const MAX_EVIDENCE = 3;
const MAX_EXPLAINED = 5;

interface Accepted {
  readonly value: string;
  readonly index: number;
  readonly length: number;
  readonly confidence: Confidence;
}

/** A spec's pattern compiled once: the global search and the sticky try at one place. */
interface Compiled {
  readonly spec: PatternSpec;
  readonly global: RegExp;
  readonly sticky: RegExp;
}

function compile(spec: PatternSpec): Compiled {
  const { source, flags } = spec.pattern;
  const global = new RegExp(source, flags.includes('g') ? flags : `${flags}g`);
  return {
    spec,
    global,
    sticky: new RegExp(source, `${flags.replace(/[gy]/g, '')}y`),
  };
}

/** The spec reads more of a match than where it is: its value or its keyword rule looks at the groups. */
function readsMatch(spec: PatternSpec): boolean {
  return spec.value !== undefined || typeof spec.keywordRequired === 'function';
}

/** Where a match is, and the match itself when a spec reads it (undefined when only where it is was asked for). */
type EachMatch = (index: number, length: number, m: RegExpExecArray | undefined) => void;

/**
 * Tries the sticky `at` at each place `starts` names (skipping those inside
 * the last match): what the global search finds. Unless the match itself is
 * asked for, `test` is tried instead of `exec` (no match array to make: where
 * it ends is `lastIndex`).
 */
function matchesAtStarts(at: RegExp, starts: StartFinder, text: string, withMatch: boolean, each: EachMatch): void {
  let from = 0;
  starts(digitRuns(text), text, (index) => {
    if (index < from) return;
    at.lastIndex = index;
    if (withMatch) {
      const m = at.exec(text);
      from = m ? index + Math.max(1, m[0].length) : index + 1;
      if (m) each(index, m[0].length, m);
    } else if (at.test(text)) {
      const length = at.lastIndex - index;
      from = index + Math.max(1, length);
      each(index, length, undefined);
    } else from = index + 1;
  });
  at.lastIndex = 0;
}

/** How far before a match its own label (PatternSpec.label) and the labels that say it is something else (notAfter) are looked for. */
const LABEL_REACH = 24;

/** Whether `label` ends right before the match at `index` (within LABEL_REACH characters). */
function labelledBy(label: RegExp, text: string, index: number): boolean {
  return label.test(text.slice(Math.max(0, index - LABEL_REACH), index));
}

function keywordIn(keywords: RegExp, around: string): boolean {
  keywords.lastIndex = 0;
  return keywords.test(around);
}

/**
 * The text around the match being judged (`textAround`), made at most once
 * however many specs of a group read it; one per group, moved from match to
 * match.
 */
class Surroundings {
  private text = '';
  private index = 0;
  private length = 0;
  private made: string | undefined;

  constructor(private readonly window: number) {}

  moveTo(text: string, index: number, length: number): void {
    this.text = text;
    this.index = index;
    this.length = length;
    this.made = undefined;
  }

  get(): string {
    return (this.made ??= textAround(this.text, this.index, this.length, this.window));
  }
}

/**
 * What `judge` reads of a spec, in one shape for every spec. The specs are
 * object literals of many shapes (each names only the rules it has), and
 * `judge`, reading them at every match of every detector, looked each field
 * up by shape; read from one class, each is at a fixed place.
 */
class Rules {
  readonly value: ((match: RegExpExecArray) => string) | undefined;
  readonly validate: ((value: string) => boolean) | undefined;
  readonly keywords: RegExp | undefined;
  readonly weakKeywords: RegExp | undefined;
  readonly weakKeywordsCount: ((text: string) => boolean) | undefined;
  /** The keywords (group 1) or the weak keywords, in one pattern: one search tells whether either is near, and which stands first. */
  readonly eitherKeywords: RegExp | undefined;
  readonly keywordRequired: boolean | ((match: RegExpExecArray) => boolean) | undefined;
  readonly notAfter: RegExp | undefined;
  readonly label: RegExp | undefined;
  readonly notNear: RegExp | undefined;
  readonly refuse: ((value: string, text: string, index: number) => boolean) | undefined;
  readonly validatedConfidence: Confidence | undefined;

  constructor(spec: PatternSpec) {
    this.value = spec.value;
    this.validate = spec.validate;
    this.keywords = spec.keywords;
    this.weakKeywords = spec.weakKeywords;
    this.weakKeywordsCount = spec.weakKeywordsCount;
    this.eitherKeywords = spec.keywords && spec.weakKeywords ? eitherOf(spec.keywords, spec.weakKeywords) : undefined;
    this.keywordRequired = spec.keywordRequired;
    this.notAfter = spec.notAfter;
    this.label = spec.label;
    this.notNear = spec.notNear;
    this.refuse = spec.refuse;
    this.validatedConfidence = spec.validatedConfidence;
  }
}

/**
 * Judges one match at `index`, `length` long (`m` the match itself when the
 * spec reads it): the validator, the keyword rules and the labels that say
 * it is something else; the accepted ones go to `out`.
 */
function judge(spec: Rules, text: string, index: number, length: number, m: RegExpExecArray | undefined, around: Surroundings, out: Accepted[]): void {
  const value = spec.value ? spec.value(m as RegExpExecArray) : m ? m[0] : text.slice(index, index + length);
  if (spec.validate && !spec.validate(value)) return;
  // the keywords and the words that say it is something else are looked for in the same text around it
  const near = keywordNear(spec, text, around) || (spec.label !== undefined && labelledBy(spec.label, text, index));
  const required = typeof spec.keywordRequired === 'function' ? spec.keywordRequired(m as RegExpExecArray) : spec.keywordRequired === true;
  if (required && !near) return;
  if (!near && spec.notAfter !== undefined && labelledBy(spec.notAfter, text, index)) return;
  if (spec.notNear && keywordIn(spec.notNear, around.get())) return;
  // last, of the few matches accepted so far: what they are whatever keyword is near (a placeholder, a message's own id)
  if (spec.refuse !== undefined && spec.refuse(value, text, index)) return;
  const confidence: Confidence = near ? 'high' : spec.validate ? (spec.validatedConfidence ?? 'medium') : 'low';
  out.push({ value, index, length, confidence });
}

/** Keywords and weak keywords as one pattern, the keywords' alternative in group 1 (the flags of the first; the two must have the same). */
function eitherOf(keywords: RegExp, weak: RegExp): RegExp {
  if (keywords.flags !== weak.flags) throw new Error('patternDetector: keywords and weakKeywords must have the same flags');
  return new RegExp(`(${keywords.source})|(?:${weak.source})`, keywords.flags);
}

/** Whether a keyword is near the match being judged: one of the spec's keywords, or of its weak keywords where they count (PatternSpec.weakKeywordsCount). */
function keywordNear(spec: Rules, text: string, around: Surroundings): boolean {
  if (spec.eitherKeywords !== undefined && spec.keywords !== undefined && spec.weakKeywords !== undefined) {
    const window = around.get();
    spec.eitherKeywords.lastIndex = 0;
    const first = spec.eitherKeywords.exec(window);
    if (first === null) return false;
    // a keyword first, or a weak one first with a keyword further on
    if (first[1] !== undefined || keywordIn(spec.keywords, window)) return true;
    return weakKeywordsCount(spec, text);
  }
  if (spec.keywords !== undefined && keywordIn(spec.keywords, around.get())) return true;
  return spec.weakKeywords !== undefined && keywordIn(spec.weakKeywords, around.get()) && weakKeywordsCount(spec, text);
}

/** Whether a spec's weak keywords count in this text (PatternSpec.weakKeywordsCount; always when it names no condition). */
function weakKeywordsCount(spec: Pick<PatternSpec, 'weakKeywordsCount'>, text: string): boolean {
  return spec.weakKeywordsCount === undefined || spec.weakKeywordsCount(text);
}

/** Every match of the group's pattern, found the group's way (all its specs find the same). */
function findMatches(c: Compiled, text: string, withMatch: boolean, each: EachMatch): void {
  const { starts } = c.spec;
  if (starts) matchesAtStarts(c.sticky, starts, text, withMatch, each);
  else {
    const re = c.global;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) each(m.index, m[0].length, m);
    re.lastIndex = 0;
  }
}

/** Specs that find the same matches, compiled once: how to find them, whether a spec reads a match's groups, and the text around the match being judged. */
interface Group {
  /** The specs' rules, in their order. */
  readonly rules: readonly Rules[];
  readonly compiled: Compiled;
  readonly withMatch: boolean;
  readonly around: Surroundings;
}

/** The accepted matches of each spec of a group (in the group's order): each match found once, and the text around it made once, for all. */
function scanGroup(group: Group, text: string): Accepted[][] {
  const { rules, around } = group;
  const out = rules.map((): Accepted[] => []);
  findMatches(group.compiled, text, group.withMatch, (index, length, m) => {
    around.moveTo(text, index, length);
    for (let i = 0; i < rules.length; i++) judge(rules[i] as Rules, text, index, length, m, around, out[i] as Accepted[]);
  });
  // the group outlives the text: let it go
  around.moveTo('', 0, 0);
  return out;
}

/** The key of what finds a spec's matches: its pattern, its start finder and its window. */
function findingKey(spec: PatternSpec): readonly unknown[] {
  return [spec.pattern.source, spec.pattern.flags, spec.starts, spec.window ?? DEFAULT_WINDOW];
}

function sameFinding(a: PatternSpec, b: PatternSpec): boolean {
  const x = findingKey(a);
  const y = findingKey(b);
  return x.every((v, i) => v === y[i]);
}

export function patternDetector(spec: PatternSpec): Detector {
  return patternDetectors([spec])[0] as Detector;
}

/**
 * Detectors for specs that find the same matches (the same pattern, start
 * finder or anchors, and window; the record and the member number): within
 * a verdict the matches and the text around each are found once for all of
 * them, and every spec judges each match.
 */
export function patternDetectors(specs: readonly PatternSpec[]): Detector[] {
  const first = specs[0];
  if (!first) return [];
  if (!specs.every((s) => sameFinding(s, first))) throw new Error('patternDetectors: the specs must share their pattern, start finder or anchors, and window');
  const compiled = compile(first);
  // one Surroundings per group: a group's scans never nest
  const group: Group = { rules: specs.map((spec) => new Rules(spec)), compiled, withMatch: specs.some(readsMatch), around: new Surroundings(first.window ?? DEFAULT_WINDOW) };
  const scanText = (text: string): Accepted[][] => scanGroup(group, text);
  /** The accepted matches in a text, for every spec of the group (scanned once per text within a verdict). */
  const scanAll = (text: string): Accepted[][] => cachedScan(compiled, text, scanText);
  return specs.map((spec, i) => detectorOf(spec, (text) => scanAll(text)[i] ?? []));
}

/** The detector of one spec, given how to find its accepted matches in a text. */
function detectorOf(spec: PatternSpec, scan: (text: string) => readonly Accepted[]): Detector {
  return {
    id: spec.id,
    category: spec.category,
    locate: (text) => scan(text).map(({ index, length }) => ({ index, length })),
    explain: (text) =>
      scan(text)
        .slice(0, MAX_EXPLAINED)
        .map(
          (a): MatchExplanation => ({
            evidence: spec.mask(a.value),
            confidence: a.confidence,
            validator: spec.validate ? spec.validatorName : undefined,
            keyword:
              (spec.keywords ? keywordAround(text, a.index, a.length, spec.keywords, spec.window) : undefined) ??
              (spec.weakKeywords && weakKeywordsCount(spec, text) ? keywordAround(text, a.index, a.length, spec.weakKeywords, spec.window) : undefined) ??
              ownLabel(spec, text, a.index),
          }),
        ),
    detect(text: string): Finding | undefined {
      const accepted = scan(text);
      // most texts hold no match of most specs: nothing to gather
      if (accepted.length === 0) return undefined;
      // each value once, in the order first found (a value's own confidence is never reported: only the best of all, the finding's)
      const values = new Set<string>();
      let best: Confidence = 'low';
      for (const { value, confidence } of accepted) {
        values.add(value);
        if (best !== confidence && CONFIDENCE_RANK[confidence] > CONFIDENCE_RANK[best]) best = confidence;
      }
      return {
        detector: spec.id,
        category: spec.category,
        count: values.size,
        confidence: best,
        evidence: firstValues(values, MAX_EVIDENCE).map(spec.mask),
      };
    },
  };
}

/** The match's own label (PatternSpec.label), as an explanation names a keyword: the label's words, right before it. */
function ownLabel(spec: PatternSpec, text: string, index: number): { keyword: string; distance: number } | undefined {
  if (spec.label === undefined) return undefined;
  const m = spec.label.exec(text.slice(Math.max(0, index - LABEL_REACH), index));
  return m ? { keyword: m[0].trim(), distance: 0 } : undefined;
}

/** The first `n` values of a set, in order (without listing them all). */
function firstValues<K>(set: ReadonlySet<K>, n: number): K[] {
  const out: K[] = [];
  for (const key of set) {
    if (out.length === n) break;
    out.push(key);
  }
  return out;
}
