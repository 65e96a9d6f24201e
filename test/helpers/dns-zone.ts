/**
 * A real DNS server (dns2, UDP) on loopback serving a test zone. Names in the
 * zone answer their records (NOERROR, possibly no answer for other types),
 * other names NXDOMAIN, and names listed in `servfail` SERVFAIL.
 */
import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 response codes (dns2 has them at run time, not in its types). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;
type Resource = (typeof dns2.Packet.prototype.answers)[number];

export type ZoneRecord =
  | { readonly name: string; readonly type: 'MX'; readonly exchange: string; readonly priority: number }
  | { readonly name: string; readonly type: 'A'; readonly address: string }
  | { readonly name: string; readonly type: 'AAAA'; readonly address: string }
  | { readonly name: string; readonly type: 'TXT'; readonly data: string };

export interface DnsZone {
  /** "127.0.0.1:PORT", for dns.servers. */
  readonly server: string;
  readonly port: number;
  /** Questions asked so far, as "TYPE name". */
  readonly queries: string[];
  close(): Promise<void>;
}

const TYPE_CODES: Record<ZoneRecord['type'], number> = { MX: Packet.TYPE.MX, A: Packet.TYPE.A, AAAA: Packet.TYPE.AAAA, TXT: Packet.TYPE.TXT };

export async function startDnsZone(records: readonly ZoneRecord[], options: { servfail?: readonly string[]; port?: number } = {}): Promise<DnsZone> {
  const lower = (n: string): string => n.toLowerCase().replace(/\.$/, '');
  const names = new Set(records.map((r) => lower(r.name)));
  const servfail = new Set((options.servfail ?? []).map(lower));
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      if (!question) return send(response);
      const name = lower(question.name);
      const typeName = Object.entries(TYPE_CODES).find(([, code]) => code === question.type)?.[0] ?? String(question.type);
      queries.push(`${typeName} ${name}`);
      if (servfail.has(name)) {
        response.header.rcode = RCODE.SERVFAIL;
        return send(response);
      }
      if (!names.has(name)) {
        response.header.rcode = RCODE.NXDOMAIN;
        return send(response);
      }
      for (const r of records) {
        if (lower(r.name) !== name || TYPE_CODES[r.type] !== question.type) continue;
        const base = { name: question.name, type: TYPE_CODES[r.type], class: Packet.CLASS.IN, ttl: 60 };
        if (r.type === 'MX') response.answers.push({ ...base, exchange: r.exchange, priority: r.priority } as Resource);
        else if (r.type === 'TXT') response.answers.push({ ...base, data: r.data } as Resource);
        else response.answers.push({ ...base, address: r.address } as Resource);
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: options.port ?? 0, address: '127.0.0.1' } });
  const port = server.addresses().udp?.port;
  if (!port) throw new Error('dns2 test server did not bind');
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    close: () => server.close(),
  };
}
