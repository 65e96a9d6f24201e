/**
 * TLSA lookups (src/probe/tlsa-dns.ts) against a real DNS server on loopback
 * (the dns2 test zone): the AD bit as `authenticated`, NXDOMAIN and NODATA
 * as empty answers, SERVFAIL and silence as temporary errors, truncation
 * retried over TCP, and records computed from real certificates decoded back
 * exactly and verified with verifyDane.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { daneRequirement, verifyDane, type TlsaRecord } from '../../src/probe/dane.js';
import { decodeTlsaRdata, encodeTlsaRdata, lookupTlsa, parseServer, registerTlsaType, tlsaName } from '../../src/probe/tlsa-dns.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { makeDanePki, MX_HOST, type DaneTestPki } from './dane-certs.js';

let pki: DaneTestPki;
let zone: DnsZone;
let silent: UdpSocket;
let silentServer: string;
let records: TlsaRecord[];

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const sha512 = (b: Buffer): Buffer => createHash('sha512').update(b).digest();
const spki = (der: Buffer): Buffer => new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });

beforeAll(async () => {
  pki = await makeDanePki();
  records = [
    { usage: 3, selector: 1, matchingType: 1, data: sha256(spki(pki.leaf)) },
    { usage: 2, selector: 0, matchingType: 2, data: sha512(pki.root) },
    { usage: 3, selector: 0, matchingType: 0, data: pki.leaf },
  ];
  const tlsa = (name: string, list: readonly TlsaRecord[]) => list.map((r) => ({ name, type: 'TLSA' as const, ...r }));
  zone = await startDnsZone(
    [
      ...tlsa(`_25._tcp.${MX_HOST}`, records),
      { name: MX_HOST, type: 'A', address: '127.0.0.20' },
      ...tlsa('_25._tcp.mx.insecure.test', records.slice(0, 1)),
      ...tlsa('_2525._tcp.mx.port.test', records.slice(0, 1)),
      { name: '_25._tcp.mx.nodata.test', type: 'TXT', data: 'not a TLSA record' },
      { name: '_25._tcp.mx.malformed.test', type: 'TLSA', rdata: Buffer.from([3, 1]) },
      ...tlsa('_25._tcp.mx.malformed.test', records.slice(0, 1)),
      { name: '_25._tcp.mx.alias.test', type: 'CNAME', target: `_25._tcp.${MX_HOST}` },
      ...tlsa('_25._tcp.mx.big.test', records),
      ...tlsa('_25._tcp.mx.unusable.test', [{ usage: 1, selector: 1, matchingType: 1, data: sha256(spki(pki.leaf)) }]),
    ],
    {
      secure: [`_25._tcp.${MX_HOST}`, '_25._tcp.mx.nxdomain.test', '_25._tcp.mx.alias.test', '_25._tcp.mx.big.test', '_25._tcp.mx.unusable.test', '_25._tcp.mx.servfail.test'],
      servfail: ['_25._tcp.mx.servfail.test'],
      truncate: ['_25._tcp.mx.big.test'],
    },
  );
  // A loopback UDP socket that never answers: a resolver that is down.
  silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  silentServer = `127.0.0.1:${silent.address().port}`;
});

afterAll(async () => {
  await zone?.close();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
});

const opts = () => ({ servers: [zone.server], timeoutMs: 5000 });

describe('lookupTlsa through the dns2 zone', () => {
  it('asks _25._tcp.<mx> for TLSA with EDNS DO, and decodes records made from real certificates exactly', async () => {
    const r = await lookupTlsa(MX_HOST, opts());
    expect(r).toMatchObject({ name: `_25._tcp.${MX_HOST}`, owner: `_25._tcp.${MX_HOST}`, authenticated: true, rcode: 0, malformed: 0, ttl: 60, server: zone.server });
    expect(r.records).toHaveLength(3);
    r.records.forEach((got, i) => {
      const want = records[i] as TlsaRecord;
      expect([got.usage, got.selector, got.matchingType]).toEqual([want.usage, want.selector, want.matchingType]);
      expect(got.data.equals(want.data)).toBe(true);
    });
    expect(zone.queries).toContain(`TLSA _25._tcp.${MX_HOST}`);
    expect(zone.dnssecOk).toContain(`TLSA _25._tcp.${MX_HOST}`);
    // The answer drives the DANE decisions end to end.
    expect(daneRequirement({ authenticated: r.authenticated, records: r.records, dnssecValidating: true })).toMatchObject({ applies: true, status: 'usable' });
    expect(verifyDane(r.records, [pki.leaf, pki.intermediate], { mxHost: MX_HOST })).toMatchObject({ ok: true, matched: { usage: 3 } });
    expect(verifyDane(r.records, [pki.otherLeaf], { mxHost: MX_HOST }).ok).toBe(false);
  });

  it('reports an answer without the AD bit as not authenticated', async () => {
    const r = await lookupTlsa('mx.insecure.test', opts());
    expect(r.authenticated).toBe(false);
    expect(r.records).toHaveLength(1);
    expect(daneRequirement({ authenticated: r.authenticated, records: r.records, dnssecValidating: true })).toMatchObject({ applies: false, status: 'insecure' });
  });

  it('NXDOMAIN → no records (authenticated denial keeps the AD bit)', async () => {
    const r = await lookupTlsa('mx.nxdomain.test', opts());
    expect(r).toMatchObject({ records: [], rcode: 3, authenticated: true, malformed: 0, ttl: undefined });
    expect(daneRequirement({ ...r, dnssecValidating: true })).toMatchObject({ applies: false, status: 'none' });
  });

  it('NODATA (the name has other types only) → no records', async () => {
    const r = await lookupTlsa('mx.nodata.test', opts());
    expect(r).toMatchObject({ records: [], rcode: 0, authenticated: false });
  });

  it('SERVFAIL → temporary error, never "no TLSA"', async () => {
    const err: unknown = await lookupTlsa('mx.servfail.test', opts()).catch((e: unknown) => e);
    expect(isSealgateError(err, 'SG_DNS_TEMPORARY')).toBe(true);
    expect(isSealgateError(err) && err.temporary).toBe(true);
    expect(isSealgateError(err) && err.detail).toMatchObject({ code: 'SERVFAIL', rcode: 2 });
  });

  it('a server that does not answer → temporary error after the timeout', async () => {
    const err: unknown = await lookupTlsa(MX_HOST, { servers: [silentServer], timeoutMs: 300, tries: 1 }).catch((e: unknown) => e);
    expect(isSealgateError(err, 'SG_DNS_TEMPORARY')).toBe(true);
    expect(isSealgateError(err) && err.detail).toMatchObject({ code: 'ETIMEDOUT', server: silentServer });
  });

  it('fails over to the next server', async () => {
    const r = await lookupTlsa(MX_HOST, { servers: [silentServer, zone.server], timeoutMs: 300, tries: 1 });
    expect(r.server).toBe(zone.server);
    expect(r.records).toHaveLength(3);
  });

  it('uses the port parameter in the owner name', async () => {
    const r = await lookupTlsa('mx.port.test', { ...opts(), port: 2525 });
    expect(r.name).toBe('_2525._tcp.mx.port.test');
    expect(r.records).toHaveLength(1);
  });

  it('counts malformed rdata separately and keeps the good records', async () => {
    const r = await lookupTlsa('mx.malformed.test', opts());
    expect(r.malformed).toBe(1);
    expect(r.records).toHaveLength(1);
  });

  it('follows a CNAME in the answer to the records of its target', async () => {
    const r = await lookupTlsa('mx.alias.test', opts());
    expect(r.owner).toBe(`_25._tcp.${MX_HOST}`);
    expect(r.records).toHaveLength(3);
    expect(r.authenticated).toBe(true);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = await lookupTlsa('mx.big.test', opts());
    expect(r.records).toHaveLength(3);
    expect(r.authenticated).toBe(true);
    expect(zone.tcpQueries).toContain('TLSA _25._tcp.mx.big.test');
  });

  it('authenticated, records present, none usable → unusable (reported, DANE does not apply)', async () => {
    const r = await lookupTlsa('mx.unusable.test', opts());
    expect(daneRequirement({ ...r, dnssecValidating: true })).toMatchObject({ applies: false, status: 'unusable', requireTls: true });
  });
});

describe('TLSA in dns2', () => {
  it('registration is idempotent and keeps what other dns2 users saw (raw rdata in data)', () => {
    registerTlsaType();
    registerTlsaType();
    const { Packet } = dns2;
    expect((Packet.TYPE as unknown as Record<string, number>).TLSA).toBe(52);
    const packet = new Packet();
    const rdata = encodeTlsaRdata(records[0] as TlsaRecord);
    packet.answers.push({ name: '_25._tcp.x.test', type: 52, class: 1, ttl: 30, data: rdata } as unknown as (typeof packet.answers)[number]);
    packet.answers.push({ name: '_25._tcp.x.test', type: 52, class: 1, ttl: 30, usage: 2, selector: 1, matchingType: 2, certificate: Buffer.alloc(64, 9) } as unknown as (typeof packet.answers)[number]);
    const parsed = Packet.parse(packet.toBuffer());
    const [a, b] = parsed.answers as unknown as { data: Buffer; usage: number; selector: number; matchingType: number; certificate: Buffer }[];
    expect(a?.data.equals(rdata)).toBe(true);
    expect(a).toMatchObject({ usage: 3, selector: 1, matchingType: 1 });
    expect(a?.certificate.equals((records[0] as TlsaRecord).data)).toBe(true);
    expect(b).toMatchObject({ usage: 2, selector: 1, matchingType: 2 });
    expect(b?.data.equals(Buffer.concat([Buffer.from([2, 1, 2]), Buffer.alloc(64, 9)]))).toBe(true);
  });

  it("dns2's own client still resolves other types, and can now ask for TLSA by name", async () => {
    registerTlsaType();
    const resolve = dns2.UDPClient({ dns: '127.0.0.1', port: zone.port, timeout: 5000 });
    const a = await resolve(MX_HOST, 'A');
    expect(a.answers[0]?.address).toBe('127.0.0.20');
    const t = await resolve(tlsaName(MX_HOST), 'TLSA');
    expect(t.answers).toHaveLength(3);
  });

  it('rdata codec', () => {
    expect(decodeTlsaRdata(Buffer.from([3, 1]))).toBeUndefined();
    expect(decodeTlsaRdata(Buffer.from([3, 1, 1, 0xab]))).toEqual({ usage: 3, selector: 1, matchingType: 1, data: Buffer.from([0xab]) });
    expect(() => encodeTlsaRdata({ usage: 256, selector: 0, matchingType: 0, data: Buffer.alloc(1) })).toThrow(RangeError);
  });

  it('server strings', () => {
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353, label: '127.0.0.1:5353' });
    expect(parseServer('[::1]:53')).toEqual({ host: '::1', port: 53, label: '[::1]:53' });
    expect(parseServer('::1')).toEqual({ host: '::1', port: 53, label: '[::1]:53' });
    expect(parseServer('127.0.0.53')).toMatchObject({ port: 53 });
    expect(() => parseServer('127.0.0.1:0')).toThrow(TypeError);
  });
});
