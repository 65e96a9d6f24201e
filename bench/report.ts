/**
 * The pure parts of `npm run bench`: percentiles, the figures one run
 * measures, the targets of issue 16 checked against them, the table printed
 * at the end and the JSON written to bench/results/. No I/O here, so the
 * harness's arithmetic is tested (test/bench) while speed never is.
 */

/** Nearest-rank percentile (p in 0..100) of values; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const sorted = [...values].sort((a, b) => a - b);
  // nearest rank: the smallest value with at least p % of the values at or below it
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** p50/p95/p99/max of latencies in milliseconds; undefined for an empty sample. */
export function summariseLatency(ms: readonly number[]): LatencySummary | undefined {
  if (ms.length === 0) return undefined;
  return {
    count: ms.length,
    p50Ms: percentile(ms, 50) ?? 0,
    p95Ms: percentile(ms, 95) ?? 0,
    p99Ms: percentile(ms, 99) ?? 0,
    maxMs: Math.max(...ms),
  };
}

/** Best (smallest) and median of repeated wall times. */
export function bestAndMedian(values: readonly number[]): { best: number; median: number } | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { best: sorted[0] ?? 0, median };
}

/** The median load of rounds of the same load (same messages): the median of their times, as a rate; undefined for no round. */
export function medianRate(rounds: readonly Rate[]): Rate | undefined {
  const times = bestAndMedian(rounds.map((r) => r.seconds));
  const first = rounds[0];
  return times === undefined || first === undefined ? undefined : rateOf(first.messages, times.median);
}

/** a / b, or undefined when either is missing or b is not a positive number. */
export function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return undefined;
  return a / b;
}

