/**
 * The CMS object identifiers the S/MIME transform needs beyond the shared
 * X.509 ones in src/crypto/x509-oids.ts.
 */
export const OID_DATA = '1.2.840.113549.1.7.1';
export const OID_ENVELOPED_DATA = '1.2.840.113549.1.7.3';
export const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
export const OID_RSAES_OAEP = '1.2.840.113549.1.1.7';
export const OID_MGF1 = '1.2.840.113549.1.1.8';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_ATTR_SIGNING_TIME = '1.2.840.113549.1.9.5';
/** SMIMECapabilities, as a certificate extension (RFC 4262) or a signed attribute. */
export const OID_SMIME_CAPABILITIES = '1.2.840.113549.1.9.15';
/** id-aes256-wrap (RFC 3394 key wrap), the KARI's key-encryption algorithm. */
export const OID_AES256_WRAP = '2.16.840.1.101.3.4.1.45';
/** dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753). */
export const OID_ECDH_SHA256KDF = '1.3.132.1.11.1';
