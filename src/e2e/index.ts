/** End-to-end encryption transforms: PGP/MIME today, and the already-encrypted pass-through check. */
export { buildPgpMime, streamPgpMime, PGP_DEFAULT_MAX_BYTES, OUTER_HEADERS, PROTECTED_HEADERS, type PgpMimeOptions, type PgpMimeResult, type PgpMimeStream } from './pgp-mime.js';
export { alreadyEncrypted, type EncryptedKind } from './already-encrypted.js';
