/**
 * The bench harness's arithmetic and output (bench/report.ts, bench/latency.ts
 * message ids): percentiles, ratios, target checks, the table and the JSON
 * shape. Nothing here runs a daemon or measures speed.
 */
import { describe, expect, it } from 'vitest';
import { latencyMessage } from '../../bench/latency.js';
import { benchIdOf } from '../../bench/latency-sink.js';
import {
  bestAndMedian,
  benchEnv,
  evaluateTargets,
  formatMeasured,
  medianRate,
  percentile,
  RESULT_FORMAT,
  rateOf,
  ratioOf,
  renderTargetsTable,
  resultFileName,
  runResult,
  summariseLatency,
  TARGETS,
  type Figures,
} from '../../bench/report.js';

const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

describe('percentile (nearest rank)', () => {
  it.each([
    { values: hundred, p: 50, want: 50 },
    { values: hundred, p: 95, want: 95 },
    { values: hundred, p: 99, want: 99 },
    { values: hundred, p: 100, want: 100 },
    { values: hundred, p: 0, want: 1 },
    { values: [7], p: 99, want: 7 },
    { values: [3, 1, 2], p: 50, want: 2 }, // unsorted input
    { values: [10, 20, 30, 40], p: 50, want: 20 },
    { values: [10, 20, 30, 40], p: 51, want: 30 },
    { values: [], p: 50, want: undefined },
  ])('p$p of $values.length values is $want', ({ values, p, want }) => {
    expect(percentile(values, p)).toBe(want);
  });

  it('refuses a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('leaves its input unsorted', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('summariseLatency', () => {
  it('gives p50/p95/p99/max and the count', () => {
    expect(summariseLatency([...hundred].reverse())).toEqual({ count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
  });
  it('is undefined without a sample', () => {
    expect(summariseLatency([])).toBeUndefined();
  });
});

describe('bestAndMedian', () => {
  it.each([
    { runs: [0.5, 0.2, 0.9], want: { best: 0.2, median: 0.5 } },
    { runs: [4, 1, 3, 2], want: { best: 1, median: 2.5 } },
    { runs: [1.25], want: { best: 1.25, median: 1.25 } },
    { runs: [], want: undefined },
  ])('$runs → $want', ({ runs, want }) => {
    expect(bestAndMedian(runs)).toEqual(want);
  });
});

describe('medianRate: the median round of one load', () => {
  it.each([
    { seconds: [2, 4, 3], want: rateOf(600, 3) },
    { seconds: [4, 2], want: rateOf(600, 3) },
    { seconds: [5], want: rateOf(600, 5) },
    { seconds: [1, 100, 2, 3, 4], want: rateOf(600, 3) },
  ])('rounds of $seconds s → $want.perSecond msg/s', ({ seconds, want }) => {
    expect(medianRate(seconds.map((s) => rateOf(600, s)))).toEqual(want);
  });
  it('is undefined for no round', () => {
    expect(medianRate([])).toBeUndefined();
  });
});

describe('ratioOf and rateOf', () => {
  it.each([
    { a: 300, b: 600, want: 0.5 },
    { a: 600, b: 300, want: 2 },
    { a: undefined, b: 300, want: undefined },
    { a: 300, b: undefined, want: undefined },
    { a: 300, b: 0, want: undefined },
    { a: Number.NaN, b: 1, want: undefined },
  ])('$a / $b = $want', ({ a, b, want }) => {
    expect(ratioOf(a, b)).toBe(want);
  });
  it('rate is messages per second, 0 for no time', () => {
    expect(rateOf(500, 2)).toEqual({ messages: 500, seconds: 2, perSecond: 250 });
    expect(rateOf(500, 0).perSecond).toBe(0);
  });
});

const MB = 1024 * 1024;
/** A run with every part: each value sits between must and aim, or on a side the row names. */
const full: Figures = {
  ingress: { '2 KB': { sealgate: rateOf(1200, 1), postfix: rateOf(1000, 1), starttls: rateOf(400, 1) } }, // 1.2: must ✓ aim ✗
  relay: {
    '2 KB': { sealgate: rateOf(500, 1), postfix: rateOf(1000, 1) }, // 0.5: must ✗
    '100 KB': { sealgate: rateOf(700, 1), postfix: rateOf(700, 1) }, // 1.0: both ✓ (≥ is inclusive)
  },
  peakRssBytes: 150 * MB, // 150 MB: must ✓ (< 300), aim ✗ (< 150 is strict)
  latency: {
    rate: 250,
    rateSource: 'test',
    sessions: 4,
    sealgate: { count: 10, p50Ms: 5, p95Ms: 9, p99Ms: 12.34, maxMs: 20, achievedRate: 250 },
    postfix: { count: 10, p50Ms: 3, p95Ms: 5, p99Ms: 7, maxMs: 9, achievedRate: 250 },
  },
  backlog: {
    messages: 1000,
    fill: rateOf(1000, 4),
    ingressEmpty: rateOf(1000, 1),
    ingressWithBacklog: rateOf(900, 1), // 0.9
    queueList: { runs: [0.4, 0.3, 0.6], best: 0.3, median: 0.4 },
    queueSummary: { command: 'queue stats', runs: [2.5], best: 2.5, median: 2.5 },
    flush: { command: 'queue retry --all', seconds: 1 },
    drain: rateOf(1000, 2), // 500/s against relay 2 KB 500/s: 1.0
  },
};

describe('evaluateTargets', () => {
  it('has one row per figure of the issue, in its order', () => {
    expect(evaluateTargets({}).map((r) => r.key)).toEqual(['ingress2k', 'relay2k', 'relay100k', 'latencyP99', 'peakRss', 'backlogIngress', 'drain', 'queueList', 'queueSummary']);
  });

  it.each([
    { key: 'ingress2k', measured: 1.2, must: true, aim: false },
    { key: 'relay2k', measured: 0.5, must: false, aim: false },
    { key: 'relay100k', measured: 1, must: true, aim: true },
    { key: 'latencyP99', measured: 12.34, must: true, aim: true },
    { key: 'peakRss', measured: 150, must: true, aim: false },
    { key: 'backlogIngress', measured: 0.9, must: true, aim: false },
    { key: 'drain', measured: 1, must: true, aim: true },
    { key: 'queueList', measured: 0.4, must: true, aim: true },
    { key: 'queueSummary', measured: 2.5, must: false, aim: false },
  ])('$key: $measured → must $must, aim $aim', ({ key, measured, must, aim }) => {
    const r = evaluateTargets(full).find((x) => x.key === key);
    expect(r?.measured).toBeCloseTo(measured, 6);
    expect(r?.mustMet).toBe(must);
    expect(r?.aimMet).toBe(aim);
  });

  it('leaves figures of parts that did not run unmeasured, neither met nor failed', () => {
    const only: Figures = { relay: full.relay, peakRssBytes: 100 * MB };
    const byKey = new Map(evaluateTargets(only).map((r) => [r.key, r]));
    expect(byKey.get('peakRss')?.mustMet).toBe(true);
    for (const key of ['ingress2k', 'latencyP99', 'backlogIngress', 'drain', 'queueList', 'queueSummary']) {
      expect(byKey.get(key)).toMatchObject({ measured: undefined, mustMet: undefined, aimMet: undefined });
    }
  });

  it('needs the relay part for the drain ratio (it compares with the end-to-end rate)', () => {
    const r = evaluateTargets({ backlog: full.backlog }).find((x) => x.key === 'drain');
    expect(r?.measured).toBeUndefined();
  });

  it('writes the bounds as the issue does', () => {
    expect(evaluateTargets({}).map((r) => [r.must, r.aim])).toEqual([
      ['≥ 1×', '≥ 1.5×'],
      ['≥ 0.6×', '≥ 1×'],
      ['≥ 0.6×', '≥ 1×'],
      ['< 50 ms', '< 20 ms'],
      ['< 300 MB', '< 150 MB'],
      ['≥ 0.8×', '≥ 0.95×'],
      ['≥ 0.5×', '≥ 0.9×'],
      ['< 2 s', '< 0.5 s'],
      ['< 2 s', '< 0.5 s'],
    ]);
  });
});

describe('renderTargetsTable', () => {
  it('prints a Markdown table: every figure, measured value, bounds and ✓/✗, "not run" for the rest', () => {
    const lines = renderTargetsTable(evaluateTargets({ ...full, backlog: undefined }));
    expect(lines).toHaveLength(2 + TARGETS.length);
    expect(lines[0]).toBe('| figure | measured | must | | aim | |');
    expect(lines[2]).toBe('| ingress 2 KB (250 after fsync + commit), ratio to Postfix | 1.20× | ≥ 1× | ✓ | ≥ 1.5× | ✗ |');
    expect(lines[5]).toBe('| accept → delivered p99 at half of max load | 12.3 ms | < 50 ms | ✓ | < 20 ms | ✓ |');
    expect(lines[6]).toBe('| peak RSS under the 2 KB load | 150 MB | < 300 MB | ✓ | < 150 MB | ✗ |');
    expect(lines[10]).toBe('| `queue summary` on the backlog (median) | not run | < 2 s |  | < 0.5 s |  |');
    for (const l of lines) expect(l.split('|')).toHaveLength(8);
  });

  it.each([
    { value: 0.456, unit: '×', want: '0.46×' },
    { value: 12.345, unit: 'ms', want: '12.3 ms' },
    { value: 151.6, unit: 'MB', want: '152 MB' },
    { value: 0.1234, unit: 's', want: '0.12 s' },
    { value: undefined, unit: 's', want: 'not run' },
  ])('formats $value $unit as $want', ({ value, unit, want }) => {
    expect(formatMeasured(value, unit)).toBe(want);
  });
});

describe('the JSON of a run', () => {
  const meta = {
    startedAt: '2026-12-05T14:30:00.000Z',
    finishedAt: '2026-12-05T14:40:00.000Z',
    parts: ['relay'],
    machine: { cores: 2, cpuModel: 'cpu', memoryBytes: 1, loadAverageAtStart: [1, 1, 1], loadAverageAtEnd: [2, 2, 2] },
    versions: { node: 'v20', postfix: '3.7', sealgate: '0.1.0', commit: 'abc1234' },
    env: { BENCH_2K: '300' },
  };

  it('holds the format, the run, every figure and the evaluated targets, and survives JSON', () => {
    const result = runResult(meta, full);
    const back = JSON.parse(JSON.stringify(result)) as typeof result;
    expect(back.format).toBe(RESULT_FORMAT);
    expect(back).toMatchObject(meta);
    expect(back.figures.relay?.['2 KB']?.sealgate.perSecond).toBe(500);
    expect(back.figures.backlog?.queueList.runs).toEqual([0.4, 0.3, 0.6]);
    expect(back.targets.map((t) => t.key)).toEqual(TARGETS.map((t) => t.key));
    expect(back.targets.find((t) => t.key === 'relay2k')).toMatchObject({ measured: 0.5, mustMet: false });
  });

  it('keeps a figure that was not run out of the JSON (no measured key) rather than inventing one', () => {
    const back = JSON.parse(JSON.stringify(runResult(meta, {}))) as { targets: Record<string, unknown>[] };
    for (const t of back.targets) expect('measured' in t).toBe(false);
  });

  it('records only the BENCH_* variables of the environment', () => {
    expect(benchEnv({ BENCH_2K: '300', BENCH_BACKLOG: '2000', HOME: '/root', SECRET_TOKEN: 'x', BENCH_UNSET: undefined })).toEqual({ BENCH_2K: '300', BENCH_BACKLOG: '2000' });
  });

  it('is named by its start time in ISO 8601 basic format, UTC', () => {
    expect(resultFileName(new Date('2026-12-05T14:30:07.123Z'))).toBe('20261205T143007Z.json');
  });
});

describe('latency messages', () => {
  it('are 2 KB at most, carry their bench id in a header, and never start a line with a dot', () => {
    const m = latencyMessage('s42');
    expect(m.length).toBeLessThanOrEqual(2048);
    expect(m.length).toBeGreaterThan(1900);
    expect(benchIdOf(m)).toBe('s42');
    expect(m.toString('latin1')).not.toMatch(/^\./m);
  });

  it('finds the id after headers a relay added on top, and only in the header', () => {
    const relayed = Buffer.concat([Buffer.from('Received: from a by b;\r\n\tSat, 5 Dec 2026\r\n', 'latin1'), latencyMessage('p7')]);
    expect(benchIdOf(relayed)).toBe('p7');
    expect(benchIdOf(Buffer.from('Subject: x\r\n\r\nX-Bench-Id: body1\r\n', 'latin1'))).toBeUndefined();
  });
});
