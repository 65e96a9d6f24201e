/** `sealgate archive verify`: check the archive rows against the hash chain and its signed checkpoints. */
import type { Command } from 'commander';

export function registerArchiveVerify(_archive: Command): void {
  // archive verify: next slice
}
