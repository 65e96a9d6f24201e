/**
 * The delivery queue's claim, its leases and their takeover: the SQL written
 * once for SQLite and PostgreSQL (docs/scale-out.md "Delivery claims").
 *
 * - claim: due recipients (`queued` or `deferred`, next_attempt ≤ now, of
 *   inspected and archived messages) are selected and, in the same
 *   transaction, set `in-flight` with this node's lease (`lease_node`,
 *   `lease_until`). On PostgreSQL the select locks what it returns
 *   (`FOR UPDATE OF r SKIP LOCKED`): a second node claiming at the same time
 *   skips those rows instead of waiting for them or claiming them too. On
 *   SQLite `BEGIN IMMEDIATE` already makes the claim the only writer.
 * - renewal: one UPDATE (per CLAIM_ROWS_PER_STATEMENT rows) pushes
 *   `lease_until` forward for the rows of this node's attempts under way —
 *   only those: a row this node left in flight without a job (its outcome
 *   could not be recorded, the database away) lets its lease run out.
 * - record: an outcome is written only to a row this node still holds
 *   (`HELD_BY_NODE`), so a node whose lease was taken over never overwrites
 *   what the new owner found.
 * - takeover: in-flight rows whose lease ran out (their node died or stalled,
 *   or their job ended without its outcome recorded, on this node too)
 *   return to `deferred`, due now, without counting an attempt.
 *
 * Statements per claim as before the leases: one SELECT per state and one
 * UPDATE per CLAIM_ROWS_PER_STATEMENT rows (the performance issue's budget).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlQueryable } from '../db/sql-database.js';

/** Recipients marked in flight by one claim statement (two parameters each). */
export const CLAIM_ROWS_PER_STATEMENT = 100;

/** What the engine reads of a claimed recipient. */
export interface ClaimedRecipient {
  readonly message_id: string;
  readonly seq: number;
  readonly address: string;
  readonly domain: string;
  readonly attempts: number;
  readonly dsn_notify: string | null;
  readonly dsn_orcpt: string | null;
  readonly requirement: string;
  readonly delay_warned: number;
  readonly bcc: number;
  readonly method: string | null;
  /** pgp / smime: the recipient's own encrypted copy in the spool, or 'passthrough' (arrived encrypted). */
  readonly e2e_copy: string | null;
  readonly e2e_copy_size: number | null;
  readonly key_fingerprint: string | null;
  readonly key_source: string | null;
  /** What delivery reads of the recipient's message, read with the claim (selectDue); absent from other reads. */
  readonly message?: DueMessage | undefined;
}

/** The messages row's columns a delivery attempt reads (fixed once the message is inspected, which a claim requires). */
export interface DueMessage {
  readonly id: string;
  readonly created_at: number;
  readonly sender: string;
  readonly size: number;
  readonly body_type: string;
  readonly requiretls: number;
  readonly dsn_ret: string | null;
  readonly dsn_envid: string | null;
  /** JSON MessageRewrite from the policy, or null. */
  readonly rewrite: string | null;
  /** 'internal' for the gateway's own mail (notices, reports, portal notifications). */
  readonly connector: string;
  /** host:port next hop for this message alone (a portal reply to portal.replyRoute), or null. */
  readonly route: string | null;
}

/** DueMessage's columns, `m_`-prefixed beside the recipient's in selectDue's rows. */
const DUE_MESSAGE_FIELDS = ['created_at', 'sender', 'size', 'body_type', 'requiretls', 'dsn_ret', 'dsn_envid', 'rewrite', 'connector', 'route'] as const;
const DUE_MESSAGE_COLUMNS = DUE_MESSAGE_FIELDS.map((c) => `m.${c} AS m_${c}`).join(', ');

/** Message `id`'s DueMessage, read alone (outside a claim); undefined once it is gone. */
export function readDueMessage(q: SqlQueryable, id: string): Promise<DueMessage | undefined> {
  return q.get<DueMessage>(`SELECT id, ${DUE_MESSAGE_FIELDS.join(', ')} FROM messages WHERE id = ?`, [id]);
}

