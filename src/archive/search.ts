/**
 * Archive search: filters parsed and bounded (pure), the SQL built for a
 * chosen plan (pure), and a runner that picks the plan and pages the result
 * newest first (received_at DESC, id DESC). Portable SQL only: no
 * SQLite-only functions or hints; times are integer ms since the epoch.
 *
 * Why a plan at all: the order is by time, but most filters are served by
 * indexes keyed on something else (archive_recipients(address, archive_id),
 * archive_terms(term, archive_id), …). A rare value (one patient's address)
 * is fastest read from its own index and sorted; a common one (a method
 * used by most mail, a big domain) is fastest found by walking the entries
 * newest first and stopping after one page. The runner counts each filter's
 * matches in its index, up to driveLimit() (cheap: it stops there), and
 * drives from the rarest filter when it is under that limit; otherwise it
 * walks archive_messages(received_at) from the newest entry (within
 * --since/--until), where a page of matches comes quickly because every
 * filter is common. Common filters can still be rare together: the walk
 * covers a window of the newest WALK_WINDOW entries, and when that does not
 * fill the page, the older rest comes from the rarest filter's index (or
 * the walk goes on, when the window's density says that is cheaper).
 * Either way every filter is applied to every row.
 *
 * Measured on 1,000,000 synthetic entries (2 cores shared with other work):
 * single filters 0.2 to 25 ms, the worst combination of common filters
 * some 180 ms; see the lead's `npm run bench` for the standing figures.
 *
 * Addresses (--from, --to) match whatever their case: the filter compares
 * lower(column) with the address lowered, served by expression indexes on
 * lower(sender) and lower(address) (migration 21; SQLite and PostgreSQL both
 * index expressions). SQLite's lower() folds ASCII letters only and
 * PostgreSQL's folds every letter, so the query carries both lowerings of the
 * address (addressVariants): each engine finds its own among them.
 *
 * Recipient filters (to, method, state) apply to one and the same recipient:
 * `--to a@x --state bounced` finds messages whose recipient a@x bounced.
 * `domain` matches the sender's domain or any recipient's.
 */
import type { SqlQueryable, SqlValue } from '../db/sql-database.js';
import { RECIPIENT_STATES } from '../queue/states.js';
import { isQueueId } from '../queue/ids.js';
import { categoryTerm } from './terms.js';

export const SEARCH_DEFAULT_LIMIT = 50;
export const SEARCH_MAX_LIMIT = 1000;
export const SEARCH_MAX_OFFSET = 100_000;
/**
 * A filter with fewer matches than this drives the query (its matches are
 * read and sorted); a more common one is cheaper to meet while walking the
 * entries newest first, which needs about limit / density rows for a page.
 * Measured on 1,000,000 entries: reading and sorting costs some 4 µs a row,
 * walking some 1.5 µs, so the break-even grows with the page size.
 */
export function driveLimit(limit: number): number {
  return Math.min(20_000, Math.max(2_000, 100 * limit));
}
/** Subject words one search may ask for. */
export const MAX_QUERY_WORDS = 16;
/** Recipients listed per entry in a search result (the count is always given; `archive show` lists all). */
export const RESULT_RECIPIENTS = 100;

const MAX_ADDRESS = 320;
const MAX_DOMAIN = 255;
const MAX_SUBJECT_QUERY = 1000;
const MAX_CATEGORY = 64;
const MAX_MESSAGE_ID = 998;
const MAX_TIME_TEXT = 40;
/** Latest time accepted (ms): year 275760, the end of JavaScript dates. */
const MAX_TIME = 8.64e15;

export const ARCHIVE_METHODS = ['tls-verified', 'smime', 'pgp', 'portal', 'tls-opportunistic', 'block', 'quarantine'] as const;
/** Queue states and `deleted` (recorded when an operator deletes a message). */
export const ARCHIVE_STATES = [...RECIPIENT_STATES, 'deleted'] as const;

/** A bad filter: the message names the flag and what is allowed, never the value given. */
export class SearchInputError extends Error {}

/** Search filters as the command line (or the console) gives them: text, unchecked. */
export interface RawSearch {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly domain?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly subject?: string | undefined;
  readonly category?: string | undefined;
  readonly method?: string | undefined;
  readonly state?: string | undefined;
  readonly queueId?: string | undefined;
  readonly messageId?: string | undefined;
  readonly limit?: string | number | undefined;
  readonly after?: string | undefined;
  readonly offset?: string | number | undefined;
}

