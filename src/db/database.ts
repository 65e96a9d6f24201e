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

export class Database implements Queryable {
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
   * Runs `work` inside BEGIN IMMEDIATE … COMMIT, after every earlier
   * transaction of this process has finished. On error it rolls back and
   * rethrows. Statements issued by `work` must use the `tx` it is given.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const next = this.writeChain.then(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this);
        await this.exec('COMMIT');
        return result;
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.writeChain = next.catch(() => undefined);
    return next;
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
