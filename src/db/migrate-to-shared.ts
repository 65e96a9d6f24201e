/**
 * `sealgate migrate --to-config FILE`: a single node's data directory (SQLite
 * database and local object store) copied into the shared stores another
 * config names (PostgreSQL and an S3-compatible store), resumable, and
 * verified before it reports success (docs/scale-out.md "Moving a single node
 * to the shared stores").
 *
 * Order: refuse what cannot be copied (a running gateway, schema versions
 * that differ, queued messages whose content is in dataDir/spool), copy the
 * tables (copy-tables.ts), copy the objects (copy-objects.ts), then verify
 * everything by reading it back from the target: per table row count and
 * content hash, every object's SHA-256, the audit chain on the target and its
 * last hash against the source's, and `archive verify` giving the same
 * answer on both.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { verifyArchive, type ArchiveVerifyResult } from '../archive/verify.js';
import { verifyAuditChain } from '../audit/log.js';
import { copyObjects, verifyObjects, type ObjectCopyResult, type ObjectVerifyResult } from '../objects/copy-objects.js';
import { describeObjectStore, openObjectStore, type OpenedObjectStore } from '../objects/open.js';
import { databasePath } from '../runtime/stores.js';
import { Database } from './database.js';
import { copyOrder, copyTable, countRows, digestTable, postgresColumns, readProgress, schemaDifferences, sqliteTables, textKeysOf } from './copy-tables.js';
import { openPostgres } from './open-store.js';
import { redactUrl, type PostgresDatabase } from './postgres.js';
import { SCHEMA_VERSION } from './schema.js';
import { migratePostgres, postgresSchemaVersion } from './schema-postgres.js';

/** Why the migration could not run (one line for the CLI); `kind` picks the exit code. */
export class MigrationRefused extends Error {
  constructor(
    readonly kind: 'usage' | 'failure',
    message: string,
  ) {
    super(message);
  }
}

export interface TableReport {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly sourceSha256: string;
  readonly targetSha256: string;
  readonly ok: boolean;
}

export interface MigrationReport {
  readonly ok: boolean;
  readonly source: { readonly database: string; readonly objects: string };
  readonly target: { readonly database: string; readonly objects: string };
  readonly schemaVersion: number;
  /** Rows copied by this run (0 when an earlier run had copied everything). */
  readonly rowsCopied: number;
  readonly tables: readonly TableReport[];
  readonly objects: ObjectCopyResult & Omit<ObjectVerifyResult, 'objects'> & { readonly shared: boolean; readonly ok: boolean };
  readonly audit: { readonly ok: boolean; readonly events: number; readonly sourceLastHash: string | undefined; readonly targetLastHash: string | undefined; readonly detail?: string };
  readonly archive: { readonly ok: boolean; readonly detail: string };
}

export interface MigrateOptions {
  /** The node's config (its dataDir, SQLite, local objects). */
  readonly source: Config;
  /** The config the nodes will run with: store.kind postgres, objects.kind s3. */
  readonly target: Config;
  /** Rows per batch (per PostgreSQL transaction). */
  readonly batchRows?: number;
  readonly now?: () => number;
  readonly warn?: (line: string) => void;
  /** After each batch of rows is committed in the target (progress; tests stop a copy here). */
  readonly afterBatch?: (table: string, rowsSoFar: number) => void | Promise<void>;
  /** After each object is copied or found present. */
  readonly afterObject?: (done: number) => void | Promise<void>;
  /** Told what the run is doing (one short line per step; no data, no secret). */
  readonly step?: (line: string) => void;
}

