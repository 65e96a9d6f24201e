/**
 * Reading S/MIME certificates with pkijs + asn1js: PEM or DER certificates
 * and PKCS#7 / CMS certificate bundles (.p7b/.p7c, PEM "PKCS7" or DER), and
 * gathering the facts the verdict needs, with the chain checked by pkijs'
 * CertificateChainValidationEngine against the trust roots at `now`.
 */
import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID_BASIC_CONSTRAINTS, OID_EMAIL_ADDRESS, OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_SIGNED_DATA, OID_SUBJECT_ALT_NAME, pkijsEngine } from '../crypto/x509-oids.js';
import { SealgateError } from '../errors.js';
import { checkRevocation, type RevocationDeps, type RevocationStatus } from './revocation.js';
import { findIssuer } from './revocation-sources.js';
import type { SmimeFacts } from './smime-verdict.js';

const engine = pkijsEngine;

const GENERAL_NAME_RFC822 = 1;

/** RFC 5280 4.2.1.3, bit 0 first. */
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  [OID_EMAIL_ADDRESS]: 'emailAddress',
};

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export interface ParsedCertificate {
  readonly cert: pkijs.Certificate;
  readonly der: Buffer;
}

export interface SmimeCertInfo {
  readonly fingerprint: string;
  readonly algorithm: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly emails: readonly string[];
  readonly isCa: boolean;
  readonly pem: string;
  readonly facts: SmimeFacts;
  /** OCSP / CRL outcome (not checked for CA certificates, untrusted chains, or without `revocation` deps). */
  readonly revocation: RevocationStatus;
}

const PEM_BLOCK = /-----BEGIN ((?:X509 |TRUSTED )?CERTIFICATE|PKCS7|CMS)-----([\s\S]*?)-----END \1-----/g;

/** True when the text holds a PEM certificate or PKCS#7 block. */
export function looksPemCertificates(text: string): boolean {
  return /-----BEGIN (?:(?:X509 |TRUSTED )?CERTIFICATE|PKCS7|CMS)-----/.test(text);
}

function toCertificate(der: Buffer): ParsedCertificate {
  return { cert: pkijs.Certificate.fromBER(der), der };
}

function fromPkcs7(der: Buffer): ParsedCertificate[] {
  const info = pkijs.ContentInfo.fromBER(der);
  if (info.contentType !== OID_SIGNED_DATA) throw new Error('not a PKCS#7 signed-data bundle');
  const signed = new pkijs.SignedData({ schema: info.content });
  const out: ParsedCertificate[] = [];
  for (const c of signed.certificates ?? []) {
    if (c instanceof pkijs.Certificate) out.push({ cert: c, der: Buffer.from(c.toSchema().toBER()) });
  }
  return out;
}

/** A DER certificate or a DER PKCS#7 bundle. */
function fromDer(der: Buffer): ParsedCertificate[] {
  const asn = asn1js.fromBER(der);
  if (asn.offset === -1) throw new Error('not DER');
  const seq = asn.result.valueBlock as { value?: unknown[] };
  // a ContentInfo starts with an OBJECT IDENTIFIER; a Certificate with a SEQUENCE (tbsCertificate)
  return seq.value?.[0] instanceof asn1js.ObjectIdentifier ? fromPkcs7(der) : [toCertificate(der)];
}

/** Every certificate in PEM text or DER bytes; SG_KEY_FILE_INVALID when a block does not parse. */
export function readCertificates(input: { text: string } | { bytes: Buffer }): ParsedCertificate[] {
  try {
    if ('bytes' in input) return fromDer(input.bytes);
    const out: ParsedCertificate[] = [];
    for (const m of input.text.matchAll(PEM_BLOCK)) {
      const der = Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64');
      if (m[1] === 'PKCS7' || m[1] === 'CMS') out.push(...fromPkcs7(der));
      else out.push(toCertificate(der));
    }
    return out;
  } catch (err) {
    throw new SealgateError('SG_KEY_FILE_INVALID', { message: 'a certificate or PKCS#7 bundle in the file does not parse', cause: err });
  }
}

export function certificateToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => {
      const label = NAME_ATTRIBUTES[tv.type] ?? tv.type;
      const block = tv.value.valueBlock as { value?: unknown };
      return `${label}=${typeof block.value === 'string' ? block.value : '?'}`;
    })
    .join(', ');
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

function keyUsageNames(ext: pkijs.Extension): string[] {
  const bits = ext.parsedValue as asn1js.BitString;
  const bytes = new Uint8Array(bits.valueBlock.valueHexView);
  const names: string[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bytes[i >> 3] ?? 0;
    if (byte & (0x80 >> (i & 7))) names.push(name);
  });
  return names;
}

