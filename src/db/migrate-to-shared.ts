/**
 * `sealgate migrate --to-config FILE`: a single node's data directory (SQLite
 * database and local object store) copied into the shared stores another
 * config names (PostgreSQL and an S3-compatible store), resumable, and
 * verified before it reports success (docs/scale-out.md "Moving a single node
 * to the shared stores").
 *
 * Order: refuse what cannot be copied (a running gateway, schema versions
 * that differ, queued messages whose content is in neither the database nor
 * dataDir/spool), copy the tables (copy-tables.ts), copy the objects
 * (copy-objects.ts), copy the file spool's blobs of queued messages to the
 * spool/ keys the nodes read (src/spool/file-spool-source.ts), then verify
 * everything by reading it back from the target: per table row count and
 * content hash, every object's and spool blob's SHA-256, the audit chain on
 * the target and its last hash against the source's, and `archive verify`
 * giving the same answer on both.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { verifyArchive, type ArchiveVerifyResult } from '../archive/verify.js';
import { verifyAuditChain } from '../audit/log.js';
import { copyObjects, verifyObjects, type ObjectCopyResult, type ObjectVerifyResult } from '../objects/copy-objects.js';
import { describeObjectStore, openObjectStore, type OpenedObjectStore } from '../objects/open.js';
import { databasePath, spoolRoot } from '../runtime/stores.js';
import { fileSpoolSource, listFileSpool, type FileSpoolListing } from '../spool/file-spool-source.js';
import { SPOOL_OBJECT_PREFIX } from '../spool/object-blobs.js';
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
  /**
   * The file spool's blobs of queued messages (content larger than queue.inlineMaxBytes, end-to-end copies) under
   * the target's spool/ keys. `files` false: the source's spool is in its object store (objects.kind: s3), carried
   * with the objects (or already shared). `objects`: blobs; `messages`: queued messages they belong to; `orphans`:
   * files of messages no longer queued and temporary files, not copied.
   */
  readonly spool: ObjectCopyResult & Omit<ObjectVerifyResult, 'objects'> & { readonly files: boolean; readonly messages: number; readonly orphans: number; readonly ok: boolean };
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
  /** After each spool blob is copied or found present. */
  readonly afterSpoolBlob?: (done: number) => void | Promise<void>;
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

/**
 * Lists the file spool's blobs of queued messages, or refuses what cannot be carried: a queued message whose
 * content is in neither the database (spool_inline) nor dataDir/spool (lost here already), or a blob no object key
 * can hold. Before anything is copied.
 */
async function checkFileSpool(src: Database, root: string): Promise<FileSpoolListing> {
  const queued = new Set((await src.all<{ id: string }>('SELECT id FROM messages')).map((r) => r.id));
  const listing = await listFileSpool(root, (id) => queued.has(id));
  if (listing.unfit.length > 0) {
    throw new MigrationRefused('failure', `${listing.unfit.length} spool file(s) of queued messages cannot be carried: no object key can hold them (e.g. ${listing.unfit[0]}); remove those messages (sealgate queue delete ID), then run sealgate migrate again`);
  }
  const spooled = new Set(listing.files.filter((f) => f.name.copy === undefined).map((f) => f.name.id));
  const lost = (await src.all<{ id: string }>('SELECT id FROM messages WHERE id NOT IN (SELECT id FROM spool_inline) ORDER BY id')).filter((r) => !spooled.has(r.id));
  if (lost.length > 0) {
    throw new MigrationRefused('failure', `${lost.length} queued message(s) have their content in neither the database nor dataDir/spool (e.g. ${lost[0]?.id}), so sealgate migrate cannot carry them: restore dataDir/spool from a backup, or remove them (sealgate queue delete ID), then run sealgate migrate again`);
  }
  return listing;
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
    // the file spool (objects.kind: local): its blobs of queued messages are carried; an s3 source's are objects
    const fileSpool = sc.objects.kind === 'local' ? await checkFileSpool(src, spoolRoot(sc)) : undefined;

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

    // spool blobs, byte for byte: the same ciphertext and encryption context in both spools
    const spoolSource = fileSpool === undefined ? undefined : fileSpoolSource(fileSpool.files);
    const spoolScope = { prefix: SPOOL_OBJECT_PREFIX };
    if (spoolSource) step(`spool: ${fileSpool?.files.length ?? 0} blobs of queued messages into ${targetObjectsName}`);
    const spoolCopied: ObjectCopyResult = spoolSource ? await copyObjects(spoolSource, toObjects, options.afterSpoolBlob, spoolScope) : { objects: 0, copied: 0, skipped: 0, bytes: 0 };

    // verify, reading everything back from the target
    step('verifying');
    const tableReports: TableReport[] = [];
    for (const t of tables) {
      const a = await digestTable(src, t, new Set());
      const b = await digestTable(target, t, textKeysOf(t, targetColumns.get(t.name)));
      const [sourceRows, targetRows] = [await countRows(src, t.name), await countRows(target, t.name)];
      tableReports.push({ table: t.name, sourceRows, targetRows, sourceSha256: a.sha256, targetSha256: b.sha256, ok: sourceRows === targetRows && a.rows === sourceRows && b.rows === targetRows && a.sha256 === b.sha256 });
    }
    const none = { objects: 0, bytes: 0, different: [], missing: [], extra: [], problems: 0 };
    // the target's spool/ keys are the spool part's, checked against the file spool below
    const objectCheck = shared ? none : await verifyObjects(fromObjects, toObjects, 20, spoolSource ? { ignore: SPOOL_OBJECT_PREFIX } : {});
    const spoolCheck = spoolSource ? await verifyObjects(spoolSource, toObjects, 20, spoolScope) : none;
    const sourceAudit = await verifyAuditChain(src);
    const targetAudit = await verifyAuditChain(target);
    const auditOk = sourceAudit.ok && targetAudit.ok && sourceAudit.count === targetAudit.count && sourceAudit.lastHash === targetAudit.lastHash;
    const at = now();
    const sourceArchive = await verifyArchive(src, { now: at });
    const targetArchive = await verifyArchive(target, { now: at });
    const archiveOk = JSON.stringify(sourceArchive) === JSON.stringify(targetArchive);

    const objectsOk = objectCheck.problems === 0;
    const { problems: _p, objects: _o, ...objectDiffs } = objectCheck;
    const spoolOk = spoolCheck.problems === 0;
    const { problems: _sp, objects: _so, ...spoolDiffs } = spoolCheck;
    return {
      ok: tableReports.every((t) => t.ok) && objectsOk && spoolOk && auditOk && archiveOk,
      source: { database: file, objects: sourceObjectsName },
      target: { database: targetDb, objects: targetObjectsName },
      schemaVersion: version,
      rowsCopied,
      tables: tableReports,
      objects: { ...copied, ...objectDiffs, shared, ok: objectsOk },
      spool: { ...spoolCopied, ...spoolDiffs, files: fileSpool !== undefined, messages: new Set(fileSpool?.files.map((f) => f.name.id)).size, orphans: fileSpool?.orphans ?? 0, ok: spoolOk },
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
