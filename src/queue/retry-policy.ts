/**
 * What happens to a recipient after a delivery attempt: pure functions of the
 * attempt's outcome, the attempt count, the message's age and the configured
 * policy. No clock, no I/O: the scheduler passes `now` in and stores the
 * result in SQLite.
 */

export interface RetryPolicy {
  /** Delay after the 1st, 2nd, … failed attempt; the last one repeats. */
  readonly backoffMs: readonly number[];
  /** A recipient still undelivered this long after the message arrived bounces. */
  readonly maxLifetimeMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  backoffMs: [5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 40 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR],
  maxLifetimeMs: 5 * 24 * HOUR,
};

/** Delay before the next attempt after `failedAttempts` (≥ 1) failures. */
export function backoffDelay(policy: RetryPolicy, failedAttempts: number): number {
  const { backoffMs } = policy;
  if (backoffMs.length === 0) throw new RangeError('retry policy has no backoff steps');
  const index = Math.min(Math.max(failedAttempts, 1), backoffMs.length) - 1;
  return backoffMs[index] ?? backoffMs[backoffMs.length - 1] ?? 0;
}

/** How a remote SMTP reply (or a network failure) classifies. */
export type ReplyClass = 'success' | 'temporary' | 'permanent';

export function classifyReply(code: number | undefined): ReplyClass {
  if (code === undefined) return 'temporary'; // connection refused, timeout, TLS failure …
  if (code >= 200 && code < 300) return 'success';
  if (code >= 500 && code < 600) return 'permanent';
  return 'temporary';
}

export type RecipientOutcome =
  | { readonly state: 'delivered' }
  | { readonly state: 'deferred'; readonly nextAttempt: number }
  | { readonly state: 'bounced'; readonly reason: 'permanent' }
  | { readonly state: 'expired'; readonly reason: 'lifetime' };

export interface AttemptResult {
  readonly replyClass: ReplyClass;
  /** Attempts made so far, including this one. */
  readonly attempts: number;
  /** When the message was queued (ms). */
  readonly createdAt: number;
  readonly now: number;
}

/**
 * The recipient's next state. A temporary failure is retried after the
 * backoff, but never later than the end of the lifetime: the last attempt is
 * made at the deadline, and a failure at or after it expires the recipient.
 */
export function outcomeAfterAttempt(policy: RetryPolicy, result: AttemptResult): RecipientOutcome {
  if (result.replyClass === 'success') return { state: 'delivered' };
  if (result.replyClass === 'permanent') return { state: 'bounced', reason: 'permanent' };
  const deadline = result.createdAt + policy.maxLifetimeMs;
  if (result.now >= deadline) return { state: 'expired', reason: 'lifetime' };
  return { state: 'deferred', nextAttempt: Math.min(result.now + backoffDelay(policy, result.attempts), deadline) };
}
