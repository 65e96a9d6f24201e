/** The pure parts of keeping finished messages: the outcome word and the prune interval. */
import { describe, expect, it } from 'vitest';
import { finishedOutcome } from '../../src/queue/finished.js';
import { pruneIntervalMs } from '../../src/queue/finished-pruner.js';

describe('finishedOutcome', () => {
  it.each<[string[], string]>([
    [['delivered'], 'delivered'],
    [['bounced', 'bounced'], 'bounced'],
    [['expired'], 'expired'],
    [['delivered', 'bounced'], 'mixed'],
    [[], 'mixed'],
  ])('%j → %s', (states, outcome) => expect(finishedOutcome(states)).toBe(outcome));
});

describe('pruneIntervalMs', () => {
  it.each<[number, number]>([
    [7 * 86_400_000, 3_600_000], // the default: hourly
    [3_600_000, 900_000], // a quarter of a short keepFinished
    [2000, 1000], // never more often than every second
    [0, 1000],
  ])('keepFinished %i ms → every %i ms', (keep, interval) => expect(pruneIntervalMs(keep)).toBe(interval));
});
