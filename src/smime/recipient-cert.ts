/**
 * Reads the recipient's certificate (PEM, as the key directory stores it) and
 * says which kind of RecipientInfo it takes.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID_EC_PUBLIC_KEY, OID_P256, OID_RSA_ENCRYPTION } from '../crypto/x509-oids.js';
import { SealgateError } from '../errors.js';
import { OID_RSAES_OAEP, OID_SMIME_CAPABILITIES } from './oids.js';

export type RecipientKeyKind = 'rsa' | 'ec-p256';

export interface RecipientCert {
  readonly cert: pkijs.Certificate;
  readonly publicKey: KeyObject;
  readonly kind: RecipientKeyKind;
  /** The certificate's SMIMECapabilities extension (RFC 4262) lists RSAES-OAEP. */
  readonly asksOaep: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

function unusable(why: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_FILE_INVALID', { message: `recipient certificate unusable for S/MIME: ${why}`, cause });
}

/** Whether an SMIMECapabilities extension names RSAES-OAEP; an unreadable one names nothing. */
function capabilitiesAskOaep(cert: pkijs.Certificate): boolean {
  const ext = cert.extensions?.find((e) => e.extnID === OID_SMIME_CAPABILITIES);
  if (!ext) return false;
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return false;
  return parsed.result.valueBlock.value.some((cap) => {
    const id = cap instanceof asn1js.Sequence ? cap.valueBlock.value[0] : undefined;
    return id instanceof asn1js.ObjectIdentifier && id.valueBlock.toString() === OID_RSAES_OAEP;
  });
}

/** The first certificate in the PEM text. */
export function readRecipientCert(pem: string): RecipientCert {
  const m = PEM_CERT.exec(pem);
  if (!m) throw unusable('no PEM certificate');
  const der = Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
  let cert: pkijs.Certificate;
  let publicKey: KeyObject;
  try {
    cert = pkijs.Certificate.fromBER(der);
    publicKey = new X509Certificate(der).publicKey;
  } catch (err) {
    throw unusable('not a readable certificate', err);
  }
  const alg = cert.subjectPublicKeyInfo.algorithm;
  if (alg.algorithmId === OID_RSA_ENCRYPTION) return { cert, publicKey, kind: 'rsa', asksOaep: capabilitiesAskOaep(cert) };
  if (alg.algorithmId === OID_EC_PUBLIC_KEY) {
    const params = alg.algorithmParams as unknown;
    const curve = params && typeof params === 'object' && 'valueBlock' in params ? String((params as { valueBlock: { toString(): string } }).valueBlock.toString()) : '';
    if (curve === OID_P256) return { cert, publicKey, kind: 'ec-p256', asksOaep: false };
    throw unusable('EC curve not supported (P-256 only)');
  }
  throw unusable('key algorithm not supported (RSA or EC P-256)');
}
