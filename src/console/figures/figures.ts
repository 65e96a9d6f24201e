/**
 * The figures of the console's reports page (docs/console.md, "Reports"):
 * each one a bounded read of the archive for the messages received in a
 * window of whole UTC days, and the pure aggregation of what it read.
 *
 *   - every query selects the window's rows through
 *     archive_messages.received_at (index archive_messages_received; the
 *     failures may start from the few failed recipients, index
 *     archive_recipients_state) and reaches the recipients, terms and
 *     portal rows by their keys: a report reads the window, never the whole
 *     archive; top-N lists have a LIMIT, row-by-row reads a ROW_CAP;
 *   - portable SQL (SQLite and PostgreSQL, figures-both.test.ts): days are integer
 *     arithmetic on the stored epoch-ms times — `(received_at - since) /
 *     86400000` with `since` cast to BIGINT, so both engines divide whole
 *     numbers — and the stored JSON is read in TypeScript (verdicts, reply
 *     codes) or matched with LIKE on its canonical form (TLS facts), never
 *     with an engine's own JSON functions;
 *   - no PHI: counts, DLP category names, recipient domains, TLS facts and
 *     SMTP reply codes; never an address, a subject or reply text.
 */
import type { SqlQueryable, SqlValue } from '../../db/sql-database.js';
import type { ReportWindow } from './window.js';

/** Recipient methods in the order the charts stack them (archive_recipients.method; NULL: undecided). */
export const METHOD_ORDER = ['tls-verified', 'tls-opportunistic', 'pgp', 'smime', 'portal', 'quarantine', 'block', 'undecided'] as const;
/** Most rows of a top-N table. */
export const TOP_DOMAINS = 10;
export const TOP_CATEGORIES = 20;
export const TOP_REASONS = 10;
/**
 * Most rows a figure reads one by one (verdicts, failed recipients' evidence):
 * beyond it the figure says it counted the first ones only. The per-day counts
 * are whole (counted in SQL).
 */
export const ROW_CAP = 200_000;
/** Most distinct category names or reasons counted before the rest are summed as "other" (a bound on memory). */
const MAX_DISTINCT = 1000;

/** A day's number in the window (0 = the first day), as the queries compute it. */
const DAY_SQL = '(m.received_at - CAST(? AS BIGINT)) / 86400000';
const WINDOW_SQL = 'm.received_at >= ? AND m.received_at < ?';

export interface DaySeries {
  readonly name: string;
  /** One count per day of the window. */
  readonly values: readonly number[];
}

export interface MethodsFigure {
  /** One series per method that occurs, in METHOD_ORDER (unknown methods after them). */
  readonly series: readonly DaySeries[];
  readonly messages: number;
  readonly recipients: number;
}

export interface CategoryRow {
  readonly category: string;
  /** Messages with at least one finding of the category. */
  readonly messages: number;
  /** Findings of the category summed over those messages. */
  readonly hits: number;
}

export interface DomainPosture {
  readonly domain: string;
  /** Recipients of the domain with an SMTP attempt (their last attempt's evidence). */
  readonly attempted: number;
  readonly verified: number;
  /** TLS whose certificate did not verify. */
  readonly unverified: number;
  readonly noTls: number;
  readonly tls13: number;
  readonly tls12: number;
  /** TLS older than 1.2, or a version not recognised. */
  readonly tlsOther: number;
  /** A DANE (TLSA) match was recorded. */
  readonly dane: number;
  readonly mtaStsEnforce: number;
  readonly mtaStsTesting: number;
}

export interface CategoriesFigure {
  readonly rows: readonly CategoryRow[];
  /** More than ROW_CAP messages had findings: the rows count the first ROW_CAP. */
  readonly capped: boolean;
}

export interface FailuresFigure {
  readonly bounced: readonly number[];
  readonly expired: readonly number[];
  /** The last reply's code ("550 5.1.1"), or "no reply", most frequent first. */
  readonly reasons: readonly { readonly reason: string; readonly count: number }[];
  /** More than ROW_CAP recipients failed: the reasons count the first ROW_CAP. */
  readonly reasonsCapped: boolean;
}

export interface PortalFigure {
  /** Portal recipients (each a link to a deposit) by the day the message was received. */
  readonly deposited: readonly number[];
  /** Of them, those who opened the message. */
  readonly opened: readonly number[];
  readonly replied: number;
}

export interface ReportFigures {
  readonly methods: MethodsFigure;
  readonly categories: CategoriesFigure;
  readonly posture: readonly DomainPosture[];
  readonly failures: FailuresFigure;
  readonly portal: PortalFigure;
}

