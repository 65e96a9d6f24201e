/**
 * Test certificates for the DANE tests: src/tls/x509.ts makes a root CA and
 * leaf certificates; it has no intermediate CAs, so this builds one the same
 * way (pkijs over node:crypto WebCrypto, ECDSA P-256 with SHA-256). The leaf
 * issuer check in issueCertificate() only needs basicConstraints cA, so
 * issueCertificate(intermediate, …) gives root → intermediate → leaf.
 */
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { generateCa, issueCertificate, pemBlocks, toPem, type Pem } from '../../src/tls/x509.js';

const subtle = webcrypto.subtle;
type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
const engine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto });

const OID_CN = '2.5.4.3';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_SUBJECT_KEY_ID = '2.5.29.14';

function der(pem: string): Buffer {
  const block = pemBlocks(pem, 'CERTIFICATE')[0];
  if (!block) throw new Error('no certificate in PEM');
  return Buffer.from(block);
}

/** An intermediate CA (EC P-256) signed by `issuer` (a CA made with generateCa, EC key). */
export async function issueIntermediate(issuer: Pem, commonName: string): Promise<Pem> {
  const issuerCert = pkijs.Certificate.fromBER(der(issuer.certPem));
  const issuerKeyDer = pemBlocks(issuer.keyPem, 'PRIVATE KEY')[0];
  if (!issuerKeyDer) throw new Error('issuer key is not PKCS#8');
  const issuerKey = await subtle.importKey('pkcs8', issuerKeyDer, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: Uint8Array.from([0x11, ...webcrypto.getRandomValues(new Uint8Array(15))]) });
  cert.issuer = issuerCert.subject;
  cert.subject = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: OID_CN, value: new asn1js.Utf8String({ value: commonName }) })],
  });
  const start = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  cert.notBefore = new pkijs.Time({ type: pkijs.TimeType.UTCTime, value: new Date(start) });
  cert.notAfter = new pkijs.Time({ type: pkijs.TimeType.UTCTime, value: new Date(start + 365 * 86_400_000) });
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  const ski = await cert.getKeyHash('SHA-1', engine);
  const keyCertSignCrlSign = new asn1js.BitString({ valueHex: Uint8Array.from([0x06]), unusedBits: 1 });
  cert.extensions = [
    new pkijs.Extension({ extnID: OID_BASIC_CONSTRAINTS, critical: true, extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: OID_KEY_USAGE, critical: true, extnValue: keyCertSignCrlSign.toBER(false) }),
    new pkijs.Extension({ extnID: OID_SUBJECT_KEY_ID, critical: false, extnValue: new asn1js.OctetString({ valueHex: ski }).toBER(false) }),
  ];
  const algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: OID_ECDSA_SHA256 });
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER(false));
  const raw = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, issuerKey, cert.tbsView);
  cert.signatureValue = new asn1js.BitString({ valueHex: pkijs.createCMSECDSASignature(raw) });

  return {
    certPem: toPem('CERTIFICATE', cert.toSchema(true).toBER(false)),
    keyPem: toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

export interface DaneTestPki {
  readonly root: Buffer;
  readonly intermediate: Buffer;
  /** Issued by the intermediate for mx.dane.test. */
  readonly leaf: Buffer;
  /** Issued directly by the root for mx.dane.test. */
  readonly rootLeaf: Buffer;
  /** Issued by the intermediate for other.test (wrong name for mx.dane.test). */
  readonly wrongNameLeaf: Buffer;
  /** Issued by the intermediate, valid in the past only. */
  readonly expiredLeaf: Buffer;
  /** RSA leaf issued by the root, for selector/matching cases with another key type. */
  readonly rsaLeaf: Buffer;
  /** A second, unrelated root and a leaf for mx.dane.test under it. */
  readonly otherRoot: Buffer;
  readonly otherLeaf: Buffer;
  /** A root with the same name as `root` but its own key (names agree, signatures do not). */
  readonly imposterRoot: Buffer;
}

export const MX_HOST = 'mx.dane.test';

export async function makeDanePki(): Promise<DaneTestPki> {
  const root = await generateCa({ commonName: 'DANE Test Root' });
  const intermediate = await issueIntermediate(root, 'DANE Test Intermediate');
  const other = await generateCa({ commonName: 'Unrelated Root' });
  const imposter = await generateCa({ commonName: 'DANE Test Root' });
  const [leaf, rootLeaf, wrongNameLeaf, expiredLeaf, rsaLeaf, otherLeaf] = await Promise.all([
    issueCertificate(intermediate, { commonName: MX_HOST, dnsNames: [MX_HOST], usage: 'server' }),
    issueCertificate(root, { commonName: MX_HOST, dnsNames: [MX_HOST], usage: 'server' }),
    issueCertificate(intermediate, { commonName: 'other.test', dnsNames: ['other.test'], usage: 'server' }),
    issueCertificate(intermediate, { commonName: MX_HOST, dnsNames: [MX_HOST], usage: 'server', notBefore: new Date(Date.now() - 40 * 86_400_000), validityDays: 10 }),
    issueCertificate(root, { commonName: MX_HOST, dnsNames: [MX_HOST], usage: 'server', keyType: 'rsa-2048' }),
    issueCertificate(other, { commonName: MX_HOST, dnsNames: [MX_HOST], usage: 'server' }),
  ]);
  return {
    root: der(root.certPem),
    intermediate: der(intermediate.certPem),
    leaf: der(leaf.certPem),
    rootLeaf: der(rootLeaf.certPem),
    wrongNameLeaf: der(wrongNameLeaf.certPem),
    expiredLeaf: der(expiredLeaf.certPem),
    rsaLeaf: der(rsaLeaf.certPem),
    otherRoot: der(other.certPem),
    otherLeaf: der(otherLeaf.certPem),
    imposterRoot: der(imposter.certPem),
  };
}
