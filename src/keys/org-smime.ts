/**
 * The organisation's S/MIME certificate and key, from a PKCS#12 file (pkijs:
 * MAC checked, PBES2 / PBKDF2 / AES bags — what `openssl pkcs12 -export`
 * writes by default since OpenSSL 3) or from a PEM certificate and key. The
 * legacy PKCS#12 ciphers (RC2, 3DES: `openssl pkcs12 -legacy`, older
 * Windows exports) are not readable by pkijs: such a file is refused with a
 * message that says how to convert it. The leaf is the certificate whose
 * public key matches the private key; the other certificates are its chain.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { pemCertificatesDer } from '../crypto/pem.js';
import { pkijsEngine } from '../crypto/x509-oids.js';
import { SealgateError } from '../errors.js';
import { readRecipientCert } from '../smime/recipient-cert.js';
import { certificateToPem } from './smime.js';
import type { NewOrgKey } from './org-store.js';

const BAG_KEY = '1.2.840.113549.1.12.10.1.1';
const BAG_SHROUDED_KEY = '1.2.840.113549.1.12.10.1.2';
const BAG_CERT = '1.2.840.113549.1.12.10.1.3';

/** PKCS8ShroudedKeyBag.parseInternalValues is declared protected, though it is how pkijs decrypts the bag. */
interface ShroudedKeyBag {
  parseInternalValues(parameters: { password: ArrayBuffer }, crypto?: typeof pkijsEngine): Promise<void>;
  parsedValue?: pkijs.PrivateKeyInfo;
}

function invalid(message: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_FILE_INVALID', { message, cause });
}

function ab(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Certificates (DER) and private keys found in a PKCS#12 file. */
export async function readPkcs12(bytes: Buffer, password: string): Promise<{ certs: Buffer[]; keys: KeyObject[] }> {
  const pw = ab(Buffer.from(password, 'utf8'));
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(ab(bytes));
  } catch (err) {
    throw invalid('not a PKCS#12 file', err);
  }
  try {
    await pfx.parseInternalValues({ password: pw, checkIntegrity: true }, pkijsEngine);
  } catch (err) {
    throw invalid('the PKCS#12 file does not open: wrong password, or a MAC algorithm that is not supported', err);
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw invalid('the PKCS#12 file holds no authenticated safe');
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pw })) }, pkijsEngine);
  } catch (err) {
    if (/Unknown "contentEncryptionAlgorithm"|not supported|Unknown/i.test(messageOf(err))) {
      throw invalid('the PKCS#12 file uses a legacy cipher (RC2 or 3DES, as `openssl pkcs12 -legacy` writes): export it again without -legacy (AES), or import the PEM files with --cert and --key', err);
    }
    throw invalid('the PKCS#12 file does not decrypt: wrong password?', err);
  }
  const certs: Buffer[] = [];
  const keys: KeyObject[] = [];
  for (const sc of safe.parsedValue?.safeContents ?? []) {
    for (const bag of sc.value.safeBags) {
      if (bag.bagId === BAG_CERT) {
        const cb = bag.bagValue as pkijs.CertBag;
        if (cb.parsedValue instanceof pkijs.Certificate) certs.push(Buffer.from(cb.parsedValue.toSchema().toBER(false)));
      } else if (bag.bagId === BAG_SHROUDED_KEY || bag.bagId === BAG_KEY) {
        let info: pkijs.PrivateKeyInfo | undefined;
        try {
          if (bag.bagId === BAG_SHROUDED_KEY) {
            const sk = bag.bagValue as unknown as ShroudedKeyBag;
            await sk.parseInternalValues({ password: pw }, pkijsEngine);
            info = sk.parsedValue;
          } else info = bag.bagValue as pkijs.PrivateKeyInfo;
        } catch (err) {
          throw invalid('the private key in the PKCS#12 file does not decrypt (legacy cipher or wrong password); export it again without -legacy, or use --cert and --key', err);
        }
        if (!info) continue;
        const der = Buffer.from(info.toSchema().toBER(false));
        try {
          keys.push(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
        } finally {
          der.fill(0);
        }
      }
    }
  }
  return { certs, keys };
}

/** Certificates and keys from PEM text (certificate file, key file, optional chain file). */
export function readPemPair(certText: string, keyText: string): { certs: Buffer[]; keys: KeyObject[] } {
  const certs = pemCertificatesDer(certText);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    throw invalid('the key file holds no readable unencrypted private key (PEM: PKCS#8, PKCS#1 or SEC1)', err);
  }
  return { certs, keys: [key] };
}

function algorithmOf(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') return d?.namedCurve === 'prime256v1' ? 'EC P-256' : `EC ${d?.namedCurve ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
}

/**
 * The organisation S/MIME key from certificates and exactly one private key:
 * the leaf is the certificate that matches the key (RSA or EC P-256, as
 * src/smime signs with); the rest become its chain, in file order.
 */
export function orgSmimeKey(found: { certs: Buffer[]; keys: KeyObject[] }): NewOrgKey {
  if (found.keys.length !== 1) throw invalid(found.keys.length === 0 ? 'no private key found' : 'more than one private key found: give the file with one key');
  const key = found.keys[0] as KeyObject;
  const parsed = found.certs.map((der) => ({ der, x: new X509Certificate(der) }));
  const leaf = parsed.find((c) => c.x.checkPrivateKey(key));
  if (!leaf) throw invalid(found.certs.length === 0 ? 'no certificate found' : 'no certificate matches the private key');
  const leafPem = certificateToPem(leaf.der);
  readRecipientCert(leafPem); // RSA or EC P-256, readable by pkijs: what the signer supports
  const chain = parsed.filter((c) => c !== leaf);
  const emails = (leaf.x.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('email:'))
    .map((s) => s.slice(6));
  const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    kind: 'smime',
    fingerprint: createHash('sha256').update(leaf.der).digest('hex'),
    algorithm: algorithmOf(key),
    createdAt: Date.parse(leaf.x.validFrom),
    expiresAt: Date.parse(leaf.x.validTo),
    details: { subject: leaf.x.subject.replace(/\n/g, ', '), issuer: leaf.x.issuer.replace(/\n/g, ', '), serialNumber: leaf.x.serialNumber.toLowerCase(), emails, chain: chain.length },
    publicMaterial: [leafPem, ...chain.map((c) => certificateToPem(c.der))].join(''),
    secret: pkcs8,
  };
}
