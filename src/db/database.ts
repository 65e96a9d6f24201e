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
  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

export interface DatabaseOptions {
  /** How long to wait for another process's write lock (ms). */
  readonly busyTimeoutMs?: number;
  readonly readOnly?: boolean;
}

/** Most transactions committed together. */
const MAX_GROUP = 64;

interface PendingTransaction {
  readonly work: (tx: Queryable) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class Database implements Queryable, SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: sqlite3.Database) {}

  static async open(path: string, options: DatabaseOptions = {}): Promise<Database> {
    const mode = options.readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    const raw = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(path, mode, (err) => (err ? reject(err) : resolve(d)));
    });
    const db = new Database(raw);
    raw.configure('busyTimeout', options.busyTimeoutMs ?? 10_000);
    if (!options.readOnly) {
      await db.exec('PRAGMA journal_mode=WAL');
    }
    await db.exec('PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;');
    return db;
  }

  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params as unknown[], function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  get<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params as unknown[], (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params as unknown[], (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err: Error | null) => (err ? reject(err) : resolve()));
    });
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
      await this.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const t of group) t.reject(err);
      return;
    }
    if (group.length === 1 && group[0]) {
      // alone: no savepoint needed
      try {
        outcomes.push({ ok: true, value: await group[0].work(this) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    } else {
      for (const t of group) {
        await this.exec('SAVEPOINT sg');
        try {
          const value = await t.work(this);
          await this.exec('RELEASE sg');
          outcomes.push({ ok: true, value });
        } catch (error) {
          await this.exec('ROLLBACK TO sg; RELEASE sg').catch(() => undefined);
          outcomes.push({ ok: false, error });
        }
      }
    }
    if (outcomes.every((o) => !o.ok)) {
      await this.exec('ROLLBACK').catch(() => undefined);
    } else {
      try {
        await this.exec('COMMIT');
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
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
    return this.writeChain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.db.close((err) => (err ? reject(err) : resolve()));
        }),
    );
  }
}
