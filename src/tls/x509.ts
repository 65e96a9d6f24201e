/**
 * X.509 certificate generation for development and tests: a private CA and
 * the server/client certificates it issues, built with pkijs + asn1js over
 * Node's WebCrypto. No openssl at runtime.
 *
 * Keys are PKCS#8 PEM ("PRIVATE KEY"), certificates PEM ("CERTIFICATE").
 * Signatures are ECDSA with SHA-256 for EC CA keys and RSA PKCS#1 v1.5 with
 * SHA-256 for RSA CA keys.
 *
 * pkijs quirks handled here (see the comments at each site):
 *  - Certificate.sign() defaults to SHA-1 and omits the NULL parameters RFC
 *    4055 requires for sha256WithRSAEncryption, so we sign the TBS ourselves.
 *  - asn1js GeneralizedTime writes fractional seconds when the Date has
 *    milliseconds (forbidden by RFC 5280), and pkijs Time defaults to
 *    UTCTime even after 2049: dates are truncated to whole seconds and the
 *    time type is chosen by year.
 *  - asn1js Integer keeps the bytes it is given, so the random serial is
 *    shaped to be positive and minimally encoded.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_CLIENT_AUTH,
  OID_CN,
  OID_EC_PUBLIC_KEY,
  OID_ECDSA_SHA256,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_P256,
  OID_RSA_ENCRYPTION,
  OID_SERVER_AUTH,
  OID_SHA256_RSA,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
  pkijsEngine,
} from '../crypto/x509-oids.js';

export type KeyType = 'ec-p256' | 'rsa-2048';
export type CertificateUsage = 'server' | 'client' | 'both';

/** A certificate and its private key, both PEM. */
export interface Pem {
  /** PEM "CERTIFICATE" block(s). */
  certPem: string;
  /** PKCS#8 PEM "PRIVATE KEY". */
  keyPem: string;
}

export interface CaOptions {
  commonName: string;
  /** Default 3650. */
  validityDays?: number;
  /** Default 'ec-p256'. */
  keyType?: KeyType;
}

export interface IssueOptions {
  commonName: string;
  /** subjectAltName dNSName entries. */
  dnsNames?: string[];
  /** subjectAltName iPAddress entries, IPv4 or IPv6 text form. */
  ipAddresses?: string[];
  usage: CertificateUsage;
  /** Default 397. */
  validityDays?: number;
  /** Default 'ec-p256'. */
  keyType?: KeyType;
  /** Default: now minus one hour (clock skew). May be in the past, e.g. to make expired certificates for tests. */
  notBefore?: Date;
}

const DEFAULT_CA_DAYS = 3650;
const DEFAULT_LEAF_DAYS = 397;
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

// Object identifiers.

// keyUsage bit numbers (RFC 5280 4.2.1.3).
const KU_DIGITAL_SIGNATURE = 0;
const KU_KEY_ENCIPHERMENT = 2;
const KU_KEY_CERT_SIGN = 5;
const KU_CRL_SIGN = 6;

const subtle = webcrypto.subtle;
const engine = pkijsEngine;

// ---------------------------------------------------------------------------
// Public API

/** Generates a self-signed CA certificate and key. */
export async function generateCa(opts: CaOptions): Promise<Pem> {
  const commonName = checkCommonName(opts.commonName);
  const validityDays = checkValidityDays(opts.validityDays ?? DEFAULT_CA_DAYS);
  const keyType = checkKeyType(opts.keyType ?? 'ec-p256');

  const keys = await generateKeyPair(keyType);
  const name = buildName(commonName);
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = randomSerial();
  cert.issuer = name;
  cert.subject = buildName(commonName);
  setValidity(cert, notBefore, validityDays);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  const ski = await keyIdentifier(cert);

  cert.extensions = [
    extension(
      OID_BASIC_CONSTRAINTS,
      true,
      new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema(),
    ),
    extension(OID_KEY_USAGE, true, keyUsage([KU_KEY_CERT_SIGN, KU_CRL_SIGN])),
    extension(OID_SUBJECT_KEY_ID, false, new asn1js.OctetString({ valueHex: ski })),
  ];

  await signCertificate(cert, keys.privateKey);
  return { certPem: certificateToPem(cert), keyPem: await privateKeyToPem(keys.privateKey) };
}

