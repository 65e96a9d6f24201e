/**
 * In-process counters and gauges, rendered in the Prometheus text format
 * (version 0.0.4). Every metric is declared in METRICS with its help text;
 * labels carry only low-cardinality operational values (outcome, connector
 * name, result type) — never addresses, domains, subjects or other PHI.
 * Gauges are read at scrape time from a collector (e.g. the queue in SQLite).
 * Histograms have fixed buckets declared with the metric (seconds).
 */

/** Accept → delivered: from sub-second relaying to a day of retries. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400] as const;

export const METRICS = {
  sealgate_messages_accepted_total: { type: 'counter', help: 'Messages accepted (250 after the durable commit), by connector.' },
  sealgate_rate_limited_total: { type: 'counter', help: 'Rate-limit and burst decisions (connectors[].limits), by connector and action (defer: 451 4.7.1; hold: accepted with its recipients held).' },
  sealgate_delivery_attempts_total: { type: 'counter', help: 'Recipient delivery attempts, by outcome (delivered, deferred, bounced, expired).' },
  sealgate_tls_sessions_total: { type: 'counter', help: 'Outbound TLS outcomes counted for TLS-RPT, by policy type and result type.' },
  sealgate_tls_enforcement_failures_total: { type: 'counter', help: 'Delivery attempts that could not meet the required transport security (4.7.5: no STARTTLS, an unverified certificate, MTA-STS or DANE not met).' },
  sealgate_posture_downgrades_total: { type: 'counter', help: 'Protected mail held back because a recipient MX fell below the transport security it showed before.' },
  sealgate_inspections_total: { type: 'counter', help: 'Messages inspected, by verdict (phi, sensitive, clean).' },
  sealgate_archived_total: { type: 'counter', help: 'Messages copied into the archive.' },
  sealgate_archive_failures_total: { type: 'counter', help: 'Archive attempts that failed (the message is tried again; its delivery waits).' },
  sealgate_inspection_thread_changes_total: { type: 'counter', help: 'Inspection threads started for a burst, replaced after a job (recycle) and stopped (retire), by change.' },
  sealgate_dkim_messages_total: { type: 'counter', help: 'Outgoing messages (one per delivery job) by DKIM result: signed, no-key, no-from-domain, header-too-large, line-too-long, failed (sent unsigned).' },
  sealgate_queue_recipients: { type: 'gauge', help: 'Recipients in the queue, by state.' },
  sealgate_queue_oldest_age_seconds: { type: 'gauge', help: 'Age of the oldest message with a recipient still to deliver (kind=active: queued, in flight or deferred) or held (kind=held); absent when there is none.' },
  sealgate_held_recipients: { type: 'gauge', help: 'Held recipients, by reason: quarantine (a quarantine decision), protection (the method the decision needs is not available), operator (held by queue hold).' },
  sealgate_store_up: { type: 'gauge', help: 'Whether the node\'s own probe (every store.heartbeat) found the store answering: 1 yes, 0 no, by store (database, objects); absent before the first probe.' },
  sealgate_delivery_latency_seconds: { type: 'histogram', help: 'Time from acceptance (250) to delivery, per delivered recipient.', buckets: LATENCY_BUCKETS },
  sealgate_portal_deposits_total: { type: 'counter', help: 'Messages (one copy each) stored in the secure portal.' },
  sealgate_portal_notifications_total: { type: 'counter', help: 'Portal notification mails queued (one per portal recipient).' },
  sealgate_portal_replies_total: { type: 'counter', help: 'Secure replies from the portal queued.' },
  sealgate_portal_opens_total: { type: 'counter', help: 'Portal message pages shown to signed-in recipients (print views included).' },
  sealgate_portal_code_requests_total: { type: 'counter', help: 'Portal sign-in code requests, by outcome (sent, refused).' },
  sealgate_portal_failed_codes_total: { type: 'counter', help: 'Portal sign-in codes entered that did not sign in, by outcome (wrong, malformed, expired, used, locked).' },
  sealgate_portal_passkey_registrations_total: { type: 'counter', help: 'Passkeys set up by portal recipients.' },
  sealgate_portal_passkey_sign_ins_total: { type: 'counter', help: 'Portal sign-ins with a passkey, by outcome (ok, challenge, malformed, unknown, other-recipient, verification).' },
} as const;

export type MetricName = keyof typeof METRICS;
type HistogramName = { [K in MetricName]: (typeof METRICS)[K] extends { type: 'histogram' } ? K : never }[MetricName];

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Pure: a bucket bound as Prometheus writes it (`+Inf` for the last). */
export function formatBound(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : '+Inf';
}
export type Labels = Readonly<Record<string, string>>;
export type GaugeCollector = () => Promise<readonly { labels: Labels; value: number }[]>;

