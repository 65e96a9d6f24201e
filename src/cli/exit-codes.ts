/**
 * The CLI's exit codes, one table for every command (docs/errors.md, "Exit
 * codes"): what kind of fault ended a command decides its code, never the
 * command. Scripts may rely on: 0 done; 1 the command ran and failed (a named
 * thing does not exist, a check found a problem, a runtime error); 2 the
 * command could not run as given (usage, unreadable input file, config).
 */
import { isSealgateError } from '../errors.js';

export type ExitKind = 'ok' | 'failure' | 'not-found' | 'check-failed' | 'usage' | 'config';

export const EXIT_CODES: Readonly<Record<ExitKind, number>> = {
  ok: 0,
  failure: 1,
  // a queue id, quarantined message, portal message, key, user or archive entry that does not exist
  'not-found': 1,
  // audit verify, archive verify, verify-export: the command ran and found something wrong
  'check-failed': 1,
  // unknown command or option, missing or malformed argument, an input file that cannot be read
  usage: 2,
  // the config file is missing or invalid
  config: 2,
};

export const EXIT_OK = EXIT_CODES.ok;
export const EXIT_FAILURE = EXIT_CODES.failure;
export const EXIT_NOT_FOUND = EXIT_CODES['not-found'];
export const EXIT_USAGE = EXIT_CODES.usage;

/** A command's own failure with its exit code (one line on stderr). */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The kind of fault an error stands for. */
export function exitKindOf(err: unknown): ExitKind {
  if (isSealgateError(err)) {
    if (err.code === 'SG_CONFIG_INVALID' || err.code === 'SG_CONFIG_NOT_FOUND') return 'config';
    if (err.code === 'SG_USAGE') return 'usage';
    if (err.code.endsWith('_NOT_FOUND')) return 'not-found';
  }
  return 'failure';
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliExit) return err.exitCode;
  return EXIT_CODES[exitKindOf(err)];
}
