/**
 * Asking DNS for an address's OPENPGPKEY or SMIMEA records (names and
 * usage rules: dns-keys.ts). An answer counts only when the resolver set the
 * AD bit (DNSSEC-authenticated) — the caller asks only when
 * dns.dnssecValidating says the resolver validates; an unauthenticated
 * answer is `insecure` and its records are not used. The DNS transport is
 * injected (`dnssecKeyTransport` is the real one: queryDnssec through
 * dns.servers).
 */
import { isSealgateError } from '../errors.js';
import { queryDnssec } from '../net/dnssec-query.js';
import { dnsKeyNames, OPENPGPKEY_TYPE, SMIMEA_SKIP, SMIMEA_TYPE, smimeaUse, type DnsKeyRecordType } from './dns-keys.js';
import { beforeDeadline, type SmimeaCertificate, type SourceFetch } from './source-fetch.js';
import { wkdDomainOk } from './wkd.js';

/** A DNS answer: the rdata of the records of the asked type, and the AD bit. */
export interface DnsKeyAnswer {
  readonly records: readonly Buffer[];
  readonly authenticated: boolean;
}

/** One question; throws on a temporary failure (SERVFAIL, timeout …), never "no records" for one. */
export type DnsKeyTransport = (name: string, type: number, timeoutMs: number) => Promise<DnsKeyAnswer>;

/** Longest rdata accepted from one record (a key or certificate larger than this is not a recipient key). */
export const MAX_DNS_KEY_BYTES = 64 * 1024;

export interface DnsFetchDeps {
  readonly transport: DnsKeyTransport;
  readonly now: () => number;
  /** The lookup's deadline (ms since epoch). */
  readonly deadline: number;
}

const TYPE_CODE: Record<DnsKeyRecordType, number> = { openpgpkey: OPENPGPKEY_TYPE, smimea: SMIMEA_TYPE };
const TYPE_NAME: Record<DnsKeyRecordType, string> = { openpgpkey: 'OPENPGPKEY', smimea: 'SMIMEA' };

function failure(type: DnsKeyRecordType, err: unknown): SourceFetch {
  // The error text names the owner name (a hash of the local part): report the code only.
  const code = isSealgateError(err) ? String(err.detail?.code ?? 'error') : 'error';
  return { outcome: 'failed', detail: `the ${TYPE_NAME[type]} lookup failed (${code})` };
}

async function ask(address: string, type: DnsKeyRecordType, deps: DnsFetchDeps): Promise<SourceFetch> {
  const skipped: string[] = [];
  for (const { variant, name } of dnsKeyNames(address, type)) {
    const left = deps.deadline - deps.now();
    if (left <= 0) return { outcome: 'timeout', detail: 'no DNS answer in time' };
    let answer: DnsKeyAnswer;
    try {
      answer = await deps.transport(name, TYPE_CODE[type], left);
    } catch (err) {
      return failure(type, err);
    }
    if (!answer.authenticated) return { outcome: 'insecure', detail: 'answer not DNSSEC-authenticated: not used' };
    const records = answer.records.filter((r) => r.length <= MAX_DNS_KEY_BYTES);
    if (records.length < answer.records.length) skipped.push(`a record larger than ${MAX_DNS_KEY_BYTES} bytes`);
    if (type === 'openpgpkey') {
      if (records.length > 0) return { outcome: 'found', method: variant, pgp: records, smime: [] };
      continue;
    }
    const smime: SmimeaCertificate[] = [];
    for (const r of records) {
      const u = smimeaUse(r);
      if ('skip' in u) skipped.push(SMIMEA_SKIP[u.skip]);
      else smime.push({ use: u.use, der: u.certificate });
    }
    if (smime.length > 0) return { outcome: 'found', method: variant, pgp: [], smime };
  }
  if (skipped.length > 0) return { outcome: 'not-found', detail: `no usable ${TYPE_NAME[type]} record: ${[...new Set(skipped)].join('; ')}` };
  return { outcome: 'not-found', detail: `no ${TYPE_NAME[type]} record` };
}

/** The address's OPENPGPKEY or SMIMEA records, within the deadline. */
export async function fetchDnsKeys(address: string, type: DnsKeyRecordType, deps: DnsFetchDeps): Promise<SourceFetch> {
  if (!wkdDomainOk(address)) return { outcome: 'failed', detail: "the address's domain is not a DNS host name" };
  return beforeDeadline(ask(address, type, deps), deps.deadline, deps.now, { outcome: 'timeout', detail: 'no DNS answer in time' });
}

/** The real transport: queryDnssec through dns.servers (EDNS DO bit; the AD bit read back); one try per server. */
export function dnssecKeyTransport(servers: readonly string[]): DnsKeyTransport {
  return async (name, type, timeoutMs) => {
    const answer = await queryDnssec(name, type, { servers, timeoutMs, tries: 1 });
    const records: Buffer[] = [];
    for (const r of answer.records) {
      const data = (r as unknown as { data?: unknown }).data;
      if (Buffer.isBuffer(data)) records.push(data);
    }
    return { records, authenticated: answer.authenticated };
  };
}
