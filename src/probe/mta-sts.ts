/**
 * The MTA-STS policy that applies to a recipient domain (RFC 8461 §5):
 * checks the `_mta-sts` TXT id, fetches the policy when the id is new or the
 * cached policy has expired, and keeps policies in the database (table
 * mta_sts_policies; portable SQL: SQLite or PostgreSQL) until max_age. Fail closed: a DNS or fetch error never
 * drops a cached policy, even an expired one; only an answer (a new policy,
 * or no TXT record once the cached policy has expired) replaces it. Lookups
 * are shared while in flight and remembered in memory for `recheckMs`.
 */
import type { SqlQueryable } from '../db/sql-database.js';
import type { DnsResolver } from '../delivery/dns.js';
import { StsFetchError } from './mta-sts-fetch.js';
import { parseStsPolicy, parseStsTxt, StsPolicyError, type StsMode, type StsPolicy } from './mta-sts-policy.js';

export interface CachedStsPolicy extends StsPolicy {
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

export type StsFailure = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export interface StsLookup {
  /** The policy in force, if any (mode none counts as no policy for enforcement). */
  readonly policy?: CachedStsPolicy | undefined;
  /** fetched: just now; cache: cached and current; stale: kept because refreshing failed; none: no policy. */
  readonly source: 'fetched' | 'cache' | 'stale' | 'none';
  /** Why refreshing failed (no values from the policy server beyond its status). */
  readonly error?: string | undefined;
  readonly failure?: StsFailure | undefined;
}

export interface StsDeps {
  readonly db: SqlQueryable;
  readonly resolver: DnsResolver;
  /** The policy text for a domain; throws StsFetchError. */
  readonly fetchText: (domain: string) => Promise<string>;
  readonly now: () => number;
  /** How long a lookup is reused before the TXT record is checked again. */
  readonly recheckMs: number;
}

interface PolicyRow {
  domain: string;
  policy_id: string;
  mode: string;
  mx: string;
  max_age: number;
  fetched_at: number;
  expires_at: number;
}

export async function loadStsPolicy(db: SqlQueryable, domain: string): Promise<CachedStsPolicy | undefined> {
  const row = await db.get<PolicyRow>('SELECT * FROM mta_sts_policies WHERE domain = ?', [domain]);
  if (!row) return undefined;
  const mode = row.mode as StsMode;
  return { id: row.policy_id, mode, mx: JSON.parse(row.mx) as string[], maxAge: row.max_age, fetchedAt: row.fetched_at, expiresAt: row.expires_at };
}

async function storeStsPolicy(db: SqlQueryable, domain: string, p: CachedStsPolicy, now: number): Promise<void> {
  await db.run(
    `INSERT INTO mta_sts_policies (domain, policy_id, mode, mx, max_age, fetched_at, expires_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, mode = excluded.mode, mx = excluded.mx, max_age = excluded.max_age,
       fetched_at = excluded.fetched_at, expires_at = excluded.expires_at, checked_at = excluded.checked_at`,
    [domain, p.id, p.mode, JSON.stringify(p.mx), p.maxAge, p.fetchedAt, p.expiresAt, now],
  );
}

export class MtaStsResolver {
  private readonly recent = new Map<string, { at: number; lookup: StsLookup }>();
  private readonly inFlight = new Map<string, Promise<StsLookup>>();

  constructor(private deps: StsDeps) {}

  /** The policy for a domain, cached in memory for recheckMs. */
  policyFor(domain: string, fresh = false): Promise<StsLookup> {
    const d = domain.toLowerCase();
    const now = this.deps.now();
    const hit = this.recent.get(d);
    if (!fresh && hit && now - hit.at < this.deps.recheckMs && (!hit.lookup.policy || now < hit.lookup.policy.expiresAt)) return Promise.resolve(hit.lookup);
    const pending = this.inFlight.get(d);
    if (pending) return pending;
    const p = this.lookup(d).finally(() => this.inFlight.delete(d));
    this.inFlight.set(d, p);
    return p.then((lookup) => {
      if (this.recent.size > 10_000) this.recent.clear();
      this.recent.set(d, { at: this.deps.now(), lookup });
      return lookup;
    });
  }

  /** Forget in-memory results (after a config reload or `probe --fresh`). */
  forget(domain?: string): void {
    if (domain) this.recent.delete(domain.toLowerCase());
    else this.recent.clear();
  }

  private async lookup(domain: string): Promise<StsLookup> {
    const { db, now } = this.deps;
    const cached = await loadStsPolicy(db, domain);
    const current = cached && now() < cached.expiresAt ? cached : undefined;
    const keep = (error: string, failure: StsFailure): StsLookup =>
      cached ? { policy: cached, source: 'stale', error, failure } : { source: 'none', error, failure };

    let txt;
    try {
      txt = parseStsTxt(await this.deps.resolver.txt(`_mta-sts.${domain}`));
    } catch (err) {
      return keep(`TXT _mta-sts.${domain}: ${(err as Error).message}`, 'sts-policy-fetch-error');
    }
    if (txt.kind === 'invalid') return keep(`TXT _mta-sts.${domain}: ${txt.reason}`, 'sts-policy-invalid');
    if (txt.kind === 'none') {
      // RFC 8461 §5.1: a cached policy stays in force until it expires, even without the record
      if (current) return { policy: current, source: 'cache' };
      if (cached) await db.run('DELETE FROM mta_sts_policies WHERE domain = ?', [domain]);
      return { source: 'none' };
    }
    if (current && current.id === txt.id) {
      await db.run('UPDATE mta_sts_policies SET checked_at = ? WHERE domain = ?', [now(), domain]);
      return { policy: current, source: 'cache' };
    }
    let policy: StsPolicy;
    try {
      policy = parseStsPolicy(txt.id, await this.deps.fetchText(domain));
    } catch (err) {
      if (err instanceof StsPolicyError) return keep(err.message, 'sts-policy-invalid');
      if (err instanceof StsFetchError) return keep(err.message, err.resultType);
      throw err;
    }
    const fetchedAt = now();
    const stored: CachedStsPolicy = { ...policy, fetchedAt, expiresAt: fetchedAt + policy.maxAge * 1000 };
    await storeStsPolicy(db, domain, stored, fetchedAt);
    return { policy: stored, source: 'fetched' };
  }
}
