/**
 * The OpenPGP verdict: pure, from facts gathered at `now` (openpgp.ts). The
 * first rule that fails names the reason; the order is the one an operator
 * fixes things in (a revoked key needs no further thought).
 */
import { sameAddress } from './address.js';
import { invalid, VALID, type Verdict } from './types.js';

export interface PgpFacts {
  /** A valid key revocation signature is present. */
  readonly revoked: boolean;
  readonly createdAt: number;
  /** ms since epoch; null: never expires. */
  readonly expiresAt: number | null;
  /** verifyPrimaryKey's complaint other than expiry or revocation (no valid self-signature …), null when it passed. */
  readonly selfSignatureError: string | null;
  /** Fingerprint of the (sub)key getEncryptionKey chose at `now`, null when there is none. */
  readonly encryptionKey: string | null;
  /** E-mail addresses of user IDs with a valid, unrevoked self-certification at `now`. */
  readonly validEmails: readonly string[];
}

export function pgpVerdict(facts: PgpFacts, address: string, now: number): Verdict {
  if (facts.revoked) return invalid('revoked');
  if (facts.createdAt > now) return invalid('not-yet-valid');
  if (facts.expiresAt !== null && facts.expiresAt <= now) return invalid('expired');
  if (facts.selfSignatureError !== null) return invalid('bad-self-signature');
  if (facts.encryptionKey === null) return invalid('no-encryption-key');
  if (!facts.validEmails.some((e) => sameAddress(e, address))) return invalid('address-mismatch');
  return VALID;
}
