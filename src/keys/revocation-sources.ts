/**
 * Where a certificate's revocation status can be asked (RFC 5280 4.2.2.1
 * authority information access id-ad-ocsp, 4.2.1.13 CRL distribution
 * points) and which certificate issued it. Pure reading of the certificate:
 * only http:// and https:// locations count (ldap:// and others are not
 * fetched), and at most a few of each, so a hostile certificate cannot make
 * the check ask many servers.
 */
import * as pkijs from 'pkijs';
import { pkijsEngine } from '../crypto/x509-oids.js';

export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
export const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
export const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Locations of each kind tried at most. */
export const MAX_LOCATIONS = 2;

const GENERAL_NAME_URI = 6;

export interface RevocationSources {
  readonly ocsp: readonly string[];
  readonly crl: readonly string[];
}

/** An http(s) URL with a host, or undefined. */
export function fetchableUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1024) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url.toString();
}

function uris(names: readonly pkijs.GeneralName[]): string[] {
  return names.filter((n) => n.type === GENERAL_NAME_URI).map((n) => fetchableUrl(n.value)).filter((u): u is string => u !== undefined);
}

function parsed<T>(cert: pkijs.Certificate, oid: string): T | undefined {
  return cert.extensions?.find((e) => e.extnID === oid)?.parsedValue as T | undefined;
}

export function revocationSources(cert: pkijs.Certificate): RevocationSources {
  const aia = parsed<pkijs.InfoAccess>(cert, OID_AUTHORITY_INFO_ACCESS);
  const ocsp = uris((aia?.accessDescriptions ?? []).filter((d) => d.accessMethod === OID_AD_OCSP).map((d) => d.accessLocation));
  const cdp = parsed<pkijs.CRLDistributionPoints>(cert, OID_CRL_DISTRIBUTION_POINTS);
  const crl: string[] = [];
  for (const dp of cdp?.distributionPoints ?? []) {
    // a relative name (RelativeDistinguishedNames) names no URL; reasons-limited points are partial CRLs, not used
    if (Array.isArray(dp.distributionPoint) && dp.reasons === undefined) crl.push(...uris(dp.distributionPoint));
  }
  return { ocsp: [...new Set(ocsp)].slice(0, MAX_LOCATIONS), crl: [...new Set(crl)].slice(0, MAX_LOCATIONS) };
}

/** The certificate among `candidates` whose subject is the leaf's issuer and whose key signed it. */
export async function findIssuer(leaf: pkijs.Certificate, candidates: readonly pkijs.Certificate[]): Promise<pkijs.Certificate | undefined> {
  for (const c of candidates) {
    if (c === leaf || !c.subject.isEqual(leaf.issuer)) continue;
    try {
      if (await leaf.verify(c, pkijsEngine)) return c;
    } catch {
      // not this one (unsupported algorithm, malformed key)
    }
  }
  return undefined;
}
