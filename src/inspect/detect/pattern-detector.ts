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
  /** Words near the match that make it something else (a bank account, not a record number): such a match is ignored. */
  readonly notNear?: RegExp;
  /** Confidence when the validator passes and no keyword is near (default medium). */
  readonly validatedConfidence?: Confidence;
  /**
   * Where matches can be (a speed-up that changes nothing found): every string
   * `pattern` matches holds a match of `anchor`'s global search (in the whole
   * text) that starts at most `before` characters after the match starts, and
   * the match ends at most `after` characters after that anchor starts;
   * `pattern` looks at no more than one character beyond its match on either
   * side (`\b`). Only the stretches around the anchors are searched.
   */
  readonly anchored?: { readonly anchor: RegExp; readonly before: number; readonly after: number };
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

/**
 * Stretches around anchors closer than this are searched together: fewer
 * searches, but each reads the text between (measured: 32 is a little faster
 * than 0 or 256 on clinic mail).
 */
const ANCHOR_GAP = 32;

/** Stretches to search, added in order: those at most `gap` apart are searched as one. */
function stretchJoiner(gap: number, search: (start: number, end: number) => void): { add(start: number, end: number): void; flush(): void } {
  let segStart = -1;
  let segEnd = -1;
  return {
    add(start, end) {
      if (segStart >= 0 && start - segEnd <= gap) {
        segEnd = Math.max(segEnd, end);
        return;
      }
      if (segStart >= 0) search(segStart, segEnd);
      segStart = start;
      segEnd = end;
    },
    flush() {
      if (segStart >= 0) search(segStart, segEnd);
    },
  };
}

/** Tries the sticky `at` at each place `starts` names (skipping those inside the last match): what the global search finds. */
function matchesAtStarts(at: RegExp, starts: StartFinder, text: string, each: (m: RegExpExecArray) => void): void {
  let from = 0;
  starts(digitRuns(text), text, (index) => {
    if (index < from) return;
    at.lastIndex = index;
    const m = at.exec(text);
    from = m ? index + Math.max(1, m[0].length) : index + 1;
    if (m) each(m);
  });
  at.lastIndex = 0;
}

/**
 * What the global search of `re` finds in `text`, in order, searching only
 * around the anchors (indexes in `text`). A stretch is searched in a slice
 * holding one more character on each side; a match there that reaches the
 * slice's last character (where the text goes on) may not be one in the text,
 * and the rest of that stretch is then tried in the text itself, place by place.
 */
function matchesAnchored(re: RegExp, sticky: RegExp, anchored: NonNullable<PatternSpec['anchored']>, text: string, each: (m: RegExpExecArray) => void): void {
  const { anchor, before, after } = anchored;
  const n = text.length;
  const search = (start: number, end: number): void => {
    const from = Math.max(0, start - 1);
    const part = text.slice(from, Math.min(n, end + 1));
    re.lastIndex = start - from;
    for (let m = re.exec(part); m; m = re.exec(part)) {
      const at = re.lastIndex;
      m.index += from;
      if (m.index + m[0].length > end) {
        // the slice's edge, not the text's: place by place in the text
        for (let q = m.index; q < end; ) {
          sticky.lastIndex = q;
          const s = sticky.exec(text);
          if (s) {
            each(s);
            q += s[0].length || 1;
          } else q++;
        }
        sticky.lastIndex = 0;
        break;
      }
      each(m);
      re.lastIndex = at;
    }
  };
  const stretches = stretchJoiner(ANCHOR_GAP, search);
  anchor.lastIndex = 0;
  for (let a = anchor.exec(text); a; a = anchor.exec(text)) stretches.add(Math.max(0, a.index - before), Math.min(n, a.index + after));
  anchor.lastIndex = 0;
  stretches.flush();
  re.lastIndex = 0;
}

function keywordIn(keywords: RegExp, around: string): boolean {
  keywords.lastIndex = 0;
  return keywords.test(around);
}

/**
 * Judges one match: the validator, the keyword rules and the labels that
 * say it is something else; the accepted ones go to `out`.
 */
function judge(spec: PatternSpec, text: string, m: RegExpExecArray, out: Accepted[]): void {
  const { index } = m;
  const { length } = m[0];
  const value = spec.value ? spec.value(m) : m[0];
  if (spec.validate && !spec.validate(value)) return;
  // the keywords and the words that say it is something else are looked for in the same text around it
  let around: string | undefined;
  let near = false;
  if (spec.keywords) {
    around = textAround(text, index, length, spec.window ?? DEFAULT_WINDOW);
    near = keywordIn(spec.keywords, around);
  }
  const required = typeof spec.keywordRequired === 'function' ? spec.keywordRequired(m) : spec.keywordRequired === true;
  if (required && !near) return;
  if (!near && spec.notAfter?.test(text.slice(Math.max(0, index - 24), index))) return;
  if (spec.notNear && keywordIn(spec.notNear, around ?? textAround(text, index, length, spec.window ?? DEFAULT_WINDOW))) return;
  const confidence: Confidence = near ? 'high' : spec.validate ? (spec.validatedConfidence ?? 'medium') : 'low';
  out.push({ value, index, length, confidence });
}

function scanText(c: Compiled, text: string): Accepted[] {
  const { spec } = c;
  const out: Accepted[] = [];
  const { starts, anchored } = spec;
  if (starts) matchesAtStarts(c.sticky, starts, text, (m) => judge(spec, text, m, out));
  else if (anchored) matchesAnchored(c.global, c.sticky, anchored, text, (m) => judge(spec, text, m, out));
  else {
    const re = c.global;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) judge(spec, text, m, out);
    re.lastIndex = 0;
  }
  return out;
}

export function patternDetector(spec: PatternSpec): Detector {
  const compiled = compile(spec);
  /** The accepted matches in a text (scanned once per text within a verdict). */
  const scan = (text: string): readonly Accepted[] => cachedScan(compiled, text, (t) => scanText(compiled, t));
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
            keyword: spec.keywords ? keywordAround(text, a.index, a.length, spec.keywords, spec.window) : undefined,
          }),
        ),
    detect(text: string): Finding | undefined {
      const values = new Map<string, Confidence>();
      for (const { value, confidence } of scan(text)) {
        const prev = values.get(value);
        if (!prev || CONFIDENCE_RANK[confidence] > CONFIDENCE_RANK[prev]) values.set(value, confidence);
      }
      if (values.size === 0) return undefined;
      const best = [...values.values()].reduce<Confidence>((a, c) => (CONFIDENCE_RANK[c] > CONFIDENCE_RANK[a] ? c : a), 'low');
      return {
        detector: spec.id,
        category: spec.category,
        count: values.size,
        confidence: best,
        evidence: [...values.keys()].slice(0, MAX_EVIDENCE).map(spec.mask),
      };
    },
  };
}
