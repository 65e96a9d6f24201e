/**
 * `sealgate queue summary`: the one-screen shape of a big queue, like
 * Postfix's qshape — recipients per state, messages per age, the busiest
 * recipient domains and the commonest deferral replies. Four grouped,
 * index-backed queries in portable SQL (SQLite and PostgreSQL), so the cost
 * is a few index scans however many messages wait: no row is read into
 * JavaScript one by one. Names domains only, never a local part, a subject
 * or content.
 */
import type { SqlQueryable } from '../db/sql-database.js';
import { FINAL_STATES, RECIPIENT_STATES, type RecipientState } from './states.js';

/** Age buckets by when a message was accepted: each holds messages younger than `below` ms (and not in an earlier bucket); the last, `older`, the rest. */
export const AGE_BUCKETS: readonly { readonly label: string; readonly below: number }[] = [
  { label: '<5m', below: 5 * 60_000 },
  { label: '<1h', below: 3_600_000 },
  { label: '<4h', below: 4 * 3_600_000 },
  { label: '<1d', below: 86_400_000 },
];
export const OLDER_LABEL = 'older';

/** `--top` without a value, and its bounds. */
export const DEFAULT_TOP = 20;
export const MAX_TOP = 1000;

/** Recipients still to be dealt with (not delivered, bounced or expired). */
export const WAITING_STATES: readonly RecipientState[] = RECIPIENT_STATES.filter((s) => !FINAL_STATES.includes(s));

/** Longest example reply text shown per deferral reason. */
export const REASON_TEXT_MAX = 120;

export interface DomainLine {
  readonly domain: string;
  /** Recipients at this domain still waiting, and those per waiting state. */
  readonly recipients: number;
  readonly states: Readonly<Record<string, number>>;
}

export interface ReasonLine {
  /** The remote reply code, null for a failure without a reply (connection refused, timeout, TLS …). */
  readonly code: number | null;
  readonly enhanced: string | null;
  readonly recipients: number;
  /** One reply text of this group, on one line, addresses reduced to their domain, at most REASON_TEXT_MAX characters. */
  readonly example: string;
}

