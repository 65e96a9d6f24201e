/**
 * `lookupKeys`: discovery for one address, with everything it touches
 * injected (directory, cache, WKD transport, clock). WKD answers are read
 * with the directory's own reader and stored through `KeyDirectory.put`,
 * so the replacement rule holds (an admin key is never replaced, a valid
 * key never replaced by an invalid one, a change audited). A lookup within
 * the cache TTL does not touch the network unless `fresh`.
 */
import { chooseKey, type KeyWhy } from './choose.js';
import { recordFor } from './import.js';
import { cacheFresh, type LookupCache, type LookupOutcome } from './lookup-cache.js';
import type { PgpKeyInfo } from './openpgp.js';
import type { KeyDirectory } from './store.js';
import type { KeyReason, KeyRecord } from './types.js';
import { readWkdAnswer } from './wkd-answer.js';
import { fetchWkd, type WkdFetchResult, type WkdTransport } from './wkd-fetch.js';

export interface LookupDeps {
  readonly directory: KeyDirectory;
  readonly cache: LookupCache;
  /** undefined: keys.discovery.wkd is off. */
  readonly wkd: WkdTransport | undefined;
  readonly now: () => number;
  /** keys.discovery.timeout: the whole lookup. */
  readonly timeoutMs: number;
  readonly ttl: { readonly positiveMs: number; readonly negativeMs: number };
  /** Ignore the cache (`keys lookup --fresh`). */
  readonly fresh?: boolean;
  readonly operator?: string;
}

export interface WkdReport {
  /** `asked`: the network was used; `cached`: the last lookup is still fresh; `disabled`: keys.discovery.wkd is off. */
  readonly state: 'asked' | 'cached' | 'disabled';
  readonly outcome?: LookupOutcome;
  readonly method?: string | null;
  readonly detail?: string | null;
  readonly checkedAt?: number;
}

/** A key the lookup fetched now. */
export interface FoundKey {
  readonly fingerprint: string;
  readonly kind: 'pgp';
  readonly source: 'wkd';
  readonly method: string;
  readonly algorithm: string;
  readonly valid: boolean;
  readonly reason: KeyReason;
  /** inserted / updated in the directory, or not stored and why. */
  readonly stored: 'inserted' | 'updated' | 'not-stored';
  readonly notStoredWhy?: 'admin-key-present' | 'valid-key-present' | 'address-mismatch';
}

export interface LookupResult {
  readonly address: string;
  readonly wkd: WkdReport;
  readonly found: readonly FoundKey[];
  /** The address's directory rows after the lookup (admin keys too). */
  readonly keys: readonly KeyRecord[];
  /** The fingerprint that would be used, if any. */
  readonly used: string | undefined;
  /** Per fingerprint (directory rows and keys found but not stored). */
  readonly why: Readonly<Record<string, KeyWhy>>;
}

async function storeAnswer(fetched: Extract<WkdFetchResult, { outcome: 'found' }>, address: string, deps: LookupDeps, now: number): Promise<{ found: FoundKey[]; outcome: LookupOutcome; detail: string | null }> {
  let answer;
  try {
    answer = await readWkdAnswer(fetched.bytes, address, now);
  } catch {
    return { found: [], outcome: 'failed', detail: `the ${fetched.method} method answered with data that is not OpenPGP keys` };
  }
  const found: FoundKey[] = [];
  const base = (info: PgpKeyInfo) => ({ fingerprint: info.fingerprint, kind: 'pgp' as const, source: 'wkd' as const, method: fetched.method, algorithm: info.algorithm });
  for (const info of answer.foreign) found.push({ ...base(info), valid: false, reason: 'address-mismatch', stored: 'not-stored', notStoredWhy: 'address-mismatch' });
  for (const info of answer.matching) {
    const record = recordFor({ kind: 'pgp', info }, address, 'wkd', now);
    const decision = await deps.directory.put(record, deps.operator ? { operator: deps.operator } : {});
    const stored = decision.action === 'keep' ? { stored: 'not-stored' as const, notStoredWhy: decision.why } : { stored: decision.action === 'insert' ? ('inserted' as const) : ('updated' as const) };
    found.push({ ...base(info), valid: record.valid, reason: record.reason, ...stored });
  }
  if (answer.matching.length === 0) return { found, outcome: 'not-found', detail: `the ${fetched.method} method served no key naming the address` };
  return { found, outcome: 'found', detail: null };
}

/** Discovery for one normalized address: what was found, what is stored, which key would be used. */
export async function lookupKeys(address: string, deps: LookupDeps): Promise<LookupResult> {
  const start = deps.now();
  let wkd: WkdReport = { state: 'disabled' };
  let found: FoundKey[] = [];
  if (deps.wkd) {
    const last = await deps.cache.get(address, 'wkd');
    if (!deps.fresh && last && cacheFresh(last, start, deps.ttl)) {
      wkd = { state: 'cached', outcome: last.outcome, method: last.method, detail: last.detail, checkedAt: last.checkedAt };
    } else {
      const fetched = await fetchWkd(address, { transport: deps.wkd, now: deps.now, deadline: start + deps.timeoutMs });
      const now = deps.now();
      let outcome: LookupOutcome;
      let detail: string | null;
      if (fetched.outcome === 'found') ({ found, outcome, detail } = await storeAnswer(fetched, address, deps, now));
      else ({ outcome, detail } = fetched);
      const method = fetched.outcome === 'found' ? fetched.method : null;
      await deps.cache.put({ address, source: 'wkd', checkedAt: now, outcome, method, detail });
      wkd = { state: 'asked', outcome, method, detail, checkedAt: now };
    }
  }
  const keys = await deps.directory.list({ address });
  const choice = chooseKey(keys, deps.now());
  const why: Record<string, KeyWhy> = { ...choice.why };
  for (const f of found) {
    if (why[f.fingerprint] !== undefined) continue;
    why[f.fingerprint] = f.notStoredWhy === 'admin-key-present' && f.valid ? 'admin-key-present' : f.valid ? 'another-key-preferred' : (f.reason as Exclude<KeyReason, 'valid'>);
  }
  return { address, wkd, found, keys, used: choice.used, why };
}
