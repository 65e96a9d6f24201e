/**
 * CSRF protection of the portal's forms (docs/portal.md, "Web pages").
 *
 * Signed-in forms (sign-out, later reply) carry the session's own random
 * `csrf_token` (portal_sessions), compared in constant time.
 *
 * The forms before sign-in (ask for a code, enter the code) have no session
 * yet. They are bound to a pre-session: a cookie with 256 random bits
 * (HttpOnly, SameSite=Strict, one hour), and a form token
 *
 *     <issued-at ms> "." base64url(HMAC-SHA-256(key, label ‖ SHA-256(cookie) ‖ link-token-hash ‖ issued-at))
 *
 * under a key derived from the master key (HKDF, info
 * `sealgate-portal-csrf-key-v1`), never stored. A form token is good only
 * with the cookie it was made for, only for the link it was made on, and
 * only for an hour. Nothing is stored server-side for it; a cross-site page
 * can neither read the cookie nor send it (SameSite=Strict), so it cannot
 * make a valid pair.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const KEY_INFO = 'sealgate-portal-csrf-key-v1';
const LABEL = 'sealgate-portal-pre-csrf-v1';
/** How long a pre-session cookie and its form tokens are good. */
export const PRE_SESSION_TTL_MS = 60 * 60_000;
/** Clock skew tolerated for a token issued "in the future" (another instance's clock). */
const FUTURE_SKEW_MS = 60_000;
/** 32 random bytes, base64url: the form of pre-session cookies, session cookies and CSRF tokens. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const FORM_TOKEN_PATTERN = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/;

/** The HMAC key of pre-session form tokens, derived from (and rotated with) the master key. */
export function derivePortalCsrfKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), KEY_INFO, 32));
}

/** Constant-time equality of two strings of any length (compared as SHA-256 digests). */
export function sameSecret(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

function mac(key: Buffer, preCookie: string, linkHash: string, issuedAt: number): Buffer {
  const cookieHash = createHash('sha256').update(preCookie, 'utf8').digest('hex');
  return createHmac('sha256', key).update(`${LABEL}\0${cookieHash}\0${linkHash}\0${issuedAt}`, 'utf8').digest();
}

/** The form token for the pre-session `preCookie` on the link whose token hash is `linkHash`. */
export function preSessionToken(key: Buffer, preCookie: string, linkHash: string, now: number): string {
  return `${now}.${mac(key, preCookie, linkHash, now).toString('base64url')}`;
}

/** Whether `formToken` was made for this cookie and link, within the last hour. Never throws. */
export function checkPreSessionToken(key: Buffer, preCookie: unknown, linkHash: string, formToken: unknown, now: number): boolean {
  if (typeof preCookie !== 'string' || !SECRET_PATTERN.test(preCookie)) return false;
  if (typeof formToken !== 'string') return false;
  const m = FORM_TOKEN_PATTERN.exec(formToken);
  if (!m) return false;
  const issuedAt = Number(m[1]);
  if (!Number.isSafeInteger(issuedAt) || issuedAt > now + FUTURE_SKEW_MS || now - issuedAt > PRE_SESSION_TTL_MS) return false;
  const given = Buffer.from(m[2] as string, 'base64url');
  const expected = mac(key, preCookie, linkHash, issuedAt);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