/** Issues a leaf (end-entity) certificate signed by `ca`. */
export async function issueCertificate(ca: Pem, opts: IssueOptions): Promise<Pem> {
  const commonName = checkCommonName(opts.commonName);
  const validityDays = checkValidityDays(opts.validityDays ?? DEFAULT_LEAF_DAYS);
  const keyType = checkKeyType(opts.keyType ?? 'ec-p256');
  const usage = checkUsage(opts.usage);
  const dnsNames = (opts.dnsNames ?? []).map(checkDnsName);
  const ipBytes = (opts.ipAddresses ?? []).map(parseIpAddress);
  const notBefore = opts.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  if (Number.isNaN(notBefore.getTime())) throw new TypeError('notBefore is not a valid date');

  const caCert = parseCertificate(ca.certPem);
  assertIsCa(caCert);
  const caKey = await importPrivateKey(ca.keyPem);
  const keys = await generateKeyPair(keyType);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = randomSerial();
  // Reuse the CA's encoded subject so issuer and subject match byte for byte.
  cert.issuer = caCert.subject;
  cert.subject = buildName(commonName);
  setValidity(cert, notBefore, validityDays);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);

  const ekus: string[] = [];
  if (usage === 'server' || usage === 'both') ekus.push(OID_SERVER_AUTH);
  if (usage === 'client' || usage === 'both') ekus.push(OID_CLIENT_AUTH);

  const kuBits = [KU_DIGITAL_SIGNATURE];
  if (keyType === 'rsa-2048') kuBits.push(KU_KEY_ENCIPHERMENT);

  const extensions: pkijs.Extension[] = [
    extension(OID_BASIC_CONSTRAINTS, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    extension(OID_KEY_USAGE, true, keyUsage(kuBits)),
    extension(OID_EXT_KEY_USAGE, false, new pkijs.ExtKeyUsage({ keyPurposes: ekus }).toSchema()),
  ];

  const altNames: pkijs.GeneralName[] = [
    ...dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...ipBytes.map((bytes) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: bytes }) })),
  ];
  if (altNames.length > 0) {
    extensions.push(extension(OID_SUBJECT_ALT_NAME, false, new pkijs.AltName({ altNames }).toSchema()));
  }

  extensions.push(
    extension(OID_SUBJECT_KEY_ID, false, new asn1js.OctetString({ valueHex: await keyIdentifier(cert) })),
    extension(
      OID_AUTHORITY_KEY_ID,
      false,
      new pkijs.AuthorityKeyIdentifier({
        keyIdentifier: new asn1js.OctetString({ valueHex: await authorityKeyId(caCert) }),
      }).toSchema(),
    ),
  );
  cert.extensions = extensions;

  await signCertificate(cert, caKey);
  return { certPem: certificateToPem(cert), keyPem: await privateKeyToPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------
// PEM helpers (exported for dev-certs and tests)

/** Wraps DER bytes in a PEM block with 64-character lines. */
export function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** All DER bodies of the PEM blocks with `label`, in order. */
export function pemBlocks(pem: string, label: string): Uint8Array<ArrayBuffer>[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const m of pem.matchAll(re)) {
    out.push(new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

// ---------------------------------------------------------------------------
// internals

function checkCommonName(cn: string): string {
  if (typeof cn !== 'string' || cn.length === 0 || cn.length > 64) {
    throw new TypeError('commonName must be 1 to 64 characters');
  }
  return cn;
}

function checkValidityDays(days: number): number {
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new TypeError('validityDays must be a positive number');
  }
  return days;
}

function checkKeyType(keyType: KeyType): KeyType {
  if (keyType !== 'ec-p256' && keyType !== 'rsa-2048') throw new TypeError(`unsupported keyType: ${String(keyType)}`);
  return keyType;
}

function checkUsage(usage: CertificateUsage): CertificateUsage {
  if (usage !== 'server' && usage !== 'client' && usage !== 'both') {
    throw new TypeError(`unsupported usage: ${String(usage)}`);
  }
  return usage;
}

function checkDnsName(name: string): string {
  // IA5String, letters/digits/hyphens/dots, optional leading wildcard label.
  if (typeof name !== 'string' || name.length === 0 || name.length > 253 || !/^(\*\.)?[A-Za-z0-9_.-]+$/.test(name)) {
    throw new TypeError(`invalid DNS name for subjectAltName: ${JSON.stringify(name)}`);
  }
  return name;
}

/** IPv4 → 4 bytes, IPv6 (incl. '::' and embedded IPv4) → 16 bytes. */
export function parseIpAddress(ip: string): Uint8Array {
  const kind = typeof ip === 'string' ? isIP(ip) : 0;
  if (kind === 4) return parseIpv4(ip);
  if (kind === 6 && !ip.includes('%')) return parseIpv6(ip);
  throw new TypeError(`invalid IP address for subjectAltName: ${JSON.stringify(ip)}`);
}

function parseIpv4(ip: string): Uint8Array {
  const parts = ip.split('.').map((p) => Number.parseInt(p, 10));
  if (parts.length !== 4 || parts.some((n) => !(n >= 0 && n <= 255))) {
    throw new TypeError(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  }
  return Uint8Array.from(parts);
}

function parseIpv6(ip: string): Uint8Array {
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIpv4(g);
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const halves = ip.split('::');
  let groups: number[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0] ?? '');
    const tail = groupsOf(halves[1] ?? '');
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    groups = groupsOf(ip);
  }
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) {
    throw new TypeError(`invalid IPv6 address: ${JSON.stringify(ip)}`);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

async function generateKeyPair(keyType: KeyType): Promise<webcrypto.CryptoKeyPair> {
  if (keyType === 'rsa-2048') {
    return (await subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
  }
  return (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

/** Loads a PKCS#8 PEM private key (EC P-256 or RSA) as a signing key. */
async function importPrivateKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const der = pemBlocks(keyPem, 'PRIVATE KEY')[0];
  if (!der) throw new TypeError('CA key is not a PKCS#8 PEM "PRIVATE KEY"');
  const info = pkijs.PrivateKeyInfo.fromBER(der);
  const algorithmId = info.privateKeyAlgorithm.algorithmId;
  if (algorithmId === OID_RSA_ENCRYPTION) {
    return subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  }
  if (algorithmId === OID_EC_PUBLIC_KEY) {
    const params = info.privateKeyAlgorithm.algorithmParams as unknown;
    const curve = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : '';
    if (curve !== OID_P256) throw new TypeError(`unsupported EC curve in CA key: ${curve || 'unknown'}`);
    return subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  }
  throw new TypeError(`unsupported CA key algorithm: ${algorithmId}`);
}

async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

function certificateToPem(cert: pkijs.Certificate): string {
  return toPem('CERTIFICATE', cert.toSchema(true).toBER(false));
}

function parseCertificate(certPem: string): pkijs.Certificate {
  const der = pemBlocks(certPem, 'CERTIFICATE')[0];
  if (!der) throw new TypeError('CA certificate is not a PEM "CERTIFICATE"');
  return pkijs.Certificate.fromBER(der);
}

function assertIsCa(cert: pkijs.Certificate): void {
  const bc = cert.extensions?.find((e) => e.extnID === OID_BASIC_CONSTRAINTS)?.parsedValue;
  if (!(bc instanceof pkijs.BasicConstraints) || !bc.cA) {
    throw new TypeError('issuer certificate is not a CA (basicConstraints cA is not true)');
  }
}

function buildName(commonName: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({ type: OID_CN, value: new asn1js.Utf8String({ value: commonName }) }),
    ],
  });
}

function setValidity(cert: pkijs.Certificate, notBefore: Date, validityDays: number): void {
  // Whole seconds: asn1js would otherwise encode fractional seconds.
  const start = Math.floor(notBefore.getTime() / 1000) * 1000;
  const end = start + Math.round((validityDays * DAY_MS) / 1000) * 1000;
  cert.notBefore = x509Time(new Date(start));
  cert.notAfter = x509Time(new Date(end));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
function x509Time(date: Date): pkijs.Time {
  const year = date.getUTCFullYear();
  const type = year >= 1950 && year < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value: date });
}

