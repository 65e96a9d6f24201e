/**
 * Revocation in the key directory: the record's fields for a status, when a
 * stored S/MIME record is due for a fresh check, and the re-check itself
 * (`recheckRevocation`, for the delivery key lookup to call before using a
 * certificate). A re-check that gets no answer keeps the last verified
 * status; a verified "revoked" makes the record invalid for good.
 */
import type * as pkijs from 'pkijs';
import { checkRevocation, type RevocationDeps, type RevocationStatus } from './revocation.js';
import { findIssuer } from './revocation-sources.js';
import { readCertificates } from './smime.js';
import type { KeyDetails, KeyRecord } from './types.js';

type RevocationFields = Pick<KeyDetails, 'revocation' | 'revocationMethod' | 'revocationCheckedAt' | 'revocationNote'>;

export function revocationDetails(s: RevocationStatus): RevocationFields {
  if (s.state === 'not-checked') return { revocation: 'not checked', revocationNote: s.detail };
  return { revocation: 'checked', revocationMethod: s.method, revocationCheckedAt: s.checkedAt };
}

/** An S/MIME record whose last check (verified or not) is `maxAgeMs` old; a revoked one never is (revocation is final). */
export function revocationDue(r: Pick<KeyRecord, 'kind' | 'revoked' | 'checkedAt'>, now: number, maxAgeMs: number): boolean {
  return r.kind === 'smime' && r.revoked !== true && now - r.checkedAt >= maxAgeMs;
}

export interface RecheckDeps extends RevocationDeps {
  /** keys.revocation.maxAge. */
  readonly maxAgeMs: number;
  /** Where the issuer is looked for: the trust roots (and any known intermediates). The record holds only the leaf. */
  readonly issuers: readonly pkijs.Certificate[];
}

/** The record to store after a re-check, or the record itself when none is due. */
export async function recheckRevocation(record: KeyRecord, deps: RecheckDeps): Promise<KeyRecord> {
  const now = deps.now();
  if (!revocationDue(record, now, deps.maxAgeMs)) return record;
  const leaf = readCertificates({ text: record.material })[0];
  const issuer = leaf ? await findIssuer(leaf.cert, deps.issuers) : undefined;
  const status: RevocationStatus = leaf && issuer ? await checkRevocation(leaf.cert, issuer, deps) : { state: 'not-checked', detail: 'the issuer certificate is not among the trust roots' };
  if (status.state !== 'not-checked') {
    const details = { ...stripNote(record.details), ...revocationDetails(status) };
    return status.state === 'revoked' ? { ...record, revoked: true, valid: false, reason: 'revoked', checkedAt: now, details } : { ...record, revoked: false, checkedAt: now, details };
  }
  // no answer now: keep what was last verified, note why, and wait maxAge before asking again
  return { ...record, checkedAt: now, details: { ...record.details, revocationNote: status.detail } };
}

function stripNote(d: KeyDetails): KeyDetails {
  const { revocationNote: _n, ...rest } = d;
  return rest;
}
