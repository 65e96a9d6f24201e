/**
 * CSRF tokens of the console's forms (pure).
 *
 * Signed-in forms carry a token derived from the session cookie's value:
 * SHA-256 over a label and the value. The server recomputes it from the
 * cookie on each POST; a cross-site page can neither read the cookie (it is
 * HttpOnly) nor send it (SameSite=Strict), so it cannot make the pair.
 *
 * The sign-in form has no session yet: it is bound the same way to a
 * pre-session cookie (random, HttpOnly, SameSite=Strict), so another site
 * cannot sign a browser in under someone else's name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const SESSION_LABEL = 'sealgate-console-csrf-v1';
const PRE_LABEL = 'sealgate-console-pre-csrf-v1';

function derive(label: string, cookieValue: string): string {
  return createHash('sha256').update(`${label}\0${cookieValue}`, 'utf8').digest('base64url');
}

export function sessionCsrfToken(cookieValue: string): string {
  return derive(SESSION_LABEL, cookieValue);
}

export function preCsrfToken(preCookie: string): string {
  return derive(PRE_LABEL, preCookie);
}

/** Constant-time comparison of a submitted token with the expected one. Never throws. */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}
