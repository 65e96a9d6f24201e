/**
 * PostgreSQL behind the same contract as the SQLite Database
 * (src/db/sql-database.ts), over a node-postgres pool: several gateway nodes
 * share one database (issue 19, docs/scale-out.md "Database").
 *
 * - SQL keeps SQLite's `?` placeholders; they are numbered here
 *   (placeholders.ts), outside strings, identifiers and comments.
 * - BIGINT (ms epochs, counters, sizes) and integer NUMERIC results (SUM of a
 *   BIGINT) come back as JS numbers, as SQLite gives them: every value we
 *   store fits in a double exactly. One that does not (beyond 2^53) is
 *   refused with an error instead of being rounded silently.
 * - BYTEA <-> Buffer, as SQLite's BLOB.
 * - `transaction` runs on one pooled connection, BEGIN … COMMIT, ROLLBACK on
 *   error. Each transaction has its own connection, so a failing one never
 *   affects another (the same guarantee SQLite's group commit gives with
 *   savepoints). Synchronous commit is the server's setting; the docs require
 *   `synchronous_commit = on` (the durability rule: 250 only after commit).
 * - Never retried: a transaction's work may have effects outside the
 *   database (an object written, an SMTP reply pending), and a COMMIT whose
 *   answer was lost may or may not have happened — replaying it could apply
 *   it twice. The caller owns the retry (SMTP answers 4xx and the client
 *   sends again; the delivery loop tries the recipient later).
 * - The password comes from store.passwordFile or SEALGATE_DB_PASSWORD (or,
 *   discouraged, the URL); it is replaced by [redacted] in every error that
 *   leaves this module, and the URL is only ever shown redacted.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { SealgateError } from '../errors.js';
import type { SqlParams, SqlValue } from './database.js';
import { translatePlaceholders } from './placeholders.js';
import { CommitOutcomeUnknown, type AtCommitSql, type SqlDatabase, type SqlQueryable } from './sql-database.js';

export type PostgresTlsMode = 'disable' | 'require' | 'verify-full';

export interface PostgresTls {
  /** disable: cleartext; require: encrypted, certificate not checked; verify-full: chain and host name checked. */
  readonly mode: PostgresTlsMode;
  /** PEM CA bundle the server certificate must chain to (verify-full); default: the system store. */
  readonly caFile?: string | undefined;
}

export interface PostgresOptions {
  /** postgres://USER@HOST:PORT/DATABASE (a password inside is accepted but discouraged). */
  readonly url: string;
  /** From store.passwordFile or SEALGATE_DB_PASSWORD; wins over one in the URL. */
  readonly password?: string | undefined;
  /** Most connections this process opens (store.poolSize). */
  readonly poolSize?: number;
  readonly tls?: PostgresTls;
  /** Give up connecting after this long (ms), so a dead database fails a request instead of hanging it. */
  readonly connectTimeoutMs?: number;
  /**
   * Longest one statement may run (ms; 0 or absent: no limit): the server
   * cancels it (statement_timeout, lock waits included), and the driver gives
   * up on an answer a little later (query_timeout: a host that stopped
   * answering, whose connection is then discarded).
   */
  readonly statementTimeoutMs?: number;
  /** An idle pooled connection broke (server restart, network): reported here, already redacted. */
  readonly onIdleError?: (err: Error) => void;
}

/** The parts of a postgres:// URL we connect with. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Present when the URL carries one (discouraged: warn). */
  readonly password?: string;
}

/**
 * Pure: parses store.url. Query parameters (sslmode=…) are refused rather
 * than half-honoured: TLS is configured by store.tls alone. A host in
 * percent-encoded form starting with '/' is a unix socket directory.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.url: not a URL; write postgres://USER@HOST:PORT/DATABASE' });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `store.url: scheme ${u.protocol} is not postgres:; write postgres://USER@HOST:PORT/DATABASE` });
  }
  if (u.search !== '') {
    throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.url: query parameters are not read; set TLS with store.tls and remove "?…" from the URL' });
  }
  const host = decodeURIComponent(u.hostname);
  const user = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (host === '') throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.url: no host; write postgres://USER@HOST:PORT/DATABASE' });
  if (user === '') throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.url: no user name; write postgres://USER@HOST:PORT/DATABASE' });
  if (database === '' || database.includes('/')) {
    throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.url: no database name; write postgres://USER@HOST:PORT/DATABASE' });
  }
  const port = u.port === '' ? 5432 : Number(u.port);
  return { host, port, user, database, ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}) };
}

/** Pure: the URL with any password replaced, for status output and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = 'redacted';
    return u.toString().replace(':redacted@', ':[redacted]@');
  } catch {
    // not a URL: show nothing of it (it might be a password pasted in the wrong place)
    return '[unparsable URL]';
  }
}

/**
 * The password to connect with: the file (store.passwordFile; its first line,
 * trailing newline removed) or else SEALGATE_DB_PASSWORD, else undefined.
 */
