import { describe, expect, it } from 'vitest';
import { escapeLabelValue, Metrics } from '../../src/metrics/registry.js';

describe('escapeLabelValue', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
  ])('%j → %j', (input, expected) => {
    expect(escapeLabelValue(input)).toBe(expected);
  });
});

describe('Metrics', () => {
  it('renders every declared metric with HELP and TYPE, counters at 0 until counted', async () => {
    const text = await new Metrics().render();
    expect(text).toContain('# TYPE sealgate_posture_downgrades_total counter\nsealgate_posture_downgrades_total 0\n');
    expect(text).toContain('# TYPE sealgate_queue_recipients gauge\n');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) sealgate_\w+ .+|sealgate_\w+(\{[^}]*\})? \d+)$/);
  });

  it('counts per label set, sorted by label name, and reads gauges at render time', async () => {
    const m = new Metrics();
    m.inc('sealgate_delivery_attempts_total', { outcome: 'delivered' });
    m.inc('sealgate_delivery_attempts_total', { outcome: 'delivered' });
    m.inc('sealgate_delivery_attempts_total', { outcome: 'deferred' });
    m.inc('sealgate_tls_sessions_total', { result: 'success', policy: 'sts' });
    let queued = 3;
    m.gauge('sealgate_queue_recipients', () => Promise.resolve([{ labels: { state: 'queued' }, value: queued }]));
    queued = 5;
    const text = await m.render();
    expect(text).toContain('sealgate_delivery_attempts_total{outcome="deferred"} 1\nsealgate_delivery_attempts_total{outcome="delivered"} 2\n');
    expect(text).toContain('sealgate_tls_sessions_total{policy="sts",result="success"} 1\n');
    expect(text).toContain('sealgate_queue_recipients{state="queued"} 5\n');
    expect(m.value('sealgate_delivery_attempts_total', { outcome: 'delivered' })).toBe(2);
  });

  it('a gauge whose read fails (the database away) is left out of the scrape; the counters and other gauges still render', async () => {
    const m = new Metrics();
    m.inc('sealgate_archived_total', {});
    m.gauge('sealgate_queue_recipients', () => Promise.reject(new Error('connect ECONNREFUSED')));
    m.gauge('sealgate_store_up', () => Promise.resolve([{ labels: { store: 'database' }, value: 0 }]));
    const text = await m.render();
    expect(text).toContain('# TYPE sealgate_queue_recipients gauge\n# HELP');
    expect(text).not.toMatch(/^sealgate_queue_recipients[ {]/m);
    expect(text).toContain('sealgate_archived_total 1\n');
    expect(text).toContain('sealgate_store_up{store="database"} 0\n');
  });

  it('keeps at most 1000 series per metric', () => {
    const m = new Metrics();
    for (let i = 0; i < 1500; i++) m.inc('sealgate_messages_accepted_total', { connector: `c${i}` });
    expect(m.value('sealgate_messages_accepted_total', { connector: 'c999' })).toBe(1);
    expect(m.value('sealgate_messages_accepted_total', { connector: 'c1000' })).toBe(0);
  });
});

describe('histograms', () => {
  it('cumulative buckets, +Inf, _sum and _count; an empty series before the first observation', async () => {
    const empty = await new Metrics().render();
    expect(empty).toContain('# TYPE sealgate_delivery_latency_seconds histogram\nsealgate_delivery_latency_seconds_bucket{le="0.01"} 0\n');
    expect(empty).toContain('sealgate_delivery_latency_seconds_bucket{le="+Inf"} 0\nsealgate_delivery_latency_seconds_sum 0\nsealgate_delivery_latency_seconds_count 0\n');
    const m = new Metrics();
    for (const v of [0.004, 0.05, 0.3, 7, 100_000, Number.NaN]) m.observe('sealgate_delivery_latency_seconds', v);
    const text = await m.render();
    const bucket = (le: string): number => Number(new RegExp(`sealgate_delivery_latency_seconds_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)`).exec(text)?.[1]);
    expect([bucket('0.01'), bucket('0.05'), bucket('0.1'), bucket('0.5'), bucket('10'), bucket('86400'), bucket('+Inf')]).toEqual([1, 2, 2, 3, 4, 4, 5]);
    expect(text).toContain(`sealgate_delivery_latency_seconds_sum ${0.004 + 0.05 + 0.3 + 7 + 100_000}\n`);
    expect(text).toContain('sealgate_delivery_latency_seconds_count 5\n');
    expect(m.observations('sealgate_delivery_latency_seconds')).toBe(5);
  });
});
