/**
 * The one RecipientInfo of an EnvelopedData: how the content-encryption key
 * (AES-256, chosen by the caller) reaches the recipient. A few hundred bytes,
 * built up front; the content itself is encrypted as a stream
 * (cms-stream.ts), so nothing here sees it.
 *
 * RSA recipients: KeyTransRecipientInfo built around pkijs' ASN.1 classes —
 * WebCrypto has no RSAES-PKCS1-v1_5, so the key is wrapped with node:crypto
 * publicEncrypt (RSA_PKCS1_PADDING by default, or RSA-OAEP with SHA-256 and
 * MGF1-SHA-256 when asked).
 *
 * EC P-256 recipients: KeyAgreeRecipientInfo (RFC 5753), ECDH
 * ephemeral-static with node:crypto, dhSinglePass-stdDH-sha256kdf-scheme
 * (ANSI X9.63 KDF with SHA-256 over ECC-CMS-SharedInfo), AES-256 key wrap
 * (RFC 3394), the ephemeral public key as originator. pkijs' own ECDH code
 * cannot be used with a key chosen outside it (it generates the content key
 * and encrypts the whole content in one WebCrypto call). 64 random bytes of
 * ukm go into it, as pkijs' did before: optional in RFC 5753, read by
 * OpenSSL, and harmless.
 */
import { constants, createCipheriv, createHash, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID_AES256_WRAP, OID_ECDH_SHA256KDF, OID_MGF1, OID_RSAES_OAEP, OID_SHA256 } from './oids.js';
import type { RecipientCert } from './recipient-cert.js';

/** How the content-encryption key reached the recipient. */
export type KeyTransport = 'rsa-pkcs1v15' | 'rsa-oaep-sha256' | 'ecdh-p256-sha256kdf';

export interface RecipientInfoDer {
  /** DER of the one RecipientInfo (a KeyTransRecipientInfo, or a [1]-tagged KeyAgreeRecipientInfo). */
  readonly der: Buffer;
  /** EnvelopedData version that goes with it (RFC 5652 6.1): 0 for a v0 KTRI alone, 2 once a KARI (v3) is there. */
  readonly envelopedVersion: 0 | 2;
  readonly keyTransport: KeyTransport;
}

/** AES key wrap's default initial value (RFC 3394 2.2.3.1). */
const KEY_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const UKM_BYTES = 64;

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

function issuerAndSerial(recipient: RecipientCert): pkijs.IssuerAndSerialNumber {
  return new pkijs.IssuerAndSerialNumber({ issuer: recipient.cert.issuer, serialNumber: recipient.cert.serialNumber });
}

function rsaRecipient(recipient: RecipientCert, cek: Buffer, oaep: boolean): pkijs.RecipientInfo {
  const encryptedKey = oaep
    ? publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek)
    : publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_PADDING }, cek);
  const ktri = new pkijs.KeyTransRecipientInfo({
    version: 0,
    rid: issuerAndSerial(recipient),
    keyEncryptionAlgorithm: oaep ? oaepAlgorithm() : new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.1', algorithmParams: new asn1js.Null() }),
    encryptedKey: new asn1js.OctetString({ valueHex: ab(encryptedKey) }),
  });
  return new pkijs.RecipientInfo({ variant: 1, value: ktri });
}

/** ANSI X9.63 KDF with SHA-256 for a 256-bit key: one block, counter 1 (RFC 5753 7.2). */
export function x963Sha256(sharedSecret: Buffer, sharedInfo: Buffer): Buffer {
  return createHash('sha256').update(sharedSecret).update(Buffer.from([0, 0, 0, 1])).update(sharedInfo).digest();
}

/** AES-256 key wrap (RFC 3394) of the content-encryption key under the derived key-encryption key. */
function aesKeyWrap(kek: Buffer, key: Buffer): Buffer {
  const wrap = createCipheriv('id-aes256-wrap', kek, KEY_WRAP_IV);
  return Buffer.concat([wrap.update(key), wrap.final()]);
}

function ecRecipient(recipient: RecipientCert, cek: Buffer): pkijs.RecipientInfo {
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.publicKey });
  const ukm = randomBytes(UKM_BYTES);
  const kwLength = Buffer.alloc(4);
  kwLength.writeUInt32BE(256);
  const sharedInfo = new pkijs.ECCCMSSharedInfo({
    keyInfo: new pkijs.AlgorithmIdentifier({ algorithmId: OID_AES256_WRAP }),
    entityUInfo: new asn1js.OctetString({ valueHex: ab(ukm) }),
    suppPubInfo: new asn1js.OctetString({ valueHex: ab(kwLength) }),
  });
  const kek = x963Sha256(z, Buffer.from(sharedInfo.toSchema().toBER(false)));
  z.fill(0);
  const wrapped = aesKeyWrap(kek, cek);
  kek.fill(0);
  const spki = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  const kari = new pkijs.KeyAgreeRecipientInfo({
    version: 3,
    originator: new pkijs.OriginatorIdentifierOrKey({ variant: 3, value: pkijs.OriginatorPublicKey.fromBER(ab(spki)) }),
    ukm: new asn1js.OctetString({ valueHex: ab(ukm) }),
    keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID_ECDH_SHA256KDF,
      algorithmParams: new pkijs.AlgorithmIdentifier({ algorithmId: OID_AES256_WRAP }).toSchema(),
    }),
    recipientEncryptedKeys: new pkijs.RecipientEncryptedKeys({
      encryptedKeys: [
        new pkijs.RecipientEncryptedKey({
          rid: new pkijs.KeyAgreeRecipientIdentifier({ variant: 1, value: issuerAndSerial(recipient) }),
          encryptedKey: new asn1js.OctetString({ valueHex: ab(wrapped) }),
        }),
      ],
    }),
  });
  return new pkijs.RecipientInfo({ variant: 2, value: kari });
}

/**
 * The RecipientInfo that carries `cek` (32 bytes) to this recipient. RSA-OAEP
 * when asked or when the certificate's SMIMECapabilities list it. The caller
 * wipes `cek` afterwards.
 */
export function buildRecipientInfo(recipient: RecipientCert, cek: Buffer, opts: { rsaOaep?: boolean } = {}): RecipientInfoDer {
  if (recipient.kind === 'rsa') {
    const oaep = opts.rsaOaep === true || recipient.asksOaep;
    const der = Buffer.from(rsaRecipient(recipient, cek, oaep).toSchema().toBER(false));
    return { der, envelopedVersion: 0, keyTransport: oaep ? 'rsa-oaep-sha256' : 'rsa-pkcs1v15' };
  }
  const der = Buffer.from(ecRecipient(recipient, cek).toSchema().toBER(false));
  return { der, envelopedVersion: 2, keyTransport: 'ecdh-p256-sha256kdf' };
}
