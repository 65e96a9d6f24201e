import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type MxRecord } from '../../src/delivery/dns.js';
import { planMx, resolveDestination, type Destination, type MxPlan } from '../../src/delivery/mx.js';
import { isSealgateError } from '../../src/errors.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';

/** A deterministic "random": returns the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('planMx', () => {
  it.each<[string, MxRecord[], number[], MxPlan]>([
    ['no records: implicit MX on the domain', [], [0], { kind: 'hosts', hosts: ['example.net'], implicit: true }],
    ['preference order', [{ exchange: 'b.example.net', priority: 20 }, { exchange: 'a.example.net', priority: 10 }], [0], { kind: 'hosts', hosts: ['a.example.net', 'b.example.net'], implicit: false }],
    ['equal preference ordered by the random draw', [{ exchange: 'x.example.net', priority: 10 }, { exchange: 'y.example.net', priority: 10 }], [0.9, 0.1], { kind: 'hosts', hosts: ['y.example.net', 'x.example.net'], implicit: false }],
    ['equal preference, other draw', [{ exchange: 'x.example.net', priority: 10 }, { exchange: 'y.example.net', priority: 10 }], [0.1, 0.9], { kind: 'hosts', hosts: ['x.example.net', 'y.example.net'], implicit: false }],
    ['null MX ("." at preference 0)', [{ exchange: '.', priority: 0 }], [0], { kind: 'null-mx' }],
    ['null MX as an empty name', [{ exchange: '', priority: 0 }], [0], { kind: 'null-mx' }],
    ['a null MX mixed with real ones is ignored', [{ exchange: '', priority: 0 }, { exchange: 'mx.example.net', priority: 10 }], [0], { kind: 'hosts', hosts: ['mx.example.net'], implicit: false }],
    ['names are lower-cased, trailing dot dropped, duplicates removed', [{ exchange: 'MX.Example.NET.', priority: 10 }, { exchange: 'mx.example.net', priority: 20 }], [0], { kind: 'hosts', hosts: ['mx.example.net'], implicit: false }],
  ])('%s', (_name, records, draws, expected) => {
    expect(planMx('Example.NET', records, sequence(...draws))).toEqual(expected);
  });
});

describe('resolveDestination through a real DNS server (dns2 on loopback)', () => {
  let zone: DnsZone;
  beforeAll(async () => {
    zone = await startDnsZone(
      [
        { name: 'two-mx.test', type: 'MX', exchange: 'mx2.two-mx.test', priority: 20 },
        { name: 'two-mx.test', type: 'MX', exchange: 'mx1.two-mx.test', priority: 10 },
        { name: 'mx1.two-mx.test', type: 'A', address: '127.0.0.2' },
        { name: 'mx2.two-mx.test', type: 'A', address: '127.0.0.3' },
        { name: 'mx2.two-mx.test', type: 'AAAA', address: '::1' },
        { name: 'implicit.test', type: 'A', address: '127.0.0.4' },
        { name: 'nullmx.test', type: 'MX', exchange: '', priority: 0 },
        { name: 'dangling.test', type: 'MX', exchange: 'gone.dangling.test', priority: 10 },
        { name: 'half.test', type: 'MX', exchange: 'gone.half.test', priority: 5 },
        { name: 'half.test', type: 'MX', exchange: 'mx.half.test', priority: 10 },
        { name: 'mx.half.test', type: 'A', address: '127.0.0.5' },
      ],
      { servfail: ['broken.test'] },
    );
  });
  afterAll(async () => {
    await zone?.close();
  });

  const resolve = (domain: string): Promise<Destination> => resolveDestination(domain, createResolver({ servers: [zone.server], timeoutMs: 2000, tries: 1 }), () => 0.5);

  it.each<[string, Destination]>([
    ['two-mx.test', { kind: 'targets', implicit: false, targets: [{ host: 'mx1.two-mx.test', addresses: ['127.0.0.2'] }, { host: 'mx2.two-mx.test', addresses: ['127.0.0.3', '::1'] }] }],
    ['implicit.test', { kind: 'targets', implicit: true, targets: [{ host: 'implicit.test', addresses: ['127.0.0.4'] }] }],
    ['nullmx.test', { kind: 'null-mx' }],
    ['dangling.test', { kind: 'no-route' }],
    ['nonexistent.test', { kind: 'no-route' }],
    ['half.test', { kind: 'targets', implicit: false, targets: [{ host: 'mx.half.test', addresses: ['127.0.0.5'] }] }],
  ])('%s', async (domain, expected) => {
    expect(await resolve(domain)).toEqual(expected);
  });

  it('a SERVFAIL is a temporary failure, never "no MX"', async () => {
    const err = await resolve('broken.test').catch((e: unknown) => e);
    expect(isSealgateError(err) && err.code).toBe('SG_DNS_TEMPORARY');
    expect(zone.queries).toContain('MX broken.test');
  });
});
