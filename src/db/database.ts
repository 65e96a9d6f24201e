/**
 * A small promise layer over the sqlite3 package. One connection per process;
 * write transactions go through one queue (`transaction`), so a process has a
 * single writer path. Several processes (the daemon and CLI commands) may share
 * the file: WAL mode lets readers run beside the writer, `BEGIN IMMEDIATE`
 * takes the write lock up front and `busy_timeout` waits for it.
 *
 * `synchronous=FULL`: a commit is on disk when it returns, which is what lets
 * the SMTP ingress answer 250 right after it.
 */
import sqlite3 from 'sqlite3';
import type { SqlDatabase } from './sql-database.js';

export type SqlValue = string | number | bigint | Buffer | null;
export type SqlParams = readonly SqlValue[] | Record<string, SqlValue>;

export interface Queryable {
  readonly dialect: 'sqlite';
  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /**
   * Values a caller derived from this connection's own writes (the audit chain's head), kept so the next
   * transaction need not read them again. The connection empties it whenever a rollback may have undone them;
   * a caller must still cope with another process having written since (absent: nothing is kept).
   */
  readonly memo?: Map<string, unknown>;
}

export interface DatabaseOptions {
  /** How long to wait for another process's write lock (ms). */
  readonly busyTimeoutMs?: number;
  readonly readOnly?: boolean;
  /** One connection for reads and writes (e.g. to change the journal mode, which needs the only connection). */
  readonly singleConnection?: boolean;
}

/** Most transactions committed together. */
const MAX_GROUP = 64;

interface PendingTransaction {
  readonly work: (tx: Queryable) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Most prepared statements a connection keeps (texts with long IN (?, ?, …) lists vary, so the cache is bounded). */
const MAX_CACHED_STATEMENTS = 256;

/**
 * One sqlite3 connection as a Queryable. Each SQL text is prepared once and
 * its statement reused: a one-off statement costs a prepare, a step and a
 * finalize (three trips through libuv's thread pool and a new native object)
 * where a prepared one costs its step and a reset. Every use is followed by
 * that reset: SQLite ends a statement's implicit transaction only for certain
 * once it is reset or finalized, and a statement left as it was — even one
 * that ran to its end — would pin the reader to an old snapshot (it would not
 * see later commits) and keep WAL checkpoints from finishing.
 */
class Connection implements Queryable {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, sqlite3.Statement>();
  readonly memo = new Map<string, unknown>();
  /** Statements dropped from the cache whose finalize has not finished: the file cannot close before they have. */
  private readonly finalizing = new Set<Promise<void>>();
  private closed = false;

  /** Finalizes a statement no longer cached, tracked until done. */
  private release(stmt: sqlite3.Statement): void {
    const done = new Promise<void>((resolve) => stmt.finalize(() => resolve()));
    this.finalizing.add(done);
    void done.then(() => this.finalizing.delete(done));
  }

  constructor(readonly raw: sqlite3.Database) {}

  /** The prepared statement of `sql`: from the cache, or prepared now (a prepare error rejects and caches nothing). */
  private async statement(sql: string): Promise<sqlite3.Statement> {
    if (this.closed) throw new Error('the database connection is closed');
    const cached = this.statements.get(sql);
    if (cached) {
      // most recently used last: the first entry is the one to drop
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const stmt = await new Promise<sqlite3.Statement>((resolve, reject) => {
      const prepared: sqlite3.Statement = this.raw.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(prepared)));
    });
    // errors reach the callback of the operation that met them, never as an uncaught 'error' event
    stmt.on('error', () => undefined);
    const raced = this.statements.get(sql);
    if (raced || this.closed) {
      // another caller prepared the same text meanwhile: keep one (or the connection closed meanwhile)
      this.release(stmt);
      if (raced) return raced;
      throw new Error('the database connection is closed');
    }
    this.statements.set(sql, stmt);
    if (this.statements.size > MAX_CACHED_STATEMENTS) {
      const [oldest, old] = this.statements.entries().next().value as [string, sqlite3.Statement];
      this.statements.delete(oldest);
      this.release(old);
    }
    return stmt;
  }

  /** After an error the statement is dropped (a failed prepare cannot be reused; a failed step is reset by its next use anyway). */
  private drop(sql: string, stmt: sqlite3.Statement): void {
    if (this.statements.get(sql) === stmt) this.statements.delete(sql);
    this.release(stmt);
  }

  async run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    const stmt = await this.statement(sql);
    const drop = (): void => this.drop(sql, stmt);
    return new Promise((resolve, reject) => {
      stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) {
          drop();
          reject(err);
        } else resolve({ changes: this.changes, lastID: this.lastID });
      });
      stmt.reset();
    });
  }

  async get<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    const stmt = await this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.get(params, (err: Error | null, row?: T) => {
        if (err) {
          this.drop(sql, stmt);
          reject(err);
        } else resolve(row);
      });
      stmt.reset();
    });
  }

  async all<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T[]> {
    const stmt = await this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.all(params, (err: Error | null, rows: T[]) => {
        if (err) {
          this.drop(sql, stmt);
          reject(err);
        } else resolve(rows);
      });
      stmt.reset();
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stmt of this.statements.values()) this.release(stmt);
    this.statements.clear();
    // every statement's finalize runs after the operations queued on it; the file closes after all of them
    while (this.finalizing.size > 0) await Promise.all([...this.finalizing]);
    await new Promise<void>((resolve, reject) => {
      this.raw.close((err) => (err ? reject(err) : resolve()));
    });
  }
}

