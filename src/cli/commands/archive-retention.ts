/**
 * `sealgate archive hold|release|purge`: legal holds per entry or per search,
 * and the purge of entries past retention by crypto-shredding
 * (docs/archive.md, "Retention, legal hold and purge"; the work is in
 * src/archive/retention.ts). Every change is recorded in the audit chain
 * with the operating-system user who made it. On either database: on
 * PostgreSQL they act on every node's entries (one at a time across
 * machines, retention.ts), and purge deletes from the shared object store
 * (objects.kind: s3).
 */
import type { Command } from 'commander';
import { sweepArchiveOrphans, type SweepSummary } from '../../archive/orphans.js';
import { filterNames, parseSearch, SearchInputError, type RawSearch } from '../../archive/search.js';
import {
  checkEntryIds,
  checkHoldReason,
  entryStates,
  HOLD_SEARCH_DEFAULT_MAX,
  HOLD_SEARCH_MAX,
  holdEntries,
  holdSearch,
  purgeArchive,
  RetentionInputError,
  type HoldOutcome,
  type PurgeSummary,
} from '../../archive/retention.js';
import { queryTerms } from '../../archive/terms.js';
import { openKeyring } from '../../runtime/stores.js';
import { openCommandStore, requireSharedObjects } from '../command-store.js';
import { openObjectStore } from '../../objects/open.js';
import { filtersOf, withFilterFlags, type FilterFlags } from './archive-filters.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

interface HoldOptions extends FilterFlags {
  reason?: string;
  max?: string;
  json?: boolean;
}

function usage(err: unknown): never {
  if (err instanceof SearchInputError || err instanceof RetentionInputError) throw new CliExit(EXIT_USAGE, err.message);
  throw err;
}

/** The same filters as `archive search` (no paging: a hold covers every page). */
function searchFlags(cmd: Command): Command {
  return withFilterFlags(cmd).option('--max <n>', `refuse (changing nothing) when the search matches more entries than this (default ${HOLD_SEARCH_DEFAULT_MAX}, at most ${HOLD_SEARCH_MAX})`);
}

function rawSearch(opts: HoldOptions): RawSearch {
  return filtersOf(opts);
}

function maxOf(text: string | undefined): number {
  if (text === undefined) return HOLD_SEARCH_DEFAULT_MAX;
  const n = /^\d{1,7}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > HOLD_SEARCH_MAX) throw new CliExit(EXIT_USAGE, `--max must be a whole number from 1 to ${HOLD_SEARCH_MAX}`);
  return n;
}

export function formatHold(hold: boolean, o: HoldOutcome, perSearch: boolean): string {
  const verb = hold ? 'held' : 'released';
  const n = (k: number): string => `${k} ${k === 1 ? 'entry' : 'entries'}`;
  if (perSearch && o.matched === 0) return 'no archive entry matches the search: nothing changed';
  const notes = [`${o.unchanged} ${hold ? 'already held' : 'not held'}`];
  if (o.purged > 0) notes.push(`${o.purged} purged, skipped`);
  return `${verb} ${n(o.changed)}${perSearch ? ` of ${o.matched} matching` : ''} (${notes.join(', ')})`;
}

