/**
 * The S/MIME certificate verdict: pure, from facts read from the certificate
 * and the chain check (smime.ts). Revocation comes in as a fact too: only a
 * verified OCSP or CRL answer "revoked" (revocation.ts) makes the
 * certificate invalid; without an answer it is judged on the rest.
 */
import { sameAddress } from './address.js';
import { invalid, VALID, type Verdict } from './types.js';

export const OID_EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

export interface SmimeFacts {
  readonly notBefore: number;
  readonly notAfter: number;
  /** SAN rfc822Name and subject emailAddress values. */
  readonly emails: readonly string[];
  /** 'rsa', 'ec' (any named curve), or 'other' (DSA, Ed25519 …: not usable for CMS encryption here). */
  readonly keyType: 'rsa' | 'ec' | 'other';
  /** Key usage names (RFC 5280 4.2.1.3); null when the extension is absent. */
  readonly keyUsage: readonly string[] | null;
  /** Extended key usage OIDs; null when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | null;
  /** The chain to a trust root verified at `now`. */
  readonly chainTrusted: boolean;
  /** A verified OCSP / CRL answer: true revoked, false not revoked; null or absent: not checked. */
  readonly revoked?: boolean | null;
}

export function smimeVerdict(facts: SmimeFacts, address: string, now: number): Verdict {
  if (facts.revoked === true) return invalid('revoked');
  if (facts.notBefore > now) return invalid('not-yet-valid');
  if (facts.notAfter < now) return invalid('expired');
  if (!facts.chainTrusted) return invalid('untrusted');
  if (facts.keyType === 'other') return invalid('unsupported-key');
  if (!facts.emails.some((e) => sameAddress(e, address))) return invalid('address-mismatch');
  if (facts.keyUsage !== null) {
    const needed = facts.keyType === 'rsa' ? 'keyEncipherment' : 'keyAgreement';
    if (!facts.keyUsage.includes(needed)) return invalid('key-usage');
  }
  if (facts.extendedKeyUsage !== null && !facts.extendedKeyUsage.some((o) => o === OID_EMAIL_PROTECTION || o === OID_ANY_EXTENDED_KEY_USAGE)) {
    return invalid('extended-key-usage');
  }
  return VALID;
}
