/**
 * From a file's bytes to directory records: detect the format (armored or
 * binary OpenPGP, PEM or DER certificates, PKCS#7 bundles), read every key,
 * judge it for each address it is recorded under, and plan which addresses
 * each key is recorded under (pure: planImport).
 */
import { SealgateError } from '../errors.js';
import { normalizeAddress, sameAddress, tryNormalizeAddress } from './address.js';
import { inspectPgpKey, looksArmoredPgp, looksBinaryPgp, readPgpKeys, type PgpKeyInfo } from './openpgp.js';
import { pgpVerdict } from './pgp-verdict.js';
import { inspectCertificate, looksPemCertificates, readCertificates, type SmimeCertInfo } from './smime.js';
import { smimeVerdict } from './smime-verdict.js';
import { MAX_REQUESTS_PER_FILE, withRequestLimit, type RevocationDeps } from './revocation.js';
import { revocationDetails } from './revocation-record.js';
import type { KeyRecord, KeySource, Verdict } from './types.js';
import type * as pkijs from 'pkijs';

/** A key file larger than this is not a key file. */
export const MAX_KEY_FILE_BYTES = 10 * 1024 * 1024;

export type KeyCandidate = { readonly kind: 'pgp'; readonly info: PgpKeyInfo } | { readonly kind: 'smime'; readonly info: SmimeCertInfo };

function invalidFile(message: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_FILE_INVALID', { message, cause });
}

/** Trust roots, or a loader called only when the file holds certificates. */
export type RootsInput = readonly pkijs.Certificate[] | (() => Promise<readonly pkijs.Certificate[]>);

/** Every key and certificate in the file, with the facts at `now`; with `revocation`, certificates' OCSP / CRL status is asked. */
export async function readKeyFile(bytes: Buffer, rootsInput: RootsInput, now: number, revocation?: RevocationDeps): Promise<KeyCandidate[]> {
  if (bytes.length > MAX_KEY_FILE_BYTES) throw invalidFile(`the file is larger than ${MAX_KEY_FILE_BYTES} bytes: not a key file`);
  const text = bytes.toString('latin1');
  if (looksArmoredPgp(text) || (looksBinaryPgp(bytes) && !looksPemCertificates(text))) {
    let keys;
    try {
      keys = looksArmoredPgp(text) ? await readPgpKeys({ text }) : await readPgpKeys({ bytes });
    } catch (err) {
      throw invalidFile(`the OpenPGP data does not parse (${err instanceof Error ? err.message : 'error'})`, err);
    }
    const out: KeyCandidate[] = [];
    for (const k of keys) out.push({ kind: 'pgp', info: await inspectPgpKey(k, now) });
    return out;
  }
  const certs = looksPemCertificates(text) ? readCertificates({ text }) : bytes[0] === 0x30 ? readCertificates({ bytes }) : [];
  if (certs.length === 0) throw invalidFile('no OpenPGP key, certificate or PKCS#7 bundle found in the file');
  const roots = typeof rootsInput === 'function' ? await rootsInput() : rootsInput;
  const checks = revocation ? withRequestLimit(revocation, MAX_REQUESTS_PER_FILE) : undefined;
  const out: KeyCandidate[] = [];
  for (const c of certs) {
    out.push({
      kind: 'smime',
      info: await inspectCertificate(
        c,
        certs.filter((o) => o !== c),
        roots,
        now,
        checks,
      ),
    });
  }
  return out;
}

export function verdictFor(c: KeyCandidate, address: string, now: number): Verdict {
  return c.kind === 'pgp' ? pgpVerdict(c.info.facts, address, now) : smimeVerdict(c.info.facts, address, now);
}

export type ImportPlanItem =
  | { readonly candidate: KeyCandidate; readonly addresses: readonly string[] }
  | { readonly candidate: KeyCandidate; readonly skipped: 'no-address' | 'address-not-named' | 'ca-certificate' };

export const SKIP_TEXT = {
  'no-address': 'names no e-mail address; import it with --email ADDR',
  'address-not-named': 'does not name the --email address',
  'ca-certificate': 'a CA certificate (used only as an intermediate)',
} as const;

/**
 * Which addresses each key is recorded under: with `email`, that address for
 * the keys that name it; without, every distinct address the key names.
 */
export function planImport(candidates: readonly KeyCandidate[], email?: string): ImportPlanItem[] {
  const wanted = email === undefined ? undefined : normalizeAddress(email);
  return candidates.map((candidate): ImportPlanItem => {
    if (candidate.kind === 'smime' && candidate.info.isCa) return { candidate, skipped: 'ca-certificate' };
    const named = candidate.info.emails;
    if (wanted !== undefined) return named.some((e) => sameAddress(e, wanted)) ? { candidate, addresses: [wanted] } : { candidate, skipped: 'address-not-named' };
    const addresses = [...new Set(named.map(tryNormalizeAddress).filter((a): a is string => a !== undefined))];
    return addresses.length > 0 ? { candidate, addresses } : { candidate, skipped: 'no-address' };
  });
}

/** The directory row for one key and one address. */
export function recordFor(c: KeyCandidate, address: string, source: KeySource, now: number): KeyRecord {
  const verdict = verdictFor(c, address, now);
  const common = { fingerprint: c.info.fingerprint, address, source, algorithm: c.info.algorithm, valid: verdict.valid, reason: verdict.reason, importedAt: now, checkedAt: now };
  if (c.kind === 'pgp') {
    const i = c.info;
    return { ...common, kind: 'pgp', createdAt: i.createdAt, expiresAt: i.expiresAt, revoked: i.revoked, material: i.armored, details: { emails: i.emails, userIds: i.userIds, encryptionKey: i.facts.encryptionKey, revocation: 'checked' } };
  }
  const i = c.info;
  return {
    ...common,
    kind: 'smime',
    createdAt: i.facts.notBefore,
    expiresAt: i.facts.notAfter,
    revoked: i.facts.revoked ?? null,
    material: i.pem,
    details: { emails: i.emails, subject: i.subject, issuer: i.issuer, serialNumber: i.serialNumber, keyUsage: i.facts.keyUsage, extendedKeyUsage: i.facts.extendedKeyUsage, ...revocationDetails(i.revocation) },
  };
}

/** The stored verdict as it stands at `now`: a key that was valid but has since expired is not. */
export function currentVerdict(r: Pick<KeyRecord, 'valid' | 'reason' | 'expiresAt'>, now: number): Verdict {
  if (r.valid && r.expiresAt !== null && r.expiresAt <= now) return { valid: false, reason: 'expired' };
  return { valid: r.valid, reason: r.reason };
}