/** Opens the source database holding SQLite's exclusive lock for the whole run, or refuses: a gateway (or any command) has it open. */
async function lockSource(file: string): Promise<Database> {
  if (!existsSync(file)) throw new MigrationRefused('usage', `no database at ${file}: check dataDir in the config given with -c`);
  const db = await Database.open(file, { singleConnection: true, busyTimeoutMs: 0 });
  try {
    // in WAL mode every open connection holds a shared lock on the file: the exclusive one is refused while
    // the gateway runs, and held from here until close, so the gateway cannot start meanwhile either
    await db.exec('PRAGMA locking_mode = EXCLUSIVE');
    await db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    await db.close().catch(() => undefined);
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new MigrationRefused('failure', `the gateway is running (${file} is in use by another process): stop it (systemctl stop sealgate) and any other sealgate command, then run sealgate migrate again`);
    }
    throw err;
  }
  return db;
}

async function checkTargetVersion(target: PostgresDatabase, sourceVersion: number): Promise<number> {
  const before = await postgresSchemaVersion(target);
  if (before > sourceVersion) {
    throw new MigrationRefused('failure', `the target database is at schema version ${before}, the source at ${sourceVersion}: they must be the same (upgrade the source with a newer sealgate, or use an empty database)`);
  }
  await migratePostgres(target);
  const after = await postgresSchemaVersion(target);
  if (after !== sourceVersion) throw new MigrationRefused('failure', `the target database is at schema version ${after}, the source at ${sourceVersion}: they must be the same`);
  return after;
}

function describeArchive(r: ArchiveVerifyResult): string {
  return r.ok ? `ok: ${r.messages} messages, ${r.records} records, ${r.checkpoints} checkpoints` : `${r.problem.entry} (${r.problem.reason})`;
}

