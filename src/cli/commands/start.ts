/** `sealgate start`: run the gateway in the foreground (systemd, Docker, a terminal). */
import type { Command } from 'commander';
import { startDaemon } from '../../daemon.js';
import { configPathOf, loadForCommand } from '../context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the gateway in the foreground until SIGTERM (SIGHUP reloads the config)')
    .action(async (_opts: unknown, cmd: Command) => {
      const loaded = loadForCommand(cmd);
      await startDaemon(loaded, configPathOf(cmd));
      // keep running: listeners and signal handlers hold the event loop
    });
}
