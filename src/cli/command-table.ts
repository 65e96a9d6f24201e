/**
 * The CLI's top-level commands and the modules that define them, loaded on
 * demand (see COMMANDS).
 */
import type { Command } from 'commander';

export type Register = (program: Command) => void;

/**
 * Every top-level command, in help order, with the module that defines it.
 * Loaded on demand: `sealgate queue list` loads the queue command's modules
 * only, not the daemon, the inspection engine, OpenPGP or the web stacks — a
 * CLI call starts in a fraction of the time (docs/performance.md).
 */
const COMMANDS: readonly (readonly [names: readonly string[], load: () => Promise<readonly Register[]>])[] = [
  [['start'], async () => {
    // before the daemon's modules load: its heaps grow less between full collections (src/runtime/heap-growth.ts)
    (await import('../runtime/heap-growth.js')).limitDaemonHeapGrowth();
    return [(await import('./commands/start.js')).registerStart];
  }],
  [['config'], async () => [(await import('./commands/config.js')).registerConfig]],
  [['connectors'], async () => [(await import('./commands/connectors.js')).registerConnectors]],
  [['init'], async () => [(await import('./commands/init.js')).registerInit]],
  [['users'], async () => [(await import('./commands/users.js')).registerUsers]],
  [['audit'], async () => [(await import('./commands/audit.js')).registerAudit]],
  [['queue', 'quarantine'], async () => {
    const m = await import('./commands/queue.js');
    return [m.registerQueue, m.registerQuarantine];
  }],
  [['probe'], async () => [(await import('./commands/probe.js')).registerProbe]],
  [['policy'], async () => [(await import('./commands/policy.js')).registerPolicy]],
  [['portal'], async () => [(await import('./commands/portal.js')).registerPortal]],
  [['keys'], async () => [(await import('./commands/keys.js')).registerKeys]],
  [['dkim'], async () => [(await import('./commands/dkim.js')).registerDkim]],
  [['archive'], async () => [(await import('./commands/archive.js')).registerArchive]],
  [['console-users'], async () => [(await import('./commands/console-users.js')).registerConsoleUsers]],
  [['backup', 'restore'], async () => [(await import('./commands/backup.js')).registerBackup]],
  [['db'], async () => [(await import('./commands/db.js')).registerDb]],
  [['migrate'], async () => [(await import('./commands/migrate.js')).registerMigrate]],
  [['nodes'], async () => [(await import('./commands/nodes.js')).registerNodes]],
  [['doctor'], async () => [(await import('./commands/doctor.js')).registerDoctor]],
];

/** Pure: the command a command line names (the first word after the program's own options), if any. */
export function commandNameOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The one command named, or all of them (help, an unknown or no command: commander answers with the full list). */
export async function registrationsFor(args: readonly string[]): Promise<Register[]> {
  const name = commandNameOf(args);
  const named = COMMANDS.find(([names]) => name !== undefined && names.includes(name));
  const wanted = named ? [named] : COMMANDS;
  return (await Promise.all(wanted.map(([, load]) => load()))).flat();
}