/** Copies and verifies; resolves with the report (ok only when everything verified), or throws MigrationRefused. */
export async function migrateToShared(options: MigrateOptions): Promise<MigrationReport> {
  const { source: sc, target: tc } = options;
  const now = options.now ?? Date.now;
  const step = options.step ?? ((): void => undefined);
  if (sc.store.kind !== 'sqlite') throw new MigrationRefused('usage', 'store.kind in the config given with -c is postgres: sealgate migrate copies a SQLite data directory; give the single node\'s config with -c');
  if (tc.store.kind !== 'postgres' || tc.store.url === undefined) throw new MigrationRefused('usage', 'store.kind in the --to-config file must be postgres (with store.url): the database to copy into');
  if (tc.objects.kind !== 's3') throw new MigrationRefused('usage', 'objects.kind in the --to-config file must be s3 (with objects.s3): the object store to copy into');
  const file = databasePath(sc);
  const targetDb = redactUrl(tc.store.url);
  const sourceObjectsName = describeObjectStore(sc);
  const targetObjectsName = describeObjectStore(tc);

  const src = await lockSource(file);
  let target: PostgresDatabase | undefined;
  let fromObjects: OpenedObjectStore | undefined;
  let toObjects: OpenedObjectStore | undefined;
  try {
    const sourceVersion = (await src.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
    if (sourceVersion !== SCHEMA_VERSION) {
      throw new MigrationRefused('failure', `the source database is at schema version ${sourceVersion}, this sealgate's is ${SCHEMA_VERSION}: ${sourceVersion < SCHEMA_VERSION ? 'run sealgate db migrate with the node\'s config first' : 'use the sealgate version that wrote it'}`);
    }
    const spooled = (await src.get<{ n: number }>('SELECT count(*) AS n FROM messages WHERE id NOT IN (SELECT id FROM spool_inline)'))?.n ?? 0;
    if (spooled > 0) {
      throw new MigrationRefused('failure', `${spooled} queued message(s) keep their content in dataDir/spool, which sealgate migrate does not copy: start the gateway, let the queue drain (sealgate queue list), stop it and run sealgate migrate again`);
    }

    step(`target database ${targetDb}`);
    target = await openPostgres(tc, options.warn === undefined ? {} : { warn: options.warn });
    const version = await checkTargetVersion(target, sourceVersion);
    const tables = copyOrder(await sqliteTables(src));
    const targetColumns = await postgresColumns(target);
    const differences = schemaDifferences(tables, targetColumns);
    if (differences.length > 0) throw new MigrationRefused('failure', `the target's schema differs from the source's at the same version: ${differences.slice(0, 3).join('; ')}`);
    const progress = await readProgress(target);
    const foreign = [...progress.values()].find((p) => p.source !== file);
    if (foreign) throw new MigrationRefused('failure', `the target holds a migration from another data directory (${foreign.source}): migrate into an empty database`);

    // rows
    let rowsCopied = 0;
    for (const t of tables) {
      const before = progress.get(t.name)?.rows ?? 0;
      step(`table ${t.name}`);
      const rows = await copyTable(src, target, t, progress.get(t.name), { batchRows: options.batchRows ?? 500, source: file, now, ...(options.afterBatch ? { afterBatch: options.afterBatch } : {}) });
      rowsCopied += rows - before;
    }

    // objects
    fromObjects = await openObjectStore(sc);
    toObjects = await openObjectStore(tc);
    await toObjects.init();
    const shared = sourceObjectsName === targetObjectsName;
    step(shared ? 'objects: already in the target store' : `objects into ${targetObjectsName}`);
    const copied: ObjectCopyResult = shared ? { objects: 0, copied: 0, skipped: 0, bytes: 0 } : await copyObjects(fromObjects, toObjects, options.afterObject);

    // verify, reading everything back from the target
    step('verifying');
    const tableReports: TableReport[] = [];
    for (const t of tables) {
      const a = await digestTable(src, t, new Set());
      const b = await digestTable(target, t, textKeysOf(t, targetColumns.get(t.name)));
      const [sourceRows, targetRows] = [await countRows(src, t.name), await countRows(target, t.name)];
      tableReports.push({ table: t.name, sourceRows, targetRows, sourceSha256: a.sha256, targetSha256: b.sha256, ok: sourceRows === targetRows && a.rows === sourceRows && b.rows === targetRows && a.sha256 === b.sha256 });
    }
    const objectCheck = shared ? { objects: 0, bytes: 0, different: [], missing: [], extra: [], problems: 0 } : await verifyObjects(fromObjects, toObjects);
    const sourceAudit = await verifyAuditChain(src);
    const targetAudit = await verifyAuditChain(target);
    const auditOk = sourceAudit.ok && targetAudit.ok && sourceAudit.count === targetAudit.count && sourceAudit.lastHash === targetAudit.lastHash;
    const at = now();
    const sourceArchive = await verifyArchive(src, { now: at });
    const targetArchive = await verifyArchive(target, { now: at });
    const archiveOk = JSON.stringify(sourceArchive) === JSON.stringify(targetArchive);

    const objectsOk = objectCheck.problems === 0;
    const { problems: _p, objects: _o, ...objectDiffs } = objectCheck;
    return {
      ok: tableReports.every((t) => t.ok) && objectsOk && auditOk && archiveOk,
      source: { database: file, objects: sourceObjectsName },
      target: { database: targetDb, objects: targetObjectsName },
      schemaVersion: version,
      rowsCopied,
      tables: tableReports,
      objects: { ...copied, ...objectDiffs, shared, ok: objectsOk },
      audit: {
        ok: auditOk,
        events: targetAudit.count,
        sourceLastHash: sourceAudit.ok ? sourceAudit.lastHash : undefined,
        targetLastHash: targetAudit.ok ? targetAudit.lastHash : undefined,
        ...(sourceAudit.ok ? {} : { detail: `source chain broken at #${sourceAudit.brokenAt} (${sourceAudit.reason})` }),
        ...(sourceAudit.ok && !targetAudit.ok ? { detail: `target chain broken at #${targetAudit.brokenAt} (${targetAudit.reason})` } : {}),
      },
      archive: { ok: archiveOk, detail: archiveOk ? describeArchive(targetArchive) : `source ${describeArchive(sourceArchive)}, target ${describeArchive(targetArchive)}` },
    };
  } finally {
    fromObjects?.close();
    toObjects?.close();
    await target?.close();
    await src.close();
  }
}
