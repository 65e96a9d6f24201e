/**
 * Operator view of the queue and the changes an operator may make, safe while
 * the daemon runs: every change is one write transaction that also appends
 * its audit event, and in-flight recipients are left to the attempt under
 * way. On SQLite the transaction (BEGIN IMMEDIATE) is the only writer; on
 * PostgreSQL, where nodes claim and record at the same time, each change
 * locks the rows it decides on before it reads them (src/db/locks.ts), and
 * takes those row locks before the audit chain's lock.
 */
import { maybeCommitted, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { appendAuditEvent } from '../audit/log.js';
import { SealgateError } from '../errors.js';
import { commitNotice, discardNotice, prepareNotice, type NoticeDeps } from '../delivery/notices.js';
import { ACTION_APPLIES_TO, isFinalState, stateAfterAction, type QueueAction, type RecipientState } from './states.js';
import { removeIfFinished } from './store.js';
import { forNoKeyUpdate, forUpdateNowait, isLockNotAvailable } from '../db/locks.js';
import { syncArchiveRecipients } from '../archive/entries.js';

export interface MessageSummary {
  readonly id: string;
  readonly createdAt: number;
  readonly sender: string;
  readonly size: number;
  readonly connector: string;
  readonly recipients: number;
  /** Recipient count per state. */
  readonly states: Readonly<Partial<Record<RecipientState, number>>>;
  /** The first LISTED_RECIPIENTS recipients (in RCPT order) with their state, as `postqueue -p` lists them. */
  readonly firstRecipients: readonly { readonly address: string; readonly state: RecipientState }[];
  /** Recipients not in firstRecipients ("+N more"). */
  readonly moreRecipients: number;
  /** The most recent temporary failure of a recipient still waiting (deferred, held, queued, in-flight), or null: why it is still here. */
  readonly lastDeferral: { readonly at: number; readonly code: number | null; readonly enhanced: string | null; readonly mx: string | null; readonly reason: string } | null;
}

/** How many recipients `queue list` names per message before "+N more". */
export const LISTED_RECIPIENTS = 3;
/** Longest deferral reason `queue list` carries (the remote reply's text; `queue show` has it whole). */
const REASON_MAX = 300;

export interface RecipientDetail {
  readonly seq: number;
  readonly address: string;
  readonly state: RecipientState;
  readonly attempts: number;
  readonly nextAttempt: number;
  readonly lastAttemptAt: number | null;
  readonly lastCode: number | null;
  readonly lastEnhanced: string | null;
  readonly lastMx: string | null;
  readonly lastError: string | null;
  readonly notify: string | null;
  readonly orcpt: string | null;
  /** The decided method (tls-verified, pgp, smime, portal …); null before inspection. */
  readonly method: string | null;
  /** Transport requirement: none | may | encrypt | verify | dane. */
  readonly requirement: string;
  /** pgp / smime: the recipient key its copy is encrypted to, and where that key came from (admin, wkd, keyserver, dns). */
  readonly keyFingerprint: string | null;
  readonly keySource: string | null;
  /** pgp / smime: true when the mail arrived encrypted and goes as it is (no copy of ours). */
  readonly passthrough: boolean;
}

export interface MessageDetail {
  readonly id: string;
  readonly createdAt: number;
  readonly sender: string;
  readonly size: number;
  readonly listener: string;
  readonly connector: string;
  readonly clientIp: string;
  readonly helo: string;
  readonly tlsVersion: string | null;
  readonly authUser: string | null;
  readonly bodyType: string;
  readonly smtputf8: boolean;
  readonly requireTls: boolean;
  readonly dsnRet: string | null;
  readonly dsnEnvid: string | null;
  readonly recipients: readonly RecipientDetail[];
}

export interface ListFilter {
  readonly state?: RecipientState | undefined;
  readonly domain?: string | undefined;
  readonly limit?: number | undefined;
}

const ID = /^[0-9A-Z]{20}$/;

export function assertQueueId(id: string): void {
  if (!ID.test(id)) throw new SealgateError('SG_USAGE', { message: `"${id.slice(0, 40)}" is not a queue id (20 characters, 0-9 and A-Z)` });
}

function notFound(id: string): SealgateError {
  return new SealgateError('SG_QUEUE_NOT_FOUND', { message: `no queued message ${id}` });
}

/**
 * Pure: the WHERE of `queue list`'s filters. Each filter is `m.id IN (one
 * subquery)`, which the database evaluates once (an index range: state or
 * domain), never an EXISTS per message: with 100 000 queued, SQLite ran such
 * an EXISTS as a search of every recipient in that state for each message
 * (`--state held`: minutes), whatever index the EXISTS could have used.
 */
export function messageFilter(filter: Omit<ListFilter, 'limit'>): { where: string; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.state) {
    where.push('m.id IN (SELECT f.message_id FROM recipients f WHERE f.state = ?)');
    params.push(filter.state);
  }
  if (filter.domain) {
    where.push('m.id IN (SELECT f.message_id FROM recipients f WHERE f.domain = ?)');
    params.push(filter.domain.toLowerCase());
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/**
 * Pure: `queue list`'s one read — every recipient row of the listed messages (bounded by the limit and
 * smtp.maxRecipients), in RCPT order; the messages oldest first from the messages_created index.
 */
export function listMessagesQuery(filter: ListFilter): { sql: string; params: (string | number)[] } {
  const { where, params } = messageFilter(filter);
  return {
    sql: `SELECT m.id, m.created_at, m.sender, m.size, m.connector, r.address, r.state, r.last_attempt_at, r.last_code, r.last_enhanced, r.last_mx, r.last_error
       FROM (SELECT * FROM messages m ${where} ORDER BY m.created_at, m.id LIMIT ?) m
       JOIN recipients r ON r.message_id = m.id
      ORDER BY m.created_at, m.id, r.seq`,
    params: [...params, filter.limit ?? DEFAULT_LIST_LIMIT],
  };
}

/** Messages matching `filter`, oldest first (the ones stuck longest), at most `limit` (default 100). */
export async function listMessages(db: SqlQueryable, filter: ListFilter = {}): Promise<MessageSummary[]> {
  const { sql, params } = listMessagesQuery(filter);
  const rows = await db.all<{ id: string; created_at: number; sender: string; size: number; connector: string; address: string; state: string; last_attempt_at: number | null; last_code: number | null; last_enhanced: string | null; last_mx: string | null; last_error: string | null }>(sql, params);
  type Entry = { -readonly [K in keyof MessageSummary]: MessageSummary[K] } & { states: Partial<Record<RecipientState, number>>; firstRecipients: { address: string; state: RecipientState }[] };
  const byId = new Map<string, Entry>();
  for (const row of rows) {
    let e = byId.get(row.id);
    if (!e) {
      e = { id: row.id, createdAt: row.created_at, sender: row.sender, size: row.size, connector: row.connector, recipients: 0, states: {}, firstRecipients: [], moreRecipients: 0, lastDeferral: null };
      byId.set(row.id, e);
    }
    const state = row.state as RecipientState;
    e.states[state] = (e.states[state] ?? 0) + 1;
    e.recipients++;
    if (e.firstRecipients.length < LISTED_RECIPIENTS) e.firstRecipients.push({ address: row.address, state });
    else e.moreRecipients++;
    // a final recipient's last reply is its outcome, not why the message waits
    const waiting = !isFinalState(state);
    if (waiting && row.last_attempt_at !== null && (row.last_error !== null || row.last_code !== null) && (e.lastDeferral === null || row.last_attempt_at > e.lastDeferral.at)) {
      e.lastDeferral = { at: row.last_attempt_at, code: row.last_code, enhanced: row.last_enhanced, mx: row.last_mx, reason: (row.last_error ?? '').slice(0, REASON_MAX) };
    }
  }
  return [...byId.values()];
}

/** `queue list` without --limit. */
export const DEFAULT_LIST_LIMIT = 100;

/** Pure: how many messages match `filter` (for "showing N of M"). */
export function countMessagesQuery(filter: Omit<ListFilter, 'limit'>): { sql: string; params: string[] } {
  const { where, params } = messageFilter(filter);
  return { sql: `SELECT count(*) AS n FROM messages m ${where}`, params };
}

/** How many messages match `filter` (for "showing N of M"). */
export async function countMessages(db: SqlQueryable, filter: Omit<ListFilter, 'limit'> = {}): Promise<number> {
  const { sql, params } = countMessagesQuery(filter);
  const row = await db.get<{ n: number }>(sql, params);
  return row?.n ?? 0;
}

export async function showMessage(db: SqlQueryable, id: string): Promise<MessageDetail> {
  assertQueueId(id);
  const m = await db.get<Record<string, string | number | null>>('SELECT * FROM messages WHERE id = ?', [id]);
  if (!m) throw notFound(id);
  const recipients = await db.all<Record<string, string | number | null>>('SELECT * FROM recipients WHERE message_id = ? ORDER BY seq', [id]);
  return {
    id,
    createdAt: Number(m.created_at),
    sender: String(m.sender),
    size: Number(m.size),
    listener: String(m.listener),
    connector: String(m.connector),
    clientIp: String(m.client_ip),
    helo: String(m.helo),
    tlsVersion: m.tls_version === null ? null : String(m.tls_version),
    authUser: m.auth_user === null ? null : String(m.auth_user),
    bodyType: String(m.body_type),
    smtputf8: m.smtputf8 === 1,
    requireTls: m.requiretls === 1,
    dsnRet: m.dsn_ret === null ? null : String(m.dsn_ret),
    dsnEnvid: m.dsn_envid === null ? null : String(m.dsn_envid),
    recipients: recipients.map((r) => ({
      seq: Number(r.seq),
      address: String(r.address),
      state: String(r.state) as RecipientState,
      attempts: Number(r.attempts),
      nextAttempt: Number(r.next_attempt),
      lastAttemptAt: r.last_attempt_at === null ? null : Number(r.last_attempt_at),
      lastCode: r.last_code === null ? null : Number(r.last_code),
      lastEnhanced: r.last_enhanced === null ? null : String(r.last_enhanced),
      lastMx: r.last_mx === null ? null : String(r.last_mx),
      lastError: r.last_error === null ? null : String(r.last_error),
      notify: r.dsn_notify === null ? null : String(r.dsn_notify),
      orcpt: r.dsn_orcpt === null ? null : String(r.dsn_orcpt),
      method: r.method === null || r.method === undefined ? null : String(r.method),
      requirement: String(r.requirement),
      keyFingerprint: r.key_fingerprint === null || r.key_fingerprint === undefined ? null : String(r.key_fingerprint),
      keySource: r.key_source === null || r.key_source === undefined ? null : String(r.key_source),
      passthrough: r.e2e_copy === 'passthrough',
    })),
  };
}

export interface QueueStats {
  readonly messages: number;
  readonly bytes: number;
  readonly oldestCreatedAt: number | null;
  readonly recipients: Readonly<Partial<Record<RecipientState, number>>>;
  /** Unfinished recipients per destination domain, largest first (top 20). */
  readonly topDomains: readonly { domain: string; recipients: number }[];
}

export async function queueStats(db: SqlQueryable): Promise<QueueStats> {
  const totals = await db.get<{ n: number; bytes: number | null; oldest: number | null }>('SELECT count(*) AS n, sum(size) AS bytes, min(created_at) AS oldest FROM messages');
  const states = await db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM recipients GROUP BY state ORDER BY state');
  // one walk of the (domain, state) index in domain order; a WHERE on state would take the state index, fetch each row and sort
  const waiting = `sum(CASE WHEN state IN ('queued', 'in-flight', 'deferred', 'held') THEN 1 ELSE 0 END)`;
  const domains = await db.all<{ domain: string; n: number }>(
    `SELECT domain, ${waiting} AS n FROM recipients GROUP BY domain HAVING ${waiting} > 0 ORDER BY n DESC, domain LIMIT 20`,
  );
  const recipients: Partial<Record<RecipientState, number>> = {};
  for (const s of states) recipients[s.state as RecipientState] = s.n;
  return {
    messages: totals?.n ?? 0,
    bytes: totals?.bytes ?? 0,
    oldestCreatedAt: totals?.oldest ?? null,
    recipients,
    topDomains: domains.map((d) => ({ domain: d.domain, recipients: d.n })),
  };
}

export interface ActionResult {
  readonly queueId: string;
  /** Recipients whose state or schedule changed. */
  readonly changed: number;
}

/** Operator actions available now; `bounce` needs DSN generation (delivery engine). */
export type OperatorAction = Exclude<QueueAction, 'bounce'>;

const ACTION_EVENT = {
  hold: 'queue:held',
  release: 'queue:released',
  retry: 'queue:retried',
} as const satisfies Record<OperatorAction, string>;

/**
 * Applies an operator action to one message, in one transaction with its
 * audit event. `operator` is who ran it (the OS user of the CLI process, or
 * the console user's name with `via` 'console').
 */
export async function applyQueueAction(db: SqlDatabase, action: OperatorAction, id: string, operator: string, now: number, via?: 'console'): Promise<ActionResult> {
  assertQueueId(id);
  const applies = ACTION_APPLIES_TO[action];
  return db.transaction(async (tx) => {
    // only the rows the action changes, locked on PostgreSQL: a node claiming them at this moment skips them, or its
    // claim commits first and the row, in flight now, no longer matches (never an in-flight row held by a delivery)
    const rows = await tx.all<{ seq: number; state: RecipientState; attempts: number }>(
      `SELECT seq, state, attempts FROM recipients WHERE message_id = ? AND state IN (${applies.map(() => '?').join(', ')}) ORDER BY seq${forNoKeyUpdate(tx)}`,
      [id, ...applies],
    );
    if (rows.length === 0 && !(await tx.get('SELECT 1 AS found FROM recipients WHERE message_id = ? LIMIT 1', [id]))) throw notFound(id);
    let changed = 0;
    for (const r of rows) {
      if (!ACTION_APPLIES_TO[action].includes(r.state)) continue;
      const next = stateAfterAction(action, r.state, r.attempts);
      const reschedule = action === 'release' || action === 'retry';
      await tx.run(`UPDATE recipients SET state = ?${reschedule ? ', next_attempt = ?' : ''} WHERE message_id = ? AND seq = ?`, reschedule ? [next, now, id, r.seq] : [next, id, r.seq]);
      changed++;
    }
    await appendAuditEvent(tx, { type: ACTION_EVENT[action], data: { queueId: id, operator, recipients: changed, ...(via ? { via } : {}) } }, now);
    return { queueId: id, changed };
  });
}

/** Every message with a recipient the action applies to. */
export async function messagesForAction(db: SqlQueryable, action: QueueAction): Promise<string[]> {
  const states = ACTION_APPLIES_TO[action];
  const rows = await db.all<{ id: string }>(
    `SELECT DISTINCT message_id AS id FROM recipients WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY message_id`,
    [...states],
  );
  return rows.map((r) => r.id);
}

/**
 * Removes a message from the queue: its rows and audit event in one
 * transaction, then its spool file (`removeSpoolFile`). A crash in between
 * leaves an orphan file that the daemon removes at its next start. Refused
 * while a recipient is in flight, and on PostgreSQL while a node holds one of
 * the message's rows (claiming, delivering or archiving it at this moment):
 * the delete does not wait for it.
 */
export async function deleteMessage(db: SqlDatabase, id: string, operator: string, now: number, removeSpoolFile: (id: string) => Promise<void>, via?: 'console'): Promise<ActionResult> {
  assertQueueId(id);
  const changed = await db.transaction(async (tx) => {
    let rows: { state: RecipientState }[];
    let message: { archived: number } | undefined;
    try {
      // locked on PostgreSQL, without waiting: the message row (deleted here) and its recipients
      message = await tx.get<{ archived: number }>(`SELECT archived FROM messages WHERE id = ?${forUpdateNowait(tx)}`, [id]);
      rows = await tx.all<{ state: RecipientState }>(`SELECT state FROM recipients WHERE message_id = ? ORDER BY seq${forUpdateNowait(tx)}`, [id]);
    } catch (err) {
      if (isLockNotAvailable(err)) throw new SealgateError('SG_QUEUE_BUSY', { message: `message ${id} is being worked on by a node right now (claimed, delivered or archived); try again in a moment` });
      throw err;
    }
    if (rows.length === 0) throw notFound(id);
    if (rows.some((r) => r.state === 'in-flight')) {
      throw new SealgateError('SG_QUEUE_BUSY', { message: `message ${id} is being delivered right now; hold it or try again in a moment` });
    }
    if (message?.archived === 0) {
      // no accepted message may be missing from the archive: it is copied there first (right after inspection)
      throw new SealgateError('SG_QUEUE_BUSY', { message: `message ${id} is not archived yet; hold it, or try again once inspection and the archive have seen it` });
    }
    // its archive entry records the recipients as deleted by an operator
    await syncArchiveRecipients(tx, id, now, 'deleted');
    await tx.run('DELETE FROM recipients WHERE message_id = ?', [id]);
    await tx.run('DELETE FROM messages WHERE id = ?', [id]);
    await appendAuditEvent(tx, { type: 'queue:deleted', data: { queueId: id, operator, recipients: rows.length, ...(via ? { via } : {}) } }, now);
    return rows.length;
  });
  await removeSpoolFile(id);
  return { queueId: id, changed };
}

/**
 * `queue bounce`: gives up on every queued, deferred or held recipient of a
 * message (in-flight ones are left to their attempt), sends the sender a
 * DSN (as NOTIFY allows) in the same transaction, and removes the message
 * when nothing is left to deliver.
 */
export async function bounceMessage(db: SqlDatabase, notice: NoticeDeps, id: string, operator: string): Promise<ActionResult> {
  assertQueueId(id);
  const message = await db.get<{ id: string; created_at: number; sender: string; dsn_envid: string | null }>('SELECT id, created_at, sender, dsn_envid FROM messages WHERE id = ?', [id]);
  if (!message) throw notFound(id);
  const states = ACTION_APPLIES_TO.bounce;
  const rows = await db.all<{ seq: number; address: string; dsn_notify: string | null; dsn_orcpt: string | null; last_mx: string | null }>(
    `SELECT seq, address, dsn_notify, dsn_orcpt, last_mx FROM recipients WHERE message_id = ? AND state IN (${states.map(() => '?').join(', ')})`,
    [id, ...states],
  );
  const now = notice.now();
  const noticeMessage = { id, createdAt: message.created_at, sender: message.sender, dsnEnvid: message.dsn_envid };
  const prepared = rows.length
    ? await prepareNotice(notice, noticeMessage, 'failed', rows.map((r) => ({ address: r.address, orcpt: r.dsn_orcpt ?? undefined, notify: r.dsn_notify, action: 'failed' as const, status: '5.0.0', remoteMta: r.last_mx ?? undefined, diagnosticCode: 'delivery cancelled by the mail administrator', lastAttemptAt: now })))
    : undefined;
  let finished = false;
  try {
    const changed = await db.transaction(async (tx) => {
      let n = 0;
      for (const r of rows) {
        const res = await tx.run(
          `UPDATE recipients SET state = 'bounced', finished_at = ?, last_error = 'bounced by operator', last_enhanced = '5.0.0', dsn_sent = ?
            WHERE message_id = ? AND seq = ? AND state IN (${states.map(() => '?').join(', ')})`,
          [now, prepared ? 1 : 0, id, r.seq, ...states],
        );
        n += res.changes;
      }
      if (prepared) await commitNotice(tx, notice, noticeMessage, prepared);
      await appendAuditEvent(tx, { type: 'queue:bounced', data: { queueId: id, operator, recipients: n } }, now);
      finished = await removeIfFinished(tx, id);
      return n;
    });
    if (finished) await notice.spool.remove(id);
    return { queueId: id, changed };
  } catch (err) {
    if (!maybeCommitted(err)) await discardNotice(prepared);
    throw err;
  }
}

export interface QuarantinedMessage {
  readonly id: string;
  readonly createdAt: number;
  readonly sender: string;
  readonly size: number;
  /** Recipients held by the decision (method quarantine or a method not available yet). */
  readonly held: readonly { address: string; method: string | null; reasons: readonly string[] }[];
  /** The stored verdict summary (categories, counts, confidences; never values). */
  readonly verdict: unknown;
}

/** Messages with recipients held by the inspection decision, oldest first. */
export async function listQuarantined(db: SqlQueryable, limit = 1000, onlyId?: string): Promise<QuarantinedMessage[]> {
  // one message (quarantine show / release / bounce / delete): its own rows by primary key, not a walk of every held one
  const one = onlyId === undefined ? '' : ' AND m.id = ?';
  const rows = await db.all<{ id: string; created_at: number; sender: string; size: number; verdict: string | null; address: string; method: string | null; decision: string | null }>(
    `SELECT m.id, m.created_at, m.sender, m.size, m.verdict, r.address, r.method, r.decision
       FROM messages m JOIN recipients r ON r.message_id = m.id
      WHERE r.state = 'held' AND r.method IS NOT NULL AND r.method NOT IN ('tls-verified', 'tls-opportunistic')${one}
      ORDER BY m.created_at, m.id, r.seq LIMIT ?`,
    onlyId === undefined ? [limit * 50] : [onlyId, limit * 50],
  );
  const out = new Map<string, QuarantinedMessage & { held: { address: string; method: string | null; reasons: readonly string[] }[] }>();
  for (const r of rows) {
    let m = out.get(r.id);
    if (!m) {
      m = { id: r.id, createdAt: r.created_at, sender: r.sender, size: r.size, held: [], verdict: r.verdict ? (JSON.parse(r.verdict) as unknown) : null };
      out.set(r.id, m);
    }
    m.held.push({ address: r.address, method: r.method, reasons: r.decision ? (JSON.parse(r.decision) as string[]) : [] });
  }
  return [...out.values()].slice(0, limit);
}
