/**
 * Zero-knowledge links (`portal.linkKey: true`, docs/portal.md): part of
 * what opens a portal copy lives only in each recipient's link, after the
 * `#` — a URL fragment, which browsers never send in a request and which
 * the gateway never stores.
 *
 *   - The copy's data key DK (random, encrypts the object) is stored only
 *     sealed per recipient, under KEK_r = HKDF-SHA-256(S ‖ F_r), where S is
 *     a random server part kept wrapped by the master key (like any data
 *     key) and F_r is the recipient's random fragment (256 bits, base64url).
 *   - With the database, the object store and the master key, S is known
 *     but no F_r: DK cannot be derived. With a link, only that recipient's
 *     KEK is derivable. Shredding destroys S, and with it every KEK.
 *
 * Pure functions; randomness is the caller's.
 */
import { hkdfSync } from 'node:crypto';

/** Bytes of a link fragment (256 bits). */
export const LINK_FRAGMENT_BYTES = 32;
/** base64url without padding of LINK_FRAGMENT_BYTES bytes. */
export const LINK_FRAGMENT_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const INFO = 'sealgate-portal-link-v1';

/** A fragment as issued: 43 base64url characters in their one canonical spelling (the last one's spare bits zero). */
export function isLinkFragment(value: unknown): value is string {
  return typeof value === 'string' && LINK_FRAGMENT_PATTERN.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;
}

/** KEK of one recipient's sealed data key: HKDF-SHA-256 over the server part and the fragment, bound to the deposit and the recipient. */
export function linkKek(serverPart: Buffer, fragment: string, depositId: string, seq: number): Buffer {
  if (!isLinkFragment(fragment)) throw new RangeError('a link fragment is 43 base64url characters');
  const ikm = Buffer.concat([serverPart, Buffer.from(fragment, 'base64url')]);
  try {
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(depositId, 'utf8'), Buffer.from(`${INFO}\0${seq}`, 'utf8'), 32));
  } finally {
    ikm.fill(0);
  }
}

/** AAD of a recipient's sealed data key. */
export function linkSealAad(depositId: string, seq: number): Buffer {
  return Buffer.from(`${INFO}\0${depositId}\0${seq}`, 'utf8');
}
