/**
 * Sign-in lockout with backoff (pure): the first FREE_FAILURES failed
 * sign-ins of a console user cost nothing but the argon2 time; after that
 * each failure locks the name for twice as long as the one before, from
 * one minute up to an hour. A success resets the count.
 */
export const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 60_000;
const MAX_LOCK_MS = 3_600_000;

/** How long the name is locked after its `failures`-th failure in a row (0: not locked). */
export function lockFor(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  const doublings = Math.min(failures - FREE_FAILURES, 16);
  return Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** doublings);
}
