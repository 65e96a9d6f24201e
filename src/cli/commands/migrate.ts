/**
 * `sealgate migrate --to-store URL --to-objects URL [--json]` or
 * `sealgate migrate --to-config FILE [--json]`: copies the data directory of
 * the config given with -c (SQLite, the local object store and the
 * queued messages' spool files) into the
 * PostgreSQL database and S3-compatible store the URLs (migrate-target.ts)
 * or FILE name, resumable, and
 * verifies the copy before it says done (src/db/migrate-to-shared.ts;
 * docs/scale-out.md "Moving a single node to the shared stores"). The
 * passwords and keys stay where the target config says (store.passwordFile
 * or SEALGATE_DB_PASSWORD, objects.s3.secretAccessKeyFile or the AWS_*
 * environment): none is on the command line or in the output.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { migrateTargetFromUrls } from '../../db/migrate-target.js';
import { MigrationRefused, migrateToShared, type MigrationReport } from '../../db/migrate-to-shared.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, errorLine, loadForCommand } from '../context.js';

const short = (hash: string | undefined): string => (hash === undefined ? '-' : hash.slice(0, 16));

/** Pure: how a copy differs from its source, in a few words and one key. */
function differ(d: { readonly missing: readonly string[]; readonly different: readonly string[]; readonly extra: readonly string[] }): string {
  const first = [...d.missing, ...d.different, ...d.extra][0];
  return `DIFFER: ${d.missing.length} missing, ${d.different.length} different, ${d.extra.length} extra in the target${first === undefined ? '' : ` (e.g. ${first})`}`;
}

/** Pure: the summary table and the verdict, as text. */
export function formatReport(r: MigrationReport): string {
  const lines: string[] = [];
  lines.push(`from ${r.source.database} and ${r.source.objects}`);
  lines.push(`into ${r.target.database} and ${r.target.objects} (schema version ${r.schemaVersion})`);
  const width = Math.max(5, ...r.tables.map((t) => t.table.length));
  lines.push(`${'table'.padEnd(width)}  ${'source'.padStart(9)}  ${'target'.padStart(9)}  ${'sha256 (first 16)'.padEnd(17)}  check`);
  for (const t of r.tables) {
    lines.push(`${t.table.padEnd(width)}  ${String(t.sourceRows).padStart(9)}  ${String(t.targetRows).padStart(9)}  ${short(t.targetSha256).padEnd(17)}  ${t.ok ? 'ok' : `DIFFERS (source ${short(t.sourceSha256)})`}`);
  }
  const o = r.objects;
  lines.push(o.shared ? 'objects: the source already uses the target store, nothing to copy' : `objects: ${o.objects} (${o.copied} copied, ${o.skipped} already there), SHA-256 ${o.ok ? 'equal for every object' : differ(o)}`);
  const s = r.spool;
  lines.push(
    s.files
      ? `spool: ${s.objects} blobs of ${s.messages} queued messages (${s.copied} copied, ${s.skipped} already there), SHA-256 ${s.ok ? 'equal for every blob' : differ(s)}${s.orphans > 0 ? `; ${s.orphans} orphan file(s) of messages no longer queued left behind` : ''}`
      : 'spool: in the source\'s object store, carried with the objects',
  );
  lines.push(`audit chain: ${r.audit.ok ? `ok on the target, ${r.audit.events} events, last hash ${short(r.audit.targetLastHash)} = the source's` : `NOT VERIFIED${r.audit.detail ? `: ${r.audit.detail}` : `: last hash ${short(r.audit.targetLastHash)}, the source's ${short(r.audit.sourceLastHash)}`}`}`);
  lines.push(`archive verify: ${r.archive.ok ? `the same answer on both (${r.archive.detail})` : `DIFFERS: ${r.archive.detail}`}`);
  lines.push(r.ok ? `done: ${r.rowsCopied} rows copied by this run; every table, object and the audit chain verified` : 'NOT done: the copy does not verify (see above); run sealgate migrate again, or migrate into an empty database');
  return `${lines.join('\n')}\n`;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('copy this data directory (SQLite, local objects, the spool files of queued messages) into the shared PostgreSQL and S3-compatible store of another config, resumable, verified before it says done; the gateway must be stopped')
    .option('--to-store <url>', 'the shared PostgreSQL: postgres://USER@HOST:PORT/DATABASE, no password in it (SEALGATE_DB_PASSWORD)')
    .option('--to-objects <url>', 'the shared S3-compatible store: s3://BUCKET/PREFIX/?endpoint=URL&region=REGION&forcePathStyle=true (credentials from AWS_* or accessKeyId=…&secretAccessKeyFile=…)')
    .option('--to-config <file>', 'instead of the two URLs: the config the nodes will run with; its store (kind postgres) and objects (kind s3) are the target')
    .option('--batch-rows <n>', 'rows per batch, each committed with its progress (default 500)')
    .option('--json', 'the report as JSON')
    .action(async (opts: { toStore?: string; toObjects?: string; toConfig?: string; batchRows?: string; json?: boolean }, cmd: Command) => {
      const urls = opts.toStore !== undefined || opts.toObjects !== undefined;
      if (urls && opts.toConfig !== undefined) throw new CliExit(EXIT_USAGE, 'migrate takes --to-store and --to-objects, or --to-config, not both');
      if (urls && (opts.toStore === undefined || opts.toObjects === undefined)) throw new CliExit(EXIT_USAGE, 'migrate needs both --to-store postgres://… and --to-objects s3://…');
      if (!urls && opts.toConfig === undefined)
        throw new CliExit(EXIT_USAGE, 'migrate needs --to-store postgres://… --to-objects s3://…, or --to-config FILE (docs/scale-out.md "Moving a single node to the shared stores")');
      const batchRows = opts.batchRows === undefined ? 500 : Number(opts.batchRows);
      if (!Number.isSafeInteger(batchRows) || batchRows < 1 || batchRows > 10_000) throw new CliExit(EXIT_USAGE, '--batch-rows: expected a whole number from 1 to 10000');
      const { config: source } = loadForCommand(cmd);
      let target;
      if (opts.toStore !== undefined && opts.toObjects !== undefined) {
        const built = migrateTargetFromUrls(source, opts.toStore, opts.toObjects);
        if (!built.ok) throw new CliExit(EXIT_USAGE, built.problem);
        target = built.config;
      } else target = loadConfig(opts.toConfig).config;
      const tty = process.stderr.isTTY && !opts.json;
      let report: MigrationReport;
      try {
        report = await migrateToShared({
          source,
          target,
          batchRows,
          warn: (line) => void process.stderr.write(`${errorLine(new Error(`warning: ${line}`))}\n`),
          ...(tty
            ? {
                step: (line: string) => void process.stderr.write(`\r\x1b[Ksealgate migrate: ${line}`),
                afterBatch: (table: string, rows: number) => void process.stderr.write(`\r\x1b[Ksealgate migrate: table ${table}: ${rows} rows`),
              }
            : {}),
        });
      } catch (err) {
        if (err instanceof MigrationRefused) throw new CliExit(err.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE, err.message);
        throw err;
      } finally {
        if (tty) process.stderr.write('\r\x1b[K');
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        if (!report.ok) process.exitCode = EXIT_FAILURE;
        return;
      }
      process.stdout.write(formatReport(report));
      if (!report.ok) throw new CliExit(EXIT_FAILURE, 'the migration did not verify: the target is not ready for the nodes');
    });
}
