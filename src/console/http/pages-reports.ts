/**
 * The reports page (pure): a window form and five figures of the archive,
 * each a server-rendered SVG chart with its numbers in a data table below
 * it (svg-chart.ts). Names from outside (DLP categories, recipient domains)
 * are escaped there; nothing here names an address or a subject.
 */
import { type ReportFigures, ROW_CAP, TOP_CATEGORIES, TOP_DOMAINS, total } from '../figures/figures.js';
import { daysOf, type ReportWindow } from '../figures/window.js';
import { e } from './layout.js';
import { barChart, dataTable } from './svg-chart.js';

/** Palette index of each method's colour: the same method, the same colour on every chart. */
const METHOD_COLOUR: Record<string, number> = { 'tls-verified': 2, 'tls-opportunistic': 4, pgp: 0, smime: 3, portal: 1, quarantine: 6, block: 5, undecided: 7 };

/** What the form shows: the window's dates, or what was typed when it did not parse. */
export interface ReportForm {
  readonly since: string;
  readonly until: string;
}

const short = (day: string): string => day.slice(5);
const capText = ROW_CAP.toLocaleString('en-US');
const percent = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);

function form(f: ReportForm): string {
  return [
    '<form class="card" method="get" action="/reports">',
    '<fieldset class="filters"><legend>Window (whole days, UTC; at most 366 days)</legend>',
    `<div><label for="r-since">From</label><input class="field" type="date" id="r-since" name="since" value="${e(f.since)}" required></div>`,
    `<div><label for="r-until">To (included)</label><input class="field" type="date" id="r-until" name="until" value="${e(f.until)}" required></div>`,
    '</fieldset>',
    '<button type="submit">Show</button>',
    '</form>',
  ].join('');
}

/** A figure's card: its chart, and its tables beside it on a wide screen, below it on a phone. */
function section(id: string, heading: string, source: string, chart: string, tables: string): string {
  return `<section class="card report" aria-labelledby="${id}-h"><h2 id="${id}-h">${e(heading)}</h2><p class="muted">${source}</p><div class="figure"><div class="chart">${chart}</div><div class="tables">${tables}</div></div></section>`;
}

/** Rows of a per-day table: the days with any count (a long window of empty days would be a long empty table). */
function dayRows(days: readonly string[], columns: readonly (readonly number[])[]): { label: string; cells: number[] }[] {
  return days.map((day, i) => ({ label: day, cells: columns.map((col) => col[i] ?? 0) })).filter((r) => r.cells.some((v) => v > 0));
}