/** Pure: a label value escaped for the text format. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k] ?? '')}"`)
    .join(',');
}

/** Most distinct label sets one metric keeps (a bound, should a label ever take unexpected values). */
const MAX_SERIES = 1000;

export class Metrics {
  private readonly counters = new Map<MetricName, Map<string, number>>();
  private readonly gauges = new Map<MetricName, GaugeCollector>();
  private readonly histograms = new Map<HistogramName, Map<string, HistogramSeries>>();

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    let series = this.counters.get(name);
    if (!series) this.counters.set(name, (series = new Map()));
    const key = labelKey(labels);
    if (!series.has(key) && series.size >= MAX_SERIES) return;
    series.set(key, (series.get(key) ?? 0) + by);
  }

  /** The current value of a counter series (for tests and the CLI). */
  value(name: MetricName, labels: Labels = {}): number {
    return this.counters.get(name)?.get(labelKey(labels)) ?? 0;
  }

  /** Records one observation (seconds) in a histogram's buckets. */
  observe(name: HistogramName, value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return;
    const buckets = METRICS[name].buckets;
    let series = this.histograms.get(name);
    if (!series) this.histograms.set(name, (series = new Map()));
    const key = labelKey(labels);
    let h = series.get(key);
    if (!h) {
      if (series.size >= MAX_SERIES) return;
      series.set(key, (h = { counts: buckets.map(() => 0), sum: 0, count: 0 }));
    }
    for (let i = 0; i < buckets.length; i++) if (value <= (buckets[i] ?? 0)) h.counts[i] = (h.counts[i] ?? 0) + 1;
    h.sum += value;
    h.count += 1;
  }

  /** How many observations a histogram series holds (for tests and the CLI). */
  observations(name: HistogramName, labels: Labels = {}): number {
    return this.histograms.get(name)?.get(labelKey(labels))?.count ?? 0;
  }

  gauge(name: MetricName, collect: GaugeCollector): void {
    this.gauges.set(name, collect);
  }

  /** The text exposition of every declared metric. */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const [name, meta] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
      out.push(`# HELP ${name} ${meta.help}`, `# TYPE ${name} ${meta.type}`);
      if (meta.type === 'counter') {
        const series = this.counters.get(name);
        if (!series || series.size === 0) out.push(`${name} 0`);
        else for (const [key, v] of [...series.entries()].sort()) out.push(`${name}${key ? `{${key}}` : ''} ${v}`);
      } else if (meta.type === 'histogram') {
        this.renderHistogram(out, name as HistogramName);
      } else {
        const collect = this.gauges.get(name);
        // a gauge read from a store that does not answer (the database away) is left out; the rest still renders
        const rows = collect ? await collect().catch(() => []) : [];
        for (const r of rows) {
          const key = labelKey(r.labels);
          out.push(`${name}${key ? `{${key}}` : ''} ${r.value}`);
        }
      }
    }
    return `${out.join('\n')}\n`;
  }

  /** Cumulative buckets, `+Inf`, `_sum` and `_count`; an empty series when nothing was observed yet. */
  private renderHistogram(out: string[], name: HistogramName): void {
    const buckets = METRICS[name].buckets;
    const series = this.histograms.get(name) ?? new Map<string, HistogramSeries>([['', { counts: buckets.map(() => 0), sum: 0, count: 0 }]]);
    for (const [key, h] of [...series.entries()].sort()) {
      const withLabels = (extra: string): string => `{${[key, extra].filter(Boolean).join(',')}}`;
      buckets.forEach((bound, i) => out.push(`${name}_bucket${withLabels(`le="${formatBound(bound)}"`)} ${h.counts[i] ?? 0}`));
      out.push(`${name}_bucket${withLabels('le="+Inf"')} ${h.count}`);
      out.push(`${name}_sum${key ? `{${key}}` : ''} ${h.sum}`, `${name}_count${key ? `{${key}}` : ''} ${h.count}`);
    }
  }
}