type DueRow = Omit<ClaimedRecipient, 'message'> & { due_at?: number; due_kind?: number } & { [K in (typeof DUE_MESSAGE_FIELDS)[number] as `m_${K}`]: DueMessage[K] };

/** Pure: a selectDue row as the recipient it claims, its message's columns gathered. */
function dueRecipient(row: DueRow): ClaimedRecipient {
  const { due_at: _at, due_kind: _kind, m_created_at, m_sender, m_size, m_body_type, m_requiretls, m_dsn_ret, m_dsn_envid, m_rewrite, m_connector, m_route, ...recipient } = row;
  const message: DueMessage = {
    id: row.message_id, created_at: Number(m_created_at), sender: m_sender, size: Number(m_size), body_type: m_body_type, requiretls: Number(m_requiretls),
    dsn_ret: m_dsn_ret, dsn_envid: m_dsn_envid, rewrite: m_rewrite, connector: m_connector, route: m_route,
  };
  return { ...recipient, message };
}

/** A node's lease on what it claims: its id and when the lease ends (ms since epoch). */
export interface Lease {
  readonly node: string;
  readonly until: number;
}

/**
 * A node id for this process: the machine's host name, the process id and
 * random bytes, e.g. `gw1.example.org/4711/9f3a2c1b`. Unique per process, so
 * two nodes (or a node and its restart) never share one; bounded in length.
 */
export function newNodeId(host: string = hostname(), pid: number = process.pid, random: Buffer = randomBytes(4)): string {
  const name = host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 100) || 'node';
  return `${name}/${pid}/${random.toString('hex')}`;
}

const DUE_COLUMNS =
  'r.message_id, r.seq, r.address, r.domain, r.attempts, r.dsn_notify, r.dsn_orcpt, r.requirement, r.delay_warned, r.bcc, r.method, r.e2e_copy, r.e2e_copy_size, r.key_fingerprint, r.key_source';

/**
 * Due recipients, fresh (`queued`) and retried (`deferred`) interleaved (see
 * `interleave`), each kind oldest next_attempt first and up to `limit`: one
 * statement for both. On PostgreSQL locked for this transaction, skipping
 * rows another node's claim holds. Without the portal (`portal` false) its
 * recipients are not selected: they wait, never sent weaker. `messageId`:
 * that message's recipients only.
 */
export async function selectDue(tx: SqlQueryable, now: number, limit: number, portal: boolean, messageId?: string): Promise<ClaimedRecipient[]> {
  const narrowed = (portal ? '' : ` AND (r.method IS NULL OR r.method <> 'portal')`) + (messageId === undefined ? '' : ' AND r.message_id = ?');
  const only = messageId === undefined ? [] : [messageId];
  const lock = tx.dialect === 'postgres' ? ' FOR UPDATE OF r SKIP LOCKED' : '';
  const kind = (state: 'queued' | 'deferred', n: number): string =>
    `SELECT ${DUE_COLUMNS}, ${DUE_MESSAGE_COLUMNS}, r.next_attempt AS due_at, ${n} AS due_kind
       FROM recipients r JOIN messages m ON m.id = r.message_id AND m.inspected = 1 AND m.archived = 1
      WHERE r.state = '${state}' AND r.next_attempt <= ?${narrowed}
      ORDER BY r.next_attempt, r.message_id, r.seq LIMIT ?${lock}`;
  const rows = await tx.all<DueRow>(
    `SELECT * FROM (${kind('queued', 0)}) fresh UNION ALL SELECT * FROM (${kind('deferred', 1)}) retried ORDER BY due_kind, due_at, message_id, seq`,
    [now, ...only, limit, now, ...only, limit],
  );
  const fresh: ClaimedRecipient[] = [];
  const retries: ClaimedRecipient[] = [];
  for (const row of rows) (Number(row.due_kind) === 0 ? fresh : retries).push(dueRecipient(row));
  return interleave(fresh, retries);
}

