/**
 * Where a text's digits are: its maximal runs of ASCII digits, found once per
 * text (within `withScanCache`) and shared by every detector whose pattern
 * holds digits. Most identifier patterns can only start at a run of a given
 * length (nine digits, three then a dash …): with the runs listed and grouped
 * by length, each such detector tries its pattern only there
 * (`PatternSpec.starts`) instead of searching the whole text with it.
 */
import { Buffer } from 'node:buffer';
import { cachedScan } from './scan-cache.js';

/** Runs this long or longer share one length group. */
export const LONG_RUN = 31;

/** The maximal runs of ASCII digits of a text, in order: run `i` is `[start[i], end[i])`. */
export interface DigitRuns {
  readonly count: number;
  readonly start: ArrayLike<number>;
  readonly end: ArrayLike<number>;
  /** The runs (their numbers, in order) whose length is in `lengths` (a mask from `runLengths`). */
  select(lengths: number): readonly number[];
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

const KEY = {};

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** An ASCII letter (NaN, before or after the text: no). */
export function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** What `\b` counts as a word character (patterns without the u flag): ASCII letters, digits and "_". */
export function isWordChar(code: number): boolean {
  return isLetter(code) || isDigit(code) || code === 95;
}

function lengthGroup(length: number): number {
  return length < LONG_RUN ? length : LONG_RUN;
}

function inGroups(lengths: number, group: number): boolean {
  return (lengths & (1 << (group - 1))) !== 0;
}

/** Up to this many runs, the tables are plain arrays and a selection looks at every run (a typed array costs more to make than that). */
const FEW_RUNS = 1024;

/** Where a run starts and ends, in order (a typed array for many runs, a plain one for few). */
type Table = Int32Array | number[];

class Runs implements DigitRuns {
  /** The runs grouped by length (many runs only): `first[g]` the first run of group g (-1: none), `next[i]` the one after run i in its group. */
  private groups: { readonly first: Int32Array; readonly next: Int32Array } | undefined;

  constructor(
    readonly count: number,
    readonly start: Table,
    readonly end: Table,
  ) {}

  // not kept: a selection costs less to make again than to keep alive through a verdict (the collector copies what lives long)
  select(lengths: number): readonly number[] {
    return this.count <= FEW_RUNS ? this.picked(lengths) : this.collect(lengths);
  }

  private lengthGroupOf(i: number): number {
    return lengthGroup((this.end[i] as number) - (this.start[i] as number));
  }

  /** The runs of the groups in `lengths`, looking at every run. */
  private picked(lengths: number): readonly number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (inGroups(lengths, this.lengthGroupOf(i))) out.push(i);
    return out;
  }

  /** The runs of the groups in `lengths`, in position order: one or two groups merged as followed, more gathered and sorted. */
  private collect(lengths: number): readonly number[] {
    const { first, next } = (this.groups ??= this.grouped());
    const chosen: number[] = [];
    for (let g = 1; g <= LONG_RUN; g++) if (inGroups(lengths, g) && (first[g] as number) >= 0) chosen.push(g);
    if (chosen.length <= 2) return followed(first, next, chosen[0], chosen[1]);
    const out: number[] = [];
    for (const g of chosen) for (let i = first[g] as number; i >= 0; i = next[i] as number) out.push(i);
    // a typed array sorts numbers natively (no comparator called per pair)
    return Array.from(Int32Array.from(out).sort());
  }

  /** Links each run to the next of its length group (one pass, no sorting). */
  private grouped(): { first: Int32Array; next: Int32Array } {
    const first = new Int32Array(LONG_RUN + 1).fill(-1);
    const last = new Int32Array(LONG_RUN + 1).fill(-1);
    const next = new Int32Array(this.count).fill(-1);
    for (let i = 0; i < this.count; i++) {
      const g = this.lengthGroupOf(i);
      const prev = last[g] as number;
      if (prev < 0) first[g] = i;
      else next[prev] = i;
      last[g] = i;
    }
    return { first, next };
  }
}

/** The runs of one or two linked groups, merged in position order. */
function followed(first: Int32Array, next: Int32Array, a: number | undefined, b: number | undefined): readonly number[] {
  const out: number[] = [];
  let x = a === undefined ? -1 : (first[a] as number);
  let y = b === undefined ? -1 : (first[b] as number);
  while (x >= 0 || y >= 0) {
    if (y < 0 || (x >= 0 && x < y)) {
      out.push(x);
      x = next[x] as number;
    } else {
      out.push(y);
      y = next[y] as number;
    }
  }
  return out;
}