export async function readDbPassword(passwordFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (passwordFile !== undefined) {
    let text: string;
    try {
      text = await readFile(passwordFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new SealgateError('SG_CONFIG_INVALID', { message: `store.passwordFile: cannot read ${passwordFile} (${code}); create it holding the database password` });
    }
    const first = text.split(/\r?\n/)[0] ?? '';
    if (first === '') throw new SealgateError('SG_CONFIG_INVALID', { message: `store.passwordFile: ${passwordFile} is empty; write the database password on its first line` });
    return first;
  }
  const fromEnv = env.SEALGATE_DB_PASSWORD;
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** A value PostgreSQL returned that a JS number cannot hold exactly; refused after the query. */
class LossyNumber {
  constructor(readonly text: string) {}
}

const OID_INT8 = 20;
const OID_NUMERIC = 1700;

function parseInteger(text: string): number | LossyNumber {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : new LossyNumber(text);
}

function parseNumeric(text: string): number | LossyNumber | string {
  if (/^-?\d+$/.test(text)) return parseInteger(text);
  // a fraction (AVG): approximate by nature, a double is what SQLite gives too; NaN/Infinity stay text
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** Per-pool parsers (never pg's global ones: other code in the process keeps pg's defaults). */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === OID_INT8) return parseInteger;
      if (oid === OID_NUMERIC) return parseNumeric;
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** How much longer than the server's statement_timeout the driver waits for an answer (the server's own cancel comes first). */
export const QUERY_TIMEOUT_MARGIN_MS = 2000;

/** Pure: the pool settings for a statement time limit (0: none). */
export function statementTimeouts(ms: number): { statement_timeout?: number; query_timeout?: number } {
  if (!(ms > 0)) return {};
  return { statement_timeout: ms, query_timeout: ms + QUERY_TIMEOUT_MARGIN_MS };
}

function refuseLossy(rows: readonly Record<string, unknown>[]): void {
  for (const row of rows) {
    for (const [column, value] of Object.entries(row)) {
      if (value instanceof LossyNumber) {
        throw new SealgateError('SG_STORAGE_FAILED', {
          message: `database value of column ${column} (${value.text}) is outside the range a JavaScript number holds exactly; refused rather than rounded`,
        });
      }
    }
  }
}

function toParams(params: SqlParams | undefined, sql: string, expected: number): unknown[] {
  if (params === undefined) params = [];
  if (!Array.isArray(params)) {
    throw new Error('PostgreSQL adapter: named parameters are not supported; pass an array for the ? placeholders');
  }
  const values = (params as readonly SqlValue[]).map((v) => (typeof v === 'bigint' ? v.toString() : v));
  if (values.length !== expected) {
    // SQLite would also refuse; say which statement without its values
    throw new Error(`PostgreSQL adapter: ${expected} placeholders but ${values.length} parameters in: ${sql.slice(0, 120)}`);
  }
  return values;
}

/** Replaces every secret in an error's message and stack; keeps the object (its SQLSTATE `code` and fields). */
function redactError(err: unknown, secrets: readonly string[]): unknown {
  if (!(err instanceof Error)) return err;
  for (const s of secrets) {
    if (s === '') continue;
    err.message = err.message.split(s).join('[redacted]');
    if (err.stack) err.stack = err.stack.split(s).join('[redacted]');
  }
  return err;
}

type Runner = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/** run/get/all/exec over one query function (the pool, or a transaction's client). */
class PgQueryable implements SqlQueryable {
  readonly dialect = 'postgres' as const;
  constructor(
    private readonly query: Runner,
    private readonly secrets: readonly string[],
    /** In a transaction: the work its COMMIT's round trip carries (AtCommitSql). */
    readonly atCommit?: Map<string, AtCommitSql>,
  ) {}

  private async q(sql: string, params?: SqlParams): Promise<pg.QueryResult> {
    const { text, count } = translatePlaceholders(sql);
    const values = toParams(params, sql, count);
    try {
      const result = await this.query(text, values);
      refuseLossy(result.rows as Record<string, unknown>[]);
      return result;
    } catch (err) {
      throw redactError(err, this.secrets);
    }
  }

  async run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    const r = await this.q(sql, params);
    return { changes: r.rowCount ?? 0 };
  }

  async get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const r = await this.q(sql, params);
    return r.rows[0] as T | undefined;
  }

  async all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    const r = await this.q(sql, params);
    return r.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    // no values: the simple query protocol, which runs several statements separated by ';'
    try {
      await this.query(sql);
    } catch (err) {
      throw redactError(err, this.secrets);
    }
  }
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly secrets: readonly string[];
  private readonly direct: PgQueryable;

  private constructor(pool: pg.Pool, secrets: readonly string[]) {
    this.pool = pool;
    this.secrets = secrets;
    this.direct = new PgQueryable((text, values) => pool.query(text, values), secrets);
  }

  /**
   * Opens the pool and proves the database answers (one round trip), so a
   * wrong URL, password or TLS setting fails here with one clear error.
   */
  static async open(options: PostgresOptions): Promise<PostgresDatabase> {
    const target = parsePostgresUrl(options.url);
    const password = options.password ?? target.password;
    const secrets = [password ?? '', target.password ?? ''].filter((s) => s !== '');
    const tls = options.tls ?? { mode: 'disable' };
    let ssl: pg.PoolConfig['ssl'] = false;
    if (tls.mode === 'require') ssl = { rejectUnauthorized: false };
    if (tls.mode === 'verify-full') {
      let ca: string | undefined;
      if (tls.caFile !== undefined) {
        try {
          ca = await readFile(tls.caFile, 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'error';
          throw new SealgateError('SG_CONFIG_INVALID', { message: `store.tls.caFile: cannot read ${tls.caFile} (${code})` });
        }
      }
      // the driver checks the certificate against the URL's host (SNI only for a name, never an IP: RFC 6066)
      ssl = { rejectUnauthorized: true, ...(ca !== undefined ? { ca } : {}) };
    }
    const pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(password !== undefined ? { password } : {}),
      ssl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      // TCP keepalive: a database host that vanishes without a reset (network partition, power loss) breaks the connection instead of hanging it
      keepAlive: true,
      ...statementTimeouts(options.statementTimeoutMs ?? 0),
      application_name: 'sealgate',
      types: TYPES,
    });
    // an idle connection that breaks emits 'error' on the pool; unhandled, it would end the process
    pool.on('error', (err) => options.onIdleError?.(redactError(err, secrets) as Error));
    const db = new PostgresDatabase(pool, secrets);
    try {
      await db.get('SELECT 1 AS ok');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return db;
  }

  run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.direct.exec(sql);
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.onClient('BEGIN', async (client) => {
      const atCommit = new Map<string, AtCommitSql>();
      const value = await work(new PgQueryable((text, values) => client.query(text, values), this.secrets, atCommit));
      // the work deferred to the commit goes with it, one simple query (no parameters: values escaped by the driver)
      const escape = (v: string): string => client.escapeLiteral(v);
      const sent = [...[...atCommit.values()].map((a) => a.sql(escape)), 'COMMIT'].join(';\n');
      let results: pg.QueryResult | pg.QueryResult[];
      try {
        results = (await client.query(sent)) as pg.QueryResult | pg.QueryResult[];
      } catch (err) {
        // the server's own refusal (a SQLSTATE) rolled it back; a broken connection leaves it unknown
        if (err instanceof pg.DatabaseError) throw err;
        throw new CommitOutcomeUnknown('the connection to PostgreSQL broke after the COMMIT was sent: the transaction may or may not have been applied', { cause: err });
      }
      const commit = Array.isArray(results) ? (results[results.length - 1] as pg.QueryResult) : results;
      // PostgreSQL answers COMMIT of a transaction an earlier statement aborted with ROLLBACK, not an error:
      // work that caught that statement's error must not be told its writes are in
      if (commit.command === 'ROLLBACK') {
        throw new SealgateError('SG_STORAGE_FAILED', { message: 'transaction rolled back: a statement in it failed (its error was caught inside the transaction)' });
      }
      return value;
    });
  }

  /**
   * One consistent, read-only picture (SqlDatabase.readSnapshot): a pooled
   * connection in REPEATABLE READ READ ONLY, whose first statement (here,
   * before `work`) takes the snapshot every later one reads; a write in it
   * is refused by the server. Nothing to make durable: COMMIT only ends it.
   */
  async readSnapshot<T>(work: (q: SqlQueryable) => Promise<T>): Promise<T> {
    return this.onClient('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      await client.query('SELECT 1');
      const value = await work(new PgQueryable((text, values) => client.query(text, values), this.secrets));
      await client.query('COMMIT');
      return value;
    });
  }

  /**
   * A pooled connection for one transaction: `begin` sent, then `run`, which
   * ends it; on an error it is rolled back. A checked-out client has no pool
   * listener: a connection that breaks between two statements (the server
   * restarted, a failover, the network) would emit an 'error' nobody
   * handles, and end the process. Caught here, it fails the next statement
   * instead, and the connection is destroyed, not reused, as one whose
   * ROLLBACK failed is: its state is unknown.
   */
  private async onClient<T>(begin: string, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw redactError(err, this.secrets);
    }
    let broken: Error | undefined;
    const onBroken = (err: Error): void => {
      broken = err;
    };
    client.on('error', onBroken);
    try {
      await client.query(begin);
      return await run(client);
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw redactError(err, this.secrets);
    } finally {
      client.off('error', onBroken);
      client.release(broken);
    }
  }

  /** Waits for connections in use to be released, then closes them all. */
  close(): Promise<void> {
    return this.pool.end();
  }
}
