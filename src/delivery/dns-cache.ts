/**
 * A bounded answer cache in front of the delivery stage's DNS port: every
 * delivery attempt asks MX, A and AAAA for its domain (and MTA-STS a TXT),
 * so under load the same few names were asked hundreds of times a second,
 * each a round trip to the resolver. Concurrent questions for one name share
 * one lookup; answers (an empty one included) are kept until their time is
 * up:
 *   - A and AAAA: their TTL (the smallest of the set), at most `maxTtlMs`;
 *   - MX and TXT: `maxTtlMs` (Node's resolver does not report their TTL).
 * Failures (SERVFAIL, timeouts) are never kept: the next question asks
 * again. At most `maxEntries` names are kept; the oldest go first.
 */
import type { AddressWithTtl, DnsResolver, MxRecord, TtlResolver } from './dns.js';

export interface DnsCacheOptions {
  /** Longest time an answer is kept (ms); 0 keeps nothing (only concurrent questions are shared). */
  readonly maxTtlMs: number;
  readonly maxEntries?: number;
  readonly now: () => number;
}

interface Entry {
  readonly value: Promise<unknown>;
  /** When the answer stops being used (ms); Infinity while the lookup is under way. */
  expires: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

/** How long an answer of addresses holds (ms): the smallest TTL of the set, at most `maxTtlMs`; an empty answer `maxTtlMs`. Pure. */
export function addressAnswerTtlMs(records: readonly AddressWithTtl[], maxTtlMs: number): number {
  if (records.length === 0) return maxTtlMs;
  let ttl = Infinity;
  for (const r of records) ttl = Math.min(ttl, Math.max(0, r.ttl) * 1000);
  return Math.min(ttl, maxTtlMs);
}

export function cachingResolver(inner: TtlResolver, options: DnsCacheOptions): DnsResolver {
  const entries = new Map<string, Entry>();
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;

  /** The answer for `key`, kept or looked up; each caller gets its own copy of the list (callers may sort it). */
  async function cached<T>(key: string, load: () => Promise<{ value: T[]; ttlMs: number }>): Promise<T[]> {
    return [...(await shared(key, load))];
  }

  function shared<T>(key: string, load: () => Promise<{ value: T[]; ttlMs: number }>): Promise<T[]> {
    const now = options.now();
    const hit = entries.get(key);
    if (hit && hit.expires > now) return hit.value as Promise<T[]>;
    if (hit) entries.delete(key);
    const entry: Entry = { value: Promise.resolve(), expires: Infinity };
    const value = load().then(
      ({ value: v, ttlMs }) => {
        if (entries.get(key) === entry) {
          if (ttlMs > 0) entry.expires = options.now() + ttlMs;
          else entries.delete(key);
        }
        return v;
      },
      (err: unknown) => {
        if (entries.get(key) === entry) entries.delete(key);
        throw err;
      },
    );
    (entry as { value: Promise<unknown> }).value = value;
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
    return value;
  }

  const fixed =
    <T>(lookup: () => Promise<T>) =>
    async (): Promise<{ value: T; ttlMs: number }> => ({ value: await lookup(), ttlMs: options.maxTtlMs });
  const addresses = (name: string, withTtl: ((n: string) => Promise<AddressWithTtl[]>) | undefined, plain: (n: string) => Promise<string[]>) =>
    withTtl
      ? async (): Promise<{ value: string[]; ttlMs: number }> => {
          const records = await withTtl(name);
          return { value: records.map((r) => r.address), ttlMs: addressAnswerTtlMs(records, options.maxTtlMs) };
        }
      : fixed(() => plain(name));

  return {
    mx: (domain) => cached<MxRecord>(`MX ${domain.toLowerCase()}`, fixed(() => inner.mx(domain))),
    a: (name) => cached<string>(`A ${name.toLowerCase()}`, addresses(name, inner.aWithTtl?.bind(inner), (n) => inner.a(n))),
    aaaa: (name) => cached<string>(`AAAA ${name.toLowerCase()}`, addresses(name, inner.aaaaWithTtl?.bind(inner), (n) => inner.aaaa(n))),
    txt: (name) => cached<string[]>(`TXT ${name.toLowerCase()}`, fixed(() => inner.txt(name))),
  };
}
