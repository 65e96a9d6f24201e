/**
 * Where a text's digits are: its maximal runs of ASCII digits, found once per
 * text (within `withScanCache`) and shared by every detector whose pattern
 * holds digits. Most identifier patterns can only start at a run of a given
 * length (nine digits, three then a dash …): with the runs listed and grouped
 * by length, each such detector tries its pattern only there
 * (`PatternSpec.starts`) instead of searching the whole text with it.
 */
import { cachedScan } from './scan-cache.js';

/** Runs this long or longer share one length group. */
export const LONG_RUN = 31;

/** The maximal runs of ASCII digits of a text, in order: run `i` is `[start[i], end[i])`. */
export interface DigitRuns {
  readonly count: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** The runs (their numbers, in order) whose length is in `lengths` (a mask from `runLengths`). */
  select(lengths: number): Int32Array;
}

/** Calls `at` with places, in increasing order, where a pattern may match (see `PatternSpec.starts`). */
export type StartFinder = (runs: DigitRuns, text: string, at: (index: number) => void) => void;

/**
 * A set of run lengths for `DigitRuns.select`: each of `lengths`, 1 to
 * LONG_RUN (which stands for LONG_RUN digits or more).
 */
export function runLengths(...lengths: readonly number[]): number {
  let mask = 0;
  for (const n of lengths) {
    if (!Number.isInteger(n) || n < 1 || n > LONG_RUN) throw new RangeError(`run length ${n} is not 1 to ${LONG_RUN}`);
    mask |= 1 << (n - 1);
  }
  return mask;
}

/** The lengths from `min` to `max` (`max` LONG_RUN: any length from `min`). */
export function runLengthsFrom(min: number, max = LONG_RUN): number {
  const lengths: number[] = [];
  for (let n = min; n <= max; n++) lengths.push(n);
  return runLengths(...lengths);
}

const FIRST_DIGIT = /[0-9]/g;
const KEY = {};

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function lengthGroup(length: number): number {
  return length < LONG_RUN ? length : LONG_RUN;
}

function inGroups(lengths: number, group: number): boolean {
  return (lengths & (1 << (group - 1))) !== 0;
}

class Runs implements DigitRuns {
  private readonly selected = new Map<number, Int32Array>();

  /**
   * `first[g]` is the first run of length group g (-1: none), `next[i]` the
   * run after run i in its group: each group in order, without sorting.
   */
  constructor(
    readonly count: number,
    readonly start: Int32Array,
    readonly end: Int32Array,
    private readonly first: Int32Array,
    private readonly next: Int32Array,
  ) {}

  select(lengths: number): Int32Array {
    let runs = this.selected.get(lengths);
    if (!runs) {
      runs = this.collect(lengths);
      this.selected.set(lengths, runs);
    }
    return runs;
  }

  /** The runs of the groups in `lengths`, in position order: one or two groups merged as followed, more gathered and sorted. */
  private collect(lengths: number): Int32Array {
    const groups: number[] = [];
    for (let g = 1; g <= LONG_RUN; g++) if (inGroups(lengths, g) && (this.first[g] as number) >= 0) groups.push(g);
    if (groups.length <= 2) return this.followed(groups[0], groups[1]);
    const out: number[] = [];
    for (const g of groups) for (let i = this.first[g] as number; i >= 0; i = this.next[i] as number) out.push(i);
    return Int32Array.from(out).sort();
  }

  /** The runs of one or two groups, merged in position order. */
  private followed(a: number | undefined, b: number | undefined): Int32Array {
    const out: number[] = [];
    let x = a === undefined ? -1 : (this.first[a] as number);
    let y = b === undefined ? -1 : (this.first[b] as number);
    while (x >= 0 || y >= 0) {
      if (y < 0 || (x >= 0 && x < y)) {
        out.push(x);
        x = this.next[x] as number;
      } else {
        out.push(y);
        y = this.next[y] as number;
      }
    }
    return Int32Array.from(out);
  }
}

/** Lists the digit runs: the regex skips the text between runs faster than a loop over its characters. */
function findRuns(text: string): DigitRuns {
  const n = text.length;
  // room for a run every 16 characters before growing (clinic mail has one every 30)
  let start: Int32Array = new Int32Array(Math.max(64, n >> 4));
  let end: Int32Array = new Int32Array(start.length);
  let next: Int32Array = new Int32Array(start.length);
  const first = new Int32Array(LONG_RUN + 1).fill(-1);
  const last = new Int32Array(LONG_RUN + 1).fill(-1);
  let count = 0;
  const re = FIRST_DIGIT;
  re.lastIndex = 0;
  while (re.test(text)) {
    const s = re.lastIndex - 1;
    let e = s + 1;
    while (e < n && isDigit(text.charCodeAt(e))) e++;
    if (count === start.length) {
      start = grown(start);
      end = grown(end);
      next = grown(next);
    }
    start[count] = s;
    end[count] = e;
    next[count] = -1;
    const g = lengthGroup(e - s);
    const prev = last[g] as number;
    if (prev < 0) first[g] = count;
    else next[prev] = count;
    last[g] = count;
    count++;
    re.lastIndex = e;
  }
  re.lastIndex = 0;
  return new Runs(count, start, end, first, next);
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The digit runs of `text` (found once per text within `withScanCache`). */
export function digitRuns(text: string): DigitRuns {
  return cachedScan(KEY, text, findRuns);
}

/** A pattern that starts where a run of one of `lengths` (a `runLengths` mask) starts, `offset` characters later. */
export function runsOfLength(lengths: number, offset = 0): StartFinder {
  return (runs, _text, at) => {
    const { start } = runs;
    const selected = runs.select(lengths);
    for (let k = 0; k < selected.length; k++) at((start[selected[k] as number] as number) + offset);
  };
}
