/**
 * One DNS question of any type, asked of the configured servers with EDNS(0)
 * and the DO bit, the answer's AD bit reported as `authenticated`. Node's
 * resolver can neither ask for arbitrary types (TLSA, OPENPGPKEY, SMIMEA)
 * nor show the AD bit, so this speaks DNS itself with dns2's Packet codec
 * over UDP (TCP when the answer is truncated). Used by DANE (TLSA) and key
 * discovery (OPENPGPKEY, SMIMEA).
 *
 * Answers: NOERROR or NXDOMAIN → the answer (records of the type at the
 * asked name, following a CNAME chain inside the answer section). Anything
 * else — SERVFAIL, REFUSED, timeout, a socket error — is a temporary failure
 * (SG_DNS_TEMPORARY) after every server was tried: a failed lookup is never
 * "no records".
 */
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect, isIP } from 'node:net';
import dns2 from 'dns2';
import { SealgateError } from '../errors.js';

const { Packet } = dns2;
export type DnsPacket = InstanceType<typeof Packet>;
export type DnsResource = DnsPacket['answers'][number];

const CNAME_TYPE = 5;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };
/** EDNS UDP payload size we advertise (the 2020 DNS flag day value: avoids IP fragmentation). */
const EDNS_UDP_PAYLOAD = 1232;

/** The header as dns2 has it at run time (its types lack the DNSSEC bits). */
interface HeaderBits {
  ad?: number;
  cd?: number;
  tc?: number;
  rcode: number;
  id: number;
  qr?: number;
  rd?: number;
}

export interface DnssecQueryOptions {
  /** "host:port" entries (dns.servers); IPv6 as "[::1]:53". Empty: the system resolvers. */
  readonly servers: readonly string[];
  /** Per attempt; default 5000. */
  readonly timeoutMs?: number;
  /** Attempts per server; default 2. */
  readonly tries?: number;
}

export interface DnssecAnswer {
  /** The name asked. */
  readonly name: string;
  /** The owner name of the records (differs from `name` after a CNAME). */
  readonly owner: string;
  /** Records of the asked type and class IN at `owner`, in answer order (dns2's decoded resources). */
  readonly records: DnsResource[];
  /** The AD bit of the answer. Meaningful only from a validating resolver. */
  readonly authenticated: boolean;
  /** 0 (NOERROR) or 3 (NXDOMAIN). */
  readonly rcode: number;
  /** The server that answered, "host:port". */
  readonly server: string;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  readonly label: string;
}

