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
import { keywordAround, keywordNear } from './proximity.js';
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
   * Where matches can be (a speed-up that changes nothing found): every match
   * of `pattern` lies inside a run (a maximal sequence of characters that
   * `inRun` accepts) holding at least `digits` ASCII digits (which `inRun`
   * accepts), and whether and how `pattern` matches inside a run depends only
   * on the run and the one character on each side of it. Only such runs are
   * searched.
   */
  readonly within?: { readonly inRun: (code: number) => boolean; readonly digits: number };
  /**
   * Where matches can be (a speed-up that changes nothing found): every string
   * `pattern` matches holds a match of `anchor`'s global search (in the whole
   * text) that starts at most `before` characters after the match starts, and
   * the match ends at most `after` characters after that anchor starts;
   * `pattern` looks at no more than one character beyond its match on either
   * side (`\b`). Only the stretches around the anchors are searched.
   */
  readonly anchored?: { readonly anchor: RegExp; readonly before: number; readonly after: number };
}

const MAX_EVIDENCE = 3;
const MAX_EXPLAINED = 5;

interface Accepted {
  readonly value: string;
  readonly index: number;
  readonly length: number;
  readonly confidence: Confidence;
}

/** The global form of a spec's pattern, compiled once per spec. */
const GLOBAL = new WeakMap<PatternSpec, RegExp>();

function globalPattern(spec: PatternSpec): RegExp {
  let re = GLOBAL.get(spec);
  if (!re) {
    re = new RegExp(spec.pattern.source, spec.pattern.flags.includes('g') ? spec.pattern.flags : `${spec.pattern.flags}g`);
    GLOBAL.set(spec, re);
  }
  return re;
}

/** The sticky form of a spec's pattern: the match at one place, as the global search finds it there. */
const STICKY = new WeakMap<PatternSpec, RegExp>();

function stickyPattern(spec: PatternSpec): RegExp {
  let re = STICKY.get(spec);
  if (!re) {
    re = new RegExp(spec.pattern.source, `${spec.pattern.flags.replace(/[gy]/g, '')}y`);
    STICKY.set(spec, re);
  }
  return re;
}

/** One key per pattern (source and flags): specs sharing a pattern share its matches within a verdict. */
const SHARED = new Map<string, object>();

function sharedKey(re: RegExp): object {
  const id = `${re.flags}/${re.source}`;
  let key = SHARED.get(id);
  if (!key) {
    key = {};
    SHARED.set(id, key);
  }
  return key;
}

const DIGIT = /[0-9]/g;
/** Runs closer than this are searched together (fewer, longer searches). */
const JOIN_GAP = 256;

/** Stretches to search, added in order: those closer than JOIN_GAP are searched as one (fewer, longer searches). */
function stretchJoiner(search: (start: number, end: number) => void): { add(start: number, end: number): void; flush(): void } {
  let segStart = -1;
  let segEnd = -1;
  return {
    add(start, end) {
      if (segStart >= 0 && start - segEnd <= JOIN_GAP) {
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

/** What the global search of `re` finds in `text`, in order, searching only the runs `within` allows (indexes in `text`). */
function matchesWithin(re: RegExp, within: NonNullable<PatternSpec['within']>, text: string, each: (m: RegExpExecArray) => void): void {
  const { inRun, digits } = within;
  const n = text.length;
  // the text from one character before the first run to one after the last: the pattern sees there all it looks at
  const search = (start: number, end: number): void => {
    const from = Math.max(0, start - 1);
    const part = text.slice(from, Math.min(n, end + 1));
    re.lastIndex = 0;
    for (let m = re.exec(part); m; m = re.exec(part)) {
      const at = re.lastIndex;
      m.index += from;
      each(m);
      re.lastIndex = at;
    }
  };
  const stretches = stretchJoiner(search);
  DIGIT.lastIndex = 0;
  for (let d = DIGIT.exec(text); d; d = DIGIT.exec(text)) {
    // the run around this digit (the last run ended before it)
    let start = d.index;
    while (start > 0 && inRun(text.charCodeAt(start - 1))) start--;
    let end = d.index;
    let count = 0;
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (!inRun(c)) break;
      if (c >= 48 && c <= 57) count++;
      end = i + 1;
    }
    DIGIT.lastIndex = end;
    // runs close together are searched as one stretch (the pattern matches nowhere between them)
    if (count >= digits) stretches.add(start, end);
  }
  DIGIT.lastIndex = 0;
  stretches.flush();
  re.lastIndex = 0;
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
  const stretches = stretchJoiner(search);
  anchor.lastIndex = 0;
  for (let a = anchor.exec(text); a; a = anchor.exec(text)) stretches.add(Math.max(0, a.index - before), Math.min(n, a.index + after));
  anchor.lastIndex = 0;
  stretches.flush();
  re.lastIndex = 0;
}

function scanText(spec: PatternSpec, text: string): Accepted[] {
  const out: Accepted[] = [];
  const accept = (m: RegExpExecArray): void => {
    const value = spec.value ? spec.value(m) : m[0];
    if (spec.validate && !spec.validate(value)) return;
    const near = spec.keywords ? keywordNear(text, m.index, m[0].length, spec.keywords, spec.window) : false;
    const required = typeof spec.keywordRequired === 'function' ? spec.keywordRequired(m) : spec.keywordRequired === true;
    if (required && !near) return;
    if (!near && spec.notAfter?.test(text.slice(Math.max(0, m.index - 24), m.index))) return;
    if (spec.notNear && keywordNear(text, m.index, m[0].length, spec.notNear, spec.window)) return;
    const confidence: Confidence = near ? 'high' : spec.validate ? (spec.validatedConfidence ?? 'medium') : 'low';
    out.push({ value, index: m.index, length: m[0].length, confidence });
  };
  const re = globalPattern(spec);
  const within = spec.within;
  if (within) {
    // the runs are searched once per text for every spec with this pattern (the record and the member number):
    // where the matches start is kept, and each spec takes its match there again (one sticky try)
    const starts = cachedScan(sharedKey(re), text, (t) => {
      const all: number[] = [];
      matchesWithin(re, within, t, (m) => all.push(m.index));
      return all;
    });
    const at = stickyPattern(spec);
    for (const start of starts) {
      at.lastIndex = start;
      const m = at.exec(text);
      if (m) accept(m);
    }
    at.lastIndex = 0;
    return out;
  }
  if (spec.anchored) {
    matchesAnchored(re, stickyPattern(spec), spec.anchored, text, accept);
    return out;
  }
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) accept(m);
  re.lastIndex = 0;
  return out;
}

/** The accepted matches of a spec in a text (scanned once per text within a verdict). */
function scan(spec: PatternSpec, text: string): readonly Accepted[] {
  return cachedScan(spec, text, (t) => scanText(spec, t));
}

export function patternDetector(spec: PatternSpec): Detector {
  return {
    id: spec.id,
    category: spec.category,
    locate: (text) => scan(spec, text).map(({ index, length }) => ({ index, length })),
    explain: (text) =>
      scan(spec, text)
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
      for (const { value, confidence } of scan(spec, text)) {
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
