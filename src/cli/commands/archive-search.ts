/** `sealgate archive search|show`: find archived messages and read their evidence. */
import type { Command } from 'commander';

export function registerArchiveSearch(_archive: Command): void {
  // archive search / show: next slice
}