function openConnection(path: string, mode: number, busyTimeoutMs: number): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const d = new sqlite3.Database(path, mode, (err) => (err ? reject(err) : resolve(new Connection(d))));
  }).then((c) => {
    c.raw.configure('busyTimeout', busyTimeoutMs);
    return c;
  });
}

/**
 * Two connections to one file: the writer (every transaction, `run`, `exec`)
 * and a reader for `get` and `all` outside a transaction. One sqlite3
 * connection runs one statement at a time, so with a single connection every
 * read waited behind the commit in progress — its fsync included — and held
 * a thread of libuv's pool while it waited. In WAL mode the reader sees every
 * committed transaction (a read issued after `transaction()` resolved sees
 * its writes) and never one still open. Statements inside a transaction go
 * through its `tx`, on the writer, and see that transaction's own writes.
 * A read-only Database, an in-memory one and one opened with
 * `singleConnection` have one connection for both.
 */
export class Database implements Queryable, SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly writer: Connection,
    private readonly reader: Connection,
  ) {}

  static async open(path: string, options: DatabaseOptions = {}): Promise<Database> {
    const busy = options.busyTimeoutMs ?? 10_000;
    const mode = options.readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    const writer = await openConnection(path, mode, busy);
    if (!options.readOnly) await writer.exec('PRAGMA journal_mode=WAL');
    await writer.exec('PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;');
    const separate = !options.readOnly && !options.singleConnection && path !== ':memory:' && path !== '';
    const reader = separate ? await openConnection(path, sqlite3.OPEN_READWRITE, busy) : writer;
    // the reader never writes: a statement that tries fails instead of taking the write lock beside the writer
    if (separate) await reader.exec('PRAGMA query_only=1; PRAGMA foreign_keys=ON;');
    return new Database(writer, reader);
  }

  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    return this.writer.run(sql, params);
  }

  get<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.reader.get<T>(sql, params);
  }

  all<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.writer.exec(sql);
  }

  /**
   * Runs `work` inside a write transaction, after every earlier transaction
   * of this process has finished, and resolves once it is committed (on
   * disk: synchronous=FULL). On error its writes are rolled back and the
   * error rethrown. Statements issued by `work` must use the `tx` it is given.
   *
   * Group commit: transactions requested while another is being written are
   * collected and run one after another inside a single BEGIN IMMEDIATE …
   * COMMIT (up to MAX_GROUP), each in its own SAVEPOINT — a failing one is
   * rolled back to its savepoint alone. Under load many acknowledgements
   * then share one fsync; alone, a transaction commits by itself.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work: work as (tx: Queryable) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.writing) void this.writeGroups();
    });
  }

  private readonly pending: PendingTransaction[] = [];
  private writing = false;

  private async writeGroups(): Promise<void> {
    this.writing = true;
    const done = this.writeChain;
    let release: () => void = () => undefined;
    this.writeChain = new Promise<void>((r) => (release = r));
    await done;
    try {
      while (this.pending.length > 0) await this.writeGroup(this.pending.splice(0, MAX_GROUP));
    } finally {
      this.writing = false;
      release();
    }
  }

  private async writeGroup(group: PendingTransaction[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await this.writer.run('BEGIN IMMEDIATE');
    } catch (err) {
      for (const t of group) t.reject(err);
      return;
    }
    if (group.length === 1 && group[0]) {
      // alone: no savepoint needed
      try {
        outcomes.push({ ok: true, value: await group[0].work(this.writer) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    } else {
      for (const t of group) {
        await this.writer.run('SAVEPOINT sg');
        try {
          const value = await t.work(this.writer);
          await this.writer.run('RELEASE sg');
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.writer.memo.clear();
          await this.writer.run('ROLLBACK TO sg').then(() => this.writer.run('RELEASE sg')).catch(() => undefined);
          outcomes.push({ ok: false, error });
        }
      }
    }
    if (outcomes.every((o) => !o.ok)) {
      this.writer.memo.clear();
      await this.writer.run('ROLLBACK').catch(() => undefined);
    } else {
      try {
        await this.writer.run('COMMIT');
      } catch (err) {
        this.writer.memo.clear();
        await this.writer.run('ROLLBACK').catch(() => undefined);
        for (const t of group) t.reject(err);
        return;
      }
    }
    group.forEach((t, i) => {
      const o = outcomes[i];
      if (o?.ok) t.resolve(o.value);
      else t.reject(o?.error);
    });
  }

  close(): Promise<void> {
    return this.writeChain.then(async () => {
      if (this.reader !== this.writer) await this.reader.close();
      await this.writer.close();
    });
  }
}
