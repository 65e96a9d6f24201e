/**
 * Probe a recipient domain: resolve its MX hosts (through dns.servers), probe
 * every address (src/probe/smtp-probe.ts), cache the result in the database
 * (`probe_results`, one row per MX address in probe order; a result with a usable TLS MX lives `positiveTtl`, one
 * without `negativeTtl`), and explain what a protected message to the domain
 * would get.
 */
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import type { DnsResolver } from '../delivery/dns.js';
import type { TransportRequirement } from '../delivery/transport-requirement.js';
import { resolveDestination } from '../delivery/mx.js';
import { isSealgateError } from '../errors.js';
import { daneRequirement, tlsaLabel, verifyDane } from './dane.js';
import { stsMxMatches } from './mta-sts-policy.js';
import type { StsLookup } from './mta-sts.js';
import { probeMx, type MxProbeResult } from './smtp-probe.js';
import type { TlsaLookup } from './tlsa-dns.js';

/** What DANE says about one MX address (only when dns.dnssecValidating is on). */
export interface DaneFacts {
  readonly status: 'not-validating' | 'insecure' | 'none' | 'unusable' | 'usable' | 'lookup-failed';
  readonly reason: string;
  /** DANE applies: whether the presented chain matched a usable TLSA record. */
  readonly verified?: boolean | undefined;
  /** The record that matched, e.g. "3 1 1". */
  readonly matched?: string | undefined;
}

/** The domain's MTA-STS policy as the probe found it (no values beyond the policy itself). */
export interface StsFacts {
  readonly mode: 'enforce' | 'testing' | 'none';
  readonly id?: string | undefined;
  readonly mx: readonly string[];
  readonly source: StsLookup['source'];
  readonly error?: string | undefined;
}

export type ProbedMx = MxProbeResult & { readonly dane?: DaneFacts | undefined };

export interface DomainProbe {
  readonly domain: string;
  readonly probedAt: number;
  readonly route: 'mx' | 'implicit-mx' | 'null-mx' | 'no-route' | 'dns-error';
  readonly mx: readonly ProbedMx[];
  readonly error?: string | undefined;
  /** MTA-STS policy in force for the domain; absent when MTA-STS lookups are off. */
  readonly mtaSts?: StsFacts | undefined;
  /** true when read from the cache. */
  readonly cached?: boolean | undefined;
}

export interface ProbeDeps {
  readonly resolver: DnsResolver;
  readonly random: () => number;
  readonly port: number;
  readonly heloName: string;
  readonly trustedCas: readonly string[];
  readonly timeoutMs: number;
  readonly now: () => number;
  /** The domain's MTA-STS policy (tls.mtaSts.enabled). */
  readonly mtaSts?: ((domain: string) => Promise<StsLookup>) | undefined;
  /** TLSA lookup of an MX host (only when dns.dnssecValidating). */
  readonly tlsa?: ((mxHost: string) => Promise<TlsaLookup>) | undefined;
}

function stsFacts(l: StsLookup): StsFacts {
  const p = l.policy;
  return { mode: p?.mode ?? 'none', id: p?.id, mx: p?.mx ?? [], source: l.source, error: l.error };
}

async function daneFacts(r: MxProbeResult, tlsa: (mxHost: string) => Promise<TlsaLookup>): Promise<DaneFacts> {
  let lookup: TlsaLookup;
  try {
    lookup = await tlsa(r.mx);
  } catch (err) {
    return { status: 'lookup-failed', reason: (err as Error).message };
  }
  const d = daneRequirement({ authenticated: lookup.authenticated, records: lookup.records, dnssecValidating: true, malformed: lookup.malformed });
  if (!d.applies) return { status: d.status, reason: d.reason };
  const chain = (r.chain ?? []).map((b64) => Buffer.from(b64, 'base64'));
  const v = verifyDane(d.usable, chain, { mxHost: r.mx });
  return v.ok ? { status: 'usable', reason: d.reason, verified: true, matched: tlsaLabel(v.matched) } : { status: 'usable', reason: `${d.reason}; ${v.reason}`, verified: false };
}

export async function probeDomain(domain: string, deps: ProbeDeps): Promise<DomainProbe> {
  const probedAt = deps.now();
  let destination;
  try {
    destination = await resolveDestination(domain, deps.resolver, deps.random);
  } catch (err) {
    if (isSealgateError(err, 'SG_DNS_TEMPORARY')) return { domain, probedAt, route: 'dns-error', mx: [], error: err.message };
    throw err;
  }
  const mtaSts = deps.mtaSts ? stsFacts(await deps.mtaSts(domain)) : undefined;
  if (destination.kind !== 'targets') return { domain, probedAt, route: destination.kind, mx: [], mtaSts };
  const mx: ProbedMx[] = [];
  for (const t of destination.targets) {
    for (const ip of t.addresses) {
      const r = await probeMx({ mx: t.host, ip, port: deps.port, heloName: deps.heloName, trustedCas: deps.trustedCas, timeoutMs: deps.timeoutMs }, deps.now);
      mx.push(deps.tlsa ? { ...r, dane: await daneFacts(r, deps.tlsa) } : r);
    }
  }
  return { domain, probedAt, route: destination.implicit ? 'implicit-mx' : 'mx', mx, mtaSts };
}

