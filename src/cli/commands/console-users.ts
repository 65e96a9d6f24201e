/**
 * `sealgate console-users add|list|disable|reset-mfa`: the people who may
 * sign in to the auditor console (docs/console.md). `add` and `reset-mfa`
 * print the otpauth:// URI once, to be imported into an authenticator app;
 * it is not stored anywhere readable and cannot be shown again.
 */
import type { Command } from 'commander';
import { addConsoleUser, CONSOLE_ROLES, disableConsoleUser, isConsoleRole, listConsoleUsers, resetConsoleMfa, validateConsoleName, type ConsoleUsersDeps } from '../../console/users.js';
import { gatewayHostname, openKeyring } from '../../runtime/stores.js';
import { openCommandStore } from '../command-store.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { CliExit, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';
import { readPassword } from './users.js';

async function withDeps<T>(cmd: Command, work: (deps: ConsoleUsersDeps & { db: SqlDatabase }) => Promise<T>): Promise<T> {
  const { config } = loadForCommand(cmd);
  const keyring = await openKeyring(config, false);
  const db = await openCommandStore(config);
  try {
    return await work({ db, keyring, issuer: `Sealgate ${gatewayHostname(config)}` });
  } finally {
    await db.close();
  }
}

function printEnrolment(name: string, uri: string): void {
  process.stdout.write(`console user ${name}: import this into an authenticator app now (it is shown only once):\n${uri}\n`);
}

export function registerConsoleUsers(program: Command): void {
  const users = program.command('console-users').description('people who may sign in to the auditor console (password and one-time code)');
  users
    .command('add <name>')
    .description(`create a console user with a role (${CONSOLE_ROLES.join(', ')}); prints the otpauth:// URI for the authenticator app once`)
    .requiredOption('--role <role>', CONSOLE_ROLES.join(' | '))
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .action(async (name: string, opts: { role: string; passwordStdin?: boolean }, cmd: Command) => {
      validateConsoleName(name);
      if (!isConsoleRole(opts.role)) throw new CliExit(EXIT_USAGE, `--role must be one of ${CONSOLE_ROLES.join(', ')}`);
      const password = await readPassword(opts.passwordStdin);
      const { uri } = await withDeps(cmd, (deps) => addConsoleUser(deps, name, opts.role, password, operatorName(), Date.now()));
      printEnrolment(name, uri);
    });
  users
    .command('list')
    .description('list console users, their roles and state')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await withDeps(cmd, (deps) => listConsoleUsers(deps.db));
      const now = Date.now();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list.map((u) => ({ name: u.name, role: u.role, disabled: u.disabled, locked: u.lockedUntil > now, createdAt: new Date(u.createdAt).toISOString(), lastSignInAt: u.lastSignInAt ? new Date(u.lastSignInAt).toISOString() : null })))}\n`);
        return;
      }
      for (const u of list) {
        const state = u.disabled ? 'disabled' : u.lockedUntil > now ? `locked until ${new Date(u.lockedUntil).toISOString()}` : 'active';
        process.stdout.write(`${u.name}\t${u.role}\t${state}\tlast sign-in ${u.lastSignInAt ? new Date(u.lastSignInAt).toISOString() : 'never'}\n`);
      }
    });
  users
    .command('disable <name>')
    .description('stop a console user from signing in (their sessions end at once)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withDeps(cmd, (deps) => disableConsoleUser(deps.db, name, operatorName(), Date.now()));
      process.stdout.write(`console user ${name} disabled\n`);
    });
  users
    .command('reset-mfa <name>')
    .description('give a console user a new one-time-code secret (a lost phone); prints the new otpauth:// URI once and clears a lockout')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { uri } = await withDeps(cmd, (deps) => resetConsoleMfa(deps, name, operatorName(), Date.now()));
      printEnrolment(name, uri);
    });
}