/** "1.2.3.4:53", "[::1]:53", "1.2.3.4", "::1" (the last two: port 53, as dns.getServers() gives them). */
export function parseServer(entry: string): DnsServer {
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(entry);
  const v4 = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
  let host: string | undefined;
  let port = 53;
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (v4) {
    host = v4[1];
    if (v4[2]) port = Number(v4[2]);
  } else if (isIP(entry) === 6) {
    host = entry;
  }
  if (!host || port < 1 || port > 65535) throw new TypeError(`DNS server must be "host:port": ${JSON.stringify(entry)}`);
  return { host, port, label: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

export function lowerName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function temporary(query: string, code: string, detail: Record<string, unknown>, cause?: unknown): SealgateError {
  return new SealgateError('SG_DNS_TEMPORARY', { message: `DNS lookup failed temporarily (${code}) for ${query}`, cause, detail: { code, ...detail } });
}

/**
 * Asks `name` type `type` (a number: dns2 need not know the type; records of
 * a type it has no codec for keep their raw rdata in `data`). Tries each
 * server in turn (and each `tries` times); the first NOERROR or NXDOMAIN
 * answer wins. `label` names the query in errors (e.g. "TLSA _25._tcp.mx").
 */
export async function queryDnssec(name: string, type: number, options: DnssecQueryOptions, label = `type ${type} ${name}`): Promise<DnssecAnswer> {
  const entries = options.servers.length > 0 ? options.servers : dnsPromises.getServers();
  if (entries.length === 0) throw temporary(label, 'NOSERVERS', {});
  const servers = entries.map(parseServer);
  const timeoutMs = options.timeoutMs ?? 5000;
  const tries = Math.max(1, options.tries ?? 2);

  let last: SealgateError | undefined;
  for (let attempt = 0; attempt < tries; attempt++) {
    for (const server of servers) {
      let response: DnsPacket;
      try {
        response = await ask(name, type, server, timeoutMs);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'ERROR';
        last = temporary(label, code, { server: server.label }, err);
        continue;
      }
      const header = response.header as unknown as HeaderBits;
      const rcode = header.rcode;
      if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) {
        last = temporary(label, RCODE_NAMES[rcode] ?? `RCODE${rcode}`, { server: server.label, rcode });
        continue;
      }
      return { name, ...collect(name, type, response), authenticated: header.ad === 1, rcode, server: server.label };
    }
  }
  throw last ?? temporary(label, 'ERROR', {});
}

function collect(name: string, type: number, response: DnsPacket): Pick<DnssecAnswer, 'owner' | 'records'> {
  const answers = response.answers.filter((r): r is DnsResource => r !== undefined && r !== null);
  // Follow a CNAME chain from the asked name within the answer section.
  let owner = lowerName(name);
  const seen = new Set<string>([owner]);
  for (;;) {
    const alias = answers.find((r) => r.type === CNAME_TYPE && lowerName(r.name) === owner && typeof r.domain === 'string');
    if (!alias?.domain) break;
    const next = lowerName(alias.domain);
    if (seen.has(next)) break;
    seen.add(next);
    owner = next;
  }
  return { owner, records: answers.filter((r) => r.type === type && r.class === CLASS_IN && lowerName(r.name) === owner) };
}

// ---------------------------------------------------------------------------
// Wire

function buildQuery(name: string, type: number, id: number): Buffer {
  const packet = new Packet();
  const header = packet.header as unknown as HeaderBits;
  header.id = id;
  header.rd = 1;
  // RFC 6840 §5.7: AD in a query asks for the AD bit in the answer.
  header.ad = 1;
  packet.questions.push({ name, type, class: CLASS_IN } as DnsPacket['questions'][number]);
  const edns = (Packet.Resource.EDNS as unknown as (rdata: object[], opts: { doFlag: boolean; udpPayloadSize: number }) => DnsResource)([], {
    doFlag: true,
    udpPayloadSize: EDNS_UDP_PAYLOAD,
  });
  packet.additionals.push(edns);
  return packet.toBuffer();
}

/** The reply to our query, or undefined for a datagram that is not one (kept waiting). */
function acceptReply(message: Buffer, id: number, name: string, type: number): DnsPacket | undefined {
  let packet: DnsPacket;
  try {
    packet = Packet.parse(message);
  } catch {
    return undefined;
  }
  const header = packet.header as unknown as HeaderBits;
  if (header.id !== id || header.qr !== 1) return undefined;
  const [q] = packet.questions;
  if (!q || lowerName(q.name) !== lowerName(name) || q.type !== type) return undefined;
  return packet;
}

async function ask(name: string, type: number, server: DnsServer, timeoutMs: number): Promise<DnsPacket> {
  const id = randomInt(0x10000);
  const query = buildQuery(name, type, id);
  const reply = await exchangeUdp(query, (m) => acceptReply(m, id, name, type), server, timeoutMs);
  if ((reply.header as unknown as HeaderBits).tc !== 1) return reply;
  const tcpReply = acceptReply(await exchangeTcp(query, server, timeoutMs), id, name, type);
  if (!tcpReply) throw Object.assign(new Error('DNS over TCP: reply does not match the query'), { code: 'EBADRESP' });
  return tcpReply;
}

function timeoutError(transport: string, timeoutMs: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`DNS query over ${transport} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
}

function exchangeUdp(query: Buffer, accept: (message: Buffer) => DnsPacket | undefined, server: DnsServer, timeoutMs: number): Promise<DnsPacket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const literal = isIP(server.host) !== 0;
    let done = false;
    const finish = (err: Error | undefined, packet?: DnsPacket): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      try {
        socket.close();
      } catch {
        // already closed after an error
      }
      if (err) reject(err);
      else resolve(packet as DnsPacket);
    };
    const timer = setTimeout(() => finish(timeoutError('UDP', timeoutMs)), timeoutMs);
    socket.on('error', (err) => finish(err));
    socket.on('message', (message: Buffer, rinfo: RemoteInfo) => {
      // Only the server we asked, with our id and question, is an answer.
      if (rinfo.port !== server.port || (literal && rinfo.address !== server.host)) return;
      const packet = accept(message);
      if (packet) finish(undefined, packet);
    });
    socket.send(query, server.port, server.host, (err) => {
      if (err) finish(err);
    });
  });
}

function exchangeTcp(query: Buffer, server: DnsServer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (err: Error | undefined, message?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(message as Buffer);
    };
    const timer = setTimeout(() => finish(timeoutError('TCP', timeoutMs)), timeoutMs);
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks, received);
      if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) finish(undefined, all.subarray(2, 2 + all.readUInt16BE(0)));
    });
    socket.on('end', () => finish(Object.assign(new Error('DNS over TCP: connection closed before the reply'), { code: 'ECONNRESET' })));
  });
}
