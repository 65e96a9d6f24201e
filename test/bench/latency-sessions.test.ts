/**
 * How many sessions the latency part's paced client uses (bench/latency.ts):
 * enough that no session is asked for more than 40 messages a second (each
 * message is three round trips and a 250 after an fsync), at least four;
 * BENCH_LATENCY_SESSIONS overrides it.
 */
import { describe, expect, it } from 'vitest';
import { latencySessions } from '../../bench/latency.js';

describe('latency part sessions', () => {
  it.each<[string, number, string | undefined, number]>([
    ['a slow pace: the four of before', 100, undefined, 4],
    ['160 msg/s: four, 40 each', 160, undefined, 4],
    ['just over: a fifth', 161, undefined, 5],
    ['half of a 498 msg/s relay', 249, undefined, 7],
    ['half of a 1 000 msg/s relay', 500, undefined, 13],
    ['set by BENCH_LATENCY_SESSIONS', 249, '4', 4],
    ['an empty setting is not set', 249, '', 7],
  ])('%s', (_name, rate, set, want) => {
    expect(latencySessions(rate, set === undefined ? {} : { BENCH_LATENCY_SESSIONS: set })).toBe(want);
  });
});
