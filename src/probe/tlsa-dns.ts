/**
 * TLSA lookups for DANE (RFC 7672 §2.2): `_PORT._tcp.<mx>` type TLSA (52),
 * asked of the configured servers with EDNS(0) and the DO bit, and the AD bit
 * of the answer reported as `authenticated`. Node's resolver can neither ask
 * for TLSA nor show the AD bit, so this speaks DNS itself with dns2's Packet
 * codec over UDP (TCP when the answer is truncated).
 *
 * Answers: NOERROR with records → the records; NXDOMAIN or NOERROR without
 * TLSA (NODATA) → no records. Anything else — SERVFAIL, REFUSED, timeout, a
 * socket error — is a temporary failure (SG_DNS_TEMPORARY) after every
 * server was tried: RFC 7672 §2.2 forbids treating a failed TLSA lookup as
 * "no TLSA".
 *
 * dns2 has no TLSA type. registerTlsaType() adds it to dns2's Packet (type
 * table and rdata codec) once per process without disturbing other dns2
 * users: decoded TLSA records keep the raw rdata in `data`, exactly as dns2
 * gave it before, and only gain `usage`, `selector`, `matchingType` and
 * `certificate`; if something else already owns type 52 it is left alone and
 * this module decodes the raw rdata itself.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect, isIP } from 'node:net';
import dns2 from 'dns2';
import { SealgateError } from '../errors.js';
import type { TlsaRecord } from './dane.js';

const { Packet } = dns2;
type DnsPacket = InstanceType<typeof Packet>;
type DnsResource = DnsPacket['answers'][number];

export const TLSA_TYPE = 52;
const CNAME_TYPE = 5;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };
/** EDNS UDP payload size we advertise (the 2020 DNS flag day value: avoids IP fragmentation). */
const EDNS_UDP_PAYLOAD = 1232;

// ---------------------------------------------------------------------------
// dns2 registration

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

interface TlsaResource {
  usage?: number;
  selector?: number;
  matchingType?: number;
  certificate?: Buffer;
  data?: unknown;
}

interface Reader {
  read(bits: number): number;
}
interface Writer {
  write(value: number, bits: number): void;
}

const TLSA_CODEC = {
  decode(this: TlsaResource, reader: Reader, length: number): TlsaResource {
    const raw = Buffer.alloc(length);
    for (let i = 0; i < length; i++) raw[i] = reader.read(8);
    // Keep what dns2 gave before the type was known: the raw rdata in `data`.
    this.data = raw;
    const decoded = decodeTlsaRdata(raw);
    if (decoded) {
      this.usage = decoded.usage;
      this.selector = decoded.selector;
      this.matchingType = decoded.matchingType;
      this.certificate = decoded.data;
    }
    return this;
  },
  encode(record: TlsaResource, writer: Writer): void {
    let bytes: Buffer;
    if (typeof record.usage === 'number' && typeof record.selector === 'number' && typeof record.matchingType === 'number' && Buffer.isBuffer(record.certificate)) {
      bytes = encodeTlsaRdata({ usage: record.usage, selector: record.selector, matchingType: record.matchingType, data: record.certificate });
    } else if (Buffer.isBuffer(record.data)) {
      bytes = record.data;
    } else {
      throw new TypeError('TLSA encode: needs usage, selector, matchingType and certificate (Buffer), or raw rdata in data');
    }
    for (const byte of bytes) writer.write(byte, 8);
  },
};

/**
 * Teaches dns2's Packet the TLSA type (52) and its rdata codec. Idempotent;
 * leaves an existing registration of type 52 (or of the name TLSA) alone.
 */
export function registerTlsaType(): void {
  const types = Packet.TYPE as unknown as Record<string, number>;
  const resources = Packet.Resource as unknown as Record<string, unknown>;
  const owner = Object.keys(types).find((k) => types[k] === TLSA_TYPE);
  if (owner === undefined) {
    if (types.TLSA !== undefined) return; // the name is taken by something else
    types.TLSA = TLSA_TYPE;
  } else if (owner !== 'TLSA') {
    return;
  }
  if (!(Object.prototype.hasOwnProperty.call(resources, 'TLSA'))) resources.TLSA = TLSA_CODEC;
}

