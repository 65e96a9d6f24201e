/** `sealgate start`: run the gateway in the foreground (systemd, Docker, a terminal). */
import type { Command } from 'commander';
import { requireNodeStores } from '../../db/open-store.js';
import { configPathOf, loadForCommand } from '../context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the gateway in the foreground until SIGTERM (SIGHUP reloads the config)')
    .action(async (_opts: unknown, cmd: Command) => {
      const loaded = loadForCommand(cmd);
      // before anything starts: on PostgreSQL a node needs the shared object store, and runs without the console so far
      requireNodeStores(loaded.config);
      // loaded here, not at the top: other commands start without the daemon's modules
      const { startDaemon } = await import('../../daemon.js');
      await startDaemon(loaded, configPathOf(cmd));
      // keep running: listeners and signal handlers hold the event loop
    });
}