/** Messages per second of one timed load. */
export interface Rate {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export function rateOf(messages: number, seconds: number): Rate {
  return { messages, seconds, perSecond: seconds > 0 ? messages / seconds : 0 };
}

/** Everything one run measured; a part that did not run leaves its fields out. */
export interface Figures {
  ingress?: Record<string, { sealgate: Rate; postfix: Rate; starttls: Rate }>;
  /** Per size: the median of the rounds (`rounds`, in the order run; each round one Sealgate load and one Postfix load, back to back). */
  relay?: Record<string, { sealgate: Rate; postfix: Rate; rounds?: { sealgate: Rate; postfix: Rate }[] }>;
  /** The relay part's first load after each relay started (before the timed loads of `relay`). */
  relayCold?: { label: string; sealgate: Rate; postfix: Rate };
  /** VmHWM of the daemon (and any child processes) at the end of the 2 KB relay load. */
  peakRssBytes?: number;
  latency?: {
    /** The paced rate asked for, and where it came from. */
    readonly rate: number;
    readonly rateSource: string;
    readonly sessions: number;
    readonly sealgate: LatencySummary & { readonly achievedRate: number };
    readonly postfix: LatencySummary & { readonly achievedRate: number };
  };
  backlog?: {
    readonly messages: number;
    readonly fill: Rate;
    readonly ingressEmpty: Rate;
    readonly ingressWithBacklog: Rate;
    readonly queueList: { readonly runs: readonly number[]; readonly best: number; readonly median: number };
    readonly queueSummary: { readonly command: string; readonly runs: readonly number[]; readonly best: number; readonly median: number };
    /** How the queue was made due once the MX was back, and how long that command took. */
    readonly flush: { readonly command: string; readonly seconds: number };
    /** From the MX coming back until the sink had every queued message (flush included). */
    readonly drain: Rate;
  };
  /** One and two nodes on PostgreSQL and an S3-compatible store, end to end (bench/cluster.ts). */
  cluster?: {
    readonly messages: number;
    readonly oneNode: { readonly ingress: Rate; readonly endToEnd: Rate };
    readonly twoNodes: { readonly ingress: Rate; readonly endToEnd: Rate };
  };
}

export interface Target {
  readonly key: string;
  readonly figure: string;
  /** 'min': measured must be ≥ the bound; 'max': measured must be < the bound. */
  readonly kind: 'min' | 'max';
  readonly must: number;
  readonly aim: number;
  readonly unit: '×' | 'ms' | 'MB' | 's';
  readonly measure: (f: Figures) => number | undefined;
}

const MB = 1024 * 1024;

/** The Targets table of issue 16, in its order. */
export const TARGETS: readonly Target[] = [
  { key: 'ingress2k', figure: 'ingress 2 KB (250 after fsync + commit), ratio to Postfix', kind: 'min', must: 1.0, aim: 1.5, unit: '×', measure: (f) => ratioOf(f.ingress?.['2 KB']?.sealgate.perSecond, f.ingress?.['2 KB']?.postfix.perSecond) },
  { key: 'relay2k', figure: 'end to end 2 KB, inspection on, ratio to Postfix', kind: 'min', must: 0.6, aim: 1.0, unit: '×', measure: (f) => ratioOf(f.relay?.['2 KB']?.sealgate.perSecond, f.relay?.['2 KB']?.postfix.perSecond) },
  { key: 'relay100k', figure: 'end to end 100 KB, inspection on, ratio to Postfix', kind: 'min', must: 0.6, aim: 1.0, unit: '×', measure: (f) => ratioOf(f.relay?.['100 KB']?.sealgate.perSecond, f.relay?.['100 KB']?.postfix.perSecond) },
  { key: 'latencyP99', figure: 'accept → delivered p99 at half of max load', kind: 'max', must: 50, aim: 20, unit: 'ms', measure: (f) => f.latency?.sealgate.p99Ms },
  { key: 'peakRss', figure: 'peak RSS under the 2 KB load', kind: 'max', must: 300, aim: 150, unit: 'MB', measure: (f) => (f.peakRssBytes === undefined ? undefined : f.peakRssBytes / MB) },
  { key: 'backlogIngress', figure: 'ingress with the backlog deferred, ratio to empty queue', kind: 'min', must: 0.8, aim: 0.95, unit: '×', measure: (f) => ratioOf(f.backlog?.ingressWithBacklog.perSecond, f.backlog?.ingressEmpty.perSecond) },
  { key: 'drain', figure: 'drain of the backlog, ratio to end-to-end 2 KB rate', kind: 'min', must: 0.5, aim: 0.9, unit: '×', measure: (f) => ratioOf(f.backlog?.drain.perSecond, f.relay?.['2 KB']?.sealgate.perSecond) },
  { key: 'queueList', figure: '`queue list` on the backlog (median)', kind: 'max', must: 2, aim: 0.5, unit: 's', measure: (f) => f.backlog?.queueList.median },
  { key: 'queueSummary', figure: '`queue summary` on the backlog (median)', kind: 'max', must: 2, aim: 0.5, unit: 's', measure: (f) => f.backlog?.queueSummary.median },
];

export interface TargetResult {
  readonly key: string;
  readonly figure: string;
  readonly unit: string;
  readonly must: string;
  readonly aim: string;
  /** undefined: not run in this invocation. */
  readonly measured: number | undefined;
  readonly mustMet: boolean | undefined;
  readonly aimMet: boolean | undefined;
}

function meets(kind: Target['kind'], value: number, bound: number): boolean {
  return kind === 'min' ? value >= bound : value < bound;
}

function bound(t: Target, value: number): string {
  return `${t.kind === 'min' ? '≥' : '<'} ${value}${t.unit === '×' ? '×' : ` ${t.unit}`}`;
}

export function evaluateTargets(figures: Figures, targets: readonly Target[] = TARGETS): TargetResult[] {
  return targets.map((t) => {
    const measured = t.measure(figures);
    const known = measured !== undefined && Number.isFinite(measured);
    return {
      key: t.key,
      figure: t.figure,
      unit: t.unit,
      must: bound(t, t.must),
      aim: bound(t, t.aim),
      measured: known ? measured : undefined,
      mustMet: known ? meets(t.kind, measured, t.must) : undefined,
      aimMet: known ? meets(t.kind, measured, t.aim) : undefined,
    };
  });
}

/** A measured value with its unit, rounded for reading (ratios 2 places, ms and s 1 or 2, MB whole). */
export function formatMeasured(value: number | undefined, unit: string): string {
  if (value === undefined) return 'not run';
  switch (unit) {
    case '×':
      return `${value.toFixed(2)}×`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    case 'MB':
      return `${value.toFixed(0)} MB`;
    default:
      return `${value.toFixed(2)} s`;
  }
}

const mark = (met: boolean | undefined): string => (met === undefined ? '' : met ? '✓' : '✗');

/** The targets table, Markdown, one row per figure of issue 16. */
export function renderTargetsTable(results: readonly TargetResult[]): string[] {
  return [
    '| figure | measured | must | | aim | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.figure} | ${formatMeasured(r.measured, r.unit)} | ${r.must} | ${mark(r.mustMet)} | ${r.aim} | ${mark(r.aimMet)} |`),
  ];
}

export interface RunMeta {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly parts: readonly string[];
  readonly machine: { readonly cores: number; readonly cpuModel: string; readonly memoryBytes: number; readonly loadAverageAtStart: readonly number[]; readonly loadAverageAtEnd: readonly number[] };
  readonly versions: { readonly node: string; readonly postfix: string | null; readonly sealgate: string; readonly commit: string | null };
  /** Every BENCH_* variable set for this run. */
  readonly env: Readonly<Record<string, string>>;
}

export const RESULT_FORMAT = 'sealgate-bench/1';

export interface RunResult extends RunMeta {
  readonly format: typeof RESULT_FORMAT;
  readonly figures: Figures;
  readonly targets: readonly TargetResult[];
}

export function runResult(meta: RunMeta, figures: Figures): RunResult {
  return { format: RESULT_FORMAT, ...meta, figures, targets: evaluateTargets(figures) };
}

/** The BENCH_* knobs of an environment (nothing else: the environment may hold secrets). */
export function benchEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('BENCH_') && v !== undefined) out[k] = v;
  return out;
}

/** bench/results/ file name: ISO 8601 basic format in UTC (no colons, so it is a valid name everywhere), e.g. 20261205T143000Z.json. */
export function resultFileName(at: Date): string {
  return `${at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}.json`;
}
