/**
 * Google Workspace's sending ranges from DNS: the SPF record at
 * `_spf.google.com` includes `_netblocks.google.com`, `_netblocks2…` and
 * `_netblocks3…`, whose ip4: / ip6: mechanisms are the ranges (Google says to
 * read them there: support.google.com/a/answer/60764). The TXT lookup is
 * injected (the gateway's resolver, dns.servers), so the walk is testable
 * against a real DNS server and bounded like an SPF evaluation.
 */
import { parseCidr } from '../net/cidr.js';
import { MAX_RANGES } from './presets.js';

/** RFC 7208 4.6.4: at most 10 DNS-querying terms; the root lookup counted too. */
export const MAX_SPF_LOOKUPS = 11;

export type TxtLookup = (name: string) => Promise<string[][]>;

export interface SpfRanges {
  readonly ranges: string[];
  /** Every name read, in order (the root first). */
  readonly names: string[];
}

/** The one v=spf1 record of a name's TXT records (character-strings joined), or an error text. */
export function spfRecord(txt: readonly (readonly string[])[], name: string): string {
  const records = txt.map((parts) => parts.join('')).filter((r) => /^v=spf1(\s|$)/i.test(r));
  if (records.length !== 1) throw new Error(`${name}: expected one v=spf1 TXT record, found ${records.length}`);
  return records[0] ?? '';
}

/**
 * Walks `root` and what it includes (include:, redirect=), collecting the
 * ip4: / ip6: ranges, sorted and without duplicates. Fails (never returns a
 * partial list) when a lookup fails, a name has no SPF record, the walk
 * exceeds the lookup bound, or no range is found.
 */
export async function collectSpfRanges(root: string, txt: TxtLookup): Promise<SpfRanges> {
  const seen = new Set<string>();
  const names: string[] = [];
  const ranges = new Set<string>();
  const queue = [root.toLowerCase()];
  while (queue.length > 0) {
    const name = queue.shift() ?? '';
    if (seen.has(name)) continue;
    seen.add(name);
    if (names.length >= MAX_SPF_LOOKUPS) throw new Error(`more than ${MAX_SPF_LOOKUPS} SPF lookups from ${root}; refusing to follow further`);
    names.push(name);
    const record = spfRecord(await txt(name), name);
    for (const term of record.split(/\s+/).slice(1)) {
      const m = /^[+]?(ip4|ip6|include):(.+)$/i.exec(term) ?? /^(redirect)=(.+)$/i.exec(term);
      if (!m?.[1] || !m[2]) continue;
      const kind = m[1].toLowerCase();
      const value = m[2].toLowerCase();
      if (kind === 'include' || kind === 'redirect') {
        queue.push(value.replace(/\.$/, ''));
        continue;
      }
      const cidr = parseCidr(value);
      if (!cidr || (kind === 'ip4') !== (cidr.family === 4)) throw new Error(`${name}: "${term}" is not a valid ${kind} range`);
      ranges.add(value);
      if (ranges.size > MAX_RANGES) throw new Error(`more than ${MAX_RANGES} ranges under ${root}; refusing`);
    }
  }
  if (ranges.size === 0) throw new Error(`no ip4:/ip6: ranges found under ${root}`);
  const sorted = [...ranges].sort((a, b) => {
    const fa = a.includes(':') ? 6 : 4;
    const fb = b.includes(':') ? 6 : 4;
    if (fa !== fb) return fa - fb;
    const ca = parseCidr(a);
    const cb = parseCidr(b);
    return ca && cb ? (ca.network < cb.network ? -1 : ca.network > cb.network ? 1 : ca.prefix - cb.prefix) : 0;
  });
  return { ranges: sorted, names };
}
