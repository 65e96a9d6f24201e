/**
 * Sliding-window counters per key, in memory, with an injected clock. A
 * window is kept as 60 buckets (a minute window: 1 s buckets; an hour: 1 min
 * buckets), so a count covers the last 59-60 sixtieths of the window: exact
 * enough for a limit, and a key costs at most 60 small entries per window
 * whatever the traffic. At most `maxKeys` keys are kept; touching a key makes
 * it the most recent, and the least recently touched is forgotten first
 * (forgetting errs towards allowing: its count starts again from zero).
 */

export const BUCKETS_PER_WINDOW = 60;

export interface RateCounterOptions {
  readonly windowMs: number;
  /** Read at each insertion, so a reload can change it. */
  readonly maxKeys: () => number;
  readonly now: () => number;
}

export class RateCounter {
  /** Per key, its buckets flat as [index, n, index, n, …] oldest first (index = floor(time / bucketMs)): no object per bucket. */
  private readonly keys = new Map<string, number[]>();
  private readonly bucketMs: number;

  constructor(private readonly options: RateCounterOptions) {
    this.bucketMs = Math.max(1, Math.ceil(options.windowMs / BUCKETS_PER_WINDOW));
  }

  /** The sum within the window now (0 for an unknown key). */
  count(key: string): number {
    const buckets = this.keys.get(key);
    if (!buckets) return 0;
    const oldest = this.oldestIndex();
    let sum = 0;
    for (let i = 0; i < buckets.length; i += 2) if ((buckets[i] ?? 0) >= oldest) sum += buckets[i + 1] ?? 0;
    return sum;
  }

  /** Adds `n` (> 0) to the key's current bucket. */
  add(key: string, n = 1): void {
    if (!(n > 0)) return;
    const current = Math.floor(this.options.now() / this.bucketMs);
    const oldest = this.oldestIndex();
    const buckets = this.keys.get(key);
    let kept: number[];
    if (buckets === undefined) {
      // a literal of two: push onto [] would reserve room for many more (most keys have one bucket)
      kept = [current, n];
    } else {
      let drop = 0;
      while (drop < buckets.length && (buckets[drop] ?? 0) < oldest) drop += 2;
      kept = drop > 0 ? buckets.slice(drop) : buckets;
      if (kept.length > 0 && kept[kept.length - 2] === current) kept[kept.length - 1] = (kept[kept.length - 1] ?? 0) + n;
      else kept.push(current, n);
    }
    // re-inserted: Map order is least recently touched first
    this.keys.delete(key);
    this.keys.set(key, kept);
    while (this.keys.size > this.options.maxKeys()) {
      const first = this.keys.keys().next();
      if (first.done === true) break;
      this.keys.delete(first.value);
    }
  }

  /** Keys held now (for tests and bounds). */
  get size(): number {
    return this.keys.size;
  }

  private oldestIndex(): number {
    return Math.floor(this.options.now() / this.bucketMs) - BUCKETS_PER_WINDOW + 1;
  }
}
