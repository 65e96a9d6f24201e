/**
 * `lookupKeys`: discovery for one address, with everything it touches
 * injected (directory, cache, one transport per enabled source, clock).
 * Every enabled source — WKD, DNS OPENPGPKEY, DNS SMIMEA, the key server —
 * is asked at once, all within the one `timeoutMs`; what a source has not
 * answered by then counts as `timeout` (no key from it). Each source's
 * outcome is cached on its own (table key_lookups, source column): a source
 * within its TTL does not touch the network unless `fresh`.
 *
 * Answers are read with the directory's own readers and stored through
 * `KeyDirectory.put`, one source after another from the most trusted to the
 * least trusted (SMIMEA, OPENPGPKEY, WKD, key server: a less trusted source's
 * different key is then simply not stored, rather than stored and replaced
 * at once), so the replacement rule holds (replace.ts: an admin key is never replaced, a valid key never
 * replaced by an invalid one or by one from a less trusted source, a change
 * audited).
 */
import type * as pkijs from 'pkijs';
import { sameAddress } from './address.js';
import { chooseForDelivery, type KeyWhy } from './choose.js';
import type { RevocationDeps } from './revocation.js';
import { recheckRevocation, revocationDue } from './revocation-record.js';
import { fetchDnsKeys, type DnsKeyTransport } from './dns-fetch.js';
import { smimeaChainTrusted } from './dns-keys.js';
import { recordFor, type KeyCandidate } from './import.js';
import { fetchKeyserver, type KeyserverTransport } from './keyserver.js';
import { cacheFresh, type LookupCache, type LookupOutcome } from './lookup-cache.js';
import { inspectCertificate, readCertificates } from './smime.js';
import type { SourceFetch } from './source-fetch.js';
import type { KeyDirectory } from './store.js';
import type { KeyReason, KeyRecord, KeySource } from './types.js';
import { readWkdAnswer } from './wkd-answer.js';
import { fetchWkd, type WkdTransport } from './wkd-fetch.js';

/** The discovery sources, in the order they are stored (most trusted first). */
export const LOOKUP_SOURCES = ['smimea', 'openpgpkey', 'wkd', 'keyserver'] as const;
export type LookupSource = (typeof LOOKUP_SOURCES)[number];

/** The directory's source of a key found by each discovery source. */
const KEY_SOURCE: Record<LookupSource, KeySource> = { keyserver: 'keyserver', wkd: 'wkd', openpgpkey: 'dns', smimea: 'dns' };

export interface LookupDeps {
  readonly directory: KeyDirectory;
  readonly cache: LookupCache;
  /** undefined: keys.discovery.wkd is off. */
  readonly wkd: WkdTransport | undefined;
  /** undefined: DNS discovery is off (keys.discovery.dns false, or dns.dnssecValidating false: see `dnsOff`). */
  readonly dns?: DnsKeyTransport | undefined;
  /** Why DNS discovery is off, for the report. */
  readonly dnsOff?: string;
  /** undefined: keys.discovery.keyserver is not set. */
  readonly keyserver?: { readonly transport: KeyserverTransport; readonly host: string } | undefined;
  /** S/MIME trust roots (keys.smimeTrustRoots or the system store), loaded only when an SMIMEA certificate arrives. */
  readonly smimeRoots?: () => Promise<readonly pkijs.Certificate[]>;
  /** keys.revocation: certificates found by discovery are checked; stored ones re-checked once keys.revocation.maxAge old. Absent: off. */
  readonly revocation?: { readonly deps: RevocationDeps; readonly maxAgeMs: number } | undefined;
  readonly now: () => number;
  /** keys.discovery.timeout: the whole lookup. */
  readonly timeoutMs: number;
  readonly ttl: { readonly positiveMs: number; readonly negativeMs: number };
  /** Ignore the cache (`keys lookup --fresh`). */
  readonly fresh?: boolean;
  readonly operator?: string;
  /** keys.prefer: which kind is used when the address has a valid key of each (default smime). */
  readonly prefer?: 'smime' | 'pgp';
}

export interface SourceReport {
  /** `asked`: the network was used; `cached`: the last lookup is still fresh; `disabled`: the source is off. */
  readonly state: 'asked' | 'cached' | 'disabled';
  readonly outcome?: LookupOutcome;
  readonly method?: string | null;
  /** Why nothing was found; for `disabled`, why the source is off. */
  readonly detail?: string | null;
  readonly checkedAt?: number;
}
/** The WKD report (the first source; the name is kept for callers). */
export type WkdReport = SourceReport;

/** A key the lookup fetched now. */
export interface FoundKey {
  readonly fingerprint: string;
  readonly kind: 'pgp' | 'smime';
  readonly source: 'wkd' | 'dns' | 'keyserver';
  /** The source's method: advanced/direct (WKD), vks/hkp (key server), as-written/lower-case (DNS owner name). */
  readonly method: string;
  readonly algorithm: string;
  readonly valid: boolean;
  readonly reason: KeyReason;
  /** inserted / updated in the directory, or not stored and why. */
  readonly stored: 'inserted' | 'updated' | 'not-stored';
  readonly notStoredWhy?: 'admin-key-present' | 'valid-key-present' | 'trusted-source-key-present' | 'address-mismatch' | 'ca-certificate';
}

