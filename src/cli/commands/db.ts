/**
 * `sealgate db migrate` and `sealgate db status`: the schema version of the
 * configured database, SQLite (PRAGMA user_version) or PostgreSQL (the
 * schema_version table), and applying what is pending. SQLite migrates by
 * itself when any command opens it; PostgreSQL is migrated by this command
 * (docs/scale-out.md "Database").
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { Database } from '../../db/database.js';
import { openPostgres } from '../../db/open-store.js';
import { redactUrl } from '../../db/postgres.js';
import { SCHEMA_VERSION } from '../../db/schema.js';
import { POSTGRES_MIGRATIONS, migratePostgres, postgresSchemaVersion } from '../../db/schema-postgres.js';
import { databasePath, openDatabase } from '../../runtime/stores.js';
import { errorLine, loadForCommand } from '../context.js';

export interface DbStatus {
  readonly kind: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL without its password. */
  readonly database: string;
  readonly version: number;
  readonly latest: number;
  readonly pending: readonly number[];
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i + 1);

const warn = (line: string): void => void process.stderr.write(`${errorLine(new Error(`warning: ${line}`))}\n`);

async function status(config: Config): Promise<DbStatus> {
  if (config.store.kind === 'postgres') {
    const db = await openPostgres(config, { warn });
    try {
      const version = await postgresSchemaVersion(db);
      return { kind: 'postgres', database: redactUrl(config.store.url ?? ''), version, latest: POSTGRES_MIGRATIONS.length, pending: range(version, POSTGRES_MIGRATIONS.length) };
    } finally {
      await db.close();
    }
  }
  const file = databasePath(config);
  let version = 0;
  // status only reads: a database that does not exist yet is at version 0 (it is not created here)
  if (existsSync(file)) {
    const db = await Database.open(file, { readOnly: true });
    try {
      version = (await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
    } finally {
      await db.close();
    }
  }
  return { kind: 'sqlite', database: file, version, latest: SCHEMA_VERSION, pending: range(version, SCHEMA_VERSION) };
}

/** Pure: the text form of a status. */
export function formatStatus(s: DbStatus): string {
  const state =
    s.version > s.latest
      ? `version ${s.version}, newer than this sealgate knows (${s.latest}): upgrade sealgate`
      : s.pending.length === 0
        ? `version ${s.version} of ${s.latest}, up to date`
        : `version ${s.version} of ${s.latest}, ${s.pending.length} pending (${s.pending[0]}-${s.pending[s.pending.length - 1]}): run sealgate db migrate`;
  return `kind: ${s.kind}\ndatabase: ${s.database}\nschema: ${state}\n`;
}

async function migrateStore(config: Config): Promise<{ kind: string; database: string; from: number; to: number; applied: readonly number[] }> {
  if (config.store.kind === 'postgres') {
    const db = await openPostgres(config, { warn });
    try {
      return { kind: 'postgres', database: redactUrl(config.store.url ?? ''), ...(await migratePostgres(db)) };
    } finally {
      await db.close();
    }
  }
  const before = await status(config);
  // opening the SQLite database applies its pending migrations
  const db = await openDatabase(config);
  await db.close();
  return { kind: 'sqlite', database: before.database, from: before.version, to: SCHEMA_VERSION, applied: before.pending };
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('the database schema: status and migrations (SQLite or PostgreSQL, store.kind)');
  db.command('status')
    .description('schema version of the configured database, and the migrations still pending')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const s = await status(loadForCommand(cmd).config);
      process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
    });
  db.command('migrate')
    .description('apply pending migrations (once, even when several nodes run it together)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await migrateStore(loadForCommand(cmd).config);
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else if (r.applied.length === 0) process.stdout.write(`nothing to apply: ${r.kind} database at version ${r.to}\n`);
      else process.stdout.write(`applied ${r.applied.length} migration(s) (${r.applied[0]}-${r.applied[r.applied.length - 1]}): ${r.kind} database now at version ${r.to}\n`);
    });
}
