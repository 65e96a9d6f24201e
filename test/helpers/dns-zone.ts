/**
 * A real DNS server (dns2, UDP) on loopback serving a test zone. Names in the
 * zone answer their records (NOERROR, possibly no answer for other types),
 * other names NXDOMAIN, and names listed in `servfail` SERVFAIL.
 *
 * For key discovery: OPENPGPKEY and SMIMEA records as raw rdata.
 *
 * For DANE tests: TLSA records (type 52, raw rdata on the wire), CNAME
 * records (answered with the target's records of the asked type), names in
 * `secure` answered with the AD bit set (as a validating resolver does for
 * DNSSEC-signed data, including NXDOMAIN/NODATA), and names in `truncate`
 * answered over UDP with TC=1 and nothing else — the full answer is served
 * over TCP on the same port, which is opened only when `truncate` is given.
 *
 * The records array is read on every question, so a test may change it
 * (push, splice) while the zone runs.
 */
import { Socket } from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 response codes (dns2 has them at run time, not in its types). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;
type Resource = (typeof dns2.Packet.prototype.answers)[number];
type Request = InstanceType<typeof dns2.Packet>;
type ServerHandle = ReturnType<typeof dns2.createServer>;

export type ZoneRecord =
  | { readonly name: string; readonly type: 'MX'; readonly exchange: string; readonly priority: number }
  | { readonly name: string; readonly type: 'A'; readonly address: string }
  | { readonly name: string; readonly type: 'AAAA'; readonly address: string }
  | { readonly name: string; readonly type: 'TXT'; readonly data: string | readonly string[] }
  | { readonly name: string; readonly type: 'CNAME'; readonly target: string }
  /** TLSA by its fields, or as raw rdata (`rdata`, e.g. deliberately malformed). */
  | { readonly name: string; readonly type: 'TLSA'; readonly usage: number; readonly selector: number; readonly matchingType: number; readonly data: Buffer }
  | { readonly name: string; readonly type: 'TLSA'; readonly rdata: Buffer }
  /** Key discovery records (RFC 7929, RFC 8162) as raw rdata. */
  | { readonly name: string; readonly type: 'OPENPGPKEY'; readonly rdata: Buffer }
  | { readonly name: string; readonly type: 'SMIMEA'; readonly rdata: Buffer };

export interface DnsZoneOptions {
  readonly servfail?: readonly string[];
  readonly port?: number;
  /** Names answered with the AD bit set. */
  readonly secure?: readonly string[];
  /** Names answered over UDP with TC=1 only; their full answers come over TCP (same port). */
  readonly truncate?: readonly string[];
}

export interface DnsZone {
  /** "127.0.0.1:PORT", for dns.servers. */
  readonly server: string;
  readonly port: number;
  /** Questions asked so far, as "TYPE name". */
  readonly queries: string[];
  /** The questions (as in `queries`) that came with EDNS and the DO bit set. */
  readonly dnssecOk: string[];
  /** The questions (as in `queries`) that came over TCP. */
  readonly tcpQueries: string[];
  close(): Promise<void>;
}

const TYPE_CODES: Record<ZoneRecord['type'], number> = {
  MX: Packet.TYPE.MX,
  A: Packet.TYPE.A,
  AAAA: Packet.TYPE.AAAA,
  TXT: Packet.TYPE.TXT,
  CNAME: Packet.TYPE.CNAME,
  TLSA: 52,
  SMIMEA: 53,
  OPENPGPKEY: 61,
};
const EDNS_TYPE = 41;
const DO_BIT = 0x8000;

export async function startDnsZone(records: readonly ZoneRecord[], options: DnsZoneOptions = {}): Promise<DnsZone> {
  const lower = (n: string): string => n.toLowerCase().replace(/\.$/, '');
  // computed per question: a test may change the records array while the zone runs
  const names = { has: (n: string): boolean => records.some((r) => lower(r.name) === n) };
  const servfail = new Set((options.servfail ?? []).map(lower));
  const secure = new Set((options.secure ?? []).map(lower));
  const truncate = new Set((options.truncate ?? []).map(lower));
  const queries: string[] = [];
  const dnssecOk: string[] = [];
  const tcpQueries: string[] = [];

  /** Answers for `owner` (spelt `spelling` in the answer section), following CNAMEs. */
  const answersFor = (owner: string, spelling: string, type: number, response: Request, seen: Set<string>): void => {
    for (const r of records) {
      if (lower(r.name) !== owner) continue;
      const base = { name: spelling, type: TYPE_CODES[r.type], class: Packet.CLASS.IN, ttl: 60 };
      if (r.type === 'CNAME' && type !== Packet.TYPE.CNAME) {
        response.answers.push({ ...base, domain: r.target } as Resource);
        const target = lower(r.target);
        if (!seen.has(target)) answersFor(target, r.target, type, response, new Set([...seen, target]));
        continue;
      }
      if (TYPE_CODES[r.type] !== type) continue;
      if (r.type === 'MX') response.answers.push({ ...base, exchange: r.exchange, priority: r.priority } as Resource);
      else if (r.type === 'TXT') response.answers.push({ ...base, data: r.data } as Resource);
      else if (r.type === 'CNAME') response.answers.push({ ...base, domain: r.target } as Resource);
      else if (r.type === 'OPENPGPKEY' || r.type === 'SMIMEA') response.answers.push({ ...base, data: r.rdata } as unknown as Resource);
      else if (r.type === 'TLSA') {
        // Raw rdata: dns2 writes a Buffer `data` as-is for a type it has no codec for.
        const rdata = 'rdata' in r ? r.rdata : Buffer.concat([Buffer.from([r.usage, r.selector, r.matchingType]), r.data]);
        response.answers.push({ ...base, data: rdata } as unknown as Resource);
      } else response.answers.push({ ...base, address: r.address } as Resource);
    }
  };

  const handle = (request: Request, send: (response: Request) => unknown, client: unknown): unknown => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    if (!question) return send(response);
    const name = lower(question.name);
    const typeName = Object.entries(TYPE_CODES).find(([, code]) => code === question.type)?.[0] ?? String(question.type);
    const asked = `${typeName} ${name}`;
    const overTcp = client instanceof Socket;
    queries.push(asked);
    if (overTcp) tcpQueries.push(asked);
    const opt = request.additionals.find((r) => r?.type === EDNS_TYPE);
    if (opt && (opt.ttl & DO_BIT) !== 0) dnssecOk.push(asked);
    if (servfail.has(name)) {
      response.header.rcode = RCODE.SERVFAIL;
      return send(response);
    }
    if (secure.has(name)) (response.header as unknown as { ad: number }).ad = 1;
    if (!names.has(name)) {
      response.header.rcode = RCODE.NXDOMAIN;
      return send(response);
    }
    if (truncate.has(name) && !overTcp) {
      response.header.tc = 1;
      return send(response);
    }
    answersFor(name, question.name, question.type, response, new Set([name]));
    return send(response);
  };

  const server = dns2.createServer({ udp: true, handle });
  await server.listen({ udp: { port: options.port ?? 0, address: '127.0.0.1' } });
  const port = server.addresses().udp?.port;
  if (!port) throw new Error('dns2 test server did not bind');
  let tcpServer: ServerHandle | undefined;
  if (truncate.size > 0) {
    tcpServer = dns2.createServer({ tcp: true, handle });
    await tcpServer.listen({ tcp: { port, address: '127.0.0.1' } });
  }
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    dnssecOk,
    tcpQueries,
    close: async () => {
      await Promise.all([server.close(), tcpServer?.close()]);
    },
  };
}
