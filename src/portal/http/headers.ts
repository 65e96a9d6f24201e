/**
 * The security headers of every portal response (pure). The pages need no
 * script at all, so the Content-Security-Policy allows none; styles only
 * from our own stylesheet (no inline styles either), forms only to
 * ourselves, no framing, no <base>. Images: our own origin and data: URIs
 * (embedded cid: images of the message, which load nothing); the logo's
 * https origin when a logo is configured; and `https:` only in a response
 * whose reader asked to see the message's remote images. The passkey pages
 * alone (the passkey set-up page, and the sign-in page of a recipient who
 * has a passkey) may run our own same-origin script and fetch from our own
 * origin; every other response allows no script at all.
 */

export interface CspOptions {
  /** The reader chose "Show images": allow https images for this response. */
  readonly remoteImages?: boolean;
  /** Origin of the branding logo (https only), allowed as an image source. */
  readonly logoOrigin?: string | undefined;
  /** A passkey page: script-src and connect-src 'self' (no inline script, no eval). */
  readonly script?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const img = ["'self'", 'data:'];
  if (options.remoteImages) img.push('https:');
  else if (options.logoOrigin) img.push(options.logoOrigin);
  return [
    "default-src 'none'",
    "style-src 'self'",
    `img-src ${img.join(' ')}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ...(options.script ? ["script-src 'self'", "connect-src 'self'", "require-trusted-types-for 'script'", "trusted-types 'none'"] : []),
  ].join('; ');
}

/** Downloads: nothing in them may run or load anything, even if a browser rendered one. */
export const DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

/** Headers set on every response (the CSP is set separately: it differs per response). */
export function securityHeaders(https: boolean): Record<string, string> {
  return {
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'x-robots-tag': 'noindex, nofollow',
    ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/** The https origin of a logo URL, for the CSP; undefined for anything else. */
export function logoOriginOf(logo: string | undefined): string | undefined {
  if (logo === undefined) return undefined;
  try {
    const url = new URL(logo);
    return url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
