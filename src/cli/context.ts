/**
 * Shared plumbing for CLI commands: the -c option, loading the config and
 * the one-line error contract (exit codes: ./exit-codes.ts).
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { CliExit, EXIT_USAGE } from './exit-codes.js';

// the exit-code table lives in one module; commands import it from here
export { CliExit, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';

export function configPathOf(cmd: Command): string | undefined {
  const opts = cmd.optsWithGlobals<{ config?: string }>();
  return opts.config;
}

export function loadForCommand(cmd: Command): LoadedConfig {
  return loadConfig(configPathOf(cmd));
}

/** One clear line, no stack trace. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `sealgate: ${message.replace(/\s*\n\s*/g, ' ')}`;
}

/** Reads a secret from stdin (all of it, trimmed of one trailing newline), bounded. */
export async function readStdinSecret(maxBytes = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) throw new CliExit(EXIT_USAGE, `input on stdin is longer than ${maxBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Who ran a CLI command that changes something (recorded in audit events). */
export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