/** An MX result that satisfies `verify`: STARTTLS, TLS 1.2+, chain valid, name matches, not expired. */
export function verifiedTls(r: MxProbeResult): boolean {
  const c = r.certificate;
  return r.starttls && (r.tlsVersion === 'TLSv1.2' || r.tlsVersion === 'TLSv1.3') && c !== undefined && c.chainValid && c.nameMatches && !c.expired;
}

/** What a delivery to the probed domain would come to: sent now, waiting in the queue (retried), or bounced (permanent). */
export type DeliveryOutcome = 'delivers' | 'waits' | 'bounces';

export interface DeliveryOutlook {
  readonly outcome: DeliveryOutcome;
  /** The MX host it would leave through (outcome `delivers`). */
  readonly via?: string | undefined;
  readonly reasons: readonly string[];
}

export interface ProtectedMailVerdict extends DeliveryOutlook {
  /** How a message that needs verified TLS would leave. */
  readonly method: 'tls-verified' | 'no-secure-route';
}

const TLS12 = (r: ProbedMx): boolean => r.tlsVersion === 'TLSv1.2' || r.tlsVersion === 'TLSv1.3';

/**
 * Pure: what the delivery engine would do with a recipient at the probed
 * domain that carries `requirement` — the one place `sealgate probe` and
 * `sealgate policy test` get "delivers", "waits" or "bounces" from, so the
 * two never disagree. As in delivery (src/delivery/mx.ts): a null MX or a
 * domain without MX and address records bounces at once; a DNS failure, no
 * reachable MX or no MX meeting the requirement waits (retried, never sent
 * weaker) until the message's lifetime runs out.
 */
export function deliveryOutlook(p: DomainProbe, requirement: TransportRequirement): DeliveryOutlook {
  if (p.route === 'null-mx') return { outcome: 'bounces', reasons: ['the domain publishes a null MX: it accepts no mail'] };
  if (p.route === 'no-route') return { outcome: 'bounces', reasons: ['no MX and no address records'] };
  if (p.route === 'dns-error') return { outcome: 'waits', reasons: [`DNS lookup failed: ${p.error ?? 'unknown'}`] };
  const enforce = p.mtaSts?.mode === 'enforce' ? p.mtaSts : undefined;
  const allowed = (r: ProbedMx): boolean => !enforce || stsMxMatches(r.mx, enforce.mx);
  const daneOk = (r: ProbedMx): boolean => r.dane?.verified === true && r.starttls && TLS12(r);
  // DANE, where it applies, is the authentication (RFC 7672); elsewhere the CA system
  const meets = (r: ProbedMx): boolean => {
    if (!r.reachable) return false;
    switch (requirement) {
      case 'none':
      case 'may':
        return true;
      case 'encrypt':
        return r.starttls && TLS12(r);
      case 'verify':
        return r.dane?.status === 'usable' ? daneOk(r) : verifiedTls(r);
      case 'dane':
        return daneOk(r);
    }
  };
  const good = p.mx.find((r) => allowed(r) && meets(r));
  if (good) {
    const secure = requirement === 'verify' || requirement === 'dane';
    const how = !secure
      ? `${good.mx} answers${good.starttls ? ` and offers STARTTLS with ${good.tlsVersion ?? 'TLS'}` : ' (no STARTTLS)'}`
      : good.dane?.verified
        ? `${good.mx} offers STARTTLS with ${good.tlsVersion ?? 'TLS'} and its certificate matches its DNSSEC-signed TLSA record ${good.dane.matched ?? ''} (DANE)`
        : `${good.mx} offers STARTTLS with ${good.tlsVersion ?? 'TLS'} and a valid certificate for its name`;
    return { outcome: 'delivers', via: good.mx, reasons: [enforce ? `${how}; it is listed in the domain's MTA-STS policy (enforce)` : how] };
  }
  const reasons = p.mx.map((r) => {
    if (!allowed(r)) return `${r.mx} [${r.ip}]: not listed in the domain's MTA-STS policy (enforce: ${enforce?.mx.join(', ') ?? ''})`;
    if (!r.reachable) return `${r.mx} [${r.ip}]: unreachable (${r.error ?? 'no answer'})`;
    if (!r.starttls) return `${r.mx} [${r.ip}]: no STARTTLS`;
    if (requirement === 'encrypt') return `${r.mx} [${r.ip}]: TLS version ${r.tlsVersion ?? '?'} below 1.2`;
    if (r.dane?.status === 'usable') return `${r.mx} [${r.ip}]: DANE applies but the certificate does not match the TLSA records (${r.dane.reason})`;
    if (requirement === 'dane') return `${r.mx} [${r.ip}]: no usable DANE TLSA records (${r.dane?.reason ?? 'not looked up'})`;
    if (r.dane?.status === 'lookup-failed') return `${r.mx} [${r.ip}]: TLSA lookup failed (${r.dane.reason}); the host is skipped until it answers`;
    const c = r.certificate;
    if (!c) return `${r.mx} [${r.ip}]: no certificate presented`;
    const problems = [!c.chainValid && `certificate does not chain to a trusted CA (${c.chainError ?? 'unknown'})`, !c.nameMatches && 'certificate does not name the host', c.expired && 'certificate expired or not yet valid', !TLS12(r) && `TLS version ${r.tlsVersion ?? '?'} below 1.2`].filter(Boolean);
    return `${r.mx} [${r.ip}]: ${problems.join('; ')}`;
  });
  return { outcome: 'waits', reasons };
}

