#!/usr/bin/env node
/**
 * The `sealgate` command. Each subcommand lives in ./commands/. Errors end
 * as one line on stderr; exit codes: ./exit-codes.ts (docs/errors.md).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registrationsFor } from './command-table.js';
import { acceptConfigAfterCommand } from './config-option.js';
import { EXIT_USAGE, errorLine, exitCodeFor } from './context.js';

const program = new Command();
program
  .name('sealgate')
  .description('Sealgate secure email gateway')
  .version(VERSION, '-V, --version')
  .option('-c, --config <path>', 'config file (default: config/sealgate.yaml, else the embedded default)')
  // the program's options before the command only: a command may give --config its own meaning (policy replay); see config-option.ts
  .enablePositionalOptions()
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

for (const register of await registrationsFor(process.argv.slice(2))) register(program);
acceptConfigAfterCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text)
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  process.stderr.write(`${errorLine(err)}\n`);
  process.exit(exitCodeFor(err));
}
