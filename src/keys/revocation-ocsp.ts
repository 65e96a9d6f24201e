/**
 * OCSP (RFC 6960) for one certificate: the request (one SHA-1 CertID, as
 * responders expect; RFC 5019 profile, unsigned, no nonce: most CA
 * responders serve pre-signed answers and ignore nonces) and the judgement
 * of the answer. The answer counts only when its signature verifies with the
 * issuer's key or with a delegated responder certificate the issuer signed
 * for id-kp-OCSPSigning (4.2.2.2), it is about this certificate (CertID
 * match) and it is current (thisUpdate / nextUpdate, 4.2.2.1).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID_EXT_KEY_USAGE, pkijsEngine } from '../crypto/x509-oids.js';
import { OID_KP_OCSP_SIGNING } from './revocation-sources.js';

const engine = pkijsEngine;

export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
/** Clock difference tolerated between us and the responder. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** An answer without nextUpdate is taken as current this long after thisUpdate. */
export const MAX_OCSP_AGE_MS = 7 * 86_400_000;

/** What one answer (OCSP or CRL) says; 'failed' never fails the certificate (soft-fail). */
export type RevocationAnswer = { readonly status: 'good' | 'revoked' } | { readonly status: 'failed'; readonly detail: string };

const RESPONSE_STATUS: Record<number, string> = { 1: 'malformedRequest', 2: 'internalError', 3: 'tryLater', 5: 'sigRequired', 6: 'unauthorized' };

/** The DER OCSP request for `leaf` issued by `issuer`. */
export async function ocspRequestDer(leaf: pkijs.Certificate, issuer: pkijs.Certificate): Promise<Buffer> {
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(leaf, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer }, engine);
  return Buffer.from(req.toSchema(true).toBER());
}

/** thisUpdate / nextUpdate against `now` (RFC 6960 4.2.2.1, RFC 5280 5.1.2.5); a reason when not current. */
export function staleness(thisUpdate: number, nextUpdate: number | undefined, now: number, maxAgeWithoutNext: number): string | undefined {
  if (thisUpdate > now + CLOCK_SKEW_MS) return 'issued in the future (clock difference)';
  if (nextUpdate !== undefined && nextUpdate + CLOCK_SKEW_MS < now) return `stale: its nextUpdate ${new Date(nextUpdate).toISOString()} has passed`;
  if (nextUpdate === undefined && thisUpdate + maxAgeWithoutNext < now) return `stale: issued ${new Date(thisUpdate).toISOString()} without nextUpdate`;
  return undefined;
}

function validAt(c: pkijs.Certificate, now: number): boolean {
  return c.notBefore.value.getTime() <= now && now <= c.notAfter.value.getTime();
}

/** The issuer itself, or a certificate it issued for OCSP signing (RFC 6960 4.2.2.2). */
async function authorisedSigners(basic: pkijs.BasicOCSPResponse, issuer: pkijs.Certificate, now: number): Promise<pkijs.Certificate[]> {
  const out = [issuer];
  for (const c of (basic.certs ?? []).slice(0, 4)) {
    const eku = c.extensions?.find((e) => e.extnID === OID_EXT_KEY_USAGE)?.parsedValue as pkijs.ExtKeyUsage | undefined;
    if (!eku?.keyPurposes.includes(OID_KP_OCSP_SIGNING) || !c.issuer.isEqual(issuer.subject) || !validAt(c, now)) continue;
    try {
      if (await c.verify(issuer, engine)) out.push(c);
    } catch {
      // not issued by the issuer
    }
  }
  return out;
}

async function signedByAuthorised(basic: pkijs.BasicOCSPResponse, issuer: pkijs.Certificate, now: number): Promise<boolean> {
  for (const signer of await authorisedSigners(basic, issuer, now)) {
    try {
      if (await engine.verifyWithPublicKey(basic.tbsResponseData.tbsView, basic.signature, signer.subjectPublicKeyInfo, basic.signatureAlgorithm)) return true;
    } catch {
      // unsupported algorithm or a key that does not fit: try the next signer
    }
  }
  return false;
}

/** The single response about `leaf`, matched by CertID in the hash algorithm the responder used. */
async function responseFor(basic: pkijs.BasicOCSPResponse, leaf: pkijs.Certificate, issuer: pkijs.Certificate): Promise<pkijs.SingleResponse | undefined> {
  for (const r of basic.tbsResponseData.responses.slice(0, 16)) {
    const alg = engine.getAlgorithmByOID(r.certID.hashAlgorithm.algorithmId, false);
    if (!('name' in alg)) continue;
    const mine = new pkijs.CertID();
    try {
      await mine.createForCertificate(leaf, { hashAlgorithm: alg.name, issuerCertificate: issuer }, engine);
    } catch {
      continue;
    }
    if (r.certID.isEqual(mine)) return r;
  }
  return undefined;
}

/** Judges a DER OCSPResponse about `leaf` at `now`. */
export async function judgeOcspAnswer(der: Buffer, leaf: pkijs.Certificate, issuer: pkijs.Certificate, now: number): Promise<RevocationAnswer> {
  let basic: pkijs.BasicOCSPResponse;
  try {
    const resp = pkijs.OCSPResponse.fromBER(der);
    const code = resp.responseStatus.valueBlock.valueDec;
    if (code !== 0) return { status: 'failed', detail: `the responder answered ${RESPONSE_STATUS[code] ?? `status ${code}`}` };
    if (resp.responseBytes?.responseType !== OID_OCSP_BASIC) return { status: 'failed', detail: 'the answer is not a basic OCSP response' };
    basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView);
  } catch {
    return { status: 'failed', detail: 'the answer is not a DER OCSP response' };
  }
  if (!(await signedByAuthorised(basic, issuer, now))) return { status: 'failed', detail: 'the answer is not signed by the issuer or a responder it authorised' };
  const single = await responseFor(basic, leaf, issuer);
  if (!single) return { status: 'failed', detail: 'the answer is not about this certificate' };
  const stale = staleness(single.thisUpdate.getTime(), single.nextUpdate?.getTime(), now, MAX_OCSP_AGE_MS);
  if (stale !== undefined) return { status: 'failed', detail: `the answer is ${stale}` };
  const status = single.certStatus as asn1js.BaseBlock;
  // CertStatus (RFC 6960 4.2.1): [0] good (primitive NULL), [1] revoked (constructed), [2] unknown
  if (status.idBlock.tagNumber === 0) return { status: 'good' };
  if (status.idBlock.tagNumber === 1) return { status: 'revoked' };
  return { status: 'failed', detail: 'the responder does not know the certificate (unknown)' };
}