/** Pure: what a PHI message (requirement verify) to the probed domain would get, and why. */
export function explainProtectedMail(p: DomainProbe): ProtectedMailVerdict {
  const outlook = deliveryOutlook(p, 'verify');
  return { method: outlook.outcome === 'delivers' ? 'tls-verified' : 'no-secure-route', ...outlook };
}

export interface ProbeCacheTtl {
  readonly positiveMs: number;
  readonly negativeMs: number;
}

/**
 * Replaces the cached result of `p.domain`, in one transaction (the old rows
 * go and the new ones come together). Several nodes probing the same domain
 * at once all succeed: a row another node wrote meanwhile is overwritten
 * (ON CONFLICT … DO UPDATE), the last writer wins row by row.
 */
export async function storeProbe(db: SqlDatabase, p: DomainProbe, ttl: ProbeCacheTtl): Promise<void> {
  const expires = p.probedAt + (explainProtectedMail(p).method === 'tls-verified' ? ttl.positiveMs : ttl.negativeMs);
  // one row per MX address, numbered in probe order; a domain without MX keeps one row with mx '' describing the route
  const rows = p.mx.length ? p.mx.map((r) => ({ mx: r.mx, ip: r.ip, result: { ...r, route: p.route, mtaSts: p.mtaSts } })) : [{ mx: '', ip: '', result: { route: p.route, error: p.error, mtaSts: p.mtaSts } }];
  await db.transaction(async (tx) => {
    await tx.run('DELETE FROM probe_results WHERE domain = ?', [p.domain]);
    for (const [order, row] of rows.entries()) {
      await tx.run(
        `INSERT INTO probe_results (domain, mx, ip, probed_at, expires_at, result, mx_order) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (domain, mx, ip) DO UPDATE SET probed_at = excluded.probed_at, expires_at = excluded.expires_at, result = excluded.result, mx_order = excluded.mx_order`,
        [p.domain, row.mx, row.ip, p.probedAt, expires, JSON.stringify(row.result), order],
      );
    }
  });
}

/** One stored row of a domain's probe result (one MX address). */
export interface ProbeRow {
  readonly mx: string;
  readonly ip: string;
  readonly probed_at: number;
  readonly expires_at: number;
  readonly result: string;
}

export async function loadProbe(db: SqlQueryable, domain: string, now: number): Promise<DomainProbe | undefined> {
  const rows = await db.all<ProbeRow>('SELECT mx, ip, probed_at, expires_at, result FROM probe_results WHERE domain = ? ORDER BY mx_order', [domain]);
  return probeFromRows(domain, rows, now);
}

/**
 * Pure: the cached probe result of `domain` from its rows in probe order
 * (`mx_order`), as `loadProbe` reads them; undefined when there is none or
 * any row has expired.
 */
export function probeFromRows(domain: string, rows: readonly ProbeRow[], now: number): DomainProbe | undefined {
  if (rows.length === 0 || rows.some((r) => r.expires_at <= now)) return undefined;
  const parsed = rows.map((r) => JSON.parse(r.result) as ProbedMx & { route: DomainProbe['route']; error?: string; mtaSts?: StsFacts });
  const first = parsed[0];
  return {
    domain,
    probedAt: rows[0]?.probed_at ?? now,
    route: first?.route ?? 'mx',
    mx: rows[0]?.mx === '' ? [] : parsed.map(({ route: _route, mtaSts: _sts, ...r }) => r),
    mtaSts: first?.mtaSts,
    error: rows[0]?.mx === '' ? first?.error : undefined,
    cached: true,
  };
}
