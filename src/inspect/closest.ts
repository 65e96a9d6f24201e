/**
 * The closest pair between two lists of spans of one text (an identifier
 * and a health term, a person and a health term), in time that grows with
 * the lists' lengths times a logarithm, never their product: a message of
 * a thousand names and a thousand health words must not cost a million
 * comparisons. Pure.
 *
 * Ties go to the first span of `as`, then the first of `bs`, in the order
 * the lists are given (what comparing every pair in order would choose).
 */
import { lowerBound, startsAndFurthestEnds, type Span } from './detect/spans.js';

export interface Pair<A, B> {
  readonly from: A;
  readonly to: B;
  /** Characters between the two spans, 0 when they touch or overlap. */
  readonly distance: number;
}

/** Characters between two spans (0 when they overlap). */
export function gap(a: Span, b: Span): number {
  return Math.max(0, b.index - (a.index + a.length), a.index - (b.index + b.length));
}

/** `bs` ordered by where they start, with their place in the original list and the furthest end among each prefix. */
interface Ordered<B> {
  readonly spans: readonly B[];
  readonly order: readonly number[];
  readonly starts: readonly number[];
  /** furthestEnd[i]: the largest end among spans[0..i]. */
  readonly furthestEnd: readonly number[];
  readonly longest: number;
}

function ordered<B extends Span>(bs: readonly B[]): Ordered<B> {
  const order = bs.map((_, i) => i).sort((x, y) => (bs[x]?.index ?? 0) - (bs[y]?.index ?? 0) || x - y);
  const spans = order.map((i) => bs[i] as B);
  const { starts, furthestEnds } = startsAndFurthestEnds(spans);
  const longest = spans.reduce((n, b) => Math.max(n, b.length), 0);
  return { spans, order, starts, furthestEnd: furthestEnds, longest };
}

/**
 * The distance from `a` to the nearest of the ordered spans: those starting
 * at or before `a` come closest by the one reaching furthest; those starting
 * inside `a` overlap it; of those starting after `a` ends, the first.
 */
function nearestDistance<B extends Span>(a: Span, bs: Ordered<B>): number {
  const end = a.index + a.length;
  let best = Infinity;
  const after = lowerBound(bs.starts, a.index + 1);
  if (after > 0) best = Math.max(0, a.index - (bs.furthestEnd[after - 1] ?? -Infinity));
  const beyond = lowerBound(bs.starts, end);
  if (beyond > after) return 0;
  if (beyond < bs.starts.length) best = Math.min(best, (bs.starts[beyond] ?? Infinity) - end);
  return best;
}

/** The closest pair of an `as` span and a `bs` span, however far apart. */
export function closest<A extends Span, B extends Span>(as: readonly A[], bs: readonly B[]): Pair<A, B> | undefined {
  if (as.length === 0 || bs.length === 0) return undefined;
  const sorted = ordered(bs);
  let from: A | undefined;
  let distance = Infinity;
  for (const a of as) {
    const d = nearestDistance(a, sorted);
    if (d < distance) {
      from = a;
      distance = d;
    }
  }
  if (!from) return undefined;
  const to = bs.find((b) => gap(from, b) === distance);
  return to ? { from, to, distance } : undefined;
}

/**
 * The closest pair at most `reach` characters apart that `allowed` accepts,
 * or undefined. Only the spans of `bs` that can lie within `reach` of each
 * `a` are compared.
 */
export function closestWithin<A extends Span, B extends Span>(as: readonly A[], bs: readonly B[], reach: number, allowed: (a: A, b: B) => boolean = () => true): Pair<A, B> | undefined {
  if (as.length === 0 || bs.length === 0) return undefined;
  const sorted = ordered(bs);
  let best: { from: A; to: B; distance: number; order: number } | undefined;
  for (const a of as) {
    const end = a.index + a.length;
    for (let i = lowerBound(sorted.starts, a.index - reach - sorted.longest); i < sorted.spans.length; i++) {
      const b = sorted.spans[i] as B;
      if (b.index > end + reach) break;
      const distance = gap(a, b);
      const order = sorted.order[i] ?? 0;
      if (distance > reach || (best && (distance > best.distance || (distance === best.distance && (best.from !== a || order > best.order))))) continue;
      if (!allowed(a, b)) continue;
      best = { from: a, to: b, distance, order };
    }
  }
  return best && { from: best.from, to: best.to, distance: best.distance };
}