function emailsOf(cert: pkijs.Certificate): string[] {
  const emails: string[] = [];
  const san = extension(cert, OID_SUBJECT_ALT_NAME)?.parsedValue as pkijs.AltName | undefined;
  for (const n of san?.altNames ?? []) if (n.type === GENERAL_NAME_RFC822 && typeof n.value === 'string') emails.push(n.value);
  for (const tv of cert.subject.typesAndValues) {
    const v = (tv.value.valueBlock as { value?: unknown }).value;
    if (tv.type === OID_EMAIL_ADDRESS && typeof v === 'string' && !emails.includes(v)) emails.push(v);
  }
  return emails;
}

function keyTypeOf(cert: pkijs.Certificate): { keyType: SmimeFacts['keyType']; algorithm: string } {
  try {
    const key = createPublicKey({ key: Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
    const d = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa') return { keyType: 'rsa', algorithm: `RSA ${d.modulusLength ?? '?'}` };
    if (key.asymmetricKeyType === 'ec') return { keyType: 'ec', algorithm: `EC ${CURVE_NAMES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?'}` };
    return { keyType: 'other', algorithm: key.asymmetricKeyType ?? 'unknown' };
  } catch {
    return { keyType: 'other', algorithm: cert.subjectPublicKeyInfo.algorithm.algorithmId };
  }
}

/** Verifies the path leaf → intermediates → a trust root at `now`. */
export async function chainTrusted(leaf: pkijs.Certificate, intermediates: readonly pkijs.Certificate[], roots: readonly pkijs.Certificate[], now: number): Promise<boolean> {
  if (roots.length === 0) return false;
  try {
    const chain = new pkijs.CertificateChainValidationEngine({ trustedCerts: [...roots], certs: [leaf, ...intermediates.filter((c) => c !== leaf)], checkDate: new Date(now) });
    const result = await chain.verify({}, engine);
    return result.result;
  } catch {
    return false;
  }
}

/**
 * Revocation of a trusted leaf: its issuer is among the file's certificates
 * and the trust roots. An untrusted chain is invalid anyway and its issuer's
 * answers would prove nothing, so it is not asked about.
 */
async function revocationOf(cert: pkijs.Certificate, isCa: boolean, trusted: boolean, candidates: readonly pkijs.Certificate[], deps: RevocationDeps | undefined): Promise<RevocationStatus> {
  if (!deps) return { state: 'not-checked', detail: 'revocation checking is off: keys.revocation.enabled is false' };
  if (isCa) return { state: 'not-checked', detail: 'a CA certificate' };
  if (!trusted) return { state: 'not-checked', detail: 'the chain is not trusted' };
  const issuer = await findIssuer(cert, candidates);
  if (!issuer) return { state: 'not-checked', detail: 'the issuer certificate is not at hand' };
  return checkRevocation(cert, issuer, deps);
}

/**
 * The facts about one certificate at `now`; `others` are the file's other
 * certificates (possible intermediates). With `revocation`, a trusted leaf's
 * OCSP responder / CRL is asked (network, bounded by its timeout).
 */
export async function inspectCertificate(p: ParsedCertificate, others: readonly ParsedCertificate[], roots: readonly pkijs.Certificate[], now: number, revocation?: RevocationDeps): Promise<SmimeCertInfo> {
  const { cert, der } = p;
  const { keyType, algorithm } = keyTypeOf(cert);
  const ku = extension(cert, OID_KEY_USAGE);
  const eku = extension(cert, OID_EXT_KEY_USAGE)?.parsedValue as pkijs.ExtKeyUsage | undefined;
  const bc = extension(cert, OID_BASIC_CONSTRAINTS)?.parsedValue as pkijs.BasicConstraints | undefined;
  const emails = emailsOf(cert);
  const trusted = await chainTrusted(
    cert,
    others.map((o) => o.cert),
    roots,
    now,
  );
  const isCa = bc?.cA === true;
  const status = await revocationOf(cert, isCa, trusted, [...others.map((o) => o.cert), ...roots], revocation);
  return {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    algorithm,
    subject: nameToString(cert.subject),
    issuer: nameToString(cert.issuer),
    serialNumber: Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex'),
    emails,
    isCa,
    pem: certificateToPem(der),
    facts: {
      notBefore: cert.notBefore.value.getTime(),
      notAfter: cert.notAfter.value.getTime(),
      emails,
      keyType,
      keyUsage: ku ? keyUsageNames(ku) : null,
      extendedKeyUsage: eku ? [...eku.keyPurposes] : null,
      chainTrusted: trusted,
      revoked: status.state === 'not-checked' ? null : status.state === 'revoked',
    },
    revocation: status,
  };
}
