#!/usr/bin/env node
/**
 * The `sealgate` command. Each subcommand lives in ./commands/. Errors end
 * as one line on stderr; exit codes: ./exit-codes.ts (docs/errors.md).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerArchive } from './commands/archive.js';
import { registerAudit } from './commands/audit.js';
import { registerBackup } from './commands/backup.js';
import { registerConfig } from './commands/config.js';
import { registerConnectors } from './commands/connectors.js';
import { registerConsoleUsers } from './commands/console-users.js';
import { registerDkim } from './commands/dkim.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerPolicy } from './commands/policy.js';
import { registerPortal } from './commands/portal.js';
import { registerProbe } from './commands/probe.js';
import { registerQuarantine, registerQueue } from './commands/queue.js';
import { registerStart } from './commands/start.js';
import { registerUsers } from './commands/users.js';
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

registerStart(program);
registerConfig(program);
registerConnectors(program);
registerInit(program);
registerUsers(program);
registerAudit(program);
registerQueue(program);
registerQuarantine(program);
registerProbe(program);
registerPolicy(program);
registerPortal(program);
registerKeys(program);
registerDkim(program);
registerArchive(program);
registerConsoleUsers(program);
registerBackup(program);
registerDoctor(program);
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