export interface LookupResult {
  readonly address: string;
  readonly wkd: SourceReport;
  /** Every source's report, WKD included. */
  readonly sources: Readonly<Record<LookupSource, SourceReport>>;
  readonly found: readonly FoundKey[];
  /** The address's directory rows after the lookup (admin keys too). */
  readonly keys: readonly KeyRecord[];
  /** The fingerprint that would be used, if any. */
  readonly used: string | undefined;
  /** Per fingerprint (directory rows and keys found but not stored). */
  readonly why: Readonly<Record<string, KeyWhy>>;
}

/** Reads a source's answer into candidates naming the address, and those set aside. Throws when the data is not keys. */
async function candidatesOf(
  fetched: Extract<SourceFetch, { outcome: 'found' }>,
  address: string,
  roots: readonly pkijs.Certificate[],
  now: number,
  revocation: RevocationDeps | undefined,
): Promise<{ matching: KeyCandidate[]; aside: { c: KeyCandidate; why: 'address-mismatch' | 'ca-certificate' }[]; smimea: Map<string, 'pkix-ee' | 'dane-ee'> }> {
  const matching: KeyCandidate[] = [];
  const smimea = new Map<string, 'pkix-ee' | 'dane-ee'>();
  const aside: { c: KeyCandidate; why: 'address-mismatch' | 'ca-certificate' }[] = [];
  for (const bytes of fetched.pgp) {
    const answer = await readWkdAnswer(bytes, address, now);
    for (const info of answer.matching) matching.push({ kind: 'pgp', info });
    for (const info of answer.foreign) aside.push({ c: { kind: 'pgp', info }, why: 'address-mismatch' });
  }
  for (const s of fetched.smime) {
    const [parsed] = readCertificates({ bytes: s.der });
    if (!parsed) throw new Error('no certificate');
    const info = await inspectCertificate(parsed, [], roots, now, revocation);
    const c: KeyCandidate = { kind: 'smime', info: { ...info, facts: { ...info.facts, chainTrusted: smimeaChainTrusted(s.use, info.facts.chainTrusted) } } };
    smimea.set(info.fingerprint, s.use);
    if (info.isCa) aside.push({ c, why: 'ca-certificate' });
    else if (info.emails.some((e) => sameAddress(e, address))) matching.push(c);
    else aside.push({ c, why: 'address-mismatch' });
  }
  return { matching, aside, smimea };
}

/** How an answer is named in a detail: "the direct method", "the VKS answer", "the SMIMEA record". */
function answerName(source: LookupSource, method: string): string {
  if (source === 'wkd') return `the ${method} method`;
  if (source === 'keyserver') return `the ${method.toUpperCase()} answer`;
  return `the ${source.toUpperCase()} record`;
}

async function storeAnswer(source: LookupSource, fetched: Extract<SourceFetch, { outcome: 'found' }>, address: string, deps: LookupDeps, now: number): Promise<{ found: FoundKey[]; outcome: LookupOutcome; detail: string | null }> {
  const what = source === 'smimea' ? 'certificates' : 'OpenPGP keys';
  // outside the try: an unreadable keys.smimeTrustRoots file is a config error, not a bad answer
  const roots = fetched.smime.length > 0 && deps.smimeRoots ? await deps.smimeRoots() : [];
  let read;
  try {
    read = await candidatesOf(fetched, address, roots, now, deps.revocation?.deps);
  } catch {
    return { found: [], outcome: 'failed', detail: `${answerName(source, fetched.method)} answered with data that is not ${what}` };
  }
  const keySource = KEY_SOURCE[source];
  const found: FoundKey[] = [];
  const base = (c: KeyCandidate) => ({ fingerprint: c.info.fingerprint, kind: c.kind, source: keySource as FoundKey['source'], method: fetched.method, algorithm: c.info.algorithm });
  // a CA certificate's key usage is for signing certificates, not for encryption
  for (const { c, why } of read.aside) found.push({ ...base(c), valid: false, reason: why === 'ca-certificate' ? 'key-usage' : 'address-mismatch', stored: 'not-stored', notStoredWhy: why });
  for (const c of read.matching) {
    const use = read.smimea.get(c.info.fingerprint);
    const plain = recordFor(c, address, keySource, now);
    const record = use === undefined ? plain : { ...plain, details: { ...plain.details, smimea: use } };
    const decision = await deps.directory.put(record, deps.operator ? { operator: deps.operator } : {});
    const stored = decision.action === 'keep' ? { stored: 'not-stored' as const, notStoredWhy: decision.why } : { stored: decision.action === 'insert' ? ('inserted' as const) : ('updated' as const) };
    found.push({ ...base(c), valid: record.valid, reason: record.reason, ...stored });
  }
  if (read.matching.length === 0) return { found, outcome: 'not-found', detail: `${answerName(source, fetched.method)} served no ${source === 'smimea' ? 'end-entity certificate' : 'key'} naming the address` };
  return { found, outcome: 'found', detail: null };
}