/** TLSA rdata → record; undefined when shorter than its three fixed octets. */
export function decodeTlsaRdata(rdata: Uint8Array): TlsaRecord | undefined {
  if (rdata.length < 3) return undefined;
  return { usage: rdata[0] as number, selector: rdata[1] as number, matchingType: rdata[2] as number, data: Buffer.from(rdata.subarray(3)) };
}

export function encodeTlsaRdata(r: TlsaRecord): Buffer {
  for (const [k, v] of [['usage', r.usage], ['selector', r.selector], ['matchingType', r.matchingType]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`TLSA ${k} must be 0..255`);
  }
  return Buffer.concat([Buffer.from([r.usage, r.selector, r.matchingType]), r.data]);
}

// ---------------------------------------------------------------------------
// Lookup

export interface TlsaLookupOptions {
  /** "host:port" entries (dns.servers); IPv6 as "[::1]:53". Empty: the system resolvers. */
  readonly servers: readonly string[];
  /** Per attempt; default 5000. */
  readonly timeoutMs?: number;
  /** Attempts per server; default 2. */
  readonly tries?: number;
  /** SMTP port of the TLSA owner name; default 25. */
  readonly port?: number;
}

export interface TlsaLookup {
  /** The name asked, `_25._tcp.<mx>`. */
  readonly name: string;
  /** The owner name of the records (differs from `name` after a CNAME). */
  readonly owner: string;
  /** Decoded TLSA records, in answer order. */
  readonly records: TlsaRecord[];
  /** TLSA records whose rdata was too short to decode (unusable). */
  readonly malformed: number;
  /** The AD bit of the answer. Meaningful only from a validating resolver. */
  readonly authenticated: boolean;
  /** 0 (NOERROR) or 3 (NXDOMAIN). */
  readonly rcode: number;
  /** Smallest TTL of the TLSA records, for caching; undefined without records. */
  readonly ttl: number | undefined;
  /** The server that answered, "host:port". */
  readonly server: string;
}

interface Server {
  readonly host: string;
  readonly port: number;
  readonly label: string;
}

