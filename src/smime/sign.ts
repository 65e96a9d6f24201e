/**
 * Optional S/MIME signing with the organisation's certificate: a MIME entity
 * becomes multipart/signed (RFC 8551 3.5.3, SHA-256) with a detached CMS
 * SignedData (signed attributes contentType, signingTime, messageDigest; the
 * signer certificate and its chain included). RSA keys sign with
 * sha256WithRSAEncryption, EC P-256 keys with ecdsa-with-SHA256.
 */
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemCertificatesDer } from '../crypto/pem.js';
import { OID_SIGNED_DATA, pkijsEngine } from '../crypto/x509-oids.js';
import { SealgateError } from '../errors.js';
import { OID_ATTR_CONTENT_TYPE, OID_ATTR_MESSAGE_DIGEST, OID_ATTR_SIGNING_TIME, OID_DATA } from './oids.js';
import { readRecipientCert } from './recipient-cert.js';
import { wrapBase64 } from './text.js';

export interface SmimeSigner {
  /** The organisation's certificate, PEM. */
  readonly certPem: string;
  /** Its private key, PEM (PKCS#8, PKCS#1 or SEC1; unencrypted). */
  readonly keyPem: string;
  /** Intermediate certificates to include, PEM (optional). */
  readonly chainPem?: string;
}

function ab(b: Buffer | Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function unusable(why: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_FILE_INVALID', { message: `organisation signing key unusable: ${why}`, cause });
}

type SigningKey = Parameters<pkijs.SignedData['sign']>[0];

async function importKey(keyPem: string, kind: 'rsa' | 'ec-p256'): Promise<SigningKey> {
  let pkcs8: Buffer;
  try {
    pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  } catch (err) {
    throw unusable('not a readable unencrypted private key', err);
  }
  const alg = kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  try {
    return (await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign'])) as unknown as SigningKey;
  } catch (err) {
    throw unusable('key does not match the certificate type', err);
  } finally {
    pkcs8.fill(0);
  }
}

function chainCerts(chainPem: string | undefined): pkijs.Certificate[] {
  if (!chainPem) return [];
  return pemCertificatesDer(chainPem).map((der) => pkijs.Certificate.fromBER(der));
}

/** DER SET OF order: attributes sorted by their encodings (OpenSSL re-encodes the set when it verifies). */
function sortedAttributes(attrs: pkijs.Attribute[]): pkijs.Attribute[] {
  const enc = attrs.map((a) => ({ a, der: Buffer.from(a.toSchema().toBER(false)) }));
  enc.sort((x, y) => Buffer.compare(x.der, y.der));
  return enc.map((e) => e.a);
}

/** The DER ContentInfo(SignedData), detached, over `content` (one buffer, or its parts in order). */
export async function detachedSignature(content: Buffer | readonly Buffer[], signer: SmimeSigner, now: Date = new Date()): Promise<Buffer> {
  const { cert, kind } = readRecipientCert(signer.certPem);
  const key = await importKey(signer.keyPem, kind);
  const hash = createHash('sha256');
  for (const part of Buffer.isBuffer(content) ? [content] : content) hash.update(part);
  const digest = hash.digest();
  const attrs = sortedAttributes([
    new pkijs.Attribute({ type: OID_ATTR_CONTENT_TYPE, values: [new asn1js.ObjectIdentifier({ value: OID_DATA })] }),
    new pkijs.Attribute({ type: OID_ATTR_SIGNING_TIME, values: [new asn1js.UTCTime({ valueDate: now })] }),
    new pkijs.Attribute({ type: OID_ATTR_MESSAGE_DIGEST, values: [new asn1js.OctetString({ valueHex: ab(digest) })] }),
  ]);
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID_DATA }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attrs }),
      }),
    ],
    certificates: [cert, ...chainCerts(signer.chainPem)],
  });
  await sd.sign(key, 0, 'SHA-256', undefined, pkijsEngine);
  const ci = new pkijs.ContentInfo({ contentType: OID_SIGNED_DATA, content: sd.toSchema(true) });
  return Buffer.from(ci.toSchema().toBER(false));
}

/**
 * multipart/signed around `entity` (a MIME entity, CRLF, 7-bit safe: its
 * bytes are what is signed), as parts in order: the entity's own parts are
 * in it as given (not copied), so a streamed envelope never joins them. The
 * signature is computed here, before anything is written (one SHA-256 pass
 * over the entity). `extraHeaders` (e.g. the real Subject) go on the
 * multipart/signed header as well, so the decrypted top level shows them.
 */
export async function signEntityParts(entity: readonly Buffer[], signer: SmimeSigner, extraHeaders: readonly Buffer[] = []): Promise<Buffer[]> {
  const sig = await detachedSignature(entity, signer);
  const boundary = `----=_sealgate_signed_${randomBytes(12).toString('hex')}`;
  return [
    Buffer.from(`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n boundary="${boundary}"\r\n`),
    ...extraHeaders,
    Buffer.from(`\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n--${boundary}\r\n`),
    ...entity,
    Buffer.from(
      `\r\n--${boundary}\r\n` +
        'Content-Type: application/pkcs7-signature; name=smime.p7s\r\n' +
        'Content-Transfer-Encoding: base64\r\n' +
        'Content-Disposition: attachment; filename=smime.p7s\r\n' +
        'Content-Description: S/MIME Cryptographic Signature\r\n\r\n',
    ),
    Buffer.from(wrapBase64(sig), 'ascii'),
    Buffer.from(`--${boundary}--\r\n`),
  ];
}

/** signEntityParts joined into one buffer. */
export async function signEntity(entity: Buffer, signer: SmimeSigner, extraHeaders: readonly Buffer[] = []): Promise<Buffer> {
  return Buffer.concat(await signEntityParts([entity], signer, extraHeaders));
}
