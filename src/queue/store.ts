/**
 * Queue rows: one message row and one row per recipient, written in the same
 * transaction (the caller's), so a message is never half-queued.
 */
import type { SqlQueryable } from '../db/sql-database.js';
import { DeferredRows, deferredWriter, type Queryable, type SqlValue } from '../db/database.js';
import { insertRowsChunked, type RowsTable } from '../db/rows-at-commit.js';
import type { InlineContent } from '../spool/spool.js';
import { addressDomain } from '../smtp/connector-policy.js';
import { readQueuedWithArchive, syncArchiveFrom, type QueuedWithArchive } from '../archive/entries.js';
import { finishMessage } from './finished.js';

export interface QueuedRecipient {
  readonly address: string;
  readonly notify?: readonly string[] | undefined;
  readonly orcpt?: string | undefined;
}

export interface QueuedMessage {
  readonly id: string;
  readonly createdAt: number;
  readonly sender: string;
  readonly size: number;
  readonly spoolKeyId: string;
  readonly listener: string;
  readonly connector: string;
  readonly clientIp: string;
  readonly helo: string;
  readonly tlsVersion: string | undefined;
  readonly authUser: string | undefined;
  readonly bodyType: string;
  readonly smtputf8: boolean;
  readonly requireTls: boolean;
  readonly dsnRet: string | undefined;
  readonly dsnEnvid: string | undefined;
  readonly bareLineEndings: number;
  readonly recipients: readonly QueuedRecipient[];
  /** Transport requirement every recipient starts with (the decision step may raise it). */
  readonly requirement: string;
  /** false: inspection and the decision must run before delivery (mail from clients); internal notices skip it. */
  readonly inspected?: boolean | undefined;
  /** host:port next hop for this message alone (verified TLS), instead of MX routing. */
  readonly route?: string | undefined;
  /** Delivery method every recipient starts with (set when no inspection will decide it). */
  readonly method?: string | undefined;
  /** false: the archive stage must copy it before delivery (accepted mail, portal replies); internal notices are not archived. */
  readonly archived?: boolean | undefined;
  /** true: every recipient starts held for review (a rate-limit or burst hold); released with queue release. */
  readonly held?: boolean | undefined;
  /** The node that accepted it (nodes.id): it inspects and archives it unless it stops or goes stale (src/cluster/ownership.ts). */
  readonly acceptedBy?: string | undefined;
}

/**
 * Writes a queued message's rows (and, with `inline`, its content kept in
 * the database). On SQLite one row of the view queue_message_insert
 * (migration 35) writes them all. With `atCommit`, inside a group commit,
 * that row is handed to the group instead, and one INSERT writes the rows
 * of every message the group queued so just before its COMMIT (DeferredRows):
 * each statement costs the single writer a trip through the thread pool and
 * a turn of the event loop, and the accepting transaction then needs none.
 * The rows are then not there for the rest of the transaction, nor for the
 * group's later ones: only for a caller that never reads them before they
 * are committed (accepting a message). On PostgreSQL one statement per
 * table, at once, either way.
 */
