import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyReply, DEFAULT_RETRY_POLICY, outcomeAfterAttempt, type AttemptResult, type RecipientOutcome, type ReplyClass } from '../../src/queue/retry-policy.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

describe('backoffDelay (default policy: 5m, 10m, 20m, 40m, 1h, 2h, 4h, 4h …)', () => {
  it.each<[number, number]>([
    [1, 5 * M],
    [2, 10 * M],
    [3, 20 * M],
    [4, 40 * M],
    [5, 1 * H],
    [6, 2 * H],
    [7, 4 * H],
    [8, 4 * H],
    [50, 4 * H],
    [0, 5 * M],
  ])('after %i failed attempts waits %i ms', (attempts, delay) => {
    expect(backoffDelay(DEFAULT_RETRY_POLICY, attempts)).toBe(delay);
  });

  it('refuses a policy without steps', () => {
    expect(() => backoffDelay({ backoffMs: [], maxLifetimeMs: D }, 1)).toThrow(RangeError);
  });
});

describe('classifyReply', () => {
  it.each<[number | undefined, ReplyClass]>([
    [250, 'success'],
    [251, 'success'],
    [421, 'temporary'],
    [450, 'temporary'],
    [452, 'temporary'],
    [550, 'permanent'],
    [554, 'permanent'],
    [undefined, 'temporary'],
    [300, 'temporary'],
    [999, 'temporary'],
  ])('%s → %s', (code, expected) => {
    expect(classifyReply(code)).toBe(expected);
  });
});

describe('outcomeAfterAttempt', () => {
  const t0 = Date.UTC(2026, 10, 24);
  it.each<[string, AttemptResult, RecipientOutcome]>([
    ['success delivers', { replyClass: 'success', attempts: 3, createdAt: t0, now: t0 + H }, { state: 'delivered' }],
    ['5xx bounces at once', { replyClass: 'permanent', attempts: 1, createdAt: t0, now: t0 }, { state: 'bounced', reason: 'permanent' }],
    ['first 4xx defers 5 minutes', { replyClass: 'temporary', attempts: 1, createdAt: t0, now: t0 }, { state: 'deferred', nextAttempt: t0 + 5 * M }],
    ['third 4xx defers 20 minutes', { replyClass: 'temporary', attempts: 3, createdAt: t0, now: t0 + H }, { state: 'deferred', nextAttempt: t0 + H + 20 * M }],
    ['last retry is made at the lifetime deadline', { replyClass: 'temporary', attempts: 30, createdAt: t0, now: t0 + 5 * D - H }, { state: 'deferred', nextAttempt: t0 + 5 * D }],
    ['failure at the deadline expires', { replyClass: 'temporary', attempts: 31, createdAt: t0, now: t0 + 5 * D }, { state: 'expired', reason: 'lifetime' }],
    ['5xx after the deadline is still a bounce', { replyClass: 'permanent', attempts: 31, createdAt: t0, now: t0 + 6 * D }, { state: 'bounced', reason: 'permanent' }],
  ])('%s', (_name, result, expected) => {
    expect(outcomeAfterAttempt(DEFAULT_RETRY_POLICY, result)).toEqual(expected);
  });
});
