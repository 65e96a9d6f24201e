/** Searches in ascending arrays of text positions. */

/** The position in `sorted` (ascending) of the first value >= `at` (binary search: looking up many positions in a long list stays linear-logarithmic). */
export function firstAtOrAfter(sorted: readonly number[], at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Infinity) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
