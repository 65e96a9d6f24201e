/**
 * Keys published in DNS, pure: the owner names of OPENPGPKEY (RFC 7929) and
 * SMIMEA (RFC 8162) records and which SMIMEA records can give a recipient
 * certificate.
 *
 * Owner name: hex SHA2-256 of the local part's UTF-8 bytes, truncated to 28
 * octets, then `._openpgpkey.<domain>` or `._smimecert.<domain>`. RFC 7929
 * section 3 hashes the local part as written (no lower-casing); GnuPG
 * (`gpg --export-options export-dane`, formerly --print-dane-records, and its `dane` auto-key-locate) lower-cases
 * it, so most published records sit under the lower-case name. We ask the
 * name as written first and, when that differs, the lower-cased one too:
 * an address written "Alice@" finds both a record published by the RFC's
 * rule and one published by GnuPG's.
 *
 * SMIMEA usages (RFC 8162 section 2 and 4, RFC 6698 2.1.1): only a full
 * certificate (selector 0 = Cert, matching type 0 = Full) can encrypt, so
 * records with a hash or a bare public key are set aside. Usage 1 (PKIX-EE)
 * names the recipient certificate AND asks for ordinary PKIX validation: it
 * must chain to keys.smimeTrustRoots like any certificate. Usage 3 (DANE-EE)
 * makes the DNSSEC-signed record itself the trust: no CA chain is needed
 * (the address, key usage, extended key usage and validity checks still
 * apply). Usages 0 (PKIX-TA) and 2 (DANE-TA) publish a trust anchor, not the
 * recipient's certificate, so they give nothing to encrypt to.
 */
import { createHash } from 'node:crypto';

export const OPENPGPKEY_TYPE = 61;
export const SMIMEA_TYPE = 53;

export type DnsKeyRecordType = 'openpgpkey' | 'smimea';

const LABEL: Record<DnsKeyRecordType, string> = { openpgpkey: '_openpgpkey', smimea: '_smimecert' };

/** The first 28 octets of SHA2-256 of the local part (UTF-8), in lower-case hex (56 characters). */
export function localPartHash(localPart: string): string {
  return createHash('sha256').update(localPart, 'utf8').digest().subarray(0, 28).toString('hex');
}

export type DnsNameVariant = 'as-written' | 'lower-case';

export interface DnsKeyName {
  readonly variant: DnsNameVariant;
  readonly name: string;
}

/** The names to ask, in order: the local part as written, then lower-cased when that differs. */
export function dnsKeyNames(address: string, type: DnsKeyRecordType): DnsKeyName[] {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  const name = (l: string): string => `${localPartHash(l)}.${LABEL[type]}.${domain}`;
  const out: DnsKeyName[] = [{ variant: 'as-written', name: name(local) }];
  const lower = local.toLowerCase();
  if (lower !== local) out.push({ variant: 'lower-case', name: name(lower) });
  return out;
}

export const SMIMEA_SKIP = {
  malformed: 'the record is shorter than its fixed fields',
  'trust-anchor': 'a trust-anchor record (usage 0 or 2) carries no recipient certificate',
  'unknown-usage': 'certificate usage other than 0 to 3',
  'not-full-certificate': 'a hash or bare public key (selector or matching type not 0) cannot encrypt',
} as const;
export type SmimeaSkip = keyof typeof SMIMEA_SKIP;

/**
 * `pkix-ee`: the certificate must still chain to keys.smimeTrustRoots;
 * `dane-ee`: the authenticated record is the trust, no chain needed.
 */
export type SmimeaUse = { readonly use: 'pkix-ee' | 'dane-ee'; readonly certificate: Buffer } | { readonly skip: SmimeaSkip };

/** What one SMIMEA rdata gives (usage, selector, matching type, data; the TLSA layout). */
export function smimeaUse(rdata: Uint8Array): SmimeaUse {
  if (rdata.length < 4) return { skip: 'malformed' };
  const [usage, selector, matchingType] = [rdata[0], rdata[1], rdata[2]];
  if (usage === 0 || usage === 2) return { skip: 'trust-anchor' };
  if (usage !== 1 && usage !== 3) return { skip: 'unknown-usage' };
  if (selector !== 0 || matchingType !== 0) return { skip: 'not-full-certificate' };
  return { use: usage === 3 ? 'dane-ee' : 'pkix-ee', certificate: Buffer.from(rdata.subarray(3)) };
}

/** Whether the certificate counts as chained: DANE-EE needs no CA; PKIX-EE needs the trust-root chain. */
export function smimeaChainTrusted(use: 'pkix-ee' | 'dane-ee', pkixChainTrusted: boolean): boolean {
  return use === 'dane-ee' || pkixChainTrusted;
}