export async function insertQueuedMessage(tx: SqlQueryable, m: QueuedMessage, inline?: InlineContent, options: { readonly atCommit?: boolean } = {}): Promise<void> {
  if (tx.dialect === 'sqlite') {
    const row = [...messageValues(m), JSON.stringify(m.recipients.map((r) => recipientValues(m, r))), inline?.content ?? null];
    const deferred = options.atCommit ? (tx as Queryable).deferred : undefined;
    if (deferred) deferredWriter(deferred, QUEUED_ROWS, () => new DeferredRows(insertViewRows)).add([row]);
    else await insertViewRows(tx, [row]);
    inline?.written();
    return;
  }
  await inline?.store(tx);
  await tx.run(`INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ${MESSAGE_ROW}`, messageValues(m));
  let seq = 0;
  for (const r of m.recipients) {
    seq++;
    await tx.run(
      `INSERT INTO recipients (message_id, seq, address, domain, state, next_attempt, dsn_notify, dsn_orcpt, requirement, method)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [m.id, seq, ...recipientValues(m, r)],
    );
  }
}

/** The messages row's columns, in messageValues' order. */
const MESSAGE_COLUMNS = `id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo,
  tls_version, auth_user, body_type, smtputf8, requiretls, dsn_ret, dsn_envid, bare_line_endings, inspected, route, archived, accepted_by`;
/** The columns of a queue_message_insert row: the messages row's, the recipients as a JSON array, the inline content. */
const VIEW_COLUMNS = `${MESSAGE_COLUMNS}, recipients, inline_data`;
/** `(?, ?, …)`: one parameter a column of `columns`. */
const placeholders = (columns: string): string => `(${columns.split(',').map(() => '?').join(', ')})`;
const MESSAGE_ROW = placeholders(MESSAGE_COLUMNS);
/** The view's rows, 100 messages an INSERT at most (23 parameters each: far below SQLite's 32 766). */
const VIEW_TABLE: RowsTable = { name: 'queue_message_insert', columns: VIEW_COLUMNS.split(',').map((c) => c.trim()), perStatement: 100 };

function insertViewRows(tx: SqlQueryable, rows: readonly SqlValue[][]): Promise<void> {
  return insertRowsChunked(tx, VIEW_TABLE, rows);
}

/** The name of the queued messages' rows among a group commit's deferred writes (inserted just before its COMMIT). */
const QUEUED_ROWS = 'queue-message-rows';

/** The messages row's values, in its INSERT's column order. */
function messageValues(m: QueuedMessage): SqlValue[] {
  return [
    m.id, m.createdAt, m.sender, m.size, m.spoolKeyId, m.listener, m.connector, m.clientIp, m.helo,
    m.tlsVersion ?? null, m.authUser ?? null, m.bodyType, m.smtputf8 ? 1 : 0, m.requireTls ? 1 : 0,
    m.dsnRet ?? null, m.dsnEnvid ?? null, m.bareLineEndings, m.inspected === false ? 0 : 1, m.route ?? null, m.archived === false ? 0 : 1, m.acceptedBy ?? null,
  ];
}

/**
 * The messages row's columns that inspection and the archive read of a
 * queued message (all fixed when it is queued), as SQL and as the row holds
 * them.
 */
export const MESSAGE_FACTS_COLUMNS = 'id, created_at, size, body_type, smtputf8, sender, connector, client_ip, tls_version, auth_user';

export interface MessageFactsRow {
  readonly id: string;
  readonly created_at: number;
  readonly size: number;
  readonly body_type: string;
  readonly smtputf8: number;
  readonly sender: string;
  readonly connector: string;
  readonly client_ip: string;
  readonly tls_version: string | null;
  readonly auth_user: string | null;
}

/** Pure: MESSAGE_FACTS_COLUMNS of `m` as insertQueuedMessage writes them (what the ingress hands on without reading them back). */
export function messageFactsRow(m: QueuedMessage): MessageFactsRow {
  return {
    id: m.id, created_at: m.createdAt, size: m.size, body_type: m.bodyType, smtputf8: m.smtputf8 ? 1 : 0, sender: m.sender, connector: m.connector,
    client_ip: m.clientIp, tls_version: m.tlsVersion ?? null, auth_user: m.authUser ?? null,
  };
}

/** A recipients row's values after message_id and seq: address, domain, state, next_attempt, dsn_notify, dsn_orcpt, requirement, method. */
function recipientValues(m: QueuedMessage, r: QueuedMessage['recipients'][number]): (string | number | null)[] {
  return [r.address, addressDomain(r.address), m.held === true ? 'held' : 'queued', m.createdAt, r.notify?.join(',') ?? null, r.orcpt ?? null, m.requirement, m.method ?? null];
}

export async function queuedMessageIds(db: SqlQueryable): Promise<Set<string>> {
  const rows = await db.all<{ id: string }>('SELECT id FROM messages');
  return new Set(rows.map((r) => r.id));
}

/** A message the gateway itself sends (notices, reports): null sender, already inspected. */
export function internalMessage(m: {
  id: string;
  createdAt: number;
  size: number;
  spoolKeyId: string;
  helo: string;
  requirement: string;
  recipients: readonly string[];
  bodyType?: string;
  smtputf8?: boolean;
}): QueuedMessage {
  return {
    id: m.id,
    createdAt: m.createdAt,
    sender: '',
    size: m.size,
    spoolKeyId: m.spoolKeyId,
    listener: 'internal',
    connector: 'internal',
    clientIp: '127.0.0.1',
    helo: m.helo,
    tlsVersion: undefined,
    authUser: undefined,
    bodyType: m.bodyType ?? '8BITMIME',
    smtputf8: m.smtputf8 ?? m.recipients.some((a) => /[^\x20-\x7e]/.test(a)),
    requireTls: false,
    dsnRet: undefined,
    dsnEnvid: undefined,
    bareLineEndings: 0,
    requirement: m.requirement,
    recipients: m.recipients.map((address) => ({ address, notify: ['NEVER'] })),
  };
}

/**
 * In the caller's transaction: when every recipient of message `id` is
 * final and the message is archived (or not to be archived), copies the
 * recipients' final states into its archive entry, runs `beforeRemove` and
 * deletes the message's queue rows and, for a small message, its spooled
 * content kept in the database. Returns whether it did; a spool file is then
 * the caller's to remove after the commit (never before: a rolled-back
 * transaction must find it). A message still waiting for the
 * archive stage stays; that stage removes it once archived.
 */
export async function removeIfFinished(tx: SqlQueryable, id: string, beforeRemove?: (tx: SqlQueryable, id: string) => Promise<void>, madeRead?: QueuedWithArchive): Promise<boolean> {
  // one read on this hot path: whether the message is archived, its recipients (how many are not final, when the last one
  // finished: the audit time of the final records, no clock needed here) and their archive rows; none when it is gone.
  // `madeRead`: the caller's, made in this transaction after its last change to the queue rows (the delivery record)
  const read = madeRead ?? (await readQueuedWithArchive(tx, id));
  if (read.open !== 0 || read.archived === 0) return false;
  await syncArchiveFrom(tx, id, read, read.lastFinished ?? 0);
  await beforeRemove?.(tx, id);
  // what happened stays for `queue show` (queue.keepFinished), no extra read here; its recipients' rows go with it
  // (recipients.message_id … ON DELETE CASCADE, both schemas), and a small message's spooled content
  // (src/spool/inline-store.ts) too, in this commit (trigger messages_inline_gone, migration 36)
  await finishMessage(tx, id, read.lastFinished);
  return true;
}
