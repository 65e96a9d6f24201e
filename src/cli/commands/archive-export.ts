/**
 * `sealgate archive export`: the entries a search selects, with their
 * evidence, rows, chain segment and checkpoints, as one signed ZIP
 * (src/archive/export.ts; audited as `archive:exported`). On either
 * database: on PostgreSQL every node's entries, read in one snapshot, the
 * messages from the shared object store (objects.kind: s3).
 * `sealgate archive verify-export`: checks such a ZIP offline — no
 * configuration, database or master key (src/archive/verify-export.ts).
 */
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { appendAuditEvent } from '../../audit/log.js';
import { writeExport, ExportError, type ExportProgress } from '../../archive/export.js';
import { filterNames, parseSearch, SearchInputError, type RawSearch } from '../../archive/search.js';
import { loadOrCreateSigningKey, readPublicSigningKey } from '../../archive/signing-key.js';
import { queryTerms } from '../../archive/terms.js';
import { verifyExport, type ExportVerifyOk } from '../../archive/verify-export.js';
import { openKeyring } from '../../runtime/stores.js';
import { openCommandStore, requireSharedObjects } from '../command-store.js';
import { openObjectStore } from '../../objects/open.js';
import { filtersOf, withFilterFlags, type FilterFlags } from './archive-filters.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

interface ExportCliOptions extends FilterFlags {
  out?: string;
  content: boolean;
}

/** A one-line progress bar on stderr (terminal only). */
function progressBar(): { update: (p: ExportProgress) => void; clear: () => void } {
  let last = 0;
  return {
    update: (p) => {
      const t = Date.now();
      if (t - last < 200) return;
      last = t;
      const width = 30;
      const filled = p.entries > 0 ? Math.round((p.done / p.entries) * width) : width;
      process.stderr.write(`\rexporting [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.entries} messages, ${(p.bytes / 1048576).toFixed(1)} MiB `);
    },
    clear: () => process.stderr.write(`\r${' '.repeat(80)}\r`),
  };
}

function okLine(file: string, r: ExportVerifyOk): string {
  const cover = r.checkpoints > 0 ? `${r.checkpoints} signed checkpoints${r.uncovered > 0 ? ` (the last ${r.uncovered} events are covered by the chain only)` : ''}` : 'no checkpoint in the segment (covered by the chain only)';
  return (
    `export OK: ${file}: ${r.entries} entries, ${r.recipients} recipient rows, ` +
    `${r.content ? `${r.messages} messages` : 'no content (--no-content)'}; ` +
    `chain segment #${r.firstSeq}..#${r.lastSeq} (${r.events} events), ${cover}; ` +
    `signed by key ${r.keyFingerprint} on ${r.createdAt}\n`
  );
}

export function registerArchiveExport(archive: Command): void {
  withFilterFlags(
    archive.command('export').description('write the entries a search selects — messages, evidence (JSON, CSV), chain segment, checkpoints — to a signed ZIP (audited)'),
  )
    .option('--out <file>', 'the ZIP to write (never replaced if it exists)')
    .option('--no-content', 'metadata and evidence only: no messages/*.eml, no Subject')
    .action(async (opts: ExportCliOptions, cmd: Command) => {
      if (!opts.out) throw new CliExit(EXIT_USAGE, 'archive export needs --out FILE.zip');
      const out = resolve(opts.out);
      if (await access(out).then(() => true, () => false)) throw new CliExit(EXIT_USAGE, `${opts.out} exists; give another --out (an export never replaces a file)`);
      const raw: RawSearch = filtersOf(opts);
      const { config } = loadForCommand(cmd);
      // the messages are read from the nodes' shared object store, never this machine's dataDir
      if (opts.content) requireSharedObjects(config, 'archive export (without --no-content)');
      const keyring = await openKeyring(config, false);
      const db = await openCommandStore(config);
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      try {
        const now = Date.now();
        let search: ReturnType<typeof parseSearch>;
        try {
          search = parseSearch(raw, now, (s) => queryTerms(keyring, s));
        } catch (err) {
          if (err instanceof SearchInputError) throw new CliExit(EXIT_USAGE, err.message);
          throw err;
        }
        if (!(await readPublicSigningKey(db))) throw new CliExit(EXIT_FAILURE, 'there is no gateway signing key yet: the gateway creates it when it first starts');
        const key = await loadOrCreateSigningKey(db, keyring, now);
        // the search as given (values too): the manifest says what the auditor asked for
        const searchText = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
        let result;
        const objects = await openObjectStore(config);
        try {
          result = await writeExport({
            db, keyring, key, search, searchText, out, now,
            objects,
            content: opts.content,
            operator: operatorName(),
            ...(bar ? { onProgress: bar.update } : {}),
            // recorded before the file appears under its name: no export leaves without its audit record
            beforePublish: (r) =>
              db.transaction(async (tx) => {
                await appendAuditEvent(
                  tx,
                  { type: 'archive:exported', data: { operator: operatorName(), via: 'cli', filters: filterNames(raw), entries: r.entries, content: opts.content ? 'yes' : 'no', sha256: r.manifestSha256 } },
                  Date.now(),
                );
              }),
          });
        } catch (err) {
          if (err instanceof ExportError) throw new CliExit(EXIT_FAILURE, err.message);
          throw new CliExit(EXIT_FAILURE, `the export failed (${(err as Error).message}); nothing was written`);
        } finally {
          bar?.clear();
          objects.close();
        }
        process.stdout.write(
          `exported ${result.entries} entries (${result.recipients} recipient rows, ${opts.content ? `${result.messages} messages` : 'no content'}, ` +
            `chain segment of ${result.events} events, ${result.checkpoints} checkpoints) to ${opts.out}: ${result.bytes} bytes, manifest sha256 ${result.manifestSha256}\n`,
        );
      } finally {
        await db.close();
      }
    });

  archive
    .command('verify-export <file>')
    .description('check an export offline (no database, no master key): signatures, every file hash, the chain segment, the rows, the messages; exit 1 naming the first bad file or entry')
    .option('--fingerprint <sha256>', 'the gateway key fingerprint you keep elsewhere: any other key fails')
    .option('--json', 'print the result as one JSON object')
    .action(async (file: string, opts: { fingerprint?: string; json?: boolean }) => {
      if (opts.fingerprint !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.fingerprint)) throw new CliExit(EXIT_USAGE, '--fingerprint must be 64 hex digits (as "sealgate archive key" prints it)');
      if (!(await access(file).then(() => true, () => false))) throw new CliExit(EXIT_USAGE, `cannot read ${file}`);
      const result = await verifyExport(file, opts.fingerprint !== undefined ? { expectedFingerprint: opts.fingerprint } : {});
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        if (!result.ok) process.exitCode = EXIT_FAILURE;
        return;
      }
      if (result.ok) {
        process.stdout.write(okLine(file, result));
        return;
      }
      throw new CliExit(EXIT_FAILURE, `export BROKEN at ${result.at}: ${result.detail}`);
    });
}
