/**
 * What a detector reports: a category, how many distinct values matched, a
 * confidence and masked evidence. Raw matched values never leave a detector.
 */
export type Confidence = 'low' | 'medium' | 'high';

export interface Finding {
  readonly detector: string;
  readonly category: string;
  readonly count: number;
  readonly confidence: Confidence;
  /** Masked values, e.g. "SSN ***-**-6789"; at most a few. */
  readonly evidence: readonly string[];
}

/** Why one match counts (for `policy test --explain`): masked, never the value. */
export interface MatchExplanation {
  readonly evidence: string;
  readonly confidence: Confidence;
  /** The check the value passed (checksum, allowed ranges, format). */
  readonly validator?: string | undefined;
  /** The supporting keyword closest to the match, and the characters between them. */
  readonly keyword?: { readonly keyword: string; readonly distance: number } | undefined;
}

export interface Detector {
  readonly id: string;
  readonly category: string;
  detect(text: string): Finding | undefined;
  /** Where the accepted matches are (for proximity between detectors); never their values. */
  locate?(text: string): { index: number; length: number }[];
  /** Why each accepted match counts (the first few). */
  explain?(text: string): MatchExplanation[];
}

export const CONFIDENCE_RANK: Readonly<Record<Confidence, number>> = { low: 1, medium: 2, high: 3 };

/** Keeps the last `keep` characters, masks letters and digits before them. */
export function maskValue(value: string, keep = 4): string {
  const cut = Math.max(0, value.length - keep);
  return value.slice(0, cut).replace(/[A-Za-z0-9]/g, '*') + value.slice(cut);
}