export function reportsPage(f: ReportForm, outcome: { window: ReportWindow; figures: ReportFigures } | { problem: string }): { title: string; main: string } {
  const head = ['<h1>Reports</h1>', '<p>Figures of the archive for the messages received in a window of days. Viewing a report is recorded in the audit log.</p>', form(f)];
  if ('problem' in outcome) return { title: 'Reports', main: [...head, `<div class="alert" role="alert"><p>${e(outcome.problem)}</p></div>`].join('') };
  const { window: w, figures } = outcome;
  const days = daysOf(w);
  const labels = days.map(short);
  const dayAxis = w.days === 1 ? 'Day (UTC)' : `Day (UTC), ${w.first} to ${w.last}`;
  const m = figures.methods;

  const methods = section(
    'methods',
    'Messages per method per day',
    'Each recipient of each message received that day, by the protection the decision chose (archive recipients\u2019 method; undecided: no decision recorded).',
    barChart({
      id: 'chart-methods',
      title: 'Recipients per delivery method per day',
      description: `Stacked columns, one per day from ${w.first} to ${w.last}: recipients by method. The table below gives the numbers.`,
      categories: labels,
      series: m.series.map((s) => ({ name: s.name, values: s.values, colour: METHOD_COLOUR[s.name] ?? 7 })),
      categoryAxis: dayAxis,
      valueAxis: 'Recipients',
    }),
    dataTable({
      id: 'table-methods',
      caption: 'Recipients per method per day (days without mail left out)',
      rowHeader: 'Day (UTC)',
      columns: m.series.map((s) => s.name),
      rows: dayRows(
        days,
        m.series.map((s) => s.values),
      ),
      totals: true,
    }),
  );

  const dlp = figures.categories;
  const categories = section(
    'dlp',
    'DLP hits per category',
    `The DLP verdicts stored with the messages: findings per category and the messages they were in (counts only, never the values found); the ${TOP_CATEGORIES} categories with the most findings.${dlp.capped ? ` More than ${capText} messages had findings: these figures count the first ${capText}.` : ''}`,
    barChart({
      id: 'chart-dlp',
      title: 'DLP findings per category',
      description: 'Bars, one per DLP category: the number of findings. The table below also gives the messages.',
      categories: dlp.rows.map((c) => c.category),
      series: [{ name: 'Findings', values: dlp.rows.map((c) => c.hits), colour: 5 }],
      categoryAxis: 'Category',
      valueAxis: 'Findings',
      orientation: 'horizontal',
    }),
    dataTable({
      id: 'table-dlp',
      caption: 'DLP findings per category',
      rowHeader: 'Category',
      columns: ['Messages', 'Findings'],
      rows: dlp.rows.map((c) => ({ label: c.category, cells: [c.messages, c.hits] })),
    }),
  );

  const posture = figures.posture;
  const tls = section(
    'tls',
    'TLS posture of the top recipient domains',
    `The last delivery attempt of each recipient (archived evidence), for the ${TOP_DOMAINS} domains with the most attempts: whether the session had TLS, whether the server\u2019s certificate verified, the TLS version, and whether DANE or an MTA-STS policy applied. Portal copies are not SMTP deliveries and are left out.`,
    barChart({
      id: 'chart-tls',
      title: 'Share of attempts with verified TLS, per recipient domain',
      description: 'Stacked bars, one per domain, each 100%: verified TLS, TLS whose certificate did not verify, no TLS. The table below gives the counts.',
      categories: posture.map((p) => p.domain),
      series: [
        { name: 'Verified TLS', values: posture.map((p) => percent(p.verified, p.attempted)), colour: 2 },
        { name: 'TLS, not verified', values: posture.map((p) => percent(p.unverified, p.attempted)), colour: 1 },
        // the rest, so that rounding never makes a bar longer or shorter than 100%
        { name: 'No TLS', values: posture.map((p) => (p.attempted > 0 && p.noTls > 0 ? Math.max(0, Math.round((100 - percent(p.verified, p.attempted) - percent(p.unverified, p.attempted)) * 10) / 10) : 0)), colour: 5 },
      ],
      categoryAxis: 'Domain',
      valueAxis: 'Share of delivery attempts',
      orientation: 'horizontal',
      max: 100,
      unit: '%',
    }),
    dataTable({
      id: 'table-tls',
      caption: 'TLS posture per recipient domain (recipients attempted)',
      rowHeader: 'Domain',
      columns: ['Attempted', 'Verified TLS %', 'Verified', 'Not verified', 'No TLS', 'TLS 1.3', 'TLS 1.2', 'Other TLS', 'DANE', 'MTA-STS enforce', 'MTA-STS testing'],
      rows: posture.map((p) => ({
        label: p.domain,
        cells: [p.attempted, percent(p.verified, p.attempted), p.verified, p.unverified, p.noTls, p.tls13, p.tls12, p.tlsOther, p.dane, p.mtaStsEnforce, p.mtaStsTesting],
      })),
    }),
  );

  const fl = figures.failures;
  const failures = section(
    'failures',
    'Delivery failures',
    'Recipients whose delivery failed for good (bounced: refused or failed permanently; expired: retried until the queue lifetime ran out), by the day their message was received, and the reply codes of their last attempt (codes only: reply texts can name people).',
    barChart({
      id: 'chart-failures',
      title: 'Bounced and expired recipients per day',
      description: `Stacked columns, one per day from ${w.first} to ${w.last}: bounced and expired recipients. The tables below give the numbers and the reply codes.`,
      categories: labels,
      series: [
        { name: 'Bounced', values: fl.bounced, colour: 5 },
        { name: 'Expired', values: fl.expired, colour: 0 },
      ],
      categoryAxis: dayAxis,
      valueAxis: 'Recipients',
    }),
    dataTable({ id: 'table-failures', caption: 'Failed recipients per day (days without failures left out)', rowHeader: 'Day (UTC)', columns: ['Bounced', 'Expired'], rows: dayRows(days, [fl.bounced, fl.expired]), totals: true }) +
      dataTable({ id: 'table-reasons', caption: `Reply codes of the failed recipients, most frequent first${fl.reasonsCapped ? ` (of the first ${capText})` : ''}`, rowHeader: 'Reply code', columns: ['Recipients'], rows: fl.reasons.map((r) => ({ label: r.reason, cells: [r.count] })) }),
  );

  const p = figures.portal;
  const deposited = total(p.deposited);
  const opened = total(p.opened);
  const notOpened = p.deposited.map((d, i) => Math.max(0, d - (p.opened[i] ?? 0)));
  const portal = section(
    'portal',
    'Portal opens',
    `Recipients whose copy went to the secure portal, by the day the message was received, and whether they opened it (the portal\u2019s records). ${deposited ? `${opened} of ${deposited} opened (${percent(opened, deposited)}%); ${p.replied} replied.` : ''}`,
    barChart({
      id: 'chart-portal',
      title: 'Portal recipients per day: opened and not opened',
      description: `Stacked columns, one per day from ${w.first} to ${w.last}: portal recipients who opened their message and who have not. The table below gives the numbers.`,
      categories: labels,
      series: [
        { name: 'Opened', values: p.opened, colour: 2 },
        { name: 'Not opened', values: notOpened, colour: 1 },
      ],
      categoryAxis: dayAxis,
      valueAxis: 'Portal recipients',
    }),
    dataTable({ id: 'table-portal', caption: 'Portal recipients per day (days without deposits left out)', rowHeader: 'Day (UTC)', columns: ['Deposited', 'Opened'], rows: dayRows(days, [p.deposited, p.opened]), totals: true }),
  );

  const summary = `<p role="status" class="summary">${w.first === w.last ? `On ${e(w.first)}` : `From ${e(w.first)} to ${e(w.last)}`} (UTC): ${m.messages} ${m.messages === 1 ? 'message' : 'messages'} to ${m.recipients} ${m.recipients === 1 ? 'recipient' : 'recipients'}.</p>`;
  return { title: 'Reports', main: [...head, summary, methods, categories, tls, failures, portal].join('') };
}