/** The fetch of one enabled source, or why it is off. */
function fetcherFor(source: LookupSource, address: string, deps: LookupDeps, deadline: number): (() => Promise<SourceFetch>) | { off: string | undefined } {
  const now = deps.now;
  switch (source) {
    case 'wkd': {
      const transport = deps.wkd;
      // no detail: the WKD report's shape predates the other sources (docs/keys.md)
      if (!transport) return { off: undefined };
      return async () => {
        const f = await fetchWkd(address, { transport, now, deadline });
        return f.outcome === 'found' ? { outcome: 'found', method: f.method, pgp: [f.bytes], smime: [] } : f;
      };
    }
    case 'openpgpkey':
    case 'smimea': {
      const transport = deps.dns;
      if (!transport) return { off: deps.dnsOff ?? 'keys.discovery.dns: false' };
      return () => fetchDnsKeys(address, source, { transport, now, deadline });
    }
    case 'keyserver': {
      const ks = deps.keyserver;
      if (!ks) return { off: 'keys.discovery.keyserver is not set' };
      return () => fetchKeyserver(address, { transport: ks.transport, host: ks.host, now, deadline });
    }
  }
}

/**
 * Stored S/MIME certificates whose last revocation check is keys.revocation.maxAge
 * old are checked again before the choice (so a certificate revoked since
 * it was stored is not used); a changed record is stored back (audited).
 */
async function recheckStored(keys: KeyRecord[], deps: LookupDeps): Promise<KeyRecord[]> {
  const r = deps.revocation;
  if (!r || !keys.some((k) => revocationDue(k, deps.now(), r.maxAgeMs))) return keys;
  const issuers = deps.smimeRoots ? await deps.smimeRoots() : [];
  const out: KeyRecord[] = [];
  for (const k of keys) {
    const next = await recheckRevocation(k, { ...r.deps, maxAgeMs: r.maxAgeMs, issuers });
    if (next !== k) await deps.directory.put(next, deps.operator ? { operator: deps.operator } : {});
    out.push(next);
  }
  return out;
}

/** Discovery for one normalized address: what was found, what is stored, which key would be used. */
export async function lookupKeys(address: string, deps: LookupDeps): Promise<LookupResult> {
  const start = deps.now();
  const deadline = start + deps.timeoutMs;
  const plans = await Promise.all(
    LOOKUP_SOURCES.map(async (source) => {
      const fetcher = fetcherFor(source, address, deps, deadline);
      if (typeof fetcher !== 'function') return { source, report: (fetcher.off === undefined ? { state: 'disabled' } : { state: 'disabled', detail: fetcher.off }) as SourceReport };
      const last = await deps.cache.get(address, source);
      if (!deps.fresh && last && cacheFresh(last, start, deps.ttl)) {
        return { source, report: { state: 'cached', outcome: last.outcome, method: last.method, detail: last.detail, checkedAt: last.checkedAt } as SourceReport };
      }
      return { source, fetched: await fetcher() };
    }),
  );
  // Stored one source after another, most trusted first (LOOKUP_SOURCES order).
  const sources = {} as Record<LookupSource, SourceReport>;
  const found: FoundKey[] = [];
  for (const plan of plans) {
    if (!('fetched' in plan) || plan.fetched === undefined) {
      sources[plan.source] = plan.report;
      continue;
    }
    const fetched = plan.fetched;
    const now = deps.now();
    let outcome: LookupOutcome;
    let detail: string | null;
    if (fetched.outcome === 'found') {
      const stored = await storeAnswer(plan.source, fetched, address, deps, now);
      ({ outcome, detail } = stored);
      found.push(...stored.found);
    } else ({ outcome, detail } = fetched);
    const method = fetched.outcome === 'found' ? fetched.method : null;
    await deps.cache.put({ address, source: plan.source, checkedAt: now, outcome, method, detail });
    sources[plan.source] = { state: 'asked', outcome, method, detail, checkedAt: now };
  }
  const keys = await recheckStored(await deps.directory.list({ address }), deps);
  const choice = chooseForDelivery(keys, deps.now(), deps.prefer ?? 'smime');
  const why: Record<string, KeyWhy> = { ...choice.why };
  for (const f of found) {
    if (why[f.fingerprint] !== undefined) continue;
    const notStored = f.notStoredWhy === 'admin-key-present' || f.notStoredWhy === 'trusted-source-key-present' ? f.notStoredWhy : undefined;
    why[f.fingerprint] = notStored && f.valid ? notStored : f.valid ? 'another-key-preferred' : (f.reason as Exclude<KeyReason, 'valid'>);
  }
  return { address, wkd: sources.wkd, sources, found, keys, used: choice.used, why };
}