/** Pure: a count from the database as a number (PostgreSQL drivers give COUNT's bigint as a string). */
const count = (v: unknown): number => {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

/** Pure: a day number from the database as an index into the window, or undefined when outside it. */
function dayIndex(value: unknown, days: number): number | undefined {
  const d = Number(value);
  return Number.isInteger(d) && d >= 0 && d < days ? d : undefined;
}

const parseJson = (text: string | null): unknown => {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};
const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** Pure: rows (day, method, n) as one series per method that occurs. */
export function methodSeries(rows: readonly { day: unknown; method: string | null; n: unknown }[], days: number): Omit<MethodsFigure, 'messages'> {
  const byMethod = new Map<string, number[]>();
  let recipients = 0;
  for (const r of rows) {
    const d = dayIndex(r.day, days);
    if (d === undefined) continue;
    const method = r.method ?? 'undecided';
    const values = byMethod.get(method) ?? new Array<number>(days).fill(0);
    values[d] = (values[d] ?? 0) + count(r.n);
    byMethod.set(method, values);
    recipients += count(r.n);
  }
  const rank = (m: string): number => {
    const i = (METHOD_ORDER as readonly string[]).indexOf(m);
    return i < 0 ? METHOD_ORDER.length : i;
  };
  const series = [...byMethod.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([name, values]) => ({ name, values }));
  return { series, recipients };
}

/** Pure: categories with their messages and hits summed from stored verdicts (canonical JSON, src/archive/verdict.ts), most hits first. */
export function categoryRows(verdicts: readonly (string | null)[], limit = TOP_CATEGORIES): CategoryRow[] {
  const counts = new Map<string, { messages: number; hits: number }>();
  for (const text of verdicts) {
    const findings = obj(parseJson(text))?.findings;
    if (!Array.isArray(findings)) continue;
    const seen = new Set<string>();
    for (const f of findings as unknown[]) {
      const finding = obj(f);
      if (!finding || typeof finding.category !== 'string' || finding.category === '') continue;
      const category = counts.has(finding.category) || counts.size < MAX_DISTINCT ? finding.category : 'other';
      const count = typeof finding.count === 'number' && Number.isSafeInteger(finding.count) && finding.count > 0 ? finding.count : 0;
      const c = counts.get(category) ?? { messages: 0, hits: 0 };
      if (!seen.has(category)) c.messages++;
      seen.add(category);
      c.hits += count;
      counts.set(category, c);
    }
  }
  return [...counts.entries()]
    .map(([category, c]) => ({ category, ...c }))
    .sort((a, b) => b.hits - a.hits || b.messages - a.messages || a.category.localeCompare(b.category))
    .slice(0, limit);
}

/** The counts postureFigure's query returns for one domain. */
export interface PostureCounts {
  readonly domain: string;
  readonly attempted: number;
  readonly verified: number;
  readonly noTls: number;
  readonly tls13: number;
  readonly tls12: number;
  readonly dane: number;
  readonly mtaStsEnforce: number;
  readonly mtaStsTesting: number;
}

/** Pure: a domain's posture from its counts (the rest of the TLS sessions: not verified, or another version). */
export function postureOf(c: PostureCounts): DomainPosture {
  const attempted = count(c.attempted);
  const noTls = count(c.noTls);
  const verified = count(c.verified);
  const tls13 = count(c.tls13);
  const tls12 = count(c.tls12);
  return {
    domain: c.domain,
    attempted,
    verified,
    unverified: Math.max(0, attempted - noTls - verified),
    noTls,
    tls13,
    tls12,
    tlsOther: Math.max(0, attempted - noTls - tls13 - tls12),
    dane: count(c.dane),
    mtaStsEnforce: count(c.mtaStsEnforce),
    mtaStsTesting: count(c.mtaStsTesting),
  };
}

/**
 * Pure: the reason code of a failed recipient's last reply — "550 5.1.1",
 * "451", or "no reply" — from its stored evidence. Only the numeric codes:
 * the reply text can name the recipient and is never shown here.
 */
export function reasonOf(evidenceJson: string | null): string {
  const reply = obj(obj(parseJson(evidenceJson))?.reply);
  const code = typeof reply?.code === 'number' && Number.isInteger(reply.code) && reply.code >= 200 && reply.code <= 599 ? String(reply.code) : undefined;
  const enhanced = typeof reply?.enhanced === 'string' && /^[245]\.\d{1,3}\.\d{1,3}$/.test(reply.enhanced) ? reply.enhanced : undefined;
  const parts = [code, enhanced].filter((x): x is string => x !== undefined);
  return parts.length ? parts.join(' ') : 'no reply';
}

/**
 * Pure: bounced and expired recipients per day (rows of day, state and
 * count), and the reasons of the failed recipients' evidence, most frequent
 * first.
 */
export function failureFigure(counts: readonly { day: unknown; state: string; n: unknown }[], evidence: readonly (string | null)[], days: number, limit = TOP_REASONS): Omit<FailuresFigure, 'reasonsCapped'> {
  const bounced = new Array<number>(days).fill(0);
  const expired = new Array<number>(days).fill(0);
  for (const r of counts) {
    const d = dayIndex(r.day, days);
    if (d === undefined) continue;
    if (r.state === 'bounced') bounced[d] = (bounced[d] ?? 0) + count(r.n);
    else if (r.state === 'expired') expired[d] = (expired[d] ?? 0) + count(r.n);
  }
  const reasons = new Map<string, number>();
  for (const e of evidence) {
    const found = reasonOf(e);
    const reason = reasons.has(found) || reasons.size < MAX_DISTINCT ? found : 'other';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const top = [...reasons.entries()].map(([reason, n]) => ({ reason, count: n })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { bounced, expired, reasons: top.slice(0, limit) };
}

/** A figure's query and its parameters. */
export interface FigureQuery {
  readonly sql: string;
  readonly params: SqlValue[];
}

/**
 * Evidence facts counted in SQL. The evidence column is canonical JSON
 * (src/archive/evidence.ts: sorted keys, no spaces; a quote inside a string
 * is written \"), so `"key":` with a bare quote can only be that key:
 * `"verified":true` is the TLS certificate check, never text of a reply.
 * LIKE is in every SQL engine; JSON functions differ.
 */
const EVIDENCE_FACTS: readonly [keyof PostureCounts, string][] = [
  ['noTls', '%"tls":null%'],
  ['verified', '%"verified":true%'],
  ['tls13', '%"version":"TLSv1.3"%'],
  ['tls12', '%"version":"TLSv1.2"%'],
  ['dane', '%"dane":"%'],
  ['mtaStsEnforce', '%"mtaSts":"enforce"%'],
  ['mtaStsTesting', '%"mtaSts":"testing"%'],
];

/**
 * The figures' queries (exported so a test can check each one's plan): every
 * one starts from the window's range of archive_messages.received_at.
 */
export const FIGURE_QUERIES = {
  /** Recipients per day and method. */
  methods: (w: ReportWindow): FigureQuery => ({
    sql: `SELECT ${DAY_SQL} AS day, r.method AS method, COUNT(*) AS n
       FROM archive_messages m JOIN archive_recipients r ON r.archive_id = m.id
      WHERE ${WINDOW_SQL}
      GROUP BY day, r.method`,
    params: [w.since, w.since, w.until],
  }),
  messages: (w: ReportWindow): FigureQuery => ({ sql: `SELECT COUNT(*) AS n FROM archive_messages m WHERE ${WINDOW_SQL}`, params: [w.since, w.until] }),
  /** The verdicts of the messages with a DLP category search term (few, usually); at most `rows`. */
  categories: (w: ReportWindow, rows: number): FigureQuery => ({
    sql: `SELECT m.verdict AS verdict FROM archive_messages m
      WHERE ${WINDOW_SQL}
        AND EXISTS (SELECT 1 FROM archive_terms t WHERE t.archive_id = m.id AND t.term >= 'category:' AND t.term < 'category;')
      LIMIT ?`,
    params: [w.since, w.until, rows],
  }),
  /**
   * Per recipient domain, the SMTP attempts and their evidence facts; the `limit` domains with the most attempts.
   * The facts' names are quoted: PostgreSQL folds a bare alias to lower case (noTls would come back as notls).
   */
  posture: (w: ReportWindow, limit: number): FigureQuery => ({
    sql: `SELECT r.domain AS domain, COUNT(*) AS attempted, ${EVIDENCE_FACTS.map(([name]) => `SUM(CASE WHEN r.evidence LIKE ? THEN 1 ELSE 0 END) AS "${name}"`).join(', ')}
       FROM archive_messages m JOIN archive_recipients r ON r.archive_id = m.id
      WHERE ${WINDOW_SQL} AND r.evidence IS NOT NULL AND (r.method IS NULL OR r.method <> 'portal')
      GROUP BY r.domain ORDER BY attempted DESC, r.domain LIMIT ?`,
    params: [...EVIDENCE_FACTS.map(([, pattern]) => pattern), w.since, w.until, limit],
  }),
  /** Failed recipients per day and state. */
  failures: (w: ReportWindow): FigureQuery => ({
    sql: `SELECT ${DAY_SQL} AS day, r.state AS state, COUNT(*) AS n
       FROM archive_messages m JOIN archive_recipients r ON r.archive_id = m.id
      WHERE ${WINDOW_SQL} AND r.state IN ('bounced', 'expired')
      GROUP BY day, r.state`,
    params: [w.since, w.since, w.until],
  }),
  /** The failed recipients' evidence (for their reply codes); at most `rows`. */
  failureReasons: (w: ReportWindow, rows: number): FigureQuery => ({
    sql: `SELECT r.evidence AS evidence
       FROM archive_messages m JOIN archive_recipients r ON r.archive_id = m.id
      WHERE ${WINDOW_SQL} AND r.state IN ('bounced', 'expired')
      LIMIT ?`,
    params: [w.since, w.until, rows],
  }),
  portal: (w: ReportWindow): FigureQuery => ({
    sql: `SELECT ${DAY_SQL} AS day, COUNT(*) AS deposited, COUNT(pr.opened_at) AS opened, COUNT(pr.replied_at) AS replied
       FROM archive_messages m
       JOIN portal_messages pm ON pm.queue_id = m.id
       JOIN portal_recipients pr ON pr.deposit_id = pm.deposit_id
      WHERE ${WINDOW_SQL}
      GROUP BY day`,
    params: [w.since, w.since, w.until],
  }),
} as const;

/** Messages per method per day: each recipient counted once, on the day its message was received. */
export async function methodsFigure(db: SqlQueryable, w: ReportWindow): Promise<MethodsFigure> {
  const q = FIGURE_QUERIES.methods(w);
  const rows = await db.all<{ day: number; method: string | null; n: number }>(q.sql, q.params);
  const m = FIGURE_QUERIES.messages(w);
  const messages = await db.get<{ n: number }>(m.sql, m.params);
  return { ...methodSeries(rows, w.days), messages: count(messages?.n) };
}

/** DLP hits per category, from the verdicts of the window's messages that have findings. */
export async function categoriesFigure(db: SqlQueryable, w: ReportWindow, limit = TOP_CATEGORIES, rowCap = ROW_CAP): Promise<CategoriesFigure> {
  // one row more than the cap: whether there were more
  const q = FIGURE_QUERIES.categories(w, rowCap + 1);
  const rows = await db.all<{ verdict: string }>(q.sql, q.params);
  return {
    rows: categoryRows(
      rows.slice(0, rowCap).map((r) => r.verdict),
      limit,
    ),
    capped: rows.length > rowCap,
  };
}

/**
 * TLS posture of the `limit` recipient domains with the most SMTP attempts
 * (the last attempt's evidence of each recipient; portal copies are not SMTP
 * attempts): one pass over the window, grouped by domain.
 */
export async function postureFigure(db: SqlQueryable, w: ReportWindow, limit = TOP_DOMAINS): Promise<DomainPosture[]> {
  const q = FIGURE_QUERIES.posture(w, limit);
  return (await db.all<PostureCounts>(q.sql, q.params)).map(postureOf);
}

/** Bounced and expired recipients by the day their message was received, and their reply codes. */
export async function failuresFigure(db: SqlQueryable, w: ReportWindow, limit = TOP_REASONS, rowCap = ROW_CAP): Promise<FailuresFigure> {
  const q = FIGURE_QUERIES.failures(w);
  const counts = await db.all<{ day: number; state: string; n: number }>(q.sql, q.params);
  const r = FIGURE_QUERIES.failureReasons(w, rowCap + 1);
  const evidence = (await db.all<{ evidence: string | null }>(r.sql, r.params)).map((row) => row.evidence);
  return { ...failureFigure(counts, evidence.slice(0, rowCap), w.days, limit), reasonsCapped: evidence.length > rowCap };
}

/** Portal recipients (deposits' links) and how many opened, by the day the message was received. */
export async function portalFigure(db: SqlQueryable, w: ReportWindow): Promise<PortalFigure> {
  const q = FIGURE_QUERIES.portal(w);
  const rows = await db.all<{ day: number; deposited: number; opened: number; replied: number }>(q.sql, q.params);
  const deposited = new Array<number>(w.days).fill(0);
  const opened = new Array<number>(w.days).fill(0);
  let replied = 0;
  for (const r of rows) {
    const d = dayIndex(r.day, w.days);
    if (d === undefined) continue;
    deposited[d] = count(r.deposited);
    opened[d] = count(r.opened);
    replied += count(r.replied);
  }
  return { deposited, opened, replied };
}

/** Every figure of the reports page for one window (sequential reads: one connection). */
export async function reportFigures(db: SqlQueryable, w: ReportWindow): Promise<ReportFigures> {
  const methods = await methodsFigure(db, w);
  const categories = await categoriesFigure(db, w);
  const posture = await postureFigure(db, w);
  const failures = await failuresFigure(db, w);
  const portal = await portalFigure(db, w);
  return { methods, categories, posture, failures, portal };
}

/** Pure: the sum of a series. */
export const total = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
