/**
 * `sealgate archive …`: the auditors' command line over the archive
 * (docs/archive.md). Each group of subcommands lives in its own file.
 */
import type { Command } from 'commander';
import { registerArchiveRetention } from './archive-retention.js';
import { registerArchiveExport } from './archive-export.js';
import { registerArchiveSearch } from './archive-search.js';
import { registerArchiveVerify } from './archive-verify.js';

export function registerArchive(program: Command): void {
  const archive = program.command('archive').description('the archive: what was sent, to whom, how each recipient was protected (docs/archive.md)');
  registerArchiveSearch(archive);
  registerArchiveVerify(archive);
  registerArchiveRetention(archive);
  registerArchiveExport(archive);
}
