/**
 * A CRL (RFC 5280 section 5) about one certificate: it counts only when the
 * issuer's key signed it, it names the same issuer, and it is current
 * (thisUpdate not in the future, nextUpdate not passed; a CRL without
 * nextUpdate is taken as current for MAX_CRL_AGE_MS). Delta and indirect
 * CRLs are not handled (their certificates fall back to "not checked").
 */
import * as pkijs from 'pkijs';
import { pkijsEngine } from '../crypto/x509-oids.js';
import { staleness, type RevocationAnswer } from './revocation-ocsp.js';

export const MAX_CRL_AGE_MS = 7 * 86_400_000;

export async function judgeCrl(der: Buffer, leaf: pkijs.Certificate, issuer: pkijs.Certificate, now: number): Promise<RevocationAnswer> {
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(der);
  } catch {
    return { status: 'failed', detail: 'the CRL is not DER' };
  }
  if (!crl.issuer.isEqual(leaf.issuer)) return { status: 'failed', detail: 'the CRL is from another issuer' };
  let signed = false;
  try {
    signed = await crl.verify({ issuerCertificate: issuer }, pkijsEngine);
  } catch {
    signed = false;
  }
  if (!signed) return { status: 'failed', detail: 'the CRL is not signed by the issuer' };
  const stale = staleness(crl.thisUpdate.value.getTime(), crl.nextUpdate?.value.getTime(), now, MAX_CRL_AGE_MS);
  if (stale !== undefined) return { status: 'failed', detail: `the CRL is ${stale}` };
  return { status: crl.isCertificateRevoked(leaf) ? 'revoked' : 'good' };
}