/** 16 random bytes, positive and minimally DER-encoded (first byte 0x01..0x7f). */
function randomSerial(): asn1js.Integer {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return new asn1js.Integer({ valueHex: bytes });
}

/** Key identifier, RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
async function keyIdentifier(cert: pkijs.Certificate): Promise<ArrayBuffer> {
  return cert.getKeyHash('SHA-1', engine);
}

/** The CA's subjectKeyIdentifier, or one computed from its key when absent. */
async function authorityKeyId(caCert: pkijs.Certificate): Promise<ArrayBuffer> {
  const ext = caCert.extensions?.find((e) => e.extnID === OID_SUBJECT_KEY_ID);
  if (ext) {
    const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
    if (parsed.offset !== -1 && parsed.result instanceof asn1js.OctetString) {
      return parsed.result.valueBlock.valueHexView.slice().buffer;
    }
  }
  return keyIdentifier(caCert);
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/** DER named-bit BIT STRING: trailing zero bits dropped, unusedBits set. */
function keyUsage(bits: number[]): asn1js.BitString {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) {
    const i = Math.floor(bit / 8);
    bytes[i] = (bytes[i] ?? 0) | (0x80 >> bit % 8);
  }
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (highest % 8) });
}

/**
 * Signs the TBS part with SHA-256. Done here rather than with
 * Certificate.sign(), which defaults to SHA-1 and leaves out the NULL
 * parameters of sha256WithRSAEncryption.
 */
async function signCertificate(cert: pkijs.Certificate, key: webcrypto.CryptoKey): Promise<void> {
  const isRsa = key.algorithm.name === 'RSASSA-PKCS1-v1_5';
  const algorithm = isRsa
    ? new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256_RSA, algorithmParams: new asn1js.Null() })
    : new pkijs.AlgorithmIdentifier({ algorithmId: OID_ECDSA_SHA256 });
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER(false));
  const raw = isRsa
    ? await subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, key, cert.tbsView)
    : await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, cert.tbsView);
  // WebCrypto ECDSA signatures are r||s; X.509 wants the DER SEQUENCE { r, s }.
  const value = isRsa ? raw : pkijs.createCMSECDSASignature(raw);
  cert.signatureValue = new asn1js.BitString({ valueHex: value });
}
