/**
 * The X.509 object identifiers and the pkijs crypto engine the certificate
 * code shares (src/tls/x509.ts makes certificates, src/keys/smime.ts reads
 * recipients' ones).
 */
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

export const OID_CN = '2.5.4.3';
export const OID_EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_P256 = '1.2.840.10045.3.1.7';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
export const OID_SHA256_RSA = '1.2.840.113549.1.1.11';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_SUBJECT_KEY_ID = '2.5.29.14';
export const OID_AUTHORITY_KEY_ID = '2.5.29.35';
export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

/** An explicit engine over node:crypto's WebCrypto rather than the global one pkijs installs at import time. */
export const pkijsEngine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto });
