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
import type { SqlDatabase, TransactionOptions } from './sql-database.js';

export type SqlValue = string | number | bigint | Buffer | null;
export type SqlParams = readonly SqlValue[] | Record<string, SqlValue>;

export interface Queryable {
  readonly dialect: 'sqlite';
  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /**
   * Present only on the `tx` of a group commit (Database.transaction): writes its transactions hand to the
   * group, by name, made just before the group's COMMIT (see DeferredWrites).
   */
  readonly deferred?: Map<string, DeferredWrites> | undefined;
}

/**
 * Rows a group commit inserts just before its COMMIT, handed over by its
 * transactions one after another (the audit chain's events: one multi-row
 * INSERT for the group instead of one per event). Kept in order; what a
 * transaction that fails handed over is taken back (`rollbackTo` the mark
 * taken before it ran); forgotten when the group ends, committed or not.
 */
export interface DeferredWrites {
  /** How much is held now (taken before each transaction of the group). */
  mark(): number;
  /** Forgets what was handed over after `mark`. */
  rollbackTo(mark: number): void;
  /** Writes everything held, in the group's transaction. */
  flush(tx: Queryable): Promise<void>;
}

/**
 * DeferredWrites that are rows kept in order and written by `insert` (one
 * multi-row INSERT or a few): what a failing transaction handed over is cut
 * off the end.
 */
export class DeferredRows implements DeferredWrites {
  protected readonly rows: SqlValue[][] = [];

  constructor(private readonly insert: (tx: Queryable, rows: readonly SqlValue[][]) => Promise<void>) {}

  add(rows: readonly SqlValue[][]): void {
    this.rows.push(...rows);
  }

  mark(): number {
    return this.rows.length;
  }

  rollbackTo(mark: number): void {
    this.rows.length = mark;
  }

  flush(tx: Queryable): Promise<void> {
    return this.insert(tx, this.rows);
  }
}

/** The group's deferred writer named `name`, made by `make` at its first use in the group. */
export function deferredWriter<T extends DeferredWrites>(deferred: Map<string, DeferredWrites>, name: string, make: () => T): T {
  let writer = deferred.get(name) as T | undefined;
  if (!writer) {
    writer = make();
    deferred.set(name, writer);
  }
  return writer;
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
/** Most keyed re-runnable transactions run side by side (as many statements of one SQL text as a connection keeps idle). */
const MAX_SIDE_BY_SIDE = 8;

interface PendingTransaction {
  readonly work: (tx: Queryable) => Promise<unknown>;
  /** TransactionOptions.rerunnable: run without a savepoint of its own. */
  readonly rerunnable: boolean;
  /** TransactionOptions.key (re-runnable ones only): run beside re-runnable ones of other keys. */
  readonly key: string | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** A prepare error that a stale copy of the schema can cause (a table, view or column made or renamed by another connection). */
const STALE_SCHEMA = /no such (?:table|view|column)/;

/** Most idle prepared statements a connection keeps (texts with long IN (?, ?, …) lists vary, so the cache is bounded). */
const MAX_CACHED_STATEMENTS = 256;
/** Most idle statements kept for one SQL text (as many as were in use at once, up to this). */
const MAX_IDLE_PER_TEXT = 8;

/**
 * One sqlite3 connection as a Queryable. Each SQL text is prepared once and
 * its statement reused: a one-off statement costs a prepare, a step and a
 * finalize (three trips through libuv's thread pool and a new native object)
 * where a prepared one costs its step and a reset. Every use is followed by
 * that reset: SQLite ends a statement's implicit transaction only for certain
 * once it is reset or finalized, and a statement left as it was — even one
 * that ran to its end — would pin the reader to an old snapshot (it would not
 * see later commits) and keep WAL checkpoints from finishing.
 *
 * A statement serves one caller at a time: it is taken from the idle ones of
 * its text (or prepared) and given back once it is done (see `use`). A sqlite3
 * statement runs its operations one after another, so callers sharing one
 * statement queued behind each other — ten deliveries reading their message
 * rows waited 2 – 9 ms each for what takes 50 µs alone.
 */
class Connection implements Queryable {
  readonly dialect = 'sqlite' as const;
  /** Idle statements by SQL text, the least recently used text first. */
  private readonly idle = new Map<string, sqlite3.Statement[]>();
  private idleCount = 0;
  /** The deferred writes of the group commit under way on this connection (set by Database.writeGroup only). */
  deferred: Map<string, DeferredWrites> | undefined;
  /** Operations under way and statements finalizing: the file cannot close before they are done. */
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(readonly raw: sqlite3.Database) {}

  private track(done: Promise<void>): void {
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
  }

  /** Finalizes a statement no longer kept, tracked until done. */
  private release(stmt: sqlite3.Statement): void {
    this.track(new Promise<void>((resolve) => stmt.finalize(() => resolve())));
  }

  /** A statement of `sql` for one caller: an idle one, or prepared now (a prepare error rejects and keeps nothing). */
  private async acquire(sql: string): Promise<sqlite3.Statement> {
    const spare = this.idle.get(sql);
    if (spare && spare.length > 0) {
      const stmt = spare.pop() as sqlite3.Statement;
      this.idleCount--;
      if (spare.length === 0) this.idle.delete(sql);
      return stmt;
    }
    let stmt: sqlite3.Statement;
    try {
      stmt = await this.prepare(sql);
    } catch (err) {
      if (!STALE_SCHEMA.test((err as Error).message)) throw err;
      // SQLite checks its schema cookie when a statement's own table is missing, but not when a trigger's is (the view
      // queue_message_insert, migration 35): after another connection changed the schema, this connection could keep a
      // stale copy and refuse the statement for good. One read of the schema table reloads it; then prepare again.
      await new Promise<void>((resolve) => this.raw.get('SELECT count(*) AS n FROM sqlite_schema', () => resolve()));
      stmt = await this.prepare(sql);
    }
    // errors reach the callback of the operation that met them, never as an uncaught 'error' event
    stmt.on('error', () => undefined);
    return stmt;
  }

  private prepare(sql: string): Promise<sqlite3.Statement> {
    return new Promise<sqlite3.Statement>((resolve, reject) => {
      const prepared: sqlite3.Statement = this.raw.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(prepared)));
    });
  }

  /** Back among the idle statements of its text once its reset is done (finalized instead when the connection is closing or enough are kept). */
  private giveBack(sql: string, stmt: sqlite3.Statement): void {
    const list = this.idle.get(sql) ?? [];
    if (this.closed || list.length >= MAX_IDLE_PER_TEXT) {
      this.release(stmt);
      return;
    }
    // most recently used text last: the first one is the one to drop
    this.idle.delete(sql);
    list.push(stmt);
    this.idle.set(sql, list);
    this.idleCount++;
    while (this.idleCount > MAX_CACHED_STATEMENTS) {
      const [oldest, old] = this.idle.entries().next().value as [string, sqlite3.Statement[]];
      const dropped = old.shift() as sqlite3.Statement;
      this.idleCount--;
      if (old.length === 0) this.idle.delete(oldest);
      this.release(dropped);
    }
  }

  /**
   * Runs one operation on a statement of its own: `op` gets the statement
   * and a callback for the outcome. After an error the statement is
   * finalized (a failed step is not reused); otherwise it goes back to the
   * idle ones — after a reset when `reset` is asked for (a read, which may
   * hold its snapshot until reset even after SQLITE_DONE), at once for a
   * write that ran to SQLITE_DONE (its implicit transaction has ended: a
   * COMMIT after it succeeds, and every use resets it first anyway). An
   * operation asked for before `close` runs, and close waits for it (its
   * prepare included).
   */
  private use<T>(sql: string, reset: boolean, op: (stmt: sqlite3.Statement, done: (err: Error | null, value?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the database connection is closed'));
    let finished!: () => void;
    this.track(new Promise<void>((resolve) => (finished = resolve)));
    return this.acquire(sql).then(
      (stmt) =>
        new Promise<T>((resolve, reject) => {
          let failed = false;
          const settle = (): void => {
            if (failed) this.release(stmt);
            else this.giveBack(sql, stmt);
            finished();
          };
          op(stmt, (err, value) => {
            if (err) {
              failed = true;
              reject(err);
            } else resolve(value as T);
            if (!reset) settle();
          });
          if (reset) stmt.reset(settle);
        }),
      (err: unknown) => {
        finished();
        throw err;
      },
    );
  }

  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    // a write without RETURNING is done in its one step; anything else may stop at a row
    return this.use(sql, !runsToItsEnd(sql), (stmt, done) =>
      stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        done(err, err ? undefined : { changes: this.changes, lastID: this.lastID });
      }),
    );
  }

  get<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.use<T | undefined>(sql, true, (stmt, done) => stmt.get(params, (err: Error | null, row?: T) => done(err, row)));
  }

  all<T = Record<string, unknown>>(sql: string, params: SqlParams = []): Promise<T[]> {
    // reset too: a read that ran to SQLITE_DONE may still hold its snapshot until reset (measured: a console
    // session committed a moment before was not found), which SQLite documents as allowed
    return this.use<T[]>(sql, true, (stmt, done) => stmt.all(params, (err: Error | null, rows: T[]) => done(err, rows)));
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.idle.values()) for (const stmt of list) this.release(stmt);
    this.idle.clear();
    this.idleCount = 0;
    // operations under way finish (their statements finalized as they come back); every finalize runs after the operations queued on it
    while (this.pending.size > 0) await Promise.all([...this.pending]);
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

/** Writes refused (query_only), BEGIN, a first read (the snapshot starts here), `work`, COMMIT; ROLLBACK if it fails. */
async function snapshotOn<T>(conn: Connection, work: (q: Queryable) => Promise<T>): Promise<T> {
  await conn.exec('PRAGMA query_only=1; BEGIN');
  try {
    await conn.get('SELECT count(*) AS n FROM sqlite_schema');
    const value = await work(conn);
    await conn.exec('COMMIT');
    return value;
  } catch (err) {
    await conn.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Whether `run` (one sqlite3_step) takes `sql` to SQLITE_DONE and ends with it: an INSERT, UPDATE, DELETE or REPLACE without RETURNING (a write, no rows). */
export function runsToItsEnd(sql: string): boolean {
  return /^\s*(?:insert|update|delete|replace)\b/i.test(sql) && !/\breturning\b/i.test(sql);
}

/**
 * The transactions to run side by side from group[first]: with the keyed
 * re-runnable ones that come next in `todo` (taken out of it), up to
 * MAX_SIDE_BY_SIDE, stopping at one without a key or with a key already
 * taken; just [first] when it has no key.
 */
function sideBySide(group: readonly PendingTransaction[], first: number, todo: number[]): number[] {
  const key = (group[first] as PendingTransaction).key;
  if (key === undefined) return [first];
  const keys = new Set([key]);
  const batch = [first];
  while (batch.length < MAX_SIDE_BY_SIDE && todo.length > 0) {
    const next = group[todo[0] as number] as PendingTransaction;
    if (next.key === undefined || keys.has(next.key)) break;
    keys.add(next.key);
    batch.push(todo.shift() as number);
  }
  return batch;
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
    /** The file and how to open another connection to it (readSnapshot); undefined for an in-memory database. */
    private readonly file: { readonly path: string; readonly mode: number; readonly busyMs: number } | undefined,
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
    const inMemory = path === ':memory:' || path === '' || path.startsWith('file::memory:');
    return new Database(writer, reader, inMemory ? undefined : { path, mode: options.readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE, busyMs: busy });
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
   * then share one fsync; alone, a transaction commits by itself. A
   * re-runnable transaction (TransactionOptions) shares the savepoint of
   * the stretch it is in: one that fails rolls the stretch back, and the
   * others of the stretch run again.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work: work as (tx: Queryable) => Promise<unknown>, rerunnable: options.rerunnable === true, key: options.rerunnable === true ? options.key : undefined, resolve: resolve as (v: unknown) => void, reject });
      if (!this.writing) void this.writeGroups();
    });
  }

  /**
   * One consistent, read-only picture (SqlDatabase.readSnapshot): a read
   * transaction on a connection opened for it alone, so neither the reads
   * of the rest of this process (the shared reader) nor its writes mix with
   * it; the connection refuses writes (query_only) and is closed after. Its
   * first read takes the snapshot at once (SQLite would take it at the first
   * read of `work`). An in-memory database has no second connection: the
   * snapshot runs on its one connection, in the order of its transactions.
   */
  async readSnapshot<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    if (this.file === undefined) {
      return this.inWriteOrder(async () => {
        try {
          return await snapshotOn(this.writer, work);
        } finally {
          await this.writer.exec('PRAGMA query_only=0');
        }
      });
    }
    const conn = await openConnection(this.file.path, this.file.mode, this.file.busyMs);
    try {
      return await snapshotOn(conn, work);
    } finally {
      await conn.close();
    }
  }

  /** Runs `fn` alone on the writer: after the transactions requested before it, before those requested after. */
  private async inWriteOrder<T>(fn: () => Promise<T>): Promise<T> {
    const done = this.writeChain;
    let release: () => void = () => undefined;
    this.writeChain = new Promise<void>((r) => (release = r));
    await done;
    try {
      return await fn();
    } finally {
      release();
    }
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

  /**
   * One BEGIN IMMEDIATE … COMMIT for the group. With more than one
   * transaction a savepoint is always open: a transaction that is not
   * re-runnable runs alone between two (`RELEASE sg; SAVEPOINT sg`, one trip
   * through the thread pool), so a failing one is rolled back alone;
   * consecutive re-runnable ones share one stretch, and one that fails rolls
   * the stretch back (`ROLLBACK TO sg`) and puts the others of the stretch
   * back at the head of the work, to run again. Each failure leaves one
   * transaction out for good, so the group ends. The group's deferred writes
   * (DeferredWrites: the audit chain's rows) go in just before COMMIT; what
   * rolled back takes back what it handed over.
   */
  private async writeGroup(group: PendingTransaction[]): Promise<void> {
    const deferred = new Map<string, DeferredWrites>();
    this.writer.deferred = deferred;
    try {
      await this.writeGroupWith(group, deferred);
    } finally {
      this.writer.deferred = undefined;
    }
  }

  private async writeGroupWith(group: PendingTransaction[], deferred: Map<string, DeferredWrites>): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown } | undefined)[] = group.map(() => undefined);
    const alone = group.length === 1;
    const marks = (): Map<string, number> => new Map([...deferred].map(([name, d]) => [name, d.mark()]));
    const rollbackDeferred = (to: Map<string, number>): void => {
      // a writer made since `to` was taken is emptied
      for (const [name, d] of deferred) d.rollbackTo(to.get(name) ?? 0);
    };
    try {
      await this.writer.exec(alone ? 'BEGIN IMMEDIATE' : 'BEGIN IMMEDIATE; SAVEPOINT sg');
    } catch (err) {
      // BEGIN succeeded and the savepoint did not (never seen): leave no transaction open
      await this.writer.exec('ROLLBACK').catch(() => undefined);
      for (const t of group) t.reject(err);
      return;
    }
    try {
      const todo = group.map((_, i) => i);
      /** The re-runnable transactions run since the open savepoint, and the deferred writes' marks when it was taken. */
      let stretch: number[] = [];
      let stretchMarks = marks();
      const newSavepoint = async (): Promise<void> => {
        await this.writer.exec('RELEASE sg; SAVEPOINT sg');
        stretch = [];
        stretchMarks = marks();
      };
      /** After a failure in a batch: the rest of the group runs one at a time, as without keys. */
      let oneAtATime = false;
      for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
        const t = group[i] as PendingTransaction;
        if (!alone && !t.rerunnable && stretch.length > 0) await newSavepoint();
        const batch = alone || oneAtATime ? [i] : sideBySide(group, i, todo);
        if (batch.length > 1) {
          const settled = await Promise.allSettled(batch.map((j) => Promise.resolve().then(() => (group[j] as PendingTransaction).work(this.writer))));
          if (settled.every((o) => o.status === 'fulfilled')) {
            batch.forEach((j, k) => (outcomes[j] = { ok: true, value: (settled[k] as PromiseFulfilledResult<unknown>).value }));
            stretch.push(...batch);
            continue;
          }
          // one failed while others ran beside it (each may have seen the other's writes): the stretch is undone and
          // run again, and the rest of the group one at a time, so each outcome is what it would be alone
          rollbackDeferred(stretchMarks);
          await this.writer.exec('ROLLBACK TO sg');
          todo.unshift(...stretch, ...batch);
          stretch = [];
          oneAtATime = true;
          continue;
        }
        try {
          outcomes[i] = { ok: true, value: await t.work(this.writer) };
        } catch (error) {
          outcomes[i] = { ok: false, error };
          if (alone) continue;
          rollbackDeferred(stretchMarks);
          await this.writer.exec('ROLLBACK TO sg');
          // the others of the stretch were rolled back with it: they run again, first
          todo.unshift(...stretch);
          stretch = [];
          continue;
        }
        if (alone) continue;
        if (t.rerunnable) stretch.push(i);
        else if (todo.length > 0) await newSavepoint();
      }
      if (outcomes.every((o) => !o?.ok)) {
        await this.writer.exec('ROLLBACK').catch(() => undefined);
      } else {
        for (const d of deferred.values()) await d.flush(this.writer);
        await this.writer.exec('COMMIT');
      }
    } catch (err) {
      // a control statement, the deferred writes or the COMMIT failed: nothing of the group is in
      await this.writer.exec('ROLLBACK').catch(() => undefined);
      for (const t of group) t.reject(err);
      return;
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