/** The filter names of RawSearch, as the audit event lists them (`limit`, `after`, `offset` are paging, not filters). */
export const FILTER_NAMES = ['from', 'to', 'domain', 'since', 'until', 'subject', 'category', 'method', 'state', 'queueId', 'messageId'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** Checked filters, ready for SQL. */
export interface ArchiveQuery {
  /** The sender lowered (ASCII letters only, and every letter), matched against lower(sender); [''] for the null sender. */
  readonly from?: readonly string[] | undefined;
  /** The recipient lowered, as `from`, matched against lower(address). */
  readonly to?: readonly string[] | undefined;
  readonly domain?: string | undefined;
  /** received_at >= since (ms). */
  readonly since?: number | undefined;
  /** received_at < until (ms). */
  readonly until?: number | undefined;
  /** Per subject word, the terms it may be stored as (one per master key): every word must match. */
  readonly subjectTerms?: readonly (readonly string[])[] | undefined;
  /** The category's stored term (category:<NAME>). */
  readonly categoryTerm?: string | undefined;
  readonly method?: string | undefined;
  readonly state?: string | undefined;
  readonly queueId?: string | undefined;
  readonly messageId?: string | undefined;
  readonly limit: number;
  /** Continue after this entry (the last of the previous page). */
  readonly after?: { readonly receivedAt: number; readonly id: string } | undefined;
  readonly offset?: number | undefined;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };
const TIME_HELP = 'give a date (2026-12-01, UTC), a date and time with its zone (2026-12-01T08:30:00Z, 2026-12-01T09:30+01:00) or a time ago (30m, 12h, 7d, 2w, 1y)';

/**
 * A time filter: an ISO date (midnight UTC), an ISO date and time with a
 * zone (a time without one would depend on the machine's zone), or a
 * relative time before `now` (s, m minutes, h, d, w, y of 365 days).
 */
export function parseTime(text: string, now: number, flag = 'time'): number {
  const t = text.trim();
  if (t.length === 0 || t.length > MAX_TIME_TEXT) throw new SearchInputError(`--${flag}: ${TIME_HELP}`);
  const rel = /^(\d{1,7})([smhdwy])$/.exec(t);
  if (rel) {
    const ms = Number(rel[1]) * (UNITS[rel[2] ?? ''] ?? 0);
    return Math.max(0, now - ms);
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (date) {
    const [y, mo, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const back = new Date(ms);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw new SearchInputError(`--${flag}: no such date; ${TIME_HELP}`);
    return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T').toUpperCase());
    if (Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIME) return ms;
  }
  throw new SearchInputError(`--${flag}: ${TIME_HELP}`);
}

function plainText(value: string, flag: string, max: number): string {
  const t = value.trim();
  if (t.length === 0) throw new SearchInputError(`--${flag} is empty`);
  if (t.length > max) throw new SearchInputError(`--${flag} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) throw new SearchInputError(`--${flag} contains control characters`);
  return t;
}

/** Pure: A-Z to a-z and nothing else, as SQLite's built-in lower() does. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Pure: an address as the search compares it with lower(column): lowered
 * the way SQLite's lower() does (ASCII letters) and the way PostgreSQL's
 * does (every letter), one value when the two agree. So `Alice@Example.COM`
 * is found by `alice@example.com` and by `ALICE@EXAMPLE.COM` on both engines.
 */
export function addressVariants(value: string, flag: string): string[] {
  const t = plainText(value, flag, MAX_ADDRESS).replace(/^<(.*)>$/, '$1');
  if (t === '' && flag === 'from') return [''];
  const at = t.lastIndexOf('@');
  if (at <= 0 || at === t.length - 1 || /\s/.test(t)) throw new SearchInputError(`--${flag} must be one address (local@domain${flag === 'from' ? ', or <> for the null sender' : ''})`);
  return [...new Set([asciiLower(t), t.toLowerCase()])];
}

function wholeNumber(value: string | number, flag: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : /^\d{1,7}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new SearchInputError(`--${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * Checks and bounds every filter. `termsOf` turns subject words into their
 * stored terms (terms.ts queryTerms with the keyring); `after` is resolved
 * by the runner (it needs the entry's time).
 */
export function parseSearch(raw: RawSearch, now: number, termsOf: (subject: string) => string[][]): Omit<ArchiveQuery, 'after'> & { afterId?: string } {
  const since = raw.since !== undefined ? parseTime(raw.since, now, 'since') : undefined;
  const until = raw.until !== undefined ? parseTime(raw.until, now, 'until') : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new SearchInputError('--since must be before --until');
  let subjectTerms: string[][] | undefined;
  if (raw.subject !== undefined) {
    const text = plainText(raw.subject, 'subject', MAX_SUBJECT_QUERY);
    subjectTerms = termsOf(text);
    if (subjectTerms.length === 0) throw new SearchInputError('--subject has no word to search for (words are 2 to 64 letters or digits)');
    if (subjectTerms.length > MAX_QUERY_WORDS) throw new SearchInputError(`--subject has more than ${MAX_QUERY_WORDS} words`);
  }
  let category: string | undefined;
  if (raw.category !== undefined) {
    category = plainText(raw.category, 'category', MAX_CATEGORY).toUpperCase();
    if (!/^[A-Z0-9_.:-]+$/.test(category)) throw new SearchInputError('--category is a category name (letters, digits, _ . : -), e.g. SSN');
  }
  const method = raw.method?.trim().toLowerCase();
  if (method !== undefined && !(ARCHIVE_METHODS as readonly string[]).includes(method)) throw new SearchInputError(`--method must be one of ${ARCHIVE_METHODS.join(', ')}`);
  const state = raw.state?.trim().toLowerCase();
  if (state !== undefined && !(ARCHIVE_STATES as readonly string[]).includes(state)) throw new SearchInputError(`--state must be one of ${ARCHIVE_STATES.join(', ')}`);
  const queueId = raw.queueId?.trim().toUpperCase();
  if (queueId !== undefined && !isQueueId(queueId)) throw new SearchInputError('--queue-id must be a queue id (20 characters, 0-9 and A-Z)');
  const afterId = raw.after?.trim().toUpperCase();
  if (afterId !== undefined && !isQueueId(afterId)) throw new SearchInputError('--after must be a queue id (the last entry of the previous page)');
  let domain: string | undefined;
  if (raw.domain !== undefined) {
    domain = plainText(raw.domain, 'domain', MAX_DOMAIN).replace(/^@/, '').toLowerCase();
    if (!/^[^\s@]+$/.test(domain)) throw new SearchInputError('--domain must be one domain name, e.g. example.org');
  }
  const messageId = raw.messageId !== undefined ? plainText(raw.messageId, 'message-id', MAX_MESSAGE_ID).replace(/^<(.*)>$/, '$1') : undefined;
  if (messageId === '') throw new SearchInputError('--message-id is empty');
  const offset = raw.offset !== undefined ? wholeNumber(raw.offset, 'offset', 0, SEARCH_MAX_OFFSET) : undefined;
  if (offset && afterId) throw new SearchInputError('give --after or --offset, not both');
  return {
    ...(raw.from !== undefined ? { from: addressVariants(raw.from, 'from') } : {}),
    ...(raw.to !== undefined ? { to: addressVariants(raw.to, 'to') } : {}),
    ...(domain !== undefined ? { domain } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(subjectTerms ? { subjectTerms } : {}),
    ...(category !== undefined ? { categoryTerm: categoryTerm(category) } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(queueId !== undefined ? { queueId } : {}),
    ...(messageId !== undefined ? { messageId } : {}),
    limit: raw.limit !== undefined ? wholeNumber(raw.limit, 'limit', 1, SEARCH_MAX_LIMIT) : SEARCH_DEFAULT_LIMIT,
    ...(afterId !== undefined ? { afterId } : {}),
    ...(offset ? { offset } : {}),
  };
}

/** The names of the filters given (for the audit event: names, never values). */
export function filterNames(raw: RawSearch): FilterName[] {
  return FILTER_NAMES.filter((n) => raw[n] !== undefined);
}

/** Where a query starts: one filter's own index, or the entries newest first. */
export type Driver =
  | { readonly kind: 'queue-id' }
  | { readonly kind: 'message-id' }
  | { readonly kind: 'sender' }
  | { readonly kind: 'recipient' }
  | { readonly kind: 'domain' }
  | { readonly kind: 'method' }
  | { readonly kind: 'state' }
  | { readonly kind: 'category' }
  | { readonly kind: 'subject'; readonly word: number }
  | { readonly kind: 'newest' };

export interface Sql {
  readonly sql: string;
  readonly params: SqlValue[];
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** The rows (ids) of one filter's index, as a subquery yielding `id`; undefined for 'newest'. */
function driverSource(q: ArchiveQuery, d: Driver): Sql | undefined {
  switch (d.kind) {
    case 'queue-id':
      return { sql: 'SELECT id FROM archive_messages WHERE id = ?', params: [q.queueId ?? ''] };
    case 'message-id':
      return { sql: 'SELECT id FROM archive_messages WHERE message_id = ?', params: [q.messageId ?? ''] };
    case 'sender':
      return { sql: `SELECT id FROM archive_messages WHERE lower(sender) IN (${marks(q.from?.length ?? 0)})`, params: [...(q.from ?? [])] };
    case 'recipient':
      return { sql: `SELECT DISTINCT archive_id AS id FROM archive_recipients WHERE lower(address) IN (${marks(q.to?.length ?? 0)})`, params: [...(q.to ?? [])] };
    case 'domain':
      return {
        sql: 'SELECT id FROM archive_messages WHERE sender_domain = ? UNION SELECT archive_id AS id FROM archive_recipients WHERE domain = ?',
        params: [q.domain ?? '', q.domain ?? ''],
      };
    case 'method':
      return { sql: 'SELECT DISTINCT archive_id AS id FROM archive_recipients WHERE method = ?', params: [q.method ?? ''] };
    case 'state':
      return { sql: 'SELECT DISTINCT archive_id AS id FROM archive_recipients WHERE state = ?', params: [q.state ?? ''] };
    case 'category':
      return { sql: 'SELECT archive_id AS id FROM archive_terms WHERE term = ?', params: [q.categoryTerm ?? ''] };
    case 'subject': {
      const terms = q.subjectTerms?.[d.word] ?? [];
      return { sql: `SELECT DISTINCT archive_id AS id FROM archive_terms WHERE term IN (${marks(terms.length)})`, params: [...terms] };
    }
    case 'newest':
      return undefined;
  }
}

/** The drivers a query could start from (each given filter with an index of its own). */
export function candidateDrivers(q: ArchiveQuery): Driver[] {
  const out: Driver[] = [];
  if (q.queueId !== undefined) out.push({ kind: 'queue-id' });
  if (q.messageId !== undefined) out.push({ kind: 'message-id' });
  if (q.from) out.push({ kind: 'sender' });
  if (q.to) out.push({ kind: 'recipient' });
  if (q.domain !== undefined) out.push({ kind: 'domain' });
  if (q.method !== undefined) out.push({ kind: 'method' });
  if (q.state !== undefined) out.push({ kind: 'state' });
  if (q.categoryTerm !== undefined) out.push({ kind: 'category' });
  (q.subjectTerms ?? []).forEach((_t, word) => out.push({ kind: 'subject', word }));
  return out;
}

/** How many rows a driver's index holds for the query, counted up to `cap` (the count stops there). */
export function estimateSql(q: ArchiveQuery, d: Driver, cap: number): Sql | undefined {
  // UNION must finish before a LIMIT applies; UNION ALL stops at the cap (and over-counts, which is safe)
  const source = d.kind === 'domain' ? { sql: 'SELECT id FROM archive_messages WHERE sender_domain = ? UNION ALL SELECT archive_id AS id FROM archive_recipients WHERE domain = ?', params: [q.domain ?? '', q.domain ?? ''] } : driverSource(q, d);
  if (!source) return undefined;
  return { sql: `SELECT COUNT(*) AS n FROM (${source.sql} LIMIT ?) c`, params: [...source.params, cap] };
}

/** How many entries the time range holds, counted up to `cap`. */
export function rangeEstimateSql(q: ArchiveQuery, cap: number): Sql | undefined {
  if (q.since === undefined && q.until === undefined) return undefined;
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.since !== undefined) {
    where.push('received_at >= ?');
    params.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('received_at < ?');
    params.push(q.until);
  }
  return { sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM archive_messages WHERE ${where.join(' AND ')} LIMIT ?) c`, params: [...params, cap] };
}

/** Every filter as a condition on entry `m` (each row is checked against all of them, whatever drives). */
export function filterConditions(q: ArchiveQuery): Sql {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, ...p: SqlValue[]): void => {
    where.push(sql);
    params.push(...p);
  };
  if (q.queueId !== undefined) add('m.id = ?', q.queueId);
  if (q.messageId !== undefined) add('m.message_id = ?', q.messageId);
  if (q.from) add(`lower(m.sender) IN (${marks(q.from.length)})`, ...q.from);
  if (q.since !== undefined) add('m.received_at >= ?', q.since);
  if (q.until !== undefined) add('m.received_at < ?', q.until);
  if (q.domain !== undefined) add('(m.sender_domain = ? OR EXISTS (SELECT 1 FROM archive_recipients rd WHERE rd.archive_id = m.id AND rd.domain = ?))', q.domain, q.domain);
  // to, method and state hold for one and the same recipient
  const rcpt: string[] = [];
  const rcptParams: SqlValue[] = [];
  if (q.to) {
    rcpt.push(`lower(r.address) IN (${marks(q.to.length)})`);
    rcptParams.push(...q.to);
  }
  if (q.method !== undefined) {
    rcpt.push('r.method = ?');
    rcptParams.push(q.method);
  }
  if (q.state !== undefined) {
    rcpt.push('r.state = ?');
    rcptParams.push(q.state);
  }
  if (rcpt.length) add(`EXISTS (SELECT 1 FROM archive_recipients r WHERE r.archive_id = m.id AND ${rcpt.join(' AND ')})`, ...rcptParams);
  if (q.categoryTerm !== undefined) add('EXISTS (SELECT 1 FROM archive_terms tc WHERE tc.archive_id = m.id AND tc.term = ?)', q.categoryTerm);
  (q.subjectTerms ?? []).forEach((terms, i) => add(`EXISTS (SELECT 1 FROM archive_terms t${i} WHERE t${i}.archive_id = m.id AND t${i}.term IN (${marks(terms.length)}))`, ...terms));
  if (q.after) {
    // the first term bounds the index range; the second breaks ties on the time
    add('m.received_at <= ? AND (m.received_at < ? OR m.id < ?)', q.after.receivedAt, q.after.receivedAt, q.after.id);
  }
  return { sql: where.length ? where.join(' AND ') : '1 = 1', params };
}

export const RESULT_COLUMNS = ['id', 'origin', 'message_id', 'received_at', 'archived_at', 'sender', 'connector', 'size', 'verdict', 'hold', 'purged_at'] as const;

/** The page query for a plan: driven from one index (its matches sorted), or the entries walked newest first. */
export function buildSearchSql(q: ArchiveQuery, d: Driver): Sql {
  const cond = filterConditions(q);
  const cols = RESULT_COLUMNS.map((c) => `m.${c}`).join(', ');
  const source = driverSource(q, d);
  const page = `ORDER BY m.received_at DESC, m.id DESC LIMIT ? OFFSET ?`;
  const pageParams = [q.limit, q.offset ?? 0];
  if (!source) return { sql: `SELECT ${cols} FROM archive_messages m WHERE ${cond.sql} ${page}`, params: [...cond.params, ...pageParams] };
  // CROSS JOIN keeps the driver first (SQLite does not reorder it; elsewhere it is a plain join)
  return {
    sql: `SELECT ${cols} FROM (${source.sql}) d CROSS JOIN archive_messages m WHERE m.id = d.id AND ${cond.sql} ${page}`,
    params: [...source.params, ...cond.params, ...pageParams],
  };
}

/** Picks the plan from the counted sizes (pure): the smallest filter under `driveLimit`, else newest first. */
export function choosePlan(counts: readonly { driver: Driver; n: number }[], rangeCount: number | undefined, driveLimit: number): Driver {
  const exact = counts.find((c) => c.driver.kind === 'queue-id');
  if (exact) return exact.driver;
  let best: { driver: Driver; n: number } | undefined;
  for (const c of counts) if (!best || c.n < best.n) best = c;
  if (!best || best.n >= driveLimit) return { kind: 'newest' };
  // a short time range is walked as fast as a small filter is sorted
  if (rangeCount !== undefined && rangeCount <= best.n) return { kind: 'newest' };
  return best.driver;
}

export interface SearchRecipient {
  readonly address: string;
  readonly method: string | null;
  readonly state: string;
}

export interface SearchEntry {
  readonly id: string;
  readonly origin: string;
  readonly messageId: string | null;
  readonly receivedAt: string;
  readonly archivedAt: string;
  readonly sender: string;
  readonly connector: string;
  readonly size: number;
  readonly phi: boolean;
  readonly categories: readonly string[];
  readonly hold: boolean;
  readonly purged: boolean;
  readonly recipientCount: number;
  /** At most RESULT_RECIPIENTS, in envelope order. */
  readonly recipients: readonly SearchRecipient[];
}

export interface SearchResult {
  readonly entries: readonly SearchEntry[];
  /** Pass as `after` for the next page; null when this page was the last. */
  readonly next: string | null;
  /** How the query ran (for tests and `--explain`-style diagnostics): the driver's kind. */
  readonly plan: Driver['kind'];
}

interface EntryRow {
  id: string;
  origin: string;
  message_id: string | null;
  received_at: number;
  archived_at: number;
  sender: string;
  connector: string;
  size: number;
  verdict: string;
  hold: number;
  purged_at: number | null;
}

function verdictFacts(json: string): { phi: boolean; categories: string[] } {
  try {
    const v = JSON.parse(json) as { phi?: unknown; findings?: unknown };
    const findings = Array.isArray(v.findings) ? (v.findings as { category?: unknown }[]) : [];
    return { phi: v.phi === true, categories: [...new Set(findings.map((f) => f.category).filter((c): c is string => typeof c === 'string'))] };
  } catch {
    return { phi: false, categories: [] };
  }
}

/** Entries walked newest first before the rarest filter's index is used for the rest (see searchArchive). */
export const WALK_WINDOW = 10_000;

/** Counts each candidate driver's matches, each only up to the smallest so far (and `cap`). */
async function countDrivers(db: SqlQueryable, q: ArchiveQuery, cap: number): Promise<{ counts: { driver: Driver; n: number }[]; cap: number }> {
  const counts: { driver: Driver; n: number }[] = [];
  for (const driver of candidateDrivers(q)) {
    if (driver.kind === 'queue-id') return { counts: [{ driver, n: 1 }], cap: 1 };
    const est = estimateSql(q, driver, cap);
    if (!est) continue;
    const n = (await db.get<{ n: number }>(est.sql, est.params))?.n ?? 0;
    counts.push({ driver, n });
    // later filters need only be counted up to the smallest so far
    cap = Math.max(1, Math.min(cap, n));
  }
  return { counts, cap };
}

/** The time of the `window`-th newest entry in the query's range (undefined when the range is smaller). */
export function windowFloorSql(q: ArchiveQuery, window: number): Sql {
  const cond = filterConditions({ limit: q.limit, since: q.since, until: q.until, after: q.after });
  return { sql: `SELECT m.received_at AS t FROM archive_messages m WHERE ${cond.sql} ORDER BY m.received_at DESC LIMIT 1 OFFSET ?`, params: [...cond.params, window] };
}

async function windowFloor(db: SqlQueryable, q: ArchiveQuery, window: number): Promise<number | undefined> {
  const s = windowFloorSql(q, window);
  return (await db.get<{ t: number }>(s.sql, s.params))?.t;
}

/** Thrown when `after` names an entry that does not exist. */
export class UnknownCursorError extends SearchInputError {}

/** Runs a parsed search: resolves the cursor, counts the candidate drivers, runs the page query and lists each entry's recipients. */
export async function searchArchive(db: SqlQueryable, parsed: ReturnType<typeof parseSearch>, limitToDrive?: number): Promise<SearchResult> {
  const { afterId, ...rest } = parsed;
  let q: ArchiveQuery = rest;
  if (afterId !== undefined) {
    const row = await db.get<{ received_at: number; id: string }>('SELECT received_at, id FROM archive_messages WHERE id = ?', [afterId]);
    if (!row) throw new UnknownCursorError('--after names no archive entry (give the queue id of the last entry of the previous page)');
    q = { ...q, after: { receivedAt: row.received_at, id: row.id } };
  }
  const drive = limitToDrive ?? driveLimit(q.limit);
  const counted = await countDrivers(db, q, drive);
  const range = rangeEstimateSql(q, counted.cap + 1);
  const rangeCount = range ? ((await db.get<{ n: number }>(range.sql, range.params))?.n ?? 0) : undefined;
  let plan = choosePlan(counted.counts, rangeCount, drive);
  const want = { ...q, limit: q.limit + 1 };
  let rows: EntryRow[];
  const floor = plan.kind === 'newest' && counted.counts.length > 0 && !q.offset ? await windowFloor(db, q, WALK_WINDOW) : undefined;
  if (floor === undefined) {
    const page = buildSearchSql(want, plan);
    rows = await db.all<EntryRow>(page.sql, page.params);
  } else {
    // every filter is common, but together they may be rare: walk a window of the newest entries,
    // and when it does not fill the page, read the older rest from the rarest filter's index
    const newest = buildSearchSql({ ...want, since: Math.max(q.since ?? 0, floor) }, plan);
    rows = await db.all<EntryRow>(newest.sql, newest.params);
    if (rows.length < want.limit) {
      const older: ArchiveQuery = { ...want, until: floor, limit: want.limit - rows.length };
      const recounted = await countDrivers(db, older, Number.MAX_SAFE_INTEGER);
      const rarest = choosePlan(recounted.counts, undefined, Number.MAX_SAFE_INTEGER);
      // walking on costs about rows-still-wanted / density rows; reading the rarest filter, its count (some 3× dearer a row)
      const walk = rows.length > 0 ? (older.limit * WALK_WINDOW) / rows.length : Infinity;
      if (walk >= 3 * recounted.cap) plan = rarest;
      const rest = buildSearchSql(older, plan);
      rows = rows.concat(await db.all<EntryRow>(rest.sql, rest.params));
    }
  }
  const more = rows.length > q.limit;
  const shown = rows.slice(0, q.limit);
  const recipients = await recipientsOf(db, shown.map((r) => r.id));
  const entries = shown.map((r): SearchEntry => {
    const rcpts = recipients.get(r.id) ?? { count: 0, listed: [] };
    return {
      id: r.id,
      origin: r.origin,
      messageId: r.message_id,
      receivedAt: new Date(r.received_at).toISOString(),
      archivedAt: new Date(r.archived_at).toISOString(),
      sender: r.sender,
      connector: r.connector,
      size: r.size,
      ...verdictFacts(r.verdict),
      hold: r.hold === 1,
      purged: r.purged_at !== null,
      recipientCount: rcpts.count,
      recipients: rcpts.listed,
    };
  });
  return { entries, next: more ? (shown[shown.length - 1]?.id ?? null) : null, plan: plan.kind };
}

/** The recipients of a page's entries (address, method, state), in envelope order: at most RESULT_RECIPIENTS each, and how many there are. */
async function recipientsOf(db: SqlQueryable, ids: readonly string[]): Promise<Map<string, { count: number; listed: SearchRecipient[] }>> {
  const out = new Map<string, { count: number; listed: SearchRecipient[] }>();
  // a few hundred ids per statement keeps under every engine's parameter limit
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const counts = await db.all<{ archive_id: string; n: number }>(`SELECT archive_id, COUNT(*) AS n FROM archive_recipients WHERE archive_id IN (${marks(chunk.length)}) GROUP BY archive_id`, chunk);
    for (const c of counts) out.set(c.archive_id, { count: c.n, listed: [] });
    // seq numbers the envelope's recipients from 1: the first RESULT_RECIPIENTS without reading the rest
    const rows = await db.all<{ archive_id: string; address: string; method: string | null; state: string }>(
      `SELECT archive_id, address, method, state FROM archive_recipients WHERE archive_id IN (${marks(chunk.length)}) AND seq <= ? ORDER BY archive_id, seq`,
      [...chunk, RESULT_RECIPIENTS],
    );
    for (const r of rows) out.get(r.archive_id)?.listed.push({ address: r.address, method: r.method, state: r.state });
  }
  return out;
}
