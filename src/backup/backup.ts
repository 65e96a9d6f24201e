/**
 * `sealgate backup`, `backup verify` and `restore`.
 *
 * A backup is taken while the daemon runs, without stopping it:
 *   1. every committed file under the data directory (spool, object store)
 *      is copied;
 *   2. the database is copied as one consistent snapshot (`VACUUM INTO`,
 *      a read transaction: the daemon keeps writing beside it);
 *   3. the files written between 1 and 2 are copied (spool and store files
 *      are written once and never changed, so a copy is the file);
 *   4. a message the snapshot still queues whose spool file (with
 *      objects.kind s3: its spool object) is gone by then finished (was delivered or bounced) after the snapshot: its rows are
 *      dropped from the snapshot, so a restore never queues mail it has no
 *      content for — and counted in the manifest;
 *   5. the master key, only with --include-key, under keys/;
 *   6. manifest.json with every file's size and SHA-256.
 * Restore refuses a data directory that is not empty and a backup that does
 * not verify. The database part is SQLite's; PostgreSQL (issue 19) is backed
 * up with its own tools.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { verifyAuditChain } from '../audit/log.js';
import { Database } from '../db/database.js';
import { spooledMessagePath } from '../spool/spool.js';
import { compareFiles, describeProblem, MANIFEST_FORMAT, MANIFEST_NAME, parseManifest, type Manifest, type ManifestFile } from './manifest.js';
import { copyRelative, isBackedUp, keyFilesInside, listFiles, sha256File } from './files.js';

export interface BackupInput {
  readonly dataDir: string;
  readonly keyFiles: { readonly current: string; readonly previous: readonly string[] };
  readonly masterKeyId: string;
  readonly outDir: string;
  readonly includeKey: boolean;
  readonly gateway: string;
  readonly version: string;
  readonly now: () => number;
  /**
   * Whether a queued message's content beyond the inline limit is stored, when the spool does not keep it in
   * the data directory (objects.kind s3: its object under spool/). Absent: its spool file in the backup.
   */
  readonly spooledContentExists?: ((id: string) => Promise<boolean>) | undefined;
}

