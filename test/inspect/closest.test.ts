import { describe, expect, it } from 'vitest';
import { closest, closestWithin, gap } from '../../src/inspect/closest.js';
import type { Span } from '../../src/inspect/detect/spans.js';

const s = (index: number, length: number, name = ''): Span & { name: string } => ({ index, length, name });

/** Every pair in order, the first strictly closer one kept: what the fast search must agree with. */
function everyPair<A extends Span, B extends Span>(as: readonly A[], bs: readonly B[], reach = Infinity, allowed: (a: A, b: B) => boolean = () => true) {
  let best: { from: A; to: B; distance: number } | undefined;
  for (const a of as) for (const b of bs) {
    const distance = gap(a, b);
    if (distance <= reach && allowed(a, b) && (!best || distance < best.distance)) best = { from: a, to: b, distance };
  }
  return best;
}

describe('gap', () => {
  it.each([
    { a: s(0, 5), b: s(10, 2), want: 5 },
    { a: s(10, 2), b: s(0, 5), want: 5 },
    { a: s(0, 5), b: s(5, 2), want: 0 },
    { a: s(0, 10), b: s(3, 2), want: 0 },
    { a: s(4, 0), b: s(4, 3), want: 0 },
  ])('$a.index+$a.length to $b.index+$b.length is $want', ({ a, b, want }) => {
    expect(gap(a, b)).toBe(want);
  });
});

describe('closest', () => {
  it.each([
    { name: 'nothing on one side', as: [s(0, 3, 'a')], bs: [], want: undefined },
    { name: 'one pair', as: [s(0, 3, 'a')], bs: [s(10, 2, 'b')], want: ['a', 'b', 7] },
    { name: 'a long span before reaches furthest', as: [s(50, 3, 'a')], bs: [s(0, 48, 'long'), s(40, 2, 'short'), s(70, 1, 'after')], want: ['a', 'long', 2] },
    { name: 'overlap is 0', as: [s(10, 10, 'a')], bs: [s(0, 2, 'x'), s(12, 2, 'in')], want: ['a', 'in', 0] },
    { name: 'ties go to the first a, then the first b given', as: [s(100, 2, 'late'), s(0, 2, 'early')], bs: [s(110, 1, 'b2'), s(90, 2, 'b1'), s(10, 1, 'b3')], want: ['late', 'b2', 8] },
    { name: 'after beats before', as: [s(20, 2, 'a')], bs: [s(0, 5, 'before'), s(25, 1, 'after')], want: ['a', 'after', 3] },
  ])('$name', ({ as, bs, want }) => {
    const got = closest(as, bs);
    expect(got && [got.from.name, got.to.name, got.distance]).toEqual(want);
  });

  it('agrees with comparing every pair on random spans', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let round = 0; round < 500; round++) {
      const as = Array.from({ length: rnd(6) }, (_, i) => s(rnd(300), rnd(30), `a${i}`));
      const bs = Array.from({ length: rnd(8) }, (_, i) => s(rnd(300), rnd(30), `b${i}`));
      const reach = rnd(80);
      const allowed = (a: { name: string }, b: { name: string }): boolean => (a.name.length * 7 + b.name.length + Number(a.name.slice(1)) + Number(b.name.slice(1))) % 3 !== 0;
      expect(closest(as, bs)).toEqual(everyPair(as, bs));
      expect(closestWithin(as, bs, reach, allowed)).toEqual(everyPair(as, bs, reach, allowed));
    }
  });
});

describe('closestWithin', () => {
  it.each([
    { name: 'too far', reach: 5, as: [s(0, 2, 'a')], bs: [s(10, 2, 'b')], want: undefined },
    { name: 'at the reach', reach: 8, as: [s(0, 2, 'a')], bs: [s(10, 2, 'b')], want: ['a', 'b', 8] },
    { name: 'a long span starting far before still counts', reach: 5, as: [s(100, 2, 'a')], bs: [s(0, 98, 'long')], want: ['a', 'long', 2] },
    { name: 'a refused pair is skipped for the next closest', reach: 50, as: [s(0, 2, 'a')], bs: [s(4, 1, 'no'), s(20, 1, 'yes')], want: ['a', 'yes', 18] },
  ])('$name', ({ reach, as, bs, want }) => {
    const got = closestWithin(as, bs, reach, (_a, b) => b.name !== 'no');
    expect(got && [got.from.name, got.to.name, got.distance]).toEqual(want);
  });
});