export interface QueueSummary {
  readonly at: number;
  readonly messages: number;
  readonly bytes: number;
  readonly oldestCreatedAt: number | null;
  /** Recipients per state, every state named (0 when none). */
  readonly recipients: Readonly<Record<RecipientState, number>>;
  /** Messages per age bucket, in AGE_BUCKETS order then `older`. */
  readonly ages: readonly { readonly bucket: string; readonly messages: number }[];
  readonly domains: {
    readonly top: number;
    /** Distinct domains with a waiting recipient. */
    readonly total: number;
    /** The `top` domains with the most waiting recipients (ties by name). */
    readonly lines: readonly DomainLine[];
    /** Waiting recipients at the domains not listed. */
    readonly otherRecipients: number;
  };
  readonly deferrals: {
    /** Deferred recipients. */
    readonly recipients: number;
    /** Deferred recipients per reply code and enhanced code, most first, at most `top`. */
    readonly reasons: readonly ReasonLine[];
    /** Deferred recipients in the groups not listed. */
    readonly otherRecipients: number;
  };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Pure: messages per bucket from the cumulative counts "younger than AGE_BUCKETS[i].below" and the total. */
export function ageBuckets(younger: readonly number[], total: number): { bucket: string; messages: number }[] {
  const out: { bucket: string; messages: number }[] = [];
  let prev = 0;
  AGE_BUCKETS.forEach((b, i) => {
    const upTo = Math.max(prev, younger[i] ?? prev);
    out.push({ bucket: b.label, messages: upTo - prev });
    prev = upTo;
  });
  out.push({ bucket: OLDER_LABEL, messages: Math.max(0, total - prev) });
  return out;
}

/**
 * Pure: a remote reply's text as the summary may show it — one line, control
 * characters as ?, every address reduced to its domain (`<…@example.net>`: a
 * reply often quotes the recipient), at most REASON_TEXT_MAX characters.
 */
export function reasonExample(text: string | null): string {
  if (!text) return '';
  const line = text
    .replace(/[\r\n\t]+/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, '?')
    // a local part: a quoted string, or anything up to the @ that is not a space, bracket, quote or separator
    .replace(/(?:"[^"]*"|[^\s<>()[\]"',;:]+)@(?=[A-Za-z0-9[]|$)/g, '…@')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > REASON_TEXT_MAX ? `${line.slice(0, REASON_TEXT_MAX - 1)}…` : line;
}

export async function queueSummary(db: SqlQueryable, now: number, top = DEFAULT_TOP): Promise<QueueSummary> {
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) throw new RangeError(`top must be a whole number from 1 to ${MAX_TOP}`);
  const waiting = WAITING_STATES.map((s) => `'${s}'`).join(', ');

  // messages: one scan of the table (its rows, not its recipients), counting the age buckets as it goes
  const ageSums = AGE_BUCKETS.map((_, i) => `sum(CASE WHEN created_at > ? THEN 1 ELSE 0 END) AS a${i}`).join(', ');
  const totals = await db.get<Record<string, number | null>>(
    `SELECT count(*) AS n, sum(size) AS bytes, min(created_at) AS oldest, ${ageSums} FROM messages`,
    AGE_BUCKETS.map((b) => now - b.below),
  );
  const messages = num(totals?.n);

  // recipients per state: the (state, next_attempt) index alone
  const states = await db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM recipients GROUP BY state');
  const recipients = Object.fromEntries(RECIPIENT_STATES.map((s) => [s, 0])) as Record<RecipientState, number>;
  for (const s of states) if ((RECIPIENT_STATES as readonly string[]).includes(s.state)) recipients[s.state as RecipientState] = num(s.n);

  // domains: the (domain, state) index alone, walked in domain order (no WHERE on state, which would take the state index
  // and sort); count(*) OVER () is the number of domains before the LIMIT
  const stateSums = WAITING_STATES.map((s, i) => `sum(CASE WHEN state = '${s}' THEN 1 ELSE 0 END) AS s${i}`).join(', ');
  const waitingSum = `sum(CASE WHEN state IN (${waiting}) THEN 1 ELSE 0 END)`;
  const domainRows = await db.all<Record<string, string | number | null>>(
    `SELECT domain, ${waitingSum} AS n, ${stateSums}, count(*) OVER () AS domains
       FROM recipients GROUP BY domain HAVING ${waitingSum} > 0
      ORDER BY n DESC, domain LIMIT ?`,
    [top],
  );
  const lines: DomainLine[] = domainRows.map((r) => ({
    domain: String(r.domain),
    recipients: num(r.n),
    states: Object.fromEntries(WAITING_STATES.map((s, i) => [s, num(r[`s${i}`])])),
  }));
  const waitingTotal = WAITING_STATES.reduce((n, s) => n + recipients[s], 0);

  // deferral reasons: deferred recipients grouped by reply code (few groups; the texts vary per host and quote
  // addresses, so one example text per group rather than a group per text)
  // (the whole text: cut in SQL, a local part could lose its @ and no longer be recognised); ties in the same order on
  // both engines (NULL sorts first in SQLite, last in PostgreSQL: coalesce)
  const reasonRows = await db.all<{ code: number | null; enhanced: string | null; n: number; example: string | null }>(
    `SELECT last_code AS code, last_enhanced AS enhanced, count(*) AS n, min(last_error) AS example
       FROM recipients WHERE state = 'deferred'
      GROUP BY last_code, last_enhanced
      ORDER BY n DESC, coalesce(last_code, 0), coalesce(last_enhanced, '') LIMIT ?`,
    [top],
  );
  const reasons = reasonRows.map((r) => ({ code: r.code === null ? null : num(r.code), enhanced: r.enhanced, recipients: num(r.n), example: reasonExample(r.example) }));

  return {
    at: now,
    messages,
    bytes: num(totals?.bytes),
    oldestCreatedAt: totals?.oldest === null || totals?.oldest === undefined ? null : num(totals.oldest),
    recipients,
    ages: ageBuckets(AGE_BUCKETS.map((_, i) => num(totals?.[`a${i}`])), messages),
    domains: {
      top,
      total: num(domainRows[0]?.domains),
      lines,
      otherRecipients: Math.max(0, waitingTotal - lines.reduce((n, l) => n + l.recipients, 0)),
    },
    deferrals: {
      recipients: recipients.deferred,
      reasons,
      otherRecipients: Math.max(0, recipients.deferred - reasons.reduce((n, r) => n + r.recipients, 0)),
    },
  };
}