export class BackupError extends Error {
  constructor(
    /** usage: wrong input (exit 2); failed: the backup or restore itself failed (exit 1). */
    readonly kind: 'usage' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

function sqlString(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}

export async function createBackup(input: BackupInput): Promise<Manifest> {
  const dataDir = resolve(input.dataDir);
  const out = resolve(input.outDir);
  if (out === dataDir || out.startsWith(`${dataDir}/`)) throw new BackupError('usage', `--out ${input.outDir} is inside the data directory: choose a directory elsewhere (ideally another disk)`);
  if (!(await isEmptyOrMissing(out))) throw new BackupError('usage', `--out ${input.outDir} is not empty: give a new or empty directory`);
  await mkdir(join(out, 'data'), { recursive: true, mode: 0o700 });
  const excluded = keyFilesInside(dataDir, [input.keyFiles.current, ...input.keyFiles.previous]);
  const dataOut = join(out, 'data');

  // 1. the committed files as they are now
  const copied = new Set<string>();
  for (const rel of (await listFiles(dataDir)).filter((r) => isBackedUp(r, excluded))) if (await copyRelative(dataDir, dataOut, rel)) copied.add(rel);

  // 2. the database, one consistent snapshot
  const live = await Database.open(join(dataDir, 'sealgate.db'), { readOnly: true });
  try {
    await live.exec(`VACUUM INTO ${sqlString(join(dataOut, 'sealgate.db'))}`);
  } finally {
    await live.close();
  }

  // 3. what was written meanwhile
  for (const rel of (await listFiles(dataDir)).filter((r) => isBackedUp(r, excluded) && !copied.has(r))) if (await copyRelative(dataDir, dataOut, rel)) copied.add(rel);

  // 4. messages finished after the snapshot: no content to restore, nothing to deliver
  // one connection: switching the journal mode below needs the file to itself
  const snapshot = await Database.open(join(dataOut, 'sealgate.db'), { singleConnection: true });
  let finished = 0;
  let messages = 0;
  let schemaVersion = 0;
  try {
    const ids = (await snapshot.all<{ id: string }>('SELECT id FROM messages')).map((r) => r.id);
    // a small message's content is inside the snapshot itself (queue.inlineMaxBytes)
    const inline = new Set((await snapshot.all<{ id: string }>('SELECT id FROM spool_inline')).map((r) => r.id));
    const gone: string[] = [];
    for (const id of ids) {
      if (inline.has(id)) continue;
      if (input.spooledContentExists) {
        // objects.kind s3: the content is in the shared object store, which this backup does not copy
        if (!(await input.spooledContentExists(id))) gone.push(id);
        continue;
      }
      try {
        await stat(join(dataOut, 'spool', spooledMessagePath(id)));
      } catch {
        gone.push(id);
      }
    }
    if (gone.length > 0) {
      await snapshot.transaction(async (tx) => {
        for (const id of gone) {
          await tx.run('DELETE FROM recipients WHERE message_id = ?', [id]);
          await tx.run('DELETE FROM messages WHERE id = ?', [id]);
        }
      });
    }
    finished = gone.length;
    messages = ids.length - gone.length;
    schemaVersion = (await snapshot.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
    // one file: no WAL beside it in the backup
    await snapshot.exec('PRAGMA journal_mode=DELETE');
  } finally {
    await snapshot.close();
  }

  // 5. the master key, only when asked
  if (input.includeKey) {
    await mkdir(join(out, 'keys'), { recursive: true, mode: 0o700 });
    await copyFile(resolve(input.keyFiles.current), join(out, 'keys', 'master.key'));
    for (const [i, f] of input.keyFiles.previous.entries()) await copyFile(resolve(f), join(out, 'keys', `previous-${i + 1}.key`));
  }

  // 6. the manifest
  const files: ManifestFile[] = [];
  for (const rel of await listFiles(out)) files.push({ path: rel, ...(await sha256File(join(out, ...rel.split('/')))) });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    createdAt: new Date(input.now()).toISOString(),
    gateway: input.gateway,
    version: input.version,
    schemaVersion,
    masterKeyId: input.masterKeyId,
    includesKey: input.includeKey,
    messages,
    finishedDuringBackup: finished,
    files,
  };
  await writeFile(join(out, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly manifest?: Manifest;
  readonly problems: readonly string[];
  /** Audit events in the snapshot (when its chain verified). */
  readonly auditEvents?: number;
}

/** Every file against the manifest, then the snapshot: SQLite's integrity check and the audit chain. */
export async function verifyBackup(dir: string): Promise<VerifyReport> {
  const root = resolve(dir);
  let text: string;
  try {
    text = await readFile(join(root, MANIFEST_NAME), 'utf8');
  } catch {
    throw new BackupError('usage', `${dir} has no ${MANIFEST_NAME}: not a Sealgate backup directory`);
  }
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') return { ok: false, problems: [manifest] };
  const found = new Map<string, { size: number; sha256: string }>();
  for (const rel of await listFiles(root)) if (rel !== MANIFEST_NAME) found.set(rel, await sha256File(join(root, ...rel.split('/'))));
  const problems = compareFiles(manifest.files, found).map(describeProblem);
  if (problems.length > 0 || !found.has('data/sealgate.db')) return { ok: false, manifest, problems: problems.length ? problems : ['data/sealgate.db: missing'] };
  const db = await Database.open(join(root, 'data', 'sealgate.db'), { readOnly: true });
  try {
    const integrity = (await db.all<{ integrity_check: string }>('PRAGMA integrity_check')).map((r) => r.integrity_check);
    if (integrity.join() !== 'ok') return { ok: false, manifest, problems: [`data/sealgate.db: SQLite integrity check failed (${integrity.slice(0, 3).join('; ')})`] };
    const chain = await verifyAuditChain(db);
    if (!chain.ok) return { ok: false, manifest, problems: [`data/sealgate.db: audit chain broken at event #${chain.brokenAt} (${chain.reason})`] };
    return { ok: true, manifest, problems: [], auditEvents: chain.count };
  } finally {
    await db.close();
  }
}

export interface RestoreInput {
  readonly dir: string;
  readonly dataDir: string;
  readonly masterKeyFile: string;
}

export interface RestoreReport {
  readonly manifest: Manifest;
  readonly files: number;
  /** The key file written from the backup, when it held one and none was there. */
  readonly keyRestored: boolean;
  readonly auditEvents: number;
}

/** Verifies the backup, then copies it into an empty data directory (and the key, when the backup has it and the key file is missing). */
export async function restoreBackup(input: RestoreInput): Promise<RestoreReport> {
  const dataDir = resolve(input.dataDir);
  if (!(await isEmptyOrMissing(dataDir))) throw new BackupError('usage', `data directory ${input.dataDir} is not empty: restore only into an empty one (move the old one aside first)`);
  const report = await verifyBackup(input.dir);
  if (!report.ok || !report.manifest) throw new BackupError('failed', `backup does not verify, nothing restored: ${report.problems.slice(0, 3).join('; ')}`);
  const root = resolve(input.dir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  let files = 0;
  try {
    for (const f of report.manifest.files.filter((x) => x.path.startsWith('data/'))) {
      await copyRelative(join(root, 'data'), dataDir, f.path.slice('data/'.length));
      files++;
    }
  } catch (err) {
    // never leave a half-restored data directory that looks like a real one
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  let keyRestored = false;
  const keyFile = resolve(input.masterKeyFile);
  if (report.manifest.includesKey) {
    const exists = await stat(keyFile).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
      await copyFile(join(root, 'keys', 'master.key'), keyFile);
      keyRestored = true;
    }
  }
  return { manifest: report.manifest, files, keyRestored, auditEvents: report.auditEvents ?? 0 };
}
