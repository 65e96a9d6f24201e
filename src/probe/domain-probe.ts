/**
 * Probe a recipient domain: resolve its MX hosts (through dns.servers), probe
 * every address (src/probe/smtp-probe.ts), cache the result in SQLite
 * (`probe_results`; a result with a usable TLS MX lives `positiveTtl`, one
 * without `negativeTtl`), and explain what a protected message to the domain
 * would get.
 */
import type { Queryable } from '../db/database.js';
import type { DnsResolver } from '../delivery/dns.js';
import { resolveDestination } from '../delivery/mx.js';
import { isSealgateError } from '../errors.js';
import { probeMx, type MxProbeResult } from './smtp-probe.js';

export interface DomainProbe {
  readonly domain: string;
  readonly probedAt: number;
  readonly route: 'mx' | 'implicit-mx' | 'null-mx' | 'no-route' | 'dns-error';
  readonly mx: readonly MxProbeResult[];
  readonly error?: string | undefined;
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
  if (destination.kind !== 'targets') return { domain, probedAt, route: destination.kind, mx: [] };
  const mx: MxProbeResult[] = [];
  for (const t of destination.targets) {
    for (const ip of t.addresses) mx.push(await probeMx({ mx: t.host, ip, port: deps.port, heloName: deps.heloName, trustedCas: deps.trustedCas, timeoutMs: deps.timeoutMs }, deps.now));
  }
  return { domain, probedAt, route: destination.implicit ? 'implicit-mx' : 'mx', mx };
}

/** An MX result that satisfies `verify`: STARTTLS, TLS 1.2+, chain valid, name matches, not expired. */
export function verifiedTls(r: MxProbeResult): boolean {
  const c = r.certificate;
  return r.starttls && (r.tlsVersion === 'TLSv1.2' || r.tlsVersion === 'TLSv1.3') && c !== undefined && c.chainValid && c.nameMatches && !c.expired;
}

export interface ProtectedMailVerdict {
  /** How a message that needs verified TLS would leave. */
  readonly method: 'tls-verified' | 'no-secure-route';
  readonly via?: string | undefined;
  readonly reasons: readonly string[];
}

/** Pure: what a PHI message (requirement verify) to the probed domain would get, and why. */
export function explainProtectedMail(p: DomainProbe): ProtectedMailVerdict {
  if (p.route === 'null-mx') return { method: 'no-secure-route', reasons: ['the domain publishes a null MX: it accepts no mail'] };
  if (p.route === 'no-route') return { method: 'no-secure-route', reasons: ['no MX and no address records'] };
  if (p.route === 'dns-error') return { method: 'no-secure-route', reasons: [`DNS lookup failed: ${p.error ?? 'unknown'}`] };
  const good = p.mx.find(verifiedTls);
  if (good) return { method: 'tls-verified', via: good.mx, reasons: [`${good.mx} offers STARTTLS with ${good.tlsVersion ?? 'TLS'} and a valid certificate for its name`] };
  const reasons = p.mx.map((r) => {
    if (!r.reachable) return `${r.mx} [${r.ip}]: unreachable (${r.error ?? 'no answer'})`;
    if (!r.starttls) return `${r.mx} [${r.ip}]: no STARTTLS`;
    const c = r.certificate;
    if (!c) return `${r.mx} [${r.ip}]: no certificate presented`;
    const problems = [!c.chainValid && `certificate does not chain to a trusted CA (${c.chainError ?? 'unknown'})`, !c.nameMatches && 'certificate does not name the host', c.expired && 'certificate expired or not yet valid', !(r.tlsVersion === 'TLSv1.2' || r.tlsVersion === 'TLSv1.3') && `TLS version ${r.tlsVersion ?? '?'} below 1.2`].filter(Boolean);
    return `${r.mx} [${r.ip}]: ${problems.join('; ')}`;
  });
  return { method: 'no-secure-route', reasons };
}

export interface ProbeCacheTtl {
  readonly positiveMs: number;
  readonly negativeMs: number;
}

export async function storeProbe(db: Queryable, p: DomainProbe, ttl: ProbeCacheTtl): Promise<void> {
  const expires = p.probedAt + (explainProtectedMail(p).method === 'tls-verified' ? ttl.positiveMs : ttl.negativeMs);
  await db.run('DELETE FROM probe_results WHERE domain = ?', [p.domain]);
  // one row per MX address; a domain without MX keeps one row with mx '' describing the route
  const rows = p.mx.length ? p.mx.map((r) => ({ mx: r.mx, ip: r.ip, result: { ...r, route: p.route } })) : [{ mx: '', ip: '', result: { route: p.route, error: p.error } }];
  for (const row of rows) {
    await db.run('INSERT INTO probe_results (domain, mx, ip, probed_at, expires_at, result) VALUES (?, ?, ?, ?, ?, ?)', [p.domain, row.mx, row.ip, p.probedAt, expires, JSON.stringify(row.result)]);
  }
}

export async function loadProbe(db: Queryable, domain: string, now: number): Promise<DomainProbe | undefined> {
  const rows = await db.all<{ mx: string; ip: string; probed_at: number; expires_at: number; result: string }>('SELECT mx, ip, probed_at, expires_at, result FROM probe_results WHERE domain = ? ORDER BY rowid', [domain]);
  if (rows.length === 0 || rows.some((r) => r.expires_at <= now)) return undefined;
  const parsed = rows.map((r) => JSON.parse(r.result) as MxProbeResult & { route: DomainProbe['route']; error?: string });
  const first = parsed[0];
  return {
    domain,
    probedAt: rows[0]?.probed_at ?? now,
    route: first?.route ?? 'mx',
    mx: rows[0]?.mx === '' ? [] : parsed.map(({ route: _route, ...r }) => r),
    error: rows[0]?.mx === '' ? first?.error : undefined,
    cached: true,
  };
}
