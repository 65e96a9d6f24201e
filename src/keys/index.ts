/** The recipient key directory: OpenPGP keys and S/MIME certificates with their verdicts. */
export * from './types.js';
export { normalizeAddress, sameAddress } from './address.js';
export { normalizeFingerprint } from './fingerprint.js';
export { pgpVerdict, type PgpFacts } from './pgp-verdict.js';
export { smimeVerdict, type SmimeFacts } from './smime-verdict.js';
export { decideStore, type StoreDecision, type StoredKeyRef } from './replace.js';
export { readKeyFile, planImport, recordFor, verdictFor, currentVerdict, SKIP_TEXT, type KeyCandidate, type ImportPlanItem } from './import.js';
export { loadTrustRoots, type TrustRoots } from './trust-roots.js';
export { SqlKeyDirectory, type KeyDirectory } from './store.js';
