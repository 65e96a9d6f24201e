/**
 * The key directory's vocabulary: what a recipient key record holds and the
 * closed set of reasons a key is or is not usable. Records hold public
 * material only (an armored OpenPGP public key or a PEM certificate).
 */

export const KEY_KINDS = ['pgp', 'smime'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** Where a key came from: an operator's import, or discovery (later). */
export const KEY_SOURCES = ['admin', 'wkd', 'keyserver', 'dns'] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

/** Why a key is (not) usable for an address; stable codes, stored and printed. */
export const KEY_REASONS = {
  valid: 'usable for this address',
  revoked: 'the key is revoked',
  expired: 'the key or certificate has expired',
  'not-yet-valid': 'the key or certificate is not valid yet',
  'bad-self-signature': 'no valid self-signature or binding signature',
  'no-encryption-key': 'no usable encryption-capable key or subkey',
  'address-mismatch': 'no user ID or certificate address matches the address',
  untrusted: 'the certificate does not chain to a trusted root',
  'key-usage': 'key usage forbids encryption (keyEncipherment for RSA, keyAgreement for EC)',
  'extended-key-usage': 'extended key usage lacks emailProtection',
  'unsupported-key': 'the public key algorithm cannot be used for S/MIME encryption',
} as const;
export type KeyReason = keyof typeof KEY_REASONS;

export interface Verdict {
  readonly valid: boolean;
  readonly reason: KeyReason;
}

export const VALID: Verdict = { valid: true, reason: 'valid' };

export function invalid(reason: Exclude<KeyReason, 'valid'>): Verdict {
  return { valid: false, reason };
}

/** Facts shown by `keys show`; kind-specific fields are absent for the other kind. */
export interface KeyDetails {
  /** Every e-mail address the key names (UIDs, SAN rfc822Name, subject emailAddress). */
  readonly emails: readonly string[];
  /** OpenPGP: the user IDs as written. */
  readonly userIds?: readonly string[];
  /** OpenPGP: the subkey usable for encryption at check time. */
  readonly encryptionKey?: string | null;
  /** S/MIME: subject and issuer distinguished names. */
  readonly subject?: string;
  readonly issuer?: string;
  readonly serialNumber?: string;
  /** S/MIME: key usage names, null when the extension is absent. */
  readonly keyUsage?: readonly string[] | null;
  /** S/MIME: extended key usage OIDs, null when the extension is absent. */
  readonly extendedKeyUsage?: readonly string[] | null;
  /**
   * S/MIME from a DNS SMIMEA record: its certificate usage. `dane-ee`: the
   * DNSSEC-signed record is the trust (no CA chain needed); `pkix-ee`: the
   * certificate also chains to keys.smimeTrustRoots.
   */
  readonly smimea?: 'pkix-ee' | 'dane-ee';
  /** Revocation: OpenPGP revocation signatures are always checked; S/MIME when an OCSP or CRL answer was verified. */
  readonly revocation: 'checked' | 'not checked';
  /** S/MIME, checked: how the answer came. */
  readonly revocationMethod?: 'ocsp' | 'crl';
  /** S/MIME, checked: when (ms since epoch). */
  readonly revocationCheckedAt?: number;
  /** S/MIME, not checked: why (no responder named, responder down, bad signature, stale answer …). */
  readonly revocationNote?: string;
}

/** One row of the directory: one key for one address. */
export interface KeyRecord {
  /** Lower-case hex: the OpenPGP fingerprint, or SHA-256 of the certificate's DER. */
  readonly fingerprint: string;
  readonly kind: KeyKind;
  /** Local part as written, domain lower case. */
  readonly address: string;
  readonly source: KeySource;
  readonly algorithm: string;
  /** ms since epoch: OpenPGP creation time, S/MIME notBefore. */
  readonly createdAt: number;
  /** ms since epoch; null: never expires. */
  readonly expiresAt: number | null;
  /** null: not checked (S/MIME without a verified CRL or OCSP answer). */
  readonly revoked: boolean | null;
  readonly valid: boolean;
  readonly reason: KeyReason;
  readonly details: KeyDetails;
  /** Armored OpenPGP public key or PEM certificate. */
  readonly material: string;
  readonly importedAt: number;
  /** When the verdict was computed (ms since epoch). */
  readonly checkedAt: number;
}
