/**
 * Shared plumbing for CLI commands: the -c option, loading the config and
 * the one-line error contract (exit 2 for usage and config errors, 1 for
 * runtime failures).
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { isSealgateError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function configPathOf(cmd: Command): string | undefined {
  const opts = cmd.optsWithGlobals<{ config?: string }>();
  return opts.config;
}

export function loadForCommand(cmd: Command): LoadedConfig {
  return loadConfig(configPathOf(cmd));
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliExit) return err.exitCode;
  if (isSealgateError(err) && (err.code === 'SG_CONFIG_INVALID' || err.code === 'SG_CONFIG_NOT_FOUND' || err.code === 'SG_USAGE')) return EXIT_USAGE;
  return EXIT_FAILURE;
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
