/**
 * TLSA lookups for DANE (RFC 7672 §2.2): `_PORT._tcp.<mx>` type TLSA (52),
 * asked of the configured servers with EDNS(0) and the DO bit, and the AD bit
 * of the answer reported as `authenticated`. Node's resolver can neither ask
 * for TLSA nor show the AD bit, so this speaks DNS itself with dns2's Packet
 * codec over UDP (TCP when the answer is truncated): src/net/dnssec-query.ts,
 * shared with key discovery (OPENPGPKEY, SMIMEA).
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
import dns2 from 'dns2';
import { queryDnssec } from '../net/dnssec-query.js';
import type { TlsaRecord } from './dane.js';

export { parseServer } from '../net/dnssec-query.js';

const { Packet } = dns2;

export const TLSA_TYPE = 52;

// ---------------------------------------------------------------------------
// dns2 registration

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

export function tlsaName(mxHost: string, port = 25): string {
  return `_${port}._tcp.${mxHost.toLowerCase().replace(/\.$/, '')}`;
}

/**
 * Looks up the TLSA records of an MX host. Tries each server in turn (and
 * each `tries` times); the first NOERROR or NXDOMAIN answer wins. Throws
 * SG_DNS_TEMPORARY when no server gave one.
 */
export async function lookupTlsa(mxHost: string, options: TlsaLookupOptions): Promise<TlsaLookup> {
  registerTlsaType();
  const name = tlsaName(mxHost, options.port ?? 25);
  const answer = await queryDnssec(name, TLSA_TYPE, options, `TLSA ${name}`);
  const records: TlsaRecord[] = [];
  let malformed = 0;
  let ttl: number | undefined;
  for (const r of answer.records) {
    const record = fromResource(r as unknown as TlsaResource);
    if (record) records.push(record);
    else malformed++;
    ttl = ttl === undefined ? r.ttl : Math.min(ttl, r.ttl);
  }
  return { name, owner: answer.owner, records, malformed, authenticated: answer.authenticated, rcode: answer.rcode, ttl, server: answer.server };
}

function fromResource(r: TlsaResource): TlsaRecord | undefined {
  if (Buffer.isBuffer(r.data)) return decodeTlsaRdata(r.data);
  if (typeof r.usage === 'number' && typeof r.selector === 'number' && typeof r.matchingType === 'number' && Buffer.isBuffer(r.certificate)) {
    return { usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: r.certificate };
  }
  return undefined;
}
