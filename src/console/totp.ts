/**
 * Time-based one-time codes (RFC 6238) for console sign-in, through the
 * `otpauth` library: SHA-1, 6 digits, 30-second steps — what Google
 * Authenticator, Microsoft Authenticator, FreeOTP and 1Password take from
 * an `otpauth://` URI. A code is accepted for the current step and one step
 * either side (clock drift), and only for a step later than the last one
 * accepted for that user, so a code seen over a shoulder or in a log cannot
 * be used again.
 */
import { Secret, TOTP } from 'otpauth';

const PERIOD_S = 30;
const DIGITS = 6;
/** Bytes of a new secret (160 bits, RFC 4226's recommendation). */
const SECRET_BYTES = 20;

export function newTotpSecret(random: (n: number) => Buffer): Buffer {
  return random(SECRET_BYTES);
}

function totp(secret: Buffer, label: string, issuer: string): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S, secret: new Secret({ buffer: Uint8Array.from(secret).buffer }) });
}

/** The `otpauth://totp/…` URI an authenticator app imports (shown once: it holds the secret). */
export function totpUri(secret: Buffer, name: string, issuer: string): string {
  return totp(secret, name, issuer).toString();
}

/** The 30-second step a time falls in. */
export function totpStep(now: number): number {
  return Math.floor(now / 1000 / PERIOD_S);
}

/**
 * The step `code` is valid for at `now` (current step ± 1), if it is later
 * than `lastStep`; undefined otherwise. Only 6 ASCII digits are considered.
 */
export function acceptTotp(secret: Buffer, code: string, now: number, lastStep: number): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totp(secret, 'x', 'x').validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  const step = totpStep(now) + delta;
  return step > lastStep ? step : undefined;
}

/** The code for `now` (tests and the enrolment check). */
export function totpCode(secret: Buffer, now: number): string {
  return totp(secret, 'x', 'x').generate({ timestamp: now });
}
