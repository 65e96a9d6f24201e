/** `sealgate users add|passwd|remove|list`: local AUTH users for staff mail clients. */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { openCommandStore } from '../command-store.js';
import { addUser, listUsers, removeUser, setPassword, validateUserName } from '../../users/store.js';
import { CliExit, EXIT_USAGE, loadForCommand, readStdinSecret } from '../context.js';

async function promptHidden(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const rlw = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
  let prompted = false;
  rlw._writeToOutput = (s: string) => {
    if (!prompted) {
      rlw.output.write(s);
      prompted = true;
    }
  };
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

export async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return readStdinSecret();
  if (!process.stdin.isTTY) throw new CliExit(EXIT_USAGE, 'no terminal to ask for the password: pass it with --password-stdin');
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new CliExit(EXIT_USAGE, 'the two passwords differ');
  return first;
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('local users who may AUTH on listeners with auth: true');
  users
    .command('add <name>')
    .description('create a user (argon2id password hash); list the name in a connector\'s users to let it relay')
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .action(async (name: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
      validateUserName(name);
      const password = await readPassword(opts.passwordStdin);
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        await addUser(db, name, password, Date.now());
        process.stdout.write(`user ${name} added\n`);
      } finally {
        await db.close();
      }
    });
  users
    .command('passwd <name>')
    .description('set a new password')
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .action(async (name: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const password = await readPassword(opts.passwordStdin);
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        await setPassword(db, name, password, Date.now());
        process.stdout.write(`password of ${name} changed\n`);
      } finally {
        await db.close();
      }
    });
  users
    .command('remove <name>')
    .description('delete a user')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        await removeUser(db, name, Date.now());
        process.stdout.write(`user ${name} removed\n`);
      } finally {
        await db.close();
      }
    });
  users
    .command('list')
    .description('list users')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        const list = await listUsers(db);
        if (opts.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else for (const u of list) process.stdout.write(`${u.name}\t${new Date(u.createdAt).toISOString()}${u.disabled ? '\tdisabled' : ''}\n`);
      } finally {
        await db.close();
      }
    });
}
