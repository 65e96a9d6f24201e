import { describe, expect, it } from 'vitest';
import { stateAfterAction, type QueueAction, type RecipientState } from '../../src/queue/states.js';

describe('stateAfterAction', () => {
  it.each<[QueueAction, RecipientState, number, RecipientState]>([
    ['hold', 'queued', 0, 'held'],
    ['hold', 'deferred', 2, 'held'],
    ['hold', 'in-flight', 1, 'in-flight'],
    ['hold', 'delivered', 1, 'delivered'],
    ['release', 'held', 0, 'queued'],
    ['release', 'held', 3, 'deferred'],
    ['release', 'deferred', 3, 'deferred'],
    ['retry', 'deferred', 2, 'deferred'],
    ['retry', 'queued', 0, 'queued'],
    ['retry', 'held', 0, 'held'],
    ['bounce', 'held', 0, 'bounced'],
    ['bounce', 'deferred', 4, 'bounced'],
    ['bounce', 'in-flight', 1, 'in-flight'],
    ['bounce', 'expired', 9, 'expired'],
  ])('%s on %s (attempts %i) → %s', (action, state, attempts, expected) => {
    expect(stateAfterAction(action, state, attempts)).toBe(expected);
  });
});