async function runHold(hold: boolean, ids: string[], opts: HoldOptions, cmd: Command): Promise<void> {
  const raw = rawSearch(opts);
  const filters = filterNames(raw);
  const perSearch = filters.length > 0;
  if (perSearch && ids.length > 0) throw new CliExit(EXIT_USAGE, 'give entry ids or search filters, not both');
  if (!perSearch && opts.max !== undefined) throw new CliExit(EXIT_USAGE, '--max goes with search filters');
  let reason: string | undefined;
  let entries: string[] = [];
  try {
    reason = checkHoldReason(opts.reason, perSearch);
    if (!perSearch) entries = checkEntryIds(ids);
  } catch (err) {
    usage(err);
  }
  const max = maxOf(opts.max);
  const { config } = loadForCommand(cmd);
  // the keyring only hashes --subject words; a hold by id or by other filters does not need it
  const keyring = opts.subject !== undefined ? await openKeyring(config, false) : undefined;
  const db = await openCommandStore(config);
  try {
    const request = { hold, operator: operatorName(), via: 'cli', reason, ...(perSearch ? { filters } : {}) };
    let outcome: HoldOutcome;
    if (perSearch) {
      try {
        const search = parseSearch(raw, Date.now(), (s) => (keyring ? queryTerms(keyring, s) : []));
        outcome = await holdSearch(db, search, request, Date.now(), max);
      } catch (err) {
        usage(err);
      }
    } else {
      const states = await entryStates(db, entries);
      if (states.missing.length > 0) throw new CliExit(EXIT_FAILURE, `no archive entry ${states.missing.slice(0, 5).join(', ')}${states.missing.length > 5 ? ` (and ${states.missing.length - 5} more)` : ''}: nothing changed`);
      if (hold && states.purged.length > 0) {
        throw new CliExit(EXIT_FAILURE, `archive entry ${states.purged[0] ?? ''} was purged: its content is gone and there is nothing to hold (its metadata and evidence remain); nothing changed`);
      }
      outcome = await holdEntries(db, entries, request, Date.now());
    }
    process.stdout.write(`${opts.json ? JSON.stringify(outcome) : formatHold(hold, outcome, perSearch)}\n`);
  } finally {
    await db.close();
  }
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

export function formatPurge(s: PurgeSummary, orphans?: SweepSummary): string {
  const verb = s.dryRun ? 'would purge' : 'purged';
  const lines = [
    s.entries === 0
      ? `${s.dryRun ? 'nothing would be purged' : 'nothing purged'}: no entry is past its retention (before ${iso(s.before)}) without a legal hold`
      : `${verb} ${s.entries} ${s.entries === 1 ? 'entry' : 'entries'} retained until before ${iso(s.before)}, received ${iso(s.oldestReceived)} to ${iso(s.newestReceived)}`,
  ];
  if (s.entries > 0) {
    lines.push(`${s.dryRun ? 'would delete' : 'deleted'} ${s.objectsDeleted} ${s.objectsDeleted === 1 ? 'object' : 'objects'}; ${s.objectsKept} ${s.objectsKept === 1 ? 'pack stays' : 'packs stay'} for entries in ${s.objectsKept === 1 ? 'it' : 'them'} still retained or held`);
  }
  if (s.heldExpired > 0) lines.push(`${s.heldExpired} ${s.heldExpired === 1 ? 'entry' : 'entries'} past retention kept under legal hold`);
  if (orphans && orphans.removed > 0) {
    lines.push(`${s.dryRun ? 'would delete' : 'deleted'} ${orphans.removed} orphaned ${orphans.removed === 1 ? 'object' : 'objects'} (${orphans.bytes} bytes) that no entry needs: stored before a crash or a failed commit`);
  }
  return lines.join('\n');
}

export function registerArchiveRetention(archive: Command): void {
  searchFlags(
    archive
      .command('hold [ids...]')
      .description('place a legal hold on entries (by queue id, or every entry a search matches): held entries are never purged (audited)')
      .option('--reason <text>', 'why (one line, at most 500 characters; required with search filters; recorded in the audit log)'),
  )
    .option('--json', 'JSON output')
    .action(async (ids: string[], opts: HoldOptions, cmd: Command) => runHold(true, ids, opts, cmd));
  searchFlags(
    archive
      .command('release [ids...]')
      .description('release the legal hold of entries (by queue id, or every entry a search matches); they are purged once past retention (audited)')
      .option('--reason <text>', 'why (one line, at most 500 characters; required with search filters; recorded in the audit log)'),
  )
    .option('--json', 'JSON output')
    .action(async (ids: string[], opts: HoldOptions, cmd: Command) => runHold(false, ids, opts, cmd));
  archive
    .command('purge')
    .description('destroy the keys of entries past retention and not held (crypto-shredding) and remove their ciphertext; metadata and evidence stay (audited)')
    .option('--dry-run', 'report what would be purged; change nothing')
    .option('--json', 'JSON output')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      // it deletes the ciphertext the nodes share, never this machine's dataDir
      requireSharedObjects(config, 'archive purge');
      const db = await openCommandStore(config);
      const objects = await openObjectStore(config);
      try {
        const tty = process.stderr.isTTY && !opts.json;
        let lastShown = 0;
        const onProgress = (done: number): void => {
          const t = Date.now();
          if (t - lastShown < 200) return;
          lastShown = t;
          process.stderr.write(`\r${`${opts.dryRun ? 'counting' : 'purging'}: ${done} entries`.padEnd(40)}`);
        };
        let summary: PurgeSummary;
        let orphans: SweepSummary;
        try {
          summary = await purgeArchive(db, objects, { now: Date.now(), dryRun: opts.dryRun === true, operator: operatorName(), via: 'cli', ...(tty ? { onProgress } : {}) });
          // then the objects no entry needs (src/archive/orphans.ts; safe while the gateway archives)
          orphans = await sweepArchiveOrphans(db, objects, { now: Date.now(), dryRun: opts.dryRun === true, operator: operatorName(), via: 'cli' });
        } catch (err) {
          // the batches committed so far stay purged; a rerun finishes the rest
          throw new CliExit(EXIT_FAILURE, `archive purge stopped: ${(err as Error).message} (entries purged so far stay purged; run it again to finish)`);
        } finally {
          if (tty) process.stderr.write(`\r${' '.repeat(40)}\r`);
        }
        process.stdout.write(`${opts.json ? JSON.stringify({ ...summary, orphans: { removed: orphans.removed, bytes: orphans.bytes } }) : formatPurge(summary, orphans)}\n`);
      } finally {
        objects.close();
        await db.close();
      }
    });
}
