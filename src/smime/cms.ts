/**
 * Builds the DER CMS ContentInfo(EnvelopedData) for one recipient, content
 * encrypted with AES-256-CBC (never GCM: pkijs' GCM output is not
 * interoperable).
 *
 * RSA recipients: KeyTransRecipientInfo built here around pkijs' structures —
 * WebCrypto has no RSAES-PKCS1-v1_5, so the content-encryption key is wrapped
 * with node:crypto publicEncrypt (RSA_PKCS1_PADDING by default, or RSA-OAEP
 * with SHA-256 and MGF1-SHA-256 when asked) and the content encrypted with
 * node:crypto AES-256-CBC.
 *
 * EC P-256 recipients: KeyAgreeRecipientInfo by pkijs (ECDH ephemeral-static,
 * dhSinglePass-stdDH-sha256kdf-scheme, AES-256 key wrap). pkijs always puts
 * 64 random bytes of ukm into it; that is the workaround its ECDH code needs
 * (without a ukm its shared-info encoding breaks — PKI.js issue #335), and
 * buildEnvelopedData checks it is there.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pkijsEngine } from '../crypto/x509-oids.js';
import { OID_AES256_CBC, OID_DATA, OID_ENVELOPED_DATA, OID_MGF1, OID_RSAES_OAEP, OID_SHA256 } from './oids.js';
import type { RecipientCert } from './recipient-cert.js';

/** How the content-encryption key reached the recipient. */
export type KeyTransport = 'rsa-pkcs1v15' | 'rsa-oaep-sha256' | 'ecdh-p256-sha256kdf';

export interface EnvelopedDer {
  readonly der: Buffer;
  readonly keyTransport: KeyTransport;
}

function ab(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function oaepAlgorithm(): pkijs.AlgorithmIdentifier {
  const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256 });
  const params = new pkijs.RSAESOAEPParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_MGF1, algorithmParams: sha256.toSchema() }),
  });
  return new pkijs.AlgorithmIdentifier({ algorithmId: OID_RSAES_OAEP, algorithmParams: params.toSchema() });
}

function rsaEnveloped(recipient: RecipientCert, content: Buffer, oaep: boolean): pkijs.EnvelopedData {
  const cek = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', cek, iv);
  const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
  const encryptedKey = oaep
    ? publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek)
    : publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_PADDING }, cek);
  cek.fill(0);
  const ktri = new pkijs.KeyTransRecipientInfo({
    version: 0,
    rid: new pkijs.IssuerAndSerialNumber({ issuer: recipient.cert.issuer, serialNumber: recipient.cert.serialNumber }),
    keyEncryptionAlgorithm: oaep ? oaepAlgorithm() : new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.1', algorithmParams: new asn1js.Null() }),
    encryptedKey: new asn1js.OctetString({ valueHex: encryptedKey }),
  });
  return new pkijs.EnvelopedData({
    // RFC 5652 6.1: no originatorInfo, no unprotectedAttrs, only version 0 KTRIs → version 0
    version: 0,
    recipientInfos: [new pkijs.RecipientInfo({ variant: 1, value: ktri })],
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID_DATA,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_AES256_CBC, algorithmParams: new asn1js.OctetString({ valueHex: iv }) }),
      // a view, not a copy: asn1js keeps the buffer it is given until toBER
      encryptedContent: new asn1js.OctetString({ valueHex: encrypted }),
      disableSplit: true,
    }),
  });
}

async function ecEnveloped(recipient: RecipientCert, content: Buffer): Promise<pkijs.EnvelopedData> {
  const ed = new pkijs.EnvelopedData({ disableSplit: true });
  ed.addRecipientByCertificate(recipient.cert, { kdfAlgorithm: 'SHA-256', kekEncryptionLength: 256 }, 2, pkijsEngine);
  const kari = ed.recipientInfos[0]?.value;
  if (!(kari instanceof pkijs.KeyAgreeRecipientInfo) || !kari.ukm || kari.ukm.valueBlock.valueHexView.byteLength === 0) {
    throw new Error('pkijs built an ECDH recipient info without ukm');
  }
  await ed.encrypt({ name: 'AES-CBC', length: 256 }, ab(content), pkijsEngine);
  return ed;
}

/** ContentInfo(EnvelopedData) for exactly one recipient, DER. RSA-OAEP when asked or when the certificate's SMIMECapabilities list it. */
export async function buildEnvelopedData(recipient: RecipientCert, content: Buffer, opts: { rsaOaep?: boolean } = {}): Promise<EnvelopedDer> {
  let ed: pkijs.EnvelopedData;
  let keyTransport: KeyTransport;
  if (recipient.kind === 'rsa') {
    const oaep = opts.rsaOaep === true || recipient.asksOaep;
    ed = rsaEnveloped(recipient, content, oaep);
    keyTransport = oaep ? 'rsa-oaep-sha256' : 'rsa-pkcs1v15';
  } else {
    ed = await ecEnveloped(recipient, content);
    keyTransport = 'ecdh-p256-sha256kdf';
  }
  const ci = new pkijs.ContentInfo({ contentType: OID_ENVELOPED_DATA, content: ed.toSchema() });
  return { der: Buffer.from(ci.toSchema().toBER(false)), keyTransport };
}