/** "1.2.3.4:53", "[::1]:53", "1.2.3.4", "::1" (the last two: port 53, as dns.getServers() gives them). */
export function parseServer(entry: string): Server {
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

export function tlsaName(mxHost: string, port = 25): string {
  return `_${port}._tcp.${mxHost.toLowerCase().replace(/\.$/, '')}`;
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function temporary(query: string, code: string, detail: Record<string, unknown>, cause?: unknown): SealgateError {
  return new SealgateError('SG_DNS_TEMPORARY', { message: `DNS lookup failed temporarily (${code}) for ${query}`, cause, detail: { code, ...detail } });
}

/**
 * Looks up the TLSA records of an MX host. Tries each server in turn (and
 * each `tries` times); the first NOERROR or NXDOMAIN answer wins. Throws
 * SG_DNS_TEMPORARY when no server gave one.
 */
export async function lookupTlsa(mxHost: string, options: TlsaLookupOptions): Promise<TlsaLookup> {
  registerTlsaType();
  const name = tlsaName(mxHost, options.port ?? 25);
  const query = `TLSA ${name}`;
  const entries = options.servers.length > 0 ? options.servers : dnsPromises.getServers();
  if (entries.length === 0) throw temporary(query, 'NOSERVERS', {});
  const servers = entries.map(parseServer);
  const timeoutMs = options.timeoutMs ?? 5000;
  const tries = Math.max(1, options.tries ?? 2);

  let last: SealgateError | undefined;
  for (let attempt = 0; attempt < tries; attempt++) {
    for (const server of servers) {
      let response: DnsPacket;
      try {
        response = await ask(name, server, timeoutMs);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'ERROR';
        last = temporary(query, code, { server: server.label }, err);
        continue;
      }
      const header = response.header as unknown as HeaderBits;
      const rcode = header.rcode;
      if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) {
        last = temporary(query, RCODE_NAMES[rcode] ?? `RCODE${rcode}`, { server: server.label, rcode });
        continue;
      }
      return { name, ...collect(name, response), authenticated: header.ad === 1, rcode, server: server.label };
    }
  }
  throw last ?? temporary(query, 'ERROR', {});
}

function collect(name: string, response: DnsPacket): Pick<TlsaLookup, 'owner' | 'records' | 'malformed' | 'ttl'> {
  const answers = response.answers.filter((r): r is DnsResource => r !== undefined && r !== null);
  // Follow a CNAME chain from the asked name within the answer section.
  let owner = lower(name);
  const seen = new Set<string>([owner]);
  for (;;) {
    const alias = answers.find((r) => r.type === CNAME_TYPE && lower(r.name) === owner && typeof r.domain === 'string');
    if (!alias?.domain) break;
    const next = lower(alias.domain);
    if (seen.has(next)) break;
    seen.add(next);
    owner = next;
  }
  const records: TlsaRecord[] = [];
  let malformed = 0;
  let ttl: number | undefined;
  for (const r of answers) {
    if (r.type !== TLSA_TYPE || r.class !== CLASS_IN || lower(r.name) !== owner) continue;
    const record = fromResource(r as unknown as TlsaResource);
    if (record) records.push(record);
    else malformed++;
    ttl = ttl === undefined ? r.ttl : Math.min(ttl, r.ttl);
  }
  return { owner, records, malformed, ttl };
}

function fromResource(r: TlsaResource): TlsaRecord | undefined {
  if (Buffer.isBuffer(r.data)) return decodeTlsaRdata(r.data);
  if (typeof r.usage === 'number' && typeof r.selector === 'number' && typeof r.matchingType === 'number' && Buffer.isBuffer(r.certificate)) {
    return { usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: r.certificate };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Wire

function buildQuery(name: string, id: number): Buffer {
  const packet = new Packet();
  const header = packet.header as unknown as HeaderBits;
  header.id = id;
  header.rd = 1;
  // RFC 6840 §5.7: AD in a query asks for the AD bit in the answer.
  header.ad = 1;
  packet.questions.push({ name, type: TLSA_TYPE, class: CLASS_IN } as DnsPacket['questions'][number]);
  const edns = (Packet.Resource.EDNS as unknown as (rdata: object[], opts: { doFlag: boolean; udpPayloadSize: number }) => DnsResource)([], {
    doFlag: true,
    udpPayloadSize: EDNS_UDP_PAYLOAD,
  });
  packet.additionals.push(edns);
  return packet.toBuffer();
}

/** The reply to our query, or undefined for a datagram that is not one (kept waiting). */
function acceptReply(message: Buffer, id: number, name: string): DnsPacket | undefined {
  let packet: DnsPacket;
  try {
    packet = Packet.parse(message);
  } catch {
    return undefined;
  }
  const header = packet.header as unknown as HeaderBits;
  if (header.id !== id || header.qr !== 1) return undefined;
  const [q] = packet.questions;
  if (!q || lower(q.name) !== lower(name) || q.type !== TLSA_TYPE) return undefined;
  return packet;
}

async function ask(name: string, server: Server, timeoutMs: number): Promise<DnsPacket> {
  const id = randomInt(0x10000);
  const query = buildQuery(name, id);
  const reply = await exchangeUdp(query, id, name, server, timeoutMs);
  if ((reply.header as unknown as HeaderBits).tc !== 1) return reply;
  const tcpReply = acceptReply(await exchangeTcp(query, server, timeoutMs), id, name);
  if (!tcpReply) throw Object.assign(new Error('DNS over TCP: reply does not match the query'), { code: 'EBADRESP' });
  return tcpReply;
}

function timeoutError(transport: string, timeoutMs: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`DNS query over ${transport} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
}

function exchangeUdp(query: Buffer, id: number, name: string, server: Server, timeoutMs: number): Promise<DnsPacket> {
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
      const packet = acceptReply(message, id, name);
      if (packet) finish(undefined, packet);
    });
    socket.send(query, server.port, server.host, (err) => {
      if (err) finish(err);
    });
  });
}

function exchangeTcp(query: Buffer, server: Server, timeoutMs: number): Promise<Buffer> {
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
