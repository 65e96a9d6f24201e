/**
 * Questions about many spans of a text asked many times (whether a name
 * overlaps one of the names already found, which addresses lie just after
 * it): answered by binary search over the spans in order, not by reading
 * them all each time. Pure.
 */
export interface Span {
  readonly index: number;
  readonly length: number;
}

/** The first position in `sorted` (ascending) whose value is at least `value` (`sorted.length` when none is). */
export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where the line holding `index` starts, or `index - reach` if that is later:
 * only `reach` characters are looked at (a search back to the line's start
 * would read a text of one long line once per term).
 */
export function lineStartWithin(text: string, index: number, reach: number): number {
  const floor = Math.max(0, index - reach);
  for (let i = index - 1; i >= floor; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return floor;
}

/** Where the line holding `from` ends, or `from + reach` if that is sooner (the text's end at most). */
export function lineEndWithin(text: string, from: number, reach: number): number {
  const ceiling = Math.min(text.length, from + reach);
  for (let i = from; i < ceiling; i++) if (text.charCodeAt(i) === 10) return i;
  return ceiling;
}

/** lowerBound over the starts of spans ordered by start, read in place (no list of their starts made). */
export function firstStartingFrom(sorted: readonly Span[], index: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid]?.index ?? 0) < index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Spans that may overlap each other, for the question "does this span
 * overlap any of them?" (`index < t.index + t.length && t.index < index +
 * length` for some t): sorted by start, with the furthest end among the spans
 * starting before each position.
 */
/**
 * Of spans sorted by where they start: the starts, and for each prefix the
 * furthest end (so a binary search on the starts tells whether any span
 * starting before a point reaches past another).
 */
export function startsAndFurthestEnds(sorted: readonly Span[]): { starts: number[]; furthestEnds: number[] } {
  const starts: number[] = [];
  const furthestEnds: number[] = [];
  let furthest = -Infinity;
  for (const t of sorted) {
    furthest = Math.max(furthest, t.index + t.length);
    starts.push(t.index);
    furthestEnds.push(furthest);
  }
  return { starts, furthestEnds };
}

export class OverlapIndex {
  private readonly starts: number[];
  private readonly furthestEnds: number[];

  constructor(spans: readonly Span[]) {
    ({ starts: this.starts, furthestEnds: this.furthestEnds } = startsAndFurthestEnds([...spans].sort((a, b) => a.index - b.index)));
  }

  /** Some span starts before this one ends and ends after it starts. */
  overlaps(index: number, length: number): boolean {
    // the spans starting before index + length; one of them overlaps when the furthest of their ends is past index
    const count = lowerBound(this.starts, index + length);
    return count > 0 && (this.furthestEnds[count - 1] ?? -Infinity) > index;
  }
}

/**
 * Spans in order that do not overlap (a regex's global matches): their starts
 * and their ends both ascend, so the ones starting or ending in a range are
 * found by binary search.
 */
export class OrderedSpans<T extends Span> {
  private readonly starts: number[];
  private readonly ends: number[];

  constructor(readonly spans: readonly T[]) {
    this.starts = spans.map((s) => s.index);
    this.ends = spans.map((s) => s.index + s.length);
  }

  /** The first span, in order, that starts in [from, to] and passes `test`. */
  firstStartingIn(from: number, to: number, test: (span: T) => boolean): T | undefined {
    for (let i = lowerBound(this.starts, from); i < this.spans.length && (this.starts[i] ?? Infinity) <= to; i++) {
      const span = this.spans[i];
      if (span && test(span)) return span;
    }
    return undefined;
  }

  /** The first span, in order, that ends in [from, to] and passes `test`. */
  firstEndingIn(from: number, to: number, test: (span: T) => boolean): T | undefined {
    for (let i = lowerBound(this.ends, from); i < this.spans.length && (this.ends[i] ?? Infinity) <= to; i++) {
      const span = this.spans[i];
      if (span && test(span)) return span;
    }
    return undefined;
  }
}
