/**
 * DNS checks, every lookup through the gateway's own resolver (dns.servers):
 * the resolver answers; for each sending domain (the connectors'
 * senderDomains), SPF names the gateway's address, each DKIM selector in
 * dkim.keys publishes the configured key, and MTA-STS / TLS-RPT records
 * exist (advice).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DnsResolver } from '../delivery/dns.js';
import { dkimTxtRecord, zoneLine } from '../dkim/dns-record.js';
import { ipInCidr, parseCidr } from '../net/cidr.js';
import { fail, ok, warn, type DoctorCheck } from './check.js';

/** Pure: the TXT strings of one record joined, as DNS consumers read them. */
const joined = (records: string[][]): string[] => records.map((r) => r.join(''));

/** Pure: whether an SPF record's ip4: / ip6: terms (pass qualifier, "+" or none) cover an address. */
export function spfCoversIp(record: string, ip: string): boolean {
  return record.split(/\s+/).some((term) => {
    const m = /^[+]?ip[46]:(\S+)$/i.exec(term);
    const range = m?.[1] === undefined ? undefined : parseCidr(m[1]);
    return range !== undefined && ipInCidr(ip, range);
  });
}

export async function checkResolver(resolver: DnsResolver, probeName: string, servers: readonly string[]): Promise<DoctorCheck> {
  const where = servers.length ? servers.join(', ') : 'the system resolver';
  try {
    await resolver.a(probeName);
    return ok('resolver', `${where} answers (asked for ${probeName})`);
  } catch (err) {
    return fail('resolver', `${where} does not answer: ${(err as Error).message}`, 'check dns.servers (a validating resolver such as unbound on the same host is best) and the network path to it');
  }
}

/** SPF of one sending domain: it exists and lets the gateway's address send (ip4, a, mx or include terms followed one level). */
export async function checkSpf(resolver: DnsResolver, domain: string, gatewayHost: string): Promise<DoctorCheck> {
  const name = `SPF ${domain}`;
  let records: string[];
  try {
    records = joined(await resolver.txt(domain)).filter((t) => /^v=spf1(\s|$)/i.test(t));
  } catch (err) {
    return fail(name, `lookup failed: ${(err as Error).message}`, 'check the resolver');
  }
  if (records.length === 0) return fail(name, 'no SPF record', `publish "v=spf1 a:${gatewayHost} include:<your mail provider> -all" (receivers then accept mail the gateway sends for ${domain})`);
  if (records.length > 1) return fail(name, `${records.length} SPF records (receivers treat that as an error)`, 'merge them into one TXT record');
  const record = records[0] ?? '';
  const gatewayIps = await resolver.a(gatewayHost).catch(() => [] as string[]);
  if (gatewayIps.length === 0) return warn(name, `found, but ${gatewayHost} has no A record, so which address the gateway sends from is unknown`, `set hostname to the gateway's public name (with an A record), then run doctor again`);
  if (new RegExp(`(^|\\s)[+]?a:${gatewayHost.replace(/\./g, '\\.')}(\\s|$)`, 'i').test(record)) return ok(name, `names the gateway (a:${gatewayHost})`);
  if (gatewayIps.some((ip) => spfCoversIp(record, ip))) return ok(name, `covers the gateway's address (${gatewayIps.join(', ')})`);
  for (const inc of record.split(/\s+/).map((t) => /^[+]?include:(\S+)$/i.exec(t)?.[1]).filter((x): x is string => x !== undefined).slice(0, 10)) {
    const sub = joined(await resolver.txt(inc).catch(() => [])).find((t) => /^v=spf1(\s|$)/i.test(t)) ?? '';
    if (gatewayIps.some((ip) => spfCoversIp(sub, ip)) || new RegExp(`[+]?a:${gatewayHost.replace(/\./g, '\\.')}(\\s|$)`, 'i').test(sub)) return ok(name, `covers the gateway's address through include:${inc}`);
  }
  return fail(name, `does not let ${gatewayHost} (${gatewayIps.join(', ')}) send for ${domain}`, `add "a:${gatewayHost}" (or "ip4:${gatewayIps[0] ?? ''}") before the all term`);
}

/** A DKIM selector publishes the public half of the configured key. */
export async function checkDkim(resolver: DnsResolver, entry: { domain: string; selector: string; keyFile: string }): Promise<DoctorCheck> {
  const name = `DKIM ${entry.selector}._domainkey.${entry.domain}`;
  let expected;
  try {
    expected = dkimTxtRecord(entry.domain, entry.selector, createPublicKey(createPrivateKey(readFileSync(entry.keyFile))));
  } catch {
    return fail(name, `the key file ${entry.keyFile} cannot be read as a private key`, `run "sealgate dkim keygen ${entry.domain} --selector ${entry.selector} --out ${entry.keyFile}"`);
  }
  const want = /p=([^;\s]+)/.exec(expected.value)?.[1] ?? '';
  let published: string[];
  try {
    published = joined(await resolver.txt(expected.name));
  } catch (err) {
    return fail(name, `lookup failed: ${(err as Error).message}`, 'check the resolver');
  }
  const keys = published.map((t) => /(?:^|;)\s*p=([^;\s]*)/.exec(t)?.[1]).filter((p): p is string => p !== undefined);
  if (keys.length === 0) return fail(name, 'not published', `publish ${zoneLine(expected)}`);
  if (!keys.includes(want)) return fail(name, 'published with another key (signatures would not verify)', `replace it with ${zoneLine(expected)}`);
  return ok(name, 'publishes the configured key');
}

/** MTA-STS and TLS-RPT for a sending domain: advice (they protect mail coming in to the domain, and report TLS problems). */
export async function checkStsAndTlsRpt(resolver: DnsResolver, domain: string): Promise<DoctorCheck[]> {
  const has = async (name: string, prefix: RegExp): Promise<boolean> => joined(await resolver.txt(name).catch(() => [])).some((t) => prefix.test(t));
  const out: DoctorCheck[] = [];
  out.push((await has(`_mta-sts.${domain}`, /^v=STSv1/i)) ? ok(`MTA-STS ${domain}`, 'published') : warn(`MTA-STS ${domain}`, 'no _mta-sts TXT record', `publish _mta-sts.${domain} TXT "v=STSv1; id=<date>" and a policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (RFC 8461)`));
  out.push((await has(`_smtp._tls.${domain}`, /^v=TLSRPTv1/i)) ? ok(`TLS-RPT ${domain}`, 'published') : warn(`TLS-RPT ${domain}`, 'no _smtp._tls TXT record', `publish _smtp._tls.${domain} TXT "v=TLSRPTv1; rua=mailto:tlsrpt@${domain}" (RFC 8460)`));
  return out;
}
