/**
 * The DNS port of the delivery stage: MX, A and AAAA lookups through the
 * servers in `dns.servers` (or the system resolvers when that list is empty).
 * "No such name" and "no records of this type" are answers (an empty list);
 * anything else (SERVFAIL, timeout, refused) is a temporary failure the
 * caller retries — never treated as "no MX".
 */
import { promises as dnsPromises } from 'node:dns';
import { SealgateError } from '../errors.js';

export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

export interface DnsResolver {
  mx(domain: string): Promise<MxRecord[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** TXT records, each as its character-strings. */
  txt(name: string): Promise<string[][]>;
}

/** An address with its TTL in seconds (resolve4/resolve6 with `ttl: true`). */
export interface AddressWithTtl {
  readonly address: string;
  readonly ttl: number;
}

/** A resolver that can also say how long its address answers hold (createResolver's). */
export interface TtlResolver extends DnsResolver {
  aWithTtl?(name: string): Promise<AddressWithTtl[]>;
  aaaaWithTtl?(name: string): Promise<AddressWithTtl[]>;
}

const NO_DATA = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

function temporary(err: unknown, query: string): SealgateError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  return new SealgateError('SG_DNS_TEMPORARY', { message: `DNS lookup failed temporarily (${code}) for ${query}`, cause: err, detail: { code } });
}

async function answer<T>(query: string, lookup: () => Promise<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch (err) {
    if (NO_DATA.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw temporary(err, query);
  }
}

export interface ResolverOptions {
  /** "host:port" entries from dns.servers; empty: system resolvers. */
  readonly servers: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
}

export function createResolver(options: ResolverOptions): TtlResolver {
  const resolver = new dnsPromises.Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);
  return {
    mx: (domain) => answer(`MX ${domain}`, () => resolver.resolveMx(domain)),
    a: (name) => answer(`A ${name}`, () => resolver.resolve4(name)),
    aaaa: (name) => answer(`AAAA ${name}`, () => resolver.resolve6(name)),
    aWithTtl: (name) => answer(`A ${name}`, () => resolver.resolve4(name, { ttl: true })),
    aaaaWithTtl: (name) => answer(`AAAA ${name}`, () => resolver.resolve6(name, { ttl: true })),
    txt: (name) => answer(`TXT ${name}`, () => resolver.resolveTxt(name)),
  };
}
