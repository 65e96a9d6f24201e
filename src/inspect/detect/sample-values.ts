/**
 * Published sample and test values that are never a real person's
 * identifier: the SSA's advertising and documentation SSNs, and 123-45-6789,
 * the format example in docs and forms everywhere (ours too). The detectors
 * skip them (a form's "e.g. 123-45-6789" is not PHI); `sealgate policy test`
 * says per finding class that such a value was skipped, never which one.
 */

export interface SampleValueClass {
  readonly category: string;
  readonly detector: string;
  /** The sample values, as digits only. */
  readonly digits: readonly string[];
  /** Where such a value is written in the formats the detector reads: captures digits. */
  readonly pattern: RegExp;
}

export const SAMPLE_VALUES: readonly SampleValueClass[] = [
  {
    category: 'SSN',
    detector: 'us-ssn',
    // 078-05-1120 (the Woolworth wallet card), 219-09-9999 (an SSA advertisement), 123-45-6789 (the common format example)
    digits: ['078051120', '219099999', '123456789'],
    // 123-45-6789, 123 45 6789, 123456789, not inside a longer run of digits or dashes
    pattern: /(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])/g,
  },
];

/** Whether `digits` is a known sample value of the detector's class. */
export function isSampleValue(detector: string, digits: string): boolean {
  return SAMPLE_VALUES.some((c) => c.detector === detector && c.digits.includes(digits));
}

export interface SkippedSamples {
  readonly category: string;
  readonly detector: string;
  readonly reason: 'known sample value';
  /** Occurrences in the message's texts. */
  readonly count: number;
}

/** The sample values in a message's extracted texts, counted per finding class (values are not returned). */
export function skippedSampleValues(texts: readonly string[]): SkippedSamples[] {
  const out: SkippedSamples[] = [];
  for (const c of SAMPLE_VALUES) {
    let count = 0;
    for (const text of texts) {
      for (const m of text.matchAll(c.pattern)) if (c.digits.includes(`${m[1] ?? ''}${m[3] ?? ''}${m[4] ?? ''}`)) count++;
    }
    if (count > 0) out.push({ category: c.category, detector: c.detector, reason: 'known sample value', count });
  }
  return out;
}