/** Where the runs' starts and ends are written while the text is read (reused: a new buffer per text costs the garbage collector more than its size). */
let scratchStart: Int32Array = new Int32Array(FEW_RUNS);
let scratchEnd: Int32Array = new Int32Array(FEW_RUNS);

/** Writes run `i` into the scratch tables, growing them when full. */
function keepRun(i: number, start: number, end: number): void {
  if (i >= scratchStart.length) {
    scratchStart = grown(scratchStart);
    scratchEnd = grown(scratchEnd);
  }
  scratchStart[i] = start;
  scratchEnd[i] = end;
}

/** The first `count` numbers of `a` in a plain array (few runs: a typed array costs more to make). */
function plainCopy(a: Int32Array, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = a[i] as number;
  return out;
}

/**
 * The text's characters, one byte each (the low byte of each code unit, as
 * Buffer's latin1 write gives them), read four at a time through a word
 * view. Kept for the next text up to KEPT_BYTES, 2 MB (a longer text gets its own,
 * not kept: it would stay for good).
 */
interface ByteView {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly writer: Buffer;
}

const KEPT_BYTES = 1 << 21;

function byteView(size: number): ByteView {
  const buffer = new ArrayBuffer(size);
  return { bytes: new Uint8Array(buffer), words: new Uint32Array(buffer), writer: Buffer.from(buffer) };
}

let kept = byteView(4096);

/** The text's low bytes, padded with zeros to whole words. The kept view is reused by the next call: read it before then. */
function lowBytes(text: string): ByteView {
  const n = text.length;
  const size = (n + 4) & ~3;
  let view = kept;
  if (size > view.bytes.length) {
    view = byteView(size);
    if (size <= KEPT_BYTES) kept = view;
  }
  view.writer.write(text, 0, n, 'latin1');
  view.bytes.fill(0, n, size);
  return view;
}

/** Per byte of a word, its top bit: set where that byte is an ASCII digit (0x30 to 0x39); no carry crosses a byte. */
function digitBytes(word: number): number {
  const low = word & 0x7f7f7f7f;
  return (low + 0x50505050) & ~(low + 0x46464646) & ~word & 0x80808080;
}

/**
 * Lists the digit runs: the text's low bytes are read a word (four
 * characters) at a time, and a word without a digit byte is passed over
 * whole; a digit byte counts only if its character is that digit (a
 * character beyond U+00FF can have a digit's low byte). They are gathered in
 * the scratch buffer, then copied into tables of their own.
 */
function findRuns(text: string): DigitRuns {
  const { bytes, words } = lowBytes(text);
  const n = text.length;
  // through the word holding the first padding byte, which ends a run reaching the text's end
  const wordCount = (n >>> 2) + 1;
  let count = 0;
  let runStart = -1;
  for (let k = 0; k < wordCount; k++) {
    if (digitBytes(words[k] as number) === 0) {
      if (runStart < 0) continue;
      // a run ends at this word's first character
      keepRun(count++, runStart, 4 * k);
      runStart = -1;
      continue;
    }
    for (let j = 4 * k; j < 4 * k + 4; j++) {
      const b = bytes[j] as number;
      if (isDigit(b) && text.charCodeAt(j) === b) {
        if (runStart < 0) runStart = j;
      } else if (runStart >= 0) {
        keepRun(count++, runStart, j);
        runStart = -1;
      }
    }
  }
  if (count <= FEW_RUNS) return new Runs(count, plainCopy(scratchStart, count), plainCopy(scratchEnd, count));
  return new Runs(count, scratchStart.slice(0, count), scratchEnd.slice(0, count));
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

/**
 * A pattern that starts where a run of one of `lengths` (a `runLengths` mask)
 * starts, if `fits` (given the run's start and end) allows.
 */
export function runsOfLength(lengths: number, fits: (text: string, start: number, end: number) => boolean = () => true): StartFinder {
  return (runs, text, at) => {
    const { start, end } = runs;
    const selected = runs.select(lengths);
    for (let k = 0; k < selected.length; k++) {
      const i = selected[k] as number;
      if (fits(text, start[i] as number, end[i] as number)) at(start[i] as number);
    }
  };
}