/** Pure: fresh and retried recipients interleaved, so a backlog of retries never starves new mail (nor the reverse). */
export function interleave<T>(fresh: readonly T[], retries: readonly T[]): T[] {
  const rows: T[] = [];
  for (let i = 0; i < Math.max(fresh.length, retries.length); i++) {
    const f = fresh[i];
    const r = retries[i];
    if (f !== undefined) rows.push(f);
    if (r !== undefined) rows.push(r);
  }
  return rows;
}

type RowKey = { readonly message_id: string; readonly seq: number };

/** The condition that a recipient is one of `n` rows, by key; its parameters: each row's message_id and seq (rowKeyParams). */
function rowKeysIn(n: number): string {
  // CAST: PostgreSQL types a VALUES list of bare parameters as text, which does not compare with BIGINT seq
  return `(message_id, seq) IN (VALUES ${Array.from({ length: n }, () => '(?, CAST(? AS BIGINT))').join(', ')})`;
}

const rowKeyParams = (rows: readonly RowKey[]): (string | number)[] => rows.flatMap((r) => [r.message_id, r.seq]);

/** Runs `update` on `rows` CLAIM_ROWS_PER_STATEMENT at a time; the rows it changed in all. */
async function inRowChunks(rows: readonly RowKey[], update: (part: readonly RowKey[]) => Promise<{ changes: number }>): Promise<number> {
  let changed = 0;
  for (let at = 0; at < rows.length; at += CLAIM_ROWS_PER_STATEMENT) changed += (await update(rows.slice(at, at + CLAIM_ROWS_PER_STATEMENT))).changes;
  return changed;
}

/** Sets the claimed rows in flight under `lease`: one UPDATE per CLAIM_ROWS_PER_STATEMENT rows. */
export async function markInFlight(tx: SqlQueryable, rows: readonly RowKey[], lease: Lease): Promise<void> {
  await inRowChunks(rows, (part) => tx.run(`UPDATE recipients SET state = 'in-flight', lease_node = ?, lease_until = ? WHERE ${rowKeysIn(part.length)}`, [lease.node, lease.until, ...rowKeyParams(part)]));
}

/**
 * The condition a record step adds to its `WHERE message_id = ? AND seq = ?`:
 * the row is still in flight under this node's lease (one parameter: the
 * node id). A row taken over meanwhile does not match: nothing is written.
 */
export const HELD_BY_NODE = `state = 'in-flight' AND lease_node = ?`;

/** The SET part that ends a lease, for a record step's UPDATE. */
export const END_LEASE = 'lease_node = NULL, lease_until = NULL';

/** A record step found recipients (`seqs`) this node no longer holds: another node took them over; the step is undone. */
export class LeaseLostError extends Error {
  constructor(readonly seqs: readonly number[]) {
    super(`delivery lease lost for ${seqs.length} recipient(s): another node took them over`);
  }
}

/** The seqs of message `messageId` still in flight under `node`'s lease (what a record step would still write). */
export async function heldSeqs(q: SqlQueryable, messageId: string, node: string): Promise<Set<number>> {
  const rows = await q.all<{ seq: number }>(`SELECT seq FROM recipients WHERE message_id = ? AND ${HELD_BY_NODE}`, [messageId, node]);
  return new Set(rows.map((r) => Number(r.seq)));
}

/** A recipient's outcome after an attempt, as the record step writes it. */
export interface RecordedOutcome {
  readonly state: string;
  readonly nextAttempt: number;
  readonly at: number;
  readonly code: number | null;
  readonly enhanced: string | null;
  readonly mx: string | null;
  readonly error: string;
  readonly finishedAt: number | null;
  readonly delayWarned: number;
  readonly dsnSent: number;
}

/**
 * The record step's write of one recipient: its new state, the attempt
 * counted, the last reply, its lease ended — only if this node still holds
 * it (`HELD_BY_NODE`). false: the row was taken over (or changed by someone
 * else) meanwhile, and nothing was written.
 */
