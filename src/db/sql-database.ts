/**
 * What the stores use of a database, whichever engine holds it: SQLite (the
 * embedded default, src/db/database.ts) or PostgreSQL (src/db/postgres.ts,
 * for several nodes sharing one database; docs/scale-out.md).
 *
 * SQL is written once with `?` placeholders; each engine's adapter maps it
 * (PostgreSQL's numbers them). Statements inside a transaction go through
 * the `tx` it is given. `run` reports the rows changed only: SQLite's lastID
 * has no PostgreSQL equivalent, so portable code uses `INSERT … RETURNING`
 * with `get` (SQLite has RETURNING since 3.35; our sqlite3 package bundles
 * 3.52). `dialect` (on the database and on a transaction's `tx`) is for the few
 * places where the SQL must differ.
 */
import type { SqlParams } from './database.js';

export type { SqlParams, SqlValue } from './database.js';

export type Dialect = 'sqlite' | 'postgres';

export interface SqlQueryable {
  /** Which engine runs the statements (a transaction's `tx` too), for the few places where the SQL must differ. */
  readonly dialect: Dialect;
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Statements without parameters, several separated by `;` (schema changes). */
  exec(sql: string): Promise<void>;
}

/**
 * Work a PostgreSQL transaction does in its COMMIT's round trip (a `tx`'s
 * `atCommit`, by name): SQL text sent with the COMMIT as one simple query, so
 * what it locks is held for the server's work and the WAL flush only, never
 * across a round trip to the node. Values go in through `escapeLiteral`
 * (the driver's); the statements' results are not read.
 */
export interface AtCommitSql {
  sql(escapeLiteral: (value: string) => string): string;
}

export interface TransactionOptions {
  /**
   * `work` may be run more than once: its writes are rolled back between
   * the runs, and it has no effect outside its `tx` (no log line, no change
   * to memory another run or the caller would see twice, no file) other
   * than its return value, which is the last run's. SQLite's group commit
   * then runs it without a savepoint of its own (one trip to the writer
   * fewer): when another re-runnable transaction in the same stretch of
   * the group fails, the stretch is rolled back and run again without it.
   * PostgreSQL runs every transaction once.
   */
  readonly rerunnable?: boolean;
  /**
   * With `rerunnable`: whose rows `work` reads and then writes (a message's
   * id). Another transaction with a different key touches them only through
   * statements that are whole by themselves (an upsert, a count + 1, a
   * compare-and-set), and `work` reads no row another key writes. SQLite's
   * group commit then runs re-runnable transactions of different keys side
   * by side, their statements interleaved on the writer: the group waits for
   * the main thread's turns once for the batch instead of once for each
   * statement of each. Two with the same key run one after the other; a
   * failure in a batch rolls the stretch back and runs the rest of the group
   * one at a time. PostgreSQL ignores it.
   */
  readonly key?: string;
}

export interface SqlDatabase extends SqlQueryable {
  /**
   * Runs `work` in one transaction and resolves once it is committed
   * durably; on error its writes are rolled back and the error rethrown. A
   * failing transaction never affects another one. One exception: when the
   * connection breaks after the COMMIT was sent (PostgreSQL), the writes may
   * be in; the error then says so (`maybeCommitted`), and work done outside
   * the database for them (a spooled file) must be left, not undone.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `work` on one consistent, read-only picture of the database: every
   * statement it issues through the `q` it is given sees what was committed
   * when the snapshot began (this call's start) and nothing committed after,
   * by this process or any other (a node, the daemon), however long it reads.
   * A write through `q` is refused. Nothing of the snapshot outlives `work`.
   *
   * - SQLite: a read transaction (BEGIN … COMMIT) on a connection of its own
   *   (WAL: it never blocks the writer, nor is blocked by it); an in-memory
   *   database, which has one connection, runs it after the transactions
   *   queued before it and before those queued after.
   * - PostgreSQL: one pooled connection in BEGIN ISOLATION LEVEL REPEATABLE
   *   READ READ ONLY … COMMIT.
   */
  readSnapshot<T>(work: (q: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Advisory lock spaces: each store that serialises read-decide-write work
 * about one key (an address, a user name, a key kind) across nodes has its
 * own, so two stores never wait for each other's keys. (The audit chain and
 * the migrations use one-number locks of their own, which never collide with
 * these two-number ones.)
 */
export const LOCK_SPACES = {
  recipientKeys: 0x5ea1,
  orgKeys: 0x5ea2,
  users: 0x5ea3,
  consoleUsers: 0x5ea4,
  portalPasskeys: 0x5ea5,
  /** Archive retention (holds, releases, purges: src/archive/retention.ts): one key, so they run one at a time across nodes. */
  archiveRetention: 0x5ea6,
  /** Console export admission (src/console/http/export-jobs.ts): one key, so the per-user and overall limits hold across nodes. */
  consoleExports: 0x5ea7,
} as const;

/**
 * Makes `tx` the only transaction, on any node, working on `key` within
 * `space` until it ends: on PostgreSQL a transaction-scoped advisory lock
 * (`pg_advisory_xact_lock(space, hashtext(key))`; two keys sharing a hash
 * only wait for each other, never mix), released at COMMIT or ROLLBACK. On
 * SQLite nothing: a write transaction holds the whole file already. Take it
 * before anything that appends an audit event (which takes the chain's lock),
 * so every transaction takes its locks in the same order.
 */
export async function lockKey(tx: SqlQueryable, space: number, key: string): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?, hashtext(?)) AS locked', [space, key]);
}

/**
 * The error a transaction rejects with when its COMMIT was sent and its
 * answer lost (the connection broke): the database may or may not have
 * applied it, and nothing on this side can tell which.
 */
export class CommitOutcomeUnknown extends Error {
  override readonly name = 'CommitOutcomeUnknown';
}

/**
 * True when `err` (or an error it was caused by) says the transaction may
 * have committed: what it wrote outside the database (a spooled file, an
 * object) must then stay, for the orphan sweep to remove if no row names it.
 */
export function maybeCommitted(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof CommitOutcomeUnknown) return true;
  }
  return false;
}
