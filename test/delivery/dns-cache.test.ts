/**
 * The delivery stage's DNS answer cache (src/delivery/dns-cache.ts) in front
 * of the real resolver, asking a real dns2 server on loopback: the questions
 * that reach the server are counted. The clock is injected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressAnswerTtlMs, cachingResolver } from '../../src/delivery/dns-cache.js';
import { createResolver } from '../../src/delivery/dns.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';

describe('addressAnswerTtlMs', () => {
  it.each([
    { name: 'one record under the cap', records: [{ address: '192.0.2.1', ttl: 20 }], max: 30_000, want: 20_000 },
    { name: 'the smallest TTL of the set', records: [{ address: '192.0.2.1', ttl: 300 }, { address: '192.0.2.2', ttl: 5 }], max: 30_000, want: 5_000 },
    { name: 'capped at the maximum', records: [{ address: '192.0.2.1', ttl: 3600 }], max: 30_000, want: 30_000 },
    { name: 'TTL 0: not kept', records: [{ address: '192.0.2.1', ttl: 0 }], max: 30_000, want: 0 },
    { name: 'a negative TTL read as 0', records: [{ address: '192.0.2.1', ttl: -1 }], max: 30_000, want: 0 },
    { name: 'an empty answer: the maximum', records: [], max: 30_000, want: 30_000 },
    { name: 'maximum 0: nothing kept', records: [{ address: '192.0.2.1', ttl: 60 }], max: 0, want: 0 },
  ])('$name', ({ records, max, want }) => {
    expect(addressAnswerTtlMs(records, max)).toBe(want);
  });
});

describe('cachingResolver against a real DNS server', () => {
  let zone: DnsZone;
  beforeAll(async () => {
    zone = await startDnsZone(
      [
        { name: 'cached.test', type: 'MX', exchange: 'mx.cached.test', priority: 10 },
        { name: 'mx.cached.test', type: 'A', address: '127.0.0.55' },
        { name: 'other.test', type: 'MX', exchange: 'mx.other.test', priority: 10 },
        { name: 'third.test', type: 'MX', exchange: 'mx.third.test', priority: 10 },
        { name: '_mta-sts.cached.test', type: 'TXT', data: 'v=STSv1; id=1' },
      ],
      { servfail: ['broken.test'] },
    );
  });
  afterAll(async () => {
    await zone.close();
  });

  /** Questions the server got for "TYPE name" so far. */
  const asked = (q: string): number => zone.queries.filter((x) => x === q).length;

  function resolverAt(clock: { t: number }, maxTtlMs: number, maxEntries?: number) {
    return cachingResolver(createResolver({ servers: [zone.server], tries: 1, timeoutMs: 2000 }), { maxTtlMs, maxEntries, now: () => clock.t });
  }

  it('keeps an MX answer for maxTtlMs, then asks again', async () => {
    const clock = { t: 1_000_000 };
    const r = resolverAt(clock, 30_000);
    const before = asked('MX cached.test');
    expect(await r.mx('cached.test')).toEqual([{ exchange: 'mx.cached.test', priority: 10 }]);
    expect(await r.mx('CACHED.test')).toEqual([{ exchange: 'mx.cached.test', priority: 10 }]);
    clock.t += 29_999;
    await r.mx('cached.test');
    expect(asked('MX cached.test') - before).toBe(1);
    clock.t += 2;
    await r.mx('cached.test');
    expect(asked('MX cached.test') - before).toBe(2);
  });

  it('keeps an A answer for its TTL (60 s in the zone) when that is shorter than the maximum', async () => {
    const clock = { t: 2_000_000 };
    const r = resolverAt(clock, 600_000);
    const before = asked('A mx.cached.test');
    expect(await r.a('mx.cached.test')).toEqual(['127.0.0.55']);
    clock.t += 59_000;
    expect(await r.a('mx.cached.test')).toEqual(['127.0.0.55']);
    expect(asked('A mx.cached.test') - before).toBe(1);
    clock.t += 2_000;
    await r.a('mx.cached.test');
    expect(asked('A mx.cached.test') - before).toBe(2);
  });

  it('shares one lookup among concurrent questions, and gives each caller its own list', async () => {
    const clock = { t: 3_000_000 };
    const r = resolverAt(clock, 0);
    const before = asked('MX other.test');
    const answers = await Promise.all(Array.from({ length: 5 }, () => r.mx('other.test')));
    expect(asked('MX other.test') - before).toBe(1);
    answers[0]?.splice(0);
    expect(answers[1]).toEqual([{ exchange: 'mx.other.test', priority: 10 }]);
    // maximum 0: nothing kept once answered
    await r.mx('other.test');
    expect(asked('MX other.test') - before).toBe(2);
  });

  it('keeps empty answers (no such name, no AAAA) and TXT answers', async () => {
    const clock = { t: 4_000_000 };
    const r = resolverAt(clock, 30_000);
    const nx = asked('MX missing.test');
    const noAaaa = asked('AAAA mx.cached.test');
    const txt = asked('TXT _mta-sts.cached.test');
    for (let i = 0; i < 3; i++) {
      expect(await r.mx('missing.test')).toEqual([]);
      expect(await r.aaaa('mx.cached.test')).toEqual([]);
      expect(await r.txt('_mta-sts.cached.test')).toEqual([['v=STSv1; id=1']]);
    }
    expect(asked('MX missing.test') - nx).toBe(1);
    expect(asked('AAAA mx.cached.test') - noAaaa).toBe(1);
    expect(asked('TXT _mta-sts.cached.test') - txt).toBe(1);
  });

  it('never keeps a failure: SERVFAIL is asked again, and still a temporary error', async () => {
    const clock = { t: 5_000_000 };
    const r = resolverAt(clock, 30_000);
    const before = asked('MX broken.test');
    await expect(r.mx('broken.test')).rejects.toMatchObject({ code: 'SG_DNS_TEMPORARY' });
    await expect(r.mx('broken.test')).rejects.toMatchObject({ code: 'SG_DNS_TEMPORARY' });
    expect(asked('MX broken.test') - before).toBe(2);
  });

  it('keeps at most maxEntries names, the oldest going first', async () => {
    const clock = { t: 6_000_000 };
    const r = resolverAt(clock, 30_000, 2);
    const before = asked('MX cached.test');
    await r.mx('cached.test');
    await r.mx('other.test');
    await r.mx('third.test');
    await r.mx('cached.test');
    expect(asked('MX cached.test') - before).toBe(2);
  });
});
