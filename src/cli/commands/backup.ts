/**
 * `sealgate backup --out DIR [--include-key]`, `sealgate backup verify DIR`
 * and `sealgate restore DIR` (src/backup/backup.ts; docs/deployment.md).
 * One node's SQLite file and data directory: with store.kind: postgres both
 * refuse in one line (the shared stores have backup tools of their own,
 * docs/scale-out.md "Backup of the shared stores"); `backup verify` needs no configuration.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { appendAudit } from '../../audit/log.js';
import { BackupError, createBackup, restoreBackup, verifyBackup } from '../../backup/backup.js';
import { openObjectStore } from '../../objects/open.js';
import { spoolObjectKey } from '../../spool/object-blobs.js';
import { MANIFEST_NAME } from '../../backup/manifest.js';
import { Database } from '../../db/database.js';
import { databasePath, gatewayHostname, openDatabase, openKeyring } from '../../runtime/stores.js';
import { VERSION } from '../../version.js';
import { refuseSharedStoresBackup } from '../command-store.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

function asCliError(err: unknown): unknown {
  return err instanceof BackupError ? new CliExit(err.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE, err.message) : err;
}

export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('copy the database, spool and object store (and the master key with --include-key) into a new directory while the gateway runs')
    .option('--out <dir>', 'a new or empty directory, outside the data directory (ideally on another disk)')
    .option('--include-key', 'also copy the master key (keep such a backup as safe as the key itself)')
    .option('--json', 'the manifest summary as JSON')
    .action(async (opts: { out?: string; includeKey?: boolean; json?: boolean }, cmd: Command) => {
      if (!opts.out) throw new CliExit(EXIT_USAGE, 'backup needs --out DIR (a new or empty directory)');
      const { config } = loadForCommand(cmd);
      refuseSharedStoresBackup(config, 'backup');
      const keyring = await openKeyring(config, false);
      if (opts.includeKey) process.stderr.write('sealgate: warning: the backup holds the master key: anyone who reads it can decrypt every message in it. Keep it apart from backups without the key.\n');
      let manifest;
      // objects.kind s3: queued content beyond the inline limit is in the object store (not in the backup: back the bucket up with its own tools)
      const objects = config.objects.kind === 's3' ? await openObjectStore(config) : undefined;
      try {
        manifest = await createBackup({
          spooledContentExists: objects && ((id) => objects.exists(spoolObjectKey({ id }))),
          dataDir: config.dataDir,
          keyFiles: { current: config.keys.masterKeyFile, previous: config.keys.previousKeyFiles },
          masterKeyId: keyring.current.id,
          outDir: opts.out,
          includeKey: opts.includeKey === true,
          gateway: gatewayHostname(config),
          version: VERSION,
          now: Date.now,
        });
      } catch (err) {
        throw asCliError(err);
      } finally {
        objects?.close();
      }
      const manifestSha256 = createHash('sha256').update(await readFile(join(resolve(opts.out), MANIFEST_NAME))).digest('hex');
      const bytes = manifest.files.reduce((a, f) => a + f.size, 0);
      const db = await openDatabase(config);
      try {
        await appendAudit(db, { type: 'backup:created', data: { operator: operatorName(), files: manifest.files.length, bytes, messages: manifest.messages, finishedDuringBackup: manifest.finishedDuringBackup, includesKey: String(manifest.includesKey), manifestSha256 } }, Date.now());
      } finally {
        await db.close();
      }
      const summary = { out: resolve(opts.out), files: manifest.files.length, bytes, messages: manifest.messages, finishedDuringBackup: manifest.finishedDuringBackup, includesKey: manifest.includesKey, masterKeyId: manifest.masterKeyId, manifestSha256 };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stdout.write(
          `backup written to ${summary.out}: ${summary.files} files, ${bytes} bytes, ${summary.messages} queued messages` +
            `${summary.finishedDuringBackup ? ` (${summary.finishedDuringBackup} finished while it ran, left out)` : ''}; ` +
            `master key ${summary.includesKey ? 'INCLUDED' : `not included (needed to restore: id ${summary.masterKeyId})`}; manifest sha256 ${manifestSha256}\n`,
        );
    });

  backup
    .command('verify <dir>')
    .description('check a backup offline: every file against the manifest, the database snapshot and its audit chain; exit 1 on any difference')
    .option('--json', 'the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      let report;
      try {
        report = await verifyBackup(dir);
      } catch (err) {
        throw asCliError(err);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: report.ok, problems: report.problems, files: report.manifest?.files.length ?? 0, auditEvents: report.auditEvents ?? 0, createdAt: report.manifest?.createdAt })}\n`);
      if (!report.ok) {
        if (opts.json) throw new CliExit(EXIT_FAILURE, `backup ${dir} does not verify`);
        throw new CliExit(EXIT_FAILURE, `backup ${dir} does not verify: ${report.problems.slice(0, 5).join('; ')}${report.problems.length > 5 ? ` (+${report.problems.length - 5} more)` : ''}`);
      }
      if (!opts.json) process.stdout.write(`backup OK: ${report.manifest?.files.length ?? 0} files match the manifest; database intact; audit chain OK (${report.auditEvents ?? 0} events); taken ${report.manifest?.createdAt ?? ''}\n`);
    });

  program
    .command('restore <dir>')
    .description('restore a verified backup into the configured data directory, which must be empty (the master key too when the backup has it and the key file is missing)')
    .option('--json', 'the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      refuseSharedStoresBackup(config, 'restore');
      let report;
      try {
        report = await restoreBackup({ dir, dataDir: config.dataDir, masterKeyFile: config.keys.masterKeyFile });
      } catch (err) {
        throw asCliError(err);
      }
      const keyring = await openKeyring(config, false).catch(() => undefined);
      const keyMatches = keyring !== undefined && keyring.has(report.manifest.masterKeyId);
      const db = await Database.open(databasePath(config));
      try {
        await appendAudit(db, { type: 'backup:restored', data: { operator: operatorName(), files: report.files, backupCreatedAt: report.manifest.createdAt, keyRestored: String(report.keyRestored) } }, Date.now());
      } finally {
        await db.close();
      }
      const summary = { dataDir: resolve(config.dataDir), files: report.files, messages: report.manifest.messages, auditEvents: report.auditEvents, keyRestored: report.keyRestored, masterKeyId: report.manifest.masterKeyId, keyMatches };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stdout.write(
          `restored ${summary.files} files into ${summary.dataDir}: ${summary.messages} queued messages, audit chain of ${summary.auditEvents} events${summary.keyRestored ? '; master key restored' : ''}\n`,
        );
      if (!keyMatches) process.stderr.write(`sealgate: warning: the master key with id ${report.manifest.masterKeyId} is not at keys.masterKeyFile (or keys.previousKeyFiles): put it there before starting, or the restored mail cannot be read\n`);
    });
}
