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
export { lookupKeys, LOOKUP_SOURCES, type LookupDeps, type LookupResult, type LookupSource, type FoundKey, type SourceReport, type WkdReport } from './lookup.js';
export { dnsKeyNames, localPartHash, smimeaUse } from './dns-keys.js';
export { dnssecKeyTransport, fetchDnsKeys, type DnsKeyTransport } from './dns-fetch.js';
export { fetchKeyserver, httpsKeyserverTransport, parseKeyserverUrl, type KeyserverTransport } from './keyserver.js';
export { chooseKey, type KeyWhy, type Choice } from './choose.js';
export { SqlLookupCache, type LookupCache, type LookupOutcome } from './lookup-cache.js';
export { httpsWkdTransport, fetchWkd, MAX_WKD_BYTES, type WkdTransport } from './wkd-fetch.js';
export { wkdHash, wkdLocations } from './wkd.js';
