/**
 * Where mail for a domain goes (RFC 5321 §5.1, RFC 7505): the MX hosts in
 * preference order, equal preferences in random order (spreading load as the
 * RFC asks); no MX records → the domain itself is the only host ("implicit
 * MX"); a null MX (one record, preference 0, exchange ".") → the domain
 * accepts no mail and the recipient bounces at once.
 */
import type { DnsResolver, MxRecord } from './dns.js';

export type MxPlan =
  | { readonly kind: 'hosts'; readonly hosts: readonly string[]; readonly implicit: boolean }
  | { readonly kind: 'null-mx' };

function isNullExchange(exchange: string): boolean {
  return exchange === '' || exchange === '.';
}

/** Pure: records (as resolved) → plan. `random` in [0, 1) orders equal preferences. */
export function planMx(domain: string, records: readonly MxRecord[], random: () => number): MxPlan {
  if (records.length === 0) return { kind: 'hosts', hosts: [domain.toLowerCase()], implicit: true };
  // RFC 7505: a null MX is the only record; one mixed with others is ignored as invalid
  const usable = records.filter((r) => !isNullExchange(r.exchange));
  if (usable.length === 0) return { kind: 'null-mx' };
  const keyed = usable.map((r) => ({ host: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority, tiebreak: random() }));
  keyed.sort((x, y) => x.priority - y.priority || x.tiebreak - y.tiebreak);
  const hosts: string[] = [];
  for (const k of keyed) if (!hosts.includes(k.host)) hosts.push(k.host);
  return { kind: 'hosts', hosts, implicit: false };
}

export interface MxTarget {
  readonly host: string;
  readonly addresses: readonly string[];
}

export type Destination =
  | { readonly kind: 'targets'; readonly targets: readonly MxTarget[]; readonly implicit: boolean }
  | { readonly kind: 'null-mx' }
  /** No MX and no address: the domain cannot receive mail (permanent). */
  | { readonly kind: 'no-route' };

/**
 * Resolves a domain to the hosts to try, each with its IPv4 then IPv6
 * addresses. A host without addresses is dropped; if none is left, the
 * domain has no route. Temporary DNS failures propagate (SG_DNS_TEMPORARY).
 */
export async function resolveDestination(domain: string, resolver: DnsResolver, random: () => number): Promise<Destination> {
  const plan = planMx(domain, await resolver.mx(domain), random);
  if (plan.kind === 'null-mx') return plan;
  const targets: MxTarget[] = [];
  for (const host of plan.hosts) {
    const [v4, v6] = await Promise.all([resolver.a(host), resolver.aaaa(host)]);
    const addresses = [...v4, ...v6];
    if (addresses.length > 0) targets.push({ host, addresses });
  }
  return targets.length > 0 ? { kind: 'targets', targets, implicit: plan.implicit } : { kind: 'no-route' };
}