export async function recordOutcome(tx: SqlQueryable, row: { readonly message_id: string; readonly seq: number }, node: string, o: RecordedOutcome): Promise<boolean> {
  const r = await tx.run(
    `UPDATE recipients SET state = ?, attempts = attempts + 1, next_attempt = ?, last_attempt_at = ?, last_code = ?, last_enhanced = ?,
            last_mx = ?, last_error = ?, finished_at = ?, delay_warned = ?, dsn_sent = ?, ${END_LEASE} WHERE message_id = ? AND seq = ? AND ${HELD_BY_NODE}`,
    [o.state, o.nextAttempt, o.at, o.code, o.enhanced, o.mx, o.error, o.finishedAt, o.delayWarned, o.dsnSent, row.message_id, row.seq, node],
  );
  return r.changes > 0;
}

/** Returns this node's rows to `deferred` at `next` without counting an attempt (a job whose recipients were partly taken over by another node). One UPDATE per row; rows it no longer holds are left alone. */
export async function releaseHeld(tx: SqlQueryable, rows: readonly RowKey[], node: string, next: number): Promise<void> {
  for (const r of rows) await tx.run(`UPDATE recipients SET state = 'deferred', next_attempt = ?, ${END_LEASE} WHERE message_id = ? AND seq = ? AND ${HELD_BY_NODE}`, [next, r.message_id, r.seq, node]);
}

/** The renewal of `n` rows by their keys; parameters: until, node, then message_id and seq of each. */
export function renewLeasesSql(n: number): string {
  return `UPDATE recipients SET lease_until = ? WHERE state = 'in-flight' AND lease_node = ? AND ${rowKeysIn(n)}`;
}

/**
 * Pushes the leases of `rows` (the recipients of this node's attempts under
 * way) to `until`, those it still holds (in a transaction's `tx`): one
 * UPDATE per CLAIM_ROWS_PER_STATEMENT rows. Returns the rows renewed.
 */
export async function renewLeases(tx: SqlQueryable, lease: Lease, rows: readonly RowKey[]): Promise<number> {
  return inRowChunks(rows, (part) => tx.run(renewLeasesSql(part.length), [lease.until, lease.node, ...rowKeyParams(part)]));
}

/** Which in-flight rows a takeover returns to the queue. */
export interface Takeover {
  /** Due again at (ms since epoch); also the moment leases are compared with. */
  readonly now: number;
  /** Leases that end before this have run out (`now` while other nodes may hold live ones; +∞ for a SQLite file at start, which no other node can hold). */
  readonly expiredBefore: number;
  /** This node's id. */
  readonly node: string;
  /** true (start-up): this node's own rows are taken back too, whatever their lease (an earlier engine of this process left them). false (the periodic sweep): rows whose lease ran out, this node's among them (a job of its own is renewed while it runs). */
  readonly own: boolean;
}

/**
 * Returns in-flight recipients whose lease ran out to `deferred`, due at
 * `now`, the attempt not counted, their lease cleared. A row without a lease
 * (left in flight by a sealgate older than leases) has run out. One UPDATE;
 * returns the rows taken over, with their message ids (for the audit event).
 * Run it in a transaction's `tx` (on SQLite, reads outside one go to a
 * read-only connection).
 */
export async function takeOverLeases(tx: SqlQueryable, t: Takeover): Promise<{ message_id: string; seq: number }[]> {
  const expiry = Number.isFinite(t.expiredBefore) ? t.expiredBefore : Number.MAX_SAFE_INTEGER;
  return tx.all<{ message_id: string; seq: number }>(takeOverSql(t.own), t.own ? [t.now, expiry, t.node] : [t.now, expiry]);
}

/**
 * The takeover's UPDATE (parameters: now, expiredBefore, and node at
 * start-up): it reads the in-flight rows through recipients_due. RETURNING:
 * SQLite has it since 3.35 (ours bundles 3.52); the rows say which messages
 * were recovered.
 */
export function takeOverSql(own: boolean): string {
  const mine = own ? ' OR lease_node = ?' : '';
  return `UPDATE recipients SET state = 'deferred', next_attempt = ?, ${END_LEASE}
      WHERE state = 'in-flight' AND ((lease_until IS NULL OR lease_until < ?)${mine})
      RETURNING message_id, seq`;
}
